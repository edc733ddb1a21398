package web_test

import (
	"net/http"
	"net/http/cookiejar"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/testenv"
	"github.com/perk-platform/perk/internal/web"
)

// TestOwnEvents_OneTimelineAcrossChannels: what Perk does and sees lands in
// the member's one timeline, and the card page ties the browser that opened
// it (its perk_aid cookie) to the member.
func TestOwnEvents_OneTimelineAcrossChannels(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		clock := testenv.NewClock(eventsNow)
		e := newEnv(t, db, func(o *web.Options) { o.Now = clock.Now })
		st, b, _ := e.do("POST", "/v1/members", auth.RoleAdmin, map[string]any{"phone": "+447700900123", "consent": map[string]any{"sms": true}})
		if st != http.StatusCreated {
			t.Fatalf("enrol: %d %s", st, b)
		}
		ann := decodeMember(t, b) // member_joined
		// A browser browses anonymously, then opens Ann's card page.
		jar, _ := cookiejar.New(nil)
		browser := &http.Client{Jar: jar}
		res, err := browser.Get(e.url + "/perk.js")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		token := ann.CardURL[strings.LastIndex(ann.CardURL, "/")+1:]
		res, err = browser.Get(e.url + "/c/" + token)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("card page: %v %v", err, res)
		}
		res.Body.Close()
		var aid string
		for _, c := range res.Cookies() {
			if c.Name == "perk_aid" {
				aid = c.Value
			}
		}
		if len(aid) != 32 {
			t.Fatalf("card page set no perk_aid cookie: %v", res.Cookies())
		}
		// Later events from that browser are Ann's without naming her.
		body := `{"events":[` + eventJSON("w1", "cart_updated", 1, `"anonymous_id":"`+aid+`"`, `{"items":[{"sku":"COF","quantity":1,"price":350}]}`) + `]}`
		if st, b, _ := e.do("POST", "/v1/events", auth.RolePOS, body); st != 200 || !strings.Contains(string(b), `"accepted":1`) {
			t.Fatalf("events: %d %s", st, b)
		}
		clock.Advance(2 * time.Minute)
		basket := map[string]any{"store": "S001", "member": ann.Code, "currency": "GBP", "transaction_id": "T-1",
			"items": []map[string]any{{"line": 1, "sku": "COF", "quantity": 1, "unit_price": 350}}}
		if st, b, _ := e.do("POST", "/v1/checkout/commit", auth.RolePOS, basket); st != 200 {
			t.Fatalf("commit: %d %s", st, b)
		}
		if st, b, _ := e.do("POST", "/v1/checkout/return", auth.RolePOS, map[string]any{"transaction_id": "T-1", "return_id": "R-1",
			"items": []map[string]any{{"line": 1, "quantity": 1}}}); st != 200 {
			t.Fatalf("return: %d %s", st, b)
		}
		clock.Advance(time.Minute)
		if st, b, _ := e.do("POST", "/v1/members/"+ann.ID+"/opt-out", auth.RoleManager, nil); st != 200 {
			t.Fatalf("opt out: %d %s", st, b)
		}
		st, b, _ = e.do("GET", "/v1/members/"+ann.ID+"/timeline?limit=100", auth.RoleReporting, nil)
		var tl struct {
			Events []struct {
				Type    string
				Channel string
				Time    time.Time
			} `json:"events"`
		}
		jsonUnmarshal(t, b, &tl)
		var types []string
		for _, ev := range tl.Events {
			types = append(types, ev.Type+"/"+ev.Channel)
		}
		// The member and till services keep the wall clock in this harness,
		// so the order across services is not asserted, only the set.
		slices.Sort(types)
		want := "basket_committed/pos,basket_returned/pos,card_viewed/card,cart_updated/web,identity_merged/card,member_joined/app,member_opted_out/app"
		if st != 200 || strings.Join(types, ",") != want {
			t.Errorf("timeline:\n got %s\nwant %s", strings.Join(types, ","), want)
		}
	})
}
