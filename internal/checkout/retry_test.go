package checkout_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// retrySale is a member's committed transaction T-1 at S1 with a £1-off
// offer (once per member, £10 budget).
type retrySale struct {
	*world
	memberID, campaignID string
}

// newRetrySale commits T-1 with redeem points paid with (0 for none): line 1
// is 2 × A at 500, line 2 is 1 × B at 1000; the 100 off is 50 + 50 and the
// 19 points earned are 10 + 9. The member was given 500 points beforehand.
func newRetrySale(t *testing.T, db *store.DB, redeem int64) *retrySale {
	t.Helper()
	ctx := context.Background()
	w := newWorld(t, db, defaultPolicy)
	m := w.enrol(t, phoneN(1))
	c := w.launch(t, campaign.Spec{Name: "Pound off", Benefits: []engine.Benefit{{Kind: engine.AmountOff, Amount: 100}},
		Limits: campaign.Limits{PerMember: 1, Budget: 1000}})
	if _, err := w.ledger.Adjust(ctx, m.ID, 500, "welcome gift", "ops@test"); err != nil {
		t.Fatal(err)
	}
	req := basket(string(m.Code), "T-1", item(1, "A", 2, 500), item(2, "B", 1, 1000))
	req.RedeemPoints = redeem
	cm, err := w.checkout.Commit(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if cm.TotalDiscount != 100 || cm.PointsEarned != 19 || cm.PointsRedeemed != redeem {
		t.Fatalf("commit = %+v, want 100 off, 19 points earned and %d paid with", cm, redeem)
	}
	return &retrySale{world: w, memberID: m.ID, campaignID: c.ID}
}

// A till's call about T-1.
type tillCall func(ctx context.Context, s *retrySale) (*checkout.ReturnResponse, error)

func voidT1(ctx context.Context, s *retrySale) (*checkout.ReturnResponse, error) {
	return s.checkout.Void(ctx, voidReq("T-1"))
}

func returnT1(returnID string, items ...checkout.ReturnItem) tillCall {
	return func(ctx context.Context, s *retrySale) (*checkout.ReturnResponse, error) {
		return s.checkout.Return(ctx, &checkout.ReturnRequest{Store: "S1", TransactionID: "T-1", ReturnID: returnID, Items: items})
	}
}

func units(line, qty int) checkout.ReturnItem { return checkout.ReturnItem{Line: line, Quantity: qty} }

// figures is everything a return or a void moves.
type figures struct {
	Available, Pending         int64
	DiscountGiven, Redemptions int64
	Uses, Entries, Returned    int64
	Status                     string
}

func (s *retrySale) figures(t *testing.T) figures {
	t.Helper()
	b := balance(t, s.world, s.memberID)
	f := figures{Available: b.Available, Pending: b.Pending}
	for _, q := range []struct {
		sql  string
		dest []any
	}{
		{`SELECT ` + campaign.CountersSQL + ` FROM campaigns WHERE id = '` + s.campaignID + `'`, []any{&f.Redemptions, &f.DiscountGiven, new(int64)}},
		{`SELECT COALESCE(SUM(uses), 0) FROM offer_uses`, []any{&f.Uses}},
		{`SELECT COUNT(*) FROM points_entries`, []any{&f.Entries}},
		{`SELECT COALESCE(SUM(returned_qty), 0) FROM basket_lines`, []any{&f.Returned}},
		{`SELECT status FROM baskets WHERE transaction_id = 'T-1'`, []any{&f.Status}},
	} {
		if err := s.db.R.QueryRow(q.sql).Scan(q.dest...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	return f
}

// jsonOf is what the API sends for an answer.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// answer is what the first call must have given back.
type answer struct {
	refund, pointsReversed, pointsRefunded int64
	offersRestored                         int
}

func TestRetriedVoidsAndReturnsReplayTheFirstAnswer(t *testing.T) {
	tests := []struct {
		name    string
		redeem  int64      // points T-1 was partly paid with
		before  []tillCall // done before the first call
		first   tillCall
		want    answer     // the first call's answer
		between []tillCall // done between the first call and its retry
		retry   tillCall
		wantErr string // the retry's problem; "" = it answers the first answer again, byte for byte, and moves nothing
	}{
		{
			name:  "a void retried answers the refund and points of the first void",
			first: voidT1, retry: voidT1,
			want: answer{refund: 1900, pointsReversed: 19, offersRestored: 1},
		},
		{
			name:   "a void of a sale paid partly with points, retried, answers the points refunded again",
			redeem: 300, first: voidT1, retry: voidT1,
			// The 1600 paid in money comes back as money, the 300 paid
			// in points as points: not 1900 in money on top of them.
			want: answer{refund: 1600, pointsReversed: 19, pointsRefunded: 300, offersRestored: 1},
		},
		{
			// The void takes back the second A (500 less 25 of line 1's 50
			// off, 5 of its 10 points) and B (1000 less 50, 9 points).
			name:   "a void after a partial return, retried, answers what the void gave back, not the return",
			before: []tillCall{returnT1("R1", units(1, 1))},
			first:  voidT1, retry: voidT1,
			want: answer{refund: 475 + 950, pointsReversed: 5 + 9, offersRestored: 1},
		},
		{
			name:  "a return retried answers the first return",
			first: returnT1("R1", units(1, 1)), retry: returnT1("R1", units(1, 1)),
			want: answer{refund: 475, pointsReversed: 5},
		},
		{
			name:    "a return retried after another return answers the first return",
			first:   returnT1("R1", units(1, 1)),
			want:    answer{refund: 475, pointsReversed: 5},
			between: []tillCall{returnT1("R2", units(1, 1), units(2, 1))},
			retry:   returnT1("R1", units(1, 1)),
		},
		{
			name:    "a return retried after a void answers the return, not the void",
			first:   returnT1("R1", units(1, 1)),
			want:    answer{refund: 475, pointsReversed: 5},
			between: []tillCall{voidT1},
			retry:   returnT1("R1", units(1, 1)),
		},
		{
			name:  "a return id used again for other lines is a conflict",
			first: returnT1("R1", units(1, 1)), retry: returnT1("R1", units(2, 1)),
			want:    answer{refund: 475, pointsReversed: 5},
			wantErr: "return_conflict",
		},
		{
			name:  "a return id used again for more units is a conflict",
			first: returnT1("R1", units(1, 1)), retry: returnT1("R1", units(1, 2)),
			want:    answer{refund: 475, pointsReversed: 5},
			wantErr: "return_conflict",
		},
		{
			name:    "a return id used again for other lines after a void is a conflict",
			first:   returnT1("R1", units(1, 1)),
			want:    answer{refund: 475, pointsReversed: 5},
			between: []tillCall{voidT1},
			retry:   returnT1("R1", units(2, 1)),
			wantErr: "return_conflict",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				s := newRetrySale(t, db, tt.redeem)
				for i, call := range tt.before {
					if _, err := call(ctx, s); err != nil {
						t.Fatalf("before %d: %v", i, err)
					}
				}
				first, err := tt.first(ctx, s)
				if err != nil {
					t.Fatalf("first call: %v", err)
				}
				got := answer{first.Refund, first.PointsReversed, first.PointsRefunded, len(first.OffersRestored)}
				if got != tt.want {
					t.Fatalf("first answer %+v, want %+v", got, tt.want)
				}
				for i, call := range tt.between {
					if _, err := call(ctx, s); err != nil {
						t.Fatalf("between %d: %v", i, err)
					}
				}
				s.clock.Advance(time.Minute) // the till tries again a minute later
				was := s.figures(t)
				again, err := tt.retry(ctx, s)
				if tt.wantErr != "" {
					wantProblem(t, err, tt.wantErr)
				} else if err != nil {
					t.Fatalf("retry: %v", err)
				} else if a, f := jsonOf(t, again), jsonOf(t, first); a != f {
					t.Errorf("retry answered\n%s\nthe first call answered\n%s", a, f)
				}
				if now := s.figures(t); now != was {
					t.Errorf("the retry moved figures from %+v to %+v", was, now)
				}
			})
		})
	}
}
