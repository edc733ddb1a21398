package member

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/perk-platform/perk/internal/sms/texts"
)

// CardResendGap is the least time between two texts carrying a member's
// card (the welcome or a resend), so that a sign-up form anyone can fill in
// with anyone's number cannot flood that phone.
const CardResendGap = 10 * time.Minute

// SendCard queues a text with the member's code and card link to the
// member's own phone, unless one went less than CardResendGap ago. It is
// how a sign-up form answers a number that is already a member without
// showing the card to whoever typed it. It reports whether a text was queued.
func (s *Service) SendCard(ctx context.Context, memberID string) (bool, error) {
	now := nowUTC(s.opt.Now)
	queued := false
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		m, err := liveMember(ctx, tx, memberID)
		if err != nil {
			return err
		}
		var recent int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM sms_outbox
			WHERE to_phone = $1 AND purpose IN ('welcome', 'card') AND created_at > $2`,
			string(m.Phone), now.Add(-CardResendGap)).Scan(&recent); err != nil {
			return fmt.Errorf("send card: %w", err)
		}
		if recent > 0 {
			return nil
		}
		token, err := activeCardToken(ctx, tx, m.ID, now)
		if err != nil {
			return err
		}
		queued = true
		return s.queueText(ctx, tx, m, texts.Card, texts.Data{CardURL: s.CardURL(token)}, now)
	})
	return queued, err
}
