package report_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/report"
)

// An event written by the API reads back with its details in the type of
// its kind.
func TestEvent_DetailsReadBackTyped(t *testing.T) {
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for _, e := range []report.Event{
		{At: at, Kind: report.EventEnrolled, Summary: "s", Details: &report.EnrolledDetails{Channel: "api", Source: "poster"}},
		{At: at, Kind: report.EventOptOut, Summary: "s", Details: &report.ConsentDetails{Action: "withdrawn", Method: "sms"}},
		{At: at, Kind: report.EventMessageOut, Summary: "s", Details: &report.MessageOutDetails{Status: "sent", Segments: 2, SentAt: &at}},
		{At: at, Kind: report.EventPurchase, Summary: "s", Details: &report.PurchaseDetails{Gross: 800, Discount: 130, Total: 670, Status: "committed"}},
		{At: at, Kind: report.EventRedemption, Summary: "s", Details: &report.RedemptionDetails{OfferID: "cmp_1.1", Discount: 130}},
		{At: at, Kind: report.EventPointsExpire, Summary: "s", Details: &report.PointsDetails{Points: -40}},
		{At: at, Kind: report.EventCardVisit, Summary: "s"},
		{At: at, Kind: "from_a_later_version", Summary: "s", Details: map[string]any{"x": "y"}},
	} {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		var got report.Event
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if !reflect.DeepEqual(got, e) {
			t.Errorf("%s read back as %#v, want %#v", b, got, e)
		}
	}
}
