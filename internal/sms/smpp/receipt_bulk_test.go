package smpp

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/sms"
)

// TestEveryMessageGetsExactlyItsOwnReceipt sends 20,000 messages through an
// SMSC that issues sequential ids and sends a receipt for each, and checks
// what sms_outbox would see: every message has a gateway id of its own, and
// each receipt names the message the SMSC issued its id to, so no message
// is left without a receipt and none gets two.
//
// Sequential hex ids are the hard case for a normaliser that guesses the
// base: "10" (sixteen) and "a" (ten) are two messages, not one.
func TestEveryMessageGetsExactlyItsOwnReceipt(t *testing.T) {
	if testing.Short() {
		t.Skip("20,000 messages; skipped with -short")
	}
	const n = 20000
	text := func(id string) SM {
		return SM{ESMClass: esmReceipt, ShortMessage: []byte("id:" + id + " sub:001 dlvrd:001 submit date:2611231000 done date:2611231000 stat:DELIVRD err:000 text:")}
	}
	tests := []struct {
		name    string
		mode    IDMatch                   // the client's receipt_ids
		ids     func(n int) string        // the message_id of the n-th submit_sm_resp
		receipt func(n int, id string) SM // the receipt the SMSC sends for it
	}{
		{"hex ids, the receipt text names them as issued", IDExact,
			func(n int) string { return strconv.FormatInt(int64(n), 16) },
			func(_ int, id string) SM { return text(id) }},
		{"upper-case hex ids in the receipted_message_id TLV", IDExact,
			func(n int) string { return fmt.Sprintf("%X", n) },
			func(_ int, id string) SM { return SM{ESMClass: esmReceipt, ReceiptedMessageID: id, MessageState: 2} }},
		{"hex ids, named in decimal in the receipt text, under dec2hex", IDDec2Hex,
			func(n int) string { return fmt.Sprintf("%X", n) },
			func(n int, _ string) SM { return text(strconv.Itoa(n)) }},
		{"zero-padded hex ids, unpadded lower case in the receipt, under hex", IDHex,
			func(n int) string { return fmt.Sprintf("%08X", n) },
			func(n int, _ string) SM { return text(strconv.FormatInt(int64(n), 16)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestSMSCWith(t, smscOptions{ids: tt.ids, receipt: tt.receipt})
			var mu sync.Mutex
			var receipts []sms.Receipt // in the order the SMSC sent them
			all := make(chan struct{})
			c := New(testConfig(srv.addr, func(cfg *Config) {
				cfg.Window, cfg.ReceiptIDs = 50, tt.mode
				cfg.ResponseTimeout = time.Minute // a loaded machine must not turn into a failed Send
			}), nil)
			c.SetReceiptHandler(func(_ context.Context, r sms.Receipt) error {
				mu.Lock()
				defer mu.Unlock()
				receipts = append(receipts, r)
				if len(receipts) == n {
					close(all)
				}
				return nil
			})
			runClient(t, c)

			subs := sendAll(t, c, n, 50)
			select {
			case <-all:
			case <-time.After(2 * time.Minute):
				mu.Lock()
				got := len(receipts)
				mu.Unlock()
				t.Fatalf("%d of %d receipts after two minutes", got, n)
			}
			mu.Lock()
			defer mu.Unlock()
			srv.mu.Lock()
			defer srv.mu.Unlock()
			if len(srv.issued) != n {
				t.Fatalf("the SMSC issued %d ids with a receipt, want %d", len(srv.issued), n)
			}
			// Which message each receipt was sent for: the k-th receipt
			// handled is the k-th sent (one connection, handled in order).
			msgOf := make(map[string]int, n) // submit_sm text -> message
			for i := range n {
				msgOf[bodyOf(i)] = i
			}
			checkReceiptsLand(t, subs, receipts, func(k int) int { return msgOf[srv.issued[k].text] })
		})
	}
}

// checkReceiptsLand matches receipts to messages by gateway id, as
// sms_outbox does (a receipt updates every message whose id it names), and
// reports messages sharing an id, messages with no receipt or with more than
// one, receipts landing on a message they were not sent for, and receipts
// naming no message. forMsg gives the message the k-th receipt was sent for.
func checkReceiptsLand(t *testing.T, subs []sms.Submitted, receipts []sms.Receipt, forMsg func(k int) int) {
	t.Helper()
	byID := make(map[string][]int, len(subs))
	for i, s := range subs {
		byID[s.GatewayID] = append(byID[s.GatewayID], i)
	}
	shared := 0
	for _, ms := range byID {
		if len(ms) > 1 {
			shared += len(ms)
		}
	}
	got := make([]int, len(subs))
	wrong, orphan := 0, 0
	var examples []string
	for k, r := range receipts {
		ms := byID[r.GatewayID]
		if len(ms) == 0 {
			orphan++
		}
		for _, m := range ms {
			got[m]++
			if m != forMsg(k) {
				wrong++
				if len(examples) < 3 {
					examples = append(examples, fmt.Sprintf("receipt %q for message %d landed on message %d (gateway id %q)",
						r.GatewayID, forMsg(k), m, subs[m].GatewayID))
				}
			}
		}
	}
	none, twice := 0, 0
	for _, g := range got {
		switch {
		case g == 0:
			none++
		case g > 1:
			twice++
		}
	}
	if shared+none+twice+wrong+orphan > 0 {
		t.Errorf("%d messages: %d share a gateway id, %d got no receipt, %d got two or more, %d receipts landed on the wrong message, %d named none; e.g. %v",
			len(subs), shared, none, twice, wrong, orphan, examples)
	}
}

// sendAll sends n messages (bodies bodyOf(0..n-1)) from the given number of
// goroutines and returns what Send returned for each.
func sendAll(t *testing.T, c *Client, n, senders int) []sms.Submitted {
	t.Helper()
	subs := make([]sms.Submitted, n)
	next := make(chan int)
	errs := make(chan error, senders)
	var wg sync.WaitGroup
	for range senders {
		wg.Go(func() {
			for i := range next {
				sub, err := c.Send(context.Background(), sms.Message{ID: strconv.Itoa(i), To: "+447700900123", Body: bodyOf(i)})
				if err != nil {
					errs <- err
					return
				}
				subs[i] = sub
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case err := <-errs:
			t.Errorf("Send: %v", err)
			break feed
		}
	}
	close(next)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return subs
}

func bodyOf(i int) string { return "m" + strconv.Itoa(i) }
