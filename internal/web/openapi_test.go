package web_test

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"go.yaml.in/yaml/v3"

	"github.com/perk-platform/perk/docs"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// The OpenAPI document, parsed once for every test: the validator is
// costly to build and is only read afterwards (mu keeps it to one check at
// a time all the same).
var openAPI struct {
	once sync.Once
	mu   sync.Mutex
	v    validator.Validator
	err  string
}

func openAPIValidator(t testing.TB) validator.Validator {
	t.Helper()
	openAPI.once.Do(func() {
		doc, err := libopenapi.NewDocument(docs.OpenAPI)
		if err != nil {
			openAPI.err = "docs/openapi.yaml: " + err.Error()
			return
		}
		v, errs := validator.NewValidator(doc)
		if len(errs) > 0 {
			openAPI.err = "docs/openapi.yaml: " + errs[0].Error()
			return
		}
		openAPI.v = v
	})
	if openAPI.err != "" {
		t.Fatal(openAPI.err)
	}
	return openAPI.v
}

// checkAgainstOpenAPI fails the test when an answer of the API is not what
// docs/openapi.yaml says the operation answers with that status and content
// type. An unknown /v1 path or method must be the API's own 404.
func checkAgainstOpenAPI(t testing.TB, req *http.Request, status int, header http.Header, body []byte) {
	t.Helper()
	if !strings.HasPrefix(req.URL.Path, "/v1/") {
		return
	}
	v := openAPIValidator(t)
	res := &http.Response{StatusCode: status, Header: header, Body: io.NopCloser(bytes.NewReader(body)), Request: req}
	openAPI.mu.Lock()
	ok, errs := v.ValidateHttpResponse(req, res)
	openAPI.mu.Unlock()
	if ok {
		return
	}
	if status == http.StatusNotFound && bytes.Contains(body, []byte(`"code":"no_such_endpoint"`)) {
		return // no such operation, and the server says so
	}
	var msgs []string
	for _, e := range errs {
		m := e.Message
		if e.Reason != "" {
			m += ": " + e.Reason
		}
		for _, se := range e.SchemaValidationErrors {
			m += "\n    " + se.FieldPath + ": " + se.Reason
		}
		msgs = append(msgs, m)
	}
	t.Errorf("%s %s answered %d (%s) against docs/openapi.yaml:\n  %s\nbody: %.600s",
		req.Method, req.URL.RequestURI(), status, header.Get("Content-Type"), strings.Join(msgs, "\n  "), body)
}

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
			case "get", "put", "post", "delete", "patch":
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
		e := newEnv(t, db)
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
	req, _ := http.NewRequest("GET", "http://perk.test/v1/members/mem_1", nil)
	hdr := http.Header{"Content-Type": {"application/json"}}
	for _, c := range []struct {
		name   string
		status int
		body   string
	}{
		{"undocumented field", 200, `{"id":"mem_1","code":"12345670","phone":"+447400123456","attributes":{},"tags":[],"channel":"api","status":"active","enrolled_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z","shoe_size":9}`},
		{"missing field", 200, `{"id":"mem_1"}`},
		{"undocumented status", 418, `{"error":{"code":"teapot","message":"no"}}`},
		{"error of another shape", 404, `{"message":"not found"}`},
	} {
		rec := &recorder{}
		checkAgainstOpenAPI(rec, req, c.status, hdr, []byte(c.body))
		if !rec.failed {
			t.Errorf("%s: passed the document", c.name)
		}
	}
	ok := &recorder{}
	checkAgainstOpenAPI(ok, req, 404, hdr, []byte(`{"error":{"code":"member_not_found","message":"member not found"}}`))
	if ok.failed {
		t.Errorf("a documented 404 failed: %s", ok.msg)
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
	r.msg = f
}
func (r *recorder) Fatal(a ...any) { panic("fatal in recorder") }
