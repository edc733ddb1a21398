package mart

import (
	"database/sql"
	"strconv"
	"time"
)

// Value is one cell. Its meaning depends on the column's Kind: S for
// String, N for Int and Bool (0/1), T for Time and Date. A zero Value with
// Valid false is NULL.
type Value struct {
	S     string
	N     int64
	T     time.Time
	Valid bool
}

// Str is a string cell; the empty string is NULL, as an empty CSV field is.
func Str(s string) Value { return Value{S: s, Valid: s != ""} }

// NullStr is a nullable string cell.
func NullStr(s sql.NullString) Value { return Str(s.String) }

// Int64 is an integer cell.
func Int64(n int64) Value { return Value{N: n, Valid: true} }

// NullInt is a nullable integer cell.
func NullInt(n sql.NullInt64) Value { return Value{N: n.Int64, Valid: n.Valid} }

// Boolean is a bool cell.
func Boolean(b bool) Value {
	if b {
		return Value{N: 1, Valid: true}
	}
	return Value{Valid: true}
}

// At is a time cell, in UTC and truncated to microseconds (what parquet
// timestamps hold), so CSV and parquet carry the same instant.
func At(t time.Time) Value { return Value{T: t.UTC().Truncate(time.Microsecond), Valid: !t.IsZero()} }

// NullAt is a nullable time cell.
func NullAt(t sql.NullTime) Value {
	if !t.Valid {
		return Value{}
	}
	return At(t.Time)
}

// Day is a date cell: the UTC calendar day of t.
func Day(t time.Time) Value {
	t = t.UTC()
	return Value{T: time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), Valid: !t.IsZero()}
}

// Row is one row of a table, a Value per column in the table's order.
type Row []Value

// text renders v as a CSV field.
func (v Value) text(k Kind) string {
	if !v.Valid {
		return ""
	}
	switch k {
	case Int:
		return strconv.FormatInt(v.N, 10)
	case Time:
		return v.T.Format(time.RFC3339Nano)
	case Date:
		return v.T.Format(time.DateOnly)
	case Bool:
		return strconv.FormatBool(v.N != 0)
	}
	return v.S
}

// dateKey is the YYYYMMDD number of t's UTC day, the key of dim_date.
func dateKey(t time.Time) int64 {
	t = t.UTC()
	return int64(t.Year()*10000 + int(t.Month())*100 + t.Day())
}
