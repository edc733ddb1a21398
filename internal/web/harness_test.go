package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/barcode"
	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/catalogue"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/event"
	"github.com/perk-platform/perk/internal/funnel"
	"github.com/perk-platform/perk/internal/job"
	"github.com/perk-platform/perk/internal/journey"
	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/profile"
	"github.com/perk-platform/perk/internal/referral"
	"github.com/perk-platform/perk/internal/report"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/testenv"
	"github.com/perk-platform/perk/internal/web"
)

// env is a running Perk HTTP server over a test database.
type env struct {
	t       *testing.T
	db      *store.DB
	url     string
	members *member.Service
	keys    map[auth.Role]string // secrets
	keyIDs  map[auth.Role]string
	logs    *testenv.Buffer
	routes  []web.Route // the /v1 routes the server registered

	campaigns *campaign.Service
	ledger    *ledger.Ledger
	referrals *referral.Service
}

func newEnv(t *testing.T, db *store.DB, mutate ...func(*web.Options)) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &testenv.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := &env{t: t, db: db, logs: logs, keys: map[auth.Role]string{}, keyIDs: map[auth.Role]string{}}
	srvURL := ""
	ms := member.NewService(db, member.Options{Region: "GB", PublicURL: "http://perk.test", Programme: "Test Rewards",
		ConsentVersion: "v1", Log: log})
	jobs := member.NewJobs(ms)
	// Uploads run as durable jobs, on a queue of the test's own.
	queue := job.New(db, job.Options{Node: "test", Log: log, Poll: 10 * time.Millisecond})
	jobs.UseQueue(queue)
	queueDone := make(chan struct{})
	camps := campaign.NewService(db, campaign.Options{Zone: time.UTC, PublicURL: "http://perk.test", Programme: "Test Rewards", Log: log})
	led := ledger.New(db, ledger.Policy{RedeemPoints: 1, RedeemValue: 1}, time.Now)
	live := web.NewLive()
	// Referrals are wired as perk serve wires them: sign-ups and the tills
	// tell the referral service inside their transactions.
	refs := referral.New(db, led, camps, referral.Options{PublicURL: "http://perk.test", Log: log})
	ms.SetReferrals(refs)
	// The tills' stores: S001 (the pos key's), S002 and S009 (others), and
	// S1 for the tests that name it.
	cat := catalogue.New(db, catalogue.Options{Currency: "GBP", Log: log})
	if err := cat.PutStores(ctx, []catalogue.Store{{ID: "S001", Name: "One", Timezone: "UTC"}, {ID: "S002", Name: "Two", Timezone: "UTC"},
		{ID: "S009", Name: "Nine", Timezone: "UTC"}, {ID: "S1", Name: "S1", Timezone: "UTC"}}); err != nil {
		t.Fatal(err)
	}
	opt := web.Options{Catalogue: cat, Programme: "Test Rewards", ConsentWording: "Yes, text me offers. Reply STOP to opt out.",
		Symbology: barcode.Code128, UploadDir: t.TempDir(), JoinPerMinute: 100, Log: log,
		Campaigns: camps, Ledger: led, Live: live, Reports: report.NewService(db, camps, nil),
		Referrals: refs,
		Checkout: checkout.NewService(db, ms, camps, led, checkout.Options{Currency: "GBP", BaseEarn: 1, Log: log, OnChange: live.Notify,
			Catalogue: cat, Referrals: refs})}
	for _, m := range mutate {
		m(&opt)
	}
	if opt.Currency.Code != "" {
		// A programme in another currency: campaigns describe and tills
		// pay in it.
		camps = campaign.NewService(db, campaign.Options{Zone: time.UTC, PublicURL: "http://perk.test", Programme: "Test Rewards", Currency: opt.Currency, Log: log})
		opt.Campaigns, opt.Reports = camps, report.NewService(db, camps, nil)
		opt.Checkout = checkout.NewService(db, ms, camps, led, checkout.Options{Currency: opt.Currency.Code, BaseEarn: 1, Log: log, OnChange: live.Notify,
			Catalogue: cat, Referrals: refs})
	}
	if opt.Events == nil {
		opt.Events = event.NewService(db, event.Options{Now: opt.Now})
	}
	if opt.Funnels == nil {
		opt.Funnels = funnel.NewService(db, opt.Now)
	}
	if opt.Profiles == nil {
		opt.Profiles = profile.NewService(db, profile.Options{Now: opt.Now}, log)
	}
	if opt.Journeys == nil {
		opt.Journeys = journey.NewService(db, journey.Options{Now: opt.Now, Offers: camps})
	}
	// Sign-ins and their throttling keep the server's time.
	keys := auth.NewService(db, opt.Now)
	ws := web.New(ctx, db, ms, jobs, keys, opt)
	srv := httptest.NewServer(ws.Handler())
	e.routes = ws.APIRoutes()
	go func() { defer close(queueDone); queue.Run(ctx) }()
	t.Cleanup(func() {
		srv.Close()
		cancel()
		<-queueDone
	})
	srvURL = srv.URL
	e.url, e.members, e.campaigns, e.ledger, e.referrals = srvURL, ms, camps, led, refs
	for _, r := range []auth.Role{auth.RoleAdmin, auth.RoleManager, auth.RolePOS, auth.RoleReporting, auth.RoleIngest} {
		secret, k, err := keys.Create(ctx, r, map[bool]string{true: "S001"}[r == auth.RolePOS], "test")
		if err != nil {
			t.Fatal(err)
		}
		e.keys[r], e.keyIDs[r] = secret, k.ID
	}
	return e
}

// do sends a request with the role's key (none if role is "") and returns
// the status and body. Every answer under /v1 is checked against
// docs/openapi.yaml (web.CheckAgainstOpenAPI), so the document cannot drift
// from what the API does.
func (e *env) do(method, path string, role auth.Role, body any) (int, []byte, http.Header) {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+e.keys[role])
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	web.CheckAgainstOpenAPI(e.t, req, res.StatusCode, res.Header, out)
	// Trailers (known once the body is read) come back with the headers.
	for k, v := range res.Trailer {
		res.Header[k] = v
	}
	return res.StatusCode, out, res.Header
}

// errorOf decodes the JSON error body, failing the test if it is not one.
func errorOf(t *testing.T, body []byte) (code, field string) {
	t.Helper()
	var e struct {
		Error struct{ Code, Message, Field string } `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("not a JSON error body: %s", body)
	}
	return e.Error.Code, e.Error.Field
}

type memberJSON struct {
	ID, Code, Phone, Status, Channel, CardURL string
	HomeStore                                 string `json:"home_store"`
	FirstName                                 string `json:"first_name"`
}

func decodeMember(t *testing.T, body []byte) memberJSON {
	t.Helper()
	var m memberJSON
	var raw map[string]any
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	json.Unmarshal(body, &m)
	if u, ok := raw["card_url"].(string); ok {
		m.CardURL = u
	}
	return m
}

// enrol enrols a member with phone through the API as an admin and returns
// it as the API showed it.
func (e *env) enrol(phone string) memberJSON {
	e.t.Helper()
	st, body, _ := e.do("POST", "/v1/members", auth.RoleAdmin, map[string]any{"phone": phone})
	if st != http.StatusCreated {
		e.t.Fatalf("enrol %s: %d %s", phone, st, body)
	}
	return decodeMember(e.t, body)
}

// waitFor polls cond until it holds or ten seconds pass.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func jsonUnmarshal(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}
