package checkout

import (
	"context"
	"database/sql"
	"encoding/json"
	"strconv"
	"time"

	"github.com/perk-platform/perk/internal/event"
)

// recordBasket writes a member's committed basket and each offer it redeemed
// into the event stream, in the commit's transaction: one statement more per
// commit. Anonymous baskets are left out: the stream is about people. A
// basket naming an online order (req.OrderID) ties the browser that placed
// it to the member.
func (s *Service) recordBasket(ctx context.Context, tx *sql.Tx, basketID string, req *Request, resp *Response,
	memberID string, gave map[string]bool, now time.Time) error {
	if memberID == "" {
		return nil
	}
	props, _ := json.Marshal(map[string]any{"basket_id": basketID, "transaction_id": req.TransactionID,
		"currency": resp.Currency, "subtotal": resp.Subtotal, "discount": resp.TotalDiscount, "total": resp.Total,
		"items": len(req.Items), "points_earned": resp.PointsEarned})
	evs := []event.Event{{EventID: "perk:basket_committed:" + basketID, Type: event.BasketCommitted, Time: now,
		Channel: event.POS, MemberID: memberID, Store: req.Store, OrderID: req.OrderID, Properties: props}}
	for i, b := range resp.Benefits {
		if !gave[b.CampaignID] {
			continue
		}
		p, _ := json.Marshal(map[string]any{"basket_id": basketID, "offer_id": b.OfferID, "kind": b.Kind,
			"discount": b.Discount, "points": b.Points})
		evs = append(evs, event.Event{EventID: "perk:offer_redeemed:" + basketID + ":" + strconv.Itoa(i),
			Type: event.OfferRedeemed, Time: now, Channel: event.POS, MemberID: memberID, Campaign: b.CampaignID,
			Store: req.Store, Properties: p})
	}
	return event.Record(ctx, tx, s.db.Dialect, evs...)
}

// recordReturn writes a return or void of a member's basket into the stream.
func (s *Service) recordReturn(ctx context.Context, tx *sql.Tx, b *basketRow, resp *ReturnResponse, now time.Time) error {
	if b.memberID == "" {
		return nil
	}
	props, _ := json.Marshal(map[string]any{"basket_id": b.id, "transaction_id": resp.TransactionID,
		"return_id": resp.ReturnID, "status": resp.Status, "value": resp.Value, "refund": resp.Refund})
	key := resp.ReturnID
	if key == "" {
		key = "void"
	}
	return event.Record(ctx, tx, s.db.Dialect, event.Event{EventID: "perk:basket_returned:" + b.id + ":" + key,
		Type: event.BasketReturned, Time: now, Channel: event.POS, MemberID: b.memberID, Properties: props})
}
