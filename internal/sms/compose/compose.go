// Package compose renders message templates: Go text/template with the
// member's fields and a link function that turns an address into a tracked
// short link. Templates are checked when they are saved, so a typo fails
// there and not halfway through a campaign.
package compose

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"text/template"
)

// Data is what a template can use: {{.FirstName}}, {{.Code}}, {{.CardURL}},
// {{index .Attributes "tier"}}, and {{link "https://..."}}.
type Data struct {
	FirstName string
	LastName  string
	Name      string
	Code      string
	CardURL   string
	Programme string
	// HelpContact and Frequency are the programme's help line and message
	// frequency, for replies that must state them.
	HelpContact string
	Frequency   string
	Attributes  map[string]string
	// Points, PointsPending and Offers answer POINTS and OFFERS: the
	// spendable and pending balance, and the member's live offers as one
	// line ("20% off coffee (until 30 Nov); ...").
	Points        int64
	PointsPending int64
	Offers        string
}

// Template is a parsed message template.
type Template struct {
	src string
	t   *template.Template
}

// maxLen bounds a template's source; a campaign text is a few SMS at most.
const maxLen = 2000

// Parse parses and checks a template: it must parse, and render against
// sample data (which catches unknown fields such as {{.Frist}}).
func Parse(name, src string) (*Template, error) {
	if len(src) > maxLen {
		return nil, fmt.Errorf("template %s: longer than %d bytes", name, maxLen)
	}
	if strings.TrimSpace(src) == "" {
		return nil, fmt.Errorf("template %s: empty", name)
	}
	t, err := template.New(name).Option("missingkey=zero").Funcs(template.FuncMap{
		"link": func(string) (string, error) { return "", errors.New("link used outside Render") },
	}).Parse(src)
	if err != nil {
		return nil, fmt.Errorf("template %w", err) // text/template names the line and column
	}
	tp := &Template{src: src, t: t}
	sample := Data{FirstName: "Ann", LastName: "Lee", Name: "Ann Lee", Code: "96385074", CardURL: "https://example.com/c/x",
		Programme: "Perk", Attributes: map[string]string{}, Points: 120, PointsPending: 30, Offers: "20% off coffee (until 30 Nov)"}
	if _, err := tp.Render(sample, func(u string) (string, error) { return u, CheckLink(u) }); err != nil {
		return nil, err
	}
	return tp, nil
}

// CheckLink refuses a {{link}} address a shopper should not be sent to:
// anything but an absolute http or https address with a host
// ("javascript:...", "data:...", a relative path).
func CheckLink(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) address", raw)
	}
	return nil
}

// Source returns the template text.
func (t *Template) Source() string { return t.src }

// Render fills the template for one member; shorten turns each {{link}}
// address into a tracked link (and may refuse it).
func (t *Template) Render(d Data, shorten func(url string) (string, error)) (string, error) {
	clone, err := t.t.Clone()
	if err != nil {
		return "", err
	}
	clone.Funcs(template.FuncMap{"link": shorten})
	var b strings.Builder
	if err := clone.Execute(&b, d); err != nil {
		return "", fmt.Errorf("template %w", err)
	}
	return strings.TrimSpace(b.String()), nil
}
