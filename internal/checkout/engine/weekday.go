package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Weekdays are the local days of the week a campaign applies on, as
// time.Weekday: 0 = Sunday .. 6 = Saturday. Operators write them the same way
// in the API's JSON and in campaign files' YAML: by name in any case, short or
// long ("sat", "Saturday"), or by number (6, or "6" as a string).
//
// JSON writes numbers: the API has always answered with them and stored specs
// hold them. YAML writes short names ("sat"), which `perk campaigns get -o
// yaml` prints and apply reads back. A number outside 0..6 is read as it is
// and refused by Compile, which names its position (conditions.days[1]).
//
// The type reads YAML through the decoder's older Unmarshaler interface and
// writes it through Marshaler, both declared without naming a YAML package,
// so the engine imports nothing but the standard library. A day that is no
// day fails the YAML decoding without a line: readers that want the line
// check the days first with ParseWeekday (campaign files do).
type Weekdays []time.Weekday

// DayNames is how a day that is no day is explained.
const DayNames = "sun to sat, sunday to saturday, or 0 = Sunday to 6 = Saturday"

// weekdayType is the type a JSON decoding error names, for the API to word it.
var weekdayType = reflect.TypeFor[time.Weekday]()

var weekdayNames = func() map[string]time.Weekday {
	m := map[string]time.Weekday{}
	for d := time.Sunday; d <= time.Saturday; d++ {
		name := strings.ToLower(d.String())
		m[name], m[name[:3]], m[strconv.Itoa(int(d))] = d, d, d
	}
	return m
}()

// ParseWeekday reads a day written as a string: a name in any case, short or
// long ("sat", "Saturday"), or a number from "0" (Sunday) to "6" (Saturday).
// Spaces around it are ignored.
func ParseWeekday(s string) (time.Weekday, bool) {
	d, ok := weekdayNames[strings.ToLower(strings.TrimSpace(s))]
	return d, ok
}

// UnmarshalJSON reads an array of days: names as strings, numbers as numbers
// or strings. A value that is no day is a *json.UnmarshalTypeError of type
// time.Weekday, so the decoder adds the field's path (conditions.days).
func (w *Weekdays) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*w = nil
		return nil
	}
	if len(b) == 0 || b[0] != '[' {
		return &json.UnmarshalTypeError{Value: jsonKind(b), Type: reflect.TypeFor[Weekdays]()}
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	days := make(Weekdays, 0, len(raw))
	for _, r := range raw {
		var s string
		switch {
		case len(r) > 0 && r[0] == '"':
			if err := json.Unmarshal(r, &s); err != nil {
				return err
			}
			d, ok := ParseWeekday(s)
			if !ok {
				return &json.UnmarshalTypeError{Value: strconv.Quote(s), Type: weekdayType}
			}
			days = append(days, d)
		case len(r) > 0 && (r[0] == '-' || r[0] >= '0' && r[0] <= '9'):
			n, err := strconv.Atoi(string(r))
			if err != nil {
				return &json.UnmarshalTypeError{Value: "number " + string(r), Type: weekdayType}
			}
			days = append(days, time.Weekday(n))
		default:
			return &json.UnmarshalTypeError{Value: jsonKind(r), Type: weekdayType}
		}
	}
	*w = days
	return nil
}

// jsonKind names a JSON value as encoding/json's errors do.
func jsonKind(b []byte) string {
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}

// UnmarshalYAML reads a sequence of days: names as strings, numbers as
// numbers or strings (the YAML decoder's older Unmarshaler interface).
func (w *Weekdays) UnmarshalYAML(unmarshal func(any) error) error {
	var raw []any
	if err := unmarshal(&raw); err != nil {
		return err // a *yaml.TypeError with its line, which the decoder lists
	}
	days := make(Weekdays, 0, len(raw))
	for _, v := range raw {
		switch v := v.(type) {
		case int:
			days = append(days, time.Weekday(v))
		case string:
			d, ok := ParseWeekday(v)
			if !ok {
				return fmt.Errorf("%q is not a day of the week (%s)", v, DayNames)
			}
			days = append(days, d)
		default:
			return fmt.Errorf("%v is not a day of the week (%s)", v, DayNames)
		}
	}
	*w = days
	return nil
}

// MarshalYAML writes the days by their short names (sun .. sat).
func (w Weekdays) MarshalYAML() (any, error) {
	out := make([]any, len(w))
	for i, d := range w {
		if d >= time.Sunday && d <= time.Saturday {
			out[i] = strings.ToLower(d.String()[:3])
		} else {
			out[i] = int(d) // refused by Compile; written as it is
		}
	}
	return out, nil
}
