package smpp

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/sms"
)

// TestStalledSMSC_SendFailsTemporarilyAndTheClientRecovers: an SMSC that
// stops answering mid-send makes Send fail with a temporary error after the
// response timeout (the sender retries later, so nothing is lost), and once
// the SMSC answers again, sending works.
func TestStalledSMSC_SendFailsTemporarilyAndTheClientRecovers(t *testing.T) {
	gate := make(chan struct{})
	srv := newTestSMSC(t, gate)
	c := startClient(t, srv.addr, func(cfg *Config) { cfg.ResponseTimeout = 200 * time.Millisecond }, nil)
	start := time.Now()
	_, err := c.Send(context.Background(), msg("447700900123", "hello"))
	if !errors.Is(err, sms.ErrTemporary) {
		t.Fatalf("Send to a stalled SMSC: %v, want ErrTemporary", err)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Fatalf("Send waited %v for a stalled SMSC", waited)
	}
	recv(t, srv.submits)
	close(gate) // the SMSC answers again, the late response included
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := c.Send(context.Background(), msg("447700900123", "again"))
		if err == nil {
			break
		}
		if !errors.Is(err, sms.ErrTemporary) || time.Now().After(deadline) {
			t.Fatalf("Send after the stall: %v", err)
		}
	}
}
