package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/batch"
	"github.com/perk-platform/perk/internal/store"
)

// startKillable starts perk serve for a test that will SIGKILL it, and
// returns its URL and the process. Unlike serve, its cleanup does not
// expect a clean exit.
func startKillable(t *testing.T, env []string) (string, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(perkBin, "serve", "--addr", "127.0.0.1:0")
	cmd.Env = append(append(os.Environ(), env...), "PERK_LOG_LEVEL=info")
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); pw.Close() })
	urlc := make(chan string, 1)
	var mu sync.Mutex
	var logs bytes.Buffer
	go func() {
		re := regexp.MustCompile(`msg="perk listening" url=(\S+)`)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			mu.Lock()
			logs.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				urlc <- m[1]
			}
		}
	}()
	select {
	case url := <-urlc:
		return url, cmd
	case <-time.After(30 * time.Second):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("perk serve did not start:\n%s", logs.String())
	}
	return "", nil
}

// until polls cond (no sleeping assertions: a deadline only stops a hung test).
func until(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// killEnv prepares a data folder and database with an API key and the
// store S1, and returns the environment, the key and the database.
func killEnv(t *testing.T, dsn string) ([]string, string, *store.DB) {
	t.Helper()
	dir := t.TempDir()
	env := []string{"PERK_DB=" + dsn, "PERK_DATA_DIR=" + dir, "PERK_LOG_LEVEL=warn"}
	if _, stderr, err := perk(t, env, "migrate"); err != nil {
		t.Fatalf("migrate: %v\n%s", err, stderr)
	}
	importStores(t, env, dir, "S1")
	key, stderr, err := perk(t, env, "keys", "create", "--role", "manager")
	if err != nil {
		t.Fatalf("keys create: %v\n%s", err, stderr)
	}
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return env, strings.TrimSpace(key), db
}

func count(t *testing.T, db *store.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.R.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// TestServe_KilledMidImportFinishesItAfterARestart uploads a 50,000-row
// member file, kills perk serve with SIGKILL while it imports, and starts
// it again without sending anything: the import resumes from its last
// committed chunk and ends done, with every row applied and counted once
// (no member, welcome SMS or rejected row twice) and the upload removed.
func TestServe_KilledMidImportFinishesItAfterARestart(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a server mid-import")
	}
	const rows, every = 50000, 1000 // every 1000th row has a bad phone
	var file bytes.Buffer
	file.WriteString("phone,first_name,external_id,consent\n")
	for i := range rows {
		phone := fmt.Sprintf("07400 %06d", i)
		if i%every == every-1 {
			phone = "12345"
		}
		fmt.Fprintf(&file, "%s,Ann%d,CRM-%d,yes\n", phone, i, i)
	}
	bad := rows / every
	for name, dsn := range databases(t) {
		t.Run(name, func(t *testing.T) {
			env, key, db := killEnv(t, dsn(t))
			url, cmd := startKillable(t, env)
			var imp struct {
				ID     string `json:"id"`
				Status string `json:"status"`
				Error  string `json:"error"`
				Stats  struct{ Rows, Created, Updated, Unchanged, Rejected int }
			}
			if st := api(t, "POST", url+"/v1/imports/members?filename=members.csv", key, file.Bytes(), &imp); st != http.StatusAccepted {
				t.Fatalf("upload = %d", st)
			}
			until(t, "the import's first chunks", time.Minute, func() bool {
				return count(t, db, `SELECT rows_read FROM imports WHERE id = $1`, imp.ID) >= 2000
			})
			cmd.Process.Kill()
			cmd.Wait()
			atKill := count(t, db, `SELECT rows_read FROM imports WHERE id = $1`, imp.ID)
			if atKill >= rows {
				t.Fatalf("the import had finished (%d rows) before the kill", atKill)
			}

			url, stop := serve(t, env, "--addr", "127.0.0.1:0")
			until(t, "the resumed import", 5*time.Minute, func() bool {
				api(t, "GET", url+"/v1/imports/"+imp.ID, key, nil, &imp)
				return imp.Status != "running"
			})
			logs := stop()
			want := struct{ Rows, Created, Updated, Unchanged, Rejected int }{rows, rows - bad, 0, 0, bad}
			if imp.Status != "done" || imp.Stats != want {
				t.Fatalf("after the restart: %s %q %+v, want done %+v", imp.Status, imp.Error, imp.Stats, want)
			}
			for q, n := range map[string]int{
				`SELECT COUNT(*) FROM members`:                                             rows - bad,
				`SELECT COUNT(DISTINCT external_id) FROM members`:                          rows - bad,
				`SELECT COUNT(*) FROM sms_outbox`:                                          rows - bad, // one welcome each
				`SELECT COUNT(*) FROM import_errors`:                                       bad,
				`SELECT COUNT(DISTINCT row_num) FROM import_errors`:                        bad,
				`SELECT COUNT(*) FROM jobs WHERE state = 'done' AND attempts = 2`:          1,
				`SELECT COUNT(*) FROM consents WHERE action = 'granted'`:                   rows - bad,
				`SELECT COUNT(*) FROM imports WHERE status = 'done' AND rows_read = 50000`: 1,
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

// TestServe_KilledMidBatchFileFinishesItAfterARestart does the same with a
// transaction file: after the restart every transaction is recorded once,
// the results file has one line per record and the errors file one per bad
// row, and the job is done.
func TestServe_KilledMidBatchFileFinishesItAfterARestart(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a server mid-file")
	}
	const records, every = 3000, 100 // every 100th has a bad quantity
	var file bytes.Buffer
	file.WriteString("transaction_id,store,time,sku,quantity,unit,unit_price\n")
	for i := range records {
		q := "1"
		if i%every == every-1 {
			q = "x"
		}
		fmt.Fprintf(&file, "T%d,S1,2026-12-04T10:00:00Z,A,%s,each,250\n", i, q)
	}
	bad := records / every
	for name, dsn := range databases(t) {
		t.Run(name, func(t *testing.T) {
			env, key, db := killEnv(t, dsn(t))
			url, cmd := startKillable(t, env)
			var bj struct {
				ID     string          `json:"id"`
				Status string          `json:"status"`
				Error  string          `json:"error"`
				Stats  json.RawMessage `json:"stats"`
			}
			if st := api(t, "POST", url+"/v1/batch/transactions?filename=tills.csv", key, file.Bytes(), &bj); st != http.StatusAccepted {
				t.Fatalf("upload = %d", st)
			}
			until(t, "the file's first checkpoints", 2*time.Minute, func() bool {
				return count(t, db, `SELECT COUNT(*) FROM baskets`) >= 500
			})
			cmd.Process.Kill()
			cmd.Wait()
			atKill := count(t, db, `SELECT COUNT(*) FROM baskets`)

			url, stop := serve(t, env, "--addr", "127.0.0.1:0")
			until(t, "the resumed file", 5*time.Minute, func() bool {
				api(t, "GET", url+"/v1/batch/jobs/"+bj.ID, key, nil, &bj)
				return bj.Status != "running"
			})
			var sum batch.Summary
			json.Unmarshal(bj.Stats, &sum)
			if bj.Status != "done" || sum.Records != records-bad || sum.Committed+sum.Unchanged != records-bad || sum.Failed != 0 ||
				sum.RowErrors != bad {
				t.Fatalf("after the restart: %s %q %+v", bj.Status, bj.Error, sum)
			}
			// Those the killed run committed after its last checkpoint count
			// as unchanged: less than a checkpoint interval (200) handled,
			// plus the chunk that committed meanwhile (its outcomes are
			// handled, and checkpointed, only after its commit).
			if most := 200 + batch.DefaultChunk; sum.Unchanged > most {
				t.Errorf("%d records counted unchanged, want at most a checkpoint interval and a chunk (%d)", sum.Unchanged, most)
			}
			if n := count(t, db, `SELECT COUNT(*) FROM baskets`); n != records-bad {
				t.Errorf("%d baskets, want %d", n, records-bad)
			}
			if n := count(t, db, `SELECT COUNT(*) FROM jobs WHERE state = 'done' AND attempts = 2`); n != 1 {
				t.Errorf("%d jobs done after two attempts; jobs: %s", n, jobRows(t, db))
			}
			var results, errs []byte
			call2 := func(name string) []byte {
				req, _ := http.NewRequest("GET", url+"/v1/batch/jobs/"+bj.ID+"/files/"+name, nil)
				req.Header.Set("Authorization", "Bearer "+key)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				b, _ := io.ReadAll(res.Body)
				return b
			}
			results, errs = call2("results.csv"), call2("errors.csv")
			stop()
			lines := strings.Split(strings.TrimSpace(string(results)), "\n")
			seen := map[string]bool{}
			for _, l := range lines[1:] {
				f := strings.Split(l, ",")
				if seen[f[3]] {
					t.Fatalf("transaction %s twice in the results", f[3])
				}
				seen[f[3]] = true
			}
			if lines[0] != strings.Join(batch.ResultColumns, ",") || len(seen) != records-bad {
				t.Errorf("results: header %q, %d transactions, want %d", lines[0], len(seen), records-bad)
			}
			if n := strings.Count(string(errs), "\n"); n != bad+1 || !strings.HasPrefix(string(errs), "row,column,reason\n") {
				t.Errorf("errors file has %d lines, want a header and %d:\n%s", n, bad, errs)
			}
			t.Logf("killed after %d baskets; %d counted unchanged", atKill, sum.Unchanged)
		})
	}
}

// jobRows lists the jobs table's rows (kind, state, attempts, error), for a
// failure message.
func jobRows(t *testing.T, db *store.DB) string {
	t.Helper()
	rows, err := db.R.Query(`SELECT kind, state, attempts, error FROM jobs ORDER BY created_at`)
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var kind, state, msg string
		var attempts int
		if err := rows.Scan(&kind, &state, &attempts, &msg); err != nil {
			return err.Error()
		}
		fmt.Fprintf(&b, "[%s %s attempts=%d %q] ", kind, state, attempts, msg)
	}
	return b.String()
}
