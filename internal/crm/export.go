package crm

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/outfile"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/store"
)

// Errors callers branch on.
var (
	ErrCursorInvalid = problem.InvalidField("since", "cursor_invalid", nil, "is not a cursor an earlier CRM export gave")
	ErrUntilInvalid  = problem.InvalidField("until", "cursor_invalid", nil, "is not a cursor an earlier CRM export gave, or is before since")
	ErrUntilAhead    = problem.InvalidField("until", "cursor_ahead", nil, "is beyond what is final yet; use a cursor an export gave")
	// ErrCursorExpired: changes after the cursor were pruned (Prune), so
	// an export from it would miss them; the CRM re-reads its members
	// instead (the members API, or an export without since).
	ErrCursorExpired = problem.InvalidField("since", "cursor_expired", nil, "is older than the feed keeps (perk serve --crm-feed-retention); export without since and re-read members")
	ErrUnknownFeed   = problem.InvalidField("feed", "feed_unknown", nil, "is not a CRM feed (members, consents, transactions, lines, redemptions, returns, points, messages)")
)

// Exporter reads the CRM feed.
type Exporter struct {
	db  *store.DB
	now func() time.Time
}

// NewExporter returns an exporter; now stamps manifests (nil: the wall
// clock).
func NewExporter(db *store.DB, now func() time.Time) *Exporter {
	if now == nil {
		now = time.Now
	}
	return &Exporter{db: db, now: now}
}

// The cursor is opaque to the CRM: "c1", the engine's letter and a log
// position (LogPosition), so a cursor of one database is refused by another
// engine's.
func (e *Exporter) formatCursor(pos int64) string {
	return "c1." + string(e.db.Dialect)[:1] + "." + strconv.FormatInt(pos, 10)
}

func (e *Exporter) parseCursor(s string, bad error) (int64, error) {
	if s == "" {
		return 0, nil
	}
	rest, ok := strings.CutPrefix(s, "c1."+string(e.db.Dialect)[:1]+".")
	n, err := strconv.ParseInt(rest, 10, 64)
	if !ok || err != nil || n < 0 {
		return 0, bad
	}
	return n, nil
}

// Read is a consistent view of the feed between two cursors, in one read
// snapshot: every feed read through it covers the same changes.
type Read struct {
	e            *Exporter
	tx           *sql.Tx
	since, until int64
	// Since is the cursor the read starts from ("" = the beginning) and
	// Cursor the one to pass as since next time.
	Since, Cursor string
}

// Range chooses the changes a read covers.
type Range struct {
	Since string // a cursor an earlier export gave; "" = from the beginning
	Until string // a cursor an earlier read gave; "" = everything final now
	// Wait, when Until is "", is how long to wait for the transactions
	// that had written when the read began to end, so that their changes
	// are in it. After that the read goes ahead without them: they come
	// in the next one (nothing is lost, a long transaction only delays).
	Wait time.Duration
}

// DefaultWait is how long perk crm export and the API wait for writes in
// flight (Range.Wait).
const DefaultWait = 5 * time.Second

// Open starts a read of the changes in r. Close it.
func (e *Exporter) Open(ctx context.Context, r Range) (*Read, error) {
	since, until := r.Since, r.Until
	from, err := e.parseCursor(since, ErrCursorInvalid)
	if err != nil {
		return nil, err
	}
	to, err := e.parseCursor(until, ErrUntilInvalid)
	if err != nil {
		return nil, err
	}
	// A boundary read before the snapshot is a floor for the snapshot's own
	// (store.DB.WaitLog says why it is needed); a read up to a given until
	// waits for no one.
	wait := r.Wait
	if until != "" {
		wait = 0
	}
	floor, err := e.db.WaitLog(ctx, e.db.Dialect.LogBoundary(feedTable), wait)
	if err != nil {
		return nil, fmt.Errorf("crm export: %w", err)
	}
	tx, err := e.db.ReadSnapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("crm export: %w", err)
	}
	var final int64
	if err := tx.QueryRowContext(ctx, e.db.Dialect.LogBoundary(feedTable)).Scan(&final); err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("crm export: %w", err)
	}
	final = max(final, floor)
	if since != "" {
		var pruned int64
		err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(position), -1) FROM crm_feed_pruned`).Scan(&pruned)
		if err != nil {
			tx.Rollback()
			return nil, fmt.Errorf("crm export: %w", err)
		}
		if from <= pruned { // a row at from..pruned may be gone
			tx.Rollback()
			return nil, ErrCursorExpired
		}
	}
	switch {
	case until == "":
		to = max(final, from)
	case to < from:
		tx.Rollback()
		return nil, ErrUntilInvalid
	case to > final:
		tx.Rollback()
		return nil, ErrUntilAhead
	}
	return &Read{e: e, tx: tx, since: from, until: to, Since: since, Cursor: e.formatCursor(to)}, nil
}

// Close ends the read.
func (r *Read) Close() error { return r.tx.Rollback() }

// Each calls fn with every row of feed in the read, in change order.
func (r *Read) Each(ctx context.Context, feed string, fn func(outfile.Row) error) error {
	f := feeds[feed]
	if f == nil {
		return ErrUnknownFeed
	}
	d := r.e.db.Dialect
	pos := d.LogPosition()
	args := []any{r.since, r.until}
	key := func(name string) string {
		args = append(args, d.JSONFieldKey(name))
		return "$" + strconv.Itoa(len(args))
	}
	var extra, joins, order string
	if f.sql != nil {
		extra, joins, order = f.sql(d, key)
		extra = ", " + extra
	}
	q := `SELECT f.seq, f.type, f.member_id, COALESCE(f.external_id, m.external_id,
			(SELECT MAX(x.external_id) FROM ` + feedTable + ` x WHERE x.member_id = f.member_id AND x.type = 'member.erased'), ''),
			f.data, f.at` + extra + `
		FROM ` + feedTable + ` f LEFT JOIN members m ON m.id = f.member_id ` + joins + `
		WHERE f.` + pos + ` >= $1 AND f.` + pos + ` < $2 AND f.type IN ('` + strings.Join(f.types, "', '") + `')
		ORDER BY f.seq` + order
	rows, err := r.tx.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("crm export %s: %w", feed, err)
	}
	defer rows.Close()
	cols := Columns(feed)
	for rows.Next() {
		var c logRow
		var raw string
		var ex []any
		if f.scan != nil {
			ex = f.scan()
		}
		if err := rows.Scan(append([]any{&c.seq, &c.typ, &c.member, &c.external, &raw, &c.at}, ex...)...); err != nil {
			return fmt.Errorf("crm export %s: %w", feed, err)
		}
		if c.data, err = parseData(raw); err != nil {
			return fmt.Errorf("crm export %s: change %d: %w", feed, c.seq, err)
		}
		var ext any
		if c.external != "" {
			ext = c.external
		}
		for _, vals := range f.rows(&c, ex) {
			rec := record{cols: cols, vals: append([]any{c.seq, c.at, ext, c.member}, vals...)}
			if err := fn(rec); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("crm export %s: %w", feed, err)
	}
	return nil
}

// Write streams feed as CSV (with its header) or JSON Lines to w, and
// returns the number of rows.
func (r *Read) Write(ctx context.Context, feed string, format outfile.Format, w io.Writer) (int64, error) {
	if feeds[feed] == nil {
		return 0, ErrUnknownFeed
	}
	s := outfile.NewStream(w, format, Columns(feed))
	if err := r.Each(ctx, feed, s.Write); err != nil {
		return s.Rows(), err
	}
	return s.Rows(), s.Flush()
}

// Manifest describes one export folder; it is written last, so a folder
// without it holds an unfinished export.
type Manifest struct {
	Format     outfile.Format `json:"format"`
	Since      string         `json:"since"`  // the cursor the export started from ("" = the beginning)
	Cursor     string         `json:"cursor"` // pass as --since to the next export
	ExportedAt time.Time      `json:"exported_at"`
	Files      []outfile.Info `json:"files"`
}

// ManifestName is the manifest's file name in an export folder.
const ManifestName = "manifest.json"

// Export writes every feed's file (members.csv ... messages.csv, or .jsonl)
// into dir, then the manifest: the changes after since up to what is final
// now, having waited up to wait for writes in flight (Range.Wait). Each file appears under its name only when complete, and the
// manifest after them all.
func (e *Exporter) Export(ctx context.Context, dir, since string, format outfile.Format, wait time.Duration) (*Manifest, error) {
	r, err := e.Open(ctx, Range{Since: since, Wait: wait})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	m := &Manifest{Format: format, Since: since, Cursor: r.Cursor, ExportedAt: e.now().UTC()}
	var files []*outfile.File
	defer func() {
		for _, f := range files {
			f.Abort()
		}
	}()
	for _, feed := range Feeds {
		f, err := outfile.Create(dir, feed, format, Columns(feed))
		if err != nil {
			return nil, err
		}
		files = append(files, f)
		if err := r.Each(ctx, feed, f.Write); err != nil {
			return nil, err
		}
	}
	for _, f := range files {
		info, err := f.Finish()
		if err != nil {
			return nil, err
		}
		m.Files = append(m.Files, info)
	}
	if err := outfile.WriteManifest(dir, ManifestName, m); err != nil {
		return nil, err
	}
	return m, nil
}
