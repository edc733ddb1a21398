package batch

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/store"
)

// DefaultChunk is how many records commit in one database transaction when
// Options.Chunk is not set. A commit per basket was most of a file's time
// (BEGIN, COMMIT, the log write, and on PostgreSQL their round trips); past
// a few hundred the gain is small and a failure redoes more on re-sending.
const DefaultChunk = 250

// chunker commits records one after another, many to a database transaction
// (a store.Chunk), each in a savepoint of its own: a record the checkout
// refuses is rolled back alone and becomes a row error, the others stay. It
// hands the outcomes on in file order only once their chunk has committed,
// so a results file never reports a basket a failure then lost.
type chunker struct {
	ctx  context.Context
	p    *Processor
	mode Mode
	db   *store.DB
	size int
	at   time.Time         // the time of the record being committed
	co   *checkout.Service // the checkout on that clock
	// chunk is the open transaction, held the outcomes of its records.
	chunk *store.Chunk
	held  []done
}

func (p *Processor) newChunker(ctx context.Context, mode Mode) *chunker {
	c := &chunker{ctx: ctx, p: p, mode: mode, db: p.opt.DB, size: p.opt.Chunk}
	if c.size <= 0 {
		c.size = DefaultChunk
	}
	c.co = p.checkout.WithClock(func() time.Time { return c.at })
	return c
}

// submit commits rec in the current chunk (beginning one if needed) and,
// when the chunk is full or a record asked for it (store.AfterCommit),
// commits the chunk and hands its outcomes to handle.
func (c *chunker) submit(rec *Record, handle func(done) error) error {
	if c.chunk == nil {
		ch, err := c.db.BeginChunk(c.ctx)
		if err != nil {
			return err
		}
		c.chunk = ch
	}
	c.at = rec.At
	out, err := c.p.apply(c.chunk.Context(c.ctx), c.co, rec, c.mode)
	if err != nil && problem.KindOf(err) == problem.Internal {
		// The database failed: the chunk is lost, and with it this
		// file's last records, which sending it again restores.
		c.chunk.Rollback()
		c.chunk, c.held = nil, nil
		return fmt.Errorf("row %d: %w", rec.Row, err)
	}
	c.held = append(c.held, done{rec: rec, out: out, err: err})
	if len(c.held) >= c.size || c.chunk.Split() {
		return c.flush(handle)
	}
	return nil
}

// flush notes the members whose offers the chunk's records changed, commits
// the chunk and hands its outcomes on.
func (c *chunker) flush(handle func(done) error) error {
	if c.chunk == nil {
		return nil
	}
	ch, held := c.chunk, c.held
	c.chunk, c.held = nil, nil
	var keys [][2]string
	for i := range held {
		if d := &held[i]; d.err == nil && !d.out.replayed {
			s, t := d.rec.key()
			keys = append(keys, [2]string{s, t})
			d.noted = true
		}
	}
	if err := c.p.noteChanged(c.ctx, ch.Tx(), keys); err != nil {
		ch.Rollback()
		return err
	}
	if err := ch.Commit(); err != nil {
		return err
	}
	for _, d := range held {
		if err := handle(d); err != nil {
			return err
		}
	}
	return nil
}

// stop abandons a chunk left open by a failure.
func (c *chunker) stop() {
	if c.chunk != nil {
		c.chunk.Rollback()
		c.chunk = nil
	}
}

// noteChanged notes, in one statement per 400 records, that the members of
// these transactions (store, transaction id) have other offers now, for
// delta offer exports.
func (p *Processor) noteChanged(ctx context.Context, tx *sql.Tx, keys [][2]string) error {
	if p.opt.DB == nil {
		return nil
	}
	d := p.opt.DB.Dialect
	now := p.opt.Now().UTC()
	for len(keys) > 0 {
		n := min(len(keys), 400)
		var b strings.Builder
		b.WriteString(`INSERT INTO offer_changes (member_id, changed_at) SELECT DISTINCT member_id, ` + d.TimeParam(d.Placeholders(1, 1)) +
			` FROM baskets WHERE member_id IS NOT NULL AND (store_id, transaction_id) IN (VALUES `)
		args := []any{now}
		for i, k := range keys[:n] {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(" + d.Placeholders(len(args)+1, 2) + ")")
			args = append(args, k[0], k[1])
		}
		b.WriteString(`) ON CONFLICT (member_id) DO UPDATE SET changed_at = excluded.changed_at`)
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("note offer changes: %w", err)
		}
		keys = keys[n:]
	}
	return nil
}
