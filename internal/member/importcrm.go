package member

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/perk-platform/perk/internal/phone"
	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/tabular"
)

// crmConflict rejects a row that would move a CRM id or a phone between
// members: mp is the member the row's phone names, me the one its
// external_id names (either may be nil). The reason names the member the
// row disagrees with by CRM id where it has one (the CRM team's own key),
// else by member id; numbers are masked, as in every file Perk writes.
func crmConflict(r importRow, cm *columnMap, mp, me *Member, updatePhones bool) *tabular.RowError {
	p := r.profile
	switch {
	case mp != nil && me != nil && mp.ID != me.ID:
		return &tabular.RowError{Row: r.row, Column: cm.column("external_id"), Reason: fmt.Sprintf(
			"external_id %s is another member than the one with this phone (%s)", p.ExternalID, memberName(mp))}
	case mp != nil && me == nil && p.ExternalID != "" && mp.ExternalID != "":
		return &tabular.RowError{Row: r.row, Column: cm.column("external_id"), Reason: fmt.Sprintf(
			"the phone belongs to the member with external_id %s; a CRM id is not moved by a file "+
				"(change it on that member: PATCH /v1/members/ext:%s)", mp.ExternalID, mp.ExternalID)}
	case me != nil && mp == nil && p.Phone != "" && !updatePhones:
		return &tabular.RowError{Row: r.row, Column: cm.column("phone"), Reason: fmt.Sprintf(
			"external_id %s belongs to the member with phone %s; changing a member's phone by file needs --update-phones",
			p.ExternalID, phone.Mask(string(me.Phone)))}
	}
	return nil
}

// memberName names a member the way the retailer's systems know them.
func memberName(m *Member) string {
	if m.ExternalID != "" {
		return "external_id " + m.ExternalID
	}
	return "member " + m.ID
}

// welcomeImported texts each new member who consented their code and card
// link, as a sign-up by SMS or on the web would, in the import's
// transaction: the welcome exists if and only if the member does.
func (s *Service) welcomeImported(ctx context.Context, tx *sql.Tx, inserted []*Member, now time.Time) error {
	var out []sms.Outbound
	var tokens []cardToken
	for _, m := range inserted {
		if m.Status != StatusActive {
			continue
		}
		t := cardToken{token: newCardToken(), memberID: m.ID}
		tokens = append(tokens, t)
		o, err := s.welcome(m, t.token)
		if err != nil {
			return err
		}
		out = append(out, o)
	}
	if len(out) == 0 {
		return nil
	}
	if err := insertCardTokens(ctx, tx, s.db.Dialect, tokens, now); err != nil {
		return err
	}
	return sms.EnqueueMany(ctx, tx, s.db.Dialect, out, now)
}
