package member

import (
	"context"
	"database/sql"
	"strconv"
	"time"

	"github.com/perk-platform/perk/internal/event"
	"github.com/perk-platform/perk/internal/store"
)

// eventChannel is the stream's channel for a sign-up channel: an API
// enrolment comes from an app or a CRM, closest to "app".
func eventChannel(c Channel) event.Channel {
	switch c {
	case ChannelSMS:
		return event.SMS
	case ChannelPOS:
		return event.POS
	case ChannelAPI:
		return event.App
	}
	return event.Web
}

// recordEvent writes one of the member's events into the stream inside tx,
// the transaction of the change it describes.
func recordEvent(ctx context.Context, tx *sql.Tx, d store.Dialect, typ, key string, m *Member, ch event.Channel,
	anon, campaign string, now time.Time) error {
	return event.Record(ctx, tx, d, event.Event{
		EventID: "perk:" + typ + ":" + key, Type: typ, Time: now, Channel: ch, MemberID: m.ID,
		AnonymousID: anon, Campaign: campaign, Store: m.HomeStore,
	})
}

func micros(t time.Time) string { return strconv.FormatInt(t.UnixMicro(), 10) }
