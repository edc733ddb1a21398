package journey

import (
	"bytes"
	"errors"
	"io"

	"go.yaml.in/yaml/v3"

	"github.com/perk-platform/perk/internal/problem"
)

// DecodeFile reads journeys from YAML (or JSON, which is YAML), documents
// separated by "---", refusing unknown fields. Every journey is validated
// and an error names the document (1-based), the journey and the field's
// path, so a file with a mistake is refused before anything is applied.
func DecodeFile(src []byte) ([]Definition, error) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	var out []Definition
	names := map[string]int{}
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
			return nil, problem.InvalidField(p.Field, p.Code, err, "document %d (%s): %s: %s", doc, d.Name, p.Field, p.Message)
		}
		if first, dup := names[d.Name]; dup {
			return nil, problem.InvalidField("name", "journey_invalid", nil, "document %d: journey %q is already document %d", doc, d.Name, first)
		}
		names[d.Name] = doc
		out = append(out, d)
	}
}

// EncodeYAML writes definitions as YAML documents that DecodeFile reads
// back to the same definitions: what `perk journeys get -o yaml` prints.
func EncodeYAML(w io.Writer, defs ...Definition) error {
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	for _, d := range defs {
		var n yaml.Node
		if err := n.Encode(d); err != nil {
			return err
		}
		prune(&n)
		if err := enc.Encode(&n); err != nil {
			return err
		}
	}
	return enc.Close()
}

// prune drops the fields that hold their zero value (an offer's empty
// stores, conditions and uses), which read back as the same zero: the
// printed file shows what the operator wrote.
func prune(n *yaml.Node) {
	for _, c := range n.Content {
		prune(c)
	}
	if n.Kind != yaml.MappingNode {
		return
	}
	kept := n.Content[:0]
	for i := 0; i+1 < len(n.Content); i += 2 {
		if v := n.Content[i+1]; !zero(v) {
			kept = append(kept, n.Content[i], v)
		}
	}
	n.Content = kept
}

func zero(v *yaml.Node) bool {
	switch v.Kind {
	case yaml.MappingNode, yaml.SequenceNode:
		return len(v.Content) == 0
	case yaml.ScalarNode:
		return (v.Tag == "!!str" && v.Value == "") || (v.Tag == "!!int" && v.Value == "0") || (v.Tag == "!!bool" && v.Value == "false")
	}
	return false
}
