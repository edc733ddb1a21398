package smpp

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/sms"
)

// TestReceiptHandler_AcknowledgesOnlyAStoredReceipt: with a receipt handler
// (perk serve stores receipts there), the SMSC gets ESME_ROK only after the
// receipt is stored, and ESME_RX_T_APPN when storing failed, so it redelivers.
func TestReceiptHandler_AcknowledgesOnlyAStoredReceipt(t *testing.T) {
	srv := newTestSMSC(t, nil)
	c := New(Config{Addr: srv.addr, SystemID: "perk", Password: "secret", Source: "PERK",
		ResponseTimeout: 5 * time.Second, BindTimeout: 5 * time.Second, Log: slog.New(slog.DiscardHandler)}, nil)
	var failNext atomic.Bool
	failNext.Store(true)
	stored := make(chan sms.Receipt, 1)
	c.SetReceiptHandler(func(_ context.Context, r sms.Receipt) error {
		if failNext.Swap(false) {
			return errors.New("database briefly unavailable")
		}
		stored <- r
		return nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	sub, err := c.Send(context.Background(), msg("447700900123", "hello"))
	if err != nil {
		t.Fatal(err)
	}
	dlr := PDU{Command: DeliverSM, SM: SM{ESMClass: 0x04, ReceiptedMessageID: "0000AB0001",
		ShortMessage: []byte("id:0000AB0001 stat:DELIVRD err:000")}}
	srv.request(dlr)
	if r := recv(t, srv.resps); r.Status != StatusXTAppn {
		t.Fatalf("receipt not stored, yet acknowledged with %s", r.Status)
	}
	srv.request(dlr) // the SMSC redelivers
	if r := recv(t, srv.resps); r.Status != StatusOK {
		t.Fatalf("stored receipt answered %s", r.Status)
	}
	if r := recv(t, stored); r.GatewayID != sub.GatewayID || r.State != sms.Delivered {
		t.Fatalf("stored %+v for %+v", r, sub)
	}
}
