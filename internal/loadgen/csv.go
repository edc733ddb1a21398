package loadgen

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

// MembersCSVOptions configure GenerateMembersCSV.
type MembersCSVOptions struct {
	Rows        int     // data rows, at most 10^8 (the phone numbering's size)
	BadFraction float64 // share of deliberately bad rows (e.g. 0.02), in [0, 1]
	Seed        int64   // same seed, same file
	// Tags adds a tags column, as a CRM sync file carries its segments:
	// the row's loyalty tier and one of seven segments ("seg0".."seg6"),
	// derived from the row so the other columns are the same either way.
	Tags bool
}

// MembersCSVStats reports what was written.
type MembersCSVStats struct {
	Rows int // data rows written, bad ones included
	Bad  int // rows written with a deliberate defect
}

// membersHeader is the header GenerateMembersCSV writes. loyalty_tier is not
// a Perk field, so an import keeps it as an attribute.
var membersHeader = []string{"phone", "first_name", "last_name", "email", "birthday",
	"home_store", "external_id", "sms_consent", "loyalty_tier"}

// Bad rows cycle through these defects, one per row, so a file of any size
// exercises every rejection path in similar numbers.
const (
	badShortPhone = iota
	badLandline
	badEmail
	badBirthday
	badConsent
	badFewFields
	badKinds
)

// Birthdays fall between these dates (UTC, inclusive).
var (
	birthdayFirst = time.Date(1940, time.January, 1, 0, 0, 0, 0, time.UTC)
	birthdayDays  = int(time.Date(2008, time.December, 31, 0, 0, 0, 0, time.UTC).Sub(birthdayFirst).Hours()/24) + 1
)

// GenerateMembersCSV writes a header plus opts.Rows rows, streaming (constant
// memory). Good rows carry a UK mobile number that is unique within the file
// and the same for a given row index whatever the seed; names, dates and the
// choice of bad rows come from a PCG generator seeded with opts.Seed.
func GenerateMembersCSV(w io.Writer, opts MembersCSVOptions) (MembersCSVStats, error) {
	var st MembersCSVStats
	switch {
	case opts.Rows < 0 || opts.Rows > phoneSpace:
		return st, fmt.Errorf("loadgen: rows must be between 0 and %d, not %d", phoneSpace, opts.Rows)
	case !(opts.BadFraction >= 0 && opts.BadFraction <= 1): // also refuses NaN
		return st, fmt.Errorf("loadgen: bad fraction must be between 0 and 1, not %v", opts.BadFraction)
	}
	// The second PCG word is a fixed constant so that only Seed varies the file.
	rng := rand.New(rand.NewPCG(uint64(opts.Seed), 0x7065726b))
	cw := csv.NewWriter(w)
	header := membersHeader
	if opts.Tags {
		header = append(slices.Clone(header), "tags")
	}
	if err := cw.Write(header); err != nil {
		return st, err
	}
	rec := make([]string, len(header))
	var buf []byte // reused for the phone and the date: one allocation each per row, not more
	for i := range opts.Rows {
		buf = goodRow(rec, buf, rng, i)
		if opts.Tags {
			rec[len(membersHeader)] = rec[8] + ";" + segments[i%len(segments)]
		}
		out := rec
		// Drawn for every row, bad or not, so the rows after a bad one do not
		// shift when BadFraction changes only slightly.
		if rng.Float64() < opts.BadFraction {
			out = spoil(rec, rng, st.Bad%badKinds)
			st.Bad++
		}
		if err := cw.Write(out); err != nil {
			return st, err
		}
		st.Rows++
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return st, errors.Join(errors.New("loadgen: writing members CSV"), err)
	}
	return st, nil
}

var segments = [...]string{"seg0", "seg1", "seg2", "seg3", "seg4", "seg5", "seg6"}

// goodRow fills rec with a valid member for row i, using buf as scratch.
func goodRow(rec []string, buf []byte, rng *rand.Rand, i int) []byte {
	first := firstNames[rng.IntN(len(firstNames))]
	last := lastNames[rng.IntN(len(lastNames))]
	buf = appendMobile(buf[:0], phonesForFiles, uint64(i))
	rec[0] = string(buf)
	rec[1] = first.display
	rec[2] = last.display
	idx := strconv.Itoa(i)
	rec[3] = first.ascii + "." + last.ascii + idx + "@example.com"
	buf = birthdayFirst.AddDate(0, 0, rng.IntN(birthdayDays)).AppendFormat(buf[:0], time.DateOnly)
	rec[4] = string(buf)
	rec[5] = storeIDs[rng.IntN(len(storeIDs))]
	rec[6] = "C" + idx
	rec[7] = [2]string{"yes", "no"}[rng.IntN(2)]
	rec[8] = [3]string{"bronze", "silver", "gold"}[rng.IntN(3)]
	return buf
}

// storeIDs are S001..S050, built once rather than formatted per row.
var storeIDs = func() []string {
	ids := make([]string, 50)
	for i := range ids {
		ids[i] = fmt.Sprintf("S%03d", i+1)
	}
	return ids
}()

// spoil gives a good row one defect of the given kind. Every other field
// stays valid, so an importer must reject the row for exactly that reason.
func spoil(rec []string, rng *rand.Rand, kind int) []string {
	switch kind {
	case badShortPhone:
		rec[0] = "07400 12"
	case badLandline:
		// 020 7946 0xxx is Ofcom's drama range for London: a landline, so
		// never a mobile, and no real subscriber.
		rec[0] = fmt.Sprintf("020 7946 0%03d", rng.IntN(1000))
	case badEmail:
		rec[3] = "nobody@"
	case badBirthday:
		rec[4] = "31/12/1990"
	case badConsent:
		rec[7] = "maybe"
	case badFewFields:
		return rec[:5]
	}
	return rec
}
