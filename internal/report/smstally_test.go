package report_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/report"
	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// smsWorld drives messages through the queue's real claim, record and
// receipt paths, with a test clock.
type smsWorld struct {
	*world
	q    *sms.Queue
	msgs map[string]sms.Message // claimed, by name
	ids  map[string]string      // message id by name
}

func (w *smsWorld) enqueue(t *testing.T, name, campaign, memberID string) {
	t.Helper()
	kind := sms.Transactional
	if campaign != "" {
		kind = sms.Marketing
	}
	id, err := sms.Enqueue(context.Background(), w.db.W, sms.Outbound{MemberID: memberID, To: "+447400900" + fmt.Sprintf("%03d", len(w.ids)),
		Body: "hello", Kind: kind, Purpose: "test", Campaign: campaign}, w.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	w.ids[name] = id
}

// claim claims every due message and files them by name.
func (w *smsWorld) claim(t *testing.T) {
	t.Helper()
	got, err := w.q.Claim(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range got {
		for name, id := range w.ids {
			if id == m.ID {
				w.msgs[name] = m
			}
		}
	}
}

func (w *smsWorld) sent(names ...string) []sms.SentResult {
	var rs []sms.SentResult
	for _, n := range names {
		rs = append(rs, sms.SentResult{Message: w.msgs[n], GatewayID: "gw-" + n, Segments: 1})
	}
	return rs
}

func receipt(name, state string, at time.Time) sms.Receipt {
	return sms.Receipt{GatewayID: "gw-" + name, State: state, At: at}
}

// smsTallyRows is sms_tally summed over shards, without the keys whose sums
// are all zero: "campaign hour sent delivered created_sent created_delivered".
func smsTallyRows(t *testing.T, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}) []string {
	t.Helper()
	rows, err := q.QueryContext(context.Background(), `SELECT campaign_id, hour, SUM(sent), SUM(delivered), SUM(created_sent), SUM(created_delivered)
		FROM sms_tally GROUP BY campaign_id, hour ORDER BY campaign_id, hour`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		var h, s, d, cs, cd int64
		if err := rows.Scan(&c, &h, &s, &d, &cs, &cd); err != nil {
			t.Fatal(err)
		}
		if s != 0 || d != 0 || cs != 0 || cd != 0 {
			out = append(out, fmt.Sprintf("%q %d %d %d %d %d", c, h, s, d, cs, cd))
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// recomputed is the tally that fill (a rebuild, or the migration's
// backfill) computes from sms_outbox, in a transaction rolled back after.
func recomputed(t *testing.T, db *store.DB, fill func(tx *sql.Tx) error) []string {
	t.Helper()
	tx, err := db.W.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`DELETE FROM sms_tally`); err != nil {
		t.Fatal(err)
	}
	if err := fill(tx); err != nil {
		t.Fatal(err)
	}
	return smsTallyRows(t, tx)
}

// backfill is migration 57's statements after the table's creation.
func backfill(t *testing.T, d store.Dialect) string {
	t.Helper()
	ms, err := store.Migrations(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Version == 57 {
			i := strings.Index(m.SQL, "INSERT INTO sms_tally")
			if i < 0 {
				t.Fatalf("%s has no backfill", m.Name)
			}
			return m.SQL[i:]
		}
	}
	t.Fatal("no migration 57")
	return ""
}

// rawSeries runs one of the campaign report's series queries.
func rawSeries(t *testing.T, db *store.DB, query, campaign string, from, to time.Time) map[int64]int64 {
	t.Helper()
	rows, err := db.R.Query(query, campaign, from, to)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	m := map[int64]int64{}
	for rows.Next() {
		var b, n, unused int64
		if err := rows.Scan(&b, &n, &unused); err != nil {
			t.Fatal(err)
		}
		m[b] = n
	}
	return m
}

// checkTally asserts that the kept tally is what a rebuild and the
// migration's backfill compute, and that the figures read from it are those
// read from the messages.
func (w *smsWorld) checkTally(t *testing.T, step string) {
	t.Helper()
	ctx := context.Background()
	d := w.db.Dialect
	kept := smsTallyRows(t, w.db.R)
	rebuilt := recomputed(t, w.db, func(tx *sql.Tx) error { return sms.RebuildTally(ctx, tx, d) })
	if fmt.Sprint(kept) != fmt.Sprint(rebuilt) {
		t.Fatalf("after %s: kept tally\n%s\nrebuilt\n%s", step, strings.Join(kept, "\n"), strings.Join(rebuilt, "\n"))
	}
	migrated := recomputed(t, w.db, func(tx *sql.Tx) error { _, err := tx.Exec(backfill(t, d)); return err })
	if fmt.Sprint(migrated) != fmt.Sprint(rebuilt) {
		t.Fatalf("after %s: migration's backfill\n%s\nrebuilt\n%s", step, strings.Join(migrated, "\n"), strings.Join(rebuilt, "\n"))
	}
	ranges := []struct{ from, to time.Time }{
		{t0.Add(-3 * time.Hour), t0.Add(6 * time.Hour)},                                  // whole hours
		{t0.Add(-90*time.Minute + 17*time.Second), t0.Add(4*time.Hour + 30*time.Minute)}, // partial hours at both ends
		{t0.Add(10 * time.Minute), t0.Add(40 * time.Minute)},                             // inside one hour
		{t0.Add(-30 * time.Minute), t0.Add(70 * time.Minute)},                            // two partial hours, no whole one
		{t0.Add(30 * time.Minute), t0.Add(30 * time.Minute)},                             // empty
		{t0.Add(-48 * time.Hour), t0.Add(48 * time.Hour)},                                // whole days
		{t0.Add(-26*time.Hour + 500*time.Millisecond), t0.Add(5*time.Hour + 59*time.Minute)},
	}
	for _, c := range []string{"cA", "cB", "", "none"} {
		for _, r := range ranges {
			for _, secs := range []int64{3600, 86400, 1800} {
				sent, delivered, err := w.reports.MessageSeries(ctx, d, c, r.from, r.to, secs)
				if err != nil {
					t.Fatal(err)
				}
				wantSent := rawSeries(t, w.db, report.SentSeries(d, secs), c, r.from, r.to)
				wantDelivered := rawSeries(t, w.db, report.DeliveredSeries(d, secs), c, r.from, r.to)
				if !maps.Equal(sent, wantSent) || !maps.Equal(delivered, wantDelivered) {
					t.Fatalf("after %s: campaign %q [%s, %s) by %d s: sent %v delivered %v, the messages say %v and %v",
						step, c, r.from.Format(time.TimeOnly), r.to.Format(time.TimeOnly), secs, sent, delivered, wantSent, wantDelivered)
				}
			}
		}
	}
	for _, since := range []time.Time{
		t0.Add(-30 * 24 * time.Hour), t0.Add(-3 * time.Hour), t0.Add(-30 * time.Minute), t0,
		t0.Add(30 * time.Minute), t0.Add(time.Hour + 45*time.Minute), t0.Add(17 * time.Second), t0.Add(5 * time.Hour),
		t0.Add(3*time.Hour + 5*time.Minute), t0.Add(3*time.Hour + 30*time.Minute), // around the message due before it was created
	} {
		sent, delivered, err := report.SMSToday(ctx, w.db, since)
		if err != nil {
			t.Fatal(err)
		}
		var wantSent, wantDelivered int64
		if err := w.db.R.QueryRow(`SELECT COUNT(*), COALESCE(SUM(CASE WHEN delivery_state = 'delivered' THEN 1 ELSE 0 END), 0)
			FROM sms_outbox WHERE status = 'sent' AND send_after >= $1 AND created_at >= $1`, since).Scan(&wantSent, &wantDelivered); err != nil {
			t.Fatal(err)
		}
		if sent != wantSent || delivered != wantDelivered {
			t.Fatalf("after %s: since %s: %d sent, %d delivered; the messages say %d and %d", step, since, sent, delivered, wantSent, wantDelivered)
		}
	}
}

// The tally kept by the queue is what rebuilding it from the messages
// gives, step by step through sends, failures, holds, repeated, early and
// contrary receipts and erasure, and the SMS figures read from it are those
// the queries over the messages give, for ranges and days that do not start
// on the hour.
func TestSMSTally_KeptByTheQueueEqualsTheMessages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		base := newWorld(t, db, ledger.Policy{})
		w := &smsWorld{world: base, q: sms.NewQueue(db, base.clock.Now, time.Minute, 3), msgs: map[string]sms.Message{}, ids: map[string]string{}}
		ann := w.enrol(t, "+447400100001", true)
		at := func(d time.Duration) time.Time { return t0.Add(d) }
		steps := []struct {
			name string
			at   time.Duration // the clock
			do   func(t *testing.T)
		}{
			{"queued, nothing sent", -50 * time.Minute, func(t *testing.T) {
				for _, n := range []string{"a1", "a2", "a3", "a4"} {
					w.enqueue(t, n, "cA", "")
				}
				w.enqueue(t, "b1", "cB", "")
				w.enqueue(t, "b2", "cB", "")
				w.enqueue(t, "t1", "", "")
				w.enqueue(t, "ann1", "cA", ann.ID)
			}},
			{"sent an hour later than created; one failed for good", -5 * time.Minute, func(t *testing.T) {
				w.claim(t)
				if err := w.q.SentBatch(ctx, w.sent("a1", "a2", "a3", "b1", "t1", "ann1")); err != nil {
					t.Fatal(err)
				}
				if err := w.q.Fail(ctx, w.msgs["b2"], errors.New("rejected")); err != nil {
					t.Fatal(err)
				}
			}},
			{"receipts, one repeated in its batch and one undelivered", 10 * time.Minute, func(t *testing.T) {
				err := w.q.DeliveredBatch(ctx, []sms.Receipt{receipt("a1", sms.Delivered, at(9*time.Minute)),
					receipt("a2", sms.Delivered, at(9*time.Minute)), receipt("a1", sms.Delivered, at(9*time.Minute)),
					receipt("a3", sms.Undeliv, at(9*time.Minute)), receipt("t1", sms.Delivered, at(8*time.Minute)),
					receipt("ann1", sms.Delivered, at(7*time.Minute))})
				if err != nil {
					t.Fatal(err)
				}
			}},
			{"a receipt repeated later, one turning from delivered, one to it in a later hour", 65 * time.Minute, func(t *testing.T) {
				for _, r := range []sms.Receipt{receipt("a1", sms.Delivered, at(64*time.Minute)), receipt("a2", sms.Expired, at(64*time.Minute)),
					receipt("a3", sms.Delivered, at(63*time.Minute))} {
					if err := w.q.Delivered(ctx, r); err != nil {
						t.Fatal(err)
					}
				}
			}},
			{"an early receipt kept in the table", 70 * time.Minute, func(t *testing.T) {
				w.claim(t) // a4, created an hour and a half ago
				if err := w.q.Delivered(ctx, receipt("a4", sms.Delivered, at(70*time.Minute))); err != nil {
					t.Fatal(err)
				}
				if err := w.q.SentBatch(ctx, w.sent("a4")); err != nil {
					t.Fatal(err)
				}
			}},
			{"an early receipt waiting in memory, and sends and receipts committed together", 2*time.Hour + 20*time.Minute, func(t *testing.T) {
				for _, n := range []string{"a5", "a6", "a7", "a8"} {
					w.enqueue(t, n, "cA", "")
				}
				w.claim(t)
				w.q.Accepting("gw-a5")
				done := make(chan error, 3)
				go func() { done <- w.q.Delivered(ctx, receipt("a5", sms.Delivered, at(2*time.Hour+20*time.Minute))) }()
				time.Sleep(20 * time.Millisecond) // the receipt parks (or, if late, finds the message sent)
				go func() { done <- w.q.SentBatch(ctx, w.sent("a6", "a7", "a8")) }()
				go func() {
					done <- w.q.DeliveredBatch(ctx, []sms.Receipt{receipt("a6", sms.Delivered, at(2*time.Hour+21*time.Minute)),
						receipt("a7", sms.Undeliv, at(2*time.Hour+21*time.Minute))})
				}()
				if err := w.q.SentBatch(ctx, w.sent("a5")); err != nil {
					t.Fatal(err)
				}
				for range 3 {
					if err := <-done; err != nil {
						t.Fatal(err)
					}
				}
				if err := w.q.Delivered(ctx, receipt("a8", sms.Delivered, at(3*time.Hour+5*time.Minute))); err != nil {
					t.Fatal(err)
				}
			}},
			{"held, cancelled, deferred and retried messages, a campaign held and released", 3*time.Hour + 30*time.Minute, func(t *testing.T) {
				for _, n := range []string{"b3", "b4", "b5", "b6", "b7"} {
					w.enqueue(t, n, "cB", "")
				}
				if _, err := sms.HoldCampaign(ctx, db.W, "cB", sms.ReasonCampaignPaused); err != nil {
					t.Fatal(err)
				}
				if _, err := sms.ReleaseCampaign(ctx, db.W, "cB", sms.ReasonCampaignPaused, w.clock.Now()); err != nil {
					t.Fatal(err)
				}
				w.claim(t)
				if err := w.q.Hold(ctx, w.msgs["b3"], "opted_out"); err != nil {
					t.Fatal(err)
				}
				if err := w.q.Cancel(ctx, w.msgs["b4"], sms.ReasonTooLate); err != nil {
					t.Fatal(err)
				}
				if err := w.q.Defer(ctx, w.msgs["b5"], "quiet_hours", w.clock.Now().Add(50*time.Minute)); err != nil {
					t.Fatal(err)
				}
				if _, err := w.q.Retry(ctx, w.msgs["b6"], errors.New("throttled")); err != nil {
					t.Fatal(err)
				}
				if err := w.q.SentBatch(ctx, w.sent("b7")); err != nil {
					t.Fatal(err)
				}
			}},
			{"deferred and retried ones sent in later hours; a receipt for no message", 4*time.Hour + 25*time.Minute, func(t *testing.T) {
				w.claim(t)
				if err := w.q.SentBatch(ctx, w.sent("b5", "b6")); err != nil {
					t.Fatal(err)
				}
				if err := w.q.DeliveredBatch(ctx, []sms.Receipt{receipt("b5", sms.Delivered, at(5*time.Hour+2*time.Minute)),
					receipt("b6", sms.Delivered, at(4*time.Hour+26*time.Minute)), receipt("nobody", sms.Delivered, at(4*time.Hour))}); err != nil {
					t.Fatal(err)
				}
			}},
			{"a member erased, with a queued message and sent ones", 4*time.Hour + 40*time.Minute, func(t *testing.T) {
				w.enqueue(t, "ann2", "cA", ann.ID)
				if err := w.members.Erase(ctx, ann.ID); err != nil {
					t.Fatal(err)
				}
				if st := w.count(t, `SELECT COUNT(*) FROM sms_outbox WHERE member_id = $1 AND status = 'cancelled'`, ann.ID); st != 1 {
					t.Fatalf("%d of the erased member's messages cancelled, want 1", st)
				}
			}},
			{"a message sent by a sender whose clock runs behind: due before it was created", 4*time.Hour + 50*time.Minute, func(t *testing.T) {
				w.enqueue(t, "s1", "cA", "")
				w.claim(t)
				if err := w.q.Defer(ctx, w.msgs["s1"], "quiet_hours", at(3*time.Hour)); err != nil {
					t.Fatal(err)
				}
				behind := sms.NewQueue(db, func() time.Time { return at(3*time.Hour + 10*time.Minute) }, time.Minute, 3)
				got, err := behind.Claim(ctx, 10)
				if err != nil || len(got) != 1 || got[0].ID != w.ids["s1"] {
					t.Fatalf("Claim = %v, %v", got, err)
				}
				if err := behind.SentBatch(ctx, []sms.SentResult{{Message: got[0], GatewayID: "gw-s1", Segments: 1}}); err != nil {
					t.Fatal(err)
				}
				if err := behind.Delivered(ctx, receipt("s1", sms.Delivered, at(3*time.Hour+11*time.Minute))); err != nil {
					t.Fatal(err)
				}
			}},
		}
		for _, s := range steps {
			w.clock.Set(at(s.at))
			s.do(t)
			w.checkTally(t, s.name)
		}
		// The figures moved: the test saw sends, deliveries and their undoing.
		if n := w.count(t, `SELECT COUNT(*) FROM sms_outbox WHERE status = 'sent' AND delivery_state = 'delivered'`); n < 6 {
			t.Fatalf("%d messages delivered at the end", n)
		}
	})
}
