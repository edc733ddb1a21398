package member

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/perk-platform/perk/internal/change"
	"github.com/perk-platform/perk/internal/id"
	"github.com/perk-platform/perk/internal/phone"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/tabular"
)

// ImportOptions configure a member file import.
type ImportOptions struct {
	Source    string // recorded on new members and their consents, e.g. "crm-2026-11"
	BatchSize int    // rows per transaction; 500 if zero
	// OnError receives every rejected row, in file order, from one goroutine.
	OnError func(*tabular.RowError) error
	// OnProgress is called after each committed batch.
	OnProgress func(ImportStats)
	// NoWelcome imports without texting new members their code and card
	// link: a silent migration from another system, whose members have
	// their cards already.
	NoWelcome bool
	// UpdatePhones lets a row change the phone of the member its
	// external_id names. Without it such a row is rejected: a CRM export
	// whose ids drifted would otherwise move members' numbers silently.
	UpdatePhones bool
	// Sync makes the import a CRM subset sync, this being its run id
	// (NewSyncRun): every row must name its member by external_id, and every
	// member named joins the subset (tag SubsetTag; crm_sync = the run if
	// it was not in the subset yet, so that a re-sync writes nothing for
	// the members it leaves as they are). A resumed sync keeps its run id.
	Sync string
	// Full, with Sync, makes the file the whole subset: once every row is
	// in, the members of the subset whose CRM id no row of the file named
	// leave it (EndFullSync), counted in ImportStats.LeftSubset. The CRM
	// ids are kept in memory while the file is read (a resume reads the
	// rows before its cursor for them), so r must be the whole file.
	Full bool
	// Resume continues an import interrupted after the rows up to
	// Resume.Row were applied and counted in Resume.Stats: those rows are
	// read past, and the counts go on from there.
	Resume *ImportCursor
	// Checkpoint, if set, is called inside every transaction the import
	// commits, with the cursor the transaction brings the import to and
	// the rows it rejects (which OnError also receives, after the commit).
	// What it writes in tx (a job's progress, the rejected rows) is then
	// exactly as durable as the members, so an import resumed from the
	// last cursor applies and counts every row once.
	Checkpoint func(ctx context.Context, tx *sql.Tx, c ImportCursor, rejected []*tabular.RowError) error
}

// ImportCursor is how far an import got: every row of the file up to Row
// (a physical line, as in the errors file) is applied and counted in Stats.
type ImportCursor struct {
	Row   int         `json:"row"`
	Stats ImportStats `json:"stats"`
}

// ImportStats counts what an import did. Rows = Created + Updated +
// Unchanged + Rejected.
type ImportStats struct {
	Rows      int `json:"rows"`
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	Rejected  int `json:"rejected"`
	// LeftSubset counts the members a full CRM sync took out of the subset.
	LeftSubset int `json:"left_subset,omitempty"`
}

func (a *ImportStats) add(b ImportStats) {
	a.Rows += b.Rows
	a.Created += b.Created
	a.Updated += b.Updated
	a.Unchanged += b.Unchanged
	a.Rejected += b.Rejected
}

// importBatch carries cleaned rows and rejected rows, in file order, from a
// cleaning worker to the writer.
type importBatch struct {
	rows   []importRow
	errors []*tabular.RowError
}

// Import upserts members from a CSV/TSV file: a row matches an existing member
// by external_id, else by phone; a match is updated with the row's non-blank
// values, other rows create members. Importing the same file twice changes
// nothing the second time. Bad rows are passed to OnError and never stop the
// import; only an unreadable header or a database failure does.
//
// Consent: a consent column of yes/no grants consent to new members and
// withdraws it from existing ones; an import never re-subscribes an existing
// member who opted out. Without the column, new members are not marketed to.
// New members who consented are texted their welcome (code and card link),
// as when they join any other way, unless NoWelcome.
//
// A CRM id is never moved silently: a row whose phone belongs to a member
// with another external_id is rejected naming that member, and a row whose
// external_id names a member with another phone is rejected unless
// UpdatePhones.
func (s *Service) Import(ctx context.Context, r io.Reader, opt ImportOptions) (ImportStats, error) {
	var total ImportStats
	skip := 0
	if opt.Resume != nil {
		total, skip = opt.Resume.Stats, opt.Resume.Row
	}
	if opt.BatchSize <= 0 {
		opt.BatchSize = 500
	}
	rd, err := tabular.NewReader(r)
	if err != nil {
		return total, fmt.Errorf("import: %w", err)
	}
	cm, err := newColumnMap(rd.Header())
	if err != nil {
		return total, fmt.Errorf("import: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Reading is cheap; cleaning (phone numbers above all) costs more than
	// writing. So one goroutine reads chunks of records, one worker per CPU
	// cleans them, and this goroutine writes the batches back in file order.
	workers := max(runtime.GOMAXPROCS(0), 1)
	chunks := make(chan rawChunk, workers)
	parsed := make(chan parsedChunk, workers)
	readErr := make(chan error, 1)
	// A full sync keeps the CRM ids its file names, from the first row
	// (those before a resume's cursor too), to tell at the end who left.
	var names SyncNames
	var seen func(tabular.Record)
	if opt.Sync != "" && opt.Full {
		names = SyncNames{}
		seen = func(rec tabular.Record) { names.add(strings.Clone(cm.get(rec, "external_id"))) }
	}
	lastRow := skip // the last row read; read after readErr
	go func() {
		defer close(chunks)
		readErr <- readChunks(ctx, rd, opt.BatchSize, skip, chunks, seen, &lastRow)
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range chunks {
				select {
				case parsed <- parsedChunk{seq: c.seq, batch: s.cleanChunk(c, cm)}:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(parsed) }()

	waiting := map[int]importBatch{}
	next := 0
	for p := range parsed {
		waiting[p.seq] = p.batch
		for b, ok := waiting[next]; ok; b, ok = waiting[next] {
			delete(waiting, next)
			next++
			st, err := s.writeBatch(ctx, b, cm, opt, total)
			if err != nil {
				cancel()
				for range parsed {
				}
				return total, err
			}
			total = st
			if opt.OnProgress != nil {
				opt.OnProgress(total)
			}
		}
	}
	if err := <-readErr; err != nil {
		return total, err
	}
	if opt.Sync != "" && opt.Full {
		// Only after the whole file is in: a file that could not be read
		// to its end must not take the members it did not reach out of the
		// subset.
		// Each transaction that takes members out also moves the cursor
		// (past the last row) and the count on, so that a run interrupted
		// here counts every leaver once when resumed.
		var then func(*sql.Tx, int) error
		if opt.Checkpoint != nil {
			st := total
			then = func(tx *sql.Tx, n int) error {
				st.LeftSubset += n
				return opt.Checkpoint(ctx, tx, ImportCursor{Row: max(lastRow, skip), Stats: st}, nil)
			}
		}
		left, err := s.EndFullSync(ctx, names, then)
		total.LeftSubset += left
		return total, err
	}
	return total, nil
}

// rawChunk is a run of records, or the reader's errors for broken rows, in
// file order.
type rawChunk struct {
	seq   int
	items []rawItem
}

type rawItem struct {
	rec tabular.Record
	err *tabular.RowError
}

type parsedChunk struct {
	seq   int
	batch importBatch
}

// readChunks sends the records after row skip in chunks of size. seen, if
// not nil, is called with every record, those up to skip included; last is
// set to the last row read.
func readChunks(ctx context.Context, rd *tabular.Reader, size, skip int, out chan<- rawChunk, seen func(tabular.Record), last *int) error {
	c := rawChunk{items: make([]rawItem, 0, size)}
	send := func() bool {
		select {
		case out <- c:
			c = rawChunk{seq: c.seq + 1, items: make([]rawItem, 0, size)}
			return true
		case <-ctx.Done():
			return false
		}
	}
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		var rowErr *tabular.RowError
		switch {
		case errors.As(err, &rowErr):
			*last = max(*last, rowErr.Row)
			if rowErr.Row > skip {
				c.items = append(c.items, rawItem{err: rowErr})
			}
		case err != nil:
			return fmt.Errorf("import: %w", err)
		default:
			*last = max(*last, rec.Row)
			if seen != nil {
				seen(rec)
			}
			if rec.Row > skip {
				c.items = append(c.items, rawItem{rec: rec})
			}
		}
		if len(c.items) >= size && !send() {
			return ctx.Err()
		}
	}
	if len(c.items) > 0 && !send() {
		return ctx.Err()
	}
	return nil
}

// cleanChunk turns records into cleaned rows and row errors, in file order.
func (s *Service) cleanChunk(c rawChunk, cm *columnMap) importBatch {
	b := importBatch{rows: make([]importRow, 0, len(c.items))}
	for _, it := range c.items {
		if it.err != nil {
			b.errors = append(b.errors, it.err)
			continue
		}
		row, rowErr := cm.parse(it.rec, s.opt.Region, s)
		if rowErr != nil {
			b.errors = append(b.errors, rowErr)
		} else {
			b.rows = append(b.rows, row)
		}
	}
	return b
}

// writeBatch applies a batch on top of the counts so far (total) and
// returns the new counts. Rows that repeat a phone or external id already
// in the batch start a new chunk, so a file is applied as if row by row.
// Rejected rows are counted with the first chunk after them, and those
// after the last chunk in a transaction of their own when there is a
// Checkpoint, so that every cursor covers exactly the rows before it.
func (s *Service) writeBatch(ctx context.Context, b importBatch, cm *columnMap, opt ImportOptions, total ImportStats) (ImportStats, error) {
	errs := b.errors // in file order
	// upTo takes the rejected rows up to row.
	upTo := func(row int) []*tabular.RowError {
		n := 0
		for n < len(errs) && errs[n].Row <= row {
			n++
		}
		out := errs[:n]
		errs = errs[n:]
		return out
	}
	// counted adds the rows rejected before a chunk to st.
	counted := func(st ImportStats, pre []*tabular.RowError) ImportStats {
		st.Rows += len(pre)
		st.Rejected += len(pre)
		return st
	}
	report := func(es []*tabular.RowError) error {
		if opt.OnError == nil {
			return nil
		}
		for _, e := range es {
			if err := opt.OnError(e); err != nil {
				return err
			}
		}
		return nil
	}
	start := 0
	seen := map[string]bool{}
	flush := func(end int) error {
		if start == end {
			return nil
		}
		chunk := b.rows[start:end]
		start = end
		clear(seen)
		last := chunk[len(chunk)-1].row
		pre := upTo(last)
		res, rejected, err := s.upsertChunk(ctx, chunk, cm, opt, func(tx *sql.Tx, res ImportStats, rejected []*tabular.RowError) error {
			if opt.Checkpoint == nil {
				return nil
			}
			st := counted(total, pre)
			st.add(counted(res, rejected))
			return opt.Checkpoint(ctx, tx, ImportCursor{Row: last, Stats: st}, append(slices.Clip(pre), rejected...))
		})
		if err != nil {
			return err
		}
		total = counted(total, pre)
		total.add(counted(res, rejected))
		return errors.Join(report(pre), report(rejected))
	}
	for i, row := range b.rows {
		keys := []string{"p" + row.profile.Phone, "e" + row.profile.ExternalID}
		if (row.profile.Phone != "" && seen[keys[0]]) || (row.profile.ExternalID != "" && seen[keys[1]]) {
			if err := flush(i); err != nil {
				return total, err
			}
		}
		seen[keys[0]], seen[keys[1]] = true, true
	}
	if err := flush(len(b.rows)); err != nil {
		return total, err
	}
	if len(errs) == 0 {
		return total, nil
	}
	rest := errs
	st := counted(total, rest)
	if opt.Checkpoint != nil {
		if err := s.db.Tx(ctx, func(tx *sql.Tx) error {
			return opt.Checkpoint(ctx, tx, ImportCursor{Row: rest[len(rest)-1].Row, Stats: st}, rest)
		}); err != nil {
			return total, err
		}
	}
	return st, report(rest)
}

// upsertChunk applies rows with distinct keys in one transaction, retrying
// when a concurrent writer took one of the codes it drew, or enrolled a phone
// (or claimed an external id) after the chunk looked its rows up: the retry
// sees that member and updates it, as if the file had come second.
//
// then, if not nil, is called last in the transaction with what it did.
func (s *Service) upsertChunk(ctx context.Context, rows []importRow, cm *columnMap, opt ImportOptions,
	then func(*sql.Tx, ImportStats, []*tabular.RowError) error) (ImportStats, []*tabular.RowError, error) {
	for try := 0; ; try++ {
		var st ImportStats
		var rejected []*tabular.RowError
		err := s.importTx(ctx, func(conn *sql.Conn, tx *sql.Tx) error {
			var err error
			if st, rejected, err = s.upsertTx(ctx, conn, tx, rows, cm, opt); err != nil {
				return err
			}
			if then != nil {
				return then(tx, st, rejected)
			}
			return nil
		})
		c, _ := store.UniqueViolation(err)
		raced := c == "members_code_key" || errors.Is(err, ErrPhoneTaken) || errors.Is(err, ErrExternalTaken)
		if raced && try < maxCodeTries {
			continue
		}
		return st, rejected, err
	}
}

// importTx runs fn in a write transaction; on PostgreSQL it also gives fn
// the connection the transaction is on, for COPY (nil on SQLite).
func (s *Service) importTx(ctx context.Context, fn func(*sql.Conn, *sql.Tx) error) error {
	if s.db.Dialect == store.Postgres {
		return s.db.ConnTx(ctx, func(conn *sql.Conn, tx *sql.Tx) error {
			// Every look-up of a batch is by a unique key (phone, CRM id,
			// code, member id) for up to a batch's worth of values. The
			// planner prices 5,000 index probes above one scan of the whole
			// table, with or without statistics, and chose the scan (a hash
			// of the IN list against every member) up to a million
			// members and beyond: each batch then read the whole table, a
			// first sync of 1M rows read it 600 times. Probing the unique
			// indexes costs the same at any size. For this transaction only.
			if _, err := tx.ExecContext(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
				return fmt.Errorf("import: %w", err)
			}
			return fn(conn, tx)
		})
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error { return fn(nil, tx) })
}

func (s *Service) upsertTx(ctx context.Context, conn *sql.Conn, tx *sql.Tx, rows []importRow, cm *columnMap, opt ImportOptions) (ImportStats, []*tabular.RowError, error) {
	// The rows other packages add to this transaction for the new members
	// (welcome SMS and card links, the CRM feed) go in by COPY too.
	ctx = store.WithCopy(ctx, conn, tx)
	var st ImportStats
	var rejected []*tabular.RowError
	now := nowUTC(s.opt.Now)
	phones, exts := make([]any, 0, len(rows)), make([]any, 0, len(rows))
	var stores []any
	storeSeen := map[string]bool{}
	for _, r := range rows {
		if r.profile.Phone != "" {
			phones = append(phones, r.profile.Phone)
		}
		if r.profile.ExternalID != "" {
			exts = append(exts, r.profile.ExternalID)
		}
		if hs := r.profile.HomeStore; hs != "" && !storeSeen[hs] {
			storeSeen[hs] = true
			stores = append(stores, hs)
		}
	}
	d := s.db.Dialect
	unknownStore, err := unknownStores(ctx, tx, d, stores)
	if err != nil {
		return st, nil, err
	}
	byPhone, err := membersWhereIn(ctx, tx, d, "phone", phones)
	if err != nil {
		return st, nil, err
	}
	byExt, err := membersWhereIn(ctx, tx, d, "external_id", exts)
	if err != nil {
		return st, nil, err
	}
	var inserts []*Member
	var synced []any // CRM ids of the existing members a sync names (new ones are inserted marked)
	var consents []consentRow
	var events []change.Event // reported only when a listener may want them (a million-row file)
	report := change.Wants(s.opt.Changes, change.MemberCreated) || change.Wants(s.opt.Changes, change.MemberUpdated) ||
		change.Wants(s.opt.Changes, change.ConsentChanged) || change.Wants(s.opt.Changes, change.MemberOptedOut)
	origin := Origin{Method: ChannelImport, Source: opt.Source}
	for _, r := range rows {
		st.Rows++
		p := r.profile
		mp, me := byPhone[p.Phone], byExt[p.ExternalID]
		if opt.Sync != "" && p.ExternalID == "" {
			rejected = append(rejected, &tabular.RowError{Row: r.row, Column: cm.column("external_id"),
				Reason: "a CRM sync names every member by external_id; this row has none"})
			st.Rows--
			continue
		}
		if e := crmConflict(r, cm, mp, me, opt.UpdatePhones); e != nil {
			rejected = append(rejected, e)
			st.Rows--
			continue
		}
		target := me
		if target == nil {
			target = mp
		}
		if opt.Sync != "" {
			p = inSubset(p, target)
			r.profile = p
		}
		if hs := p.HomeStore; unknownStore[hs] && (target == nil || target.HomeStore != hs) {
			rejected = append(rejected, &tabular.RowError{Row: r.row, Column: cm.column("home_store"),
				Reason: unknownHomeStore(hs).Message})
			st.Rows--
			continue
		}
		if target == nil {
			if p.Phone == "" {
				rejected = append(rejected, &tabular.RowError{Row: r.row, Column: cm.column("phone"),
					Reason: "no member has this external_id and the row has no phone to enrol"})
				st.Rows--
				continue
			}
			m := s.newImported(r, opt.Source, now)
			inserts = append(inserts, m)
			if m.Status == StatusActive {
				consents = append(consents, consentRow{m.ID, consentGranted, string(m.Phone)})
			}
			if report {
				events = append(events, change.Event{Type: change.MemberCreated, MemberID: m.ID, ExternalID: &m.ExternalID,
					Data: map[string]any{"status": string(m.Status), "channel": string(m.Channel), "source": m.Source}})
				if m.Status == StatusActive {
					events = append(events, consentEvents(m, consentGranted, origin)...)
				}
			}
			st.Created++
			continue
		}
		if opt.Sync != "" {
			synced = append(synced, p.ExternalID)
		}
		var before Profile
		if report {
			before = profileOf(target)
		}
		changed := applyProfile(target, p, false)
		if report && changed {
			events = append(events, change.Event{Type: change.MemberUpdated, MemberID: target.ID, ExternalID: &target.ExternalID,
				Data: map[string]any{"changed": changedFields(before, profileOf(target))}})
		}
		if r.consent != nil && !*r.consent && (target.Status == StatusActive || target.Status == StatusPending) {
			target.Status = StatusOptedOut
			consents = append(consents, consentRow{target.ID, consentWithdrawn, string(target.Phone)})
			if report {
				events = append(events, consentEvents(target, consentWithdrawn, origin)...)
			}
			changed = true
		}
		if !changed {
			st.Unchanged++
			continue
		}
		target.UpdatedAt = now
		if err := updateProfile(ctx, tx, target); err != nil {
			if errors.Is(err, ErrPhoneTaken) || errors.Is(err, ErrExternalTaken) {
				return st, nil, fmt.Errorf("import row %d: %w", r.row, err)
			}
			return st, nil, err
		}
		st.Updated++
	}
	if err := insertMembers(ctx, conn, tx, d, inserts, opt.Sync); err != nil {
		return st, nil, err
	}
	if err := insertConsents(ctx, conn, tx, d, consents, opt.Source, s.opt.ConsentVersion, now); err != nil {
		return st, nil, err
	}
	if !opt.NoWelcome {
		if err := s.welcomeImported(ctx, tx, inserts, now); err != nil {
			return st, nil, err
		}
	}
	if opt.Sync != "" {
		if err := markSynced(ctx, tx, d, synced, opt.Sync); err != nil {
			return st, nil, err
		}
	}
	if err := s.record(ctx, tx, events...); err != nil {
		return st, nil, err
	}
	return st, rejected, nil
}

func (s *Service) newImported(r importRow, source string, now time.Time) *Member {
	p := r.profile
	m := &Member{
		ID: id.New("mem", now), FirstName: p.FirstName, LastName: p.LastName, Email: p.Email,
		Birthday: p.Birthday, HomeStore: p.HomeStore, ExternalID: p.ExternalID, Attributes: p.Attributes,
		Tags: p.Tags, TimeZone: p.TimeZone, Locale: p.Locale, Channel: ChannelImport, Source: source, Status: StatusOptedOut,
		EnrolledAt: now, UpdatedAt: now,
	}
	m.Phone = phone.Number(p.Phone)
	if m.TimeZone == "" {
		m.TimeZone = p.zone
	}
	if r.consent != nil && *r.consent {
		m.Status = StatusActive
	}
	return m
}

// membersWhereIn loads the members whose column is one of vals, keyed by it.
func membersWhereIn(ctx context.Context, q querier, d store.Dialect, column string, vals []any) (map[string]*Member, error) {
	out := make(map[string]*Member, len(vals))
	if len(vals) == 0 {
		return out, nil
	}
	rows, err := q.QueryContext(ctx, `SELECT `+memberColumns+` FROM members WHERE `+column+` IN (`+d.Placeholders(1, len(vals))+`)`, vals...)
	if err != nil {
		return nil, fmt.Errorf("import lookup: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		m, err := scanMember(rows)
		if err != nil {
			return nil, fmt.Errorf("import lookup: %w", err)
		}
		if column == "phone" {
			out[string(m.Phone)] = m
		} else {
			out[m.ExternalID] = m
		}
	}
	return out, rows.Err()
}
