package web

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/perk-platform/perk/docs"
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

// CheckAgainstOpenAPI fails the test when an answer of the API is not what
// docs/openapi.yaml says the operation answers with that status and content
// type. An unknown /v1 path or method must be the API's own 404.
func CheckAgainstOpenAPI(t testing.TB, req *http.Request, status int, header http.Header, body []byte) {
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
