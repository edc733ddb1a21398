package campaign_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/tabular"
)

// TestReadOfferFile: a CRM's offer file becomes one grant per distinct offer
// (and announce choice), with its members in file order; every bad row is
// reported with its row, column and reason and loses nothing else.
func TestReadOfferFile(t *testing.T) {
	f, err := os.Open("testdata/offers.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var errs bytes.Buffer
	ew := tabular.NewErrorWriter(&errs)
	grants, err := campaign.ReadOfferFile(f, ew.Write)
	if err != nil {
		t.Fatal(err)
	}
	if err := ew.Flush(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range grants {
		got = append(got, g.Offer.Description+" announce="+map[bool]string{true: "yes", false: "no"}[g.Announce]+": "+strings.Join(g.Members, " "))
	}
	want := []string{
		"£2 off your coffee announce=yes: ext:CRM-1 ext:CRM-2",
		"£2 off your coffee announce=no: ext:CRM-3",
		"10% off bakery at weekends announce=yes: ext:CRM-4",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("grants:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if g := grants[2].Offer; g.Uses != 2 || g.Conditions.MinBasket != 500 || len(g.Conditions.Days) != 2 || g.Benefit.Percent != 10 {
		t.Errorf("bakery offer %+v", g)
	}
	golden := filepath.Join("testdata", "offers.errors.csv")
	if *update {
		os.WriteFile(golden, errs.Bytes(), 0o644)
	}
	if g, _ := os.ReadFile(golden); string(g) != errs.String() {
		t.Errorf("errors file:\n%s\nwant (golden %s):\n%s", errs.String(), golden, g)
	}
}

// TestReadOfferFile_RefusesAnUnusableHeader: a file whose header lacks a
// required column, or has one Perk does not know (a typo would otherwise
// drop a value silently), is refused before any row is read.
func TestReadOfferFile_RefusesAnUnusableHeader(t *testing.T) {
	for header, want := range map[string]string{
		"external_id,description,kind,start":            "no end column",
		"description,kind,start,end":                    "no external_id (or member) column",
		"external_id,description,kind,start,end,percnt": `unknown column "percnt"`,
	} {
		_, err := campaign.ReadOfferFile(strings.NewReader(header+"\n"), func(*tabular.RowError) error { return nil })
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", header, err, want)
		}
	}
}

// FuzzReadOfferFile: no file makes the reader panic or hang, and a row is
// either in a grant or reported, never both, never neither.
func FuzzReadOfferFile(f *testing.F) {
	seed, _ := os.ReadFile("testdata/offers.csv")
	f.Add(string(seed))
	f.Add("member,description,kind,amount,start,end\n12345670,x,amount_off,1,2026-01-01,2026-02-01\n")
	f.Fuzz(func(t *testing.T, file string) {
		reported := map[int]bool{}
		grants, err := campaign.ReadOfferFile(strings.NewReader(file), func(e *tabular.RowError) error {
			reported[e.Row] = true
			return nil
		})
		if err != nil {
			return
		}
		for _, g := range grants {
			if len(g.Rows) != len(g.Members) || len(g.Rows) == 0 {
				t.Fatalf("grant with %d rows and %d members", len(g.Rows), len(g.Members))
			}
			for _, r := range g.Rows {
				if reported[r] {
					t.Fatalf("row %d both granted and reported", r)
				}
			}
		}
	})
}
