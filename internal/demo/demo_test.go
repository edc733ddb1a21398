package demo_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/demo"
	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/report"
	"github.com/perk-platform/perk/internal/report/figures"
	"github.com/perk-platform/perk/internal/sms/policy"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// now is when the tests' demo is seeded: a Saturday afternoon in London.
var now = time.Date(2026, 12, 5, 14, 0, 0, 0, time.UTC)

var london = mustZone("Europe/London")

func mustZone(name string) *time.Location {
	z, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return z
}

func fixed() time.Time { return now }

// options are perk serve's defaults: a point a pound, held for two weeks.
func options() demo.Options {
	return demo.Options{
		Members:   member.Options{Region: "GB", PublicURL: "https://perk.test", Programme: "Perk Rewards"},
		Campaigns: campaign.Options{Zone: london, PublicURL: "https://perk.test", Programme: "Perk Rewards"},
		Points:    ledger.Policy{PendingFor: 14 * 24 * time.Hour, ExpireAfter: 365 * 24 * time.Hour},
		Checkout:  checkout.Options{Currency: "GBP", BaseEarn: 1},
		Now:       now,
		Log:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

func seed(t *testing.T, db *store.DB) *demo.Seeded {
	t.Helper()
	return seedWith(t, db, options())
}

func seedWith(t *testing.T, db *store.DB, opt demo.Options) *demo.Seeded {
	t.Helper()
	began := time.Now()
	s, err := demo.Seed(context.Background(), db, auth.NewService(db, fixed), opt)
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	if s == nil {
		t.Fatal("seed into an empty database seeded nothing")
	}
	t.Logf("seeded %d baskets in %s", s.Baskets, time.Since(began).Round(time.Millisecond))
	return s
}

// services reads the seeded database as the server would at now.
func services(db *store.DB) (*campaign.Service, *report.Service) {
	camps := campaign.NewService(db, campaign.Options{Zone: london, Now: fixed})
	return camps, report.NewService(db, camps, fixed)
}

func TestSeed_ALivingProgramme(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := seed(t, db)
		camps, reports := services(db)

		t.Run("one campaign in each state", func(t *testing.T) {
			cs, err := camps.List(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			got := map[campaign.Status][]string{}
			for _, c := range cs {
				got[c.Status] = append(got[c.Status], c.ID)
			}
			for status, id := range map[campaign.Status]string{campaign.Active: s.Live, campaign.Ended: s.Ended,
				campaign.Scheduled: s.Scheduled, campaign.Draft: s.Draft} {
				if len(got[status]) != 1 || got[status][0] != id {
					t.Errorf("%s campaigns: %v, want just %s", status, got[status], id)
				}
			}
		})

		t.Run("the overview has today's trade", func(t *testing.T) {
			o, err := report.ProgrammeOverview(ctx, db, now, london, 14)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range []struct {
				name string
				v    int64
			}{{"members", o.Members}, {"opted in", o.OptedIn}, {"live campaigns", o.Campaigns}, {"transactions", o.Transactions},
				{"sales", o.Sales}, {"redemptions", o.Redemptions}, {"discount", o.Discount}, {"points earned", o.PointsEarned},
				{"sms sent", o.SMSSent}, {"sms delivered", o.SMSDelivered}} {
				if f.v <= 0 {
					t.Errorf("overview: %s = %d, want more than 0", f.name, f.v)
				}
			}
			if o.OptedIn >= o.Members {
				t.Errorf("overview: %d of %d members opted in; the demo has members who did not", o.OptedIn, o.Members)
			}
			days := 0
			for _, d := range o.NewByDay {
				if d.Total > 0 {
					days++
				}
			}
			if days < 7 {
				t.Errorf("members joined on %d of the last 14 days, want a spread", days)
			}
		})

		t.Run("campaign reports come out of the figures", func(t *testing.T) {
			for _, c := range []struct {
				name     string
				id       string
				messages bool
			}{{"live", s.Live, true}, {"ended", s.Ended, true}, {"scheduled", s.Scheduled, false}} {
				r, err := reports.Campaign(ctx, c.id, report.Options{})
				if err != nil {
					t.Fatal(err)
				}
				f, err := figures.CampaignFigures(ctx, db.R, c.id)
				if err != nil {
					t.Fatal(err)
				}
				if got := (figures.Campaign{Redemptions: r.Redemptions, RedeemingMembers: r.RedeemingMembers, Discount: r.DiscountGiven,
					Points: r.PointsGiven}); got != f {
					t.Errorf("%s: report shows %+v, the figures are %+v", c.name, got, f)
				}
				if !c.messages {
					if r.Redemptions != 0 || r.Messages.Total != 0 {
						t.Errorf("%s: %d redemptions and %d messages before its start", c.name, r.Redemptions, r.Messages.Total)
					}
					continue
				}
				if r.Redemptions == 0 || r.DiscountGiven == 0 || r.Revenue == 0 || r.Messages.Sent == 0 || r.Messages.Delivered == 0 ||
					r.Clicks == 0 || r.UniqueClickers == 0 {
					t.Errorf("%s: %d redemptions, %d discount, %d revenue, %d sent, %d delivered, %d clicks by %d: want all above 0",
						c.name, r.Redemptions, r.DiscountGiven, r.Revenue, r.Messages.Sent, r.Messages.Delivered, r.Clicks, r.UniqueClickers)
				}
			}
			live, err := reports.Campaign(ctx, s.Live, report.Options{})
			if err != nil {
				t.Fatal(err)
			}
			// Who is in the control group depends on the campaign's id, which
			// is random: the demo's figures below do not.
			if live.PointsGiven == 0 || live.Uplift.Treated.Members == 0 {
				t.Errorf("live: %d points given, %d members treated: want both above 0", live.PointsGiven, live.Uplift.Treated.Members)
			}
		})

		t.Run("messages in every delivery state", func(t *testing.T) {
			for _, q := range []struct{ what, where string }{
				{"delivered", `status = 'sent' AND delivery_state = 'delivered'`},
				{"undelivered", `status = 'sent' AND delivery_state = 'failed'`},
				{"refused by the gateway", `status = 'failed'`},
			} {
				var n int
				if err := db.R.QueryRow(`SELECT COUNT(*) FROM sms_outbox WHERE ` + q.where).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n == 0 {
					t.Errorf("no message %s", q.what)
				}
			}
			var queued int
			if err := db.R.QueryRow(`SELECT COUNT(*) FROM sms_outbox WHERE status IN ('queued', 'sending')`).Scan(&queued); err != nil {
				t.Fatal(err)
			}
			if queued != 0 {
				t.Errorf("%d messages still queued: the demo's history should be settled", queued)
			}
		})

		t.Run("a return and a void", func(t *testing.T) {
			var returns, voids int
			if err := db.R.QueryRow(`SELECT (SELECT COUNT(*) FROM basket_returns), (SELECT COUNT(*) FROM baskets WHERE status = 'voided')`).
				Scan(&returns, &voids); err != nil {
				t.Fatal(err)
			}
			if returns != 1 || voids != 1 {
				t.Errorf("%d returns and %d voids, want 1 and 1", returns, voids)
			}
		})

		t.Run("the featured member has a history", func(t *testing.T) {
			h, err := reports.MemberHistory(ctx, s.Featured, report.HistoryQuery{Limit: report.MaxHistoryLimit})
			if err != nil {
				t.Fatal(err)
			}
			kinds := map[string]int{}
			for _, e := range h.Events {
				kinds[e.Kind]++
			}
			for _, k := range []string{report.EventEnrolled, report.EventMessageOut, report.EventPurchase, report.EventRedemption,
				report.EventLinkClick, report.EventCardVisit} {
				if kinds[k] == 0 {
					t.Errorf("history has no %s: %v", k, kinds)
				}
			}
			b, err := ledger.New(db, ledger.Policy{}, fixed).Balance(ctx, s.Featured)
			if err != nil {
				t.Fatal(err)
			}
			if b.Lifetime == 0 {
				t.Errorf("featured member has earned no points: %+v", b)
			}
		})

		t.Run("a second seed leaves the database alone", func(t *testing.T) {
			again, err := demo.Seed(ctx, db, auth.NewService(db, fixed), demo.Options{Now: now})
			if err != nil || again != nil {
				t.Fatalf("second seed = %+v, %v; want nil, nil", again, err)
			}
		})
	})
}

// TestSeed_SameEveryTime: two demos seeded at the same moment hold the same
// trade. (Who falls in a control group depends on the campaign's random
// id, so discounts may differ; what was bought, when and where does not.)
func TestSeed_SameEveryTime(t *testing.T) {
	type trade struct {
		baskets, lines, units, gross, members int64
		first, last                           time.Time
	}
	read := func(db *store.DB) trade {
		var tr trade
		err := db.R.QueryRow(`SELECT COUNT(DISTINCT b.id), COUNT(*), SUM(l.quantity), SUM(l.quantity * l.unit_price), COUNT(DISTINCT b.member_id)
			FROM baskets b JOIN basket_lines l ON l.basket_id = b.id`).Scan(&tr.baskets, &tr.lines, &tr.units, &tr.gross, &tr.members)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []struct {
			order string
			at    *time.Time
		}{{"ASC", &tr.first}, {"DESC", &tr.last}} {
			if err := db.R.QueryRow(`SELECT created_at FROM baskets ORDER BY created_at ` + q.order + ` LIMIT 1`).Scan(q.at); err != nil {
				t.Fatal(err)
			}
		}
		tr.first, tr.last = tr.first.UTC(), tr.last.UTC()
		return tr
	}
	a, b := storetest.SQLite(t), storetest.SQLite(t)
	seed(t, a)
	seed(t, b)
	ta, tb := read(a), read(b)
	if ta != tb {
		t.Errorf("two demos differ:\n%+v\n%+v", ta, tb)
	}
	if !ta.last.Before(now) || ta.first.After(now.AddDate(0, 0, -27)) {
		t.Errorf("baskets from %s to %s, want four weeks up to %s", ta.first, ta.last, now)
	}
}

// TestSeed_UnderTheServersSettings: perk serve --demo seeds with the
// server's own settings, so a programme configured otherwise still starts
// with the same trade.
func TestSeed_UnderTheServersSettings(t *testing.T) {
	want := seed(t, storetest.SQLite(t)).Baskets
	for _, c := range []struct {
		name   string
		change func(o *demo.Options)
	}{
		{"yen, and points worth more than a basket", func(o *demo.Options) {
			o.Checkout = checkout.Options{Currency: "JPY", BaseEarn: 1, MinorPerUnit: 1}
			o.Points.RedeemPoints, o.Points.RedeemValue = 1, 1000
		}},
		{"points spendable at once and expiring in a week", func(o *demo.Options) {
			o.Points.PendingFor, o.Points.ExpireAfter = 0, 7*24*time.Hour
		}},
		{"an hour a day for marketing and one message a fortnight", func(o *demo.Options) {
			p, err := policy.New(policy.Config{Window: policy.Window{Start: 9 * 60, End: 10 * 60}, Cap: policy.Cap{N: 1, Per: 14 * 24 * time.Hour},
				DefaultZone: "Europe/London"})
			if err != nil {
				t.Fatal(err)
			}
			o.Contact = p
		}},
		{"a programme in Tokyo", func(o *demo.Options) { o.Campaigns.Zone = mustZone("Asia/Tokyo") }},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := options()
			c.change(&o)
			if got := seedWith(t, storetest.SQLite(t), o).Baskets; got != want {
				t.Errorf("%d baskets, want the %d of the default settings", got, want)
			}
		})
	}
}
