package web_test

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"go.yaml.in/yaml/v3"

	"github.com/perk-platform/perk/docs"
	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/web"
)

// operations lists the document's operations as ServeMux patterns with the
// x-perk-permission each declares.
func operations(t *testing.T) map[string]string {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]yaml.Node `yaml:"paths"`
	}
	if err := yaml.Unmarshal(docs.OpenAPI, &doc); err != nil {
		t.Fatalf("docs/openapi.yaml: %v", err)
	}
	ops := map[string]string{}
	for path, item := range doc.Paths {
		for method, node := range item {
			switch method {
			case "get", "put", "post", "delete", "patch", "options":
			default:
				continue
			}
			var op struct {
				Permission string `yaml:"x-perk-permission"`
			}
			if err := node.Decode(&op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			ops[strings.ToUpper(method)+" "+path] = op.Permission
		}
	}
	return ops
}

func TestOpenAPI_DocumentIsValid(t *testing.T) {
	doc, err := libopenapi.NewDocument(docs.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	if v := doc.GetVersion(); v != "3.1.0" {
		t.Errorf("openapi %q, want 3.1.0", v)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if ok, errs := v.ValidateDocument(); !ok {
		for _, e := range errs {
			t.Errorf("%s: %s", e.Message, e.Reason)
			for _, se := range e.SchemaValidationErrors {
				t.Errorf("  %s: %s", se.FieldPath, se.Reason)
			}
		}
	}
}

// Every /v1 route the server registers has an operation in the document,
// with the permission the route checks, and every operation has a route:
// a new route cannot land undocumented.
func TestOpenAPI_CoversEveryRoute(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		// Every optional part of the API on: a part added to Options
		// that registers routes belongs here too.
		e := newEnv(t, db, withBatch(t, db), withWebhooks(db), withCRMFeed(db), withNBO(db))
		ops := operations(t)
		routes := map[string]string{}
		for _, r := range e.routes {
			routes[r.Pattern] = string(r.Permission)
		}
		if len(routes) < 40 {
			t.Fatalf("only %d /v1 routes registered: the env lacks a part of the API", len(routes))
		}
		var missing, extra, wrong []string
		for p, perm := range routes {
			docPerm, ok := ops[p]
			switch {
			case !ok:
				missing = append(missing, p)
			case docPerm != perm:
				wrong = append(wrong, p+": route needs "+perm+", document says "+docPerm)
			}
		}
		for p := range ops {
			if _, ok := routes[p]; !ok {
				extra = append(extra, p)
			}
		}
		sort.Strings(missing)
		sort.Strings(extra)
		sort.Strings(wrong)
		for _, p := range missing {
			t.Errorf("route %s has no operation in docs/openapi.yaml (see the guide at its top)", p)
		}
		for _, p := range extra {
			t.Errorf("docs/openapi.yaml documents %s, which no route serves", p)
		}
		for _, w := range wrong {
			t.Errorf("x-perk-permission of %s", w)
		}
	})
}

func TestOpenAPI_ServedWithoutAKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		st, body, hdr := e.do("GET", "/v1/openapi.yaml", "", nil)
		if st != http.StatusOK || hdr.Get("Content-Type") != "application/yaml" {
			t.Fatalf("GET /v1/openapi.yaml: %d %q", st, hdr.Get("Content-Type"))
		}
		if !bytes.Equal(body, docs.OpenAPI) {
			t.Error("the served document is not docs/openapi.yaml")
		}
	})
}

// docs/api.md sends integrators to the document.
func TestOpenAPI_LinkedFromAPIDocs(t *testing.T) {
	md, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"openapi.yaml", "/v1/openapi.yaml"} {
		if !bytes.Contains(md, []byte(want)) {
			t.Errorf("docs/api.md does not mention %s", want)
		}
	}
}

// The checks above must be able to fail: an answer that is not what the
// document says is caught.
func TestOpenAPI_CatchesAnUndocumentedAnswer(t *testing.T) {
	hdr := http.Header{"Content-Type": {"application/json"}}
	const (
		member  = "/v1/members/mem_1"
		history = "/v1/members/mem_1/history"
		ok      = `{"id":"mem_1","code":"12345670","phone":"+447400123456","attributes":{},"tags":[],"channel":"api","status":"active","enrolled_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}`
	)
	event := func(kind, details string) string {
		return `{"member_id":"mem_1","events":[{"at":"2026-01-01T00:00:00Z","kind":"` + kind + `","summary":"s"` + details + `}]}`
	}
	for _, c := range []struct {
		name   string
		path   string
		status int
		body   string
		valid  bool
	}{
		{"a member", member, 200, ok, true},
		{"a documented error", member, 404, `{"error":{"code":"member_not_found","message":"member not found"}}`, true},
		{"undocumented field", member, 200, strings.Replace(ok, `}`, `,"shoe_size":9}`, 1), false},
		{"missing field", member, 200, `{"id":"mem_1"}`, false},
		{"undocumented status", member, 418, `{"error":{"code":"teapot","message":"no"}}`, false},
		{"error of another shape", member, 404, `{"message":"not found"}`, false},
		{"a void with its details", history, 200, event("void", `,"details":{"basket_id":"b1"}`), true},
		{"a card visit", history, 200, event("card_visit", ""), true},
		{"a void with a purchase's details", history, 200, event("void", `,"details":{"basket_id":"b1","status":"voided"}`), false},
		{"a void without details", history, 200, event("void", ""), false},
		{"an unknown kind", history, 200, event("dance", ""), false},
	} {
		req, _ := http.NewRequest("GET", "http://perk.test"+c.path, nil)
		rec := &recorder{}
		web.CheckAgainstOpenAPI(rec, req, c.status, hdr, []byte(c.body))
		if rec.failed == c.valid {
			t.Errorf("%s: valid %v, want %v (%s)", c.name, !rec.failed, c.valid, rec.msg)
		}
	}
}

// recorder is a testing.TB that records a failure instead of failing.
type recorder struct {
	testing.TB
	failed bool
	msg    string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(f string, a ...any) {
	r.failed = true
	r.msg = fmt.Sprintf(f, a...)
}
func (r *recorder) Fatal(a ...any) { panic("fatal in recorder") }

// The operations no other test reaches answer as the document says (each
// answer is validated by the harness); with the other tests, every
// operation is exercised at least once.
func TestOpenAPI_RemainingOperationsAnswerAsDocumented(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		m := e.enrol("07700 900321")
		spec := func(name string) map[string]any {
			return map[string]any{"name": name, "start": "2020-01-01", "end": "2099-01-01",
				"audience": map[string]any{"kind": "list"}, "message": "{{.FirstName}}, a song for you",
				"benefits": []map[string]any{{"kind": "free_content", "pool": "songs"}}}
		}
		st, body, _ := e.do("POST", "/v1/campaigns", auth.RoleManager, spec("Songs"))
		if st != http.StatusCreated {
			t.Fatalf("create: %d %s", st, body)
		}
		var c struct{ ID string }
		jsonUnmarshal(t, body, &c)
		st, body, _ = e.do("POST", "/v1/campaigns", auth.RoleManager, spec("Scrapped"))
		if st != http.StatusCreated {
			t.Fatalf("create: %d %s", st, body)
		}
		var scrapped struct{ ID string }
		jsonUnmarshal(t, body, &scrapped)

		for _, c := range []struct {
			method, path string
			role         auth.Role
			body         any
			status       int
			ctype        string
		}{
			{"POST", "/v1/members/" + m.Code + "/opt-in", auth.RoleManager, nil, 200, "application/json"},
			{"DELETE", "/v1/members/" + m.Code + "/card-token", auth.RoleManager, nil, 204, ""},
			{"GET", "/v1/members/" + m.Code + "/barcode.png", auth.RoleReporting, nil, 200, "image/png"},
			{"GET", "/v1/members/" + m.Code + "/barcode.svg?symbology=ean8", auth.RoleReporting, nil, 200, "image/svg+xml"},
			{"GET", "/v1/members/" + m.Code + "/barcode.svg?symbology=qr", auth.RoleReporting, nil, 422, "application/json"},
			{"PUT", "/v1/campaigns/" + c.ID + "/audience-list", auth.RoleManager, m.Code + "\n00000000\n", 200, "application/json"},
			{"POST", "/v1/campaigns/" + c.ID + "/preview?sample=1", auth.RoleReporting, nil, 200, "application/json"},
			{"POST", "/v1/content-pools/songs/codes", auth.RoleManager, map[string]any{"codes": []string{"SONG-1", "SONG-2"}}, 200, "application/json"},
			{"POST", "/v1/campaigns/" + c.ID + "/launch", auth.RoleManager, nil, 200, "application/json"},
			{"POST", "/v1/campaigns/" + c.ID + "/pause", auth.RoleManager, nil, 200, "application/json"},
			{"POST", "/v1/campaigns/" + c.ID + "/resume", auth.RoleManager, nil, 200, "application/json"},
			{"DELETE", "/v1/campaigns/" + c.ID, auth.RoleManager, nil, 409, "application/json"},
			{"DELETE", "/v1/campaigns/" + scrapped.ID, auth.RoleReporting, nil, 403, "application/json"},
			{"DELETE", "/v1/campaigns/" + scrapped.ID, auth.RoleManager, nil, 204, ""},
			{"DELETE", "/v1/campaigns/" + scrapped.ID, auth.RoleManager, nil, 404, "application/json"},
		} {
			st, body, hdr := e.do(c.method, c.path, c.role, c.body)
			if st != c.status || !strings.HasPrefix(hdr.Get("Content-Type"), c.ctype) {
				t.Errorf("%s %s: %d %q, want %d %q: %.300s", c.method, c.path, st, hdr.Get("Content-Type"), c.status, c.ctype, body)
			}
		}
	})
}

// The catalogue's and webhooks' operations their own tests do not reach
// answer as documented too.
func TestOpenAPI_RemainingCatalogueAndWebhookOperations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, withWebhooks(db))
		st, body, _ := e.do("POST", "/v1/webhooks", auth.RoleAdmin, map[string]any{"url": "http://127.0.0.1:9/perk",
			"event_types": []string{"member.created"}})
		if st != http.StatusCreated {
			t.Fatalf("create: %d %s", st, body)
		}
		var hook struct{ ID string }
		jsonUnmarshal(t, body, &hook)
		for _, c := range []struct {
			method, path string
			role         auth.Role
			body         any
			status       int
		}{
			{"GET", "/v1/stores/S001", auth.RoleReporting, nil, 200},
			{"GET", "/v1/stores/NOPE", auth.RoleReporting, nil, 404},
			{"DELETE", "/v1/stores/S002", auth.RoleReporting, nil, 403},
			{"GET", "/v1/webhooks/event-types", auth.RoleAdmin, nil, 200},
			{"GET", "/v1/webhooks/event-types", auth.RoleManager, nil, 403},
			{"GET", "/v1/webhooks/" + hook.ID, auth.RoleAdmin, nil, 200},
			{"PUT", "/v1/webhooks/" + hook.ID, auth.RoleAdmin, map[string]any{"url": "http://127.0.0.1:9/crm",
				"description": "CRM", "event_types": []string{"member.created", "points.changed"}}, 200},
			{"PUT", "/v1/webhooks/" + hook.ID, auth.RoleAdmin, map[string]any{"url": "http://127.0.0.1:9/crm", "event_types": []string{}}, 422},
			{"GET", "/v1/webhooks/" + hook.ID + "/deliveries?status=lost", auth.RoleAdmin, nil, 422},
			{"GET", "/v1/webhooks/" + hook.ID + "/deliveries/whd_none", auth.RoleAdmin, nil, 404},
		} {
			if st, body, _ := e.do(c.method, c.path, c.role, c.body); st != c.status {
				t.Errorf("%s %s: %d, want %d: %.300s", c.method, c.path, st, c.status, body)
			}
		}
	})
}
