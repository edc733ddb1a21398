package kannel

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/testenv"
)

// This file runs real Kannel boxes for the integration test: it writes a
// kannel.conf, starts and kills processes, and keeps their output so a
// failure shows what the boxes said.

// box is one running Kannel process.
type box struct {
	name    string
	cmd     *exec.Cmd
	out     testenv.Buffer // stdout and stderr
	logFile string         // the box's log-file, if it has one
	done    chan struct{}
}

// running reports whether the process has not exited yet.
func (b *box) running() bool {
	select {
	case <-b.done:
		return false
	default:
		return true
	}
}

// kannel is a set of boxes sharing one configuration.
type kannel struct {
	t     *testing.T
	dir   string
	boxes []*box
}

// start runs a process until the test ends; it is killed (not asked to
// shut down: bearerbox's graceful stop takes seconds) at cleanup.
func (k *kannel) start(name, logFile, path string, args ...string) *box {
	k.t.Helper()
	b := &box{name: name, logFile: logFile, done: make(chan struct{})}
	b.cmd = exec.Command(path, args...)
	b.cmd.Dir = k.dir
	b.cmd.Stdout = &b.out
	b.cmd.Stderr = &b.out
	if err := b.cmd.Start(); err != nil {
		k.fatalf("start %s: %v", name, err)
	}
	go func() { b.cmd.Wait(); close(b.done) }()
	// A restarted box replaces its predecessor in the logs.
	for i, o := range k.boxes {
		if o.name == name {
			k.boxes = append(k.boxes[:i:i], k.boxes[i+1:]...)
			break
		}
	}
	k.boxes = append(k.boxes, b)
	k.t.Cleanup(func() {
		b.cmd.Process.Kill()
		<-b.done
	})
	return b
}

// logs returns the tail of every box's output and log file.
func (k *kannel) logs() string {
	var s strings.Builder
	for _, b := range k.boxes {
		fmt.Fprintf(&s, "\n--- %s (running=%v) output:\n%s", b.name, b.running(), tail(b.out.String()))
		if b.logFile != "" {
			data, _ := os.ReadFile(b.logFile)
			fmt.Fprintf(&s, "\n--- %s log-file:\n%s", b.name, tail(string(data)))
		}
	}
	return s.String()
}

func tail(s string) string {
	const max = 6000
	if len(s) > max {
		return "..." + s[len(s)-max:]
	}
	return s
}

// fatalf fails the test with the boxes' logs appended.
func (k *kannel) fatalf(format string, args ...any) {
	k.t.Helper()
	k.t.Fatalf(format+"\nKannel logs:%s", append(args, k.logs())...)
}

// waitFor polls cond until it holds, failing with the logs at the deadline.
func (k *kannel) waitFor(what string, timeout time.Duration, cond func() bool) {
	k.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			k.fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// freePorts returns n distinct loopback ports that were free a moment ago.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

// kannelBinary finds a Kannel executable: the environment variable, then
// PATH, then the Debian locations (/usr/sbin is not on every PATH, and
// kannel-extras puts fakesmsc in /usr/lib/kannel/test).
func kannelBinary(t *testing.T, env, file string, dirs ...string) string {
	t.Helper()
	if os.Getenv(env) == "" {
		if _, err := exec.LookPath(file); err != nil {
			for _, d := range dirs {
				p := filepath.Join(d, file)
				if _, err := os.Stat(p); err == nil {
					return p
				}
			}
		}
	}
	return testenv.Binary(t, env, file, "Kannel integration test (Debian packages kannel, kannel-extras)")
}

// kannelConf is a minimal bearerbox + smsbox configuration with a fake SMSC.
// http-request-retry makes smsbox retry a get-url that Perk answers 503.
const kannelConf = `group = core
admin-port = {{admin}}
admin-password = adminpw
smsbox-port = {{smsbox}}
box-allow-ip = 127.0.0.1
log-file = "{{dir}}/bearerbox.log"
log-level = 0

group = smsc
smsc = fake
smsc-id = fake
port = {{fake}}
connect-allow-ip = 127.0.0.1

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {{smsbox}}
sendsms-port = {{sendsms}}
log-file = "{{dir}}/smsbox.log"
log-level = 0
http-request-retry = 5
http-queue-delay = 1

group = sendsms-user
username = perk
password = {{pass}}
concatenation = true
max-messages = 10

group = sms-service
keyword = default
catch-all = true
max-messages = 0
get-url = "{{public}}/kannel/mo?secret={{secret}}&from=%p&to=%P&text=%a&ts=%T&coding=%c&charset=%C"
`
