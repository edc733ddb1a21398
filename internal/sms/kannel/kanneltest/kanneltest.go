// Package kanneltest runs real Kannel boxes (bearerbox, smsbox, fakesmsc) for
// tests of Perk's Kannel gateway: it writes a kannel.conf whose sms-service
// and delivery reports call Perk back, starts the boxes with their logs, and
// drives fakesmsc, Kannel's fake SMSC client, to send MO messages and to
// print the MT messages it receives. Start skips the test unless
// PERK_TEST_KANNEL is set (and fails under CI=true).
package kanneltest

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/testenv"
)

// Options configure the Kannel that Start runs.
type Options struct {
	// PerkURL is the base URL that Kannel's sms-service get-url and dlr
	// callbacks reach, e.g. http://127.0.0.1:PORT.
	PerkURL string
	// Secret is the shared secret Kannel puts in its get-url.
	Secret string
	// User and Pass are the sendsms-user's credentials; empty means "perk"
	// and "pass".
	User, Pass string
	// MO are messages fakesmsc sends, in fakesmsc's "FROM TO text BODY"
	// form, one after the other (see SendMO).
	MO []string
}

// Kannel is a running bearerbox, smsbox and fakesmsc sharing one
// configuration.
type Kannel struct {
	// SendURL is smsbox's sendsms endpoint,
	// http://127.0.0.1:PORT/cgi-bin/sendsms.
	SendURL string

	tb       testing.TB
	dir      string
	fakesmsc string // path of the fakesmsc binary
	admin    int    // bearerbox admin port
	fakePort int    // the fake SMSC's port

	mu    sync.Mutex
	boxes []*box // for Logs
	fakes []*box // every fakesmsc started, for MTs
	fake  *box   // the current fakesmsc
}

// Start writes a kannel.conf, starts bearerbox, a fakesmsc that sends
// opt.MO[0] (if any) once the fake SMSC is online, and smsbox, and waits
// until smsbox's sendsms port listens. Later messages of opt.MO are sent
// with SendMO. Everything is killed at tb's cleanup. It skips tb unless
// PERK_TEST_KANNEL is set.
func Start(tb testing.TB, opt Options) *Kannel {
	tb.Helper()
	testenv.Env(tb, "PERK_TEST_KANNEL", "Kannel integration test")
	bearerbox := binary(tb, "PERK_TEST_BEARERBOX", "bearerbox", "/usr/sbin")
	smsbox := binary(tb, "PERK_TEST_SMSBOX", "smsbox", "/usr/sbin")
	fakesmsc := binary(tb, "PERK_TEST_FAKESMSC", "fakesmsc", "/usr/lib/kannel/test", "/usr/bin")
	if opt.User == "" {
		opt.User = "perk"
	}
	if opt.Pass == "" {
		opt.Pass = "pass"
	}
	ports := freePorts(tb, 4)
	admin, boxPort, sendPort, fakePort := ports[0], ports[1], ports[2], ports[3]
	k := &Kannel{
		SendURL: fmt.Sprintf("http://127.0.0.1:%d/cgi-bin/sendsms", sendPort),
		tb:      tb, dir: tb.TempDir(), fakesmsc: fakesmsc, admin: admin, fakePort: fakePort,
	}
	conf := strings.NewReplacer("{{admin}}", fmt.Sprint(admin), "{{smsbox}}", fmt.Sprint(boxPort),
		"{{sendsms}}", fmt.Sprint(sendPort), "{{fake}}", fmt.Sprint(fakePort), "{{dir}}", k.dir,
		"{{user}}", opt.User, "{{pass}}", opt.Pass, "{{public}}", strings.TrimRight(opt.PerkURL, "/"),
		"{{secret}}", opt.Secret).Replace(kannelConf)
	confPath := filepath.Join(k.dir, "kannel.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		tb.Fatal(err)
	}

	k.start(tb, "bearerbox", filepath.Join(k.dir, "bearerbox.log"), bearerbox, confPath)
	k.WaitFor(tb, "bearerbox admin status", 20*time.Second, func() bool { return strings.Contains(k.status(), "fake") })
	// bearerbox keeps the first MO until smsbox is up.
	first := ""
	if len(opt.MO) > 0 {
		first = opt.MO[0]
	}
	k.runFake(tb, first)
	k.start(tb, "smsbox", filepath.Join(k.dir, "smsbox.log"), smsbox, confPath)
	k.WaitFor(tb, "smsbox's sendsms port", 20*time.Second, func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", sendPort))
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	// smsbox opens its sendsms port before it has finished setting up its
	// link to bearerbox: a sendsms in that window panicked smsbox once in CI
	// ("lock_out: Assertion `conn != NULL' failed" in write_to_bearerbox).
	// Its heartbeat starts after the link is set up.
	k.WaitFor(tb, "smsbox's link to bearerbox", 20*time.Second, func() bool {
		b, _ := os.ReadFile(filepath.Join(k.dir, "smsbox.log"))
		return strings.Contains(string(b), "heartbeat_thread")
	})
	for _, mo := range opt.MO[min(1, len(opt.MO)):] {
		k.SendMO(tb, mo)
	}
	return k
}

// status returns bearerbox's status.txt, or "" if it does not answer.
func (k *Kannel) status() string {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/status.txt?password=adminpw", k.admin))
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

var online = regexp.MustCompile(`fake.*online`)

// runFake starts a fakesmsc that sends mo (nothing if mo is empty), starting
// it again until the fake SMSC reports online with it connected: fakesmsc
// exits if the SMSC is not listening yet, or still serves a previous client.
func (k *Kannel) runFake(tb testing.TB, mo string) {
	tb.Helper()
	args := []string{"-H", "127.0.0.1", "-r", fmt.Sprint(k.fakePort), "-i", "0.1", "-m", "1", mo}
	if mo == "" {
		args[len(args)-2], args[len(args)-1] = "0", "0 0 text unused" // fakesmsc wants a message
	}
	var fs *box
	var started time.Time
	sent := func() bool { return mo == "" || strings.Contains(fs.out.String(), "sent message") }
	k.WaitFor(tb, "fakesmsc connected (smsc online)", 20*time.Second, func() bool {
		if fs == nil || !fs.running() && !sent() && time.Since(started) > 500*time.Millisecond {
			started = time.Now()
			fs = k.start(tb, "fakesmsc", "", k.fakesmsc, args...)
			k.mu.Lock()
			k.fakes = append(k.fakes, fs)
			k.fake = fs
			k.mu.Unlock()
		}
		if !fs.running() && sent() {
			k.Fatalf(tb, "fakesmsc exited after sending %q", mo)
		}
		return fs.running() && sent() && online.MatchString(k.status())
	})
}

// SendMO has fakesmsc send one more MO message, in fakesmsc's
// "FROM TO text BODY" form: fakesmsc picks its messages at random and sends
// them only at start, so the current one is stopped and a new one started.
// MT messages from then on go to the new fakesmsc.
func (k *Kannel) SendMO(tb testing.TB, mo string) {
	tb.Helper()
	k.mu.Lock()
	old := k.fake
	k.mu.Unlock()
	if old != nil {
		old.kill()
		// Let the SMSC notice, so that the new client is not turned away.
		deadline := time.Now().Add(5 * time.Second)
		for online.MatchString(k.status()) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
	}
	k.runFake(tb, mo)
}

// MTs returns what every fakesmsc printed: each MT it received as
// "Got message N: <FROM TO text BODY>" (or "ucs-2 DATA", URL-encoded
// UTF-16BE), among its other output.
func (k *Kannel) MTs() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var s strings.Builder
	for _, b := range k.fakes {
		s.WriteString(b.out.String())
	}
	return s.String()
}
