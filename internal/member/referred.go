package member

import (
	"context"
	"database/sql"
	"time"
)

// Referred is a sign-up that came with a referral code, as the Referrals
// hook sees it inside the enrolment's transaction.
type Referred struct {
	Code        string  // as the friend typed or followed it
	Member      *Member // the member the sign-up made, or found with that phone
	Created     bool    // false: the phone was already a member
	Channel     Channel
	AnonymousID string // the browser that signed up, "" by SMS
}

// ReferralNote is what became of a sign-up's referral code, for the page or
// reply that answers the sign-up. Status is "" when no referral was
// recorded (an unknown or malformed code), and Reason says why in words.
type ReferralNote struct {
	ReferralID string `json:"referral_id,omitempty"`
	Status     string `json:"status"`
	Reason     string `json:"reason"`
}

// Referrals hears of sign-ups with a referral code inside the enrolment's
// transaction (package referral). Whatever it makes of the code, it must
// not refuse the sign-up: an error is only for a failing database.
type Referrals interface {
	Joined(ctx context.Context, tx *sql.Tx, r Referred, now time.Time) (*ReferralNote, error)
}

// SetReferrals makes enrolments with a referral code tell r. Call it before
// the service is used.
func (s *Service) SetReferrals(r Referrals) { s.referrals = r }

// referred tells the referrals hook about a sign-up with a code.
func (s *Service) referred(ctx context.Context, tx *sql.Tx, req EnrolRequest, e *Enrolment, now time.Time) error {
	if req.Referral == "" || s.referrals == nil || e == nil {
		return nil
	}
	note, err := s.referrals.Joined(ctx, tx, Referred{Code: req.Referral, Member: e.Member, Created: e.Created,
		Channel: req.Channel, AnonymousID: req.AnonymousID}, now)
	if err != nil {
		return err
	}
	e.Referral = note
	return nil
}
