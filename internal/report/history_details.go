package report

import (
	"encoding/json"
	"fmt"
	"time"
)

// The details of a history event, one type per kind (Event.Details holds a
// pointer to one of them, or nil for a card visit). They are typed so an
// integrator's generated client knows each field: docs/openapi.yaml ties each
// kind to its type, and the API tests hold the answers to it.

// EnrolledDetails are an enrolment's (EventEnrolled).
type EnrolledDetails struct {
	Channel string `json:"channel"` // api, pos, web, sms, import
	Source  string `json:"source"`  // what the enrolment named as its source, if anything
}

// ConsentDetails are a consent change's (EventOptIn, EventOptOut,
// EventConsentRequested).
type ConsentDetails struct {
	Action         string `json:"action"` // granted, withdrawn, requested
	Method         string `json:"method"` // the channel it came by
	Source         string `json:"source"`
	WordingVersion string `json:"wording_version"`
}

// MessageOutDetails are an outbound SMS's (EventMessageOut), at queuing.
type MessageOutDetails struct {
	Purpose       string     `json:"purpose"`
	Kind          string     `json:"kind"`
	Status        string     `json:"status"`         // queued, sending, sent, failed, held, cancelled
	DeliveryState string     `json:"delivery_state"` // the gateway's receipt, if any
	HeldReason    string     `json:"held_reason"`
	Segments      int        `json:"segments"`
	Preview       string     `json:"preview"` // the start of the text, links scrubbed
	SentAt        *time.Time `json:"sent_at,omitempty"`
	DeliveredAt   *time.Time `json:"delivered_at,omitempty"`
}

// MessageInDetails are an inbound SMS's (EventMessageIn).
type MessageInDetails struct {
	Keyword string `json:"keyword"` // "" when none was recognised
	Preview string `json:"preview"`
}

// LinkClickDetails are a tracked link click's (EventLinkClick).
type LinkClickDetails struct {
	URL string `json:"url"` // card tokens hidden
}

// PurchaseDetails are a basket's (EventPurchase); amounts in minor units.
type PurchaseDetails struct {
	BasketID       string `json:"basket_id"`
	Terminal       string `json:"terminal"`
	Currency       string `json:"currency"`
	Gross          int64  `json:"gross"`
	Discount       int64  `json:"discount"`
	Total          int64  `json:"total"` // gross - discount
	PointsEarned   int64  `json:"points_earned"`
	PointsRedeemed int64  `json:"points_redeemed"`
	PointsValue    int64  `json:"points_value"`
	Status         string `json:"status"` // committed, voided
}

// VoidDetails are a voided basket's (EventVoid).
type VoidDetails struct {
	BasketID string `json:"basket_id"`
}

// RedemptionDetails are an offer applied to a basket (EventRedemption).
type RedemptionDetails struct {
	OfferID    string     `json:"offer_id"`
	Kind       string     `json:"kind"` // the benefit's kind
	Discount   int64      `json:"discount"`
	Points     int64      `json:"points"`
	RestoredAt *time.Time `json:"restored_at,omitempty"` // when a return or void gave the use back
}

// ReturnDetails are a return's (EventReturn).
type ReturnDetails struct {
	ReturnID       string `json:"return_id"`
	Refund         int64  `json:"refund"`
	PointsReversed int64  `json:"points_reversed"`
}

// PointsDetails are an adjustment's or an expiry's (EventPointsAdjust,
// EventPointsExpire).
type PointsDetails struct {
	Points   int64  `json:"points"`
	Reason   string `json:"reason"`
	Operator string `json:"operator"`
}

// detailsFor returns a new value of the details type of an event kind (nil
// for a kind without details, or one this version does not know).
func detailsFor(kind string) any {
	switch kind {
	case EventEnrolled:
		return &EnrolledDetails{}
	case EventConsentRequested, EventOptIn, EventOptOut:
		return &ConsentDetails{}
	case EventMessageOut:
		return &MessageOutDetails{}
	case EventMessageIn:
		return &MessageInDetails{}
	case EventLinkClick:
		return &LinkClickDetails{}
	case EventPurchase:
		return &PurchaseDetails{}
	case EventVoid:
		return &VoidDetails{}
	case EventRedemption:
		return &RedemptionDetails{}
	case EventReturn:
		return &ReturnDetails{}
	case EventPointsAdjust, EventPointsExpire:
		return &PointsDetails{}
	}
	return nil
}

// UnmarshalJSON reads an event as the API writes it, its details into the
// type of its kind, so a Go client gets the same types back. The details of
// a kind it does not know are kept as a map.
func (e *Event) UnmarshalJSON(b []byte) error {
	type plain Event
	var raw struct {
		plain
		Details json.RawMessage `json:"details"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*e = Event(raw.plain)
	if len(raw.Details) == 0 || string(raw.Details) == "null" {
		return nil
	}
	d := detailsFor(e.Kind)
	if d == nil {
		var m map[string]any
		d = &m
	}
	if err := json.Unmarshal(raw.Details, d); err != nil {
		return fmt.Errorf("history event %s details: %w", e.Kind, err)
	}
	if m, ok := d.(*map[string]any); ok {
		e.Details = *m
		return nil
	}
	e.Details = d
	return nil
}
