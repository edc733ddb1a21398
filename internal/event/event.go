// Package event is the one stream of what shoppers do and what Perk does to
// them, whatever the channel: the events apps, tills and /perk.js send to
// POST /v1/events, and those Perk writes itself (an SMS delivered, a link
// clicked, a basket committed) in the transaction of the change. It also
// owns identity (an anonymous id becoming a member), the per-person
// timeline and sessions, which later features (funnels, journeys) read.
//
// It is not for deciding what to do about an event (journeys) nor for
// counting conversions (package funnel). It imports nothing of Perk's domain,
// so every domain package may call Record inside its own transaction.
package event

import (
	"encoding/json"
	"time"
)

// Channel is where an event happened.
type Channel string

// Channels.
const (
	SMS  Channel = "sms"
	Web  Channel = "web"
	App  Channel = "app"
	POS  Channel = "pos"
	Card Channel = "card"
)

// Channels lists the valid channels in the order docs name them.
var Channels = []Channel{SMS, Web, App, POS, Card}

// Standard retail types a client may send; their properties are validated
// (standard.go).
const (
	PageViewed      = "page_viewed"
	ProductViewed   = "product_viewed"
	CartUpdated     = "cart_updated"
	CheckoutStarted = "checkout_started"
	OrderPlaced     = "order_placed"
	AppOpened       = "app_opened"
	AppInstalled    = "app_installed"
	// Identified ties the event's anonymous id to its member: what
	// perk.identify and an app's identify call send.
	Identified = "identified"
)

// Types Perk writes itself; clients may not send them.
const (
	SMSSent         = "sms_sent"
	SMSDelivered    = "sms_delivered"
	SMSFailed       = "sms_failed"
	SMSReplied      = "sms_replied"
	LinkClicked     = "link_clicked"
	CardViewed      = "card_viewed"
	MemberJoined    = "member_joined"
	MemberOptedOut  = "member_opted_out"
	BasketCommitted = "basket_committed"
	BasketReturned  = "basket_returned"
	OfferRedeemed   = "offer_redeemed"
	IdentityMerged  = "identity_merged"
	// CampaignVariance is a variance alert on a live campaign (package
	// variance): about a campaign and a store, not a person.
	CampaignVariance = "campaign_variance"
	// JourneyVariance is a variance alert on a live journey (package
	// variance): about a journey's stage or step, not a person.
	JourneyVariance = "journey_variance"
)

// Source says who wrote an event.
const (
	SourceAPI  = "api"  // sent to POST /v1/events (apps, tills, /perk.js)
	SourcePerk = "perk" // written by Perk as the change happened
)

// Event is one thing that happened. MemberID is the person once known;
// AnonymousID the browser or app install before that.
type Event struct {
	Seq         int64           `json:"seq,omitempty"` // the stream's own order of arrival
	EventID     string          `json:"event_id"`
	Type        string          `json:"type"`
	Time        time.Time       `json:"time"`
	ReceivedAt  time.Time       `json:"received_at"`
	Channel     Channel         `json:"channel"`
	Source      string          `json:"source"`
	AnonymousID string          `json:"anonymous_id,omitempty"`
	MemberID    string          `json:"member_id,omitempty"`
	SessionID   string          `json:"session_id,omitempty"`
	Campaign    string          `json:"campaign,omitempty"`
	Store       string          `json:"store,omitempty"`
	OrderID     string          `json:"order_id,omitempty"`
	Properties  json.RawMessage `json:"properties"`
}

// Shopper reports whether the event is something the shopper did, as opposed
// to something done to them (a message sent or delivered) or bookkeeping (a
// merge): only those open or extend a session.
func (e *Event) Shopper() bool {
	switch e.Type {
	case SMSSent, SMSDelivered, SMSFailed, IdentityMerged, CampaignVariance, JourneyVariance:
		return false
	}
	return true
}

// Purchase reports whether the event is a purchase, online or at a till: a
// session with one converted.
func (e *Event) Purchase() bool { return e.Type == OrderPlaced || e.Type == BasketCommitted }
