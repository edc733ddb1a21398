package kannel

import (
	"context"
	"errors"
	"testing"

	"github.com/perk-platform/perk/internal/sms"
)

// TestReceiptHandler_200OnlyForAStoredReceipt: with a receipt handler (perk
// serve stores receipts there), Kannel gets 200 only once the receipt is
// stored, and 503 when storing failed, so it retries.
func TestReceiptHandler_200OnlyForAStoredReceipt(t *testing.T) {
	g := New(Config{Secret: "s"}, nil)
	var stored []sms.Receipt
	fail := true
	g.SetReceiptHandler(func(_ context.Context, r sms.Receipt) error {
		if fail {
			fail = false
			return errors.New("database briefly unavailable")
		}
		stored = append(stored, r)
		return nil
	})
	const dlr = "/kannel/dlr?secret=s&id=msg_1&status=1&ts=1795456480"
	if w := serve(g, "GET", dlr); w.Code != 503 {
		t.Fatalf("unstored receipt answered %d, want 503", w.Code)
	}
	if w := serve(g, "GET", dlr); w.Code != 200 {
		t.Fatalf("stored receipt answered %d, want 200", w.Code)
	}
	if len(stored) != 1 || stored[0].GatewayID != "kannel:msg_1" || stored[0].State != sms.Delivered {
		t.Fatalf("stored %+v", stored)
	}
	select {
	case r := <-g.Receipts():
		t.Fatalf("receipt %+v also on the channel", r)
	default:
	}
}
