package batch_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/barcode"
	"github.com/perk-platform/perk/internal/batch"
	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/report"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/testenv"
	"github.com/perk-platform/perk/internal/web"
)

// start is when every world's programme begins.
var start = time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)

// world is a programme with two stores, members, campaigns and the
// services, over one database.
type world struct {
	t         testing.TB
	db        *store.DB
	clock     *testenv.Clock
	members   *member.Service
	campaigns *campaign.Service
	ledger    *ledger.Ledger
	checkout  *checkout.Service
	batch     *batch.Processor
	exporter  *batch.Exporter
	reports   *report.Service
	phones    []string
	codes     []string
	camps     map[string]*campaign.Campaign // by name
}

func newWorld(t testing.TB, db *store.DB) *world {
	t.Helper()
	c := testenv.NewClock(start)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	w := &world{t: t, db: db, clock: c, camps: map[string]*campaign.Campaign{}}
	w.members = member.NewService(db, member.Options{Region: "GB", PublicURL: "https://perk.test", Programme: "Test Rewards", Now: c.Now, Log: log})
	w.campaigns = campaign.NewService(db, campaign.Options{Zone: time.UTC, PublicURL: "https://perk.test", Programme: "Test Rewards", Now: c.Now, Log: log})
	w.ledger = ledger.New(db, ledger.Policy{RedeemPoints: 1, RedeemValue: 1}, c.Now)
	w.checkout = checkout.NewService(db, w.members, w.campaigns, w.ledger, checkout.Options{Currency: "GBP", BaseEarn: 1, Now: c.Now, Log: log})
	w.batch = batch.NewProcessor(w.checkout, batch.Options{Now: c.Now, Log: log, DB: db})
	w.exporter = batch.NewExporter(db, w.campaigns, ledger.Policy{RedeemPoints: 1, RedeemValue: 1}, c.Now)
	w.reports = report.NewService(db, w.campaigns, c.Now)
	if _, err := db.W.Exec(`INSERT INTO stores (id, name, timezone, created_at) VALUES ('S1', 'High Street', 'Europe/London', $1),
		('S2', 'Station', 'Europe/London', $1)`, c.Now()); err != nil {
		t.Fatal(err)
	}
	return w
}

// seed enrols n members and launches the standard campaigns (or specs),
// the same in every world.
func (w *world) seed(n int, specs ...campaign.Spec) {
	w.t.Helper()
	ctx := context.Background()
	for i := range n {
		ph := shopperPhone(i)
		e, err := w.members.Enrol(ctx, member.EnrolRequest{Profile: member.Profile{Phone: ph, FirstName: "Ann"}, Channel: member.ChannelAPI, Consent: true})
		if err != nil {
			w.t.Fatalf("enrol %s: %v", ph, err)
		}
		w.phones, w.codes = append(w.phones, ph), append(w.codes, string(e.Member.Code))
		// Ids begin with their millisecond, so ids made a second apart
		// sort the same in every world (the live set is in id order).
		w.clock.Advance(time.Second)
	}
	if len(specs) == 0 {
		specs = standardCampaigns()
	}
	for _, spec := range specs {
		w.launch(spec)
		w.clock.Advance(time.Second)
	}
}

// shopperPhone is the phone number of the i-th member seed enrols.
func shopperPhone(i int) string { return fmt.Sprintf("+4477009%05d", i) }

func standardCampaigns() []campaign.Spec {
	return []campaign.Spec{
		{Name: "Coffee 20", Benefits: []engine.Benefit{{Kind: engine.PercentOff, Percent: 20, Scope: engine.Scope{SKUs: []string{"COF"}}}},
			Limits: campaign.Limits{PerMember: 4}},
		{Name: "Bakery points", Benefits: []engine.Benefit{{Kind: engine.PointsPerUnit, Points: 3, Scope: engine.Scope{Categories: []string{"bakery"}}}}},
		{Name: "Pound off a tenner", Audience: campaign.Audience{Kind: campaign.AudienceOpen},
			Benefits:   []engine.Benefit{{Kind: engine.AmountOff, Amount: 100}},
			Conditions: engine.Conditions{MinBasket: 1000}, Limits: campaign.Limits{Budget: 2500}},
		{Name: "Daily wine", Benefits: []engine.Benefit{{Kind: engine.AmountOff, Amount: 150, Scope: engine.Scope{SKUs: []string{"WINE"}}}},
			Limits: campaign.Limits{PerPeriod: 1, Period: "day"}},
	}
}

// launch creates and launches a campaign running from an hour ago for 30 days.
func (w *world) launch(spec campaign.Spec) *campaign.Campaign {
	w.t.Helper()
	now := w.clock.Now()
	if spec.Start == "" {
		spec.Start = now.Add(-time.Hour).Format(time.RFC3339)
	}
	if spec.End == "" {
		spec.End = now.Add(30 * 24 * time.Hour).Format(time.RFC3339)
	}
	if spec.Audience.Kind == "" {
		spec.Audience.Kind = campaign.AudienceAll
	}
	ctx := context.Background()
	c, err := w.campaigns.Create(ctx, spec)
	if err != nil {
		w.t.Fatalf("create %s: %v", spec.Name, err)
	}
	if _, err := w.campaigns.Launch(ctx, c.ID); err != nil {
		w.t.Fatalf("launch %s: %v", spec.Name, err)
	}
	got, err := w.campaigns.Get(ctx, c.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	w.camps[spec.Name] = got
	return got
}

// serve starts the live API over the world and returns its URL and an
// admin key.
func (w *world) serve() (string, string) {
	w.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	jobs := member.NewJobs(w.members)
	opt := web.Options{Programme: "Test Rewards", Symbology: barcode.Code128, UploadDir: w.t.TempDir(), JoinPerMinute: 100, Log: log,
		Campaigns: w.campaigns, Ledger: w.ledger, Live: web.NewLive(), Reports: w.reports, Checkout: w.checkout, Now: w.clock.Now,
		LookupLimit: web.LookupLimit{Rate: 1e6, Burst: 1e6}}
	keys := auth.NewService(w.db, w.clock.Now)
	srv := httptest.NewServer(web.New(ctx, w.db, w.members, jobs, keys, opt).Handler())
	w.t.Cleanup(func() {
		srv.Close()
		cancel()
	})
	secret, _, err := keys.Create(ctx, auth.RoleAdmin, "", "test")
	if err != nil {
		w.t.Fatal(err)
	}
	return srv.URL, secret
}
