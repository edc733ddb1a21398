package campaign

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/tabular"
)

// OfferGrant is one offer of a CRM's offer file with the members given it:
// the rows that wrote the same offer, in file order.
type OfferGrant struct {
	Offer    PersonalOffer
	Announce bool
	Rows     []int    // the file's row of each member
	Members  []string // member keys: "ext:" + the row's external_id, or its member column
}

// offerColumns are the columns of an offer file; external_id (or member),
// description, kind, start and end are required.
var offerColumns = []string{"external_id", "member", "description", "kind", "percent", "amount", "price", "threshold",
	"buy", "get", "points", "multiplier", "skus", "categories", "min_basket", "days", "from", "to", "stores",
	"start", "end", "timezone", "uses", "message", "announce"}

// ReadOfferFile reads a CRM's personal-offer file (CSV or TSV, one member
// and offer a row) into grants, one per distinct offer. A row that cannot be
// read is passed to onError with its row, column and reason, and the rest of
// the file is still read; an unreadable header is an error.
func ReadOfferFile(r io.Reader, onError func(*tabular.RowError) error) ([]*OfferGrant, error) {
	rd, err := tabular.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("offer file: %w", err)
	}
	have := map[string]bool{}
	for _, h := range rd.Header() {
		have[h] = true
	}
	for _, h := range rd.Header() {
		if !isOfferColumn(h) {
			return nil, &tabular.HeaderError{Reason: fmt.Sprintf("unknown column %q (want %s)", h, strings.Join(offerColumns, ", "))}
		}
	}
	for _, need := range []string{"description", "kind", "start", "end"} {
		if !have[need] {
			return nil, &tabular.HeaderError{Reason: "no " + need + " column"}
		}
	}
	if !have["external_id"] && !have["member"] {
		return nil, &tabular.HeaderError{Reason: "no external_id (or member) column"}
	}
	byOffer := map[string]*OfferGrant{}
	var out []*OfferGrant
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		var re *tabular.RowError
		if errors.As(err, &re) {
			if err := onError(re); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("offer file: %w", err)
		}
		key, o, announce, rowErr := offerRow(rec)
		if rowErr != nil {
			if err := onError(rowErr); err != nil {
				return nil, err
			}
			continue
		}
		id := o.Spec().Name + "\x00" + strconv.FormatBool(announce)
		g := byOffer[id]
		if g == nil {
			g = &OfferGrant{Offer: o, Announce: announce}
			byOffer[id] = g
			out = append(out, g)
		}
		g.Rows, g.Members = append(g.Rows, rec.Row), append(g.Members, key)
	}
}

func isOfferColumn(h string) bool {
	for _, c := range offerColumns {
		if h == c {
			return true
		}
	}
	return false
}

// offerRow reads one row: the member key, the offer and whether to announce.
func offerRow(rec tabular.Record) (string, PersonalOffer, bool, *tabular.RowError) {
	get := func(c string) string { v, _ := rec.Get(c); return strings.TrimSpace(v) }
	bad := func(col, format string, a ...any) *tabular.RowError {
		return &tabular.RowError{Row: rec.Row, Column: col, Reason: fmt.Sprintf(format, a...)}
	}
	var o PersonalOffer
	key := get("member")
	if ext := get("external_id"); ext != "" {
		key = "ext:" + ext
	}
	if key == "" {
		return "", o, false, bad("external_id", "empty: the row names no member")
	}
	o.Description, o.Start, o.End, o.TimeZone, o.Message = get("description"), get("start"), get("end"), get("timezone"), get("message")
	o.Benefit.Kind = engine.Kind(get("kind"))
	o.Benefit.Description = o.Description
	o.Benefit.Scope = engine.Scope{SKUs: list(get("skus")), Categories: list(get("categories"))}
	o.Stores = list(get("stores"))
	o.Conditions.From, o.Conditions.To = get("from"), get("to")
	for _, d := range list(get("days")) {
		day, ok := engine.ParseWeekday(d)
		if !ok {
			return "", o, false, bad("days", "not a day of the week: %q", d)
		}
		o.Conditions.Days = append(o.Conditions.Days, day)
	}
	ints := []struct {
		col string
		dst *int64
	}{{"amount", &o.Benefit.Amount}, {"price", &o.Benefit.Price}, {"threshold", &o.Benefit.Threshold},
		{"points", &o.Benefit.Points}, {"min_basket", &o.Conditions.MinBasket}}
	for _, f := range ints {
		if v := get(f.col); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return "", o, false, bad(f.col, "not a whole number of minor units: %q", v)
			}
			*f.dst = n
		}
	}
	smalls := []struct {
		col string
		dst *int
	}{{"percent", &o.Benefit.Percent}, {"buy", &o.Benefit.Buy}, {"get", &o.Benefit.Get},
		{"multiplier", &o.Benefit.Multiplier}, {"uses", &o.Uses}}
	for _, f := range smalls {
		if v := get(f.col); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return "", o, false, bad(f.col, "not a whole number: %q", v)
			}
			*f.dst = n
		}
	}
	announce := true
	switch strings.ToLower(get("announce")) {
	case "", "yes", "y", "true", "1":
	case "no", "n", "false", "0":
		announce = false
	default:
		return "", o, false, bad("announce", "want yes or no, not %q", get("announce"))
	}
	spec := o.Spec()
	if _, _, err := spec.Validate(time.UTC); err != nil {
		col, reason := offerProblem(err)
		return "", o, false, bad(col, "%s", reason)
	}
	return key, o, announce, nil
}

// offerProblem names the file column a campaign-spec problem is about.
func offerProblem(err error) (string, string) {
	var pe *problem.Error
	if !errors.As(err, &pe) {
		return "", err.Error()
	}
	f := pe.Field
	if strings.HasPrefix(f, "benefits[0].scope") {
		f = "skus"
	}
	for _, m := range []struct{ from, to string }{{"benefits[0].", ""},
		{"conditions.", ""}, {"limits.per_member", "uses"}, {"name", "description"}} {
		if strings.HasPrefix(f, m.from) {
			f = m.to + strings.TrimPrefix(f, m.from)
			break
		}
	}
	if !isOfferColumn(f) {
		f = ""
	}
	return f, pe.Message
}

// list splits a cell of several values ("coffee;tea").
func list(v string) []string {
	if v == "" {
		return nil
	}
	var out []string
	for _, s := range strings.FieldsFunc(v, func(r rune) bool { return r == ';' || r == '|' || r == ',' }) {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
