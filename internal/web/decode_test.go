package web

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/perk-platform/perk/internal/problem"
)

// FuzzDecodeEnrolBody checks that any request body either decodes or is
// refused with a 4xx problem, never a panic or a 500.
func FuzzDecodeEnrolBody(f *testing.F) {
	for _, s := range []string{`{"phone":"07400123456","consent":{"sms":true}}`, `{"phone":1}`, `{`, `[]`, `{"attributes":{"a":1}}`, ``} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest("POST", "/v1/members", strings.NewReader(body))
		var b enrolBody
		err := decodeJSON(httptest.NewRecorder(), r, &b)
		if err == nil {
			return
		}
		var p *problem.Error
		if !errors.As(err, &p) {
			t.Fatalf("not a problem: %v", err)
		}
		if s := statusOf(p.Kind); s < 400 || s >= 500 {
			t.Fatalf("status %d for %q", s, body)
		}
	})
}
