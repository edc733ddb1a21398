package router

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/perk-platform/perk/internal/sms/keyword"
)

// Config is the operator's keyword file: extra aliases per keyword (other
// languages) and reply texts by purpose, e.g.
//
//	{"aliases": {"STOP": ["ARRET", "ARRÊT"], "HELP": ["AIDE"]},
//	 "replies": {"help": "{{.Programme}} : aide au {{.HelpContact}}. STOP pour arrêter."}}
type Config struct {
	Aliases map[string][]string `json:"aliases"`
	Replies map[string]string   `json:"replies"`
}

// LoadConfig reads a keyword file; unknown fields are errors, so a typo does
// not silently leave the defaults in place.
func LoadConfig(path string) (Config, error) {
	var c Config
	f, err := os.Open(path)
	if err != nil {
		return c, fmt.Errorf("keyword file: %w", err)
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("keyword file %s: %w", path, err)
	}
	return c, nil
}

// Apply adds the file's aliases to the default keyword table, and its
// replies to opt unless opt has its Texts (then they were given to
// texts.Load with the others: texts.Options.Replies).
func (c Config) Apply(opt *Options) error {
	t := opt.Keywords
	if t == nil {
		t = keyword.Default()
	}
	for k, aliases := range c.Aliases {
		var err error
		if t, err = t.With(keyword.Keyword(strings.ToUpper(k)), aliases...); err != nil {
			return fmt.Errorf("keyword file: aliases of %s: %w", k, err)
		}
	}
	opt.Keywords = t
	if opt.Texts != nil {
		return nil
	}
	if opt.Replies == nil {
		opt.Replies = map[string]string{}
	}
	for purpose, text := range c.Replies {
		opt.Replies[purpose] = text
	}
	return nil
}
