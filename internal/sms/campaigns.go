package sms

import (
	"context"
	"fmt"
	"time"
)

// Reasons the contact policy records for campaign messages.
const (
	// ReasonCampaignPaused: held while the campaign is paused; resuming it
	// queues the message again (ReleaseCampaign).
	ReasonCampaignPaused = "campaign_paused"
	// ReasonCampaignEnded: held for good, the campaign ended (its end
	// passed, or a limit or budget was reached) before the message went.
	ReasonCampaignEnded = "campaign_ended"
	// ReasonTooLate: cancelled, because quiet hours or the frequency cap
	// would only let the message go at or after the campaign's end.
	ReasonTooLate = "too_late"
	// ReasonPriority: deferred behind a queued message of a campaign that
	// ranks higher for the same member.
	ReasonPriority = "priority"
)

// CampaignState is what the contact policy needs to know about the
// campaign a marketing message is sent for.
type CampaignState struct {
	Paused   bool      // withheld by an operator; may resume
	Ended    bool      // ended early (a limit or budget reached): for good
	End      time.Time // the message must go before it (exclusive)
	Priority int       // higher goes first when the frequency cap has room for fewer than are queued
}

// over reports whether the campaign is over at now.
func (s CampaignState) over(now time.Time) bool { return s.Ended || !now.Before(s.End) }

// Campaigns tells the contact policy about campaigns. The campaign package
// implements it; the sms package does not read campaign rows itself.
type Campaigns interface {
	// MessageStates returns the state of each campaign of ids that exists;
	// an id it does not know is left out (the message is then treated as
	// one sent for no campaign).
	MessageStates(ctx context.Context, ids []string) (map[string]CampaignState, error)
}

// HoldCampaign holds every queued message of a campaign with reason, in
// the caller's transaction (a pause): the outbox shows them held at once,
// and the sender checks again at send time for those already claimed.
func HoldCampaign(ctx context.Context, ex execer, campaignID, reason string) (int64, error) {
	res, err := ex.ExecContext(ctx, `UPDATE sms_outbox SET status = 'held', held_reason = $2
		WHERE campaign_id = $1 AND kind = 'marketing' AND status = 'queued'`, campaignID, reason)
	if err != nil {
		return 0, fmt.Errorf("hold campaign messages: %w", err)
	}
	return res.RowsAffected()
}

// ReleaseCampaign queues again, due at now, the messages of a campaign held
// with reason (a resume); the contact policy decides them afresh.
func ReleaseCampaign(ctx context.Context, ex execer, campaignID, reason string, now time.Time) (int64, error) {
	res, err := ex.ExecContext(ctx, `UPDATE sms_outbox SET status = 'queued', held_reason = '', send_after = $3
		WHERE campaign_id = $1 AND kind = 'marketing' AND status = 'held' AND held_reason = $2`, campaignID, reason, now.UTC())
	if err != nil {
		return 0, fmt.Errorf("release campaign messages: %w", err)
	}
	return res.RowsAffected()
}
