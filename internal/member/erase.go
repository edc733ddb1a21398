package member

import (
	"context"
	"database/sql"
	"fmt"
)

// Erase removes a member's personal data for good: phone, names, e-mail,
// birthday, external id, attributes and tags, the text and number of messages
// to and from them, and card links.
// The row stays with its code (never reused), channel, home store, status and
// dates, and the consent history keeps its entries, which name no person, so
// enrolment counts and campaign reports still add up. Erasing twice is a no-op.
func (s *Service) Erase(ctx context.Context, memberID string) error {
	now := nowUTC(s.opt.Now)
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		m, err := getOne(ctx, tx, `id = $1`, memberID)
		if err != nil {
			return err
		}
		if m.Status == StatusErased {
			return nil
		}
		stmts := []struct {
			sql  string
			args []any
		}{
			{`UPDATE members SET phone = NULL, first_name = '', last_name = '', email = '', birthday = '',
				external_id = NULL, attributes = '{}', tags = '[]', timezone = '', source = '', status = 'erased',
				updated_at = $2, erased_at = $2 WHERE id = $1`, []any{memberID, now}},
			{`UPDATE card_tokens SET revoked_at = $2 WHERE member_id = $1 AND revoked_at IS NULL`, []any{memberID, now}},
			{`DELETE FROM optin_confirmations WHERE member_id = $1`, []any{memberID}},
			{`UPDATE sms_outbox SET to_phone = NULL, body = '', status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END
				WHERE member_id = $1`, []any{memberID}},
			{`UPDATE sms_inbox SET from_phone = NULL, body = '' WHERE member_id = $1`, []any{memberID}},
			{`UPDATE consents SET phone = NULL WHERE member_id = $1`, []any{memberID}},
			{`INSERT INTO consents (member_id, channel, action, method, source, wording_version, created_at)
				VALUES ($1, 'sms', 'withdrawn', 'api', 'erasure', '', $2)`, []any{memberID, now}},
		}
		for _, st := range stmts {
			if _, err := tx.ExecContext(ctx, st.sql, st.args...); err != nil {
				return fmt.Errorf("erase member: %w", err)
			}
		}
		return nil
	})
	if err == nil {
		s.opt.Log.InfoContext(ctx, "member erased", "member", memberID)
	}
	return err
}
