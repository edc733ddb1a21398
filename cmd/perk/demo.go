package main

import (
	"context"
	"log/slog"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/demo"
	"github.com/perk-platform/perk/internal/store"
)

// seedDemo seeds the demo programme with the settings perk serve runs with,
// so its history reads as the server's own.
func (c *Config) seedDemo(ctx context.Context, db *store.DB, keys *auth.Service, log *slog.Logger) error {
	o, err := c.loyaltyOptions()
	if err != nil {
		return err
	}
	contact, _, err := c.contactPolicy()
	if err != nil {
		return err
	}
	_, err = demo.Seed(ctx, db, keys, demo.Options{Members: c.memberOptions(log), Campaigns: o.campaigns, Points: o.points,
		Checkout: o.checkout, Contact: contact, Log: log})
	return err
}
