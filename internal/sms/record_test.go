package sms_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

func earlyReceipts(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.R.QueryRow(`SELECT COUNT(*) FROM sms_early_receipts`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A receipt that overtakes the record of its acceptance waits in memory,
// unacknowledged (DeliveredBatch has not returned), when this process's
// sender holds the acceptance; it is stored with the acceptance, and never
// goes through sms_early_receipts. Without Accepting it takes the table,
// so that another process recording the acceptance finds it.
func TestQueue_AnEarlyReceiptWaitsInMemoryForAnAcceptanceThisProcessHolds(t *testing.T) {
	for _, tc := range []struct {
		name      string
		accepting bool
		wantTable int // rows in sms_early_receipts before the acceptance is recorded
	}{
		{"held here: waits in memory", true, 0},
		{"held elsewhere: stored in the table", false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				q, c := setup(t, db)
				enqueue(t, db, "m1", c.t)
				got, err := q.Claim(ctx, 1)
				if err != nil || len(got) != 1 {
					t.Fatalf("Claim = %v, %v", got, err)
				}
				if tc.accepting {
					q.Accepting("gw-1")
				}
				stored := make(chan error, 1)
				go func() {
					stored <- q.DeliveredBatch(ctx, []sms.Receipt{{GatewayID: "gw-1", State: sms.Delivered, At: c.t}})
				}()
				if tc.accepting {
					for q.Parked() != 1 {
						time.Sleep(time.Millisecond)
					}
					select {
					case err := <-stored:
						t.Fatalf("DeliveredBatch returned (%v) before its receipt was stored", err)
					default:
					}
				} else if err := <-stored; err != nil {
					t.Fatal(err)
				}
				if n := earlyReceipts(t, db); n != tc.wantTable {
					t.Fatalf("%d rows in sms_early_receipts before the acceptance, want %d", n, tc.wantTable)
				}
				if err := q.SentBatch(ctx, []sms.SentResult{{Message: got[0], GatewayID: "gw-1", Segments: 1}}); err != nil {
					t.Fatal(err)
				}
				if tc.accepting {
					if err := <-stored; err != nil {
						t.Fatal(err)
					}
				}
				var st string
				db.R.QueryRow(`SELECT delivery_state FROM sms_outbox WHERE id = 'm1'`).Scan(&st)
				if st != sms.Delivered || earlyReceipts(t, db) != 0 || q.Parked() != 0 {
					t.Fatalf("after the acceptance: delivery state %q, %d in the table, %d parked", st, earlyReceipts(t, db), q.Parked())
				}
			})
		})
	}
}

// Many concurrent callers, batches of every size around the fixed row
// counts the statements are built for (padding must match nothing), and
// receipts racing their acceptances: every message ends sent and
// delivered, with nothing left waiting.
func TestQueue_ConcurrentRecordsOfEverySizeAllLand(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		q, c := setup(t, db)
		sizes := []int{1, 2, 4, 5, 15, 16, 17, 63, 64, 65, 255, 256, 257, 300}
		total := 0
		for _, n := range sizes {
			total += n
		}
		for i := range total {
			enqueue(t, db, fmt.Sprintf("m%04d", i), c.t.Add(time.Duration(i)*time.Millisecond))
		}
		msgs, err := q.Claim(ctx, total)
		if err != nil || len(msgs) != total {
			t.Fatalf("Claim: %d of %d, %v", len(msgs), total, err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 2*len(sizes))
		at := 0
		for k, n := range sizes {
			batch := msgs[at : at+n]
			at += n
			sent := make([]sms.SentResult, n)
			receipts := make([]sms.Receipt, n)
			for i, m := range batch {
				gid := "gw-" + m.ID
				sent[i] = sms.SentResult{Message: m, GatewayID: gid, Segments: 1}
				receipts[i] = sms.Receipt{GatewayID: gid, State: sms.Delivered, At: c.t}
				if k%2 == 0 {
					q.Accepting(gid) // half wait in memory if they come first, half take the table
				}
			}
			wg.Go(func() { errs <- q.SentBatch(ctx, sent) })
			wg.Go(func() { errs <- q.DeliveredBatch(ctx, receipts) })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		var sent, delivered int
		db.R.QueryRow(`SELECT COUNT(*) FROM sms_outbox WHERE status = 'sent' AND gateway_message_id = 'gw-' || id`).Scan(&sent)
		db.R.QueryRow(`SELECT COUNT(*) FROM sms_outbox WHERE delivery_state = 'delivered'`).Scan(&delivered)
		if sent != total || delivered != total || earlyReceipts(t, db) != 0 || q.Parked() != 0 {
			t.Fatalf("of %d: %d sent, %d delivered, %d in sms_early_receipts, %d parked", total, sent, delivered,
				earlyReceipts(t, db), q.Parked())
		}
	})
}

// The claim takes due messages of both kinds, queued ones and those whose
// lease ran out, oldest first across both, and no more than asked.
func TestQueue_ClaimTakesQueuedAndExpiredLeasesOldestFirst(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		q, c := setup(t, db)
		for i := range 6 {
			enqueue(t, db, fmt.Sprintf("q%d", i), c.t.Add(time.Duration(i)*time.Second))
		}
		// Two claimed by a sender that died: their lease ends at c.t+1min.
		dead, err := q.Claim(ctx, 2)
		if err != nil || len(dead) != 2 || dead[0].ID != "q0" {
			t.Fatalf("Claim = %v, %v", dead, err)
		}
		// New messages queued after the lease's end come after the
		// expired ones; older ones come before.
		enqueue(t, db, "late", c.t.Add(2*time.Hour))
		c.t = c.t.Add(3 * time.Hour)
		// Claim returns its batch in id order.
		for _, want := range [][]string{{"q2", "q3", "q4"}, {"q0", "q1", "q5"}, {"late"}} {
			got, err := q.Claim(ctx, 3)
			if err != nil {
				t.Fatal(err)
			}
			ids := make([]string, len(got))
			for i, m := range got {
				ids[i] = m.ID
			}
			if fmt.Sprint(ids) != fmt.Sprint(want) {
				t.Fatalf("claimed %v, want %v", ids, want)
			}
			c.t = c.t.Add(time.Millisecond)
		}
	})
}
