package referral

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/perk-platform/perk/internal/id"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/store"
)

// Reasons, in the words a referral's status shows.
const (
	ReasonPending       = "pending first purchase"
	ReasonRewarded      = "rewarded"
	ReasonOff           = "refused: referrals are off"
	ReasonAlready       = "refused: already a member"
	ReasonFormer        = "refused: was a member before"
	ReasonSelfPhone     = "refused: self-referral (same phone)"
	ReasonSelfDevice    = "refused: self-referral (same device as the referrer)"
	ReasonCap           = "not rewarded: the referrer's yearly cap is reached"
	ReasonBudget        = "not rewarded: the referral budget is spent"
	ReasonLate          = "not rewarded: no qualifying purchase in time"
	ReasonClawedBack    = "clawed back: the qualifying purchase was returned"
	ReasonUnknownCode   = "the referral code is not known; you are signed up all the same"
	ReasonMalformedCode = "that is not a referral code; you are signed up all the same"
)

// Joined records what a sign-up with a referral code makes of it, inside
// the enrolment's transaction (member.Referrals). A code that is malformed
// or unknown records nothing and says so; every other outcome is a
// referral row with its status and reason. It never refuses the sign-up.
func (s *Service) Joined(ctx context.Context, tx *sql.Tx, r member.Referred, now time.Time) (*member.ReferralNote, error) {
	now = now.UTC().Truncate(time.Microsecond)
	referrerID, err := owner(ctx, tx, r.Code)
	if err != nil {
		if problem.KindOf(err) != problem.Invalid {
			return nil, err
		}
		reason := ReasonUnknownCode
		if isCode(err, ErrCodeMalformed) {
			reason = ReasonMalformedCode
		}
		return &member.ReferralNote{Reason: reason}, nil
	}
	code, _ := NormalizeCode(r.Code)
	st, err := s.Settings(ctx)
	if err != nil {
		return nil, err
	}
	ref := &row{ID: id.New("ref", now), Code: code, ReferrerID: referrerID, Channel: string(r.Channel), CreatedAt: now}
	if r.Member != nil && r.Created {
		ref.FriendID = r.Member.ID
	}
	switch {
	case r.Member != nil && r.Member.ID == referrerID:
		ref.refuse(ReasonSelfPhone)
		ref.FriendID = ""
	case !r.Created:
		ref.refuse(ReasonAlready)
	case !st.Enabled:
		ref.refuse(ReasonOff)
	default:
		was, err := member.WasErasedTx(ctx, tx, string(r.Member.Phone))
		if err != nil {
			return nil, err
		}
		same, err := sameDevice(ctx, tx, r.AnonymousID, referrerID)
		if err != nil {
			return nil, err
		}
		switch {
		case was:
			ref.refuse(ReasonFormer)
		case same:
			ref.refuse(ReasonSelfDevice)
		case st.Qualify == QualifyJoin:
			ref.QualifiedAt = &now
			ref.Status, ref.Reason = StatusRewarded, ReasonRewarded
		default:
			by := now.AddDate(0, 0, st.WithinDays)
			ref.QualifyBy = &by
			ref.Status, ref.Reason = StatusPending, ReasonPending
		}
	}
	if err := ref.insert(ctx, tx); err != nil {
		return nil, err
	}
	if ref.Status == StatusRewarded {
		if err := s.reward(ctx, tx, st, ref, now); err != nil {
			return nil, err
		}
	}
	s.opt.Log.InfoContext(ctx, "referral", "referral", ref.ID, "referrer", referrerID, "friend", ref.FriendID, "status", ref.Status, "reason", ref.Reason)
	return &member.ReferralNote{ReferralID: ref.ID, Status: string(ref.Status), Reason: ref.Reason}, nil
}

func isCode(err error, target *problem.Error) bool {
	p, ok := err.(*problem.Error)
	return ok && p.Code == target.Code
}

// sameDevice reports whether the browser or app install signing up is one
// Perk already ties to the referrer: it opened the referrer's card page or a
// text's link, or signed in as them.
func sameDevice(ctx context.Context, tx *sql.Tx, anon, referrerID string) (bool, error) {
	if anon == "" {
		return false, nil
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM identities WHERE anonymous_id = $1 AND member_id = $2`, anon, referrerID).Scan(&n); err != nil {
		return false, fmt.Errorf("referral device check: %w", err)
	}
	if n > 0 {
		return true, nil
	}
	// A tie refused as a conflict (the id was the referrer's already when
	// the friend's sign-up claimed it) says the same.
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM identity_conflicts WHERE anonymous_id = $1 AND (member_id = $2 OR other_member_id = $2)`,
		anon, referrerID).Scan(&n); err != nil {
		return false, fmt.Errorf("referral device check: %w", err)
	}
	return n > 0, nil
}

// row is a referrals row.
type row struct {
	ID, Code, ReferrerID, FriendID, Channel string
	Status                                  Status
	Reason                                  string
	BasketID                                string
	Amount, Returned                        int64
	CreatedAt                               time.Time
	QualifyBy, QualifiedAt, ClawedBackAt    *time.Time
}

func (r *row) refuse(reason string) { r.Status, r.Reason = StatusRefused, reason }

func (r *row) insert(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO referrals (id, code, referrer_id, friend_id, channel, status, reason, basket_id,
		amount, returned, created_at, qualify_by, qualified_at) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, 0, 0, $8, $9, $10)`,
		r.ID, r.Code, r.ReferrerID, store.NullString(r.FriendID), r.Channel, string(r.Status), r.Reason, r.CreatedAt, r.QualifyBy, r.QualifiedAt)
	if err != nil {
		return fmt.Errorf("store referral: %w", err)
	}
	return nil
}
