package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchCheckout_AgainstTheRealServer runs `perk bench checkout` against
// `perk serve` with a live campaign: every generated basket must be one the
// real API accepts, with a pos key bound to a store.
func TestBenchCheckout_AgainstTheRealServer(t *testing.T) {
	for name, dsn := range databases(t) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			// A load test is what the till look-up limit is there to stop.
			env := []string{"PERK_DB=" + dsn(t), "PERK_DATA_DIR=" + dir, "PERK_LOG_LEVEL=warn", "PERK_TILL_LOOKUP_RATE=0"}
			spec := filepath.Join(dir, "campaigns.yaml")
			os.WriteFile(spec, []byte(`name: Bench 3 for 2
start: 2020-01-01
end: 2099-01-01
audience: {kind: all}
benefits:
  - {kind: buy_x_get_y, buy: 2, get: 1, scope: {skus: [SKU00001, SKU00002, SKU00003]}}
  - {kind: percent_off, percent: 10, scope: {categories: [CAT001, CAT002]}}
`), 0o644)
			if _, stderr, err := perk(t, env, "campaigns", "apply", "-f", spec, "--launch"); err != nil {
				t.Fatalf("campaigns apply: %v\n%s", err, stderr)
			}
			importStores(t, env, dir, "S1")
			key, stderr, err := perk(t, env, "keys", "create", "--role", "pos", "--store", "S1", "--name", "till")
			if err != nil {
				t.Fatalf("keys create: %v\n%s", err, stderr)
			}
			url, _ := serve(t, env, "--addr", "127.0.0.1:0")
			for _, sc := range []string{"mixed", "commit"} {
				out, stderr, err := perk(t, env, "bench", "checkout", "--url", url, "--key", strings.TrimSpace(key),
					"--scenario", sc, "-c", "4", "-n", "200", "-d", "1m", "--members", "20", "--seed", "7", "--json")
				if err != nil {
					t.Fatalf("bench checkout %s: %v\n%s", sc, err, stderr)
				}
				var res struct {
					Requests int            `json:"requests"`
					Errors   int            `json:"errors"`
					Status   map[string]int `json:"status"`
					Seed     int64          `json:"seed"`
					Ops      []struct {
						Scenario string `json:"scenario"`
						Requests int    `json:"requests"`
					} `json:"ops"`
				}
				if err := json.Unmarshal([]byte(out), &res); err != nil {
					t.Fatalf("bench checkout %s output %q: %v", sc, out, err)
				}
				if res.Requests != 200 || res.Errors != 0 || res.Status["200"] != 200 || res.Seed != 7 {
					t.Fatalf("bench checkout %s: %s", sc, out)
				}
				if sc == "mixed" && (len(res.Ops) != 2 || res.Ops[1].Scenario != "commit" || res.Ops[1].Requests == 0) {
					t.Fatalf("bench checkout mixed: ops %+v", res.Ops)
				}
			}
		})
	}
}

func TestBenchCheckout_UsageErrors(t *testing.T) {
	codes := filepath.Join(t.TempDir(), "codes.txt")
	os.WriteFile(codes, []byte("12345670\n"), 0o644)
	for _, args := range [][]string{
		{"--scenario", "browse"},
		{"--members", "10", "--codes-from", codes},
		{"--members", "0"},
		{"-c", "0"},
	} {
		_, stderr, err := perk(t, nil, append([]string{"bench", "checkout", "--url", "http://127.0.0.1:1"}, args...)...)
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 {
			t.Errorf("%v: %v, want exit status 2 (usage)\n%s", args, err, stderr)
		}
	}
}
