package checkout_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/testenv"
)

func TestMetrics_CommitsAreCountedByOutcomeWithTheirRetries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db, defaultPolicy)
		ann, bob := w.enrol(t, phoneN(1)), w.enrol(t, phoneN(2))
		// £3 off with a £3 budget: the first redemption ends it.
		w.launch(t, campaign.Spec{Name: "Last one", Benefits: []engine.Benefit{{Kind: engine.AmountOff, Amount: 300}},
			Limits: campaign.Limits{Budget: 300}})

		// A second instance's till, whose cached campaigns are about to go stale.
		reg := prometheus.NewRegistry()
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		camps := campaign.NewService(db, campaign.Options{Zone: time.UTC, PublicURL: "https://perk.test", Now: w.clock.Now, Log: log})
		till := checkout.NewService(db, w.members, camps, w.ledger, checkout.Options{Currency: "GBP", BaseEarn: 1, Now: w.clock.Now,
			Log: log, Metrics: reg})
		if _, err := till.Evaluate(ctx, basket(string(bob.Code), "", item(1, "A", 1, 1000)), false); err != nil {
			t.Fatal(err)
		}
		if _, err := w.checkout.Commit(ctx, basket(string(ann.Code), "T-ann", item(1, "A", 1, 1000))); err != nil {
			t.Fatal(err) // spends the budget through the first instance
		}

		bobs := basket(string(bob.Code), "T-bob", item(1, "A", 1, 1000))
		other := basket(string(bob.Code), "T-bob", item(1, "B", 2, 1000))
		euros := basket(string(bob.Code), "T-eur", item(1, "A", 1, 1000))
		euros.Currency = "EUR"
		steps := []struct {
			name string
			req  *checkout.Request
			ok   bool
		}{
			{"a commit whose cached budget was spent meanwhile retries without it", bobs, true},
			{"the same request again is answered from the stored basket", bobs, true},
			{"the same transaction id with another basket is a conflict", other, false},
			{"a basket in another currency is rejected", euros, false},
		}
		for _, st := range steps {
			if _, err := till.Commit(ctx, st.req); (err == nil) != st.ok {
				t.Fatalf("%s: err = %v", st.name, err)
			}
		}
		got := testenv.Gather(t, reg)
		for series, want := range map[string]float64{
			`perk_checkout_commits_total{outcome="committed"}`: 1,
			`perk_checkout_commits_total{outcome="replayed"}`:  1,
			`perk_checkout_commits_total{outcome="conflict"}`:  1,
			`perk_checkout_commits_total{outcome="rejected"}`:  1,
			`perk_checkout_commits_total{outcome="error"}`:     0,
			`perk_checkout_commit_retries_total`:               1,
		} {
			if g, ok := got[series]; !ok || g != want {
				t.Errorf("%s = %v (present %v), want %v", series, g, ok, want)
			}
		}
	})
}
