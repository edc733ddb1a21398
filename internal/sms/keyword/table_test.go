package keyword

import (
	"strings"
	"testing"
)

// french is how an operator in Quebec or France might extend the table.
func french(t *testing.T) *Table {
	t.Helper()
	tab := Default()
	for k, aliases := range map[Keyword][]string{
		Stop: {"ARRET", "ARRÊT", "arrêt"}, // the same alias three ways is fine
		Join: {"INSCRIPTION"},
		Help: {"AIDE"},
		Yes:  {"OUI"},
	} {
		var err error
		if tab, err = tab.With(k, aliases...); err != nil {
			t.Fatalf("With(%s, %q): %v", k, aliases, err)
		}
	}
	return tab
}

func TestWith_OperatorAliasesInOtherLanguages(t *testing.T) {
	checkParse(t, french(t), map[string]Match{
		"arrêt":             {Stop, "ARRET", ""},
		"ARRET":             {Stop, "ARRET", ""},
		"Arrêt, merci":      {Stop, "ARRET", "merci"},
		"aide":              {Help, "AIDE", ""},
		"inscription Marie": {Join, "INSCRIPTION", "Marie"},
		"Inscription Zoé":   {Join, "INSCRIPTION", "Zoé"},
		"oui":               {Yes, "OUI", ""},
		"stop":              {Stop, "STOP", ""}, // the English aliases remain
	})
}

func TestWith_TwoWordAliasesMatchWithOrWithoutTheSpace(t *testing.T) {
	tab, err := Default().With(Stop, "DÉSABONNER", "NE PLUS")
	if err != nil {
		t.Fatal(err)
	}
	checkParse(t, tab, map[string]Match{
		"ne plus":         {Stop, "NE PLUS", ""},
		"ne-plus merci":   {Stop, "NE PLUS", "merci"},
		"NEPLUS":          {Stop, "NE PLUS", ""},
		"dés abonner":     {Stop, "DESABONNER", ""},
		"ne pas deranger": {Unknown, "", "ne pas deranger"},
	})
}

func TestWith_RefusesAnAliasMappedElsewhere(t *testing.T) {
	for _, tc := range []struct {
		k     Keyword
		alias string
	}{
		{Join, "STOP"},
		{Join, "stop!"},
		{Help, "Opt-Out"},
		{Help, "OPTOUT"},
		{Start, "stop all"},
		{Offers, "SIGN-UP"},
		{Code, "yes"},
	} {
		if _, err := Default().With(tc.k, tc.alias); err == nil || !strings.Contains(err.Error(), "already mapped") {
			t.Errorf("With(%s, %q) error = %v, want already mapped", tc.k, tc.alias, err)
		}
	}
	if _, err := Default().With(Stop, "stop", "Stop-All", "QUIT"); err != nil {
		t.Errorf("re-adding STOP's own aliases: %v", err)
	}
}

func TestWith_RefusesEmptyLongAndUnknownKeywordAliases(t *testing.T) {
	for _, tc := range []struct {
		k     Keyword
		alias string
		want  string
	}{
		{Help, "", "no letters"},
		{Help, " -!- ", "no letters"},
		{Help, "👍", "no letters"},
		{Help, "help me now", "at most two"},
		{Keyword("BOGUS"), "BOGUS", "unknown keyword"},
		{Unknown, "HI", "unknown keyword"},
	} {
		if _, err := Default().With(tc.k, tc.alias); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("With(%q, %q) error = %v, want %q", tc.k, tc.alias, err, tc.want)
		}
	}
}

// A STOP alias as first word always wins, so an alias that starts with one,
// or a STOP alias that would swallow another alias, can never work.
func TestWith_RefusesAliasesThatAStopWouldShadow(t *testing.T) {
	for _, tc := range []struct {
		k     Keyword
		alias string
	}{
		{Offers, "END DEALS"},
		{Help, "STOP HELP"},
		{Help, "PLEASE STOP"},
		{Stop, "SIGN"}, // would turn "SIGN UP" into STOP
	} {
		if _, err := Default().With(tc.k, tc.alias); err == nil || !strings.Contains(err.Error(), "would read as") {
			t.Errorf("With(%s, %q) error = %v, want would read as", tc.k, tc.alias, err)
		}
	}
}

func TestWith_LeavesTheOriginalTableUnchanged(t *testing.T) {
	if _, err := Default().With(Stop, "ARRET"); err != nil {
		t.Fatal(err)
	}
	if got := Default().Parse("arret"); got.Keyword != Unknown {
		t.Errorf("Default().Parse(arret) = %+v after With on it, want Unknown", got)
	}
	tab, err := (*Table)(nil).With(Help, "AIDE")
	if err != nil || tab.Parse("aide").Keyword != Help || tab.Parse("help").Keyword != Unknown {
		t.Errorf("With on a nil table: %v, %+v", err, tab.Parse("aide"))
	}
}

func TestDefault_EveryAliasReadsAsItsOwnKeyword(t *testing.T) {
	want := map[Keyword]int{Join: 3, Stop: 10, Start: 2, Help: 2, Points: 3, Offers: 2, Code: 2, Yes: 2}
	got := map[Keyword]int{}
	for a, e := range Default().alias {
		got[e.k]++
		if m := Default().Parse(a); m.Keyword != e.k || m.Alias != a || m.Args != "" {
			t.Errorf("Parse(%q) = %+v, want {%s %s}", a, m, e.k, a)
		}
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("Default has %d aliases for %s, want %d", got[k], k, n)
		}
	}
}
