package texts

import (
	"fmt"
	"slices"
	"strings"
	"text/template"
	"text/template/parse"
)

// maxLen bounds a text's source; a shopper's text is one or two SMS.
const maxLen = 1000

// parseText parses src as the text for purpose and checks its fields
// against the purpose's Spec: every field it names must be provided, and
// every required field must appear. Errors name the field.
func parseText(purpose Purpose, src string) (*template.Template, error) {
	spec, ok := Purposes[purpose]
	if !ok {
		return nil, fmt.Errorf("unknown purpose (known: %s)", strings.Join(purposeNames(), ", "))
	}
	if strings.TrimSpace(src) == "" {
		return nil, fmt.Errorf("empty text")
	}
	if len(src) > maxLen {
		return nil, fmt.Errorf("longer than %d bytes", maxLen)
	}
	t, err := template.New(string(purpose)).Option("missingkey=error").Parse(src)
	if err != nil {
		return nil, err // text/template names the line and column
	}
	if len(t.Templates()) > 1 {
		return nil, fmt.Errorf("{{define}} and {{template}} are not supported in texts")
	}
	used := map[string]bool{}
	walk(t.Root, true, used)
	for f := range used {
		if !slices.Contains(spec.Fields, f) {
			return nil, fmt.Errorf("field %s: not provided for this purpose (it has %s)", f, strings.Join(spec.Fields, ", "))
		}
	}
	for _, f := range spec.Required {
		if !used[f] {
			return nil, fmt.Errorf("field %s: required, missing", f)
		}
	}
	return t, nil
}

// walk collects the top-level fields a template uses: {{.X}}, {{.X.Y}} and
// {{$.X}}. Inside {{with}} and {{range}} the dot is something else, so only
// $-fields count there; rendering a sample catches the rest.
func walk(n parse.Node, topDot bool, used map[string]bool) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walk(c, topDot, used)
		}
	case *parse.ActionNode:
		walk(n.Pipe, topDot, used)
	case *parse.IfNode:
		walkBranch(&n.BranchNode, topDot, topDot, used)
	case *parse.WithNode:
		walkBranch(&n.BranchNode, topDot, false, used)
	case *parse.RangeNode:
		walkBranch(&n.BranchNode, topDot, false, used)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			walk(c, topDot, used)
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			walk(a, topDot, used)
		}
	case *parse.ChainNode:
		walk(n.Node, topDot, used)
	case *parse.FieldNode:
		if topDot {
			used[n.Ident[0]] = true
		}
	case *parse.VariableNode:
		if n.Ident[0] == "$" && len(n.Ident) > 1 {
			used[n.Ident[1]] = true
		}
	}
}

// walkBranch walks an if, with or range: its pipeline sees the outer dot,
// its list the inner one, its else list the outer one again.
func walkBranch(b *parse.BranchNode, outer, inner bool, used map[string]bool) {
	walk(b.Pipe, outer, used)
	walk(b.List, inner, used)
	walk(b.ElseList, outer, used)
}

func purposeNames() []string {
	out := make([]string, len(order))
	for i, p := range order {
		out[i] = string(p)
	}
	return out
}
