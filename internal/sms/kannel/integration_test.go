package kannel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/sms/gsm"
	"github.com/perk-platform/perk/internal/testenv"
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
	testenv.Env(t, "PERK_TEST_KANNEL", "Kannel integration test")
	bearerbox := kannelBinary(t, "PERK_TEST_BEARERBOX", "bearerbox", "/usr/sbin")
	smsbox := kannelBinary(t, "PERK_TEST_SMSBOX", "smsbox", "/usr/sbin")
	fakesmsc := kannelBinary(t, "PERK_TEST_FAKESMSC", "fakesmsc", "/usr/lib/kannel/test", "/usr/bin")

	const secret = "kt-Secret_1.x~"
	ports := freePorts(t, 4)
	admin, boxPort, sendPort, fakePort := ports[0], ports[1], ports[2], ports[3]

	// Perk's side: the handler behind a test server, recording every DLR
	// callback, and an onInbound that fails its first call so that Kannel's
	// retry of a 503 is exercised too.
	var (
		mu       sync.Mutex
		dlrs     []string // "id status" of every DLR callback
		inbound  []sms.Inbound
		moCalls  int
		handlerH http.Handler
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == DLRPath {
			mu.Lock()
			dlrs = append(dlrs, r.URL.Query().Get("id")+" "+r.URL.Query().Get("status"))
			mu.Unlock()
		}
		handlerH.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	g := New(Config{
		SendURL:   fmt.Sprintf("http://127.0.0.1:%d/cgi-bin/sendsms", sendPort),
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

	dir := t.TempDir()
	conf := strings.NewReplacer("{{admin}}", fmt.Sprint(admin), "{{smsbox}}", fmt.Sprint(boxPort),
		"{{sendsms}}", fmt.Sprint(sendPort), "{{fake}}", fmt.Sprint(fakePort), "{{dir}}", dir,
		"{{pass}}", "p@ss w%rd", "{{public}}", srv.URL, "{{secret}}", secret).Replace(kannelConf)
	confPath := filepath.Join(dir, "kannel.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}

	k := &kannel{t: t, dir: dir}
	k.start("bearerbox", filepath.Join(dir, "bearerbox.log"), bearerbox, confPath)
	status := func() string {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/status.txt?password=adminpw", admin))
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	k.waitFor("bearerbox admin status", 20*time.Second, func() bool { return strings.Contains(status(), "fake") })

	// fakesmsc sends one MO as soon as it connects; bearerbox keeps it until
	// smsbox is up. It exits if the fake SMSC is not listening yet, so start
	// it again until the SMSC reports online.
	var fs *box
	var started time.Time
	k.waitFor("fakesmsc connected (smsc online)", 20*time.Second, func() bool {
		if fs == nil || !fs.running() && time.Since(started) > 500*time.Millisecond {
			started = time.Now()
			fs = k.start("fakesmsc", "", fakesmsc, "-H", "127.0.0.1", "-r", fmt.Sprint(fakePort),
				"-i", "0.1", "-m", "1", "123 456 text JOIN Ann")
		}
		return regexp.MustCompile(`fake.*online`).MatchString(status())
	})
	k.start("smsbox", filepath.Join(dir, "smsbox.log"), smsbox, confPath)

	ctx := context.Background()
	send := func(m sms.Message) sms.Submitted {
		t.Helper()
		var sub sms.Submitted
		var err error
		// Temporary errors while smsbox starts (connection refused) are
		// retried, as the sender would.
		k.waitFor("sendsms to accept "+m.ID, 20*time.Second, func() bool {
			sub, err = g.Send(ctx, m)
			if errors.Is(err, sms.ErrPermanent) {
				k.fatalf("send %s: %v", m.ID, err)
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
		k.waitFor("fakesmsc to print the MT", 20*time.Second, func() bool {
			return strings.Contains(fs.out.String(), "<PERK +15551234567 text Hello from Perk>")
		})
		select {
		case r := <-g.Receipts():
			if r.GatewayID != "kannel:msg_kt1" || r.State != sms.Delivered || time.Since(r.At) > time.Minute {
				t.Errorf("receipt = %+v", r)
			}
		case <-time.After(20 * time.Second):
			k.fatalf("no receipt for msg_kt1")
		}
		// The two reports come through separate smsbox threads, in either order.
		k.waitFor("DLR callbacks 8 and 1 for msg_kt1", 20*time.Second, func() bool {
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
		k.waitFor("fakesmsc to print the UCS-2 MT", 20*time.Second, func() bool {
			m := re.FindStringSubmatch(fs.out.String())
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
		k.waitFor("the MO to reach onInbound (after one 503 and Kannel's retry)", 30*time.Second, func() bool {
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
		// fakesmsc picks its messages at random, so a second one, started
		// once the first is gone, sends this MO (UTF-16BE, URL-encoded).
		fs.cmd.Process.Kill()
		<-fs.done
		fs2 := k.start("fakesmsc-ucs2", "", fakesmsc, "-H", "127.0.0.1", "-r", fmt.Sprint(fakePort),
			"-i", "0.1", "-m", "1", "124 456 ucs2 %00J%00O%00I%00N%00+%D8%3D%DE%00")
		started := time.Now()
		k.waitFor("the UCS-2 MO to reach onInbound", 30*time.Second, func() bool {
			if !fs2.running() && !strings.Contains(fs2.out.String(), "sent message") &&
				time.Since(started) > 500*time.Millisecond {
				started = time.Now()
				// Connected before the SMSC noticed the first client left.
				fs2 = k.start("fakesmsc-ucs2", "", fakesmsc, "-H", "127.0.0.1", "-r", fmt.Sprint(fakePort),
					"-i", "0.1", "-m", "1", "124 456 ucs2 %00J%00O%00I%00N%00+%D8%3D%DE%00")
			}
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
