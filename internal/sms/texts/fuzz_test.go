package texts_test

import (
	"testing"

	"github.com/perk-platform/perk/internal/sms/texts"
)

// FuzzLoad_OperatorText: whatever an operator writes as a text, loading
// either refuses it with an error or yields a text that renders.
func FuzzLoad_OperatorText(f *testing.F) {
	for _, s := range []string{"{{.Programme}}: {{.HelpContact}}", "{{.HelpContact}}{{if .Points}}x{{end}}",
		"{{with .HelpContact}}{{.}}{{end}}", "{{.HelpContact}}{{range .Programme}}{{end}}", `{{.HelpContact}}{{template "x"}}`,
		"{{.HelpContact}}{{.HelpContact.Nope}}", "{{$.HelpContact}}", "{{.HelpContact", "é {{.HelpContact}} ê"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		c, err := texts.Load(texts.Options{Replies: map[string]string{"help": src}, Log: quiet()})
		if err != nil {
			return
		}
		if _, err := c.Render("", texts.Help, texts.Data{}); err != nil {
			t.Fatalf("loaded %q but it does not render: %v", src, err)
		}
	})
}
