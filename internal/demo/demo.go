// Package demo seeds a living demo programme so that a newcomer running
// "perk serve --demo" sees it working at once: stores, products, a few dozen
// members, four weeks of baskets with redemptions, a return and a void,
// campaigns (one ended, one live, one scheduled, one draft), messages with
// their delivery states, clicks and card visits, an admin API key and an
// operator for /manage.
//
// The history is replayed through the real services (member enrolment,
// campaign launch, checkout commit, return and void, the SMS sender and its
// contact policy, tracked links) on a clock that walks through the past
// weeks, so every figure the dashboard shows comes out of the same paths as
// in production. Choices are drawn from a fixed seed: the demo looks the same
// every time. It only ever writes into an empty database.
package demo

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/catalogue"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/id"
	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/sms/policy"
	"github.com/perk-platform/perk/internal/store"
)

// Options are the settings the programme runs with, so that the seeded
// history reads as if the server had written it. Seed replaces their
// clocks, loggers and links with its own.
type Options struct {
	Members   member.Options
	Campaigns campaign.Options // Zone is also the zone of the history's days
	Points    ledger.Policy
	Checkout  checkout.Options
	// Contact is the SMS contact policy; nil uses the defaults of perk
	// serve (08:00-21:00, 3 a week).
	Contact *policy.Policy
	// Now is the end of the history; time.Now() if zero.
	Now time.Time
	Log *slog.Logger
}

// Operator is the /manage account the demo makes.
const Operator = "demo@perk.example"

// Seeded says what Seed made, for tests and the start-up log. It is nil
// when the database already had data.
type Seeded struct {
	Live, Ended, Scheduled, Draft string // campaign ids
	Featured                      string // the member whose history has a bit of everything
	FeaturedCard                  string // their card link
	APIKey, Password              string // the admin key and the operator's password, shown once
	Baskets                       int    // committed
}

// Seed fills an empty database with the demo programme and logs the card
// links, an admin key and the operator's password. A database that already
// has stores is left alone (nil, nil).
func Seed(ctx context.Context, db *store.DB, keys *auth.Service, opt Options) (*Seeded, error) {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	log := opt.Log
	var n int
	if err := db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM stores`).Scan(&n); err != nil {
		return nil, err
	}
	if n > 0 {
		log.Info("demo data already present")
		return nil, nil
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	if opt.Campaigns.Zone == nil {
		opt.Campaigns.Zone = time.UTC
	}
	if opt.Contact == nil {
		p, err := policy.New(policy.DefaultConfig())
		if err != nil {
			return nil, err
		}
		opt.Contact = p
	}
	began := time.Now()
	h := newHistory(opt.Now.UTC(), opt.Campaigns.Zone)
	w := newWorld(db, opt, h.day(-historyDays).Add(7*time.Hour))
	if err := seedCatalogue(ctx, db, w.clock.Now(), w.currency); err != nil {
		return nil, err
	}
	out := &Seeded{}
	h.plan(w, out)
	if err := w.run(ctx); err != nil {
		return nil, fmt.Errorf("demo history: %w", err)
	}
	out.Baskets = h.baskets
	log.Info("demo programme seeded", "members", len(people), "days", historyDays, "baskets", h.baskets, "took", time.Since(began).Round(time.Millisecond))
	log.Info("demo member", "name", people[0].first+" "+people[0].last, "card", out.FeaturedCard)

	secret, _, err := keys.Create(ctx, auth.RoleAdmin, "", "demo admin")
	if err != nil {
		return nil, err
	}
	out.APIKey = secret
	log.Warn("demo admin API key (demo only: revoke it before real use)", "key", secret)
	// A random password, shown once, so the demo's dashboard opens without
	// a fixed credential anyone could read in the source.
	out.Password = id.Token(12)
	if _, err := keys.CreateOperator(ctx, Operator, "Demo manager", auth.RoleAdmin, out.Password); err != nil {
		return nil, fmt.Errorf("demo operator: %w", err)
	}
	log.Warn("demo operator for /manage (demo only)", "email", Operator, "password", out.Password)
	return out, nil
}

// Regions, addresses and barcodes the demo's catalogue gives its stores and
// products, so the catalogue pages and a till scanning a barcode have
// something to show.
var (
	storeDetails = map[string][2]string{
		"S001": {"London", "1 Long Acre, London WC2E 9LH"},
		"S002": {"North West", "10 Market Street, Manchester M1 1PT"},
		"S003": {"Yorkshire", "Leeds Station, New Station Street, Leeds LS1 4DY"},
	}
	// loose cheddar is sold by the kilogram: a till sends
	// {"sku":"CHEDDAR-LOOSE","quantity":"0.750","unit_price":1899}.
	looseCheddar = catalogue.Product{SKU: "CHEDDAR-LOOSE", Name: "Mature cheddar, loose", Categories: []string{"cheese", "deli"},
		Unit: catalogue.Kilogram, Price: 1899}
)

func seedCatalogue(ctx context.Context, db *store.DB, now time.Time, currency string) error {
	cat := catalogue.New(db, catalogue.Options{Currency: currency, Now: func() time.Time { return now }})
	ss := make([]catalogue.Store, len(stores))
	for i, s := range stores {
		d := storeDetails[s.id]
		ss[i] = catalogue.Store{ID: s.id, Name: s.name, Timezone: s.tz, Region: d[0], Address: d[1]}
	}
	if err := cat.PutStores(ctx, ss); err != nil {
		return fmt.Errorf("seed stores: %w", err)
	}
	ps := make([]catalogue.Product, 0, len(products)+1)
	for i, p := range products {
		// A GTIN-13 in the retailer's own range, with its check digit.
		ps = append(ps, catalogue.Product{SKU: p.sku, Name: p.name, Categories: slices.Clone(p.cats), Price: p.price,
			Barcodes: []string{gtin13(fmt.Sprintf("501234500%03d", i+1))}})
	}
	ps = append(ps, looseCheddar)
	if errs, err := cat.PutProducts(ctx, ps); err != nil || len(errs) > 0 {
		return fmt.Errorf("seed products: %v %v", err, errs)
	}
	return nil
}

// gtin13 appends the GS1 check digit to 12 digits.
func gtin13(s string) string {
	sum := 0
	for i := range 12 {
		d := int(s[11-i] - '0')
		if i%2 == 0 {
			d *= 3
		}
		sum += d
	}
	return s + string(rune('0'+(10-sum%10)%10))
}
