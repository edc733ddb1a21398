package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/event"
	"github.com/perk-platform/perk/internal/journey"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/store"
)

// TestCLI_Journeys: apply is idempotent, get -o yaml prints a file that
// applies back unchanged, launch and counts work by name, and a file with a
// mistake applies nothing and names the field.
func TestCLI_Journeys(t *testing.T) {
	src, err := os.ReadFile("../../internal/journey/testdata/abandonment.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for name, dsn := range databases(t) {
		t.Run(name, func(t *testing.T) {
			env := []string{"PERK_DB=" + dsn(t)}
			dir := t.TempDir()
			good, printed, bad := filepath.Join(dir, "journeys.yaml"), filepath.Join(dir, "printed.yaml"), filepath.Join(dir, "bad.yaml")
			os.WriteFile(good, src, 0o644)
			os.WriteFile(bad, []byte("name: tea\ntrigger: {event: x}\nsteps: [{id: s, wait_until: '9am'}]\n"), 0o644)
			steps := []struct {
				args []string
				want string
				fail bool
			}{
				{[]string{"journeys", "apply", "-f", good}, "cart-reminder created (version 1, draft)\ncoffee-lovers created (version 1, draft)\nspring-follow-up created (version 1, draft)\n", false},
				{[]string{"journeys", "apply", "-f", good, "--launch"}, "cart-reminder unchanged (version 1, draft), launched\n", false},
				{[]string{"journeys", "apply", "-f", bad}, "", true},
				{[]string{"journeys", "get"}, "cart-reminder                    v1   live     5 steps, trigger cart_updated\n", false},
				{[]string{"journeys", "get"}, "spring-follow-up                 v1   live     2 steps, trigger campaign launch spring-sale\n", false},
				{[]string{"journeys", "counts", "cart-reminder"}, "cart-reminder: 0 entered, 0 inside (version 1 live)\n", false},
				{[]string{"journeys", "stop", "cart-reminder"}, "cart-reminder stopped (version 1)\n", false},
				{[]string{"journeys", "stop", "cart-reminder"}, "", true}, // already stopped
			}
			for _, st := range steps {
				out, errOut, err := perk(t, env, st.args...)
				if (err != nil) != st.fail || !strings.Contains(out, st.want) {
					t.Errorf("perk %s: err %v\n%s%s", strings.Join(st.args, " "), err, out, errOut)
				}
			}
			if _, errOut, _ := perk(t, env, "journeys", "apply", "-f", bad); !strings.Contains(errOut, "steps[0].wait_until") {
				t.Errorf("a bad file's error does not name the field: %s", errOut)
			}
			out, _, err := perk(t, env, "journeys", "get", "-o", "yaml")
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(printed, []byte(out), 0o644)
			again, errOut, err := perk(t, env, "journeys", "apply", "-f", printed)
			if err != nil || strings.Count(again, "unchanged") != 3 {
				t.Errorf("the printed journeys do not apply back unchanged: %v\n%s%s\n%s", err, again, errOut, out)
			}
		})
	}
}

// TestCLI_JourneysMoveAndDryRun: a dry run prints what a member's recorded
// events would have done (writing nothing), and move takes the members at
// a step of version 1 to version 2.
func TestCLI_JourneysMoveAndDryRun(t *testing.T) {
	const v1 = "name: hello\ntrigger: {event: app_opened}\nsteps:\n  - {id: pause, wait: 2h}\n  - {id: text, sms: 'Hi {{.FirstName}}'}\n"
	v2 := strings.Replace(v1, "2h", "1h", 1)
	for name, dsn := range databases(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			env := []string{"PERK_DB=" + dsn(t)}
			dir := t.TempDir()
			f1, f2 := filepath.Join(dir, "v1.yaml"), filepath.Join(dir, "v2.yaml")
			os.WriteFile(f1, []byte(v1), 0o644)
			os.WriteFile(f2, []byte(v2), 0o644)
			if out, errOut, err := perk(t, env, "journeys", "apply", "-f", f1, "--launch"); err != nil {
				t.Fatalf("apply: %v %s%s", err, out, errOut)
			}
			db, err := store.Open(ctx, strings.TrimPrefix(env[0], "PERK_DB="))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			ms := member.NewService(db, member.Options{Region: "GB"})
			ann, err := ms.Enrol(ctx, member.EnrolRequest{Profile: member.Profile{Phone: "+447700900123", FirstName: "Ann"},
				Channel: member.ChannelAPI, Consent: true})
			if err != nil {
				t.Fatal(err)
			}
			opened := event.Event{EventID: "open-1", Type: "app_opened", Time: time.Now().UTC(), Channel: event.App, MemberID: ann.Member.ID}
			if err := db.Tx(ctx, func(tx *sql.Tx) error { return event.Record(ctx, tx, db.Dialect, opened) }); err != nil {
				t.Fatal(err)
			}
			if err := journey.NewService(db, journey.Options{}).Poll(ctx); err != nil {
				t.Fatal(err)
			}
			steps := []struct {
				args []string
				want string
				fail bool
			}{
				{[]string{"journeys", "dry-run", "hello", "--member", "+447700900123"}, "pause                    wait       due", false},
				{[]string{"journeys", "dry-run", "hello", "--member", "+447700900123", "--until", time.Now().Add(3 * time.Hour).UTC().Format(time.RFC3339)},
					`text                     sms        queued  "Hi Ann"`, false},
				{[]string{"journeys", "dry-run", "hello"}, "", true},
				{[]string{"journeys", "apply", "-f", f2}, "hello updated (version 2, live)", false},
				{[]string{"journeys", "move", "hello", "--from", "pause", "--to", "pause"}, "", true},
				{[]string{"journeys", "move", "hello", "--from", "1:pause", "--to", "pause"}, "hello: 1 moved from version 1 step pause to version 2 step pause", false},
				{[]string{"journeys", "move", "hello", "--from", "1:pause", "--to", "pause"}, "hello: 0 moved", false},
			}
			for _, st := range steps {
				out, errOut, err := perk(t, env, st.args...)
				if (err != nil) != st.fail || !strings.Contains(out, st.want) {
					t.Errorf("perk %s: err %v\n%s%s", strings.Join(st.args, " "), err, out, errOut)
				}
			}
			var texts int
			if err := db.R.QueryRow(`SELECT COUNT(*) FROM sms_outbox WHERE purpose = 'journey:hello'`).Scan(&texts); err != nil || texts != 0 {
				t.Errorf("texts queued by dry runs and a move: %d %v", texts, err)
			}
		})
	}
}

// TestCLI_JourneyCountsAreTheServiceCounts: perk journeys counts -o json
// prints journey.Service.Counts, the function the API's counts and the
// journey page show (TestJourneyPages_CountsAreTheAPIsAndTheServices), so
// the three agree; the table says the same figures.
func TestCLI_JourneyCountsAreTheServiceCounts(t *testing.T) {
	const v1 = "name: hello\ntrigger: {event: app_opened}\ngoal: {event: basket_committed}\nholdout: 10\nsteps:\n  - {id: pause, wait: 2h}\n  - {id: text, sms: 'Hi {{.FirstName}}'}\n"
	v2 := strings.Replace(v1, "2h", "1h", 1)
	for name, dsn := range databases(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			env := []string{"PERK_DB=" + dsn(t)}
			dir := t.TempDir()
			f1, f2 := filepath.Join(dir, "v1.yaml"), filepath.Join(dir, "v2.yaml")
			os.WriteFile(f1, []byte(v1), 0o644)
			os.WriteFile(f2, []byte(v2), 0o644)
			db, err := store.Open(ctx, strings.TrimPrefix(env[0], "PERK_DB="))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			ms := member.NewService(db, member.Options{Region: "GB"})
			js := journey.NewService(db, journey.Options{})
			enter := func(phone string) {
				m, err := ms.Enrol(ctx, member.EnrolRequest{Profile: member.Profile{Phone: phone, FirstName: "Ann"},
					Channel: member.ChannelAPI, Consent: true})
				if err != nil {
					t.Fatal(err)
				}
				opened := event.Event{EventID: "open-" + phone, Type: "app_opened", Time: time.Now().UTC(), Channel: event.App, MemberID: m.Member.ID}
				if err := db.Tx(ctx, func(tx *sql.Tx) error { return event.Record(ctx, tx, db.Dialect, opened) }); err != nil {
					t.Fatal(err)
				}
				if err := js.Poll(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if out, errOut, err := perk(t, env, "journeys", "apply", "-f", f1, "--launch"); err != nil {
				t.Fatalf("apply: %v %s%s", err, out, errOut)
			}
			enter("+447700900123")
			enter("+447700900124")
			if out, errOut, err := perk(t, env, "journeys", "apply", "-f", f2); err != nil {
				t.Fatalf("apply v2: %v %s%s", err, out, errOut)
			}
			enter("+447700900125")
			rep, err := js.Counts(ctx, "hello")
			if err != nil {
				t.Fatal(err)
			}
			out, errOut, err := perk(t, env, "journeys", "counts", "hello", "-o", "json")
			if err != nil {
				t.Fatalf("counts: %v %s", err, errOut)
			}
			var cli, svc any
			want, _ := json.Marshal(rep)
			json.Unmarshal(want, &svc)
			if err := json.Unmarshal([]byte(out), &cli); err != nil || !reflect.DeepEqual(cli, svc) {
				t.Errorf("perk journeys counts -o json\n%s\nthe service's counts\n%s", out, want)
			}
			table, _, err := perk(t, env, "journeys", "counts", "hello")
			for _, line := range []string{fmt.Sprintf("hello: %d entered, %d inside (version %d live)", rep.Entered, rep.Active, rep.Version),
				fmt.Sprintf("  v%d %-24s %-10s at %-6d", rep.Steps[0].Version, rep.Steps[0].Step, rep.Steps[0].Kind, rep.Steps[0].At)} {
				if err != nil || !strings.Contains(table, line) {
					t.Errorf("table lacks %q:\n%s", line, table)
				}
			}
			if rep.Entered != 3 || len(rep.Versions) == 0 {
				t.Errorf("setup: %s", want)
			}
		})
	}
}
