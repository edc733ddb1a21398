package journey

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/perk-platform/perk/internal/sms/compose"
)

// Duration is a time.Duration written "2h", "90m" or "7d" in JSON and YAML.
type Duration time.Duration

// MarshalText writes d as Go writes durations ("2h0m0s").
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads a Go duration or a whole number of days ("7d").
func (d *Duration) UnmarshalText(b []byte) error {
	s := string(b)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 {
			*d = Duration(time.Duration(n) * 24 * time.Hour)
			return nil
		}
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration such as 2h, 30m or 7d", s)
	}
	*d = Duration(v)
	return nil
}

// UnmarshalYAML reads a duration scalar.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error { return d.UnmarshalText([]byte(n.Value)) }

// MarshalYAML writes d as text.
func (d Duration) MarshalYAML() (any, error) { b, _ := d.MarshalText(); return string(b), nil }

// IsZero lets omitempty leave out a zero duration in YAML.
func (d Duration) IsZero() bool { return d == 0 }

func parseTemplate(name, src string) (*compose.Template, error) { return compose.Parse(name, src) }

// String writes d as a file would: 7d, 2h, 90m written 1h30m.
func (d Duration) String() string { return short(time.Duration(d)) }
