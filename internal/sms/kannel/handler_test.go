package kannel

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/sms"
)

// serve runs one request through g's handler.
func serve(g *Gateway, method, target string) *httptest.ResponseRecorder {
	var req *http.Request
	if method == http.MethodPost {
		u, _ := url.Parse(target)
		req = httptest.NewRequest(method, u.Path, strings.NewReader(u.RawQuery))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, target, nil)
	}
	w := httptest.NewRecorder()
	g.Handler().ServeHTTP(w, req)
	return w
}

func okInbound(context.Context, sms.Inbound) error { return nil }

func TestHandlerSecret(t *testing.T) {
	g := New(Config{Secret: "right"}, okInbound)
	tests := []struct {
		name, method, target string
		want                 int
	}{
		{"MO right", "GET", "/kannel/mo?secret=right&from=1&text=x", 200},
		{"MO right by POST", "POST", "/kannel/mo?secret=right&from=1&text=x", 200},
		{"MO missing", "GET", "/kannel/mo?from=1&text=x", 403},
		{"MO wrong", "GET", "/kannel/mo?secret=wrong&from=1&text=x", 403},
		{"MO prefix", "GET", "/kannel/mo?secret=righ&from=1&text=x", 403},
		{"DLR right", "GET", "/kannel/dlr?secret=right&id=m1&status=8", 200},
		{"DLR wrong", "GET", "/kannel/dlr?secret=Right&id=m1&status=1", 403},
		{"method", "PUT", "/kannel/mo?secret=right&from=1", 405},
		{"unknown path", "GET", "/kannel/other?secret=right", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if w := serve(g, tt.method, tt.target); w.Code != tt.want {
				t.Errorf("%s %s = %d, want %d", tt.method, tt.target, w.Code, tt.want)
			}
		})
	}
	t.Run("unset secret refuses all", func(t *testing.T) {
		g := New(Config{}, okInbound)
		if w := serve(g, "GET", "/kannel/mo?secret=&from=1&text=x"); w.Code != 403 {
			t.Errorf("code = %d, want 403", w.Code)
		}
	})
}

func TestHandlerDLR(t *testing.T) {
	tests := []struct {
		status string
		code   int
		state  string // "" for no receipt
	}{
		{"1", 200, sms.Delivered},
		{"2", 200, sms.Undeliv},
		{"16", 200, sms.Undeliv},
		{"4", 200, ""},
		{"8", 200, ""},
		{"0", 200, ""},
		{"", 400, ""},
		{"x", 400, ""},
	}
	for _, tt := range tests {
		t.Run("status="+tt.status, func(t *testing.T) {
			g := New(Config{Secret: "s"}, nil)
			w := serve(g, "GET", "/kannel/dlr?secret=s&id=msg_1&status="+tt.status+"&answer=ACK%2F&ts=1795456480")
			if w.Code != tt.code {
				t.Fatalf("code = %d, want %d", w.Code, tt.code)
			}
			select {
			case r := <-g.Receipts():
				want := sms.Receipt{GatewayID: "kannel:msg_1", State: tt.state, At: time.Unix(1795456480, 0).UTC()}
				if tt.state == "" || r != want {
					t.Errorf("receipt = %+v, want %+v", r, want)
				}
			default:
				if tt.state != "" {
					t.Errorf("no receipt, want %s", tt.state)
				}
			}
		})
	}
	t.Run("missing id", func(t *testing.T) {
		if w := serve(New(Config{Secret: "s"}, nil), "GET", "/kannel/dlr?secret=s&status=1"); w.Code != 400 {
			t.Errorf("code = %d, want 400", w.Code)
		}
	})
	t.Run("nobody reading receipts", func(t *testing.T) {
		g := New(Config{Secret: "s"}, nil)
		for i := 0; i < cap(g.receipts); i++ {
			g.receipts <- sms.Receipt{}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		req := httptest.NewRequest("GET", "/kannel/dlr?secret=s&id=m&status=1", nil).WithContext(ctx)
		w := httptest.NewRecorder()
		g.Handler().ServeHTTP(w, req)
		if w.Code != 503 {
			t.Errorf("code = %d, want 503 so that Kannel retries", w.Code)
		}
	})
}

func TestHandlerMO(t *testing.T) {
	var got []sms.Inbound
	fail := errors.New("db down")
	var result error
	g := New(Config{Secret: "s"}, func(ctx context.Context, in sms.Inbound) error {
		got = append(got, in)
		return result
	})
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	g.now = func() time.Time { return now }

	tests := []struct {
		name, query string
		result      error
		code        int
		want        *sms.Inbound // nil: onInbound not called
	}{
		{"ok", "from=%2B447700900123&to=456&text=JOIN+Ann&ts=1795456467", nil, 200,
			&sms.Inbound{From: "+447700900123", To: "456", Body: "JOIN Ann", ReceivedAt: time.Unix(1795456467, 0).UTC()}},
		{"onInbound fails", "from=123&to=456&text=JOIN", fail, 503,
			&sms.Inbound{From: "123", To: "456", Body: "JOIN", ReceivedAt: now}},
		{"UCS-2 as UTF-16BE", "from=123&to=456&text=%00H%00i%00+%D8%3D%DE%00&coding=2&charset=UTF-16BE", nil, 200,
			&sms.Inbound{From: "123", To: "456", Body: "Hi 😀", ReceivedAt: now}},
		{"UCS-2 already UTF-8", "from=123&to=456&text=%C3%BC&coding=2&charset=UTF-8", nil, 200,
			&sms.Inbound{From: "123", To: "456", Body: "ü", ReceivedAt: now}},
		{"missing from", "to=456&text=x", nil, 400, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, result = nil, tt.result
			w := serve(g, "GET", "/kannel/mo?secret=s&"+tt.query)
			if w.Code != tt.code {
				t.Errorf("code = %d, want %d", w.Code, tt.code)
			}
			// A body would be sent to the phone as a reply.
			if w.Body.Len() != 0 && w.Code != 400 {
				t.Errorf("body = %q, want empty", w.Body)
			}
			if tt.want == nil {
				if len(got) != 0 {
					t.Errorf("onInbound called with %+v", got)
				}
				return
			}
			if len(got) != 1 || got[0] != *tt.want {
				t.Errorf("onInbound got %+v, want %+v", got, *tt.want)
			}
		})
	}
	t.Run("no onInbound", func(t *testing.T) {
		if w := serve(New(Config{Secret: "s"}, nil), "GET", "/kannel/mo?secret=s&from=1&text=x"); w.Code != 503 {
			t.Errorf("code = %d, want 503", w.Code)
		}
	})
}
