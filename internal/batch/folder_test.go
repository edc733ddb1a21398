package batch_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/batch"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestFolder_InboxToProcessedOrFailed_AndScheduledExports: a file is taken
// once its size is steady, its results and errors go to outbox/ and it moves
// to processed/; a file that cannot be read moves to failed/ with its
// reason; the daily offer export appears in outbox/ when its time comes.
func TestFolder_InboxToProcessedOrFailed_AndScheduledExports(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		w.seed(2)
		jobs := batch.NewJobs(w.db, w.batch, w.exporter, t.TempDir(), w.clock.Now, nil)
		sched, err := batch.ParseSchedule("daily 05:00", time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		f, err := batch.NewFolder(jobs, dir, batch.FolderOptions{Schedule: sched, Now: w.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		good := "transaction_id,store,member,sku,quantity,unit_price\nT1,S1," + w.phones[0] + ",COF,1,250\nT2,S1,,X,two,100\n"
		write(t, filepath.Join(dir, "inbox", "tills.csv"), good)
		write(t, filepath.Join(dir, "inbox", "broken.csv"), "who,what\n1,2\n")
		if err := f.Scan(ctx); err != nil {
			t.Fatal(err)
		}
		if got := names(t, dir, "processed"); len(got) != 0 {
			t.Fatalf("taken at the first sight: %v", got)
		}
		if err := f.Scan(ctx); err != nil {
			t.Fatal(err)
		}
		if got := names(t, dir, "inbox"); len(got) != 0 {
			t.Errorf("inbox still holds %v", got)
		}
		if got := names(t, dir, "processed"); !slices.Equal(got, []string{"tills.csv"}) {
			t.Errorf("processed/ = %v", got)
		}
		if got := names(t, dir, "failed"); !slices.Equal(got, []string{"broken.csv", "broken.csv.reason.txt"}) {
			t.Errorf("failed/ = %v", got)
		}
		reason, _ := os.ReadFile(filepath.Join(dir, "failed", "broken.csv.reason.txt"))
		if !strings.Contains(string(reason), `"transaction_id"`) {
			t.Errorf("reason = %q", reason)
		}
		errs, _ := os.ReadFile(filepath.Join(dir, "outbox", "tills.errors.csv"))
		if !strings.Contains(string(errs), `3,quantity,"""two"" is not a number"`) {
			t.Errorf("outbox errors file = %q", errs)
		}
		if got := names(t, dir, "outbox"); !slices.Equal(got, []string{"tills.errors.csv", "tills.results.csv"}) {
			t.Errorf("outbox/ = %v", got)
		}
		list, err := jobs.List(ctx, 10)
		if err != nil || len(list) != 2 {
			t.Fatalf("jobs %v %v", list, err)
		}

		// 08:00 now: the next export is tomorrow at 05:00.
		if err := f.ExportIfDue(ctx); err != nil {
			t.Fatal(err)
		}
		if slices.Contains(names(t, dir, "outbox"), "manifest-all.json") {
			t.Error("exported before its time")
		}
		w.clock.Set(time.Date(2026, 11, 24, 5, 0, 0, 0, time.UTC))
		if err := f.ExportIfDue(ctx); err != nil {
			t.Fatal(err)
		}
		if got := names(t, dir, "outbox"); !slices.Contains(got, "manifest-all.json") || !slices.Contains(got, "offers-all.csv") {
			t.Errorf("outbox/ after 05:00 = %v", got)
		}
	})
}

func TestSchedule_Next(t *testing.T) {
	london, _ := time.LoadLocation("Europe/London")
	s, err := batch.ParseSchedule("daily 05:00", london)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ now, want time.Time }{
		{time.Date(2026, 7, 1, 3, 0, 0, 0, time.UTC), time.Date(2026, 7, 1, 4, 0, 0, 0, time.UTC)},   // BST: 05:00 is 04:00 UTC
		{time.Date(2026, 7, 1, 4, 0, 0, 0, time.UTC), time.Date(2026, 7, 2, 4, 0, 0, 0, time.UTC)},   // at it: the next day
		{time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC), time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC)}, // GMT
	}
	for _, tt := range tests {
		if got := s.Next(tt.now); !got.Equal(tt.want) {
			t.Errorf("Next(%v) = %v, want %v", tt.now, got, tt.want)
		}
	}
	for _, bad := range []string{"weekly 05:00", "daily 5", "daily 24:00", ""} {
		if _, err := batch.ParseSchedule(bad, nil); err == nil {
			t.Errorf("ParseSchedule(%q) accepted", bad)
		}
	}
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func names(t *testing.T, dir, sub string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, sub))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			out = append(out, e.Name())
		}
	}
	return out
}
