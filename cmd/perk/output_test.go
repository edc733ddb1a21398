package main

import (
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// TestCLI_EveryListCommandSpeaksJSON: each list command prints, with -o json,
// a JSON document a script can read, holding what the table holds (numbers
// still masked), and refuses a format it does not write with exit code 2
// before touching anything.
func TestCLI_EveryListCommandSpeaksJSON(t *testing.T) {
	for name, dsn := range databases(t) {
		t.Run(name, func(t *testing.T) {
			env := []string{"PERK_DB=" + dsn(t), "PERK_DATA_DIR=" + t.TempDir(), "PERK_LOG_LEVEL=warn"}
			setup := [][]string{
				{"keys", "create", "--role", "reporting", "--name", "nightly export"},
				{"sms", "inject", "--from", "07700 900123", "JOIN", "Ann"},
			}
			for _, args := range setup {
				if _, stderr, err := perk(t, env, args...); err != nil {
					t.Fatalf("%v: %v\n%s", args, err, stderr)
				}
			}
			if _, stderr, err := perkIn(t, env, "tills and tulips 2026\n", "users", "create", "--email", "bo@shop.example",
				"--role", "reporting", "--password-stdin"); err != nil {
				t.Fatalf("users create: %v\n%s", err, stderr)
			}
			if _, stderr, err := perk(t, env, "campaigns", "apply", "-f", "testdata/campaigns/campaigns.yaml"); err != nil {
				t.Fatalf("campaigns apply: %v\n%s", err, stderr)
			}

			cases := []struct {
				args  []string
				check func(t *testing.T, out []byte)
			}{
				{[]string{"keys", "list"}, func(t *testing.T, out []byte) {
					var keys []struct{ ID, Role, Name string }
					decode(t, out, &keys)
					if len(keys) != 1 || keys[0].Role != "reporting" || keys[0].Name != "nightly export" || keys[0].ID == "" {
						t.Errorf("keys: %+v", keys)
					}
				}},
				{[]string{"users", "list"}, func(t *testing.T, out []byte) {
					var ops []struct{ Email, Role string }
					decode(t, out, &ops)
					if len(ops) != 1 || ops[0].Email != "bo@shop.example" || ops[0].Role != "reporting" {
						t.Errorf("users: %+v", ops)
					}
				}},
				{[]string{"campaigns", "get"}, func(t *testing.T, out []byte) {
					var specs []struct{ Name string }
					decode(t, out, &specs)
					if len(specs) != 2 || specs[0].Name == "" || specs[1].Name == "" {
						t.Errorf("campaigns: %+v", specs)
					}
				}},
				{[]string{"sms", "outbox"}, func(t *testing.T, out []byte) {
					var msgs []struct{ To, Purpose, Text string }
					decode(t, out, &msgs)
					if len(msgs) == 0 || msgs[0].Purpose != "welcome" || !strings.Contains(msgs[0].Text, "code") {
						t.Fatalf("outbox: %+v", msgs)
					}
					if strings.Contains(msgs[0].To, "900123") || msgs[0].To == "" {
						t.Errorf("outbox number %q is not masked", msgs[0].To)
					}
				}},
				{[]string{"sms", "status"}, func(t *testing.T, out []byte) {
					var c struct {
						Total    int            `json:"total"`
						ByStatus map[string]int `json:"by_status"`
					}
					decode(t, out, &c)
					if c.Total == 0 || c.ByStatus["queued"] != c.Total {
						t.Errorf("status: %+v", c)
					}
				}},
			}
			for _, c := range cases {
				t.Run(strings.Join(c.args, "_"), func(t *testing.T) {
					for _, o := range [][]string{{"-o", "json"}, {"--output=json"}} {
						out, stderr, err := perk(t, env, append(c.args, o...)...)
						if err != nil {
							t.Fatalf("%v: %v\n%s", o, err, stderr)
						}
						c.check(t, []byte(out))
					}
					_, stderr, err := perk(t, env, append(c.args, "-o", "xml")...)
					var exit *exec.ExitError
					if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(stderr, "-o xml: want table") {
						t.Errorf("-o xml: %v, stderr %q; want exit 2 naming the formats", err, stderr)
					}
				})
			}
		})
	}
}

func decode(t *testing.T, out []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
}
