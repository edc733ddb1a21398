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

// TestAgainstTheNodeSMPPServer runs the client against a third-party SMSC,
// testdata/smsc.js on the npm package smpp@0.5.1, so the codec is checked
// against an implementation that is not its own mirror image.
func TestAgainstTheNodeSMPPServer(t *testing.T) {
	node := testenv.Binary(t, "PERK_TEST_NODE", "node", "SMPP interoperability test")
	modules := testenv.Env(t, "PERK_TEST_SMPP_NODE_MODULES", "SMPP interoperability test (a node_modules folder with smpp@0.5.1)")
	addr := startNodeSMSC(t, node, modules)

	inbound := make(chan sms.Inbound, 1)
	c := startClient(t, addr, nil, func(_ context.Context, in sms.Inbound) error {
		inbound <- in
		return nil
	})

	t.Run("a sent message's receipt names its normalised id", func(t *testing.T) {
		sub, err := c.Send(context.Background(), msg("447700900123", "Welcome to Perk"))
		if err != nil {
			t.Fatal(err)
		}
		r := recv(t, c.Receipts())
		if r.GatewayID != sub.GatewayID || r.State != sms.Delivered {
			t.Errorf("receipt %+v for submission %+v, want the same GatewayID, delivered", r, sub)
		}
	})
	t.Run("an MO reaches onInbound", func(t *testing.T) {
		if _, err := c.Send(context.Background(), msg("447700900999", "trigger")); err != nil {
			t.Fatal(err)
		}
		recv(t, c.Receipts()) // the trigger's own receipt
		in := recv(t, inbound)
		if in.From != "+447700900123" || in.Body != "JOIN Ann" {
			t.Errorf("onInbound got %+v, want JOIN Ann from +447700900123", in)
		}
	})
}

// startNodeSMSC runs testdata/smsc.js on a free port until the test ends
// and returns its address once it prints "listening".
func startNodeSMSC(t *testing.T, node, modules string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // node takes the port; a clash in between is very unlikely

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, node, "testdata/smsc.js", strconv.Itoa(port))
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
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
			t.Logf("smsc.js stderr:\n%s", stderr.String())
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
		for s.Scan() { // keep draining so node never blocks on stdout
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatalf("smsc.js exited before listening: %s", stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("smsc.js did not print listening within 20s")
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}
