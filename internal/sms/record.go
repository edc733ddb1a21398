package sms

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/perk-platform/perk/internal/change"
	"github.com/perk-platform/perk/internal/event"
	"github.com/perk-platform/perk/internal/store"
)

// The queue records acceptances (submit_sm_resp) and delivery receipts by
// group commit: whoever calls SentBatch or DeliveredBatch while a commit
// is under way waits, and the next commit takes every waiting call
// together, in one transaction, before any of them returns. A busy SMSC
// sends thousands of receipts a second; one transaction each made the
// commit rate the limit.
//
// A receipt can arrive before its acceptance is recorded (the SMSC sends it
// right after the submit_sm_resp). If this process's sender holds that
// acceptance (Accepting), the receipt waits in memory, unacknowledged,
// for the commit that records it; otherwise it is stored in
// sms_early_receipts for whichever process records the acceptance. Either
// way a receipt is stored before its call returns, so before the SMSC is
// acknowledged.
type recorder struct {
	mu        sync.Mutex
	waiting   []*recordCall               // guarded by mu
	running   bool                        // guarded by mu; a caller is committing
	accepting map[string]int              // guarded by mu; gateway id -> acceptances held by this process's sender
	parked    map[string][]pendingReceipt // guarded by mu; receipts waiting for an acceptance in accepting
}

// recordCall is one SentBatch or DeliveredBatch waiting to be committed.
type recordCall struct {
	sent     []SentResult
	receipts []Receipt
	left     int   // receipts not yet stored; guarded by recorder.mu
	lost     int   // acceptances whose claim was lost
	err      error // guarded by recorder.mu until done is closed
	done     chan struct{}
	closed   bool // guarded by recorder.mu
}

type pendingReceipt struct {
	r    Receipt
	call *recordCall
}

// finish ends c with err (nil once all its receipts are stored); mu held.
func (c *recordCall) finish(err error) {
	if c.closed {
		return
	}
	if err != nil {
		c.err = err
	}
	c.closed = true
	close(c.done)
}

// Accepting tells the queue that this process's sender holds an accepted
// message with gateway id gid and will record it with SentBatch: a receipt
// for it that arrives first then waits in memory for that record instead
// of taking the sms_early_receipts detour.
func (q *Queue) Accepting(gid string) {
	q.rec.mu.Lock()
	defer q.rec.mu.Unlock()
	q.rec.accepting[gid]++
}

// record commits sent and receipts with whatever else is waiting, and
// returns once they are stored.
func (q *Queue) record(ctx context.Context, sent []SentResult, receipts []Receipt) (lost int, err error) {
	g := &q.rec
	c := &recordCall{sent: sent, receipts: receipts, left: len(receipts), done: make(chan struct{})}
	g.mu.Lock()
	g.waiting = append(g.waiting, c)
	if g.running {
		g.mu.Unlock()
		<-c.done
		return c.lost, c.err
	}
	g.running = true
	for len(g.waiting) > 0 {
		round := g.waiting
		g.waiting = nil
		g.mu.Unlock()
		// The round holds other callers' acceptances and receipts: the
		// leader's cancellation (a shutdown) must not fail them, or the SMSC
		// redelivers and the last window is sent again after a restart.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		q.commitRound(rctx, round)
		cancel()
		g.mu.Lock()
	}
	g.running = false
	g.mu.Unlock()
	// Our receipts may be parked for an acceptance a later round records.
	<-c.done
	return c.lost, c.err
}

// commitRound stores one round's acceptances and receipts in a transaction.
func (q *Queue) commitRound(ctx context.Context, round []*recordCall) {
	g := &q.rec
	if err := q.prepare(ctx); err != nil {
		g.mu.Lock()
		for _, c := range round {
			c.finish(err)
		}
		g.mu.Unlock()
		return
	}
	var sent []SentResult
	var owner []*recordCall // of each acceptance
	var rs []pendingReceipt
	for _, c := range round {
		for _, s := range c.sent {
			sent = append(sent, s)
			owner = append(owner, c)
		}
		for _, r := range c.receipts {
			rs = append(rs, pendingReceipt{r, c})
		}
	}
	inRound := map[string]bool{}
	g.mu.Lock()
	for _, s := range sent {
		inRound[s.GatewayID] = true
		if ps, ok := g.parked[s.GatewayID]; ok {
			rs = append(rs, ps...)
			delete(g.parked, s.GatewayID)
		}
	}
	g.mu.Unlock()

	now := q.utc()
	var kept map[string]bool
	var matched map[string]bool
	var park, early []pendingReceipt
	var parkedAt map[int]bool // index in rs of each receipt parked
	counts := map[string]int{}
	err := q.db.Tx(ctx, func(tx *sql.Tx) error {
		tc := newTallyChange()
		ids := make([]string, 0, len(sent)+len(rs))
		for _, s := range sent {
			ids = append(ids, s.GatewayID)
		}
		for _, p := range rs {
			ids = append(ids, p.r.GatewayID)
		}
		if err := q.lockGatewayIDs(ctx, tx, ids); err != nil {
			return err
		}
		// Before anything changes: every message this round's receipts can
		// change either has its gateway id already (read here) or is given
		// it by updateSent below, from 'sending', which counts nothing. A
		// receipt that came with its acceptance finds no message yet.
		// A receipt's gateway id is usually also that of an acceptance in
		// the round: each is looked up once.
		uniq := slices.Clone(ids)
		slices.Sort(uniq)
		if err := q.readTallyBefore(ctx, tx, tc, slices.Compact(uniq)); err != nil {
			return err
		}
		var err error
		if kept, err = q.updateSent(ctx, tx, tc, sent, now); err != nil {
			return fmt.Errorf("sms sent: %w", err)
		}
		var es []smsEvent
		for _, s := range sent {
			if kept[s.Message.ID] {
				es = append(es, smsEvent{typ: event.SMSSent, messageID: s.Message.ID, memberID: s.Message.MemberID,
					campaign: s.Message.Campaign, detail: s.Message.Purpose, at: now})
			}
		}
		if err := recordSMS(ctx, tx, q.db.Dialect, es); err != nil {
			return fmt.Errorf("sms sent: %w", err)
		}
		if len(sent) > 0 {
			gids := make([]string, len(sent))
			for i, s := range sent {
				gids[i] = s.GatewayID
			}
			applied, err := q.applyEarlyReceipts(ctx, tx, tc, gids)
			if err != nil {
				return fmt.Errorf("sms sent: %w", err)
			}
			for state, n := range applied {
				counts[state] += n
			}
		}
		if matched, err = q.updateReceipts(ctx, tx, tc, rs); err != nil {
			return err
		}
		if err := q.writeTally(ctx, tx, tc); err != nil {
			return err
		}
		g.mu.Lock()
		park, early, parkedAt = park[:0], early[:0], map[int]bool{}
		for i, p := range rs {
			switch {
			case matched[p.r.GatewayID]:
				counts[p.r.State]++
			case !inRound[p.r.GatewayID] && g.accepting[p.r.GatewayID] > 0:
				park = append(park, p)
				parkedAt[i] = true
			default:
				early = append(early, p)
				counts[receiptUnmatched]++
			}
		}
		g.mu.Unlock()
		return q.storeEarly(ctx, tx, early)
	})
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, s := range sent {
		if g.accepting[s.GatewayID]--; g.accepting[s.GatewayID] <= 0 {
			delete(g.accepting, s.GatewayID)
		}
	}
	if err != nil {
		for _, c := range round {
			c.finish(err)
		}
		for _, p := range rs {
			p.call.finish(err)
		}
		return
	}
	for state, n := range counts {
		q.metrics.receipt(state, n)
	}
	for i, s := range sent {
		if !kept[s.Message.ID] {
			owner[i].lost++
		}
	}
	for _, p := range park {
		g.parked[p.r.GatewayID] = append(g.parked[p.r.GatewayID], p)
	}
	stored := func(c *recordCall) {
		if c.left--; c.left <= 0 {
			c.finish(nil)
		}
	}
	for i, p := range rs {
		if !parkedAt[i] {
			stored(p.call)
		}
	}
	for _, c := range round {
		if c.left <= 0 {
			c.finish(nil)
		}
	}
}

// Statements over many rows are built for a few fixed row counts, the
// last rows padded with NULLs that match nothing, so each is parsed and
// prepared once rather than once for every count a batch happens to have.
var rowCounts = []int{1, 4, 16, 64, 256}

// inChunks calls f for rows [lo, hi) of n in chunks of at most the largest
// row count, with size the row count to build the statement for.
func inChunks(n int, f func(lo, hi, size int) error) error {
	most := rowCounts[len(rowCounts)-1]
	for lo := 0; lo < n; lo += most {
		hi := min(lo+most, n)
		size := most
		for _, s := range rowCounts {
			if s >= hi-lo {
				size = s
				break
			}
		}
		if err := f(lo, hi, size); err != nil {
			return err
		}
	}
	return nil
}

// stmt returns the statement named key, prepared once on the queue's
// database (see prepare), for use in tx.
func (q *Queue) stmt(ctx context.Context, tx *sql.Tx, key string) (*sql.Stmt, error) {
	s, ok := q.stmts.Load(key)
	if !ok {
		return nil, fmt.Errorf("sms: statement %s not prepared", key)
	}
	return tx.StmtContext(ctx, s.(*sql.Stmt)), nil
}

// prepare prepares the queue's statements, once. It must run outside a
// transaction: on SQLite the writer's one connection is the transaction's.
func (q *Queue) prepare(ctx context.Context) error {
	q.prepMu.Lock()
	defer q.prepMu.Unlock()
	if q.prepared {
		return nil
	}
	texts := map[string]string{"claim": q.claimSQL(), "tallyBefore": tallyBeforeSQL(q.db.Dialect)}
	if q.db.Dialect == store.Postgres {
		texts["lock"] = fmt.Sprintf(`SELECT pg_advisory_xact_lock(%d, hashtext(u.k)) FROM unnest($1::text[]) WITH ORDINALITY AS u(k, n)
			ORDER BY u.n`, gatewayIDLocks)
	}
	for _, size := range rowCounts {
		texts[fmt.Sprint("sent", size)] = sentSQL(q.db.Dialect, size)
		texts[fmt.Sprint("tally", size)] = tallySQL(q.db.Dialect, size)
		texts[fmt.Sprint("receipts", size)] = receiptsSQL(q.db.Dialect, size)
		texts[fmt.Sprint("early", size)] = `SELECT gateway_message_id, state, at FROM sms_early_receipts WHERE gateway_message_id IN (` +
			q.db.Dialect.Placeholders(1, size) + `)`
	}
	for key, text := range texts {
		st, err := q.db.W.PrepareContext(ctx, text)
		if err != nil {
			return fmt.Errorf("sms: prepare %s: %w", key, err)
		}
		q.stmts.Store(key, st)
	}
	q.prepared = true
	return nil
}

// sentSQL marks size accepted messages sent ($1 the time), returning what
// the tally counts of each.
func sentSQL(d store.Dialect, size int) string {
	var b strings.Builder
	b.WriteString(`UPDATE sms_outbox SET status = 'sent', gateway_message_id = v.gid, segments = v.seg, sent_at = $1,
			attempts = attempts + 1, last_error = '' FROM (`)
	unionRows(&b, size, 2, 4, func(b *strings.Builder, n int) {
		fmt.Fprintf(b, "$%d AS id, $%d AS tok, $%d AS gid, CAST($%d AS INTEGER) AS seg", n, n+1, n+2, n+3)
	})
	b.WriteString(`) AS v WHERE sms_outbox.id = v.id AND sms_outbox.status = 'sending' AND sms_outbox.claim_token = v.tok
			RETURNING sms_outbox.id, ` + tallyColumns(d, "sms_outbox."))
	return b.String()
}

// receiptsSQL applies size receipts.
func receiptsSQL(d store.Dialect, size int) string {
	var b strings.Builder
	b.WriteString(`UPDATE sms_outbox SET delivery_state = v.state, delivered_at = v.at FROM (`)
	unionRows(&b, size, 1, 3, func(b *strings.Builder, n int) {
		fmt.Fprintf(b, "$%d AS gid, $%d AS state, %s AS at", n, n+1, d.TimeParam(fmt.Sprintf("$%d", n+2)))
	})
	b.WriteString(`) AS v WHERE sms_outbox.gateway_message_id = v.gid
			RETURNING sms_outbox.gateway_message_id, sms_outbox.id, sms_outbox.member_id, sms_outbox.campaign_id, ` +
		deliveryColumns(d, "sms_outbox."))
	return b.String()
}

// unionRows is the SELECTs of a derived table of size rows, UNION ALL:
// SQLite cannot name the columns of a VALUES list. row writes one row's
// select list given its first parameter number.
func unionRows(b *strings.Builder, size, first, per int, row func(b *strings.Builder, n int)) {
	for i := range size {
		if i > 0 {
			b.WriteString(" UNION ALL ")
		}
		b.WriteString("SELECT ")
		row(b, first+i*per)
	}
}

// updateSent marks accepted messages sent and returns the ids of those
// whose claim still held. Those were 'sending', which the tally does not
// count, so their state before needs no reading.
func (q *Queue) updateSent(ctx context.Context, tx *sql.Tx, tc *tallyChange, sent []SentResult, now time.Time) (map[string]bool, error) {
	kept := map[string]bool{}
	err := inChunks(len(sent), func(lo, hi, size int) error {
		st, err := q.stmt(ctx, tx, fmt.Sprint("sent", size))
		if err != nil {
			return err
		}
		args := make([]any, 1, 1+4*size)
		args[0] = now
		for _, r := range sent[lo:hi] {
			args = append(args, r.Message.ID, r.Message.token, r.GatewayID, r.Segments)
		}
		for len(args) < cap(args) {
			args = append(args, nil)
		}
		rows, err := st.QueryContext(ctx, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var s tallyState
			if err := rows.Scan(append([]any{&id}, s.dest()...)...); err != nil {
				return err
			}
			kept[id] = true
			tc.seen(id, tallyState{})
			if err := tc.changed(id, s); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	return kept, err
}

// updateReceipts applies receipts to the messages their gateway ids name,
// reporting each change, and returns the gateway ids it matched.
func (q *Queue) updateReceipts(ctx context.Context, tx *sql.Tx, tc *tallyChange, rs []pendingReceipt) (map[string]bool, error) {
	matched := map[string]bool{}
	var events []change.Event
	var es []smsEvent
	err := inChunks(len(rs), func(lo, hi, size int) error {
		st, err := q.stmt(ctx, tx, fmt.Sprint("receipts", size))
		if err != nil {
			return err
		}
		args := make([]any, 0, 3*size)
		for _, p := range rs[lo:hi] {
			args = append(args, p.r.GatewayID, p.r.State, p.r.At.UTC())
		}
		for len(args) < cap(args) {
			args = append(args, nil)
		}
		rows, err := st.QueryContext(ctx, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var g, id, campaign, state string
			var member sql.NullString
			var hour sql.NullInt64
			if err := rows.Scan(&g, &id, &member, &campaign, &state, &hour); err != nil {
				return err
			}
			if err := tc.delivered(id, state, hour); err != nil {
				return err
			}
			matched[g] = true
			events = appendReceiptEvent(events, id, member.String, state)
			if typ := receiptEvent(state); typ != "" {
				es = append(es, smsEvent{typ: typ, messageID: id, memberID: member.String, campaign: campaign, detail: state,
					at: atOf(rs[lo:hi], g)})
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sms receipts: %w", err)
	}
	if err := change.Record(ctx, q.changes, tx, events...); err != nil {
		return nil, fmt.Errorf("sms receipts: %w", err)
	}
	if err := recordSMS(ctx, tx, q.db.Dialect, es); err != nil {
		return nil, fmt.Errorf("sms receipts: %w", err)
	}
	return matched, nil
}

// storeEarly keeps receipts whose message is not recorded as sent yet,
// for the SentBatch that records it (applyEarlyReceipts).
func (q *Queue) storeEarly(ctx context.Context, tx *sql.Tx, rs []pendingReceipt) error {
	for _, p := range rs {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sms_early_receipts WHERE gateway_message_id = $1`, p.r.GatewayID); err != nil {
			return fmt.Errorf("sms early receipt: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sms_early_receipts (gateway_message_id, state, at) VALUES ($1, $2, $3)`,
			p.r.GatewayID, p.r.State, p.r.At.UTC()); err != nil {
			return fmt.Errorf("sms early receipt: %w", err)
		}
	}
	return nil
}

// atOf is the time of the receipt for gateway id g.
func atOf(rs []pendingReceipt, g string) time.Time {
	for _, p := range rs {
		if p.r.GatewayID == g {
			return p.r.At
		}
	}
	return time.Time{}
}

// lockGatewayIDs serialises the receipt and the submit record of each
// message across processes. Without it, on PostgreSQL a receipt can miss
// the message (not yet committed) while the submit misses the receipt (not
// yet kept), and the receipt is stranded. SQLite's single writer already
// serialises them. The ids go as one array, so the statement is the same
// for any count; they are locked in sorted order, so two transactions
// never wait on each other in a cycle.
func (q *Queue) lockGatewayIDs(ctx context.Context, tx *sql.Tx, ids []string) error {
	if q.db.Dialect != store.Postgres || len(ids) == 0 {
		return nil
	}
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	st, err := q.stmt(ctx, tx, "lock")
	if err != nil {
		return fmt.Errorf("sms lock: %w", err)
	}
	rows, err := st.QueryContext(ctx, sorted)
	if err != nil {
		return fmt.Errorf("sms lock: %w", err)
	}
	for rows.Next() {
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sms lock: %w", err)
	}
	return nil
}

// gatewayIDLocks is the lock namespace of gateway message ids.
const gatewayIDLocks = 7357002
