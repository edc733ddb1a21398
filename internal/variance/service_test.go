package variance_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/report"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/variance"
)

type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

// TestCheck_StalledDeliveriesRaiseOneAlertUntilCleared drives a launched
// campaign with a target for deliveries through the monitor's passes:
// deliveries on target raise nothing; deliveries stopping turn the stage
// red and raise one alert, with its event in the stream; later passes do
// not raise it again; the buckets agree with the campaign report; and an
// alert whose departure is gone is cleared.
func TestCheck_StalledDeliveriesRaiseOneAlertUntilCleared(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := &clock{t: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		members := member.NewService(db, member.Options{Region: "GB", PublicURL: "https://perk.test", Programme: "Test", Now: clk.Now, Log: log})
		campaigns := campaign.NewService(db, campaign.Options{PublicURL: "https://perk.test", Programme: "Test", Now: clk.Now, Log: log})
		for i := range 400 {
			_, err := members.Enrol(ctx, member.EnrolRequest{Profile: member.Profile{Phone: fmt.Sprintf("+4477009%05d", i)}, Channel: member.ChannelAPI, Consent: true})
			if err != nil {
				t.Fatal(err)
			}
		}
		c, err := campaigns.Create(ctx, campaign.Spec{Name: "Stall", Start: "2026-11-23", End: "2026-11-26", TimeZone: "UTC",
			Audience: campaign.Audience{Kind: campaign.AudienceAll}, Message: "10% off",
			Benefits: []engine.Benefit{{Kind: engine.PercentOff, Percent: 10}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := campaigns.Launch(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		v := variance.NewService(db, campaigns, variance.Options{Now: clk.Now, Log: log})
		// 100 an hour over the first four hours.
		if err := v.SetTarget(ctx, c.ID, variance.Delivered, []variance.TargetPoint{{Hour: 3, Cumulative: 400}}); err != nil {
			t.Fatal(err)
		}
		deliver := func(n int, at time.Time) {
			t.Helper()
			res, err := db.W.Exec(`UPDATE sms_outbox SET status = 'sent', delivery_state = 'delivered', sent_at = $2, delivered_at = $2
				WHERE id IN (SELECT id FROM sms_outbox WHERE campaign_id = $1 AND status = 'queued' ORDER BY id LIMIT `+fmt.Sprint(n)+`)`, c.ID, at)
			if err != nil {
				t.Fatal(err)
			}
			if k, _ := res.RowsAffected(); k != int64(n) {
				t.Fatalf("delivered %d of %d", k, n)
			}
		}
		check := func(at time.Time) []variance.Alert {
			t.Helper()
			clk.t = at
			raised, err := v.Check(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			return raised
		}
		launch := clk.t
		deliver(100, launch.Add(10*time.Minute))
		deliver(100, launch.Add(70*time.Minute))
		if raised := check(launch.Add(2*time.Hour + time.Minute)); len(raised) != 0 {
			t.Fatalf("on target, raised %+v", raised)
		}
		// Hour 2 delivers nothing.
		raised := check(launch.Add(3*time.Hour + time.Minute))
		if len(raised) != 1 || raised[0].Stage != variance.Delivered || raised[0].Level != "red" {
			t.Fatalf("stalled: raised %+v", raised)
		}
		var events int
		db.R.QueryRow(`SELECT COUNT(*) FROM events WHERE type = 'campaign_variance' AND campaign = $1`, c.ID).Scan(&events)
		if events != 1 {
			t.Fatalf("%d variance events, want 1", events)
		}
		if again := check(launch.Add(3*time.Hour + 30*time.Minute)); len(again) != 0 {
			t.Fatalf("raised again: %+v", again)
		}
		view, err := v.View(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(view.Alerts) != 1 || view.Source != variance.SourceTarget || view.Stages[0].Worst != variance.Red {
			t.Fatalf("view: source %s, alerts %+v, stages %+v", view.Source, view.Alerts, view.Stages)
		}
		// One definition: the buckets' deliveries are the report's.
		rep, err := report.NewService(db, campaigns, clk.Now).Campaign(ctx, c.ID, report.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if view.Stages[0].Actual != float64(rep.Messages.Delivered) {
			t.Fatalf("variance counts %v delivered, the report %d", view.Stages[0].Actual, rep.Messages.Delivered)
		}
		// Deliveries catch up: the alert clears.
		deliver(200, launch.Add(3*time.Hour+40*time.Minute))
		check(launch.Add(4*time.Hour + time.Minute))
		open, err := v.OpenAlerts(ctx, c.ID)
		if err != nil || len(open) != 0 {
			t.Fatalf("open after catching up: %+v %v", open, err)
		}
	})
}

// TestRebuildNorms_LateChangesReachTheNorm: a comparable campaign's
// receipt recorded after its buckets were made final does not reach a live
// campaign's norm through the monitor's passes; the nightly rebuild (and
// perk variance rebuild) recounts it and learns the norm again.
func TestRebuildNorms_LateChangesReachTheNorm(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := &clock{t: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)}
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		members := member.NewService(db, member.Options{Region: "GB", PublicURL: "https://perk.test", Programme: "Test", Now: clk.Now, Log: log})
		campaigns := campaign.NewService(db, campaign.Options{PublicURL: "https://perk.test", Programme: "Test", Now: clk.Now, Log: log})
		for i := range 50 {
			if _, err := members.Enrol(ctx, member.EnrolRequest{Profile: member.Profile{Phone: fmt.Sprintf("+4477008%05d", i)}, Channel: member.ChannelAPI, Consent: true}); err != nil {
				t.Fatal(err)
			}
		}
		launch := func(name, start, end string) string {
			t.Helper()
			c, err := campaigns.Create(ctx, campaign.Spec{Name: name, Start: start, End: end, TimeZone: "UTC",
				Audience: campaign.Audience{Kind: campaign.AudienceAll}, Message: "10% off",
				Benefits: []engine.Benefit{{Kind: engine.PercentOff, Percent: 10}}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := campaigns.Launch(ctx, c.ID); err != nil {
				t.Fatal(err)
			}
			return c.ID
		}
		deliver := func(id string, n int, at time.Time) {
			t.Helper()
			_, err := db.W.Exec(`UPDATE sms_outbox SET status = 'sent', delivery_state = 'delivered', sent_at = $2, delivered_at = $2
				WHERE id IN (SELECT id FROM sms_outbox WHERE campaign_id = $1 AND status = 'queued' ORDER BY id LIMIT `+fmt.Sprint(n)+`)`, id, at)
			if err != nil {
				t.Fatal(err)
			}
		}
		past := launch("Past", "2026-11-02", "2026-11-03")
		pastLaunch := clk.t
		deliver(past, 40, pastLaunch.Add(10*time.Minute))

		clk.t = time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)
		live := launch("Live", "2026-11-10", "2026-11-13")
		v := variance.NewService(db, campaigns, variance.Options{Now: clk.Now, Log: log})
		expected := func() float64 {
			t.Helper()
			clk.t = time.Date(2026, 11, 10, 11, 1, 0, 0, time.UTC)
			if _, err := v.Check(ctx, live); err != nil {
				t.Fatal(err)
			}
			view, err := v.View(ctx, live)
			if err != nil {
				t.Fatal(err)
			}
			if view.Source != variance.SourceHistory || len(view.Basis) != 1 || view.Basis[0] != past {
				t.Fatalf("norm from %s %v, want history from %s", view.Source, view.Basis, past)
			}
			for _, st := range view.Stages {
				if st.Stage == variance.Delivered {
					return st.Expected / float64(view.Audience)
				}
			}
			t.Fatalf("no delivered stage in %+v", view.Stages)
			return 0
		}
		before := expected()
		// Ten receipts of the past campaign's launch hour, recorded a week late.
		deliver(past, 10, pastLaunch.Add(20*time.Minute))
		if got := expected(); got != before {
			t.Fatalf("the monitor's pass moved the norm from %v to %v: it should not recount an ended campaign", before, got)
		}
		r, err := v.RebuildNorms(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if r.Campaigns != 1 || r.Comparables != 1 {
			t.Fatalf("rebuilt %+v, want the live campaign from its one comparable", r)
		}
		if got, want := expected(), before*50/40; math.Abs(got-want) > 1e-9 {
			t.Fatalf("delivered per member after the rebuild %v, want %v (before %v)", got, want, before)
		}
	})
}
