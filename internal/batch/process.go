package batch

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/tabular"
)

// Options configure a Processor.
type Options struct {
	Now func() time.Time // the time of records without one
	Log *slog.Logger
	// Workers commits this many baskets at once (default 1). A member's
	// sales stay in file order, and a return or void waits for everything
	// before it; but baskets of different shoppers may commit out of file
	// order, so which of them takes the last of a budget can differ from a
	// one-at-a-time run. 1 gives exactly what live tills sending the file's
	// baskets one after another would have got.
	Workers int
	// DB, if set, records which members' offers each record changed, at
	// processing time, for delta offer exports (a file's sales carry the
	// tills' earlier times). With one worker it also lets records commit
	// Chunk at a time in one database transaction.
	DB *store.DB
	// Chunk is how many records commit in one database transaction, each
	// in a savepoint of its own (default DefaultChunk), when Workers is 1
	// and DB is set; with more workers every record commits on its own.
	Chunk int
}

// Processor runs transaction files through the checkout.
type Processor struct {
	checkout *checkout.Service
	opt      Options
}

// NewProcessor returns a processor committing through co, the service the
// live API uses.
func NewProcessor(co *checkout.Service, opt Options) *Processor {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	return &Processor{checkout: co, opt: opt}
}

// Summary counts what a transaction file did. A record sent again (the same
// file re-sent) counts as Unchanged, not as Committed.
type Summary struct {
	Records   int `json:"records"`   // sales, returns and voids read well
	Committed int `json:"committed"` // recorded now
	Unchanged int `json:"unchanged"` // recorded by an earlier upload, left as they were
	Failed    int `json:"failed"`    // refused by the checkout (see the errors file)
	Conflicts int `json:"conflicts"` // a transaction id already recorded with another basket
	RowErrors int `json:"row_errors"`
	Breaches  int `json:"breaches"` // applied mode: rules the till's offers broke (reconciliation)
}

// Run is one transaction file to process.
type Run struct {
	Format Format
	Mode   Mode
	// Results receives one line per record (what each basket earned); nil
	// writes none. Errors receives the row-precise errors file (CSV "row,
	// column,reason"); nil writes none.
	Results, Errors io.Writer
	// Progress, if set, is told the summary so far after every record.
	Progress func(Summary)
	// Resume continues a run interrupted after the cursor: its records are
	// read past, its row errors not reported again, and Results and Errors
	// are taken to hold what the run wrote up to it (no headers again).
	Resume *Cursor
	// Checkpoint, if set, is called every CheckpointEvery records handled
	// (200 if zero), once Results and Errors hold everything up to the
	// cursor it is given.
	Checkpoint      func(Cursor) error
	CheckpointEvery int
}

// Cursor is how far a run of a file got: the first Records records are
// handled (committed or refused) and written to the results, and every
// row error up to row ErrorsRow is in the errors file; Summary counts
// exactly those.
type Cursor struct {
	Records   int     `json:"records"`
	ErrorsRow int     `json:"errors_row"`
	Summary   Summary `json:"summary"`
}

// Process reads in to the end, committing every record that reads well
// through the checkout and reporting every row that does not. Only a file
// that cannot be read at all (ErrUnreadable) or a failing database stops
// it; whatever was committed before stays, and sending the file again
// commits the rest and changes nothing else. On PostgreSQL the baskets
// commit asynchronously (store.WithAsyncCommit): a crash may lose the last
// of them, which the file sent again restores; Jobs record their end with
// an ordinary commit, so a job marked done is durable.
func (p *Processor) Process(ctx context.Context, in io.Reader, run Run) (Summary, error) {
	// A file is re-sent after a crash, so its baskets need not each wait
	// for the disk: the caller's next ordinary commit makes them durable.
	ctx = store.WithAsyncCommit(ctx)
	var sum Summary
	var cur Cursor // handled records so far, and the last row reported
	ew := tabular.NewErrorWriter(orDiscard(run.Errors))
	if run.Resume != nil {
		cur = *run.Resume
		sum = cur.Summary
		ew.Continue()
	}
	every := run.CheckpointEvery
	if every <= 0 {
		every = 200
	}
	skip, errorsDone := cur.Records, cur.ErrorsRow
	// The reader runs ahead of the commits (a chunk's outcomes come when it
	// commits), so its errors wait here to be written in row order. They
	// are counted and move the cursor's ErrorsRow only when written, so a
	// checkpoint never claims an error the errors file does not hold yet.
	var readErrs []tabular.RowError
	report := func(e tabular.RowError) {
		if e.Row <= errorsDone {
			return // reported before the run was interrupted
		}
		readErrs = append(readErrs, e)
	}
	// writeErrs writes the reader's errors of rows before row (all: 0).
	writeErrs := func(row int) {
		n := 0
		for n < len(readErrs) && (row == 0 || readErrs[n].Row < row) {
			sum.RowErrors++
			cur.ErrorsRow = max(cur.ErrorsRow, readErrs[n].Row)
			ew.Write(&readErrs[n]) // buffered; its error surfaces at Flush
			n++
		}
		readErrs = readErrs[n:]
	}
	var rd interface{ next() (*Record, error) }
	switch run.Format {
	case CSV:
		r, err := newCSVReader(in, p.checkout.Currency(), report)
		if err != nil {
			return sum, err
		}
		rd = r
	case JSONL:
		rd = newJSONLReader(in, p.checkout.Currency(), report)
	default:
		return sum, fmt.Errorf("%w: format %q", ErrUnreadable, run.Format)
	}
	results := newResultWriter(run.Results, run.Format)
	results.header = run.Resume != nil
	// submit commits a record; drain hands every outcome still held to
	// handle.
	var submit func(*Record, func(done) error) error
	var drain func(func(done) error) error
	if p.opt.DB != nil && p.opt.Workers <= 1 {
		ch := p.newChunker(ctx, run.Mode)
		defer ch.stop()
		submit, drain = ch.submit, ch.flush
	} else {
		pool := p.newPool(ctx, run.Mode)
		defer pool.stop()
		submit, drain = pool.submit, func(h func(done) error) error { return pool.drain(0, h) }
	}
	// handle takes one record's outcome, in file order.
	handle := func(d done) error {
		writeErrs(d.rec.Row)
		out, err := d.out, d.err
		if err != nil {
			if problem.KindOf(err) == problem.Internal {
				return fmt.Errorf("row %d: %w", d.rec.Row, err)
			}
			sum.Failed++
			if errors.Is(err, checkout.ErrConflict) || errors.Is(err, checkout.ErrReturnConflict) {
				sum.Conflicts++
			}
			sum.RowErrors++
			e := rowError(d.rec, err)
			writeErrs(e.Row + 1)
			ew.Write(&e)
			out = &outcome{status: "error", err: err}
		} else if out.replayed {
			sum.Unchanged++
		} else {
			sum.Committed++
			sum.Breaches += len(out.breaches)
			if !d.noted { // a chunk's records are noted in the chunk
				if err := p.changed(ctx, d.rec); err != nil {
					return err
				}
			}
		}
		if err := results.write(d.rec, out); err != nil {
			return fmt.Errorf("write results: %w", err)
		}
		if run.Progress != nil {
			run.Progress(sum)
		}
		if cur.Records++; run.Checkpoint != nil && cur.Records%every == 0 {
			if err := results.flush(); err != nil {
				return fmt.Errorf("write results: %w", err)
			}
			if err := ew.Flush(); err != nil {
				return fmt.Errorf("write errors: %w", err)
			}
			cur.Summary = sum
			// Records read ahead of the handled ones are not in it.
			cur.Summary.Records = cur.Records
			return run.Checkpoint(cur)
		}
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		if len(readErrs) >= 10000 {
			// Bound what waits: commit what is held and write them all.
			if err := drain(handle); err != nil {
				return sum, err
			}
			writeErrs(0)
		}
		rec, err := rd.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return sum, err
		}
		if skip > 0 {
			skip-- // handled before the run was interrupted
			continue
		}
		sum.Records++
		if rec.At.IsZero() {
			rec.At = p.opt.Now().UTC()
		}
		if err := submit(rec, handle); err != nil {
			return sum, err
		}
	}
	if err := drain(handle); err != nil {
		return sum, err
	}
	if err := results.flush(); err != nil {
		return sum, fmt.Errorf("write results: %w", err)
	}
	writeErrs(0)
	if err := ew.Flush(); err != nil {
		return sum, fmt.Errorf("write errors: %w", err)
	}
	return sum, nil
}

// outcome is what one record did.
type outcome struct {
	status   string // committed, unchanged, error
	replayed bool
	sale     *checkout.Response
	undo     *checkout.ReturnResponse
	breaches []checkout.Breach
	err      error
}

func (p *Processor) apply(ctx context.Context, co *checkout.Service, rec *Record, mode Mode) (*outcome, error) {
	out := &outcome{status: "committed"}
	var err error
	switch rec.Kind {
	case Sale:
		if mode == Applied {
			var r *checkout.GivenResult
			if r, err = co.CommitGiven(ctx, rec.Sale, rec.Given); r != nil {
				out.sale, out.replayed, out.breaches = r.Response, r.Replayed, r.Breaches
			}
		} else {
			out.sale, out.replayed, err = co.CommitReplay(ctx, rec.Sale)
		}
	case Return:
		out.undo, out.replayed, err = co.ReturnReplay(ctx, rec.Return)
	case Void:
		out.undo, out.replayed, err = co.VoidReplay(ctx, rec.Void)
	}
	if out.replayed {
		out.status = "unchanged"
	}
	return out, err
}

// rowError places a checkout refusal on the row and column at fault:
// "items[2].quantity" is the third line's row, column quantity.
func rowError(rec *Record, err error) tabular.RowError {
	e := tabular.RowError{Row: rec.Row, Reason: err.Error()}
	var pe *problem.Error
	if !errors.As(err, &pe) {
		return e
	}
	e.Reason, e.Column = pe.Message, pe.Field
	if rest, ok := strings.CutPrefix(pe.Field, "items["); ok {
		if n, col, ok := strings.Cut(rest, "]"); ok {
			i, _ := strconv.Atoi(n)
			if i >= 0 && i < len(rec.itemRows) {
				e.Row = rec.itemRows[i]
				e.Column = strings.TrimPrefix(col, ".")
			}
		}
	}
	if pe.Code != "" {
		e.Reason = pe.Code + ": " + e.Reason
	}
	return e
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// changed notes that the member of rec's transaction has other offers now.
func (p *Processor) changed(ctx context.Context, rec *Record) error {
	if p.opt.DB == nil {
		return nil
	}
	s, t := rec.key()
	return p.opt.DB.Tx(ctx, func(tx *sql.Tx) error { return p.noteChanged(ctx, tx, [][2]string{{s, t}}) })
}
