// Package demo seeds a small demo retailer (stores, products, members and an
// admin API key) so that a newcomer running "perk serve --demo" sees a
// working programme at once. It only ever writes into an empty database.
package demo

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/id"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/store"
)

var stores = []struct{ id, name, tz string }{
	{"S001", "Perk Market Covent Garden", "Europe/London"},
	{"S002", "Perk Market Manchester", "Europe/London"},
	{"S003", "Perk Express Leeds Station", "Europe/London"},
}

var products = []struct {
	sku, name, cats string
	price           int64 // pence
}{
	{"5000001", "Flat white", `["coffee","hot-drinks"]`, 320},
	{"5000002", "Croissant", `["bakery"]`, 185},
	{"5000003", "Sourdough loaf", `["bakery"]`, 450},
	{"5000004", "Orange juice 1l", `["drinks"]`, 299},
	{"5000005", "Free-range eggs x6", `["dairy-eggs"]`, 260},
	{"5000006", "Cheddar 400g", `["dairy-eggs","cheese"]`, 425},
	{"5000007", "Bananas x5", `["fruit"]`, 110},
	{"5000008", "Dark chocolate 100g", `["confectionery"]`, 199},
}

// Members use Ofcom's drama range, which can never reach a real phone.
var members = []member.Profile{
	{Phone: "07700 900001", FirstName: "Ann", LastName: "Lee", HomeStore: "S001", Tags: []string{"coffee"}},
	{Phone: "07700 900002", FirstName: "Bilal", LastName: "Khan", HomeStore: "S002"},
	{Phone: "07700 900003", FirstName: "Chloé", LastName: "Martin", HomeStore: "S001", Attributes: map[string]string{"tier": "gold"}},
	{Phone: "07700 900004", FirstName: "Dmitri", LastName: "Ivanov", HomeStore: "S003"},
	{Phone: "07700 900005", FirstName: "Eilidh", LastName: "Campbell", HomeStore: "S002", Tags: []string{"bakery", "vip"}},
}

// Seed fills an empty database with the demo retailer and logs the card
// links and an admin key. A database that already has stores is left alone.
func Seed(ctx context.Context, db *store.DB, ms *member.Service, keys *auth.Service, log *slog.Logger) error {
	var n int
	if err := db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM stores`).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		log.Info("demo data already present")
		return nil
	}
	now := time.Now().UTC()
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		for _, s := range stores {
			if _, err := tx.ExecContext(ctx, `INSERT INTO stores (id, name, timezone, created_at) VALUES ($1, $2, $3, $4)`,
				s.id, s.name, s.tz, now); err != nil {
				return err
			}
		}
		for _, p := range products {
			if _, err := tx.ExecContext(ctx, `INSERT INTO products (sku, name, categories, price, currency) VALUES ($1, $2, $3, $4, 'GBP')`,
				p.sku, p.name, p.cats, p.price); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("seed stores and products: %w", err)
	}
	for _, p := range members {
		e, err := ms.Enrol(ctx, member.EnrolRequest{Profile: p, Channel: member.ChannelAPI, Source: "demo", Consent: true})
		if err != nil {
			return fmt.Errorf("seed member: %w", err)
		}
		log.Info("demo member", "name", e.Member.Name(), "code", e.Member.Code, "card", ms.CardURL(e.CardToken))
	}
	secret, _, err := keys.Create(ctx, auth.RoleAdmin, "", "demo admin")
	if err != nil {
		return err
	}
	log.Warn("demo admin API key (demo only: revoke it before real use)", "key", secret)
	// A random password, shown once, so the demo's dashboard opens without
	// a fixed credential anyone could read in the source.
	password := id.Token(12)
	if _, err := keys.CreateOperator(ctx, "demo@perk.example", "Demo manager", auth.RoleAdmin, password); err != nil {
		return fmt.Errorf("demo operator: %w", err)
	}
	log.Warn("demo operator for /manage (demo only)", "email", "demo@perk.example", "password", password)
	return nil
}
