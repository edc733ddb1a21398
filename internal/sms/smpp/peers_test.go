package smpp

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/testenv"
)

// TestAgainstIndependentSMSCs runs the client against two third-party
// SMSCs, so the codec is checked against implementations that are not its
// own mirror image: testdata/smsc.js on the npm package smpp@0.5.1, and
// testdata/smsc.pl on Debian's libnet-smpp-perl.
func TestAgainstIndependentSMSCs(t *testing.T) {
	peers := []struct {
		name  string
		start func(t *testing.T) string
	}{
		{"node-smpp", func(t *testing.T) string {
			node := testenv.Binary(t, "PERK_TEST_NODE", "node", "SMPP interoperability test")
			modules := testenv.Env(t, "PERK_TEST_SMPP_NODE_MODULES", "SMPP interoperability test (a node_modules folder with smpp@0.5.1)")
			return startScriptSMSC(t, node, "testdata/smsc.js", "NODE_PATH="+modules)
		}},
		{"perl-Net-SMPP", func(t *testing.T) string {
			perl := testenv.Binary(t, "PERK_TEST_PERL", "perl", "SMPP interoperability test")
			testenv.Env(t, "PERK_TEST_SMPP_PERL", "SMPP interoperability test (Debian libnet-smpp-perl installed)")
			return startScriptSMSC(t, perl, "testdata/smsc.pl")
		}},
	}
	for _, peer := range peers {
		t.Run(peer.name, func(t *testing.T) {
			addr := peer.start(t)
			inbound := make(chan sms.Inbound, 1)
			c := startClient(t, addr, nil, func(_ context.Context, in sms.Inbound) error {
				inbound <- in
				return nil
			})
			sub, err := c.Send(context.Background(), msg("447700900123", "Welcome to Perk"))
			if err != nil {
				t.Fatal(err)
			}
			if r := recv(t, c.Receipts()); r.GatewayID != sub.GatewayID || r.State != sms.Delivered {
				t.Errorf("receipt %+v for submission %+v, want the same GatewayID, delivered", r, sub)
			}
			if _, err := c.Send(context.Background(), msg("447700900999", "trigger")); err != nil {
				t.Fatal(err)
			}
			recv(t, c.Receipts()) // the trigger's own receipt
			if in := recv(t, inbound); in.From != "+447700900123" || in.Body != "JOIN Ann" {
				t.Errorf("onInbound got %+v, want JOIN Ann from +447700900123", in)
			}
		})
	}
}

// startScriptSMSC runs an SMSC script (bin script PORT) on a free port until
// the test ends and returns its address once it prints "listening".
func startScriptSMSC(t *testing.T, bin, script string, env ...string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // the script takes the port; a clash in between is very unlikely

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, script, strconv.Itoa(port))
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("%s stderr:\n%s", script, stderr.String())
		}
	})
	ready := make(chan bool, 1)
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			if s.Text() == "listening" {
				ready <- true
				break
			}
		}
		for s.Scan() { // keep draining so the script never blocks on stdout
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatalf("%s exited before listening: %s", script, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not print listening within 20s", script)
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}
