package report_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/report"
	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

func TestOverviewAddsUpTodaysRows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		london, _ := time.LoadLocation("Europe/London")
		now := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
		at := now.Add(-26 * time.Hour) // yesterday
		clk := func() time.Time { return at }
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		ms := member.NewService(db, member.Options{Region: "GB", PublicURL: "https://perk.test", Now: clk, Log: log})
		enrol := func(ph string, ch member.Channel, consent bool) *member.Member {
			e, err := ms.Enrol(ctx, member.EnrolRequest{Profile: member.Profile{Phone: ph}, Channel: ch, Consent: consent})
			if err != nil {
				t.Fatal(err)
			}
			return e.Member
		}
		enrol("+447700900001", member.ChannelSMS, true)
		at = now.Add(-time.Hour) // today
		a := enrol("+447700900002", member.ChannelWeb, true)
		enrol("+447700900003", member.ChannelWeb, false)
		camps := campaign.NewService(db, campaign.Options{Now: clk, Log: log})
		c, err := camps.Create(ctx, campaign.Spec{Name: "Ten", Start: "2026-11-01", End: "2026-12-01", Audience: campaign.Audience{Kind: campaign.AudienceAll},
			Benefits: []engine.Benefit{{Kind: engine.AmountOff, Amount: 100}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := camps.Launch(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		co := checkout.NewService(db, ms, camps, ledger.New(db, ledger.Policy{}, clk), checkout.Options{Currency: "GBP", BaseEarn: 1, Now: clk, Log: log})
		if _, err := co.Commit(ctx, &checkout.Request{Store: "S1", Member: checkout.Key(string(a.Code)), Currency: "GBP", TransactionID: "T1",
			Items: []checkout.Item{{Line: 1, SKU: "X", Quantity: 2, UnitPrice: 1000}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.W.Exec(`UPDATE sms_outbox SET status = 'sent', delivery_state = 'delivered' WHERE member_id = $1`, a.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := sms.Enqueue(ctx, db.W, sms.Outbound{To: "+447700900009", Body: "x", Kind: sms.Transactional, Purpose: "test"}, now.Add(-30*time.Minute)); err != nil {
			t.Fatal(err)
		}
		// Settled by SQL, not by the sender's recorder, which keeps sms_tally.
		if err := sms.RebuildTally(ctx, db.W, db.Dialect); err != nil {
			t.Fatal(err)
		}

		o, err := report.ProgrammeOverview(ctx, db, now, london, 3)
		if err != nil {
			t.Fatal(err)
		}
		got := []int64{o.Members, o.OptedIn, o.Campaigns, o.Transactions, o.Sales, o.Redemptions, o.Discount, o.PointsEarned, o.SMSSent, o.SMSDelivered}
		want := []int64{3, 2, 1, 1, 1900, 1, 100, 19, 1, 1}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("overview %+v:\n got %v\nwant %v", o, got, want)
			}
		}
		if len(o.NewByDay) != 3 || o.NewByDay[1].ByChannel["sms"] != 1 || o.NewByDay[2].ByChannel["web"] != 2 || o.NewByDay[2].Total != 2 {
			t.Fatalf("new by day %+v", o.NewByDay)
		}
	})
}
