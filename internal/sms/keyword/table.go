package keyword

import (
	"fmt"
	"maps"
	"strings"
)

// Keyword is what an inbound message asks for.
type Keyword string

// The keywords a shopper can text. Unknown is the zero value: the message
// asked for nothing the platform recognises.
const (
	Join    Keyword = "JOIN"   // enrol, optionally with a name
	Stop    Keyword = "STOP"   // opt out of all messages
	Start   Keyword = "START"  // re-subscribe after a STOP
	Help    Keyword = "HELP"   // programme information
	Points  Keyword = "POINTS" // points balance
	Offers  Keyword = "OFFERS" // current offers
	Code    Keyword = "CODE"   // re-send member code and card link
	Yes     Keyword = "YES"    // confirm a double opt-in
	Invite  Keyword = "INVITE" // the member's own referral link, to share
	Unknown Keyword = ""       // nothing recognised
)

// known is every Keyword an alias may map to.
var known = map[Keyword]bool{Join: true, Stop: true, Start: true, Help: true,
	Points: true, Offers: true, Code: true, Yes: true, Invite: true}

// Match is the result of parsing one message.
type Match struct {
	Keyword Keyword
	Alias   string // the alias matched, normalised, e.g. "UNSUBSCRIBE", "OPT OUT", "ARRET"
	Args    string // the rest of the message, trimmed, original case and accents kept
}

// entry is one alias; map values carry the alias so a match returns it
// without building a string.
type entry struct {
	k     Keyword
	alias string
}

// Table maps normalised aliases (one or two words, e.g. "OPT OUT",
// "STOP ALL") to keywords. A Table is immutable, so one can be shared by
// concurrent Parse calls; the zero Table and a nil *Table know no aliases.
type Table struct {
	alias map[string]entry // "OPT OUT" -> STOP
	// joined indexes aliases by their words run together ("OPTOUT"), so a
	// two-word alias typed as one word, or the reverse, still matches.
	// A one-word alias wins over a two-word one with the same letters.
	joined map[string]entry
}

// defaults is the built-in English table: the CTIA/Ofcom opt-out words for
// STOP and one or two common words for each other keyword. SUBSCRIBE is left
// out of JOIN: a typo of UNSUBSCRIBE must never enrol anyone.
var defaults = func() *Table {
	t := &Table{}
	for _, g := range []struct {
		k       Keyword
		aliases []string
	}{
		{Join, []string{"JOIN", "SIGNUP", "SIGN UP"}},
		{Stop, []string{"STOP", "STOPALL", "STOP ALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPT OUT", "OPTOUT"}},
		{Start, []string{"START", "UNSTOP"}},
		{Help, []string{"HELP", "INFO"}},
		{Points, []string{"POINTS", "BAL", "BALANCE"}},
		{Offers, []string{"OFFERS", "DEALS"}},
		{Code, []string{"CODE", "CARD"}},
		{Yes, []string{"YES", "Y"}},
		{Invite, []string{"INVITE", "REFER"}},
	} {
		var err error
		if t, err = t.With(g.k, g.aliases...); err != nil {
			panic(err) // a mistake in the list above; the tests catch it
		}
	}
	return t
}()

// Default returns the built-in English table. Tables are immutable, so every
// caller gets the same one.
func Default() *Table { return defaults }

// With returns a copy of t with extra aliases for k, as an operator
// configures them (With(Stop, "ARRET", "ARRÊT")). Aliases are normalised the
// same way as messages. It is an error if an alias is empty after
// normalisation, has more than two words, or is already mapped to a
// different keyword (the same keyword is fine), or if adding it would stop
// any alias being read as its own keyword (With(Offers, "END DEALS") would
// always read as STOP, because END is a STOP alias).
func (t *Table) With(k Keyword, aliases ...string) (*Table, error) {
	if !known[k] {
		return nil, fmt.Errorf("keyword: unknown keyword %q", k)
	}
	n := &Table{alias: make(map[string]entry), joined: make(map[string]entry)}
	if t != nil {
		maps.Copy(n.alias, t.alias)
		maps.Copy(n.joined, t.joined)
	}
	for _, a := range aliases {
		words := Normalize(a)
		switch {
		case len(words) == 0:
			return nil, fmt.Errorf("keyword: alias %q for %s has no letters or digits", a, k)
		case len(words) > 2:
			return nil, fmt.Errorf("keyword: alias %q for %s has %d words; at most two", a, k, len(words))
		}
		e := entry{k: k, alias: strings.Join(words, " ")}
		j := strings.Join(words, "")
		if old, ok := n.alias[e.alias]; ok && old.k != k {
			return nil, fmt.Errorf("keyword: alias %q for %s is already mapped to %s", a, k, old.k)
		}
		if old, ok := n.joined[j]; ok && old.k != k {
			return nil, fmt.Errorf("keyword: alias %q for %s is already mapped to %s as %q", a, k, old.k, old.alias)
		}
		n.alias[e.alias] = e
		if old, ok := n.joined[j]; !ok || len(words) == 1 || strings.Contains(old.alias, " ") && old.alias > e.alias {
			n.joined[j] = e // deterministic whatever the order aliases were added in
		}
	}
	// Every alias must still parse as its own keyword; otherwise an operator
	// has configured something that can never match, or shadowed a STOP.
	for _, e := range n.alias {
		if got := n.Parse(e.alias).Keyword; got != e.k {
			return nil, fmt.Errorf("keyword: with %q for %s, alias %q for %s would read as %s", aliases, k, e.alias, e.k, got)
		}
	}
	return n, nil
}
