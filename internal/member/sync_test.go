package member_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/tabular"
)

// TestCRMSync_TheSubsetFollowsTheCRM: a sync names its members by CRM id;
// each joins the subset (tag crm) with the file's tags as its segments, or
// keeps its own tags when the row has none; a row without a CRM id is
// refused; a full sync takes out of the subset whoever it leaves out,
// deleting nobody, and is harmless when repeated.
func TestCRMSync_TheSubsetFollowsTheCRM(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _ := newService(t, db)
		importText(t, s, "phone,external_id,tags\n07400100001,CRM-1,vip\n07400100003,CRM-3,\n", member.ImportOptions{})
		tags := func(ext string) string {
			t.Helper()
			m, err := s.Lookup(ctx, "ext:"+ext)
			if err != nil {
				t.Fatalf("ext:%s: %v", ext, err)
			}
			return strings.Join(m.Tags, ",")
		}
		run := func(file string, full bool) (member.ImportStats, string) {
			t.Helper()
			return importText(t, s, file, member.ImportOptions{Sync: member.NewSyncRun(time.Now()), Full: full})
		}
		st, errs := run("phone,external_id,tags,consent\n07400100001,CRM-1,gold,yes\n07400100002,CRM-2,,yes\n07400100009,,gold,yes\n07400100003,CRM-3,,\n", false)
		if st.Created != 1 || st.Updated != 2 || st.Rejected != 1 || st.LeftSubset != 0 ||
			!strings.Contains(errs, "4,external_id,a CRM sync names every member by external_id") {
			t.Fatalf("first sync %+v\n%s", st, errs)
		}
		for ext, want := range map[string]string{"CRM-1": "gold,crm", "CRM-2": "crm", "CRM-3": "crm"} {
			if got := tags(ext); got != want {
				t.Errorf("after the sync ext:%s has tags %q, want %q", ext, got, want)
			}
		}
		// A member the full sync creates is in the subset it leaves (marked
		// as it is inserted).
		st, _ = run("phone,external_id,tags\n,CRM-2,silver\n07400100004,CRM-4,\n", true)
		if st.LeftSubset != 2 || st.Updated != 1 || st.Created != 1 {
			t.Fatalf("full sync %+v, want CRM-4 created, CRM-1 and CRM-3 to leave", st)
		}
		for ext, want := range map[string]string{"CRM-1": "gold", "CRM-2": "silver,crm", "CRM-3": "", "CRM-4": "crm"} {
			if got := tags(ext); got != want {
				t.Errorf("after the full sync ext:%s has tags %q, want %q", ext, got, want)
			}
		}
		if st, _ = run("phone,external_id,tags\n,CRM-2,silver\n07400100004,CRM-4,\n", true); st.LeftSubset != 0 || st.Unchanged != 2 {
			t.Errorf("the same full sync again: %+v, want nothing to change", st)
		}
		var n int
		db.R.QueryRow(`SELECT COUNT(*) FROM members`).Scan(&n)
		if n != 4 {
			t.Errorf("%d members, want 4: a sync deletes nobody", n)
		}
		if m, _ := s.Lookup(ctx, "ext:CRM-1"); m == nil || slices.Contains(m.Tags, member.SubsetTag) || m.Status == member.StatusErased {
			t.Errorf("CRM-1 after leaving: %+v", m)
		}
	})
}

// memberWrites returns a fingerprint of the writes a database has seen: on
// PostgreSQL each member's row version (xmin, new on every UPDATE, even one
// that changes nothing), on SQLite the writer connection's total_changes()
// (every row inserted, updated or deleted in any table).
func memberWrites(t *testing.T, db *store.DB) map[string]string {
	t.Helper()
	out := map[string]string{}
	if db.Dialect == store.SQLite {
		var n string
		if err := db.W.QueryRow(`SELECT total_changes()`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out["total_changes"] = n
		return out
	}
	rows, err := db.R.Query(`SELECT external_id, xmin::text FROM members`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var ext, v string
		if err := rows.Scan(&ext, &v); err != nil {
			t.Fatal(err)
		}
		out[ext] = v
	}
	return out
}

// subsetFile is a CRM file naming CRM-from .. CRM-to-1 (phones 07400 1nnnnn,
// tags gold and segN) and then the extra rows.
func subsetFile(from, to int, extra ...string) string {
	var b strings.Builder
	b.WriteString("phone,external_id,first_name,tags,consent\n")
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, "07400 1%05d,CRM-%d,Ann%d,gold;seg%d,yes\n", i, i, i, i%3)
	}
	for _, r := range extra {
		b.WriteString(r + "\n")
	}
	return b.String()
}

// TestCRMSync_AnUnchangedResyncWritesNothing: syncing the same full file
// again writes no row at all (no new row version of any member on
// PostgreSQL, no change on SQLite), and a full sync that leaves members out
// writes only those: a member already in the subset keeps the run id that
// first named it, and who left is found by comparing CRM ids. A row the
// sync rejects still names its member, who stays in the subset.
func TestCRMSync_AnUnchangedResyncWritesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _ := newService(t, db)
		sync := func(file string) member.ImportStats {
			t.Helper()
			st, err := s.Import(ctx, strings.NewReader(file), member.ImportOptions{BatchSize: 50, NoWelcome: true,
				Sync: member.NewSyncRun(time.Now()), Full: true})
			if err != nil {
				t.Fatal(err)
			}
			return st
		}
		file := subsetFile(0, 200)
		if st := sync(file); st.Created != 200 {
			t.Fatalf("first sync %+v", st)
		}
		before := memberWrites(t, db)
		if st := sync(file); st != (member.ImportStats{Rows: 200, Unchanged: 200}) {
			t.Fatalf("the same file again: %+v, want 200 unchanged", st)
		}
		if after := memberWrites(t, db); !maps.Equal(before, after) {
			t.Fatalf("an unchanged re-sync wrote: before %v, after %v", diffKeys(before, after), diffKeys(after, before))
		}

		// CRM-10 and CRM-11 are left out; CRM-12's row is rejected (a bad
		// phone) but names it, so it stays.
		lines := strings.Split(strings.TrimSuffix(subsetFile(0, 200), "\n"), "\n")
		var kept []string
		for _, l := range lines[1:] {
			switch {
			case strings.Contains(l, ",CRM-10,"), strings.Contains(l, ",CRM-11,"):
			case strings.Contains(l, ",CRM-12,"):
				kept = append(kept, "12345,CRM-12,Ann12,gold;seg0,yes")
			default:
				kept = append(kept, l)
			}
		}
		before = memberWrites(t, db)
		st := sync(lines[0] + "\n" + strings.Join(kept, "\n") + "\n")
		if st != (member.ImportStats{Rows: 198, Unchanged: 197, Rejected: 1, LeftSubset: 2}) {
			t.Fatalf("full sync leaving two out: %+v", st)
		}
		for ext, in := range map[string]bool{"CRM-10": false, "CRM-11": false, "CRM-12": true, "CRM-13": true} {
			m, err := s.Lookup(ctx, "ext:"+ext)
			if err != nil {
				t.Fatal(err)
			}
			if got := slices.Contains(m.Tags, member.SubsetTag); got != in {
				t.Errorf("%s in the subset: %v, want %v (tags %v)", ext, got, in, m.Tags)
			}
		}
		if n := countRows(t, db, `SELECT COUNT(*) FROM members WHERE crm_sync IS NOT NULL`); n != 198 {
			t.Errorf("%d members marked synced, want 198", n)
		}
		if db.Dialect == store.Postgres {
			after := memberWrites(t, db)
			if changed := diffKeys(before, after); !slices.Equal(changed, []string{"CRM-10", "CRM-11"}) {
				t.Errorf("the full sync wrote %v, want only the two who left", changed)
			}
		}
	})
}

// diffKeys lists the keys of a whose values b does not share, sorted.
func diffKeys(a, b map[string]string) []string {
	var out []string
	for k, v := range a {
		if b[k] != v {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// TestCRMSync_AFullSyncResumedAfterACrashEndsAsAnUninterruptedOne crashes a
// full sync inside a chunk's transaction (while the rows go in, and while
// the members left out leave the subset) and resumes it from the last
// committed cursor with the same run id: the members named before the
// cursor stay in the subset, every member left out leaves, and every row
// and leaver is counted once.
func TestCRMSync_AFullSyncResumedAfterACrashEndsAsAnUninterruptedOne(t *testing.T) {
	// 1,200 in the subset; the full file names CRM-0..99 as they are,
	// rejects CRM-150's row (still named) and adds 50: 1,099 leave, in
	// three transactions.
	var extra []string
	extra = append(extra, "nope,CRM-150,Ann150,gold;seg0,yes")
	for i := range 50 {
		extra = append(extra, fmt.Sprintf("07500 1%05d,NEW-%d,Bob%d,gold,yes", i, i, i))
	}
	full := subsetFile(0, 100, extra...)
	want := member.ImportStats{Rows: 151, Created: 50, Unchanged: 100, Rejected: 1, LeftSubset: 1099}
	for _, c := range []struct {
		name    string
		crashAt int // the checkpoint whose transaction fails
	}{
		{"while the rows go in", 4},
		{"while the members left out leave", 10}, // 8 chunks of 20 rows, then the leaving
	} {
		t.Run(c.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				s, _ := newService(t, db)
				if _, err := s.Import(ctx, strings.NewReader(subsetFile(0, 1200)), member.ImportOptions{BatchSize: 500,
					NoWelcome: true, Sync: member.NewSyncRun(time.Now())}); err != nil {
					t.Fatal(err)
				}
				crash := errors.New("killed")
				var last member.ImportCursor
				checkpoints := 0
				record := func(ctx context.Context, tx *sql.Tx, cur member.ImportCursor, _ []*tabular.RowError) error {
					if checkpoints++; checkpoints == c.crashAt {
						return crash
					}
					last = cur
					return nil
				}
				opt := member.ImportOptions{BatchSize: 20, NoWelcome: true, Sync: member.NewSyncRun(time.Now()), Full: true,
					Checkpoint: record}
				if _, err := s.Import(ctx, strings.NewReader(full), opt); !errors.Is(err, crash) {
					t.Fatalf("interrupted sync: %v", err)
				}
				resumeAt := last
				opt.Resume = &resumeAt
				st, err := s.Import(ctx, strings.NewReader(full), opt)
				if err != nil {
					t.Fatal(err)
				}
				if st != want || last.Stats != want {
					t.Fatalf("resumed from %+v: %+v (last cursor %+v), want %+v", resumeAt, st, last.Stats, want)
				}
				for q, n := range map[string]int{
					`SELECT COUNT(*) FROM members`:                                         1250,
					`SELECT COUNT(*) FROM members WHERE crm_sync IS NOT NULL`:              151,
					`SELECT COUNT(*) FROM members WHERE CAST(tags AS TEXT) LIKE '%"crm"%'`: 151,
					`SELECT COUNT(*) FROM members WHERE external_id IN ('CRM-0', 'CRM-99', 'CRM-150')
						AND crm_sync IS NOT NULL`: 3,
				} {
					if got := countRows(t, db, q); got != n {
						t.Errorf("%s = %d, want %d", q, got, n)
					}
				}
			})
		})
	}
}
