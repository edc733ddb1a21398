package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
				{[]string{"journeys", "apply", "-f", good}, "cart-reminder created (version 1, draft)\ncoffee-lovers created (version 1, draft)\n", false},
				{[]string{"journeys", "apply", "-f", good, "--launch"}, "cart-reminder unchanged (version 1, draft), launched\n", false},
				{[]string{"journeys", "apply", "-f", bad}, "", true},
				{[]string{"journeys", "get"}, "cart-reminder                    v1   live     5 steps, trigger cart_updated\n", false},
				{[]string{"journeys", "counts", "cart-reminder"}, "cart-reminder: 0 entered, 0 inside\n", false},
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
			if err != nil || strings.Count(again, "unchanged") != 2 {
				t.Errorf("the printed journeys do not apply back unchanged: %v\n%s%s\n%s", err, again, errOut, out)
			}
		})
	}
}
