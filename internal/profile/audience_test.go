package profile_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/profile"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestAudience_FiltersOnTheStoredProfile: rfm_segment, affinity and overdue,
// written in a campaign file, select exactly the members whose stored
// profile says so.
func TestAudience_FiltersOnTheStoredProfile(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db, profile.Options{})
		// Ten members: baker i buys bread on days 0, 7, ... for i+1 weeks
		// and coffee once, so frequencies, recency and shares differ.
		var ms []*member.Member
		for i := range 10 {
			ms = append(ms, w.enrol(t, 200+i))
		}
		never := w.enrol(t, 299)
		type visit struct {
			at  time.Time
			m   *member.Member
			sku string
		}
		var vs []visit
		for i, m := range ms {
			for k := 0; k <= i; k++ {
				vs = append(vs, visit{t0.Add(time.Duration(7*k) * 24 * time.Hour), m, "BREAD"})
			}
			vs = append(vs, visit{t0.Add(time.Duration(7*i)*24*time.Hour + time.Hour), m, "COFFEE"})
		}
		slices.SortFunc(vs, func(a, b visit) int { return a.at.Compare(b.at) })
		for i, v := range vs {
			w.clock.Set(v.at)
			w.commit(t, "S1", v.m, fmt.Sprintf("V%d", i), item(1, v.sku, 1, 200))
		}
		w.clock.Set(t0.Add(90 * 24 * time.Hour))
		w.refresh(t)

		profiles := map[string]profile.Profile{}
		for _, m := range append(slices.Clone(ms), never) {
			profiles[m.ID] = w.get(t, m)
		}
		tests := []struct {
			name, filter string
			want         func(p profile.Profile) bool
		}{
			{"segments", "rfm_segment: [champions, loyal, hibernating]", func(p profile.Profile) bool {
				return p.Segment == profile.Champions || p.Segment == profile.Loyal || p.Segment == profile.Hibernating
			}},
			{"bakery at least 0.7", "affinity: {category: food/bakery, at_least: 0.7}", func(p profile.Profile) bool {
				return share(p.Categories, "food/bakery") >= 0.7
			}},
			{"Lavazza at least 0.3", "affinity: {brand: Lavazza, at_least: 0.3}", func(p profile.Profile) bool {
				return share(p.Brands, "Lavazza") >= 0.3
			}},
			{"overdue", "overdue: true", func(p profile.Profile) bool { return p.Overdue }},
			{"not overdue", "overdue: false", func(p profile.Profile) bool { return !p.Overdue }},
		}
		for i, tt := range tests {
			src := fmt.Sprintf("name: A%d\nstart: 2040-01-01\nend: 2040-02-01\naudience:\n  kind: filter\n  filter:\n    %s\nbenefits: [{kind: points_bonus, points: 10}]\n", i, tt.filter)
			specs, err := campaign.DecodeFile([]byte(src), time.UTC)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			c, err := w.campaigns.Create(ctx, specs[0].Spec)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			got, err := w.campaigns.Audience(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for id, p := range profiles {
				_, in := got[id] // the value says whether in the control group
				if in != tt.want(p) {
					t.Errorf("%s: member %s (%s, %+v overdue %v) in audience: %v, want %v", tt.name, id, p.Segment, p.Categories, p.Overdue, in, tt.want(p))
				}
				if in {
					n++
				}
			}
			// A filter that selects everyone or no one tests nothing.
			if n == 0 || n == len(profiles) {
				t.Errorf("%s selects %d of %d members: the data set does not tell it apart", tt.name, n, len(profiles))
			}
		}
		if _, err := campaign.DecodeFile([]byte("name: Bad\nstart: 2040-01-01\nend: 2040-02-01\naudience:\n  kind: filter\n  filter: {rfm_segment: [sleepy]}\nbenefits: [{kind: points_bonus, points: 10}]\n"), time.UTC); err == nil {
			t.Error("rfm_segment: [sleepy] was accepted")
		}
	})
}

func share(as []profile.Affinity, key string) float64 {
	for _, a := range as {
		if a.Key == key {
			return a.Share
		}
	}
	return 0
}
