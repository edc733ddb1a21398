package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/referral"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestReferralShareAndJoin_InChromium is the story in a phone-sized
// browser: Ann shares her link from her card (the share button, at 360 px,
// passing axe), a sign-up with it in her own browser is refused as a
// self-referral, her friend joins with it in another browser, buys at the
// till, and both cards show the referral rewarded.
func TestReferralShareAndJoin_InChromium(t *testing.T) {
	// Both databases: the referral's writes ride on the enrolment's and the
	// till's transactions, which differ between the engines.
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		if _, err := e.referrals.Save(t.Context(), referral.Settings{Enabled: true, Qualify: referral.QualifyPurchase, MinPurchase: 2000,
			WithinDays: 30, ReturnsDays: 30, Referrer: &referral.Reward{Kind: referral.RewardPoints, Points: 500},
			Friend: &referral.Reward{Kind: referral.RewardPoints, Points: 200}}); err != nil {
			t.Fatal(err)
		}
		ann, err := e.members.Enrol(t.Context(), member.EnrolRequest{Profile: member.Profile{Phone: "07700 900201", FirstName: "Ann"},
			Channel: member.ChannelAPI, Consent: true})
		if err != nil {
			t.Fatal(err)
		}
		b := newBrowser(t)
		if err := chromedp.Do(b, chromedp.Navigate(e.url+"/c/"+ann.CardToken), chromedp.WaitVisible(chromedp.CSS("#share"))); err != nil {
			t.Fatalf("card's share button: %v", err)
		}
		if got := text(t, b, "#referral-title"); got != "Invite a friend" {
			t.Errorf("panel title %q", got)
		}
		link, err := chromedp.Run(b, chromedp.Evaluate[string](`document.querySelector("#referral-link").value`))
		if err != nil || !strings.HasPrefix(link, "http://perk.test/join?ref=") {
			t.Fatalf("referral link %q (%v)", link, err)
		}
		fitsWidth(t, b)
		checkAxeWidths(t, b, axeScript(t), "card with the share panel")
		screenshot(t, b, "card-share-360")

		// Headless Chromium has no share sheet: stand one in for the phone's
		// and check the button hands it Ann's link; then, without one, the
		// button falls back to copying.
		shared, err := chromedp.Run(b, chromedp.Evaluate[bool](`new Promise(done => {
		navigator.share = d => { window.sharedURL = d.url; done(true); return Promise.resolve(); };
		document.querySelector("#share").click();
	})`, chromedp.EvalAwaitPromise))
		if err != nil || !shared {
			t.Fatalf("share: %v", err)
		}
		got, _ := chromedp.Run(b, chromedp.Evaluate[string](`window.sharedURL`))
		if got != link {
			t.Errorf("shared %q, want %q", got, link)
		}
		if _, err := chromedp.Run(b, chromedp.Evaluate[bool](`delete navigator.share; document.querySelector("#share").click(); true`)); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool {
			s, _ := chromedp.Run(b, chromedp.Text(chromedp.CSS("#share-status")))
			return strings.Contains(s, "copied") || strings.Contains(s, "copy it")
		})
		waitFor(t, func() bool {
			var n int
			db.R.QueryRow(`SELECT COUNT(*) FROM referral_activity WHERE kind = 'shared'`).Scan(&n)
			return n >= 1
		})

		// Ann opens her own link in her own browser and signs a second number
		// up: joined, but refused as a self-referral.
		join := func(ctx context.Context, ph string) {
			t.Helper()
			// The link names the public URL; this server is the test's.
			err := chromedp.Do(ctx, chromedp.Navigate(e.url+strings.TrimPrefix(link, "http://perk.test")), chromedp.WaitVisible(chromedp.CSS("#referral-notice")),
				chromedp.SendKeys(chromedp.CSS("#phone"), ph), chromedp.Click(chromedp.CSS("#consent")),
				chromedp.Click(chromedp.CSS("button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("#joined")))
			if err != nil {
				t.Fatalf("join %s: %v", ph, err)
			}
		}
		join(b, "07700 900202")
		status := func(ph string) (string, string) {
			t.Helper()
			var st, reason string
			if err := db.R.QueryRow(`SELECT f.status, f.reason FROM referrals f JOIN members m ON m.id = f.friend_id WHERE m.phone = $1`,
				"+44"+strings.ReplaceAll(ph, " ", "")[1:]).Scan(&st, &reason); err != nil {
				t.Fatalf("referral of %s: %v", ph, err)
			}
			return st, reason
		}
		if st, reason := status("07700 900202"); st != "refused" || reason != referral.ReasonSelfDevice {
			t.Errorf("Ann's own browser: %s %q", st, reason)
		}

		// Her friend, on another phone, joins with the link.
		friend := newBrowser(t)
		join(friend, "07700 900203")
		if got := text(t, friend, "#referral-outcome"); !strings.Contains(got, "invitation is noted") {
			t.Errorf("after joining: %q", got)
		}
		fitsWidth(t, friend)
		screenshot(t, friend, "join-with-referral-done-360")
		if st, reason := status("07700 900203"); st != "pending_purchase" || reason != referral.ReasonPending {
			t.Fatalf("friend: %s %q", st, reason)
		}
		fm, err := e.members.ByPhone(t.Context(), "+447700900203")
		if err != nil {
			t.Fatal(err)
		}
		basket := map[string]any{"store": "S001", "terminal": "T1", "member": string(fm.Code), "currency": "GBP", "transaction_id": "B-1",
			"items": []map[string]any{{"line": 1, "sku": "COAT", "quantity": 1, "unit_price": 2500}}}
		if st, body, _ := e.do("POST", "/v1/checkout/commit", auth.RolePOS, basket); st != 200 {
			t.Fatalf("commit: %d %s", st, body)
		}
		if err := chromedp.Do(b, chromedp.Navigate(e.url+"/c/"+ann.CardToken), chromedp.WaitVisible(chromedp.CSS("#referrals-made"))); err != nil {
			t.Fatal(err)
		}
		if got := text(t, b, "#referrals-made"); !strings.Contains(got, "rewarded") || !strings.Contains(got, referral.ReasonSelfDevice) {
			t.Errorf("Ann's invitations: %q", got)
		}
		screenshot(t, b, "card-referrals-360")
	})
}
