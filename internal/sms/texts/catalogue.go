package texts

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"text/template"

	"golang.org/x/text/language"
)

//go:embed defaults/*.json
var defaults embed.FS

// Options configure a catalogue.
type Options struct {
	// Locale is the programme's locale (BCP 47, "en" if empty): the texts of
	// a member without a locale, of a number that is not a member, and of
	// any purpose another locale leaves out. It must cover every purpose.
	Locale string
	// Dir holds the operator's files, one per locale named by its tag
	// (fr.json, fr-CA.json, de.json), each an object of purpose to text.
	// A file's texts replace the defaults of that locale one by one; a
	// locale without defaults is added. Empty for the defaults alone.
	Dir string
	// Replies replace texts of the programme's locale after Dir: the
	// "replies" of the older keyword file (--keywords).
	Replies map[string]string

	Programme   string // "Perk Rewards" if empty
	HelpContact string
	Frequency   string
	// PublicURL is the base of card and confirmation links, used for the
	// samples whose length is reported.
	PublicURL string
	Log       *slog.Logger // warnings at load; slog.Default() if nil
}

// Catalogue holds the checked texts of every locale. It is read-only once
// loaded, so it is safe for concurrent use.
type Catalogue struct {
	opt       Options
	programme string                                    // the programme's locale as configured, canonical (en-GB)
	def       string                                    // the catalogue locale that serves it (en)
	locales   map[string]map[Purpose]*template.Template // complete: gaps filled from def
	fellBack  map[string][]Purpose                      // purposes a locale takes from def
}

// ParseLocale reads a BCP 47 tag ("fr", "fr-CA", "en_GB") and returns it in
// canonical form. Unknown languages and "und" are refused.
func ParseLocale(s string) (string, error) {
	tag, err := language.Parse(strings.TrimSpace(s))
	if err != nil {
		return "", fmt.Errorf("%q is not a known BCP 47 locale such as en, fr or fr-CA", s)
	}
	if _, conf := tag.Base(); conf != language.Exact { // "und": Base only guesses
		return "", fmt.Errorf("%q names no language; use a BCP 47 locale such as en, fr or fr-CA", s)
	}
	return tag.String(), nil
}

// Load builds the catalogue: the embedded defaults, then the operator's
// files, then Replies, each text checked against its purpose. Errors name
// the locale, the purpose and the field. A purpose missing from a locale
// other than the programme's falls back to the programme's text, with a
// warning; a rendered sample over two SMS segments is warned about too.
func Load(opt Options) (*Catalogue, error) {
	if opt.Programme == "" {
		opt.Programme = "Perk Rewards"
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Locale == "" {
		opt.Locale = "en"
	}
	def, err := ParseLocale(opt.Locale)
	if err != nil {
		return nil, fmt.Errorf("texts: programme locale: %w", err)
	}
	src := map[string]map[string]string{}
	if err := readDir(defaults, "defaults", src); err != nil {
		return nil, fmt.Errorf("texts: defaults: %w", err) // a bug: the defaults are tested
	}
	if opt.Dir != "" {
		if err := readDir(os.DirFS(opt.Dir), ".", src); err != nil {
			return nil, fmt.Errorf("texts: %s: %w", opt.Dir, err)
		}
	}
	// The programme's locale may be a variant of a catalogue locale (en-GB
	// served by en); its texts and its fallbacks are that locale's.
	c := &Catalogue{opt: opt, programme: def, locales: map[string]map[Purpose]*template.Template{}, fellBack: map[string][]Purpose{}}
	if c.def = nearest(def, func(l string) bool { return src[l] != nil }); c.def == "" {
		return nil, fmt.Errorf("texts: programme locale %s: no texts (have %s; add %s.json to the texts folder)",
			def, strings.Join(sortedKeys(src), ", "), def)
	}
	for p, t := range opt.Replies {
		src[c.def][p] = t
	}
	own := map[string]map[Purpose]*template.Template{}
	for _, l := range sortedKeys(src) {
		own[l] = map[Purpose]*template.Template{}
		for _, p := range sortedKeys(src[l]) {
			t, err := parseText(Purpose(p), src[l][p])
			if err != nil {
				return nil, fmt.Errorf("texts: locale %s, purpose %s: %w", l, p, err)
			}
			own[l][Purpose(p)] = t
		}
	}
	// The programme's locale first: its gaps may only be filled by its
	// parents (an en-GB.json with a few texts over en), and then it must
	// be whole, since it fills every other locale's.
	c.locales[c.def] = c.fill(c.def, own, nil)
	for _, p := range order {
		if c.locales[c.def][p] == nil {
			return nil, fmt.Errorf("texts: locale %s, purpose %s: missing (the programme's locale must have every text)", c.def, p)
		}
	}
	for l := range own {
		if l != c.def {
			c.locales[l] = c.fill(l, own, c.locales[c.def])
		}
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return c, nil
}

// fill returns locale l's texts: its own, else its nearest parent's own
// (fr for fr-CA), else last's (the programme's; nil for none). What it
// takes from last is noted for the warning at start.
func (c *Catalogue) fill(l string, own map[string]map[Purpose]*template.Template, last map[Purpose]*template.Template) map[Purpose]*template.Template {
	set := map[Purpose]*template.Template{}
	for _, p := range order {
		has := func(parent string) bool { return own[parent][p] != nil }
		if from := nearest(l, has); from != "" {
			set[p] = own[from][p]
		} else if last != nil {
			set[p] = last[p]
			c.fellBack[l] = append(c.fellBack[l], p)
		}
	}
	return set
}

// readDir reads every *.json file under dir of fsys into src, by locale.
func readDir(fsys fs.FS, dir string, src map[string]map[string]string) error {
	files, err := fs.Glob(fsys, path.Join(dir, "*.json"))
	if err != nil {
		return err
	}
	if len(files) == 0 && dir == "." {
		return errors.New("no locale files (fr.json, de.json, ...)")
	}
	seen := map[string]string{}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".json")
		l, err := ParseLocale(name)
		if err != nil {
			return fmt.Errorf("%s: file name: %w", filepath.Base(f), err)
		}
		if other, dup := seen[l]; dup {
			return fmt.Errorf("%s and %s are both locale %s", other, path.Base(f), l)
		}
		seen[l] = path.Base(f)
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return err
		}
		var texts map[string]string
		dec := json.NewDecoder(bytes.NewReader(b))
		if err := dec.Decode(&texts); err != nil {
			return fmt.Errorf("%s: %w", path.Base(f), err)
		}
		if src[l] == nil {
			src[l] = map[string]string{}
		}
		for p, t := range texts {
			if _, ok := Purposes[Purpose(p)]; !ok {
				return fmt.Errorf("locale %s, purpose %s: unknown purpose (known: %s)", l, p, strings.Join(purposeNames(), ", "))
			}
			src[l][p] = t
		}
	}
	return nil
}

// nearest returns the first of tag and its parents (fr-CA, fr) that has
// texts, "" if none.
func nearest(tag string, has func(string) bool) string {
	t, err := language.Parse(tag)
	if err != nil {
		return ""
	}
	for {
		if has(t.String()) {
			return t.String()
		}
		if t.IsRoot() {
			return ""
		}
		t = t.Parent()
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Locale returns the programme's locale as configured (en-GB), the locale
// of members who have none.
func (c *Catalogue) Locale() string { return c.programme }

// TextLocale returns the catalogue locale whose texts the programme's
// locale gets (en for en-GB), and that fills other locales' gaps.
func (c *Catalogue) TextLocale() string { return c.def }

// Locales lists the catalogue's locales.
func (c *Catalogue) Locales() []string { return sortedKeys(c.locales) }

// resolve returns the catalogue locale for a member's locale: itself, the
// nearest parent with texts, or the programme's.
func (c *Catalogue) resolve(locale string) string {
	if _, ok := c.locales[locale]; ok {
		return locale
	}
	if locale != "" {
		if l := nearest(locale, func(l string) bool { return c.locales[l] != nil }); l != "" {
			return l
		}
	}
	return c.def
}

// Render fills the text for purpose in locale ("" for the programme's)
// with d, the programme's fields filled in.
func (c *Catalogue) Render(locale string, purpose Purpose, d Data) (string, error) {
	t := c.locales[c.resolve(locale)][purpose]
	if t == nil {
		return "", fmt.Errorf("texts: unknown purpose %q", purpose)
	}
	d.Programme, d.HelpContact, d.Frequency = c.opt.Programme, c.opt.HelpContact, c.opt.Frequency
	var b strings.Builder
	if err := t.Execute(&b, d); err != nil {
		return "", fmt.Errorf("texts: locale %s, purpose %s: %w", c.resolve(locale), purpose, err)
	}
	return strings.TrimSpace(b.String()), nil
}
