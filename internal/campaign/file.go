package campaign

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/problem"
)

// Campaign files are how `perk campaigns apply` keeps campaigns: YAML
// documents separated by ---, each a campaign or a list of campaigns (JSON
// is YAML, so a JSON object or array is a file too). A file's specs are the
// API's: the same fields, weekdays by name or number (engine.Weekdays).

// FileSpec is one campaign of a file and where it was written.
type FileSpec struct {
	Spec     Spec
	Document int        // the YAML document, from 1
	Item     int        // the position in a list document, from 1; 0 when the document is one campaign
	node     *yaml.Node // the campaign's mapping, for line numbers
}

// Label names the campaign in messages: document 2 item 1 ("Spring sale").
func (f *FileSpec) Label() string {
	s := fmt.Sprintf("document %d", f.Document)
	if f.Item > 0 {
		s += fmt.Sprintf(" item %d", f.Item)
	}
	if f.Spec.Name != "" {
		s += fmt.Sprintf(" (%q)", f.Spec.Name)
	}
	return s
}

// Line is the line of a field named as the service names it
// ("benefits[0].percent"): the line of the deepest part of it that the file
// has, else the campaign's first line.
func (f *FileSpec) Line(field string) int {
	n := f.node
	line := n.Line
	for _, part := range strings.FieldsFunc(field, func(r rune) bool { return r == '.' || r == '[' || r == ']' }) {
		n = deref(n)
		var next *yaml.Node
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == part {
					line, next = n.Content[i].Line, n.Content[i+1]
				}
			}
		case yaml.SequenceNode:
			if i, err := strconv.Atoi(part); err == nil && i >= 0 && i < len(n.Content) {
				next = n.Content[i]
				line = next.Line
			}
		}
		if next == nil {
			break
		}
		n = next
	}
	return line
}

// Explain is err with the line of the field it names, if it names one
// (a *problem.Error from the service or Spec.Validate).
func (f *FileSpec) Explain(err error) string {
	var pe *problem.Error
	if !errors.As(err, &pe) {
		return err.Error()
	}
	if pe.Field == "" {
		return pe.Error()
	}
	return fmt.Sprintf("line %d: %s", f.Line(pe.Field), pe.Error())
}

// FileError is every problem found in a file, each naming its document and,
// where it has them, the campaign, the line and the field:
//
//	document 2 ("Autumn sale"): line 15: field discount_percent not found in type engine.Benefit
//	document 1 ("Too generous"): line 9: benefits[1].percent: benefit 2: percent must be 1..100
type FileError struct {
	Problems []string
}

func (e *FileError) Error() string {
	if len(e.Problems) == 1 {
		return e.Problems[0]
	}
	return fmt.Sprintf("%d problems:\n  %s", len(e.Problems), strings.Join(e.Problems, "\n  "))
}

// DecodeFile decodes and validates every campaign of a file. Decoding is
// strict: an unknown field or a wrong type is a problem with its line. Each
// spec is then validated as the service will validate it (zone is the
// programme's, for specs that name none), and two campaigns of one file
// may not share a name. The error, a *FileError, lists every problem found;
// a file that is not YAML stops at its first syntax error. An empty file
// has no campaigns and no error.
func DecodeFile(src []byte, zone *time.Location) ([]*FileSpec, error) {
	// First pass: the documents as nodes, for line numbers and for the
	// checks that want them (the days, the shape of each document).
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var roots []*yaml.Node
	var specs []*FileSpec
	var problems []string
	for n := 1; ; n++ {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// The stream cannot be read past a syntax error.
			return nil, &FileError{append(problems, fmt.Sprintf("document %d: %v", n, err))}
		}
		var root *yaml.Node
		if len(doc.Content) > 0 {
			root = doc.Content[0]
		}
		roots = append(roots, root)
		var items []*FileSpec
		switch {
		case root == nil || root.Kind == yaml.ScalarNode && root.Tag == "!!null":
			continue // an empty document
		case root.Kind == yaml.MappingNode:
			items = append(items, &FileSpec{Document: n, node: root})
		case root.Kind == yaml.SequenceNode:
			for i, it := range root.Content {
				items = append(items, &FileSpec{Document: n, Item: i + 1, node: it})
			}
		default:
			problems = append(problems, fmt.Sprintf("document %d: line %d: want a campaign (name, start, end, audience, benefits ...) or a list of them", n, root.Line))
			continue
		}
		for _, f := range items {
			for _, p := range dayProblems(f.node) {
				problems = append(problems, f.Label()+": "+p)
			}
		}
		specs = append(specs, items...)
	}
	if len(problems) > 0 {
		return nil, &FileError{problems}
	}
	// Second pass: strict decoding of the same documents.
	dec = yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	next := 0
	for n, root := range roots {
		var err error
		label := func(string) string { return fmt.Sprintf("document %d", n+1) }
		switch {
		case root != nil && root.Kind == yaml.MappingNode:
			f := specs[next]
			err = dec.Decode(&f.Spec)
			label = func(string) string { return f.Label() } // with the name, if it decoded
			next++
		case root != nil && root.Kind == yaml.SequenceNode:
			var list []Spec
			err = dec.Decode(&list)
			items := specs[next : next+len(root.Content)]
			for i, f := range items {
				if i < len(list) {
					f.Spec = list[i]
				}
			}
			if len(items) > 0 {
				label = func(msg string) string { return itemAt(items, msg).Label() }
			}
			next += len(items)
		default:
			var skip yaml.Node
			err = dec.Decode(&skip)
		}
		var te *yaml.TypeError
		switch {
		case errors.As(err, &te):
			for _, msg := range te.Errors {
				problems = append(problems, label(msg)+": "+msg)
			}
		case err != nil:
			// Not a problem of one field: the decoder cannot go on.
			return nil, &FileError{append(problems, label(err.Error())+": "+err.Error())}
		}
	}
	if len(problems) > 0 {
		return nil, &FileError{problems}
	}
	// Then the rules a campaign must follow, checked as the service will.
	names := map[string]*FileSpec{}
	for _, f := range specs {
		if _, _, err := f.Spec.Validate(zone); err != nil {
			problems = append(problems, f.Label()+": "+f.Explain(err))
			continue
		}
		if prev := names[f.Spec.Name]; prev != nil {
			problems = append(problems, fmt.Sprintf("%s: line %d: name: %s already has this name", f.Label(), f.Line("name"), prev.Label()))
		}
		names[f.Spec.Name] = f
	}
	if len(problems) > 0 {
		return nil, &FileError{problems}
	}
	return specs, nil
}

// itemAt is the item of a list document that a decoding error ("line 12:
// cannot unmarshal ...") is in: the last to start at or before its line.
func itemAt(items []*FileSpec, msg string) *FileSpec {
	var line int
	if _, err := fmt.Sscanf(msg, "line %d:", &line); err != nil {
		return items[0]
	}
	at := items[0]
	for _, f := range items {
		if f.node.Line <= line {
			at = f
		}
	}
	return at
}

// dayProblems checks a campaign's conditions.days before decoding, so that a
// day that is no day is reported with its line (engine.Weekdays reads YAML
// without seeing lines). Numbers pass whatever they are: the engine refuses
// those out of range, with their position.
func dayProblems(camp *yaml.Node) []string {
	days := mapValue(mapValue(camp, "conditions"), "days")
	if days == nil || days.Kind == yaml.ScalarNode && days.Tag == "!!null" {
		return nil
	}
	if days.Kind != yaml.SequenceNode {
		return []string{fmt.Sprintf("line %d: conditions.days: want a list of days of the week (%s)", days.Line, engine.DayNames)}
	}
	var out []string
	for _, d := range days.Content {
		d = deref(d)
		if d.Kind == yaml.ScalarNode {
			if d.Tag == "!!int" {
				continue
			}
			if _, ok := engine.ParseWeekday(d.Value); ok && d.Tag == "!!str" {
				continue
			}
		}
		out = append(out, fmt.Sprintf("line %d: conditions.days: %q is not a day of the week (%s)", d.Line, d.Value, engine.DayNames))
	}
	return out
}

// mapValue is the value of key in a mapping node, nil if there is none.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return deref(n.Content[i+1])
		}
	}
	return nil
}

// deref follows an alias (*name) to the node it names.
func deref(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		return n.Alias
	}
	return n
}

// EncodeYAML writes specs as YAML documents that DecodeFile reads back
// unchanged: weekdays by name, short lists on one line, no benefit ids.
func EncodeYAML(w io.Writer, specs ...Spec) error {
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	for _, s := range specs {
		var n yaml.Node
		if err := n.Encode(s); err != nil {
			return err
		}
		flowShortLists(&n)
		if bs := mapValue(&n, "benefits"); bs != nil && len(bs.Content) == 0 {
			// None (next_best_offer): left out, as the stored spec has it.
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == "benefits" {
					n.Content = slices.Delete(n.Content, i, i+2)
					break
				}
			}
		}
		// Benefit ids are set by the campaign compiler, so files leave
		// them out; the spec stores them empty.
		if bs := mapValue(&n, "benefits"); bs != nil {
			for _, b := range bs.Content {
				for i := 0; b.Kind == yaml.MappingNode && i+1 < len(b.Content); i += 2 {
					if b.Content[i].Value == "id" && b.Content[i+1].Value == "" {
						b.Content = slices.Delete(b.Content, i, i+2)
						break
					}
				}
			}
		}
		if err := enc.Encode(&n); err != nil {
			return err
		}
	}
	return enc.Close()
}

// flowShortLists writes short lists of plain values on one line
// ("stores: [S001, S002]") and long ones one value a line.
func flowShortLists(n *yaml.Node) {
	if n.Kind == yaml.SequenceNode {
		width := 0
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				width = math.MaxInt
				break
			}
			width += len(c.Value) + 2
		}
		if width <= 60 {
			n.Style = yaml.FlowStyle
		}
	}
	for _, c := range n.Content {
		flowShortLists(c)
	}
}
