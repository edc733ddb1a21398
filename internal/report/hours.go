package report

import "time"

// span is a half-open time range [From, To).
type span struct{ From, To time.Time }

// hourSplit splits [from, to) into the whole UTC hours it holds, numbered
// from the Unix epoch as the roll-ups key them ([first, last) in hours; empty
// when first == last), and the partial hours at its ends (at most two spans),
// which a figure reads from the raw rows so that a roll-up by hour answers
// exactly what a query over [from, to) would. A zero to leaves the range open
// at its end: every hour from the first whole one on (last is then maxHour).
func hourSplit(from, to time.Time) (first, last int64, edges []span) {
	const h = int64(time.Hour / time.Second)
	first = ceilDiv(from.Unix(), h)
	if time.Unix(first*h, 0).Before(from) {
		first++ // from is a fraction of a second past the hour
	}
	if to.IsZero() {
		if start := time.Unix(first*h, 0).UTC(); from.Before(start) {
			edges = append(edges, span{from, start})
		}
		return first, maxHour, edges
	}
	last = floorDiv(to.Unix(), h)
	if last <= first {
		// No whole hour inside: the range is read from the rows alone.
		if from.Before(to) {
			edges = append(edges, span{from, to})
		}
		return first, first, edges
	}
	if start := time.Unix(first*h, 0).UTC(); from.Before(start) {
		edges = append(edges, span{from, start})
	}
	if end := time.Unix(last*h, 0).UTC(); end.Before(to) {
		edges = append(edges, span{end, to})
	}
	return first, last, edges
}

// maxHour is an hour no stored time reaches (the year 10,000 is beyond
// every timestamp column).
const maxHour = int64(1) << 40

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func ceilDiv(a, b int64) int64 { return -floorDiv(-a, b) }
