package router_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/sms/router"
	"github.com/perk-platform/perk/internal/sms/texts"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// newLocaleEnv is a programme in locale whose member service and router
// share one catalogue, as perk serve wires them, with POINTS and OFFERS.
func newLocaleEnv(t *testing.T, db *store.DB, locale string) (*env, *campaign.Service, *ledger.Ledger) {
	t.Helper()
	e := &env{t: t, db: db, clk: &clock{t: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cat, err := texts.Load(texts.Options{Locale: locale, Programme: "Test Rewards", HelpContact: "0800 000 000",
		Frequency: "Up to 3 msgs/week", PublicURL: "https://perk.test", Log: log})
	if err != nil {
		t.Fatal(err)
	}
	e.members = member.NewService(db, member.Options{Region: "GB", PublicURL: "https://perk.test", Now: e.clk.Now, Log: log, Texts: cat})
	camps := campaign.NewService(db, campaign.Options{Now: e.clk.Now, Log: log})
	led := ledger.New(db, ledger.Policy{PendingFor: 14 * 24 * time.Hour}, e.clk.Now)
	co := checkout.NewService(db, e.members, camps, led, checkout.Options{Currency: "GBP", BaseEarn: 1, Now: e.clk.Now, Log: log})
	if e.r, err = router.New(db, e.members, router.Options{Texts: cat, Now: e.clk.Now, Log: log, Wallet: co}); err != nil {
		t.Fatal(err)
	}
	return e, camps, led
}

// exchange is one text from a shopper and what the reply must contain.
type exchange struct {
	from, body string
	wants      []string
}

func (e *env) converse(t *testing.T, steps []exchange) {
	t.Helper()
	for _, s := range steps {
		one(t, e.text(s.from, s.body), s.wants...)
	}
}

// TestRouter_FrenchMemberInAnEnglishProgramme: a member whose locale is fr
// (living in the UK, so her offers end on the same day as Ann's) gets every
// text in French, from the welcome to the keyword replies, while
// an English member and a stranger get English.
func TestRouter_FrenchMemberInAnEnglishProgramme(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, camps, _ := newLocaleEnv(t, db, "en")
		ctx := context.Background()
		const chloe, ann, bob = "+447400123458", "+447400123456", "+447400123457"
		before := e.clk.t
		e.clk.t = e.clk.t.Add(time.Second)
		en, err := e.members.Enrol(ctx, member.EnrolRequest{Profile: member.Profile{Phone: chloe, FirstName: "Chloé", Locale: "fr"},
			Channel: member.ChannelAPI, Consent: true, DoubleOptIn: true})
		if err != nil {
			t.Fatal(err)
		}
		code := string(en.Member.Code)
		got := e.outboxSince(before)
		if len(got) != 2 {
			t.Fatalf("enrolment queued %q, want the opt-in confirmation and the welcome", got)
		}
		want := map[string]string{"confirm_optin": "Test Rewards : répondez YES ou ouvrez https://perk.test/join/confirm/",
			"welcome": "Bienvenue chez Test Rewards ! Votre code membre est " + code + ". Votre carte : https://perk.test/c/"}
		for _, m := range got {
			if w := want[m.purpose]; w == "" || !strings.HasPrefix(m.body, w) {
				t.Errorf("%s: %q, want it to start %q", m.purpose, m.body, w)
			}
		}
		e.converse(t, []exchange{
			{chloe, "OUI? no: YES", []string{"désolé, nous n'avons pas compris"}},
			{chloe, "yes", []string{"Test Rewards : merci, vous recevrez désormais nos offres par SMS."}},
			{chloe, "CODE", []string{"Test Rewards : votre code membre est " + code + ". Votre carte : https://perk.test/c/"}},
			{chloe, "JOIN", []string{"votre code membre est " + code}},
			{chloe, "HELP", []string{"Aide : 0800 000 000", "STOP pour vous désinscrire"}},
			{chloe, "POINTS", []string{"vous avez 0 points à utiliser. Votre carte : https://perk.test/c/"}},
			{chloe, "OFFERS", []string{"aucune offre pour vous en ce moment"}},
			{chloe, "STOP", []string{"vous ne recevrez plus nos SMS promotionnels", "START"}},
			{chloe, "START", []string{"votre abonnement aux offres par SMS est rétabli"}},
			{ann, "JOIN Ann", []string{"Welcome to Test Rewards! Your member code is"}},
			{ann, "HELP", []string{"Help: 0800 000 000"}},
			{bob, "CODE", []string{"you are not a member yet"}},
			{bob, "STOP", []string{"you are unsubscribed"}},
		})
		launchOffer(t, camps, "Café", "-20 % sur le café")
		e.converse(t, []exchange{
			{chloe, "OFFERS", []string{"Test Rewards : vos offres : -20 % sur le café (jusqu'au 30/11). Présentez votre carte"}},
			{ann, "OFFERS", []string{"your offers: -20 % sur le café (until 30 Nov)"}},
		})
	})
}

// TestRouter_FrenchProgramme: with --locale fr, strangers and members
// without a locale get French; a member who chose English gets English.
func TestRouter_FrenchProgramme(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, _, _ := newLocaleEnv(t, db, "fr-FR")
		ctx := context.Background()
		const zoe, ann = "+33612345679", "+447400123456"
		e.converse(t, []exchange{
			{zoe, "CODE", []string{"Test Rewards : vous n'avez pas encore de carte membre. Envoyez JOIN"}},
			{zoe, "JOIN Zoé", []string{"Bienvenue chez Test Rewards !"}},
			{zoe, "hein ?", []string{"désolé, nous n'avons pas compris"}},
		})
		m, err := e.members.ByPhone(ctx, zoe)
		if err != nil || m.Locale != "" {
			t.Fatalf("member by SMS: locale %q, %v; want none (the programme's)", m.Locale, err)
		}
		if _, err := e.members.Enrol(ctx, member.EnrolRequest{Profile: member.Profile{Phone: ann, Locale: "en-GB"},
			Channel: member.ChannelAPI, Consent: true}); err != nil {
			t.Fatal(err)
		}
		e.converse(t, []exchange{
			{ann, "HELP", []string{"Test Rewards: member card and offers by SMS. Help: 0800 000 000"}},
			{"+33612345670", "STOP", []string{"Test Rewards : vous ne recevrez plus"}},
		})
	})
}

// launchOffer launches a campaign for everyone, 20% off, for November.
func launchOffer(t *testing.T, camps *campaign.Service, name, description string) {
	t.Helper()
	ctx := context.Background()
	c, err := camps.Create(ctx, campaign.Spec{Name: name, Start: "2026-11-01", End: "2026-12-01", Audience: campaign.Audience{Kind: campaign.AudienceAll},
		Benefits: []engine.Benefit{{Kind: engine.PercentOff, Percent: 20, Description: description}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := camps.Launch(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
}

type queued struct{ purpose, body string }

// outboxSince returns the messages queued after t, oldest first.
func (e *env) outboxSince(t time.Time) []queued {
	e.t.Helper()
	rows, err := e.db.R.Query(`SELECT purpose, body FROM sms_outbox WHERE created_at > $1 ORDER BY created_at, id`, t)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []queued
	for rows.Next() {
		var q queued
		if err := rows.Scan(&q.purpose, &q.body); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, q)
	}
	return out
}
