package web_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/change"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/web"
	"github.com/perk-platform/perk/internal/webhook"
)

// withWebhooks switches the webhooks part of the API on; receivers on
// loopback (httptest servers) are allowed.
func withWebhooks(db *store.DB) func(*web.Options) {
	return func(o *web.Options) { o.Webhooks = webhook.NewService(db, webhook.Options{AllowPrivate: true}) }
}

func TestWebhooksAPI_EndpointsRotationDeliveryLogAndReplay(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		wh := webhook.NewService(db, webhook.Options{AllowPrivate: true})
		woken := 0
		e := newEnv(t, db, func(o *web.Options) { o.Webhooks, o.WakeWebhooks = wh, func() { woken++ } })
		status := http.StatusInternalServerError
		rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) }))
		defer rcv.Close()

		// Refusals, each with its field.
		for _, c := range []struct {
			role   auth.Role
			body   any
			status int
			code   string
			field  string
		}{
			{auth.RoleManager, map[string]any{"url": rcv.URL, "event_types": []string{"member.created"}}, 403, "forbidden", ""},
			{auth.RoleAdmin, map[string]any{"url": "ftp://x", "event_types": []string{"member.created"}}, 422, "url_invalid", "url"},
			{auth.RoleAdmin, map[string]any{"url": rcv.URL, "event_types": []string{"member.nope"}}, 422, "event_type_unknown", "event_types[0]"},
			{auth.RoleAdmin, map[string]any{"url": rcv.URL, "events": []string{"member.created"}}, 400, "bad_request", "events"},
		} {
			got, body, _ := e.do("POST", "/v1/webhooks", c.role, c.body)
			if got != c.status {
				t.Errorf("%v: %d %s, want %d", c.body, got, body, c.status)
				continue
			}
			if code, field := errorOf(t, body); code != c.code || field != c.field {
				t.Errorf("%v: %s on %q, want %s on %q", c.body, code, field, c.code, c.field)
			}
		}

		got, body, _ := e.do("POST", "/v1/webhooks", auth.RoleAdmin, map[string]any{"url": rcv.URL, "description": "CRM",
			"event_types": []string{change.MemberCreated, change.TransactionCommitted}})
		if got != http.StatusCreated {
			t.Fatalf("create: %d %s", got, body)
		}
		created := decode[webhook.Endpoint](t, body)
		if created.Secret == "" || created.ID == "" {
			t.Fatalf("create answered %s", body)
		}
		_, body, _ = e.do("GET", "/v1/webhooks", auth.RoleAdmin, nil)
		list := decode[struct{ Endpoints []webhook.Endpoint }](t, body)
		if len(list.Endpoints) != 1 || list.Endpoints[0].Secret != "" {
			t.Errorf("list: %s (the secret is shown only on create and rotate)", body)
		}
		got, body, _ = e.do("POST", "/v1/webhooks/"+created.ID+"/rotate", auth.RoleAdmin, map[string]any{"grace": "1h"})
		rotated := decode[webhook.Endpoint](t, body)
		if got != http.StatusOK || rotated.Secret == "" || rotated.Secret == created.Secret || rotated.PreviousUntil == nil {
			t.Errorf("rotate: %d %s", got, body)
		}
		if got, body, _ := e.do("POST", "/v1/webhooks/"+created.ID+"/rotate", auth.RoleAdmin, map[string]any{"grace": "forever"}); got != 422 {
			t.Errorf("rotate with a bad grace: %d %s", got, body)
		}

		// A failed delivery in the log, with its attempt; replayed, it goes.
		err := db.Tx(context.Background(), func(tx *sql.Tx) error {
			return wh.Record(context.Background(), tx, change.Event{Type: change.TransactionCommitted, Data: map[string]any{"transaction_id": "T-1"}})
		})
		if err != nil {
			t.Fatal(err)
		}
		d := webhook.NewDispatcher(wh)
		if _, err := d.Drain(context.Background()); err != nil {
			t.Fatal(err)
		}
		_, body, _ = e.do("GET", "/v1/webhooks/"+created.ID+"/deliveries?status=pending", auth.RoleAdmin, nil)
		ds := decode[struct{ Deliveries []webhook.Delivery }](t, body).Deliveries
		if len(ds) != 1 || ds[0].LastCode != 500 || ds[0].Attempts != 1 || ds[0].NextAt == nil {
			t.Fatalf("deliveries: %s", body)
		}
		path := "/v1/webhooks/" + created.ID + "/deliveries/" + ds[0].ID
		_, body, _ = e.do("GET", path, auth.RoleAdmin, nil)
		var one struct {
			Payload    json.RawMessage
			AttemptLog []webhook.Attempt `json:"attempt_log"`
		}
		if err := json.Unmarshal(body, &one); err != nil || len(one.AttemptLog) != 1 || one.AttemptLog[0].Code != 500 || len(one.Payload) == 0 {
			t.Errorf("delivery: %s", body)
		}
		status = http.StatusOK
		if got, body, _ := e.do("POST", path+"/replay", auth.RoleAdmin, nil); got != http.StatusAccepted || woken != 1 {
			t.Errorf("replay: %d %s, dispatcher woken %d times", got, body, woken)
		}
		if _, err := d.Drain(context.Background()); err != nil {
			t.Fatal(err)
		}
		_, body, _ = e.do("GET", "/v1/webhooks/"+created.ID+"/deliveries", auth.RoleAdmin, nil)
		if ds := decode[struct{ Deliveries []webhook.Delivery }](t, body).Deliveries; len(ds) != 1 || ds[0].Status != webhook.StatusDelivered {
			t.Errorf("after replay: %s", body)
		}
		if got, _, _ := e.do("POST", "/v1/webhooks/whe_other/deliveries/"+ds[0].ID+"/replay", auth.RoleAdmin, nil); got != 404 {
			t.Errorf("replay under another endpoint: %d, want 404", got)
		}

		// The dashboard lists the endpoint and its delivery, for admins only.
		res, page := e.get(e.signIn(auth.RoleAdmin), "/manage/webhooks")
		if res.StatusCode != http.StatusOK || !strings.Contains(page, created.ID) || !strings.Contains(page, ds[0].EventID) ||
			!strings.Contains(page, "rotating: old secret until") {
			t.Errorf("webhooks page: %d\n%s", res.StatusCode, page)
		}
		if res, _ := e.get(e.signIn(auth.RoleManager), "/manage/webhooks"); res.StatusCode != http.StatusForbidden {
			t.Errorf("webhooks page for a manager: %d, want 403", res.StatusCode)
		}

		if got, _, _ := e.do("DELETE", "/v1/webhooks/"+created.ID, auth.RoleAdmin, nil); got != http.StatusNoContent {
			t.Errorf("delete: %d", got)
		}
		got, body, _ = e.do("GET", "/v1/webhooks/"+created.ID, auth.RoleAdmin, nil)
		if code, _ := errorOf(t, body); got != 404 || code != "webhook_not_found" {
			t.Errorf("after delete: %d %s", got, body)
		}
	})
}
