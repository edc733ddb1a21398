package kannel

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/sms/gsm"
	"github.com/perk-platform/perk/internal/sms/kannel/kanneltest"
)

// TestKannel runs the gateway against real Kannel 1.4 boxes with a fake SMSC:
// bearerbox, fakesmsc (the SMSC's "phone side") and smsbox.
//
// What Kannel's fake SMSC gives, and what is asserted: for an MT with a
// dlr-mask it reports status 8 (SMSC submit) when it hands the message to
// fakesmsc and status 1 (delivered) at once, the two callbacks arriving in
// either order; the handler sees both and emits one Delivered receipt. fakesmsc prints each MT it receives as
// "Got message N: <from to text|ucs-2 data>".
func TestKannel(t *testing.T) {
	const secret = "kt-Secret_1.x~"

	// Perk's side: the handler behind a test server, recording every DLR
	// callback, and an onInbound that fails its first call so that Kannel's
	// retry of a 503 is exercised too. The server waits for the handler,
	// which needs Kannel's sendsms URL.
	var (
		mu       sync.Mutex
		dlrs     []string // "id status" of every DLR callback
		inbound  []sms.Inbound
		moCalls  int
		handlerH http.Handler
		ready    = make(chan struct{})
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-ready
		if r.URL.Path == DLRPath {
			mu.Lock()
			dlrs = append(dlrs, r.URL.Query().Get("id")+" "+r.URL.Query().Get("status"))
			mu.Unlock()
		}
		handlerH.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	// fakesmsc sends one MO as soon as it connects; bearerbox keeps it until
	// smsbox is up.
	k := kanneltest.Start(t, kanneltest.Options{PerkURL: srv.URL, Secret: secret, User: "perk", Pass: "p@ss w%rd",
		MO: []string{"123 456 text JOIN Ann"}})
	g := New(Config{
		SendURL:   k.SendURL,
		User:      "perk",
		Pass:      "p@ss w%rd",
		From:      "PERK",
		Secret:    secret,
		PublicURL: srv.URL,
		Client:    &http.Client{Timeout: 5 * time.Second},
	}, func(ctx context.Context, in sms.Inbound) error {
		mu.Lock()
		defer mu.Unlock()
		moCalls++
		if moCalls == 1 {
			return errors.New("database briefly unavailable")
		}
		inbound = append(inbound, in)
		return nil
	})
	handlerH = g.Handler()
	close(ready)

	ctx := context.Background()
	send := func(m sms.Message) sms.Submitted {
		t.Helper()
		var sub sms.Submitted
		var err error
		// Temporary errors while smsbox starts (connection refused) are
		// retried, as the sender would.
		k.WaitFor(t, "sendsms to accept "+m.ID, 20*time.Second, func() bool {
			sub, err = g.Send(ctx, m)
			if errors.Is(err, sms.ErrPermanent) {
				k.Fatalf(t, "send %s: %v", m.ID, err)
			}
			return err == nil
		})
		return sub
	}

	t.Run("MT GSM-7 with delivery report", func(t *testing.T) {
		sub := send(sms.Message{ID: "msg_kt1", To: "+15551234567", Body: "Hello from Perk"})
		if sub.GatewayID != "kannel:msg_kt1" || sub.Segments != 1 {
			t.Errorf("submitted = %+v", sub)
		}
		k.WaitFor(t, "fakesmsc to print the MT", 20*time.Second, func() bool {
			return strings.Contains(k.MTs(), "<PERK +15551234567 text Hello from Perk>")
		})
		select {
		case r := <-g.Receipts():
			if r.GatewayID != "kannel:msg_kt1" || r.State != sms.Delivered || time.Since(r.At) > time.Minute {
				t.Errorf("receipt = %+v", r)
			}
		case <-time.After(20 * time.Second):
			k.Fatalf(t, "no receipt for msg_kt1")
		}
		// The two reports come through separate smsbox threads, in either order.
		k.WaitFor(t, "DLR callbacks 8 and 1 for msg_kt1", 20*time.Second, func() bool {
			mu.Lock()
			defer mu.Unlock()
			got := strings.Join(dlrs, ",")
			return strings.Contains(got, "msg_kt1 8") && strings.Contains(got, "msg_kt1 1")
		})
	})

	t.Run("MT UCS-2", func(t *testing.T) {
		body := "Hi 😀 ünïcode"
		send(sms.Message{ID: "msg_kt2", To: "+15551234567", Body: body})
		re := regexp.MustCompile(`<PERK \+15551234567 ucs-2 (\S+)>`)
		var data string
		k.WaitFor(t, "fakesmsc to print the UCS-2 MT", 20*time.Second, func() bool {
			m := re.FindStringSubmatch(k.MTs())
			if m != nil {
				data = m[1]
			}
			return m != nil
		})
		raw, err := url.QueryUnescape(data)
		if err != nil {
			t.Fatal(err)
		}
		if got := gsm.DecodeUCS2([]byte(raw)); got != body {
			t.Errorf("fakesmsc got %q, want %q", got, body)
		}
		drain(t, g, "kannel:msg_kt2")
	})

	t.Run("MO acked only after onInbound succeeds", func(t *testing.T) {
		k.WaitFor(t, "the MO to reach onInbound (after one 503 and Kannel's retry)", 30*time.Second, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(inbound) > 0
		})
		mu.Lock()
		in, calls := inbound[0], moCalls
		mu.Unlock()
		if in.From != "123" || in.To != "456" || in.Body != "JOIN Ann" || in.ReceivedAt.IsZero() {
			t.Errorf("inbound = %+v", in)
		}
		if calls < 2 {
			t.Errorf("onInbound called %d times, want a retry after the 503", calls)
		}
	})

	t.Run("MO UCS-2", func(t *testing.T) {
		// A second fakesmsc sends this MO (UTF-16BE, URL-encoded).
		k.SendMO(t, "124 456 ucs2 %00J%00O%00I%00N%00+%D8%3D%DE%00")
		k.WaitFor(t, "the UCS-2 MO to reach onInbound", 30*time.Second, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(inbound) > 1
		})
		mu.Lock()
		in := inbound[1]
		mu.Unlock()
		if in.From != "124" || in.Body != "JOIN 😀" {
			t.Errorf("inbound = %+v, want JOIN 😀 from 124", in)
		}
	})
}

// drain waits for the delivered receipt of id.
func drain(t *testing.T, g *Gateway, id string) {
	t.Helper()
	select {
	case r := <-g.Receipts():
		if r.GatewayID != id || r.State != sms.Delivered {
			t.Errorf("receipt = %+v, want %s delivered", r, id)
		}
	case <-time.After(20 * time.Second):
		t.Errorf("no receipt for %s", id)
	}
}
