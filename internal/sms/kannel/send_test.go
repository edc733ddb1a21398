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

// fakeSendsms stands in for smsbox: it records each request's query and
// answers with status and body.
func fakeSendsms(t *testing.T, status int, body string) (*httptest.Server, *[]url.Values) {
	t.Helper()
	var got []url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/cgi-bin/sendsms" {
			t.Errorf("request %s %s", r.Method, r.URL.Path)
		}
		got = append(got, r.URL.Query())
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv, &got
}

func testConfig(sendURL string) Config {
	return Config{SendURL: sendURL, User: "perk", Pass: "pw&=+", From: "PERK",
		Secret: "s3cr-et", PublicURL: "http://perk-host:8080/"}
}

func TestSendRequest(t *testing.T) {
	const dlrURL = "http://perk-host:8080/kannel/dlr?secret=s3cr-et&id=msg_01ABC&status=%d&answer=%A&ts=%T"
	tests := []struct {
		name, body, coding string
		segments           int
	}{
		{"GSM-7", "Hello Ann, reply STOP to end", "0", 1},
		{"GSM-7 extension and accents", "Cost: 5€ [ok] ä", "0", 1},
		{"UCS-2 emoji", "Welcome 😀", "2", 1},
		{"GSM-7 two parts", strings.Repeat("a", 161), "0", 2},
		{"UCS-2 two parts", strings.Repeat("ж", 71), "2", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, got := fakeSendsms(t, http.StatusAccepted, "0: Accepted for delivery")
			g := New(testConfig(srv.URL+"/cgi-bin/sendsms"), nil)
			sub, err := g.Send(context.Background(), sms.Message{ID: "msg_01ABC", To: "+447700900123", Body: tt.body})
			if err != nil {
				t.Fatal(err)
			}
			if sub != (sms.Submitted{GatewayID: "kannel:msg_01ABC", Segments: tt.segments}) {
				t.Errorf("submitted = %+v", sub)
			}
			want := url.Values{
				"username": {"perk"}, "password": {"pw&=+"}, "from": {"PERK"},
				"to": {"+447700900123"}, "text": {tt.body}, "charset": {"UTF-8"}, "coding": {tt.coding},
				"dlr-mask": {"31"}, "dlr-url": {dlrURL},
			}
			if len(*got) != 1 {
				t.Fatalf("%d requests", len(*got))
			}
			if q := (*got)[0]; q.Encode() != want.Encode() {
				t.Errorf("query\n got %v\nwant %v", q, want)
			}
		})
	}
}

func TestSendWithoutPublicURLOrFrom(t *testing.T) {
	srv, got := fakeSendsms(t, http.StatusAccepted, "0: Accepted for delivery")
	cfg := testConfig(srv.URL + "/cgi-bin/sendsms")
	cfg.PublicURL, cfg.From, cfg.DLRMask = "", "", 3
	if _, err := New(cfg, nil).Send(context.Background(), sms.Message{ID: "m1", To: "+1555", Body: "x"}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"from", "dlr-mask", "dlr-url"} {
		if (*got)[0].Has(k) {
			t.Errorf("%s sent without a PublicURL/From: %v", k, (*got)[0])
		}
	}
}

func TestSendClassification(t *testing.T) {
	tests := []struct {
		status int
		body   string
		want   error // nil, sms.ErrTemporary or sms.ErrPermanent
	}{
		{202, "0: Accepted for delivery", nil},
		{202, "3: Queued for later delivery", nil},
		{200, "Sent.", nil},
		{403, "Authorization failed for sendsms", sms.ErrPermanent},
		{400, "Sender missing and no global set, rejected", sms.ErrPermanent},
		{404, "Not found", sms.ErrPermanent},
		{503, "Temporal failure, try again later.", sms.ErrTemporary},
		{500, "Internal error", sms.ErrTemporary},
		{429, "slow down", sms.ErrTemporary},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			srv, _ := fakeSendsms(t, tt.status, tt.body+"\n")
			_, err := New(testConfig(srv.URL+"/cgi-bin/sendsms"), nil).
				Send(context.Background(), sms.Message{ID: "m1", To: "+1555", Body: "x"})
			if tt.want == nil {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.body) {
				t.Errorf("err %q lacks Kannel's answer %q", err, tt.body)
			}
		})
	}
}

func TestSendTransportErrors(t *testing.T) {
	// A server that never answers within the client's timeout.
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer slow.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	for name, u := range map[string]string{"timeout": slow.URL, "refused": closed.URL} {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(u + "/cgi-bin/sendsms")
			cfg.Client = &http.Client{Timeout: 100 * time.Millisecond}
			_, err := New(cfg, nil).Send(context.Background(), sms.Message{ID: "m1", To: "+1555", Body: "x"})
			if !errors.Is(err, sms.ErrTemporary) {
				t.Fatalf("err = %v, want temporary", err)
			}
			if strings.Contains(err.Error(), "pw") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}

func TestSendRejectsBadMessages(t *testing.T) {
	g := New(testConfig("http://127.0.0.1:1/cgi-bin/sendsms"), nil)
	for _, m := range []sms.Message{{ID: "m1", Body: "no to"}, {ID: "a&b", To: "+1555", Body: "x"}, {To: "+1555", Body: "no id"}} {
		if _, err := g.Send(context.Background(), m); !errors.Is(err, sms.ErrPermanent) {
			t.Errorf("Send(%+v) = %v, want permanent", m, err)
		}
	}
	if g.Name() != "kannel" {
		t.Errorf("Name = %q", g.Name())
	}
}
