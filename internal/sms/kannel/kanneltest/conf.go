package kanneltest

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/perk-platform/perk/internal/testenv"
)

// freePorts returns n distinct loopback ports that were free a moment ago.
func freePorts(tb testing.TB, n int) []int {
	tb.Helper()
	var ports []int
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

// binary finds a Kannel executable: the environment variable, then PATH,
// then the Debian locations (/usr/sbin is not on every PATH, and
// kannel-extras puts fakesmsc in /usr/lib/kannel/test).
func binary(tb testing.TB, env, file string, dirs ...string) string {
	tb.Helper()
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
	return testenv.Binary(tb, env, file, "Kannel integration test (Debian packages kannel, kannel-extras)")
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
username = {{user}}
password = {{pass}}
concatenation = true
max-messages = 10

group = sms-service
keyword = default
catch-all = true
max-messages = 0
get-url = "{{public}}/kannel/mo?secret={{secret}}&from=%p&to=%P&text=%a&ts=%T&coding=%c&charset=%C"
`
