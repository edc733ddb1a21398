package texts

import (
	"fmt"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/sms/gsm"
)

// maxSegments is the most SMS parts a text should take before the operator
// is warned: each part is paid for.
const maxSegments = 2

// Sample is one text rendered with sample data, as the catalogue reports it.
type Sample struct {
	Locale   string
	Purpose  Purpose
	Text     string
	Coding   gsm.Coding
	Segments int
	// Fallback reports that the locale has no text of its own for the
	// purpose and uses the programme's.
	Fallback bool
}

// sampleData is a plausible member: a full-length code, card and
// confirmation links as long as real ones, two offers.
func (c *Catalogue) sampleData(locale string) (Data, error) {
	base := strings.TrimRight(c.opt.PublicURL, "/")
	if base == "" {
		base = "https://perk.example.com"
	}
	token := strings.Repeat("x", 22) // id.Token(16): 16 bytes, base64url
	d := Data{FirstName: "Ann", LastName: "Lee", Name: "Ann Lee", Code: "96385074", CardURL: base + "/c/" + token,
		ConfirmURL: base + "/join/confirm/" + token, Points: 1250, PointsPending: 30,
		ReferralCode: "K7QM2P", ReferralURL: base + "/join?ref=K7QM2P", Reason: "the referral code is not known; you are signed up all the same"}
	offers := []Data{
		{Description: "20% off coffee", Until: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)},
		{Description: "Free croissant", Until: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)},
	}
	items := make([]string, len(offers))
	for i, o := range offers {
		var err error
		if items[i], err = c.Render(locale, OfferItem, o); err != nil {
			return d, err
		}
	}
	d.Offers = strings.Join(items, "; ")
	d.Description, d.Until = offers[0].Description, offers[0].Until // for offer_item itself
	return d, nil
}

// Report renders every text of every locale with sample data and counts
// its SMS segments, locales in order, purposes in the order of All.
func (c *Catalogue) Report() ([]Sample, error) {
	var out []Sample
	for _, l := range c.Locales() {
		d, err := c.sampleData(l)
		if err != nil {
			return nil, err
		}
		for _, p := range order {
			text, err := c.Render(l, p, d)
			if err != nil {
				return nil, err
			}
			coding, n := gsm.Segments(text)
			out = append(out, Sample{Locale: l, Purpose: p, Text: text, Coding: coding, Segments: n,
				Fallback: c.isFallback(l, p)})
		}
	}
	return out, nil
}

func joinPurposes(ps []Purpose) string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = string(p)
	}
	return strings.Join(out, ",")
}

func (c *Catalogue) isFallback(l string, p Purpose) bool {
	for _, f := range c.fellBack[l] {
		if f == p {
			return true
		}
	}
	return false
}

// check renders every sample, which catches what parsing cannot (a field
// of the wrong kind in {{with}}), and warns about fallbacks and long texts.
func (c *Catalogue) check() error {
	samples, err := c.Report()
	if err != nil {
		return err
	}
	for _, l := range c.Locales() {
		if f := c.fellBack[l]; len(f) > 0 {
			c.opt.Log.Warn("sms texts missing from their locale, the programme's are used",
				"locale", l, "purposes", joinPurposes(f), "fallback", c.def)
		}
	}
	for _, s := range samples {
		if !s.Fallback && s.Purpose != OfferItem && s.Segments > maxSegments {
			c.opt.Log.Warn("sms text longer than two segments", "locale", s.Locale, "purpose", s.Purpose,
				"coding", s.Coding, "segments", s.Segments)
		}
	}
	c.opt.Log.Info("sms texts loaded", "locales", strings.Join(c.Locales(), ","), "programme_locale", c.def)
	return nil
}

// String formats a sample as one block of the golden files and of
// perk sms texts: a heading with its coding and segments, then the text.
func (s Sample) String() string {
	unit := "segments"
	if s.Segments == 1 {
		unit = "segment"
	}
	fb := ""
	if s.Fallback {
		fb = ", from the programme's locale"
	}
	return fmt.Sprintf("## %s %s (%s, %d %s%s)\n%s\n", s.Locale, s.Purpose, s.Coding, s.Segments, unit, fb, s.Text)
}
