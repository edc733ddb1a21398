package funnel

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/perk-platform/perk/internal/problem"
)

// UnmarshalYAML reads a window written as "72h", "30m" or "7d".
func (d *Duration) UnmarshalYAML(n *yaml.Node) error { return d.UnmarshalText([]byte(n.Value)) }

// MarshalYAML writes d as "72h0m0s".
func (d Duration) MarshalYAML() (any, error) { b, _ := d.MarshalText(); return string(b), nil }

// DecodeFile reads funnel definitions from YAML (or JSON, which is YAML),
// documents separated by "---", refusing unknown fields; every definition is
// validated, and an error names the document (1-based) and the field, so a
// file with a mistake is refused before anything is applied.
func DecodeFile(src []byte) ([]Definition, error) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	var out []Definition
	for doc := 1; ; doc++ {
		var d Definition
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, problem.InvalidField("", "file_invalid", err, "document %d: %v", doc, err)
		}
		if err := d.Validate(); err != nil {
			var p *problem.Error
			errors.As(err, &p)
			return nil, problem.InvalidField(p.Field, p.Code, err, "document %d (%s): %s", doc, d.Name, p.Message)
		}
		out = append(out, d)
	}
}

// Describe is one line for a definition, for the command line.
func (d *Definition) Describe() string {
	s := ""
	for i, st := range d.Steps {
		if i > 0 {
			s += " -> "
		}
		s += st.Name
	}
	return fmt.Sprintf("%s: %s within %s", d.Name, s, time.Duration(d.Window))
}
