package campaign_test

import (
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout/engine"
)

// TestPersonalOffer_OneCampaignPerOffer: the campaign holding a personal
// offer is named after the whole offer, so the same offer always lands in
// the same campaign and any difference (value, dates, uses, wording) makes
// another; the name passes the campaign rules whatever the description holds.
func TestPersonalOffer_OneCampaignPerOffer(t *testing.T) {
	base := campaign.PersonalOffer{Description: "£2 off your coffee", Start: "2026-12-01", End: "2027-01-01",
		Benefit: engine.Benefit{Kind: engine.AmountOff, Amount: 200}}
	variants := map[string]func(o *campaign.PersonalOffer){
		"value":       func(o *campaign.PersonalOffer) { o.Benefit.Amount = 300 },
		"end":         func(o *campaign.PersonalOffer) { o.End = "2027-01-02" },
		"uses":        func(o *campaign.PersonalOffer) { o.Uses = 2 },
		"wording":     func(o *campaign.PersonalOffer) { o.Description = "£2 off coffee" },
		"min basket":  func(o *campaign.PersonalOffer) { o.Conditions.MinBasket = 500 },
		"stores":      func(o *campaign.PersonalOffer) { o.Stores = []string{"S001"} },
		"an emoji 🎉":  func(o *campaign.PersonalOffer) { o.Description = "#1 treat 🎉 for you" },
		"long text":   func(o *campaign.PersonalOffer) { o.Description = "A very long description " + string(repeat('x', 200)) },
		"no wording?": func(o *campaign.PersonalOffer) { o.Description = "🎉" },
	}
	want := base.Spec()
	if again := base.Spec(); again.Name != want.Name {
		t.Fatalf("the same offer named %q then %q", want.Name, again.Name)
	}
	single := base
	single.Uses = 1 // single use, said explicitly
	if single.Spec().Name != want.Name {
		t.Errorf("uses 0 and uses 1 are the same offer: %q vs %q", single.Spec().Name, want.Name)
	}
	names := map[string]string{want.Name: "base"}
	for name, edit := range variants {
		o := base
		edit(&o)
		s := o.Spec()
		if prev, dup := names[s.Name]; dup {
			t.Errorf("%s: named %q like %s", name, s.Name, prev)
		}
		names[s.Name] = name
		if _, _, err := s.Validate(time.UTC); err != nil {
			t.Errorf("%s: the offer's campaign %q is invalid: %v", name, s.Name, err)
		}
		if s.Limits.PerMember < 1 || s.Audience.Kind != campaign.AudienceList || len(s.Benefits) != 1 {
			t.Errorf("%s: spec %+v", name, s)
		}
	}
}

func repeat(r rune, n int) []rune {
	out := make([]rune, n)
	for i := range out {
		out[i] = r
	}
	return out
}
