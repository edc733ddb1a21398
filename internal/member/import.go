package member

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/id"
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
}

// ImportStats counts what an import did. Rows = Created + Updated +
// Unchanged + Rejected.
type ImportStats struct {
	Rows      int `json:"rows"`
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	Rejected  int `json:"rejected"`
}

func (a *ImportStats) add(b ImportStats) {
	a.Rows += b.Rows
	a.Created += b.Created
	a.Updated += b.Updated
	a.Unchanged += b.Unchanged
	a.Rejected += b.Rejected
}

// importBatch carries cleaned rows and rejected rows, in file order, from the
// parsing goroutine to the writer.
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
// No welcome SMS is sent: a CRM import is not a sign-up.
func (s *Service) Import(ctx context.Context, r io.Reader, opt ImportOptions) (ImportStats, error) {
	var total ImportStats
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
	batches := make(chan importBatch, 4)
	readErr := make(chan error, 1)
	// Parsing (phone numbers above all) costs about as much as writing, so it
	// runs on its own goroutine and the two overlap.
	go func() {
		defer close(batches)
		readErr <- s.parseFile(ctx, rd, cm, opt.BatchSize, batches)
	}()
	for b := range batches {
		st, err := s.writeBatch(ctx, b, cm, opt)
		if err != nil {
			cancel()
			for range batches {
			}
			return total, err
		}
		total.add(st)
		if opt.OnProgress != nil {
			opt.OnProgress(total)
		}
	}
	return total, <-readErr
}

func (s *Service) parseFile(ctx context.Context, rd *tabular.Reader, cm *columnMap, size int, out chan<- importBatch) error {
	b := importBatch{}
	send := func() bool {
		select {
		case out <- b:
			b = importBatch{rows: make([]importRow, 0, size)}
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
			b.errors = append(b.errors, rowErr)
		case err != nil:
			return fmt.Errorf("import: %w", err)
		default:
			row, rowErr := cm.parse(rec, s.opt.Region, s)
			if rowErr != nil {
				b.errors = append(b.errors, rowErr)
			} else {
				b.rows = append(b.rows, row)
			}
		}
		if len(b.rows) >= size || len(b.errors) >= size {
			if !send() {
				return ctx.Err()
			}
		}
	}
	if len(b.rows) > 0 || len(b.errors) > 0 {
		send()
	}
	return nil
}

// writeBatch reports the batch's rejected rows, then upserts its rows. Rows
// that repeat a phone or external id already in the batch start a new chunk,
// so a file is applied as if row by row.
func (s *Service) writeBatch(ctx context.Context, b importBatch, cm *columnMap, opt ImportOptions) (ImportStats, error) {
	var st ImportStats
	reject := func(e *tabular.RowError) error {
		st.Rows++
		st.Rejected++
		if opt.OnError != nil {
			return opt.OnError(e)
		}
		return nil
	}
	for _, e := range b.errors {
		if err := reject(e); err != nil {
			return st, err
		}
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
		res, rejected, err := s.upsertChunk(ctx, chunk, cm, opt.Source)
		if err != nil {
			return err
		}
		st.add(res)
		for _, e := range rejected {
			if err := reject(e); err != nil {
				return err
			}
		}
		return nil
	}
	for i, row := range b.rows {
		keys := []string{"p" + row.profile.Phone, "e" + row.profile.ExternalID}
		if (row.profile.Phone != "" && seen[keys[0]]) || (row.profile.ExternalID != "" && seen[keys[1]]) {
			if err := flush(i); err != nil {
				return st, err
			}
		}
		seen[keys[0]], seen[keys[1]] = true, true
	}
	if err := flush(len(b.rows)); err != nil {
		return st, err
	}
	return st, nil
}

// upsertChunk applies rows with distinct keys in one transaction, retrying
// when a concurrent enrolment took one of the codes it drew.
func (s *Service) upsertChunk(ctx context.Context, rows []importRow, cm *columnMap, source string) (ImportStats, []*tabular.RowError, error) {
	for try := 0; ; try++ {
		var st ImportStats
		var rejected []*tabular.RowError
		err := s.db.Tx(ctx, func(tx *sql.Tx) error {
			var err error
			st, rejected, err = s.upsertTx(ctx, tx, rows, cm, source)
			return err
		})
		if c, ok := store.UniqueViolation(err); ok && c == "members_code_key" && try < 3 {
			continue
		}
		return st, rejected, err
	}
}

func (s *Service) upsertTx(ctx context.Context, tx *sql.Tx, rows []importRow, cm *columnMap, source string) (ImportStats, []*tabular.RowError, error) {
	var st ImportStats
	var rejected []*tabular.RowError
	now := nowUTC(s.opt.Now)
	phones, exts := make([]any, 0, len(rows)), make([]any, 0, len(rows))
	for _, r := range rows {
		if r.profile.Phone != "" {
			phones = append(phones, r.profile.Phone)
		}
		if r.profile.ExternalID != "" {
			exts = append(exts, r.profile.ExternalID)
		}
	}
	byPhone, err := membersWhereIn(ctx, tx, "phone", phones)
	if err != nil {
		return st, nil, err
	}
	byExt, err := membersWhereIn(ctx, tx, "external_id", exts)
	if err != nil {
		return st, nil, err
	}
	var inserts []*Member
	var consents []consentRow
	for _, r := range rows {
		st.Rows++
		p := r.profile
		mp, me := byPhone[p.Phone], byExt[p.ExternalID]
		if mp != nil && me != nil && mp.ID != me.ID {
			rejected = append(rejected, &tabular.RowError{Row: r.row, Column: cm.column("external_id"),
				Reason: "external_id belongs to another member than the phone does"})
			st.Rows--
			continue
		}
		target := me
		if target == nil {
			target = mp
		}
		if target == nil {
			if p.Phone == "" {
				rejected = append(rejected, &tabular.RowError{Row: r.row, Column: cm.column("phone"),
					Reason: "no member has this external_id and the row has no phone to enrol"})
				st.Rows--
				continue
			}
			m := s.newImported(p, r.consent, source, now)
			inserts = append(inserts, m)
			if m.Status == StatusActive {
				consents = append(consents, consentRow{m.ID, consentGranted})
			}
			st.Created++
			continue
		}
		changed := applyProfile(target, p, false)
		if r.consent != nil && !*r.consent && (target.Status == StatusActive || target.Status == StatusPending) {
			target.Status = StatusOptedOut
			consents = append(consents, consentRow{target.ID, consentWithdrawn})
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
	if err := insertMembers(ctx, tx, inserts); err != nil {
		return st, nil, err
	}
	if err := insertConsents(ctx, tx, consents, source, s.opt.ConsentVersion, now); err != nil {
		return st, nil, err
	}
	return st, rejected, nil
}

func (s *Service) newImported(p Profile, consent *bool, source string, now time.Time) *Member {
	m := &Member{
		ID: id.New("mem", now), FirstName: p.FirstName, LastName: p.LastName, Email: p.Email,
		Birthday: p.Birthday, HomeStore: p.HomeStore, ExternalID: p.ExternalID, Attributes: p.Attributes,
		Tags: p.Tags, TimeZone: p.TimeZone, Channel: ChannelImport, Source: source, Status: StatusOptedOut,
		EnrolledAt: now, UpdatedAt: now,
	}
	m.Phone = phoneNumber(p.Phone)
	if m.TimeZone == "" {
		m.TimeZone = m.Phone.TimeZone()
	}
	if consent != nil && *consent {
		m.Status = StatusActive
	}
	return m
}

// membersWhereIn loads the members whose column is one of vals, keyed by it.
func membersWhereIn(ctx context.Context, q querier, column string, vals []any) (map[string]*Member, error) {
	out := make(map[string]*Member, len(vals))
	if len(vals) == 0 {
		return out, nil
	}
	rows, err := q.QueryContext(ctx, `SELECT `+memberColumns+` FROM members WHERE `+column+` IN (`+placeholders(1, len(vals))+`)`, vals...)
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

// placeholders returns "$from, $from+1, ..." n of them.
func placeholders(from, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d", from+i)
	}
	return b.String()
}
