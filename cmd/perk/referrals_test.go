package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLI_Referrals: apply sets the programme (a mistake applies nothing
// and names the field), get prints what apply reads, report prints the
// figures.
func TestCLI_Referrals(t *testing.T) {
	for name, dsn := range databases(t) {
		t.Run(name, func(t *testing.T) {
			env := []string{"PERK_DB=" + dsn(t)}
			dir := t.TempDir()
			good := filepath.Join(dir, "referrals.yaml")
			os.WriteFile(good, []byte("enabled: true\nqualify: purchase\nmin_purchase: 2000\nwithin_days: 30\n"+
				"referrer: {kind: points, points: 500}\nfriend: {kind: points, points: 200}\ncap_per_year: 10\nbudget: 100000\n"), 0o644)
			bad := filepath.Join(dir, "bad.yaml")
			os.WriteFile(bad, []byte("enabled: true\nqualify: purchase\nwithin_days: 0\nreferrer: {kind: points, points: 5}\n"), 0o644)
			typo := filepath.Join(dir, "typo.yaml")
			os.WriteFile(typo, []byte("enabled: true\nrefferer: {kind: points, points: 5}\n"), 0o644)
			steps := []struct {
				args []string
				want string
				fail bool
			}{
				{[]string{"referrals", "get"}, "enabled: false", false},
				{[]string{"referrals", "apply", "-f", good}, "referrals on\n", false},
				{[]string{"referrals", "apply", "-f", bad}, "", true},
				{[]string{"referrals", "apply", "-f", typo}, "", true},
				{[]string{"referrals", "get"}, "cap_per_year: 10", false},
				{[]string{"referrals", "get", "-o", "json"}, `"budget": 100000`, false},
				{[]string{"referrals", "report"}, "sent 0, opened 0, joined 0", false},
			}
			for _, st := range steps {
				out, errOut, err := perk(t, env, st.args...)
				if (err != nil) != st.fail || !strings.Contains(out, st.want) {
					t.Errorf("perk %s: err %v\n%s%s", strings.Join(st.args, " "), err, out, errOut)
				}
				if st.fail && !strings.Contains(errOut, "nothing applied") {
					t.Errorf("perk %s: %s", strings.Join(st.args, " "), errOut)
				}
			}
		})
	}
}
