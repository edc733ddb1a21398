package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/report"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestAPI_Reports serves the report routes through the real authorize
// middleware (server.go does not route them yet, so the test mounts them).
func TestAPI_Reports(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		now := time.Now().UTC()
		ms := member.NewService(db, member.Options{Region: "GB", PublicURL: "http://perk.test", Programme: "Test Rewards", Log: log})
		keys := auth.NewService(db, nil)
		camps := campaign.NewService(db, campaign.Options{Zone: time.UTC, PublicURL: "http://perk.test", Log: log})
		led := ledger.New(db, ledger.Policy{RedeemPoints: 1, RedeemValue: 1}, time.Now)
		co := checkout.NewService(db, ms, camps, led, checkout.Options{Currency: "GBP", BaseEarn: 1, Log: log})
		srv := New(context.Background(), db, ms, member.NewJobs(ms), keys, Options{Log: log, Campaigns: camps, Checkout: co, Ledger: led})
		mux := http.NewServeMux()
		newReportHandlers(srv, report.NewService(db, camps, time.Now)).register(func(p string, perm auth.Permission, h apiHandler) {
			mux.Handle(p, srv.authorize(perm, h))
		})
		hs := httptest.NewServer(mux)
		t.Cleanup(hs.Close)

		e, err := ms.Enrol(ctx, member.EnrolRequest{Profile: member.Profile{Phone: "07700 900123", FirstName: "Ann"}, Channel: member.ChannelAPI, Consent: true})
		if err != nil {
			t.Fatal(err)
		}
		c, err := camps.Create(ctx, campaign.Spec{Name: "Coffee", Start: now.Add(-time.Hour).Format(time.RFC3339), End: now.Add(24 * time.Hour).Format(time.RFC3339),
			Audience: campaign.Audience{Kind: campaign.AudienceAll},
			Benefits: []engine.Benefit{{Kind: engine.PercentOff, Percent: 10, Scope: engine.Scope{SKUs: []string{"COF"}}}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := camps.Launch(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := co.Commit(ctx, &checkout.Request{Store: "S1", Member: checkout.Key(string(e.Member.Code)), Currency: "GBP", TransactionID: "T1",
			Items: []checkout.Item{{Line: 1, SKU: "COF", Quantity: 1, UnitPrice: 300}}}); err != nil {
			t.Fatal(err)
		}
		secret := map[auth.Role]string{}
		for _, r := range []auth.Role{auth.RoleReporting, auth.RolePOS} {
			s, _, err := keys.Create(ctx, r, map[bool]string{true: "S1"}[r == auth.RolePOS], "test")
			if err != nil {
				t.Fatal(err)
			}
			secret[r] = s
		}
		get := func(path string, role auth.Role) (int, []byte) {
			t.Helper()
			req, _ := http.NewRequest("GET", hs.URL+path, nil)
			if role != "" {
				req.Header.Set("Authorization", "Bearer "+secret[role])
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			CheckAgainstOpenAPI(t, req, res.StatusCode, res.Header, b)
			return res.StatusCode, b
		}

		tests := []struct {
			name   string
			path   string
			role   auth.Role
			status int
			code   string
		}{
			{"no key", "/v1/campaigns/" + c.ID + "/report", "", 401, "unauthorized"},
			{"a till may not read reports", "/v1/campaigns/" + c.ID + "/report", auth.RolePOS, 403, "forbidden"},
			{"reporting reads a report", "/v1/campaigns/" + c.ID + "/report?bucket=day", auth.RoleReporting, 200, ""},
			{"unknown campaign", "/v1/campaigns/cmp_nope/report", auth.RoleReporting, 404, "campaign_not_found"},
			{"weekly buckets", "/v1/campaigns/" + c.ID + "/report?bucket=week", auth.RoleReporting, 422, "bucket_invalid"},
			{"history by phone", "/v1/members/" + url.PathEscape("07700900123") + "/history", auth.RoleReporting, 200, ""},
			{"history of nobody", "/v1/members/" + otherID(e.Member.ID) + "/history", auth.RoleReporting, 404, "member_not_found"},
			{"limit 0", "/v1/members/" + e.Member.ID + "/history?limit=0", auth.RoleReporting, 422, "limit_invalid"},
			{"before not a time", "/v1/members/" + e.Member.ID + "/history?before=yesterday", auth.RoleReporting, 422, "before_invalid"},
			{"a till may not read histories", "/v1/members/" + e.Member.ID + "/history", auth.RolePOS, 403, "forbidden"},
		}
		for _, tt := range tests {
			status, body := get(tt.path, tt.role)
			if status != tt.status {
				t.Errorf("%s: %d %s, want %d", tt.name, status, body, tt.status)
				continue
			}
			if tt.code != "" {
				var eb errorBody
				if json.Unmarshal(body, &eb) != nil || eb.Error.Code != tt.code {
					t.Errorf("%s: body %s, want code %s", tt.name, body, tt.code)
				}
			}
		}

		_, body := get("/v1/campaigns/"+c.ID+"/report", auth.RoleReporting)
		var rep struct {
			Redemptions   int64 `json:"redemptions"`
			DiscountGiven int64 `json:"discount_given"`
			Audience      int64 `json:"audience"`
			Uplift        struct {
				Conversion struct {
					CI   *report.Interval `json:"ci"`
					Note string           `json:"note"`
				} `json:"conversion"`
			} `json:"uplift"`
			Series struct {
				Bucket string `json:"bucket"`
			} `json:"series"`
		}
		if err := json.Unmarshal(body, &rep); err != nil {
			t.Fatal(err)
		}
		if rep.Redemptions != 1 || rep.DiscountGiven != 30 || rep.Audience != 1 || rep.Series.Bucket != "hour" ||
			rep.Uplift.Conversion.CI != nil || rep.Uplift.Conversion.Note != "not enough data" {
			t.Errorf("report %s", body)
		}

		// History pages follow next_before; no page shows the number.
		var kinds []string
		path := "/v1/members/" + e.Member.ID + "/history?limit=2"
		for range 10 {
			status, body := get(path, auth.RoleReporting)
			if status != 200 {
				t.Fatalf("history page: %d %s", status, body)
			}
			if strings.Contains(string(body), "900123") || strings.Contains(string(body), "7700900") {
				t.Errorf("history shows the phone number: %s", body)
			}
			var h report.History
			if err := json.Unmarshal(body, &h); err != nil {
				t.Fatal(err)
			}
			for _, ev := range h.Events {
				kinds = append(kinds, ev.Kind)
			}
			if h.NextBefore == nil {
				break
			}
			path = "/v1/members/" + e.Member.ID + "/history?limit=2&before=" + url.QueryEscape(h.NextBefore.Format(time.RFC3339Nano))
		}
		for _, k := range []string{report.EventEnrolled, report.EventOptIn, report.EventMessageOut, report.EventPurchase, report.EventRedemption} {
			if !strings.Contains(strings.Join(kinds, ","), k) {
				t.Errorf("history %v lacks %s", kinds, k)
			}
		}
	})
}

// otherID is a well-formed member id that is not id.
func otherID(id string) string {
	last := "0"
	if strings.HasSuffix(id, "0") {
		last = "1"
	}
	return id[:len(id)-1] + last
}
