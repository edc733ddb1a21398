package report_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/report"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

func TestMemberHistory_OneTimelineNewestFirst(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, ledger.Policy{RedeemPoints: 1, RedeemValue: 1, ExpireAfter: time.Hour})
		ctx := context.Background()
		step := func() { w.clock.Advance(time.Minute) }

		m := w.enrol(t, phoneN(1), true) // enrolled, opt_in, welcome message (one instant)
		other := w.enrol(t, phoneN(2), true)
		step()
		c := w.launch(t, campaign.Spec{Name: "Coffee", Audience: campaign.Audience{Kind: campaign.AudienceFilter,
			Filter: &campaign.Filter{Statuses: []string{"active"}}}, Benefits: []engine.Benefit{percent(10, "A")},
			Message: `Hi {{.FirstName}}: {{link "https://shop.example/a"}} card {{.CardURL}}`})
		w.exec(t, `UPDATE sms_outbox SET status = 'sent', sent_at = $2, delivery_state = 'delivered', delivered_at = $2
			WHERE campaign_id = $1`, c.ID, w.clock.Now())
		step()
		w.exec(t, `INSERT INTO sms_inbox (id, from_phone, to_addr, body, keyword, member_id, received_at)
			VALUES ('in_1', $1, '80800', 'CODE please, my number is 07700 900001', 'CODE', $2, $3)`, phoneN(1), m.ID, w.clock.Now())
		step()
		var code string
		db.R.QueryRow(`SELECT code FROM short_links WHERE member_id = $1`, m.ID).Scan(&code)
		if _, err := w.links.Click(ctx, code); err != nil {
			t.Fatal(err)
		}
		step()
		if err := w.members.RecordCardVisit(ctx, m.ID, ""); err != nil {
			t.Fatal(err)
		}
		step()
		w.commit(t, "S1", string(m.Code), "T-1", item(1, "A", 2, 1000), item(2, "B", 1, 500)) // purchase + redemption
		w.commit(t, "S1", string(other.Code), "T-other", item(1, "A", 1, 1000))
		step()
		if _, err := w.checkout.Return(ctx, &checkout.ReturnRequest{Store: "S1", TransactionID: "T-1", ReturnID: "R1",
			Items: []checkout.ReturnItem{{Line: 2, Quantity: 1}}}); err != nil {
			t.Fatal(err)
		}
		step()
		w.commit(t, "S2", string(m.Code), "T-2", item(1, "A", 1, 300))
		step()
		if _, err := w.checkout.Void(ctx, &checkout.VoidRequest{Store: "S2", TransactionID: "T-2"}); err != nil {
			t.Fatal(err)
		}
		step()
		if _, err := w.ledger.Adjust(ctx, m.ID, 50, "apology, call 07700900001", "key_ops"); err != nil {
			t.Fatal(err)
		}
		step()
		if _, err := w.members.OptOut(ctx, m.ID, member.Origin{Method: member.ChannelSMS, Source: "STOP", Address: "80800"}); err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(3 * time.Hour)
		if _, err := w.ledger.ExpireDue(ctx, w.clock.Now(), 100); err != nil {
			t.Fatal(err)
		}

		h, err := w.reports.MemberHistory(ctx, m.ID, report.HistoryQuery{})
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for i, e := range h.Events {
			kinds = append(kinds, e.Kind)
			if i > 0 && e.At.After(h.Events[i-1].At) {
				t.Errorf("event %d (%s at %v) is newer than the one before it", i, e.Kind, e.At)
			}
		}
		want := []string{
			report.EventPointsExpire,
			report.EventOptOut,
			report.EventPointsAdjust,
			report.EventVoid,
			report.EventRedemption, report.EventPurchase, // T-2 (its offer given back by the void)
			report.EventReturn,
			report.EventRedemption, report.EventPurchase, // T-1
			report.EventCardVisit,
			report.EventLinkClick,
			report.EventMessageIn,
			report.EventMessageOut, // the announcement
			report.EventMessageOut, report.EventOptIn, report.EventEnrolled,
		}
		// Expiry writes one entry per lot that expired: keep the first.
		for len(kinds) > 1 && kinds[0] == report.EventPointsExpire && kinds[1] == report.EventPointsExpire {
			kinds = kinds[1:]
		}
		if !slices.Equal(kinds, want) {
			t.Errorf("kinds\n %v\nwant\n %v", kinds, want)
		}
		for _, e := range h.Events {
			switch e.Kind {
			case report.EventPurchase, report.EventRedemption, report.EventReturn, report.EventVoid:
				if e.TransactionID == "" || e.StoreID == "" {
					t.Errorf("%s without transaction or store: %+v", e.Kind, e)
				}
			case report.EventMessageOut:
				if e.MessageID == "" || e.Details["status"] == nil {
					t.Errorf("message without id or status: %+v", e)
				}
				if e.CampaignID == c.ID && (e.Details["delivery_state"] != "delivered" || !strings.Contains(e.Summary, "delivered")) {
					t.Errorf("announcement without its delivery: %+v", e)
				}
			case report.EventLinkClick:
				if e.CampaignID != c.ID {
					t.Errorf("click without its campaign: %+v", e)
				}
			}
		}

		// Nothing sensitive: no phone digits beyond the mask, no card token.
		token, _ := w.members.ExistingCardToken(ctx, m.ID)
		body, _ := json.Marshal(h)
		for _, secret := range []string{"7700900001", "900001", "0770090", token} {
			if secret != "" && strings.Contains(string(body), secret) {
				t.Errorf("history shows %q:\n%s", secret, body)
			}
		}
		if !strings.Contains(string(body), "***001") {
			t.Errorf("the number in the inbound message is not shown masked:\n%s", body)
		}

		// Paging by Before walks the same timeline, never splitting an
		// instant (a page is longer than the limit only to keep one whole).
		for _, limit := range []int{1, 3} {
			var paged []report.Event
			q := report.HistoryQuery{Limit: limit}
			for range 50 {
				p, err := w.reports.MemberHistory(ctx, m.ID, q)
				if err != nil {
					t.Fatal(err)
				}
				if len(p.Events) > limit && !p.Events[0].At.Equal(p.Events[len(p.Events)-1].At) {
					t.Fatalf("limit %d: page of %d events over several instants", limit, len(p.Events))
				}
				paged = append(paged, p.Events...)
				if p.NextBefore == nil {
					break
				}
				q.Before = *p.NextBefore
			}
			if len(paged) != len(h.Events) {
				t.Fatalf("limit %d: paged %d events, all at once %d", limit, len(paged), len(h.Events))
			}
			for i := range paged {
				if paged[i].Kind != h.Events[i].Kind || !paged[i].At.Equal(h.Events[i].At) {
					t.Errorf("limit %d: page event %d = %s %v, want %s %v", limit, i, paged[i].Kind, paged[i].At, h.Events[i].Kind, h.Events[i].At)
				}
			}
		}

		// Limits and unknown members.
		if _, err := w.reports.MemberHistory(ctx, m.ID, report.HistoryQuery{Limit: 501}); !isProblem(err, "limit_invalid") {
			t.Errorf("limit 501: %v", err)
		}
		if _, err := w.reports.MemberHistory(ctx, "mem_nope", report.HistoryQuery{}); !isProblem(err, "member_not_found") {
			t.Errorf("unknown member: %v", err)
		}
	})
}

// TestMemberHistory_NamesCampaignsAndPricesInTheBasketsCurrency: events of
// a campaign carry its name beside its id, and amounts read with the
// basket currency's symbol and decimals ("£15.00", not "15.00 GBP").
func TestMemberHistory_NamesCampaignsAndPricesInTheBasketsCurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, ledger.Policy{RedeemPoints: 1, RedeemValue: 1})
		ctx := context.Background()
		m := w.enrol(t, phoneN(1), true)
		w.clock.Advance(time.Minute)
		c := w.launch(t, campaign.Spec{Name: "Coffee week", Audience: campaign.Audience{Kind: campaign.AudienceAll},
			Benefits: []engine.Benefit{percent(10, "A")}, Message: `Hi {{.FirstName}}, 10% off: {{.CardURL}}`})
		w.clock.Advance(time.Minute)
		w.commit(t, "S1", string(m.Code), "T-1", item(1, "A", 2, 1000), item(2, "B", 1, 500))
		w.clock.Advance(time.Minute)
		if _, err := w.checkout.Return(ctx, &checkout.ReturnRequest{Store: "S1", TransactionID: "T-1", ReturnID: "R1",
			Items: []checkout.ReturnItem{{Line: 2, Quantity: 1}}}); err != nil {
			t.Fatal(err)
		}
		h, err := w.reports.MemberHistory(ctx, m.ID, report.HistoryQuery{})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]struct {
			campaign string // the name, "" for none
			says     string
		}{
			report.EventRedemption: {"Coffee week", "Redeemed Coffee week (percent_off): £2.00 off"},
			report.EventPurchase:   {"", "Bought £23.00 at S1, saved £2.00"},
			report.EventReturn:     {"", "Returned items of T-1 at S1: £5.00 refunded"},
			report.EventMessageOut: {"Coffee week", "SMS campaign"},
		}
		seen := map[string]bool{}
		for _, e := range h.Events {
			wt, ok := want[e.Kind]
			if !ok || (e.Kind == report.EventMessageOut && e.CampaignID == "") {
				continue
			}
			seen[e.Kind] = true
			if e.CampaignName != wt.campaign || (wt.campaign != "" && e.CampaignID != c.ID) {
				t.Errorf("%s: campaign %q (%s), want %q (%s)", e.Kind, e.CampaignName, e.CampaignID, wt.campaign, c.ID)
			}
			if !strings.HasPrefix(e.Summary, wt.says) {
				t.Errorf("%s says %q, want it to start %q", e.Kind, e.Summary, wt.says)
			}
		}
		if len(seen) != len(want) {
			t.Errorf("saw %v, want every one of %v", seen, want)
		}
	})
}
