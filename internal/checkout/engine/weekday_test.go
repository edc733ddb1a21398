package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// TestWeekdays_JSONReadsNamesAndNumbers: the API takes the days as an
// operator writes them in a campaign file, names or numbers, and answers
// with numbers.
func TestWeekdays_JSONReadsNamesAndNumbers(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Weekdays
		err  string // the *json.UnmarshalTypeError's value and field; "" = read
	}{
		{name: "numbers", in: `[0, 1, 6]`, want: Weekdays{time.Sunday, time.Monday, time.Saturday}},
		{name: "short and long names in any case", in: `["sat", "Sunday", "MON", " fri "]`,
			want: Weekdays{time.Saturday, time.Sunday, time.Monday, time.Friday}},
		{name: "names and numbers mixed", in: `["sat", "Sunday", 1]`, want: Weekdays{time.Saturday, time.Sunday, time.Monday}},
		{name: "a number as a string", in: `["3"]`, want: Weekdays{time.Wednesday}},
		{name: "a number out of range is read, for Compile to refuse with its position", in: `[7, -1]`, want: Weekdays{7, -1}},
		{name: "empty", in: `[]`, want: Weekdays{}},
		{name: "null", in: `null`, want: nil},
		{name: "a name that is no day", in: `["sat", "funday"]`, err: `"funday" conditions.days`},
		{name: "a string out of range", in: `["7"]`, err: `"7" conditions.days`},
		{name: "a fraction", in: `[1.5]`, err: `number 1.5 conditions.days`},
		{name: "a null day", in: `[null]`, err: `null conditions.days`},
		{name: "an object", in: `[{"day": 1}]`, err: `object conditions.days`},
		{name: "one day, not a list", in: `"sat"`, err: `string conditions.days`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v struct {
				Conditions Conditions `json:"conditions"`
			}
			err := json.Unmarshal([]byte(`{"conditions": {"days": `+tt.in+`}}`), &v)
			c := v.Conditions
			if tt.err != "" {
				var te *json.UnmarshalTypeError
				if !errors.As(err, &te) {
					t.Fatalf("error %v, want a *json.UnmarshalTypeError", err)
				}
				if got := te.Value + " " + te.Field; got != tt.err {
					t.Errorf("value and field %q, want %q", got, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(c.Days, tt.want) || (c.Days == nil) != (tt.want == nil) {
				t.Errorf("days %#v, want %#v", c.Days, tt.want)
			}
		})
	}
}

func TestWeekdays_JSONWritesNumbers(t *testing.T) {
	b, err := json.Marshal(Conditions{Days: Weekdays{time.Saturday, time.Sunday}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"days":[6,0]}`; string(b) != want {
		t.Errorf("%s, want %s", b, want)
	}
}

func TestWeekdays_YAMLWritesShortNames(t *testing.T) {
	v, err := Weekdays{time.Saturday, time.Sunday, 9}.MarshalYAML()
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(v); got != "[sat sun 9]" {
		t.Errorf("%s, want [sat sun 9]", got)
	}
}

func TestParseWeekday(t *testing.T) {
	for in, want := range map[string]time.Weekday{"sun": 0, "Sunday": 0, "0": 0, "TUE": 2, "wednesday": 3, "6": 6, " sat ": 6} {
		if got, ok := ParseWeekday(in); !ok || got != want {
			t.Errorf("ParseWeekday(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "7", "-1", "sa", "saturdays", "funday", "1.0"} {
		if got, ok := ParseWeekday(in); ok {
			t.Errorf("ParseWeekday(%q) = %v, want no day", in, got)
		}
	}
}
