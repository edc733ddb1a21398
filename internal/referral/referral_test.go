package referral_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/referral"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// The story: a friend joins with a member's code (typed in the
// wrong case), buys at the till, both are rewarded once (a retried commit
// changes nothing), and the return of the qualifying purchase takes both
// rewards back once.
func TestReferral_JoinBuyRewardOnceReturnClawsBack(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		w.settings(t, bothPoints())
		ann := w.join(t, phoneN(1), "", member.ChannelAPI, "").Member
		code := w.code(t, ann.ID)
		if again := w.code(t, ann.ID); again != code {
			t.Fatalf("code changed: %s then %s", code, again)
		}

		e := w.join(t, phoneN(2), strings.ToLower(code), member.ChannelWeb, "")
		bob := e.Member
		if e.Referral == nil || e.Referral.Status != string(referral.StatusPending) || e.Referral.Reason != referral.ReasonPending {
			t.Fatalf("friend's note = %+v, want pending first purchase", e.Referral)
		}
		refID := e.Referral.ReferralID

		w.buy(t, bob.ID, "T-small", 1500) // under the £20 minimum
		if r := w.referral(t, refID); r.Status != referral.StatusPending {
			t.Fatalf("after £15: %s (%s), want still pending", r.Status, r.Reason)
		}
		first := w.buy(t, bob.ID, "T-coat", 2500)
		r := w.referral(t, refID)
		if r.Status != referral.StatusRewarded || r.Amount != 2500 || r.Cost != 700 {
			t.Fatalf("after £25: %+v, want rewarded, amount 2500, cost 700", r)
		}
		// The till's answer already counts the friend's pending bonus.
		if first.Member.PointsPending != 15+25+200 {
			t.Errorf("friend's pending points in the till's answer = %d, want %d", first.Member.PointsPending, 15+25+200)
		}
		again, err := w.checkout.Commit(ctx, w.basket(bob.ID, "T-coat", 2500))
		if err != nil {
			t.Fatal(err)
		}
		if again.Member.PointsPending != first.Member.PointsPending {
			t.Errorf("retried commit answered %d pending, first %d", again.Member.PointsPending, first.Member.PointsPending)
		}
		w.buy(t, bob.ID, "T-more", 5000)
		if got := w.bonus(t, ann.ID); got != 500 {
			t.Errorf("referrer's referral points = %d, want 500 once", got)
		}
		if got := w.bonus(t, bob.ID); got != 200 {
			t.Errorf("friend's referral points = %d, want 200 once", got)
		}

		mine, err := w.refs.ForMember(ctx, ann.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(mine.Made) != 1 || mine.Made[0].FriendID != bob.ID || mine.Link != "https://perk.test/join?ref="+code || mine.ReferredBy != nil {
			t.Fatalf("referrer's page: %+v", mine)
		}
		theirs, err := w.refs.ForMember(ctx, bob.ID)
		if err != nil {
			t.Fatal(err)
		}
		if theirs.ReferredBy == nil || theirs.ReferredBy.ReferrerID != ann.ID || len(theirs.Made) != 0 {
			t.Fatalf("friend's page: %+v", theirs)
		}

		w.clock.Advance(3 * 24 * time.Hour)
		ret := &checkout.ReturnRequest{Store: "S1", TransactionID: "T-coat", ReturnID: "R1", Items: []checkout.ReturnItem{{Line: 1, Quantity: 1}}}
		if _, err := w.checkout.Return(ctx, ret); err != nil {
			t.Fatal(err)
		}
		if _, err := w.checkout.Return(ctx, ret); err != nil { // the till retries
			t.Fatal(err)
		}
		r = w.referral(t, refID)
		if r.Status != referral.StatusClawedBack || r.Reason != referral.ReasonClawedBack || r.Returned != 2500 || r.Cost != 0 {
			t.Fatalf("after the return: %+v, want clawed back at no cost", r)
		}
		if a, b := w.bonus(t, ann.ID), w.bonus(t, bob.ID); a != 0 || b != 0 {
			t.Errorf("referral points after the return: referrer %d, friend %d, want 0 and 0", a, b)
		}

		rep, err := w.refs.Report(ctx, w.clock.Now().Add(-30*24*time.Hour), w.clock.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if rep.Joined != 1 || rep.Qualified != 1 || rep.ClawedBack != 1 || rep.Rewarded != 0 || rep.Cost != 0 {
			t.Errorf("report = %+v", rep)
		}
		// Bob bought £15 + £50 net (the coat came back); Ann nothing.
		if rep.Referred.Members != 1 || rep.Referred.Revenue != 6500 || rep.Other.Members != 1 || rep.Other.Revenue != 0 {
			t.Errorf("cohorts: referred %+v, other %+v", rep.Referred, rep.Other)
		}
	})
}

// Every way a referral is refused or goes unrewarded says why, and never
// stops the sign-up.
func TestReferral_RefusalsSayWhyAndNeverBlockTheSignUp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		w.settings(t, bothPoints())
		ann := w.join(t, phoneN(1), "", member.ChannelAPI, "").Member
		code := w.code(t, ann.ID)
		old := w.join(t, phoneN(3), "", member.ChannelAPI, "").Member
		quit := w.join(t, phoneN(4), "", member.ChannelAPI, "").Member
		if _, err := w.members.OptOut(ctx, quit.ID, member.Origin{Method: member.ChannelAPI}); err != nil {
			t.Fatal(err)
		}
		gone := w.join(t, phoneN(5), "", member.ChannelAPI, "").Member
		if err := w.members.Erase(ctx, gone.ID); err != nil {
			t.Fatal(err)
		}
		// Ann opened her card in this browser; the "friend" signs up in it.
		if err := w.members.RecordCardVisit(ctx, ann.ID, "aid-ann-phone"); err != nil {
			t.Fatal(err)
		}

		for _, tc := range []struct {
			name, phone, code, anon string
			created                 bool
			status                  referral.Status
			reason                  string
		}{
			{"own phone", phoneN(1), code, "", false, referral.StatusRefused, referral.ReasonSelfPhone},
			{"already a member", phoneN(3), code, "", false, referral.StatusRefused, referral.ReasonAlready},
			{"opted-out member", phoneN(4), code, "", false, referral.StatusRefused, referral.ReasonAlready},
			{"erased member's phone", phoneN(5), code, "", true, referral.StatusRefused, referral.ReasonFormer},
			{"referrer's own browser", phoneN(6), code, "aid-ann-phone", true, referral.StatusRefused, referral.ReasonSelfDevice},
			{"unknown code", phoneN(7), "ZZ9ZZ9", "", true, "", referral.ReasonUnknownCode},
			{"malformed code", phoneN(8), "K7Q-M2", "", true, "", referral.ReasonMalformedCode},
			{"letters only", phoneN(9), "ANNLEE", "", true, "", referral.ReasonMalformedCode},
			{"spaces and case are fine", phoneN(10), " " + strings.ToLower(code[:3]) + " " + code[3:], "", true, referral.StatusPending, referral.ReasonPending},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e := w.join(t, tc.phone, tc.code, member.ChannelWeb, tc.anon)
				if e.Created != tc.created {
					t.Errorf("created = %v, want %v", e.Created, tc.created)
				}
				if e.Referral == nil || referral.Status(e.Referral.Status) != tc.status || e.Referral.Reason != tc.reason {
					t.Fatalf("note = %+v, want %q %q", e.Referral, tc.status, tc.reason)
				}
				if tc.status == "" {
					return
				}
				r := w.referral(t, e.Referral.ReferralID)
				if r.Status != tc.status || r.Reason != tc.reason || r.ReferrerID != ann.ID {
					t.Errorf("stored %+v", r)
				}
			})
		}
		_ = old
		var self int
		if err := db.R.QueryRow(`SELECT COUNT(*) FROM referrals WHERE friend_id = $1`, ann.ID).Scan(&self); err != nil || self != 0 {
			t.Errorf("the referrer is the friend of %d referrals (%v), want none", self, err)
		}
		// None of the refused friends' purchases rewards anyone.
		e := w.join(t, phoneN(11), "", member.ChannelAPI, "")
		w.buy(t, e.Member.ID, "T-x", 5000)
		if got := w.bonus(t, ann.ID); got != 0 {
			t.Errorf("referrer got %d referral points from refused referrals", got)
		}
	})
}

// Caps, the budget and the deadline stop rewards with the reason; a return
// after the returns window keeps them.
func TestReferral_CapsBudgetDeadlineAndReturnsWindow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		st := bothPoints()
		st.CapPerYear = 2
		st.Budget = 2*700 + 699 // room for two referrals' rewards, not three
		w.settings(t, st)
		ann := w.join(t, phoneN(1), "", member.ChannelAPI, "").Member
		cy := w.join(t, phoneN(2), "", member.ChannelAPI, "").Member
		annCode, cyCode := w.code(t, ann.ID), w.code(t, cy.ID)

		status := func(phone, code string, spend int64) *referral.Referral {
			t.Helper()
			e := w.join(t, phone, code, member.ChannelSMS, "")
			if spend > 0 {
				w.buy(t, e.Member.ID, "T"+phone, spend)
			}
			return w.referral(t, e.Referral.ReferralID)
		}
		for i, want := range []string{referral.ReasonRewarded, referral.ReasonRewarded, referral.ReasonCap} {
			if r := status(phoneN(10+i), annCode, 3000); r.Reason != want {
				t.Errorf("Ann's referral %d: %s, want %s", i+1, r.Reason, want)
			}
		}
		if r := status(phoneN(20), cyCode, 3000); r.Reason != referral.ReasonBudget || r.Cost != 0 {
			t.Errorf("over budget: %+v", r)
		}
		spent, err := w.refs.Spent(ctx)
		if err != nil || spent != 1400 {
			t.Errorf("spent = %d (%v), want 1400", spent, err)
		}
		// A year on, the cap has room again but the budget has not.
		w.clock.Advance(366 * 24 * time.Hour)
		if r := status(phoneN(30), annCode, 3000); r.Reason != referral.ReasonBudget {
			t.Errorf("a year later: %s, want the budget", r.Reason)
		}

		late := w.join(t, phoneN(40), cyCode, member.ChannelWeb, "")
		w.clock.Advance(31 * 24 * time.Hour)
		w.buy(t, late.Member.ID, "T-late", 3000)
		if r := w.referral(t, late.Referral.ReferralID); r.Status != referral.StatusNotRewarded || r.Reason != referral.ReasonLate {
			t.Errorf("late purchase: %+v", r)
		}

		st.Budget, st.CapPerYear = 0, 0
		w.settings(t, st)
		kept := w.join(t, phoneN(50), cyCode, member.ChannelWeb, "")
		w.buy(t, kept.Member.ID, "T-kept", 3000)
		w.clock.Advance(31 * 24 * time.Hour)
		if _, err := w.checkout.Void(ctx, &checkout.VoidRequest{Store: "S1", TransactionID: "T-kept"}); err != nil {
			t.Fatal(err)
		}
		r := w.referral(t, kept.Referral.ReferralID)
		if r.Status != referral.StatusRewarded || r.Returned != 3000 || r.Cost != 700 {
			t.Errorf("voided after the returns window: %+v, want rewarded and kept", r)
		}
	})
}

// Qualifying on join rewards at once, with an offer for the friend (a
// list campaign the friend joins) and a free content code for the referrer.
func TestReferral_OnJoinWithOfferAndContent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		g, err := w.campaigns.GivePersonal(ctx, campaignOffer(w), nil, false)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.W.Exec(`INSERT INTO content_codes (pool, code) VALUES ('films', 'FILM-1')`); err != nil {
			t.Fatal(err)
		}
		w.settings(t, referral.Settings{Enabled: true, Qualify: referral.QualifyJoin, ReturnsDays: 30,
			Referrer: &referral.Reward{Kind: referral.RewardContent, Pool: "films", Value: 300},
			Friend:   &referral.Reward{Kind: referral.RewardOffer, Campaign: g.Campaign.Spec.Name, Value: 500}})
		ann := w.join(t, phoneN(1), "", member.ChannelAPI, "").Member
		code := w.code(t, ann.ID)
		e := w.join(t, phoneN(2), code, member.ChannelSMS, "")
		r := w.referral(t, e.Referral.ReferralID)
		if r.Status != referral.StatusRewarded || len(r.Rewards) != 2 || r.Cost != 800 {
			t.Fatalf("on join: %+v", r)
		}
		for _, gv := range r.Rewards {
			switch gv.Role {
			case referral.RoleReferrer:
				if gv.ContentCode != "FILM-1" || gv.MemberID != ann.ID {
					t.Errorf("referrer's reward %+v", gv)
				}
			case referral.RoleFriend:
				if gv.CampaignID != g.Campaign.ID || gv.MemberID != e.Member.ID {
					t.Errorf("friend's reward %+v", gv)
				}
			}
		}
		// The friend's offer is live for them at the till.
		res, err := w.checkout.Evaluate(ctx, w.basket(e.Member.ID, "T-e", 3000), false)
		if err != nil {
			t.Fatal(err)
		}
		if res.TotalDiscount != 500 {
			t.Errorf("friend's discount at the till = %d, want the 500 offer", res.TotalDiscount)
		}
		// The pool is dry for the next referral: noted, not failed.
		e2 := w.join(t, phoneN(3), code, member.ChannelSMS, "")
		r2 := w.referral(t, e2.Referral.ReferralID)
		if r2.Status != referral.StatusRewarded || r2.Cost != 500 {
			t.Errorf("dry pool: %+v", r2)
		}
	})
}
