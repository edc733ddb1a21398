package loadgen

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"math"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func generate(t testing.TB, opts MembersCSVOptions) ([]byte, MembersCSVStats) {
	t.Helper()
	var buf bytes.Buffer
	st, err := GenerateMembersCSV(&buf, opts)
	if err != nil {
		t.Fatalf("GenerateMembersCSV(%+v): %v", opts, err)
	}
	return buf.Bytes(), st
}

// readAll parses a generated file, allowing the deliberately short rows.
func readAll(t *testing.T, data []byte) [][]string {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("generated file does not parse as CSV: %v", err)
	}
	return recs
}

func TestGenerateMembersCSV_Deterministic(t *testing.T) {
	for _, seed := range []int64{0, 1, -42} {
		opts := MembersCSVOptions{Rows: 2000, BadFraction: 0.05, Seed: seed}
		a, _ := generate(t, opts)
		b, _ := generate(t, opts)
		if !bytes.Equal(a, b) {
			t.Errorf("seed %d: two runs differ", seed)
		}
		opts.Seed++
		if c, _ := generate(t, opts); bytes.Equal(a, c) {
			t.Errorf("seeds %d and %d give the same file", seed, opts.Seed)
		}
	}
}

func TestGenerateMembersCSV_Rows(t *testing.T) {
	const rows, frac = 10_000, 0.02
	data, st := generate(t, MembersCSVOptions{Rows: rows, BadFraction: frac, Seed: 7})
	recs := readAll(t, data)
	if got := strings.Join(recs[0], ","); got != "phone,first_name,last_name,email,birthday,home_store,external_id,sms_consent,loyalty_tier" {
		t.Fatalf("header = %q", got)
	}
	recs = recs[1:]
	if len(recs) != rows || st.Rows != rows {
		t.Fatalf("file has %d rows, stats say %d, want %d", len(recs), st.Rows, rows)
	}
	bad := 0
	kinds := map[string]int{}
	for i, rec := range recs {
		if why := badReason(rec, i); why != "" {
			bad++
			kinds[why]++
		}
	}
	if bad != st.Bad {
		t.Errorf("%d rows are bad, stats say %d", bad, st.Bad)
	}
	// Binomial(10000, 0.02) has a standard deviation of 14 rows; 60 is over 4.
	if math.Abs(float64(bad)-rows*frac) > 60 {
		t.Errorf("%d bad rows, want about %.0f", bad, rows*frac)
	}
	if len(kinds) != badKinds {
		t.Errorf("bad rows cover %d kinds (%v), want all %d", len(kinds), kinds, badKinds)
	}
}

// badReason returns why row i (0-based) is bad, or "" when every field is
// what a good row must hold.
func badReason(rec []string, i int) string {
	if len(rec) != len(membersHeader) {
		return "fields"
	}
	if !ukMobile.MatchString(rec[0]) {
		if strings.HasPrefix(rec[0], "020 ") {
			return "landline"
		}
		return "phone"
	}
	if a, err := mail.ParseAddress(rec[3]); err != nil || a.Address != rec[3] || !strings.HasSuffix(rec[3], "@example.com") {
		return "email"
	}
	if d, err := time.Parse(time.DateOnly, rec[4]); err != nil || d.Year() < 1940 || d.Year() > 2008 {
		return "birthday"
	}
	if rec[7] != "yes" && rec[7] != "no" {
		return "consent"
	}
	// Defects never touch these, so any mismatch is a generator bug.
	n, err := strconv.Atoi(strings.TrimPrefix(rec[5], "S"))
	if rec[1] == "" || rec[2] == "" || err != nil || n < 1 || n > 50 || len(rec[5]) != 4 ||
		rec[6] != "C"+strconv.Itoa(i) || !slices.Contains([]string{"bronze", "silver", "gold"}, rec[8]) {
		return "generator bug: " + strings.Join(rec, "|")
	}
	return ""
}

func TestGenerateMembersCSV_UniquePhones(t *testing.T) {
	const rows = 100_000
	data, _ := generate(t, MembersCSVOptions{Rows: rows, Seed: 1})
	recs := readAll(t, data)[1:]
	seen := make(map[string]int, rows)
	for i, rec := range recs {
		if why := badReason(rec, i); why != "" {
			t.Fatalf("row %d is bad (%s) with BadFraction 0: %q", i+1, why, rec)
		}
		if j, dup := seen[rec[0]]; dup {
			t.Fatalf("rows %d and %d share phone %s", j+1, i+1, rec[0])
		}
		seen[rec[0]] = i
	}
}

func TestGenerateMembersCSV_Edges(t *testing.T) {
	tests := []struct {
		name    string
		opts    MembersCSVOptions
		w       io.Writer
		wantErr bool
	}{
		{"no rows", MembersCSVOptions{}, io.Discard, false},
		{"all bad", MembersCSVOptions{Rows: 12, BadFraction: 1}, io.Discard, false},
		{"negative rows", MembersCSVOptions{Rows: -1}, io.Discard, true},
		{"beyond the numbering", MembersCSVOptions{Rows: phoneSpace + 1}, io.Discard, true},
		{"fraction above 1", MembersCSVOptions{Rows: 1, BadFraction: 1.5}, io.Discard, true},
		{"fraction NaN", MembersCSVOptions{Rows: 1, BadFraction: math.NaN()}, io.Discard, true},
		{"writer fails", MembersCSVOptions{Rows: 100_000}, failingWriter{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := GenerateMembersCSV(tt.w, tt.opts)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error: %v", err, tt.wantErr)
			}
			if !tt.wantErr && (st.Rows != tt.opts.Rows || (tt.opts.BadFraction == 1 && st.Bad != st.Rows)) {
				t.Fatalf("stats = %+v for %+v", st, tt.opts)
			}
		})
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func BenchmarkGenerateMembersCSV(b *testing.B) {
	const rows = 10_000
	data, _ := generate(b, MembersCSVOptions{Rows: rows, BadFraction: 0.02, Seed: 1})
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if _, err := GenerateMembersCSV(io.Discard, MembersCSVOptions{Rows: rows, BadFraction: 0.02, Seed: 1}); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n*rows)/b.Elapsed().Seconds(), "rows/s")
}

// TestGenerateMembersCSV_TagsAddOnlyAColumn: a CRM sync file is the members
// file with a tags column (the tier and a segment); every other field is the
// one the file without tags has.
func TestGenerateMembersCSV_TagsAddOnlyAColumn(t *testing.T) {
	opts := MembersCSVOptions{Rows: 500, BadFraction: 0.05, Seed: 3}
	plain, _ := generate(t, opts)
	opts.Tags = true
	tagged, _ := generate(t, opts)
	read := func(data []byte) [][]string {
		r := csv.NewReader(bytes.NewReader(data))
		r.FieldsPerRecord = -1 // bad rows may be short
		recs, err := r.ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return recs
	}
	pr, tr := read(plain), read(tagged)
	if len(tr) != len(pr) || tr[0][len(tr[0])-1] != "tags" {
		t.Fatalf("tagged file: %d records, header %v", len(tr), tr[0])
	}
	for i := 1; i < len(pr); i++ {
		p, g := pr[i], tr[i]
		if len(p) < len(membersHeader) {
			continue // a short bad row stays short
		}
		if !slices.Equal(g[:len(p)], p) {
			t.Fatalf("row %d: %v, without tags %v", i, g, p)
		}
		if want := p[8] + ";seg" + strconv.Itoa((i-1)%7); g[len(p)] != want {
			t.Errorf("row %d: tags %q, want %q", i, g[len(p)], want)
		}
	}
}
