package campaign_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestLive_ReloadReusesUnchangedCampaignsAndSeesEveryChange: the live set
// is kept for two seconds; a reload takes up the counters of every row and
// another instance's edits, and recompiles only the campaigns whose spec
// changed; a change made through this instance is seen at once.
func TestLive_ReloadReusesUnchangedCampaignsAndSeesEveryChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		launch := func(s *campaign.Service, sp campaign.Spec) *campaign.Campaign {
			c, err := s.Create(ctx, sp)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Launch(ctx, c.ID); err != nil {
				t.Fatal(err)
			}
			return c
		}
		a, b := launch(f.campaigns, spec("A")), launch(f.campaigns, spec("B"))
		live := func() *campaign.LiveSet {
			t.Helper()
			set, err := f.campaigns.Live(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return set
		}
		first := live()
		if len(first.List) != 2 || first.Index == nil || first.Index.Len() != 2 || first.Pos[a.ID] == first.Pos[b.ID] {
			t.Fatalf("first set: %+v", first)
		}

		// Another instance edits B; a till's commit moves A's counter.
		other := campaign.NewService(db, campaign.Options{PublicURL: "https://perk.test", Programme: "Test", Now: f.clock.Now,
			Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		bc, err := other.Get(ctx, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		edited := bc.Spec
		edited.Benefits = []engine.Benefit{{Kind: engine.PercentOff, Percent: 25}}
		if _, err := other.Update(ctx, b.ID, edited, bc.Version); err != nil {
			t.Fatal(err)
		}
		if _, err := db.W.ExecContext(ctx, `INSERT INTO campaign_counter_shards (campaign_id, shard, redemptions_used) VALUES ($1, 0, 7)`, a.ID); err != nil {
			t.Fatal(err)
		}
		if got := live(); got != first {
			t.Fatal("the set was reloaded within its two seconds")
		}

		f.clock.t = f.clock.t.Add(3 * time.Second)
		second := live()
		switch {
		case second == first:
			t.Fatal("the set was not reloaded after two seconds")
		case second.ByID[a.ID].Compiled != first.ByID[a.ID].Compiled:
			t.Error("unchanged campaign A was compiled again")
		case second.ByID[a.ID].Redemptions != 7:
			t.Errorf("A's redemptions = %d, want its shards' 7", second.ByID[a.ID].Redemptions)
		case second.ByID[b.ID].Compiled == first.ByID[b.ID].Compiled:
			t.Error("edited campaign B kept its old compiled form")
		case second.ByID[b.ID].Compiled.Benefits[0].Percent != 25:
			t.Errorf("B's benefit = %+v, want 25%% off", second.ByID[b.ID].Compiled.Benefits[0])
		}

		if _, err := f.campaigns.Pause(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		if got := live().ByID[a.ID].Status; got != campaign.Paused {
			t.Fatalf("A's status after a pause here = %s, want paused at once", got)
		}
	})
}
