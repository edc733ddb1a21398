package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCLI_CRMOffersFile: a CRM's offer file gives each named member their
// offer (one campaign per distinct offer, announced unless the row says
// not), lists the rows naming no member in the errors file, and given again
// changes nothing.
func TestCLI_CRMOffersFile(t *testing.T) {
	for name, dsn := range databases(t) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			env := []string{"PERK_DB=" + dsn(t), "PERK_DATA_DIR=" + dir, "PERK_LOG_LEVEL=warn"}
			members := filepath.Join(dir, "members.csv")
			os.WriteFile(members, []byte("phone,external_id,first_name,consent\n07700900201,CRM-1,Ann,yes\n07700900202,CRM-2,Bo,yes\n"), 0o644)
			if _, stderr, err := perk(t, env, "members", "import", members, "--welcome=false"); err != nil {
				t.Fatalf("import: %v\n%s", err, stderr)
			}
			offers := filepath.Join(dir, "offers.csv")
			os.WriteFile(offers, []byte("external_id,description,kind,amount,points,categories,start,end,message,announce\n"+
				"CRM-1,£2 off your coffee,amount_off,200,,coffee,2026-01-01,2099-01-01,{{.FirstName}}: £2 off coffee,yes\n"+
				"CRM-2,£2 off your coffee,amount_off,200,,coffee,2026-01-01,2099-01-01,{{.FirstName}}: £2 off coffee,yes\n"+
				"CRM-9,£2 off your coffee,amount_off,200,,coffee,2026-01-01,2099-01-01,{{.FirstName}}: £2 off coffee,yes\n"+
				"CRM-2,A quiet treat,points_bonus,,50,,2026-01-01,2099-01-01,,no\n"+
				"CRM-1,Nothing at all,points_bonus,,,,2026-01-01,2099-01-01,,no\n"), 0o644)
			out, stderr, err := perk(t, env, "crm", "offers", offers)
			if err != nil {
				t.Fatalf("crm offers: %v\n%s", err, stderr)
			}
			lines := regexp.MustCompile(`\(cmp_\w+\)`).ReplaceAllString(out, "(cmp)")
			want := []string{": £2 off your coffee (cmp): 2 given, 0 had it already, 2 announced", ": A quiet treat (cmp): 1 given, 0 had it already, 0 announced"}
			for _, w := range want {
				if !strings.Contains(lines, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			// An unknown CRM id, and a points bonus of no points (refused by
			// the campaign rules), are rejected naming their rows.
			errs, _ := os.ReadFile(offers + ".errors.csv")
			if !strings.Contains(string(errs), "4,external_id,member not found") || !strings.Contains(string(errs), "6,points,") ||
				!strings.Contains(stderr, "2 rows rejected") {
				t.Errorf("errors file:\n%s\nstderr: %s", errs, stderr)
			}
			out, _, err = perk(t, env, "crm", "offers", offers)
			if err != nil || !strings.Contains(out, "0 given, 2 had it already, 0 announced") {
				t.Errorf("given again: %v\n%s", err, out)
			}
			out, _, _ = perk(t, env, "sms", "outbox", "-o", "json")
			if n := strings.Count(out, `"purpose": "campaign"`); n != 2 {
				t.Errorf("%d announcements queued, want 2:\n%s", n, out)
			}
		})
	}
}

// TestCLI_CRMSync: perk crm sync upserts the subset by CRM id and, with
// --full, says how many members left it.
func TestCLI_CRMSync(t *testing.T) {
	dir := t.TempDir()
	env := []string{"PERK_DB=" + filepath.Join(dir, "perk.db"), "PERK_DATA_DIR=" + dir, "PERK_LOG_LEVEL=warn"}
	file := filepath.Join(dir, "subset.csv")
	os.WriteFile(file, []byte("external_id,phone,tags\nCRM-1,07700900401,gold\nCRM-2,07700900402,\n"), 0o644)
	if _, stderr, err := perk(t, env, "crm", "sync", file, "--welcome=false"); err != nil || !strings.Contains(stderr, "2 created") {
		t.Fatalf("sync: %v\n%s", err, stderr)
	}
	os.WriteFile(file, []byte("external_id\nCRM-2\n"), 0o644)
	_, stderr, err := perk(t, env, "crm", "sync", "--full", file)
	if err != nil || !strings.Contains(stderr, `full sync: 1 members not in the file left the CRM subset (tag "crm" removed)`) {
		t.Fatalf("full sync: %v\n%s", err, stderr)
	}
}
