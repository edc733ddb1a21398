package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServe_KilledMidCRMSyncFinishesItAfterARestart uploads a 50,000-row
// full CRM sync (POST /v1/crm/syncs?full=true) to a subset of 200 members,
// kills perk serve with SIGKILL while it syncs, and starts it again: the
// sync resumes from its last committed chunk with the same run id and ends
// done, every member, consent and welcome once, the 100 members the file
// names first (before the kill) still in the subset and unchanged, and the
// 100 it leaves out taken out of it, counted once.
func TestServe_KilledMidCRMSyncFinishesItAfterARestart(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a server mid-sync")
	}
	const rows, every, named, old = 50000, 1000, 100, 100 // every 1000th row has a bad phone
	row := func(b *bytes.Buffer, i int) {
		phone := fmt.Sprintf("07400 %06d", i)
		if i%every == every-1 {
			phone = "12345"
		}
		fmt.Fprintf(b, "%s,Ann%d,CRM-%d,gold;seg%d,yes\n", phone, i, i, i%7)
	}
	const header = "phone,first_name,external_id,tags,consent\n"
	var pre, file bytes.Buffer
	pre.WriteString(header)
	for i := range named {
		row(&pre, i)
	}
	for i := range old {
		fmt.Fprintf(&pre, "07500 %06d,Old%d,OLD-%d,gold,yes\n", i, i, i)
	}
	file.WriteString(header)
	for i := range rows {
		row(&file, i)
	}
	bad := rows / every
	for name, dsn := range databases(t) {
		t.Run(name, func(t *testing.T) {
			env, key, db := killEnv(t, dsn(t))
			prePath := filepath.Join(t.TempDir(), "pre.csv")
			if err := os.WriteFile(prePath, pre.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, stderr, err := perk(t, env, "crm", "sync", "--welcome=false", prePath); err != nil {
				t.Fatalf("crm sync: %v\n%s", err, stderr)
			}
			var preRun string
			db.R.QueryRow(`SELECT crm_sync FROM members WHERE external_id = 'OLD-0'`).Scan(&preRun)

			url, cmd := startKillable(t, env)
			type stats struct {
				Rows, Created, Updated, Unchanged, Rejected int
				LeftSubset                                  int `json:"left_subset"`
			}
			var imp struct {
				ID      string `json:"id"`
				Status  string `json:"status"`
				Error   string `json:"error"`
				SyncRun string `json:"sync_run"`
				Full    bool   `json:"full"`
				Stats   stats  `json:"stats"`
			}
			if st := api(t, "POST", url+"/v1/crm/syncs?full=true&filename=subset.csv", key, file.Bytes(), &imp); st != http.StatusAccepted {
				t.Fatalf("upload = %d", st)
			}
			run := imp.SyncRun
			if run == "" || !imp.Full {
				t.Fatalf("the sync's record: %+v", imp)
			}
			until(t, "the sync's first chunks", 2*time.Minute, func() bool {
				return count(t, db, `SELECT rows_read FROM imports WHERE id = $1`, imp.ID) >= 5000
			})
			cmd.Process.Kill()
			cmd.Wait()
			atKill := count(t, db, `SELECT rows_read FROM imports WHERE id = $1`, imp.ID)
			if atKill >= rows {
				t.Fatalf("the sync had finished (%d rows) before the kill", atKill)
			}

			url, stop := serve(t, env, "--addr", "127.0.0.1:0")
			until(t, "the resumed sync", 5*time.Minute, func() bool {
				api(t, "GET", url+"/v1/imports/"+imp.ID, key, nil, &imp)
				return imp.Status != "running"
			})
			logs := stop()
			got := imp.Stats
			want := stats{Rows: rows, Created: rows - named - bad, Unchanged: named, Rejected: bad, LeftSubset: old}
			if imp.Status != "done" || got != want || imp.SyncRun != run {
				t.Fatalf("after the restart: %s %q %+v run %s, want done %+v run %s", imp.Status, imp.Error, got, imp.SyncRun, want, run)
			}
			for q, n := range map[string]int{
				`SELECT COUNT(*) FROM members`:                                         rows - bad + old,
				`SELECT COUNT(DISTINCT external_id) FROM members`:                      rows - bad + old,
				`SELECT COUNT(*) FROM members WHERE crm_sync IS NOT NULL`:              rows - bad,
				`SELECT COUNT(*) FROM members WHERE CAST(tags AS TEXT) LIKE '%"crm"%'`: rows - bad,
				`SELECT COUNT(*) FROM members WHERE external_id LIKE 'OLD-%' AND crm_sync IS NULL
					AND CAST(tags AS TEXT) = '["gold"]'`: old,
				`SELECT COUNT(*) FROM sms_outbox`:                                                   rows - named - bad, // one welcome each new member
				`SELECT COUNT(*) FROM consents WHERE action = 'granted'`:                            rows - bad + old,
				`SELECT COUNT(*) FROM import_errors WHERE import_id = '` + imp.ID + `'`:             bad,
				`SELECT COUNT(DISTINCT row_num) FROM import_errors`:                                 bad,
				`SELECT COUNT(*) FROM jobs WHERE state = 'done' AND attempts = 2`:                   1,
				`SELECT COUNT(*) FROM members WHERE crm_sync = '` + run + `'`:                       rows - named - bad,
				`SELECT COUNT(*) FROM members WHERE crm_sync = '` + preRun + `'`:                    named,
				`SELECT COUNT(*) FROM imports WHERE left_subset = 100 AND sync_run = '` + run + `'`: 1,
			} {
				if got := count(t, db, q); got != n {
					t.Errorf("%s = %d, want %d", q, got, n)
				}
			}
			if !strings.Contains(logs, "import resumed") {
				t.Errorf("no resumption in the log:\n%s", logs)
			}
			left, _ := filepath.Glob(filepath.Join(strings.TrimPrefix(env[1], "PERK_DATA_DIR="), "uploads", "*"))
			if len(left) != 0 {
				t.Errorf("uploads left behind: %v", left)
			}
			t.Logf("killed after %d rows", atKill)
		})
	}
}
