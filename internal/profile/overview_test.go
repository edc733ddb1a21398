package profile_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/profile"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestGridAndMovement: the grid places every scored member in the cell of
// their R and FM with the average of their monetary values, and the first
// refresh of a month keeps the previous month's segments, against which the
// movement counts who changed.
func TestGridAndMovement(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db, profile.Options{})
		var ms []*member.Member
		for i := range 5 {
			ms = append(ms, w.enrol(t, 400+i))
		}
		for i, m := range ms {
			for k := 0; k <= i; k++ {
				w.clock.Set(t0.Add(time.Duration(i*24+k) * time.Hour))
				w.commit(t, "S1", m, fmt.Sprintf("N%d-%d", i, k), item(1, "BREAD", 1, int64(100*(i+1))))
			}
		}
		w.clock.Set(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))
		w.refresh(t)
		nov := map[string]profile.Segment{}
		for _, m := range ms {
			nov[m.ID] = w.get(t, m).Segment
		}
		if mv, err := profile.Movements(ctx, db); err != nil || mv.Month != "" || len(mv.Moves) != 0 {
			t.Errorf("movement before any month ended: %+v, %v; want none", mv, err)
		}

		// December: member 0 comes back three times.
		w.clock.Set(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
		for k := range 8 {
			w.commit(t, "S2", ms[0], fmt.Sprintf("D%d", k), item(1, "COFFEE", 3, 400))
		}
		res := w.refresh(t)
		if res.Snapshot != "2026-11" {
			t.Errorf("December's first refresh kept %q, want 2026-11", res.Snapshot)
		}
		cells, err := profile.Grid(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		type agg struct{ n, sum int64 }
		want := map[[2]int]*agg{}
		moves := map[[2]profile.Segment]int64{}
		for _, m := range ms {
			p := w.get(t, m)
			k := [2]int{p.R, profile.FM(p.F, p.M)}
			if want[k] == nil {
				want[k] = &agg{}
			}
			want[k].n++
			want[k].sum += p.Monetary
			if p.Segment != nov[m.ID] {
				moves[[2]profile.Segment{nov[m.ID], p.Segment}]++
			}
		}
		if len(cells) != 25 {
			t.Fatalf("grid has %d cells, want 25", len(cells))
		}
		for _, c := range cells {
			a := want[[2]int{c.R, c.FM}]
			if a == nil {
				a = &agg{}
			}
			avg := int64(0)
			if a.n > 0 {
				avg = a.sum / a.n
			}
			if c.Members != a.n || c.AvgMonetary != avg || c.Segment != profile.SegmentOf(c.R, c.FM, c.FM) {
				t.Errorf("cell R%d FM%d = %+v, want %d members averaging %d", c.R, c.FM, c, a.n, avg)
			}
		}
		mv, err := profile.Movements(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if mv.Month != "2026-11" || len(moves) == 0 {
			t.Fatalf("movement %+v against %v: nobody moved, the test shows nothing", mv, moves)
		}
		got := map[[2]profile.Segment]int64{}
		for _, m := range mv.Moves {
			got[[2]profile.Segment{m.From, m.To}] = m.Members
		}
		if fmt.Sprint(got) != fmt.Sprint(moves) {
			t.Errorf("movement %v, want %v", got, moves)
		}
	})
}
