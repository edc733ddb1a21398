package profile_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/profile"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestRefresh_TillCommitsDuringARefresh commits a basket at the till from
// inside a refresh (the hook between two of its write transactions) and
// checks that the commit completes there, that the refresh still completes,
// and that the member, queued by that commit, is brought up to date by the
// next drain. On SQLite a refresh that kept the one writer for its whole run
// would leave the commit waiting on it: the commit's deadline turns that
// deadlock into a failure.
func TestRefresh_TillCommitsDuringARefresh(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db, profile.Options{})
		var ms []*member.Member
		for i := range 9 {
			m := w.enrol(t, 300+i)
			ms = append(ms, m)
			w.commit(t, "S1", m, fmt.Sprintf("A%d", i), item(1, "BREAD", 1, 200))
		}
		w.clock.Advance(time.Hour)
		calls, committed := 0, 0
		var commitErr, drainErr error
		var s *profile.Service
		hook := func() {
			calls++
			if calls != 2 { // after the first chunk of figures (SQLite), or after all the figures (PostgreSQL)
				return
			}
			// Later than the refresh's own time, as a real till is.
			w.clock.Advance(time.Minute)
			done := make(chan error, 1)
			go func() {
				_, err := w.checkout.Commit(ctx, &checkout.Request{Store: "S2", Terminal: "T1", Member: checkout.Key(string(ms[0].Code)),
					Currency: "GBP", Items: []checkout.Item{item(1, "COFFEE", 2, 300)}, TransactionID: "DURING"})
				done <- err
			}()
			// A guard against the deadlock, not a measure of speed: a
			// refresh holding the writer here would hold it forever.
			select {
			case commitErr = <-done:
				if commitErr == nil {
					committed++
				}
			case <-time.After(time.Minute):
				commitErr = errors.New("the commit did not complete: the refresh holds the writer")
			}
			// A drain now would take the member off the queue, and the
			// refresh would then write their profile again from history
			// up to its own time, without this basket: it waits, in this
			// process and (PostgreSQL's advisory lock) in another.
			drainers := []*profile.Service{s}
			if db.Dialect == store.Postgres {
				drainers = append(drainers, profile.NewService(db, profile.Options{Now: w.clock.Now}, nil))
			}
			for i, d := range drainers {
				if n, err := d.Drain(ctx); err != nil || n != 0 {
					drainErr = fmt.Errorf("drain %d during the refresh: %d members, %v; want none", i+1, n, err)
				}
			}
		}
		s = profile.NewService(db, profile.WithBetweenChunks(profile.Options{Now: w.clock.Now, RefreshChunk: 3}, hook), nil)
		res, err := s.Refresh(ctx)
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if commitErr != nil || committed != 1 {
			t.Fatalf("commit during the refresh: %d committed, err %v", committed, commitErr)
		}
		if drainErr != nil {
			t.Fatal(drainErr)
		}
		if res.Members != 9 || res.Scored != 9 {
			t.Errorf("refresh wrote %d profiles, scored %d; want 9 and 9", res.Members, res.Scored)
		}
		if n, err := s.Drain(ctx); err != nil || n != 1 {
			t.Fatalf("drain after the refresh: %d members, %v; want 1 (the member who bought during it)", n, err)
		}
		p, err := profile.GetAt(ctx, db, ms[0].ID, w.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if p.Frequency != 2 || p.Monetary != 800 {
			t.Errorf("member who bought during the refresh: frequency %d, monetary %d; want 2 and 800", p.Frequency, p.Monetary)
		}
	})
}

// TestRefresh_GeneratedHistoryEqualsRecomputation runs the refresh, in
// chunks of 37 members, over the benchmark's generated history (written by
// SQL straight into the tables: 300 members, 1,500 baskets, voids, returns,
// members without a basket) and checks every profile against the figures
// recomputed in Go from the rows read back plainly (recompute, the same
// independent definitions TestRefresh_EqualsAnIndependentRecomputation
// uses).
func TestRefresh_GeneratedHistoryEqualsRecomputation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
		generate(t, db, 300, now)
		opt := profile.Options{Window: profile.DefaultWindow, HalfLife: profile.DefaultHalfLife, TopN: profile.DefaultTopN,
			OverdueFactor: profile.DefaultOverdueFactor, RefreshChunk: 37, Now: func() time.Time { return now }}
		res, err := profile.NewService(db, opt, nil).Refresh(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ms, bs := readHistory(t, db)
		want := recompute(ms, bs, opt, now)
		if res.Members != int64(len(ms)) || res.Scored != int64(len(want.scored)) {
			t.Errorf("refresh wrote %d profiles and scored %d; want %d and %d", res.Members, res.Scored, len(ms), len(want.scored))
		}
		for _, m := range ms {
			got, err := profile.GetAt(ctx, db, m.ID, now)
			if err != nil {
				t.Fatal(err)
			}
			exp := want.profiles[m.ID]
			g := fmt.Sprint(tp(got.LastPurchase), got.Frequency, got.Monetary, got.R, got.F, got.M, got.Segment, got.PreferredStore,
				got.AverageBasket, got.VisitDays, got.UsualInterval, got.Overdue)
			e := fmt.Sprint(tp(exp.LastPurchase), exp.Frequency, exp.Monetary, exp.R, exp.F, exp.M, exp.Segment, exp.PreferredStore,
				exp.AverageBasket, exp.VisitDays, exp.UsualInterval, exp.Overdue)
			if g != e {
				t.Errorf("member %s: last, F, M, scores, segment, store, average, days, interval, overdue =\n  %s\nwant\n  %s", m.ID, g, e)
			}
			ok := len(got.Categories) == len(exp.Categories)
			for i := 0; ok && i < len(got.Categories); i++ {
				ok = got.Categories[i].Key == exp.Categories[i].Key && math.Abs(got.Categories[i].Share-exp.Categories[i].Share) < 1e-9
			}
			if !ok {
				t.Errorf("member %s: categories %v, want %v", m.ID, got.Categories, exp.Categories)
			}
		}
	})
}

// readHistory reads the members and baskets back as plain rows.
func readHistory(t *testing.T, db *store.DB) ([]*member.Member, []sold) {
	t.Helper()
	var ms []*member.Member
	byID := map[string]*member.Member{}
	rows, err := db.R.Query(`SELECT id FROM members ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		m := &member.Member{}
		if err := rows.Scan(&m.ID); err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
		byID[m.ID] = m
	}
	rows.Close()
	rows, err = db.R.Query(`SELECT b.id, b.member_id, b.store_id, b.created_at, b.status, l.categories, l.quantity, l.unit_price,
		l.returned_qty FROM baskets b JOIN basket_lines l ON l.basket_id = b.id ORDER BY b.id, l.line`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var bs []sold
	last := ""
	for rows.Next() {
		var id, mem, st, status, cats string
		var at time.Time
		var qty, back int
		var price int64
		if err := rows.Scan(&id, &mem, &st, &at, &status, &cats, &qty, &price, &back); err != nil {
			t.Fatal(err)
		}
		if id != last {
			bs = append(bs, sold{member: byID[mem], store: st, at: at.UTC(), voided: status == "voided"})
			last = id
		}
		b := &bs[len(bs)-1]
		it := checkout.Item{Line: len(b.lines) + 1, Quantity: qty, UnitPrice: price}
		if err := json.Unmarshal([]byte(cats), &it.Categories); err != nil {
			t.Fatal(err)
		}
		if back > 0 {
			if len(b.lines) != 0 {
				t.Fatalf("basket %s: a return on line %d; the recomputation takes returns on line 1 only", id, len(b.lines)+1)
			}
			b.back = back
		}
		b.lines = append(b.lines, it)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ms, bs
}

// TestRefresh_SQLiteMapsTheFileOnlyForItsRun checks that the SQLite refresh
// maps the database file while it runs (its history query reads pages in
// place) and puts the writer connection back to unmapped when it ends, after
// a failed refresh too, so the till's commits are as before.
func TestRefresh_SQLiteMapsTheFileOnlyForItsRun(t *testing.T) {
	for _, tc := range []struct {
		name string
		fail bool // the refresh fails after its first chunk
	}{{"completes", false}, {"fails", true}} {
		t.Run(tc.name, func(t *testing.T) {
			db := storetest.SQLite(t)
			ctx := context.Background()
			w := newWorld(t, db, profile.Options{})
			for i := range 4 {
				w.commit(t, "S1", w.enrol(t, 400+i), fmt.Sprintf("M%d", i), item(1, "BREAD", 1, 200))
			}
			mmap := func() int64 {
				var n int64
				if err := db.W.QueryRowContext(ctx, `PRAGMA mmap_size`).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			var during []int64
			hook := func() {
				during = append(during, mmap())
				if tc.fail && len(during) == 2 {
					// A refresh that fails midway: the profiles table is gone.
					if _, err := db.W.ExecContext(ctx, `ALTER TABLE member_profiles RENAME TO member_profiles_gone`); err != nil {
						t.Fatal(err)
					}
				}
			}
			s := profile.NewService(db, profile.WithBetweenChunks(profile.Options{Now: w.clock.Now, RefreshChunk: 2}, hook), nil)
			_, err := s.Refresh(ctx)
			if tc.fail != (err != nil) {
				t.Fatalf("refresh: err %v, want a failure: %v", err, tc.fail)
			}
			if len(during) < 2 {
				t.Fatalf("the hook ran %d times, want at least 2", len(during))
			}
			for i, n := range during {
				if n <= 0 {
					t.Errorf("mmap_size during the refresh, after write transaction %d: %d, want the file mapped", i+1, n)
				}
			}
			if n := mmap(); n != 0 {
				t.Errorf("mmap_size after the refresh: %d, want 0", n)
			}
		})
	}
}
