package campaign

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/links"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/sms/compose"
)

// Recipient is the member a marketing text is written for.
type Recipient struct {
	MemberID, Phone, FirstName, LastName, Code string
	// CardToken is the member's card token; "" reads (or issues) it in
	// the transaction.
	CardToken  string
	Attributes map[string]string
}

// TextOptions are the sender's side of a marketing text.
type TextOptions struct {
	PublicURL, Programme string
	// Links shortens {{link}} addresses into tracked links; nil leaves
	// them as written.
	Links *links.Service
	// Campaign is the campaign the text and its links belong to ("" for a
	// journey's).
	Campaign string
	// Purpose labels the message in the queue ("campaign", "journey:NAME").
	Purpose string
}

// RenderText fills tmpl for rc: the one rendering of a member's marketing
// text, shared by campaign announcements and journey steps, so the two
// write the same fields the same way.
func RenderText(ctx context.Context, tx *sql.Tx, tmpl *compose.Template, rc Recipient, o TextOptions, now time.Time) (string, error) {
	token := rc.CardToken
	if token == "" {
		var err error
		if token, err = member.CardTokenTx(ctx, tx, rc.MemberID, now); err != nil {
			return "", err
		}
	}
	attrs := rc.Attributes
	if attrs == nil {
		attrs = map[string]string{}
	}
	d := compose.Data{
		FirstName: rc.FirstName, LastName: rc.LastName, Name: strings.TrimSpace(rc.FirstName + " " + rc.LastName), Code: rc.Code,
		CardURL: strings.TrimRight(o.PublicURL, "/") + "/c/" + token, Programme: o.Programme, Attributes: attrs,
	}
	return tmpl.Render(d, func(u string) (string, error) {
		if o.Links == nil {
			return u, nil
		}
		return o.Links.Shorten(ctx, tx, links.Link{URL: u, MemberID: rc.MemberID, Campaign: o.Campaign})
	})
}

// QueueText renders tmpl for rc and queues it as a marketing message in
// tx, so it exists if and only if what caused it does; the contact policy
// (opt-out, quiet hours, the cap) decides at send time. It returns the
// message's id.
func QueueText(ctx context.Context, tx *sql.Tx, tmpl *compose.Template, rc Recipient, o TextOptions, now time.Time) (string, error) {
	body, err := RenderText(ctx, tx, tmpl, rc, o, now)
	if err != nil {
		return "", err
	}
	return sms.Enqueue(ctx, tx, sms.Outbound{MemberID: rc.MemberID, To: rc.Phone, Body: body, Kind: sms.Marketing,
		Purpose: o.Purpose, Campaign: o.Campaign}, now)
}
