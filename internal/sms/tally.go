package sms

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/perk-platform/perk/internal/store"
)

// The sms_tally roll-up (migration 0057) counts sent and delivered messages
// per campaign and UTC hour, so the campaign report's series and the
// overview read a row per hour instead of an index entry per message.
//
// Only the recorder (record.go) changes what it counts: a message's status
// becomes 'sent' (and sent_at is set) in updateSent, and delivery_state and
// delivered_at change in updateReceipts and applyEarlyReceipts. Every other
// UPDATE of sms_outbox (claim, settle, campaign hold and release, the
// router's opt-out hold, erasure) only changes messages that are not sent,
// between states the tally does not count, and nothing deletes messages.
//
// The recorder adds, in the same transaction, the change it made: for each
// message it touched, the message's contribution after the last statement
// that changed it, less its contribution before the first. Counting that
// difference, rather than what each receipt says, is what keeps a repeated
// receipt from counting twice (its second application changes nothing), a
// receipt moving a message away from delivered from leaving it counted, and
// a message changed twice in one transaction (an acceptance and its early
// receipt) from counting its first state. A round costs two statements
// more, whatever its size: one reading, before anything changes, the state
// of the messages its gateway ids name (a message being sent counts nothing
// before, and the UPDATEs' RETURNING gives the state after), and one adding
// the differences, summed per campaign and hour in memory.

// hourOf is the tally's hour of the timestamp column col.
func hourOf(d store.Dialect, col string) string { return d.EpochBucket(col, 3600) }

// createdHourOf is the hour the overview's row counts a message in: that of
// the earlier of its created_at and send_after, since it counts the messages
// with both at or after the start of the day. NULL when either is NULL (the
// overview's comparisons leave such a message out).
func createdHourOf(d store.Dialect, t string) string {
	c, s := hourOf(d, t+"created_at"), hourOf(d, t+"send_after")
	if d == store.Postgres {
		// LEAST skips a NULL rather than answering NULL.
		return "CASE WHEN " + t + "created_at IS NULL OR " + t + "send_after IS NULL THEN NULL ELSE LEAST(" + c + ", " + s + ") END"
	}
	return "MIN(" + c + ", " + s + ")" // NULL if either is
}

// tallyColumns is the select list tallyState scans, of the sms_outbox row
// qualified by t ("sms_outbox." or "").
func tallyColumns(d store.Dialect, t string) string {
	return t + "campaign_id, " + t + "status, " + t + "delivery_state, " + hourOf(d, t+"sent_at") + ", " +
		hourOf(d, t+"delivered_at") + ", " + createdHourOf(d, t)
}

// tallyState is what the tally counts of one message.
type tallyState struct {
	campaign, status, delivery string
	sentHour, deliveredHour    sql.NullInt64
	createdHour                sql.NullInt64
}

// dest is the scan destinations of tallyColumns.
func (s *tallyState) dest() []any {
	return []any{&s.campaign, &s.status, &s.delivery, &s.sentHour, &s.deliveredHour, &s.createdHour}
}

type tallyKey struct {
	campaign string
	hour     int64
}

type tallyCounts struct{ sent, delivered, createdSent, createdDelivered int64 }

// add adds sign times the message's contribution to t: the rebuild's
// statement (rebuildTallySQL) counts the same.
func (s tallyState) add(t map[tallyKey]tallyCounts, sign int64) {
	if s.status != StatusSent {
		return
	}
	delivered := s.delivery == Delivered
	if s.sentHour.Valid {
		k := tallyKey{s.campaign, s.sentHour.Int64}
		c := t[k]
		c.sent += sign
		t[k] = c
	}
	if delivered && s.deliveredHour.Valid {
		k := tallyKey{s.campaign, s.deliveredHour.Int64}
		c := t[k]
		c.delivered += sign
		t[k] = c
	}
	if s.createdHour.Valid {
		k := tallyKey{s.campaign, s.createdHour.Int64}
		c := t[k]
		c.createdSent += sign
		if delivered {
			c.createdDelivered += sign
		}
		t[k] = c
	}
}

// tallyChange follows the messages one transaction changes: each one's
// state before the first change and after the last.
type tallyChange struct {
	before, after map[string]tallyState // by message id
}

func newTallyChange() *tallyChange {
	return &tallyChange{before: map[string]tallyState{}, after: map[string]tallyState{}}
}

// seen records a message's state before this transaction changes it; a
// message already seen keeps its first state.
func (c *tallyChange) seen(id string, s tallyState) {
	if _, ok := c.before[id]; !ok {
		c.before[id] = s
	}
}

// changed records a message's state after a change; its state before must
// have been seen.
func (c *tallyChange) changed(id string, s tallyState) error {
	if _, ok := c.before[id]; !ok {
		return fmt.Errorf("sms tally: message %s changed before its state was read", id)
	}
	c.after[id] = s
	return nil
}

// deliveryColumns is the select list of what a receipt changes, which
// delivered scans: the rest of the message's state is as seen before.
func deliveryColumns(d store.Dialect, t string) string {
	return t + "delivery_state, " + hourOf(d, t+"delivered_at")
}

// delivered records a receipt's change to a message seen before: its
// delivery state and the hour of delivered_at.
func (c *tallyChange) delivered(id, state string, hour sql.NullInt64) error {
	s, ok := c.after[id]
	if !ok {
		if s, ok = c.before[id]; !ok {
			return fmt.Errorf("sms tally: message %s changed before its state was read", id)
		}
	}
	s.delivery, s.deliveredHour = state, hour
	c.after[id] = s
	return nil
}

// delta is the change to add to the tally, without the keys it leaves as
// they were, in key order.
func (c *tallyChange) delta() []tallyRow {
	t := make(map[tallyKey]tallyCounts, 2*len(c.after))
	for id, s := range c.after {
		s.add(t, 1)
		c.before[id].add(t, -1)
	}
	rows := make([]tallyRow, 0, len(t))
	for k, n := range t {
		if n != (tallyCounts{}) {
			rows = append(rows, tallyRow{k, n})
		}
	}
	slices.SortFunc(rows, func(a, b tallyRow) int {
		return cmp.Or(strings.Compare(a.key.campaign, b.key.campaign), cmp.Compare(a.key.hour, b.key.hour))
	})
	return rows
}

type tallyRow struct {
	key tallyKey
	n   tallyCounts
}

// tallyBeforeSQL reads the state of the messages whose gateway ids $1
// lists (store.Dialect.TextList): the look-ups mostly find nothing (see
// commitRound), so binding an id a parameter would cost more than them.
func tallyBeforeSQL(d store.Dialect) string {
	return `SELECT id, ` + tallyColumns(d, "") + ` FROM sms_outbox WHERE gateway_message_id IN (` + d.TextList("$1") + `)`
}

// tallySQL adds size rows to the tally, in key order so that two
// transactions never take the same rows' locks in opposite orders.
func tallySQL(d store.Dialect, size int) string {
	shard := "0" // SQLite has one writer
	if d == store.Postgres {
		// The backend's process id, unique among the open connections:
		// two writers never share a row, and an hour has at most a row per
		// connection that wrote in it.
		shard = "pg_backend_pid()"
	}
	var b strings.Builder
	b.WriteString(`INSERT INTO sms_tally (campaign_id, hour, shard, sent, delivered, created_sent, created_delivered)
		SELECT v.c, v.h, ` + shard + `, v.s, v.d, v.cs, v.cd FROM (`)
	unionRows(&b, size, 1, 6, func(b *strings.Builder, n int) {
		fmt.Fprintf(b, "CAST($%d AS TEXT) AS c, CAST($%d AS BIGINT) AS h, CAST($%d AS BIGINT) AS s, CAST($%d AS BIGINT) AS d, "+
			"CAST($%d AS BIGINT) AS cs, CAST($%d AS BIGINT) AS cd", n, n+1, n+2, n+3, n+4, n+5)
	})
	// The WHERE also lets SQLite parse ON CONFLICT after a SELECT.
	b.WriteString(`) AS v WHERE v.c IS NOT NULL ORDER BY v.c, v.h
		ON CONFLICT (campaign_id, hour, shard) DO UPDATE SET sent = sms_tally.sent + excluded.sent,
			delivered = sms_tally.delivered + excluded.delivered, created_sent = sms_tally.created_sent + excluded.created_sent,
			created_delivered = sms_tally.created_delivered + excluded.created_delivered`)
	return b.String()
}

// readTallyBefore records the state of the messages with gateway ids gids
// before the transaction changes them (commitRound reads them first).
func (q *Queue) readTallyBefore(ctx context.Context, tx *sql.Tx, tc *tallyChange, gids []string) error {
	if len(gids) == 0 {
		return nil
	}
	err := func() error {
		st, err := q.stmt(ctx, tx, "tallyBefore")
		if err != nil {
			return err
		}
		rows, err := st.QueryContext(ctx, q.db.Dialect.TextListArg(gids))
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
			tc.seen(id, s)
		}
		return rows.Err()
	}()
	if err != nil {
		return fmt.Errorf("sms tally: %w", err)
	}
	return nil
}

// writeTally adds the transaction's change to the tally.
func (q *Queue) writeTally(ctx context.Context, tx *sql.Tx, tc *tallyChange) error {
	rows := tc.delta()
	err := inChunks(len(rows), func(lo, hi, size int) error {
		st, err := q.stmt(ctx, tx, fmt.Sprint("tally", size))
		if err != nil {
			return err
		}
		args := make([]any, 0, 6*size)
		for _, r := range rows[lo:hi] {
			args = append(args, r.key.campaign, r.key.hour, r.n.sent, r.n.delivered, r.n.createdSent, r.n.createdDelivered)
		}
		for len(args) < cap(args) {
			args = append(args, nil)
		}
		_, err = st.ExecContext(ctx, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("sms tally: %w", err)
	}
	return nil
}

// rebuildTallySQL computes the tally from sms_outbox, counting what
// tallyState.add counts. Migration 0057 backfills with this statement.
func rebuildTallySQL(d store.Dialect) string {
	return `INSERT INTO sms_tally (campaign_id, hour, shard, sent, delivered, created_sent, created_delivered)
SELECT campaign_id, hour, 0, SUM(sent), SUM(delivered), SUM(created_sent), SUM(created_delivered) FROM (
    SELECT campaign_id, ` + hourOf(d, "sent_at") + ` AS hour, 1 AS sent, 0 AS delivered, 0 AS created_sent, 0 AS created_delivered
    FROM sms_outbox WHERE status = 'sent' AND sent_at IS NOT NULL
    UNION ALL
    SELECT campaign_id, ` + hourOf(d, "delivered_at") + `, 0, 1, 0, 0
    FROM sms_outbox WHERE status = 'sent' AND delivery_state = 'delivered' AND delivered_at IS NOT NULL
    UNION ALL
    SELECT campaign_id, ` + createdHourOf(d, "") + `, 0, 0, 1, CASE WHEN delivery_state = 'delivered' THEN 1 ELSE 0 END
    FROM sms_outbox WHERE status = 'sent' AND created_at IS NOT NULL AND send_after IS NOT NULL
) AS t
WHERE hour IS NOT NULL
GROUP BY campaign_id, hour`
}

// RebuildTally recomputes sms_tally from sms_outbox, for rows written
// other than through the queue (the benchmark's generated data set). It
// must run where nothing sends or records receipts meanwhile: in ex's
// transaction, or with the database otherwise idle.
func RebuildTally(ctx context.Context, ex store.Execer, d store.Dialect) error {
	if _, err := ex.ExecContext(ctx, `DELETE FROM sms_tally`); err != nil {
		return fmt.Errorf("sms tally: rebuild: %w", err)
	}
	if _, err := ex.ExecContext(ctx, rebuildTallySQL(d)); err != nil {
		return fmt.Errorf("sms tally: rebuild: %w", err)
	}
	return nil
}
