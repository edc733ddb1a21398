package journey

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/event"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// killChildEnv names the database a re-executed test binary runs journeys on.
const killChildEnv = "PERK_JOURNEY_KILL_CHILD_DB"

// TestKillChild is the runner process TestKill9 kills; it does nothing
// unless started by it.
func TestKillChild(t *testing.T) {
	path := os.Getenv(killChildEnv)
	if path == "" {
		t.Skip("run by TestKill9_ARunnerKilledMidJourneyLosesNoStepAndRunsNoneTwice")
	}
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	NewService(db, Options{}).Run(context.Background(), 10*time.Millisecond) // until killed
}

// A runner killed with SIGKILL while members are in flight: after a new
// runner takes over (once the dead one's leases ran out), every member has
// run every step exactly once: one text queued each, one tag, one log row
// per step. Steps commit with their effects, so nothing is at-least-once
// here; the SMS queue's own window (a text sent but not recorded) is the
// sender's, tested in package sms.
func TestKill9_ARunnerKilledMidJourneyLosesNoStepAndRunsNoneTwice(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process and kills it")
	}
	db, path := storetest.SQLiteFile(t)
	f := newFixture(t, db)
	f.clock.Set(time.Now().UTC())
	f.apply(Definition{Name: "hello", Trigger: Filter{Event: "app_opened"}, Steps: []Step{
		{ID: "text", SMS: "Hello {{.FirstName}}"},
		{ID: "tag", Tag: &TagChange{Add: []string{"greeted"}}},
		{ID: "text-again", SMS: "Welcome back"},
	}})
	const members = 1500
	ids := make([]string, members)
	for i := range ids {
		ids[i] = fmt.Sprintf("mem_kill%05d", i)
	}
	insertMembers(t, db, ids)

	child := exec.Command(os.Args[0], "-test.run=^TestKillChild$", "-test.count=1")
	child.Env = append(os.Environ(), killChildEnv+"="+path)
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	// The events arrive while the child runs.
	for i := 0; i < members; i += 100 {
		evs := make([]event.Event, 0, 100)
		for _, m := range ids[i : i+100] {
			evs = append(evs, event.Event{EventID: "open-" + m, Type: "app_opened", Time: time.Now().UTC(), Channel: event.App, MemberID: m})
		}
		if err := db.Tx(context.Background(), func(tx *sql.Tx) error { return event.Record(context.Background(), tx, db.Dialect, evs...) }); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(2 * time.Minute)
	for f.count(`SELECT COUNT(*) FROM journey_steps`) < members {
		if time.Now().After(deadline) {
			child.Process.Kill()
			t.Fatal("the child ran no steps in two minutes")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	child.Wait()
	before := f.count(`SELECT COUNT(*) FROM journey_steps`)

	// A new runner after the dead one's leases (30 s) ran out.
	f.clock.Set(time.Now().UTC().Add(time.Minute))
	f.poll()
	checks := []struct {
		what string
		q    string
		want int
	}{
		{"enrolments", `SELECT COUNT(*) FROM journey_enrolments`, members},
		{"completed", `SELECT COUNT(*) FROM journey_enrolments WHERE exit_reason = 'completed'`, members},
		{"step rows", `SELECT COUNT(*) FROM journey_steps`, 3 * members},
		{"texts queued", `SELECT COUNT(*) FROM sms_outbox WHERE purpose = 'journey:hello'`, 2 * members},
		{"members with other than two texts", `SELECT COUNT(*) FROM (SELECT member_id FROM sms_outbox WHERE purpose = 'journey:hello'
			GROUP BY member_id HAVING COUNT(*) <> 2) x`, 0},
		{"tagged", `SELECT COUNT(*) FROM members WHERE tags LIKE '%greeted%'`, members},
	}
	for _, c := range checks {
		if got := f.count(c.q); got != c.want {
			t.Errorf("%s: %d, want %d", c.what, got, c.want)
		}
	}
	t.Logf("killed after %d of %d steps", before, 3*members)
}

// insertMembers writes bare consenting members in one transaction.
func insertMembers(t *testing.T, db *store.DB, ids []string) {
	t.Helper()
	err := db.Tx(context.Background(), func(tx *sql.Tx) error {
		for i, m := range ids {
			if _, err := tx.Exec(`INSERT INTO members (id, code, phone, channel, status, enrolled_at, updated_at)
				VALUES ($1, $2, $3, 'api', 'active', $4, $4)`, m, fmt.Sprintf("%08d", 20000000+i), fmt.Sprintf("+44770090%04d", i), t0); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
