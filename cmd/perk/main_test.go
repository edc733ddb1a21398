package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/testenv"
)

var perkBin string

// TestMain builds the real binary once; the tests drive it as an operator would.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "perk-bin-")
	if err != nil {
		panic(err)
	}
	perkBin = filepath.Join(dir, "perk")
	if out, err := exec.Command("go", "build", "-o", perkBin, ".").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// perk runs the binary to completion and returns stdout and stderr.
func perk(t *testing.T, env []string, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(perkBin, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// databases returns the PERK_DB values to run each test against.
func databases(t *testing.T) map[string]func(t *testing.T) string {
	return map[string]func(t *testing.T) string{
		"sqlite": func(t *testing.T) string { return filepath.Join(t.TempDir(), "perk.db") },
		"postgres": func(t *testing.T) string {
			return storetest.DSN(t, testenv.Env(t, storetest.PostgresEnv, "PostgreSQL"))
		},
	}
}

func TestCLI_ImportKeysAndServe(t *testing.T) {
	for name, dsn := range databases(t) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			env := []string{"PERK_DB=" + dsn(t), "PERK_DATA_DIR=" + dir, "PERK_LOG_LEVEL=warn"}
			if _, stderr, err := perk(t, env, "migrate"); err != nil {
				t.Fatalf("migrate: %v\n%s", err, stderr)
			}
			file := filepath.Join(dir, "members.tsv")
			os.WriteFile(file, []byte("\ufeffPhone\tFirst Name\tShoe Size\n07400 100001\tAnn\t5\n020 7946 0018\tLand\t\n07400 100002\tBob\t9\n"), 0o644)
			_, stderr, err := perk(t, env, "members", "import", "--source", "crm-nov", file)
			if err != nil {
				t.Fatalf("import: %v\n%s", err, stderr)
			}
			if !strings.Contains(stderr, "3 rows") || !strings.Contains(stderr, "2 created, 0 updated, 0 unchanged, 1 rejected") {
				t.Fatalf("import summary:\n%s", stderr)
			}
			errs, _ := os.ReadFile(file + ".errors.csv")
			if string(errs) != "row,column,reason\n3,phone,not a mobile number\n" {
				t.Fatalf("errors file %q", errs)
			}
			_, stderr, _ = perk(t, env, "members", "import", file)
			if !strings.Contains(stderr, "0 created, 0 updated, 2 unchanged, 1 rejected") {
				t.Fatalf("re-import should change nothing:\n%s", stderr)
			}
			key, stderr, err := perk(t, env, "keys", "create", "--role", "manager", "--name", "crm")
			if err != nil || !strings.HasPrefix(key, "perk_") {
				t.Fatalf("keys create: %q %v\n%s", key, err, stderr)
			}
			key = strings.TrimSpace(key)
			if _, stderr, err := perk(t, env, "keys", "create", "--role", "pos"); err == nil {
				t.Fatalf("a pos key without --store was created: %s", stderr)
			}

			url, stop := serve(t, env, "--addr", "127.0.0.1:0")
			req, _ := http.NewRequest("GET", url+"/v1/members/07400100002", nil)
			req.Header.Set("Authorization", "Bearer "+key)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || !strings.Contains(string(body), `"shoe_size":"9"`) || !strings.Contains(string(body), `"source":"crm-nov"`) {
				t.Fatalf("GET member = %d %s", res.StatusCode, body)
			}
			if logs := stop(); strings.Contains(logs, "7400100002") {
				t.Fatalf("server log holds a full phone number:\n%s", logs)
			}
		})
	}
}

// serve starts "perk serve", waits until it listens and returns its URL and
// a stop func that sends SIGTERM, checks a clean exit and returns the log.
func serve(t *testing.T, env []string, args ...string) (string, func() string) {
	t.Helper()
	url, _, stop := serveLogged(t, env, args...)
	return url, stop
}

// serveLogged is serve that also returns the log written before the server
// listened (the demo's password and key are in it).
func serveLogged(t *testing.T, env []string, args ...string) (string, string, func() string) {
	t.Helper()
	cmd := exec.Command(perkBin, append([]string{"serve"}, args...)...)
	// The simulator, unless the test names a gateway: perk serve's own
	// default is none (TestServe_NoGatewayByDefault).
	cmd.Env = append(os.Environ(), "PERK_SMS=sim")
	cmd.Env = append(cmd.Env, append(env, "PERK_LOG_LEVEL=info")...)
	return serveCmdLogged(t, cmd)
}

// serveCmd starts a prepared perk serve command; see serve.
func serveCmd(t *testing.T, cmd *exec.Cmd) (string, func() string) {
	t.Helper()
	url, _, stop := serveCmdLogged(t, cmd)
	return url, stop
}

// serveCmdLogged is serveCmd that also returns the start-up log.
func serveCmdLogged(t *testing.T, cmd *exec.Cmd) (string, string, func() string) {
	t.Helper()
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	type started struct{ url, log string }
	urlc := make(chan started, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		re := regexp.MustCompile(`msg="perk listening" url=(\S+)`)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			logs.WriteString(sc.Text() + "\n")
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				urlc <- started{m[1], logs.String()}
			}
		}
	}()
	var url, startLog string
	select {
	case s := <-urlc:
		url, startLog = s.url, s.log
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("perk serve did not start:\n%s", logs.String())
	}
	stopped := false
	stop := func() string {
		if stopped {
			return logs.String()
		}
		stopped = true
		cmd.Process.Signal(syscall.SIGTERM)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		errc := make(chan error, 1)
		go func() { errc <- cmd.Wait() }()
		select {
		case err := <-errc:
			pw.Close()
			<-done
			if err != nil {
				t.Errorf("perk serve exited with %v:\n%s", err, logs.String())
			}
		case <-ctx.Done():
			cmd.Process.Kill()
			t.Errorf("perk serve did not stop on SIGTERM")
		}
		return logs.String()
	}
	t.Cleanup(func() { stop() })
	return url, startLog, stop
}

func TestServe_DemoIsReadyAtOnce(t *testing.T) {
	dir := t.TempDir()
	url, stop := serve(t, []string{"PERK_DATA_DIR=" + dir}, "--addr", "127.0.0.1:0", "--demo")
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/join": 200, "/": 200,
		"/metrics": http.StatusUnauthorized, "/sim": http.StatusUnauthorized} {
		res, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("GET %s = %d, want %d", path, res.StatusCode, want)
		}
	}
	logs := stop()
	card := regexp.MustCompile(`card=(http://\S+/c/\S+)`).FindStringSubmatch(logs)
	key := regexp.MustCompile(`key=(perk_\S+)`).FindStringSubmatch(logs)
	if card == nil || key == nil {
		t.Fatalf("demo did not log card links and an admin key:\n%s", logs)
	}
	if _, err := os.Stat(filepath.Join(dir, "perk.db")); err != nil {
		t.Fatalf("default SQLite file: %v", err)
	}
	// A second start keeps the demo data and does not seed it twice.
	_, stop2 := serve(t, []string{"PERK_DATA_DIR=" + dir}, "--addr", "127.0.0.1:0", "--demo")
	if logs := stop2(); !strings.Contains(logs, "demo data already present") {
		t.Fatalf("second demo start:\n%s", logs)
	}
}

// Without --demo or --sms, perk serve sends nothing, says so loudly, queues,
// and has no simulator for anyone to text members' numbers from.
func TestServe_NoGatewayByDefault(t *testing.T) {
	cmd := exec.Command(perkBin, "serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir())
	cmd.Env = append(os.Environ(), "PERK_SMS=", "PERK_LOG_LEVEL=info")
	url, stop := serveCmd(t, cmd)
	res, err := http.Get(url + "/sim")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("GET /sim without the simulator = %d, want 404", res.StatusCode)
	}
	logs := stop()
	if !strings.Contains(logs, "level=WARN msg=\"NO SMS GATEWAY") || !strings.Contains(logs, "sms=none") {
		t.Errorf("no warning about the missing gateway:\n%s", logs)
	}
}

func TestCLI_UsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "Usage:"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"serve", "--region", "XX", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir()}, "unknown phone region"},
		{[]string{"serve", "--barcode", "qr", "--addr", "127.0.0.1:0"}, "--barcode"},
		{[]string{"serve", "--currency", "XXX", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir()}, `--currency: unknown currency "XXX"`},
		{[]string{"serve", "--currency", "POUNDS", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir()}, `--currency: unknown currency "POUNDS"`},
		{[]string{"serve", "--locale", "not a language", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir()}, `--locale: "not a language" is not a known BCP 47 locale`},
		{[]string{"members", "import"}, "usage: perk members import"},
	}
	for _, tt := range tests {
		_, stderr, err := perk(t, nil, tt.args...)
		if err == nil || !strings.Contains(stderr, tt.want) {
			t.Errorf("perk %v: err %v, stderr %q; want failure mentioning %q", tt.args, err, stderr, tt.want)
		}
	}
}

func TestCLI_SMSInjectQueuesTheReplyThatServeSends(t *testing.T) {
	dir := t.TempDir()
	env := []string{"PERK_DATA_DIR=" + dir, "PERK_LOG_LEVEL=warn"}
	out, stderr, err := perk(t, env, "sms", "inject", "--from", "07700 900123", "JOIN", "Ann")
	if err != nil || !strings.Contains(out, "keyword JOIN") {
		t.Fatalf("inject: %q %v\n%s", out, err, stderr)
	}
	out, _, _ = perk(t, env, "sms", "outbox")
	if !strings.Contains(out, "welcome") || !strings.Contains(out, "queued") || strings.Contains(out, "7700900123") {
		t.Fatalf("outbox before serve (queued, number masked):\n%s", out)
	}
	// A marketing message to a number that is not a member is held, not sent.
	if out, stderr, err := perk(t, env, "sms", "send", "--to", "07400 123456", "--marketing", "--campaign", "c1", "Sale!"); err != nil {
		t.Fatalf("send: %v %s", err, stderr)
	} else if !strings.Contains(out, "queued msg_") {
		t.Fatalf("send said %q", out)
	}
	_, stop := serve(t, env, "--addr", "127.0.0.1:0")
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, _, _ = perk(t, env, "sms", "status")
		if strings.Contains(out, "messages 2: queued 0, sending 0, sent 1, failed 0, held 1") && strings.Contains(out, "delivered 1,") &&
			strings.Contains(out, "\nheld: opted_out 1\n") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not settle the queued messages:\n%s", out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop()
}

// TestServe_KilledMidSendLosesNoMessage queues a few thousand messages,
// kills the server with SIGKILL while it sends them, starts it again and
// checks that every message ends up sent.
func TestServe_KilledMidSendLosesNoMessage(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(dir, "perk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	const total = 3000
	now := time.Now().UTC()
	for i := 0; i < total; i++ {
		if _, err := sms.Enqueue(ctx, db.W, sms.Outbound{To: fmt.Sprintf("+4474%08d", i), Body: "Your code is 96385074",
			Kind: sms.Transactional, Purpose: "test"}, now.Add(time.Duration(i)*time.Microsecond)); err != nil {
			t.Fatal(err)
		}
	}
	count := func(status string) int {
		var n int
		db.R.QueryRow(`SELECT COUNT(*) FROM sms_outbox WHERE status = $1`, status).Scan(&n)
		return n
	}
	env := []string{"PERK_DATA_DIR=" + dir, "PERK_SMS_LEASE=1s", "PERK_SMS=sim"}
	cmd := exec.Command(perkBin, "serve", "--addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	// Kill while a batch is claimed but not yet settled, so recovery depends
	// on the lease.
	for count(sms.StatusSent) < 100 || count(sms.StatusSending) == 0 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the server sent nothing")
		}
		time.Sleep(time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	sentAtKill := count(sms.StatusSent)
	claimed := count(sms.StatusSending)
	if sentAtKill == total {
		t.Skip("the server finished before it was killed; nothing to recover")
	}
	// Usually a few messages are claimed at the kill; when the kill lands
	// between two batches there are none, and the restart still must send
	// every queued one.
	t.Logf("killed with %d of %d sent, %d claimed", sentAtKill, total, claimed)

	_, stop := serve(t, env, "--addr", "127.0.0.1:0")
	deadline = time.Now().Add(60 * time.Second)
	for count(sms.StatusSent) < total {
		if time.Now().After(deadline) {
			t.Fatalf("after restart: %d sent, %d sending, %d queued of %d", count(sms.StatusSent), count(sms.StatusSending),
				count(sms.StatusQueued), total)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
}

// TestServe_SMPPEndToEnd runs perk serve against a third-party SMSC (the npm
// smpp@0.5.1 server in internal/sms/smpp/testdata/smsc.js): a shopper texts
// JOIN, gets the welcome with the code, texts STOP, and a marketing message
// afterwards is held, not sent.
func TestServe_SMPPEndToEnd(t *testing.T) {
	smsc := startNodeSMSC(t)
	dir := t.TempDir()
	env := []string{"PERK_DATA_DIR=" + dir, "PERK_SMS=" + smsc.url(""),
		"PERK_QUIET_HOURS=00:00-24:00"}
	_, stop := serve(t, env, "--addr", "127.0.0.1:0")
	db, err := store.Open(context.Background(), filepath.Join(dir, "perk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	waitRow := func(what, query string, args ...any) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			var n int
			db.R.QueryRow(query, args...).Scan(&n)
			if n > 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	send := func(args ...string) {
		t.Helper()
		if _, stderr, err := perk(t, env, append([]string{"sms", "send"}, args...)...); err != nil {
			t.Fatalf("sms send %v: %v %s", args, err, stderr)
		}
	}
	send("--to", "+447700900999", "trigger JOIN") // the SMSC answers with an MO "JOIN Ann"
	waitRow("Ann to be enrolled by SMS", `SELECT COUNT(*) FROM members WHERE phone = '+447700900123' AND channel = 'sms' AND first_name = 'Ann'`)
	waitRow("the welcome to be delivered", `SELECT COUNT(*) FROM sms_outbox WHERE to_phone = '+447700900123' AND purpose = 'welcome'
		AND status = 'sent' AND delivery_state = 'delivered' AND body LIKE '%member code is%'`)
	send("--to", "+447700900998", "trigger STOP") // the SMSC answers with an MO "STOP"
	waitRow("the STOP confirmation", `SELECT COUNT(*) FROM sms_outbox WHERE to_phone = '+447700900123' AND purpose = 'stop_confirm' AND status = 'sent'`)
	send("--to", "07700 900123", "--marketing", "Spring sale!")
	waitRow("the marketing message to be held", `SELECT COUNT(*) FROM sms_outbox WHERE to_phone = '+447700900123' AND kind = 'marketing'
		AND status = 'held' AND held_reason = 'opted_out'`)
	stop()
}
