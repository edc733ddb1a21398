package demo

import (
	"context"
	"errors"
	"fmt"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout"
)

// planBaskets schedules the everyday trade: five to nine baskets a day in
// opening hours over the three stores, one in six anonymous, a few card
// visits, and a few baskets this morning.
func (h *history) planBaskets(w *world) {
	for d := -historyDays; d < 0; d++ {
		for range 5 + h.rng.IntN(5) {
			at := h.clockAt(d, 8, h.rng.IntN(11*60))
			w.at(at, func(ctx context.Context) error { return h.shop(ctx, w) })
		}
		at := h.clockAt(d, 12, h.rng.IntN(8*60))
		w.at(at, func(ctx context.Context) error { return h.visit(ctx, w) })
	}
	for i := range 6 {
		w.at(h.earlier(0.1+0.15*float64(i)), func(ctx context.Context) error { return h.shop(ctx, w) })
	}
}

// shop commits a basket of a few random products for a random member (or
// nobody) at a random store.
func (h *history) shop(ctx context.Context, w *world) error {
	key := ""
	if h.rng.IntN(6) > 0 && len(h.joined) > 0 {
		key = h.joined[h.rng.IntN(len(h.joined))].code
	}
	var items []int
	if h.rng.IntN(2) == 0 {
		items = append(items, flatWhite) // the best seller
	}
	for range 1 + h.rng.IntN(3) {
		items = append(items, h.rng.IntN(len(products)))
	}
	storeID := stores[h.rng.IntN(len(stores))].id
	_, err := h.commit(ctx, w, storeID, key, 0, items...)
	return err
}

// commit commits one basket: a line per product, a repeated product taking
// another unit.
func (h *history) commit(ctx context.Context, w *world, storeID, memberKey string, redeem int64, items ...int) (*checkout.Response, error) {
	req := &checkout.Request{Store: storeID, Terminal: "T1", Member: checkout.Key(memberKey), Currency: w.currency,
		RedeemPoints: redeem, TransactionID: h.nextTxn(storeID)}
	lines := map[int]int{} // product -> index in req.Items
	for _, p := range items {
		if i, ok := lines[p]; ok {
			req.Items[i].Quantity++
			continue
		}
		lines[p] = len(req.Items)
		pr := products[p]
		req.Items = append(req.Items, checkout.Item{Line: len(req.Items) + 1, SKU: pr.sku, Categories: pr.cats, Quantity: 1, UnitPrice: pr.price})
	}
	r, err := w.checkout.Commit(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", req.TransactionID, err)
	}
	h.baskets++
	return r, nil
}

func (h *history) nextTxn(storeID string) string {
	h.txns[storeID]++
	return fmt.Sprintf("%s-%05d", storeID, h.txns[storeID])
}

func (h *history) code(memberID string) string {
	for _, j := range h.joined {
		if j.id == memberID {
			return j.code
		}
	}
	return ""
}

// visit: a member opens their card page to look at their points.
func (h *history) visit(ctx context.Context, w *world) error {
	if len(h.joined) == 0 {
		return nil
	}
	return w.members.RecordCardVisit(ctx, h.joined[h.rng.IntN(len(h.joined))].id, "")
}

// planScripted schedules the baskets the tour relies on: Ann's coffee and
// croissant every third morning (paying with points once she has some), a
// partial return, a void, and this morning's coffees.
func (h *history) planScripted(w *world, out *Seeded) {
	for d := -historyDays + 2; d < 0; d += 3 {
		w.at(h.clockAt(d, 8, 10), func(ctx context.Context) error {
			var redeem int64
			if d > -8 { // her first points have left the returns window
				b, err := w.ledger.Balance(ctx, out.Featured)
				if err != nil {
					return err
				}
				redeem = min(b.Available, 50)
			}
			_, err := h.commit(ctx, w, "S001", h.code(out.Featured), redeem, flatWhite, croissant)
			if errors.Is(err, checkout.ErrPointsOverTotal) { // points worth more than the basket (--points-rate)
				_, err = h.commit(ctx, w, "S001", h.code(out.Featured), 0, flatWhite, croissant)
			}
			return err
		})
	}
	// Bilal buys two coffees; one comes back the next morning.
	var bought string
	w.at(h.clockAt(-4, 11, 20), func(ctx context.Context) error {
		r, err := h.commit(ctx, w, "S002", h.joined[1].code, 0, flatWhite, flatWhite, orangeJuice)
		if err == nil {
			bought = r.TransactionID
		}
		return err
	})
	w.at(h.clockAt(-3, 9, 30), func(ctx context.Context) error {
		_, err := w.checkout.Return(ctx, &checkout.ReturnRequest{Store: "S002", TransactionID: bought, ReturnID: "RET-0001",
			Items: []checkout.ReturnItem{{Line: 1, Quantity: 1}}})
		return err
	})
	// Chloé's basket is rung up by mistake and voided three minutes later.
	var mistake string
	w.at(h.clockAt(-6, 15, 0), func(ctx context.Context) error {
		r, err := h.commit(ctx, w, "S001", h.joined[2].code, 0, flatWhite, croissant, croissant)
		if err == nil {
			mistake = r.TransactionID
		}
		return err
	})
	w.at(h.clockAt(-6, 15, 3), func(ctx context.Context) error {
		_, err := w.checkout.Void(ctx, &checkout.VoidRequest{Store: "S001", TransactionID: mistake})
		return err
	})
	// This morning three regulars outside the control group buy coffee, so
	// today's figures move.
	w.at(h.earlier(0.5), func(ctx context.Context) error {
		n := 0
		for _, j := range h.joined {
			if n == 3 {
				break
			}
			if campaign.InControl(out.Live, j.id, 10) {
				continue
			}
			if _, err := h.commit(ctx, w, stores[n].id, j.code, 0, flatWhite); err != nil {
				return err
			}
			n++
		}
		return nil
	})
}
