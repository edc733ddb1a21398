// Package change is how domain packages report what they commit to whoever
// listens (today the webhooks), inside the transaction that makes the
// change: a Recorder writes its own rows (an outbox) in that transaction, so
// a change and the report of it are committed, or rolled back, together.
//
// It is a package of its own, importing nothing of Perk's, so that member,
// checkout, ledger and sms can report changes without importing the webhook
// package (which reads members) or the web layer.
package change

import (
	"context"
	"database/sql"
)

// Event types. Payload fields are documented in docs/webhooks.md.
const (
	MemberCreated        = "member.created"
	MemberUpdated        = "member.updated"
	MemberOptedOut       = "member.opted_out"
	MemberErased         = "member.erased"
	ConsentChanged       = "consent.changed"
	TransactionCommitted = "transaction.committed"
	TransactionReturned  = "transaction.returned"
	TransactionVoided    = "transaction.voided"
	OfferRedeemed        = "offer.redeemed"
	PointsChanged        = "points.changed"
	SMSDelivered         = "sms.delivered"
	SMSFailed            = "sms.failed"
	// JourneyWebhook is a journey's webhook step: data names the journey,
	// its version, the step and the name the step gives the call.
	JourneyWebhook = "journey.webhook"
	// CampaignVariance is a live campaign departing from its norm (package
	// variance): raised once per stage, store and level until it clears.
	CampaignVariance = "campaign.variance"
	// JourneyVariance is a live journey departing from its norm, raised
	// as CampaignVariance is.
	JourneyVariance = "journey.variance"
)

// Types lists every event type, in the order documentation shows them.
var Types = []string{MemberCreated, MemberUpdated, MemberOptedOut, MemberErased, ConsentChanged,
	TransactionCommitted, TransactionReturned, TransactionVoided, OfferRedeemed, PointsChanged,
	SMSDelivered, SMSFailed, JourneyWebhook, CampaignVariance, JourneyVariance}

// Event is one change. Data is marshalled to JSON as the payload's data;
// MemberID, when set, is the member it is about: the recorder adds the
// member's id and CRM external id to the data, reading the external id in
// the transaction unless ExternalID is set: a caller that holds the member
// passes its CRM id ("" for none) and saves the till that query.
type Event struct {
	Type       string
	MemberID   string
	ExternalID *string
	Data       map[string]any
}

// Recorder records events in the transaction that makes the change. An
// error fails that transaction: a change whose report cannot be written is
// not made. It must be cheap when nobody listens to an event's type.
type Recorder interface {
	Record(ctx context.Context, tx *sql.Tx, events ...Event) error
}

// Filter is a Recorder that can tell cheaply, outside any transaction,
// whether it may want events of a type; a caller that would build many
// events (a file import) asks first.
type Filter interface {
	Wants(eventType string) bool
}

// Wants reports whether r may want events of type t: false when r is nil or
// is a Filter that says so.
func Wants(r Recorder, t string) bool {
	if r == nil {
		return false
	}
	f, ok := r.(Filter)
	return !ok || f.Wants(t)
}

// Record is r.Record, or nothing when r is nil (no listener configured).
// Under a context from Batched for r and tx, the events are held in that
// Batch and written at its Flush.
func Record(ctx context.Context, r Recorder, tx *sql.Tx, events ...Event) error {
	if r == nil || len(events) == 0 {
		return nil
	}
	if hold(ctx, r, tx, events) {
		return nil
	}
	return r.Record(ctx, tx, events...)
}

// Multi hands every event to each of its recorders in turn, in the same
// transaction (the webhooks' outbox and the CRM feed's log); nil entries
// are skipped.
type Multi []Recorder

// Record implements Recorder.
func (m Multi) Record(ctx context.Context, tx *sql.Tx, events ...Event) error {
	for _, r := range m {
		if !anyWanted(r, events) {
			continue
		}
		if err := r.Record(ctx, tx, events...); err != nil {
			return err
		}
	}
	return nil
}

// Wants implements Filter: one of the recorders may want events of type t.
func (m Multi) Wants(t string) bool {
	for _, r := range m {
		if Wants(r, t) {
			return true
		}
	}
	return false
}

func anyWanted(r Recorder, events []Event) bool {
	if r == nil {
		return false
	}
	for _, e := range events {
		if Wants(r, e.Type) {
			return true
		}
	}
	return false
}
