package crm_test

import (
	"os"
	"strings"
	"testing"

	"github.com/perk-platform/perk/internal/crm"
)

// TestDocs_IntegrationGuideListsEveryFeedsColumns: the feed table of
// docs/integration.md is the columns the export writes, in their order.
func TestDocs_IntegrationGuideListsEveryFeedsColumns(t *testing.T) {
	b, err := os.ReadFile("../../docs/integration.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) == 5 {
			documented[strings.TrimSpace(cells[1])] = strings.TrimSpace(cells[3])
		}
	}
	for _, feed := range crm.Feeds {
		want := strings.Join(crm.Columns(feed)[4:], ", ")
		if got := documented[feed]; got != want {
			t.Errorf("docs/integration.md, feed %s: columns %q, the export writes %q", feed, got, want)
		}
		if c := crm.Columns(feed)[:4]; strings.Join(c, ",") != "change_id,at,external_id,member_id" {
			t.Errorf("feed %s starts with %v", feed, c)
		}
	}
}
