// Package texts is the catalogue of every text Perk sends a shopper on its
// own account (the welcome, their code, the opt-in confirmation and every
// keyword reply), by purpose and by locale. Defaults for English and French
// are embedded; an operator replaces any of them, or adds a locale, with
// one JSON file per locale. Everything is checked when the catalogue loads:
// a text that does not parse, names a field its purpose does not provide or
// lacks one its purpose requires stops the program at start.
//
// It is not for campaign announcements: those are written per campaign
// (package compose) and checked when the campaign is saved.
package texts

import (
	"slices"
	"time"
)

// Purpose names what a text is for; it is also the purpose recorded with
// the message in the outbox.
type Purpose string

// The purposes, in the order the catalogue reports them.
const (
	Welcome      Purpose = "welcome"       // a new member: code and card link
	Code         Purpose = "code"          // CODE, or JOIN from a member: code and card link again
	Card         Purpose = "card"          // the join form used by a member's number: code and card link
	ConfirmOptIn Purpose = "confirm_optin" // double opt-in: reply YES or tap the link
	YesConfirm   Purpose = "yes_confirm"   // YES confirmed the opt-in
	StopConfirm  Purpose = "stop_confirm"  // STOP, from anyone
	StartConfirm Purpose = "start_confirm" // START from a member
	StartReply   Purpose = "start_reply"   // START from a number that is not a member
	CodeReply    Purpose = "code_reply"    // CODE, POINTS or OFFERS from a number that is not a member
	Help         Purpose = "help"          // HELP
	PointsReply  Purpose = "points_reply"  // POINTS
	OffersReply  Purpose = "offers_reply"  // OFFERS with live offers
	NoOffers     Purpose = "no_offers"     // OFFERS without any
	OfferItem    Purpose = "offer_item"    // one offer in an OFFERS reply; items are joined with "; "
	UnknownReply Purpose = "unknown_reply" // a message that was not understood
	InviteReply  Purpose = "invite_reply"  // INVITE: the member's own referral link, to share themselves
	ReferralNote Purpose = "referral_note" // a sign-up by SMS whose referral code was not usable: why
)

// Data is what a text can show. Which fields a purpose provides is in
// Purposes; the programme's fields are filled by the catalogue.
type Data struct {
	Programme   string // the programme's name (--programme)
	HelpContact string // --help-contact
	Frequency   string // --frequency-text, "Up to 3 msgs/week"

	FirstName string
	LastName  string
	Name      string // first and last name, or whichever is known
	Code      string // the 8-digit member code
	CardURL   string // the member's card page
	// ConfirmURL is the double opt-in confirmation link.
	ConfirmURL string

	Points        int64  // spendable points
	PointsPending int64  // points not yet spendable
	Offers        string // the member's live offers, each an offer_item, joined with "; "

	Description string    // offer_item: the offer's description
	Until       time.Time // offer_item: its last day, in the member's zone ({{.Until.Format "2 Jan"}})

	ReferralCode string // invite_reply, referral_note: the referral code
	ReferralURL  string // invite_reply: the member's referral link
	Reason       string // referral_note: what became of the code
}

// Spec is what a purpose's text may and must use.
type Spec struct {
	Fields   []string // fields the purpose provides
	Required []string // fields its text must show
}

var (
	programme = []string{"Programme", "HelpContact", "Frequency"}
	person    = append(slices.Clone(programme), "FirstName", "LastName", "Name", "Code")
	card      = append(slices.Clone(person), "CardURL")
)

// Purposes lists every purpose with its fields. Texts that can go to a
// number that is not a member see only the programme's fields.
var Purposes = map[Purpose]Spec{
	Welcome:      {Fields: card, Required: []string{"Code", "CardURL"}},
	Code:         {Fields: card, Required: []string{"Code", "CardURL"}},
	Card:         {Fields: card, Required: []string{"Code", "CardURL"}},
	ConfirmOptIn: {Fields: append(slices.Clone(person), "ConfirmURL"), Required: []string{"ConfirmURL"}},
	YesConfirm:   {Fields: person},
	StopConfirm:  {Fields: programme},
	StartConfirm: {Fields: person},
	StartReply:   {Fields: programme},
	CodeReply:    {Fields: programme},
	Help:         {Fields: programme, Required: []string{"HelpContact"}},
	PointsReply:  {Fields: append(slices.Clone(card), "Points", "PointsPending"), Required: []string{"Points"}},
	OffersReply:  {Fields: append(slices.Clone(card), "Offers"), Required: []string{"Offers"}},
	NoOffers:     {Fields: card},
	OfferItem:    {Fields: []string{"Description", "Until"}, Required: []string{"Description", "Until"}},
	UnknownReply: {Fields: programme},
	InviteReply:  {Fields: append(slices.Clone(card), "ReferralCode", "ReferralURL"), Required: []string{"ReferralURL"}},
	ReferralNote: {Fields: append(slices.Clone(person), "ReferralCode", "Reason"), Required: []string{"Reason"}},
}

// order is the reporting order of the purposes.
var order = []Purpose{Welcome, Code, Card, ConfirmOptIn, YesConfirm, StopConfirm, StartConfirm, StartReply,
	CodeReply, Help, PointsReply, OffersReply, NoOffers, OfferItem, UnknownReply, InviteReply, ReferralNote}

// All returns every purpose, in a stable order.
func All() []Purpose { return slices.Clone(order) }
