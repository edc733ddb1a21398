package member_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/perk-platform/perk/internal/job"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/tabular"
)

// TestImport_ResumedFromItsLastCursorCountsEveryRowOnce interrupts an
// import inside a chunk's transaction (as a crash would: the chunk rolls
// back) and resumes it from the last cursor committed: the counts, the
// rejected rows and the members are those of an uninterrupted import.
func TestImport_ResumedFromItsLastCursorCountsEveryRowOnce(t *testing.T) {
	var b strings.Builder
	b.WriteString("phone,first_name,consent\n")
	for i := range 2000 {
		phone := fmt.Sprintf("07400 %06d", i)
		if i%100 == 7 {
			phone = "nope"
		}
		fmt.Fprintf(&b, "%s,Ann%d,yes\n", phone, i)
	}
	file := b.String()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, _ := newService(t, db)
		ctx := context.Background()
		crash := errors.New("killed")
		var last member.ImportCursor
		var rejected []int
		checkpoints := 0
		record := func(ctx context.Context, tx *sql.Tx, c member.ImportCursor, es []*tabular.RowError) error {
			if checkpoints++; checkpoints == 3 {
				return crash
			}
			last = c
			for _, e := range es {
				rejected = append(rejected, e.Row)
			}
			return nil
		}
		_, err := s.Import(ctx, strings.NewReader(file), member.ImportOptions{BatchSize: 300, Checkpoint: record})
		if !errors.Is(err, crash) || last.Row == 0 {
			t.Fatalf("interrupted import: %v, cursor %+v", err, last)
		}
		st, err := s.Import(ctx, strings.NewReader(file), member.ImportOptions{BatchSize: 300, Checkpoint: record, Resume: &last})
		if err != nil {
			t.Fatal(err)
		}
		want := member.ImportStats{Rows: 2000, Created: 1980, Rejected: 20}
		if st != want || last.Stats != want {
			t.Fatalf("resumed import counted %+v (last cursor %+v), want %+v", st, last.Stats, want)
		}
		seen := map[int]bool{}
		for _, r := range rejected {
			if seen[r] {
				t.Fatalf("row %d rejected twice", r)
			}
			seen[r] = true
		}
		var members, welcomes int
		db.R.QueryRow(`SELECT COUNT(*) FROM members`).Scan(&members)
		db.R.QueryRow(`SELECT COUNT(*) FROM sms_outbox`).Scan(&welcomes)
		if len(seen) != 20 || members != 1980 || welcomes != 1980 {
			t.Fatalf("%d rejected rows, %d members, %d welcomes; want 20, 1980, 1980", len(seen), members, welcomes)
		}
	})
}

// TestJobs_CancelAWaitingUpload: an upload whose job has not started is
// cancelled at once and never runs; its file is removed.
func TestJobs_CancelAWaitingUpload(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, _ := newService(t, db)
		ctx := context.Background()
		q := job.New(db, job.Options{Node: "a"})
		jobs := member.NewJobs(s)
		jobs.UseQueue(q)
		path := filepath.Join(t.TempDir(), "up.csv")
		os.WriteFile(path, []byte("phone\n07400100001\n"), 0o600)
		imp, err := jobs.Start(ctx, path, "up.csv", member.ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := jobs.Cancel(ctx, imp.ID)
		if err != nil || got.Status != member.JobCancelled || got.FinishedAt == nil {
			t.Fatalf("cancel = %+v %v", got, err)
		}
		if n, err := q.RunDue(ctx); n != 0 || err != nil {
			t.Fatalf("a cancelled import ran: %d %v", n, err)
		}
		if j, _ := job.Get(ctx, db, imp.ID); j.State != job.Cancelled {
			t.Fatalf("job %s", j.State)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("the upload is left: %v", err)
		}
	})
}
