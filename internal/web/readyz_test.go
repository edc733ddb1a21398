package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/web"
)

// named is a gateway without a connection to report (the simulator, Kannel).
type named string

func (n named) Name() string { return string(n) }
func (named) Send(context.Context, sms.Message) (sms.Submitted, error) {
	return sms.Submitted{}, sms.ErrTemporary
}

// binding is a gateway that keeps a bind, as the SMPP client does.
type binding struct {
	named
	bound bool
}

func (b binding) Bound() bool { return b.bound }

func TestReadyz_ReportsTheGatewayAndFailsOnlyWithoutTheDatabase(t *testing.T) {
	tests := []struct {
		name     string
		gateway  sms.Gateway
		dbClosed bool
		status   int
		body     string
	}{
		{"no gateway", nil, false, 200, `{"status":"ready","database":"ok","sms":{"gateway":"none"}}`},
		{"a gateway without a bind", named("sim"), false, 200, `{"status":"ready","database":"ok","sms":{"gateway":"sim"}}`},
		{"a bound SMPP gateway", binding{"smpp", true}, false, 200,
			`{"status":"ready","database":"ok","sms":{"gateway":"smpp","bound":true}}`},
		{"an unbound SMPP gateway still serves tills", binding{"smpp", false}, false, 200,
			`{"status":"ready","database":"ok","sms":{"gateway":"smpp","bound":false}}`},
		{"no database", binding{"smpp", true}, true, http.StatusServiceUnavailable,
			`{"status":"not ready","database":"unavailable","sms":{"gateway":"smpp","bound":true}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, storetest.SQLite(t), func(o *web.Options) { o.Gateway = tt.gateway })
			if tt.dbClosed {
				e.db.Close()
			}
			status, out, _ := e.do("GET", "/readyz", "", nil)
			if status != tt.status || strings.TrimSpace(string(out)) != tt.body {
				t.Errorf("GET /readyz = %d %s, want %d %s", status, out, tt.status, tt.body)
			}
		})
	}
}

func TestMetrics_ServesTheSharedRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	domain := prometheus.NewCounter(prometheus.CounterOpts{Name: "perk_domain_things_total", Help: "Things a domain package counted."})
	reg.MustRegister(domain)
	domain.Add(3)
	e := newEnv(t, storetest.SQLite(t), func(o *web.Options) { o.Registry = reg })
	e.do("GET", "/healthz", "", nil)
	_, out, _ := e.do("GET", "/metrics", auth.RoleAdmin, nil)
	for _, want := range []string{"perk_domain_things_total 3", `perk_http_requests_total{code="200",route="GET /healthz"} 1`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// The registry's owner decides on the Go and process collectors.
	if strings.Contains(string(out), "go_goroutines") {
		t.Errorf("the server added the Go collector to a registry it was given")
	}
}
