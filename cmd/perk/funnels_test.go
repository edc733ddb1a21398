package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLI_Funnels: apply is idempotent, get lists, report prints the steps,
// and a file with a mistake applies nothing.
func TestCLI_Funnels(t *testing.T) {
	for name, dsn := range databases(t) {
		t.Run(name, func(t *testing.T) {
			env := []string{"PERK_DB=" + dsn(t)}
			dir := t.TempDir()
			good := filepath.Join(dir, "funnels.yaml")
			os.WriteFile(good, []byte("name: coffee\nwindow: 3d\nsteps:\n  - {name: saw coffee, types: [product_viewed]}\n  - {name: bought, types: [order_placed]}\n"), 0o644)
			bad := filepath.Join(dir, "bad.yaml")
			os.WriteFile(bad, []byte("name: tea\nwindow: 1h\nsteps: [{types: [a]}]\n"), 0o644)
			steps := []struct {
				args []string
				want string
				fail bool
			}{
				{[]string{"funnels", "apply", "-f", good}, "coffee applied\n", false},
				{[]string{"funnels", "apply", "-f", good}, "coffee unchanged\n", false},
				{[]string{"funnels", "apply", "-f", bad}, "", true},
				{[]string{"funnels", "get"}, "coffee: saw coffee -> bought within 72h0m0s\n", false},
				{[]string{"funnels", "report", "coffee"}, "saw coffee", false},
				{[]string{"funnels", "campaign", "nope"}, "", true},
			}
			for _, st := range steps {
				out, errOut, err := perk(t, env, st.args...)
				if (err != nil) != st.fail || !strings.Contains(out, st.want) {
					t.Errorf("perk %s: err %v\n%s%s", strings.Join(st.args, " "), err, out, errOut)
				}
			}
		})
	}
}
