package webhook_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/change"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/store"
)

// world is the domain services wired to a recorder as perk serve wires them
// to the webhooks, with store S1 and one launched campaign giving benefit.
type world struct {
	members *member.Service
	till    *checkout.Service
	queue   *sms.Queue
}

func newWorld(tb testing.TB, db *store.DB, rec change.Recorder, now func() time.Time, benefit engine.Benefit) *world {
	tb.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	members := member.NewService(db, member.Options{Region: "GB", PublicURL: "https://perk.test", Now: now, Log: log, Changes: rec})
	camps := campaign.NewService(db, campaign.Options{Zone: time.UTC, PublicURL: "https://perk.test", Now: now, Log: log})
	points := ledger.New(db, ledger.Policy{}, now)
	queue := sms.NewQueue(db, now, time.Minute, 5)
	if rec != nil {
		points.SetChanges(rec)
		queue.SetChanges(rec)
	}
	till := checkout.NewService(db, members, camps, points, checkout.Options{Currency: "GBP", BaseEarn: 1, Now: now, Log: log, Changes: rec})
	if _, err := db.W.Exec(`INSERT INTO stores (id, name, timezone, created_at) VALUES ('S1', 'High Street', 'Europe/London', $1)`, now().UTC()); err != nil {
		tb.Fatal(err)
	}
	c, err := camps.Create(ctx, campaign.Spec{Name: "Offer", Audience: campaign.Audience{Kind: campaign.AudienceAll},
		Start: now().Add(-time.Hour).Format(time.RFC3339), End: now().Add(24 * time.Hour).Format(time.RFC3339),
		Benefits: []engine.Benefit{benefit}})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := camps.Launch(ctx, c.ID); err != nil {
		tb.Fatal(err)
	}
	return &world{members: members, till: till, queue: queue}
}
