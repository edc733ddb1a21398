package member

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/perk-platform/perk/internal/change"
)

// Erase removes a member's personal data for good.
//
// Cleared: phone, names, e-mail, birthday, external id, attributes, tags,
// time zone and source on the member row (a keyed hash of the number is
// kept in former_phones, to refuse referral rewards to a former member);
// the number, text and gateway error of every message to or from them, and
// of every message to or from their number before it was theirs (a JOIN texted before enrolling names them; a
// reply to a non-member holds the number), queued ones being cancelled; the
// number on their consent entries and the client (IP) address of those given
// on the web; pending opt-in confirmations. Card links are revoked.
//
// Kept, naming no one: the row with its code (never reused), channel, home
// store, status erased and dates; the consent entries (what, when, how, which
// short code or API key); message rows (kind, purpose, campaign, status,
// delivery) and everything keyed by member id (points, baskets, visits,
// clicks), so enrolment counts and campaign reports still add up.
//
// Then the store scrubs the files (on SQLite, with secure_delete on, a
// checkpoint that empties the WAL of the old page images), so the data is not
// left in free pages either. Erasing twice is a no-op apart from that scrub,
// so a retry after a failed scrub completes it.
func (s *Service) Erase(ctx context.Context, memberID string) error {
	now := nowUTC(s.opt.Now)
	erased := false
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		m, err := getOne(ctx, tx, `id = $1`, memberID)
		if err != nil {
			return err
		}
		if m.Status == StatusErased {
			return nil
		}
		// Reported first, while the member still has the CRM id the
		// receiver knows them by.
		if err := s.record(ctx, tx, change.Event{Type: change.MemberErased, MemberID: m.ID}); err != nil {
			return err
		}
		ph := string(m.Phone)
		// The one trace of the number erasure keeps: its keyed hash, so a
		// referral reward is never given to a phone that was a member.
		if err := recordFormerPhone(ctx, tx, ph, now); err != nil {
			return err
		}
		stmts := []struct {
			sql  string
			args []any
		}{
			{`UPDATE members SET phone = NULL, first_name = '', last_name = '', email = '', birthday = '',
				external_id = NULL, attributes = '{}', tags = '[]', timezone = '', locale = NULL, source = '', status = 'erased',
				updated_at = $2, erased_at = $2 WHERE id = $1`, []any{memberID, now}},
			{`UPDATE card_tokens SET revoked_at = $2 WHERE member_id = $1 AND revoked_at IS NULL`, []any{memberID, now}},
			{`DELETE FROM optin_confirmations WHERE member_id = $1`, []any{memberID}},
			{`UPDATE sms_outbox SET to_phone = NULL, body = '', last_error = '',
				status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END
				WHERE member_id = $1 OR to_phone = $2`, []any{memberID, ph}},
			{`UPDATE sms_inbox SET from_phone = NULL, body = '' WHERE member_id = $1 OR from_phone = $2`, []any{memberID, ph}},
			{`UPDATE consents SET phone = NULL,
				source_address = CASE WHEN method = 'web' THEN '' ELSE source_address END WHERE member_id = $1`, []any{memberID}},
			// The event stream keeps the member's events, so counts still add
			// up, but not what they said nor the browsers tied to the member.
			{`UPDATE events SET properties = '{}', anonymous_id = NULL, session_id = NULL, order_id = NULL WHERE member_id = $1`, []any{memberID}},
			{`DELETE FROM identities WHERE member_id = $1`, []any{memberID}},
			{`DELETE FROM identity_conflicts WHERE member_id = $1 OR other_member_id = $1`, []any{memberID}},
			{`INSERT INTO consents (member_id, channel, action, method, source, wording_version, created_at)
				VALUES ($1, 'sms', 'withdrawn', 'api', 'erasure', '', $2)`, []any{memberID, now}},
		}
		for _, st := range stmts {
			if _, err := tx.ExecContext(ctx, st.sql, st.args...); err != nil {
				return fmt.Errorf("erase member: %w", err)
			}
		}
		erased = true
		return nil
	})
	if err != nil {
		return err
	}
	if erased {
		s.opt.Log.InfoContext(ctx, "member erased", "member", memberID)
	}
	if err := s.db.ScrubDeleted(ctx); err != nil {
		return fmt.Errorf("erase member %s: recorded, but its old data is still in the database files (erase again to retry): %w", memberID, err)
	}
	return nil
}
