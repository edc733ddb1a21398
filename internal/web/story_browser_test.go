package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/event"
	"github.com/perk-platform/perk/internal/funnel"
	"github.com/perk-platform/perk/internal/links"
	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/web"
)

// shopPage is the retailer's mobile page: Perk's script, and a button that
// puts coffee in the web cart.
const shopPage = `<!doctype html><html><head><meta name="viewport" content="width=device-width">
<title>Corner Coffee</title><script src="%s/perk.js" data-key="%s"></script></head>
<body><h1>Corner Coffee</h1><button id="add" onclick="perk.track('cart_updated', {items: [{sku: 'COF-250', quantity: 1, price: 350}]}); perk.flush(); this.textContent = 'added'">Add coffee</button></body></html>`

// TestShopperStory_InChromium is the mobile session end to end: an
// anonymous visitor on a mobile page with /perk.js puts coffee in a web
// cart; later the same browser opens an SMS link from a campaign and is
// identified, the earlier anonymous events moving to the member; the member
// buys at the till. One timeline, one session, and the campaign's buy
// pipeline counts the shopper once at every step.
func TestShopperStory_InChromium(t *testing.T) {
	storetest.EachIsolated(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		short := links.NewService(db, "http://perk.test", nil)
		e := newEnv(t, db, func(o *web.Options) { o.Links = short })
		// The shop is another origin on the same host: cookies do not
		// depend on the port, so Perk's pages see the shop's perk_aid.
		shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, shopPage, e.url, e.keys[auth.RoleIngest])
		}))
		t.Cleanup(shop.Close)
		ann := e.enrol("+447700900123")

		b := newBrowser(t)
		if err := chromedp.Do(b, chromedp.Navigate(shop.URL+"/coffee"), chromedp.WaitVisible(chromedp.CSS("#add")),
			chromedp.Click(chromedp.CSS("#add"))); err != nil {
			t.Fatal(err)
		}
		anon := ""
		waitFor(t, func() bool {
			db.R.QueryRow(`SELECT COALESCE(MAX(anonymous_id), '') FROM events WHERE type = 'cart_updated' AND member_id IS NULL`).Scan(&anon)
			return anon != ""
		})

		// The campaign's text reaches Ann through the real queue.
		q := sms.NewQueue(db, nil, time.Minute, 3)
		link, err := short.Shorten(ctx, nil, links.Link{URL: shop.URL + "/coffee?utm_campaign=cmp_coffee", MemberID: ann.ID, Campaign: "cmp_coffee"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sms.Enqueue(ctx, db.W, sms.Outbound{MemberID: ann.ID, To: "+447700900123", Body: "Coffee 20% off: " + link,
			Kind: sms.Marketing, Purpose: "campaign", Campaign: "cmp_coffee"}, time.Now().Add(-time.Second)); err != nil {
			t.Fatal(err)
		}
		// Her welcome text goes out with it.
		msgs, err := q.Claim(ctx, 10)
		if err != nil || len(msgs) != 2 {
			t.Fatalf("claim: %v %d", err, len(msgs))
		}
		for i, m := range msgs {
			gid := fmt.Sprintf("gw-%d", i)
			if err := q.Sent(ctx, m, gid, 1); err != nil {
				t.Fatal(err)
			}
			if err := q.Delivered(ctx, sms.Receipt{GatewayID: gid, State: sms.Delivered, At: time.Now().UTC()}); err != nil {
				t.Fatal(err)
			}
		}

		// Ann opens the link in the same browser: identified.
		code := link[strings.LastIndex(link, "/")+1:]
		if err := chromedp.Do(b, chromedp.Navigate(e.url+"/l/"+code), chromedp.WaitVisible(chromedp.CSS("#add"))); err != nil {
			t.Fatal(err)
		}
		owner := ""
		waitFor(t, func() bool {
			db.R.QueryRow(`SELECT COALESCE(member_id, '') FROM events WHERE type = 'cart_updated' AND anonymous_id = $1`, anon).Scan(&owner)
			return owner != ""
		})
		if owner != ann.ID {
			t.Fatalf("the anonymous cart went to %q, want %s", owner, ann.ID)
		}

		// Ann buys at the till.
		basket := map[string]any{"store": "S001", "member": ann.Code, "currency": "GBP", "transaction_id": "T-1",
			"items": []map[string]any{{"line": 1, "sku": "COF-250", "quantity": 1, "unit_price": 350}}}
		if st, body, _ := e.do("POST", "/v1/checkout/commit", auth.RolePOS, basket); st != 200 {
			t.Fatalf("commit: %d %s", st, body)
		}
		// Wait for the shop page view of the second visit too, so the
		// timeline below is complete.
		waitFor(t, func() bool {
			var n int
			db.R.QueryRow(`SELECT COUNT(*) FROM events WHERE type = 'page_viewed' AND member_id = $1`, ann.ID).Scan(&n)
			return n == 2
		})

		// One timeline.
		st, body, _ := e.do("GET", "/v1/members/"+ann.ID+"/timeline?limit=100", auth.RoleReporting, nil)
		var tl struct{ Events []event.Event }
		jsonUnmarshal(t, body, &tl)
		seen := map[string]int{}
		for _, ev := range tl.Events {
			seen[ev.Type]++
		}
		// identified: /perk.js on the page the link opened sent the
		// identify token the link's redirect carried (perk_it); the
		// browser was already the member's, so no second merge.
		want := map[string]int{"member_joined": 1, "page_viewed": 2, "cart_updated": 1, "sms_sent": 2, "sms_delivered": 2,
			"link_clicked": 1, "identified": 1, "identity_merged": 1, "basket_committed": 1}
		if st != 200 || fmt.Sprint(seen) != fmt.Sprint(want) {
			t.Errorf("timeline %v, want %v", seen, want)
		}
		// One session chain across web, SMS and the till, converted.
		st, body, _ = e.do("GET", "/v1/members/"+ann.ID+"/sessions", auth.RoleReporting, nil)
		var ss struct{ Sessions []event.Session }
		jsonUnmarshal(t, body, &ss)
		if st != 200 || len(ss.Sessions) != 1 || !ss.Sessions[0].Converted || len(ss.Sessions[0].Channels) < 3 {
			t.Errorf("sessions %s", body)
		}
		// The buy pipeline counts Ann once at every step.
		all := [2]time.Time{time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)}
		rep, err := funnel.NewService(db, nil).Run(ctx, funnel.BuyPipeline("cmp_coffee", 7*24*time.Hour), all[0], all[1])
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(countsOf(rep)); got != "[1 1 1 1]" {
			t.Errorf("buy pipeline %s, want [1 1 1 1]", got)
		}
		screenshot(t, b, "shopper-story-"+string(db.Dialect))
	})
}

func countsOf(r funnel.Report) []int {
	var c []int
	for _, s := range r.Groups[0].Steps {
		c = append(c, s.Count)
	}
	return c
}
