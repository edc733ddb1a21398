package crm_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/crm"
	"github.com/perk-platform/perk/internal/outfile"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestPrune_OldChangesGoAndACursorThatNeededThemIsRefused: pruning keeps the
// log to its retention; a cursor given after the pruned rows still reads on
// exactly, one given before them is refused as expired instead of silently
// skipping changes, and pruning everything old never moves the boundary
// back.
func TestPrune_OldChangesGoAndACursorThatNeededThemIsRefused(t *testing.T) {
	storetest.EachIsolated(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		day := 24 * time.Hour
		c0 := w.exportTo(t, "", outfile.CSV).manifest.Cursor
		w.enrol(t, "+447700900101", "CRM-1", "Ann")
		c1 := w.exportTo(t, c0, outfile.CSV).manifest.Cursor
		w.clk.Advance(40 * day)
		w.enrol(t, "+447700900102", "CRM-2", "Bob")
		w.clk.Advance(40 * day)
		w.enrol(t, "+447700900103", "CRM-3", "Cat")

		n, err := crm.Prune(ctx, db, w.clk.Now(), 60*day)
		if err != nil || n != 2 { // Ann's member and consent rows
			t.Fatalf("Prune: %d rows, %v; want Ann's 2", n, err)
		}
		if got := w.exportTo(t, c1, outfile.CSV).project("members", "first_name"); !slices.Equal(got, []string{"Bob", "Cat"}) {
			t.Errorf("from the cursor after Ann: %q, want Bob and Cat", got)
		}
		if got := w.exportTo(t, "", outfile.CSV).project("members", "first_name"); !slices.Equal(got, []string{"Bob", "Cat"}) {
			t.Errorf("from the beginning kept: %q, want Bob and Cat", got)
		}
		if _, err := w.export.Export(ctx, t.TempDir(), c0, outfile.CSV, time.Second); !errors.Is(err, crm.ErrCursorExpired) {
			t.Errorf("from the cursor before Ann: %v, want ErrCursorExpired", err)
		}

		// Everything is old now: all but the newest row go, and the next
		// export from the latest cursor reads nothing and stays put.
		latest := w.exportTo(t, c1, outfile.CSV).manifest.Cursor
		w.clk.Advance(100 * day)
		if n, err := crm.Prune(ctx, db, w.clk.Now(), 60*day); err != nil || n != 3 {
			t.Fatalf("second Prune: %d rows, %v; want 3 (the newest kept)", n, err)
		}
		again := w.exportTo(t, latest, outfile.CSV)
		for _, f := range again.manifest.Files {
			if f.Rows != 0 {
				t.Errorf("%s: %d rows after pruning, want none", f.Name, f.Rows)
			}
		}
		if db.Dialect == store.SQLite && again.manifest.Cursor != latest {
			t.Errorf("pruning moved the cursor from %s to %s", latest, again.manifest.Cursor)
		}
		w.enrol(t, "+447700900104", "CRM-4", "Dan")
		if got := w.exportTo(t, latest, outfile.CSV).project("members", "first_name"); !slices.Equal(got, []string{"Dan"}) {
			t.Errorf("after pruning, a new member: %q, want Dan", got)
		}
	})
}
