package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/event"
	"github.com/perk-platform/perk/internal/store"
)

// journeyKillFile is the journey the kill test runs: two texts around a
// timer and a tag, so the kill lands among queued texts, running timers and
// tags.
const journeyKillFile = `name: kill-me
trigger: {event: app_opened}
steps:
  - {id: hello, sms: "Hello {{.FirstName}}"}
  - {id: pause, wait: 2s}
  - {id: tag, tag: {add: [greeted]}}
  - {id: again, sms: "Welcome back {{.FirstName}}"}
`

// TestServe_KilledMidJourneyLosesNoStepAndRunsNoneTwice runs a journey
// over 3,000 members (PERK_JOURNEY_KILL_MEMBERS for more: the 100,000 of
// docs/benchmarks.md) in the real perk serve, kills it with SIGKILL once a
// third of the steps have run, and starts it again: after the dead
// process's leases (--journey-lease 2s) run out, every member has run every
// step exactly once: one log row per step, exactly two texts queued each,
// the tag, every enrolment completed. A step commits with its effects, so
// the journey repeats nothing; what a kill can repeat is the SMS sender's
// delivery of texts already queued (docs/journeys.md).
func TestServe_KilledMidJourneyLosesNoStepAndRunsNoneTwice(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a server mid-journey")
	}
	members := 3000
	if v := os.Getenv("PERK_JOURNEY_KILL_MEMBERS"); v != "" {
		var err error
		if members, err = strconv.Atoi(v); err != nil || members < 100 {
			t.Fatalf("PERK_JOURNEY_KILL_MEMBERS=%q: a number of at least 100", v)
		}
	}
	const steps = 4
	for name, dsn := range databases(t) {
		t.Run(name, func(t *testing.T) {
			env, _, db := killEnv(t, dsn(t))
			env = append(env, "PERK_JOURNEY_LEASE=2s")
			file := filepath.Join(t.TempDir(), "kill.yaml")
			os.WriteFile(file, []byte(journeyKillFile), 0o644)
			if out, errOut, err := perk(t, env, "journeys", "apply", "-f", file, "--launch"); err != nil {
				t.Fatalf("apply: %v\n%s%s", err, out, errOut)
			}
			ids := killMembers(t, db, members)
			_, cmd := startKillable(t, env)
			// Everyone opens the app at once, into the running server.
			ctx := context.Background()
			for i := 0; i < len(ids); i += 1000 {
				evs := make([]event.Event, 0, 1000)
				for _, m := range ids[i:min(i+1000, len(ids))] {
					evs = append(evs, event.Event{EventID: "open-" + m, Type: "app_opened", Time: time.Now().UTC(), Channel: event.App, MemberID: m})
				}
				if err := db.Tx(ctx, func(tx *sql.Tx) error { return event.Record(ctx, tx, db.Dialect, evs...) }); err != nil {
					t.Fatal(err)
				}
			}
			total := steps * members
			until(t, "a third of the steps", 10*time.Minute, func() bool {
				return count(t, db, `SELECT COUNT(*) FROM journey_steps`) >= total/3
			})
			cmd.Process.Kill() // SIGKILL
			cmd.Wait()
			atKill := count(t, db, `SELECT COUNT(*) FROM journey_steps`)
			if atKill >= total {
				t.Fatalf("the journey had finished (%d steps) before the kill", atKill)
			}

			_, stop := serve(t, env, "--addr", "127.0.0.1:0", "--journey-lease", "2s")
			until(t, "every member through the journey after the restart", 20*time.Minute, func() bool {
				return count(t, db, `SELECT COUNT(*) FROM journey_enrolments WHERE state = 'ended'`) == members
			})
			stop()
			for _, c := range []struct {
				what string
				q    string
				want int
			}{
				{"enrolments", `SELECT COUNT(*) FROM journey_enrolments`, members},
				{"completed", `SELECT COUNT(*) FROM journey_enrolments WHERE exit_reason = 'completed'`, members},
				{"step rows", `SELECT COUNT(*) FROM journey_steps`, total},
				{"steps logged twice", `SELECT COUNT(*) FROM (SELECT enrolment_id, step FROM journey_steps
					GROUP BY enrolment_id, step HAVING COUNT(*) > 1) x`, 0},
				{"texts queued", `SELECT COUNT(*) FROM sms_outbox WHERE purpose = 'journey:kill-me'`, 2 * members},
				{"members with other than one text of each", `SELECT COUNT(*) FROM (SELECT member_id, body FROM sms_outbox
					WHERE purpose = 'journey:kill-me' GROUP BY member_id, body HAVING COUNT(*) <> 1) x`, 0},
				{"tagged", `SELECT COUNT(*) FROM members WHERE CAST(tags AS TEXT) LIKE '%greeted%'`, members},
				{"timers fired early", `SELECT COUNT(*) FROM journey_steps WHERE kind = 'wait' AND at < due_at`, 0},
			} {
				if got := count(t, db, c.q); got != c.want {
					t.Errorf("%s: %d, want %d", c.what, got, c.want)
				}
			}
			t.Logf("%s: killed after %d of %d steps", name, atKill, total)
		})
	}
}

// killMembers writes consenting members straight into the database, 500 a
// statement (enrolling 100,000 through the API would be the test).
func killMembers(t *testing.T, db *store.DB, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("mem_jkill%07d", i)
	}
	now := time.Now().UTC()
	err := db.Tx(context.Background(), func(tx *sql.Tx) error {
		for i := 0; i < n; i += 500 {
			var q strings.Builder
			q.WriteString(`INSERT INTO members (id, code, phone, channel, status, first_name, enrolled_at, updated_at) VALUES `)
			var args []any
			for j, m := range ids[i:min(i+500, n)] {
				if j > 0 {
					q.WriteString(", ")
				}
				q.WriteString("(" + db.Dialect.Placeholders(len(args)+1, 8) + ")")
				args = append(args, m, fmt.Sprintf("%08d", 40000000+i+j), fmt.Sprintf("+4477%08d", i+j), "api", "active", "Ann", now, now)
			}
			if _, err := tx.Exec(q.String(), args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}
