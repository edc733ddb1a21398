package member

import (
	"context"
	"database/sql"

	"github.com/perk-platform/perk/internal/change"
)

// record reports changes to Options.Changes in tx. Events carry ids and
// states, never personal data: a receiver that wants the profile asks the
// API, so an erasure has nothing to chase downstream.
func (s *Service) record(ctx context.Context, tx *sql.Tx, events ...change.Event) error {
	return change.Record(ctx, s.opt.Changes, tx, events...)
}

// consentEvents are the events of a change of marketing consent: always
// consent.changed, and member.opted_out when it was withdrawn.
func consentEvents(m *Member, action string, o Origin) []change.Event {
	data := map[string]any{"status": string(m.Status), "action": action, "method": string(o.Method), "source": o.Source}
	out := []change.Event{{Type: change.ConsentChanged, MemberID: m.ID, ExternalID: &m.ExternalID, Data: data}}
	if action == consentWithdrawn {
		out = append(out, change.Event{Type: change.MemberOptedOut, MemberID: m.ID, ExternalID: &m.ExternalID,
			Data: map[string]any{"method": string(o.Method), "source": o.Source}})
	}
	return out
}
