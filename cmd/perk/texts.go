package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/perk-platform/perk/internal/sms/router"
	"github.com/perk-platform/perk/internal/sms/texts"
)

// localeFlag registers the programme's locale for the commands that write
// shoppers' texts. perk serve registers it in serveFlags, next to the
// programme's name.
func localeFlag(fs *flag.FlagSet, c *Config) {
	strFlag(fs, &c.Locale, "locale", "PERK_LOCALE", "en", "programme locale, BCP 47 (en, fr, fr-CA): the language of shoppers' texts unless a member has their own")
}

// textFlags registers where shoppers' texts come from, for the commands
// that write them (perk serve, perk sms).
func textFlags(fs *flag.FlagSet, c *Config) {
	strFlag(fs, &c.Texts, "texts", "PERK_TEXTS", "", "folder of shopper texts, one JSON file per locale (fr.json, de.json) replacing or adding to the built-in ones (see docs/sms.md)")
}

// loadTexts loads and checks the text catalogue (--locale, --texts, and
// the replies of --keywords), so a bad text stops the command at start.
// The member service and the keyword router then share it.
func (c *Config) loadTexts(log *slog.Logger) error {
	var replies map[string]string
	if c.Keywords != "" {
		kc, err := router.LoadConfig(c.Keywords)
		if err != nil {
			return err
		}
		replies = kc.Replies
	}
	cat, err := texts.Load(texts.Options{Locale: c.Locale, Dir: c.Texts, Replies: replies, Programme: c.Programme,
		HelpContact: c.HelpContact, Frequency: c.Frequency, PublicURL: c.PublicURL, Log: log})
	if err != nil {
		return fmt.Errorf("--locale/--texts: %w", err)
	}
	c.texts = cat
	return nil
}

// cmdSMSTexts prints every text of every locale rendered with sample data,
// with its coding and SMS segments: what shoppers would get.
func cmdSMSTexts(ctx context.Context, args []string) error {
	var c Config
	fs := flag.NewFlagSet("perk sms texts", flag.ContinueOnError)
	commonFlags(fs, &c)
	programmeFlag(fs, &c)
	localeFlag(fs, &c)
	publicURLFlags(fs, &c)
	replyFlags(fs, &c)
	if err := parse(fs, args); err != nil {
		return err
	}
	log, err := c.logger(os.Stderr)
	if err != nil {
		return err
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.Addr
	}
	if err := c.loadTexts(log); err != nil {
		return err
	}
	samples, err := c.texts.Report()
	if err != nil {
		return err
	}
	fmt.Printf("programme locale %s (texts of %s)\n\n", c.texts.Locale(), c.texts.TextLocale())
	for _, s := range samples {
		fmt.Println(s)
	}
	return ctx.Err()
}
