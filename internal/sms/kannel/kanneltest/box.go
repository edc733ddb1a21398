package kanneltest

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/testenv"
)

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

// kill stops the process and waits for it to exit.
func (b *box) kill() {
	b.cmd.Process.Kill()
	<-b.done
}

// start runs a process until the test that called Start ends; it is killed
// (not asked to shut down: bearerbox's graceful stop takes seconds) at
// cleanup. Failures are reported on tb.
func (k *Kannel) start(tb testing.TB, name, logFile, path string, args ...string) *box {
	tb.Helper()
	b := &box{name: name, logFile: logFile, done: make(chan struct{})}
	b.cmd = exec.Command(path, args...)
	b.cmd.Dir = k.dir
	b.cmd.Stdout = &b.out
	b.cmd.Stderr = &b.out
	if err := b.cmd.Start(); err != nil {
		k.Fatalf(tb, "start %s: %v", name, err)
	}
	go func() { b.cmd.Wait(); close(b.done) }()
	k.mu.Lock()
	// A restarted box replaces its predecessor in the logs.
	for i, o := range k.boxes {
		if o.name == name {
			k.boxes = append(k.boxes[:i:i], k.boxes[i+1:]...)
			break
		}
	}
	k.boxes = append(k.boxes, b)
	k.mu.Unlock()
	// Registered on Start's tb, so that a box started in a subtest outlives it.
	k.tb.Cleanup(b.kill)
	return b
}

// Logs returns the tail of every box's output and log file, for failure
// messages.
func (k *Kannel) Logs() string {
	k.mu.Lock()
	boxes := append([]*box(nil), k.boxes...)
	k.mu.Unlock()
	var s strings.Builder
	for _, b := range boxes {
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

// Fatalf fails tb with the boxes' logs appended.
func (k *Kannel) Fatalf(tb testing.TB, format string, args ...any) {
	tb.Helper()
	tb.Fatalf(format+"\nKannel logs:%s", append(args, k.Logs())...)
}

// WaitFor polls cond until it holds, failing tb with the logs at the
// deadline.
func (k *Kannel) WaitFor(tb testing.TB, what string, timeout time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			k.Fatalf(tb, "timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
