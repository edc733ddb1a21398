package router_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/referral"
	"github.com/perk-platform/perk/internal/sms/router"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// withReferrals is the router of newEnv with the referral programme on.
func withReferrals(t *testing.T, db *store.DB) (*env, *referral.Service) {
	e := newEnv(t, db)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	camps := campaign.NewService(db, campaign.Options{Zone: time.UTC, PublicURL: "https://perk.test", Now: e.clk.Now, Log: log})
	refs := referral.New(db, ledger.New(db, ledger.Policy{}, e.clk.Now), camps, referral.Options{PublicURL: "https://perk.test", Now: e.clk.Now, Log: log})
	e.members.SetReferrals(refs)
	if _, err := refs.Save(context.Background(), referral.Settings{Enabled: true, Qualify: referral.QualifyPurchase, WithinDays: 30,
		Referrer: &referral.Reward{Kind: referral.RewardPoints, Points: 100}}); err != nil {
		t.Fatal(err)
	}
	var err error
	e.r, err = router.New(db, e.members, router.Options{Programme: "Test Rewards", HelpContact: "0800 000 000",
		Frequency: "Up to 3 msgs/week", Now: e.clk.Now, Log: log, Wake: func() { e.wakes++ }, Referrals: refs})
	if err != nil {
		t.Fatal(err)
	}
	return e, refs
}

// INVITE answers with the member's own link; JOIN with a code (any case),
// or the code alone, joins with the referral; a bad code joins all the same
// and is answered; a name stays a name.
func TestRouter_InviteAndJoinWithACode(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, refs := withReferrals(t, db)
		ctx := context.Background()
		const ann, bob, cy, dee, eve = "+447400123401", "+447400123402", "+447400123403", "+447400123404", "+447400123405"
		e.text(ann, "JOIN Ann")
		a, err := e.members.ByPhone(ctx, ann)
		if err != nil {
			t.Fatal(err)
		}
		code, err := refs.Code(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		one(t, e.text(ann, "invite"), "https://perk.test/join?ref="+code, "JOIN "+code)
		one(t, e.text(eve, "INVITE"), "not a member") // a stranger gets no link

		for _, tc := range []struct {
			from, body, first string
			replies           int
			status            referral.Status
			note              string
		}{
			{bob, "JOIN " + strings.ToLower(code) + " Bob", "Bob", 1, referral.StatusPending, ""},
			{cy, code, "", 1, referral.StatusPending, ""},
			{dee, "JOIN ZZ9ZZ9 Dee", "Dee", 2, "", "the referral code is not known"},
		} {
			replies := e.text(tc.from, tc.body)
			all := strings.Join(replies, "\n")
			if len(replies) != tc.replies || !strings.Contains(all, "Welcome to Test Rewards") || !strings.Contains(all, tc.note) {
				t.Fatalf("%q: replies %q, want the welcome and %q", tc.body, replies, tc.note)
			}
			m, err := e.members.ByPhone(ctx, tc.from)
			if err != nil {
				t.Fatal(err)
			}
			if m.FirstName != tc.first {
				t.Errorf("%q: first name %q, want %q", tc.body, m.FirstName, tc.first)
			}
			mine, err := refs.ForMember(ctx, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.status == "" && mine.ReferredBy != nil:
				t.Errorf("%q: referred by %+v", tc.body, mine.ReferredBy)
			case tc.status != "" && (mine.ReferredBy == nil || mine.ReferredBy.Status != tc.status || mine.ReferredBy.ReferrerID != a.ID):
				t.Errorf("%q: referred by %+v, want %s by Ann", tc.body, mine.ReferredBy, tc.status)
			}
		}
		// Ann texting her own code is a member asking for her card again.
		one(t, e.text(ann, "JOIN "+code), "member code")
		// Perk sent nothing to a number Ann could have typed: every message
		// went to a number that texted in.
		var strays int
		db.R.QueryRow(`SELECT COUNT(*) FROM sms_outbox WHERE to_phone NOT IN ($1, $2, $3, $4, $5)`, ann, bob, cy, dee, eve).Scan(&strays)
		if strays != 0 {
			t.Errorf("%d messages to numbers that never texted", strays)
		}
	})
}
