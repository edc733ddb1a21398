package checkout

import (
	"context"
	"database/sql"

	"github.com/perk-platform/perk/internal/change"
	"github.com/perk-platform/perk/internal/member"
)

// recordCommit reports a new commit: the transaction, and each offer it
// redeemed. Points movements are reported by the ledger.
// The member's CRM id is known here, which spares the recorder a query in
// the till's transaction.
func (s *Service) recordCommit(ctx context.Context, tx *sql.Tx, m *member.Member, resp *Response) error {
	memberID, ext := "", (*string)(nil)
	if m != nil {
		memberID, ext = m.ID, &m.ExternalID
	}
	events := []change.Event{{Type: change.TransactionCommitted, MemberID: memberID, ExternalID: ext, Data: map[string]any{
		"transaction_id": resp.TransactionID, "store": resp.Store, "currency": resp.Currency,
		"subtotal": resp.Subtotal, "total_discount": resp.TotalDiscount, "total": resp.Total,
		"points_earned": resp.PointsEarned, "points_redeemed": resp.PointsRedeemed, "amount_due": resp.AmountDue,
	}}}
	for _, b := range resp.Benefits {
		events = append(events, change.Event{Type: change.OfferRedeemed, MemberID: memberID, ExternalID: ext, Data: map[string]any{
			"transaction_id": resp.TransactionID, "store": resp.Store, "offer_id": b.OfferID,
			"campaign_id": b.CampaignID, "kind": string(b.Kind), "discount": b.Discount, "points": b.Points,
		}})
	}
	return change.Record(ctx, s.opt.Changes, tx, events...)
}

// batchChanges runs fn under a context in which the change events recorded
// for s.opt.Changes in tx (the ledger's and the checkout's) are held, and
// records them together when fn succeeds: one outbox statement a till
// transaction instead of one for each package that reports, and the CRM id
// the checkout passes serves the ledger's events too.
func (s *Service) batchChanges(ctx context.Context, tx *sql.Tx, fn func(ctx context.Context) error) error {
	bctx, b := change.Batched(ctx, s.opt.Changes, tx)
	if err := fn(bctx); err != nil {
		return err
	}
	return b.Flush(ctx)
}

// recordUndo reports a return (kind transaction.returned) or a void.
func (s *Service) recordUndo(ctx context.Context, tx *sql.Tx, kind, store, memberID string, resp *ReturnResponse) error {
	data := map[string]any{
		"transaction_id": resp.TransactionID, "store": store, "value": resp.Value, "refund": resp.Refund,
		"points_reversed": resp.PointsReversed, "points_refunded": resp.PointsRefunded, "offers_restored": resp.OffersRestored,
	}
	if resp.ReturnID != "" {
		data["return_id"] = resp.ReturnID
	}
	return change.Record(ctx, s.opt.Changes, tx, change.Event{Type: kind, MemberID: memberID, Data: data})
}
