package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/testenv"
)

// nodeSMSC is the npm smpp@0.5.1 SMSC of internal/sms/smpp/testdata/smsc.js,
// run for a test or benchmark.
type nodeSMSC struct {
	port int
	mu   sync.Mutex // guards out
	out  []string   // what it printed after "listening"
}

// startNodeSMSC starts the SMSC on a free port; it is killed when tb ends.
// It needs node and PERK_TEST_SMPP_NODE_MODULES (skips, or fails in CI).
func startNodeSMSC(tb testing.TB) *nodeSMSC {
	tb.Helper()
	node := testenv.Binary(tb, "PERK_TEST_NODE", "node", "the npm SMSC")
	modules := testenv.Env(tb, "PERK_TEST_SMPP_NODE_MODULES", "the npm SMSC (node_modules with smpp@0.5.1)")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := &nodeSMSC{port: ln.Addr().(*net.TCPAddr).Port}
	ln.Close()
	cmd := exec.Command(node, "../../internal/sms/smpp/testdata/smsc.js", fmt.Sprint(s.port))
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "listening" {
				ready <- true
				continue
			}
			s.mu.Lock()
			s.out = append(s.out, sc.Text())
			s.mu.Unlock()
		}
	}()
	select {
	case <-ready:
	case <-time.After(20 * time.Second):
		tb.Fatal("the npm SMSC did not start")
	}
	return s
}

// url is the --sms value for the SMSC.
func (s *nodeSMSC) url(query string) string {
	return fmt.Sprintf("smpp://perk:secret@127.0.0.1:%d?source=PERK&%s", s.port, query)
}

// count returns how many printed lines start with prefix.
func (s *nodeSMSC) count(prefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, l := range s.out {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}
