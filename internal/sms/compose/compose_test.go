package compose_test

import (
	"strings"
	"testing"

	"github.com/perk-platform/perk/internal/sms/compose"
)

func TestParse_RefusesBrokenTemplatesWithTheReason(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"unclosed action", "Hi {{.FirstName", "unclosed action"},
		{"unknown field", "Hi {{.Frist}}", "Frist"},
		{"unknown function", "{{shout .Name}}", "shout"},
		{"empty", "  ", "empty"},
		{"too long", strings.Repeat("x", 2001), "longer than"},
	}
	for _, tt := range tests {
		if _, err := compose.Parse("offer", tt.src); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want mention of %q", tt.name, err, tt.want)
		}
	}
}

func TestRender_FillsMemberFieldsAndTracksLinks(t *testing.T) {
	tp, err := compose.Parse("offer", `Hi {{.FirstName}}, {{index .Attributes "tier"}} members get 20% off: {{link "https://shop.example.com/spring"}} Code {{.Code}}`)
	if err != nil {
		t.Fatal(err)
	}
	var shortened []string
	got, err := tp.Render(compose.Data{FirstName: "Zoë", Code: "96385074", Attributes: map[string]string{"tier": "Gold"}},
		func(u string) (string, error) {
			shortened = append(shortened, u)
			return "https://perk.test/l/abcd1234", nil
		})
	if err != nil {
		t.Fatal(err)
	}
	want := "Hi Zoë, Gold members get 20% off: https://perk.test/l/abcd1234 Code 96385074"
	if got != want || len(shortened) != 1 || shortened[0] != "https://shop.example.com/spring" {
		t.Fatalf("Render = %q (shortened %v)", got, shortened)
	}
	// A missing attribute renders empty rather than failing a whole campaign.
	got, _ = tp.Render(compose.Data{FirstName: "Bob"}, func(string) (string, error) { return "L", nil })
	if !strings.HasPrefix(got, "Hi Bob,  members get") {
		t.Fatalf("missing attribute: %q", got)
	}
}
