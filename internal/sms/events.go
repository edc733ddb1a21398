package sms

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/perk-platform/perk/internal/event"
	"github.com/perk-platform/perk/internal/store"
)

// smsEvent is one message's event for the stream: sent, delivered, failed
// or replied. Messages to nobody in particular are left out.
type smsEvent struct {
	typ, messageID, memberID, campaign, detail string
	at                                         time.Time
}

// recordSMS writes the events of messages inside tx, the transaction that
// records their state, so the stream and the queue never disagree.
func recordSMS(ctx context.Context, tx *sql.Tx, d store.Dialect, es []smsEvent) error {
	var evs []event.Event
	for _, e := range es {
		if e.memberID == "" {
			continue
		}
		props, _ := json.Marshal(map[string]string{"message_id": e.messageID, "detail": e.detail})
		evs = append(evs, event.Event{EventID: "perk:" + e.typ + ":" + e.messageID, Type: e.typ, Time: e.at,
			Channel: event.SMS, MemberID: e.memberID, Campaign: e.campaign, Properties: props})
	}
	if len(evs) == 0 {
		return nil
	}
	return event.Record(ctx, tx, d, evs...)
}

// receiptEvent is the stream's type for a receipt's state: delivered, or
// failed for a receipt that says the message will not arrive ("unknown"
// says nothing and writes nothing).
func receiptEvent(state string) string {
	switch state {
	case Delivered:
		return event.SMSDelivered
	case Undeliv, Expired:
		return event.SMSFailed
	}
	return ""
}
