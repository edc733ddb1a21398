package main

import (
	"strings"
	"testing"
)

// TestCLI_ProfilesRefresh: perk profiles refresh recomputes the profiles and
// says how many; a wrong sub-command is a usage error.
func TestCLI_ProfilesRefresh(t *testing.T) {
	for name, dsn := range databases(t) {
		t.Run(name, func(t *testing.T) {
			env := []string{"PERK_DB=" + dsn(t)}
			steps := []struct {
				args []string
				want string
				fail bool
			}{
				{[]string{"profiles", "refresh"}, "0 profiles refreshed, 0 members scored, 0 entered a segment\n", false},
				{[]string{"profiles", "refresh", "-o", "json", "--profile-window", "30d"}, `"scored": 0`, false},
				{[]string{"profiles", "rebuild"}, "", true},
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

// TestCLI_VarianceRebuild: perk variance rebuild learns the live campaigns'
// norms again and says how many; a wrong sub-command is a usage error.
func TestCLI_VarianceRebuild(t *testing.T) {
	for name, dsn := range databases(t) {
		t.Run(name, func(t *testing.T) {
			env := []string{"PERK_DB=" + dsn(t)}
			steps := []struct {
				args []string
				want string
				fail bool
			}{
				{[]string{"variance", "rebuild"}, "0 campaigns' norms rebuilt from 0 comparable campaigns\n", false},
				{[]string{"variance", "rebuild", "-o", "json"}, `"campaigns": 0`, false},
				{[]string{"variance", "refresh"}, "", true},
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
