package profile

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/perk-platform/perk/internal/report/figures"
	"github.com/perk-platform/perk/internal/store"
)

// The basket-derived figures (recency, frequency, monetary value, preferred
// store, average basket, visit days, usual interval, overdue) and the
// affinities come from one ordered pass over the history: the member's
// committed baskets and their lines, read once, sorted by member, and
// folded in Go one member at a time. Set-based SQL read the same lines
// once for the figures and again for the affinities, and materialised the
// basket CTE for each of its uses (window functions for the store, days
// and gaps, a json_each and a power() per line); at 1,000,000 members that
// was most of the refresh's CPU on both engines (docs/benchmarks.md,
// "Profile refresh at 1M members"). The fold's results go to a staging
// table (temporary) that the profile upsert joins, and the
// affinities straight to member_affinities, in bulk: COPY on PostgreSQL,
// multi-row INSERTs on SQLite.

// staging names the tables a pass writes: the temporary table its figures
// are staged in, and the table its affinities go to.
type staging struct{ figures, affinities string }

// The passes' tables. The refresh and the drain stage figures apart (on
// SQLite both use the one write connection, and an on-demand refresh may
// run beside the drain). On PostgreSQL the refresh writes every profile and
// affinity into new tables instead, swapped in at the end (swapped).
var (
	refreshStaging = staging{figures: "refresh_stage", affinities: "member_affinities"}
	drainStaging   = staging{figures: "profile_stage", affinities: "member_affinities"}
)

// stageDDL creates the staging table named table, or empties it.
func stageDDL(d store.Dialect, table string) []string {
	cols := `(member_id TEXT PRIMARY KEY, last_purchase %s, frequency BIGINT NOT NULL, monetary BIGINT NOT NULL,
		preferred_store TEXT NOT NULL, avg_basket BIGINT NOT NULL, visit_days BIGINT NOT NULL, usual_interval BIGINT NOT NULL,
		overdue_after BIGINT NOT NULL)`
	if d == store.Postgres {
		// Kept for the connection's life and emptied at each commit: a
		// table made and dropped in every transaction (Drain runs every few
		// seconds under till load) would churn the system catalogue.
		return []string{`CREATE TEMP TABLE IF NOT EXISTS ` + table + ` ` + fmt.Sprintf(cols, "TIMESTAMPTZ") + ` ON COMMIT DELETE ROWS`}
	}
	// SQLite: the write pool is one connection, so the temp table lives as
	// long as it; each use starts by emptying it.
	return []string{`CREATE TEMP TABLE IF NOT EXISTS ` + table + ` ` + fmt.Sprintf(cols, "TIMESTAMP"), `DELETE FROM temp.` + table}
}

var stageCols = []string{"member_id", "last_purchase", "frequency", "monetary", "preferred_store", "avg_basket", "visit_days",
	"usual_interval", "overdue_after"}

var affinityCols = []string{"member_id", "kind", "name", "share"}

// folded is one member's basket-derived figures and affinities.
type folded struct {
	member         string
	last           time.Time
	freq, monetary int64
	store          string
	avg, visitDays int64
	interval       int64 // median seconds between visit days
	overdueAfter   int64 // Unix seconds; 0 = never
	categories     []scored
	brands         []scored
}

type scored struct {
	name  string
	share float64
}

// basketAcc is one in-window basket of the member being folded.
type basketAcc struct {
	store string
	day   int64
	net   int64
}

// fold accumulates one member's rows; reset between members.
type fold struct {
	opt       Options
	now       int64   // Unix seconds
	halfLife  float64 // seconds
	k         int64   // overdue factor in thousandths
	cats      map[string][]string
	byBrand   map[string]string // the catalogue's brands by SKU, when the rows carry SKUs
	names     map[string]string // stores and brands, interned: a handful of values over millions of rows
	member    string
	last      time.Time
	hasLast   bool
	baskets   map[string]int // basket id -> index in bks
	bks       []basketAcc
	catSum    map[string]float64
	brandSum  map[string]float64
	tot       float64
	storeTmp  map[string]*storeAcc
	daysTmp   []int64
	gapsTmp   []int64
	rankedTmp []scored
}

type storeAcc struct {
	n   int64
	net int64
}

func newFold(opt Options, now time.Time) *fold {
	return &fold{opt: opt, now: now.Unix(), halfLife: opt.HalfLife.Seconds(), k: int64(opt.OverdueFactor * 1000),
		cats: map[string][]string{}, names: map[string]string{}, baskets: map[string]int{}, catSum: map[string]float64{},
		brandSum: map[string]float64{},
		storeTmp: map[string]*storeAcc{}}
}

// row is one row of the history query: a committed basket of the member
// up to now, and one of its lines when the basket is in the window (line
// false otherwise: such a basket only counts toward the last purchase).
// Its text is the reader's bytes, valid until the next row: the fold makes
// strings only of what it keeps (a member's id, a basket's, a new store or
// brand), where a string a column cost an allocation per row.
type row struct {
	member, basket, store []byte
	at                    time.Time
	line                  bool
	categories            []byte
	net                   int64
	brand                 []byte // the brand, or with byBrand the SKU to name it by
}

// intern is b as a string, made once per distinct value.
func (f *fold) intern(b []byte) string {
	if v, ok := f.names[string(b)]; ok {
		return v
	}
	v := string(b)
	f.names[v] = v
	return v
}

// add folds r into the current member, which the caller has set.
func (f *fold) add(r *row) error {
	if !f.hasLast || r.at.After(f.last) {
		f.last, f.hasLast = r.at, true
	}
	if !r.line {
		return nil
	}
	i, ok := f.baskets[string(r.basket)]
	if !ok {
		i = len(f.bks)
		f.baskets[string(r.basket)] = i
		f.bks = append(f.bks, basketAcc{store: f.intern(r.store), day: r.at.Unix() / 86400})
	}
	f.bks[i].net += r.net
	// The line's net spend decayed by its age (whole seconds, as
	// EpochBucket) with the half-life.
	v := float64(r.net) * math.Pow(0.5, float64(f.now-r.at.Unix())/f.halfLife)
	f.tot += v
	cs, ok := f.cats[string(r.categories)]
	if !ok {
		if err := json.Unmarshal(r.categories, &cs); err != nil {
			return fmt.Errorf("profile: basket %s: categories: %w", r.basket, err)
		}
		f.cats[string(r.categories)] = cs
	}
	for _, c := range cs {
		f.catSum[c] += v
	}
	if brand := f.brandOf(r.brand); brand != "" {
		f.brandSum[brand] += v
	}
	return nil
}

// brandOf is the line's brand: named from the catalogue's map when the fold
// has one (the row then carries the SKU), as read otherwise.
func (f *fold) brandOf(b []byte) string {
	if f.byBrand != nil {
		return f.byBrand[string(b)]
	}
	return f.intern(b)
}

// done returns the current member's figures and resets the fold.
func (f *fold) done() folded {
	out := folded{member: f.member, last: f.last.UTC(), freq: int64(len(f.bks))}
	clear(f.storeTmp)
	f.daysTmp = f.daysTmp[:0]
	for _, b := range f.bks {
		out.monetary += b.net
		s := f.storeTmp[b.store]
		if s == nil {
			s = &storeAcc{}
			f.storeTmp[b.store] = s
		}
		s.n++
		s.net += b.net
		f.daysTmp = append(f.daysTmp, b.day)
	}
	if out.freq > 0 {
		out.avg = out.monetary / out.freq
	}
	// Preferred store: most baskets, then most spend, then the first id.
	var best *storeAcc
	for id, s := range f.storeTmp {
		if best == nil || s.n > best.n || (s.n == best.n && (s.net > best.net || (s.net == best.net && id < out.store))) {
			best, out.store = s, id
		}
	}
	// Visit days and the median gap between consecutive ones.
	slices.Sort(f.daysTmp)
	days := slices.Compact(f.daysTmp)
	out.visitDays = int64(len(days))
	f.gapsTmp = f.gapsTmp[:0]
	for i := 1; i < len(days); i++ {
		f.gapsTmp = append(f.gapsTmp, days[i]-days[i-1])
	}
	if n := len(f.gapsTmp); n > 0 {
		slices.Sort(f.gapsTmp)
		// The middle gap, or the mean of the two middle ones: in days
		// times 86,400, an even number, so the halving is exact.
		out.interval = (f.gapsTmp[(n+1)/2-1] + f.gapsTmp[(n+2)/2-1]) * 86400 / 2
	}
	if out.interval > 0 {
		out.overdueAfter = f.last.Unix() + out.interval*f.k/1000
	}
	out.categories = f.top(f.catSum)
	out.brands = f.top(f.brandSum)

	f.member, f.hasLast, f.last, f.tot = "", false, time.Time{}, 0
	clear(f.baskets)
	f.bks = f.bks[:0]
	clear(f.catSum)
	clear(f.brandSum)
	return out
}

// top is the member's top N of sums as shares of the decayed total, by
// share then name; none when the total is not positive.
func (f *fold) top(sums map[string]float64) []scored {
	if f.tot <= 0 {
		return nil
	}
	r := f.rankedTmp[:0]
	for name, s := range sums {
		if s > 0 {
			r = append(r, scored{name: name, share: s})
		}
	}
	slices.SortFunc(r, func(a, b scored) int {
		if c := cmp.Compare(b.share, a.share); c != 0 {
			return c
		}
		return cmp.Compare(a.name, b.name)
	})
	f.rankedTmp = r
	if len(r) > f.opt.TopN {
		r = r[:f.opt.TopN]
	}
	out := make([]scored, len(r))
	for i, a := range r {
		out[i] = scored{name: a.name, share: a.share / f.tot}
	}
	return out
}

// historySQL reads the committed baskets up to now of the members in sc,
// by member, each with its lines (their net spend, figures.LineNet, and
// brand) when it is in the window. With byName the brand column is the
// line's SKU instead, for the caller to name from a map of the catalogue's
// brands: a full refresh reads every line, and a catalogue lookup per line
// was as many B-tree descents on SQLite as the lines themselves.
// Parameters: $1 now, $2 window start, then the scope's from $3.
func (s *Service) historySQL(sc scope, byName bool) string {
	// Grouped by member is all the fold needs, not any collation's order.
	order := s.db.Dialect.ByteOrder("b.member_id")
	brand, products := `COALESCE(p.brand, '')`, ` LEFT JOIN products p ON p.sku = l.sku`
	if byName {
		brand, products = `COALESCE(l.sku, '')`, ``
	}
	if s.db.Dialect == store.Postgres && !sc.ranged && sc.ids == nil {
		return pgFullHistorySQL(brand, products)
	}
	return `SELECT b.member_id, b.id, b.store_id, b.created_at, l.categories, ` + figures.LineNet + `, ` + brand + `
		FROM ` + s.baskets(sc) + ` LEFT JOIN basket_lines l ON l.basket_id = b.id AND b.created_at >= $2` + products + `
		WHERE b.status = 'committed' AND b.member_id IS NOT NULL AND b.created_at <= $1` + sc.on("b.member_id", 3) + `
		ORDER BY ` + order
}

// pgFullHistorySQL is historySQL for every member on PostgreSQL, which
// reads the whole history in one query. It returns the same rows, by
// member, but for the baskets outside the window: one row a member carries
// the latest of them, which is all the fold takes from them (the last
// purchase). Lines are joined to the window's baskets, not baskets to their
// lines: a left join from baskets must hash its inner side, all ten million
// lines at 1,000,000 members (PostgreSQL 15 has no parallel right join),
// where an inner join hashes the smaller side, the baskets; the query took
// 31 s of the server, now 21 (docs/benchmarks.md). A committed basket
// always has a line (checkout rejects an empty one), so no basket of the
// window is lost by the inner join. (Sorting by a hash of the id first,
// integer comparisons where ids share a long prefix, saved the query 4 s
// more but handed members over in no order, which cost the writer more:
// the refresh took 93 s against 80.)
func pgFullHistorySQL(brand, products string) string {
	return `SELECT member_id, basket_id, store_id, created_at, categories, net, brand FROM (
		SELECT b.member_id, b.id AS basket_id, b.store_id, b.created_at, l.categories, ` + figures.LineNet + ` AS net, ` + brand + ` AS brand
		FROM basket_lines l JOIN baskets b ON b.id = l.basket_id` + products + `
		WHERE b.status = 'committed' AND b.member_id IS NOT NULL AND b.created_at >= $2 AND b.created_at <= $1
		UNION ALL
		SELECT b.member_id, '', '', MAX(b.created_at), NULL, NULL, '' FROM baskets b
		WHERE b.status = 'committed' AND b.member_id IS NOT NULL AND b.created_at < $2 GROUP BY b.member_id) h
		ORDER BY ` + store.Postgres.ByteOrder("member_id")
}

// brands reads the catalogue's brands by SKU, for historySQL's byName.
func brands(ctx context.Context, q querier) (map[string]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT sku, brand FROM products WHERE brand <> ''`)
	if err != nil {
		return nil, fmt.Errorf("profile: brands: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var sku, brand string
		if err := rows.Scan(&sku, &brand); err != nil {
			return nil, fmt.Errorf("profile: brands: %w", err)
		}
		out[sku] = brand
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("profile: brands: %w", err)
	}
	return out, nil
}

// flushMembers is how many folded members a reader hands on at a time.
const flushMembers = 5_000

// querier is what the history is read through: the caller's write
// transaction, or a connection or transaction of the read pool.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// history folds the history of the members in sc and hands the folded
// members, grouped by member, to emit: every `every` members while the query
// is still open when every > 0 (emit must then not use q), or all at once
// after the query is closed when every is 0 (emit may use q: the in-line
// case, for a few hundred members). Rows are streamed, never held: the
// whole programme's history passes through a bounded fold.
//
// byBrand, when not nil, is the catalogue's brands by SKU (brands), which
// names the lines' brands instead of a join in the query.
func (s *Service) history(ctx context.Context, q querier, sc scope, now time.Time, byBrand map[string]string, every int,
	emit func([]folded) error) error {
	rows, err := q.QueryContext(ctx, s.historySQL(sc, byBrand != nil), sc.args(now, now.Add(-s.opt.Window))...)
	if err != nil {
		return fmt.Errorf("profile: history: %w", err)
	}
	defer rows.Close()
	// The drivers behind database/sql make every text column a string
	// already: the row views their bytes (read, never written) rather than
	// copying them again into buffers of its own (sql.RawBytes).
	var member, basket, store, brand string
	var cats sql.NullString
	var net sql.NullInt64
	next := func(r *row) (bool, error) {
		if !rows.Next() {
			return false, rows.Err()
		}
		if err := rows.Scan(&member, &basket, &store, &r.at, &cats, &net, &brand); err != nil {
			return false, err
		}
		r.member, r.basket, r.store, r.categories, r.brand = view(member), view(basket), view(store), view(cats.String), view(brand)
		r.line, r.net = net.Valid, net.Int64
		return true, nil
	}
	return s.foldRows(next, func() error { return rows.Close() }, now, byBrand, every, emit)
}

// view is s's bytes, shared, not copied: for a row, which is only read.
func view(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// historyPG is history for every member (every > 0) on PostgreSQL, read
// through pgx itself on conn, in a read-only transaction of its own with
// settings (SET LOCAL statements) applied first: the rows' columns are
// decoded from their binary form in place. Through database/sql each
// column of ten million rows was converted and allocated (a third of the
// refresh's own CPU at 1,000,000 members).
func (s *Service) historyPG(ctx context.Context, conn *sql.Conn, settings []string, now time.Time, byBrand map[string]string,
	every int, emit func([]folded) error) error {
	return conn.Raw(func(dc any) error {
		tx, err := dc.(*stdlib.Conn).Conn().BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
		if err != nil {
			return fmt.Errorf("profile: begin history read: %w", err)
		}
		defer tx.Rollback(context.WithoutCancel(ctx))
		for _, q := range settings {
			if _, err := tx.Exec(ctx, q); err != nil {
				return fmt.Errorf("profile: history settings: %w", err)
			}
		}
		rows, err := tx.Query(ctx, s.historySQL(scope{}, byBrand != nil), now, now.Add(-s.opt.Window))
		if err != nil {
			return fmt.Errorf("profile: history: %w", err)
		}
		defer rows.Close()
		if err := historyColumns(rows.FieldDescriptions()); err != nil {
			return err
		}
		next := func(r *row) (bool, error) {
			if !rows.Next() {
				return false, rows.Err()
			}
			v := rows.RawValues()
			if len(v[3]) != 8 {
				return false, fmt.Errorf("profile: history: basket time of %d bytes", len(v[3]))
			}
			r.member, r.basket, r.store, r.categories, r.brand = v[0], v[1], v[2], v[4], v[6]
			r.at = pgEpoch.Add(time.Duration(int64(binary.BigEndian.Uint64(v[3]))) * time.Microsecond)
			r.line = v[5] != nil
			r.net = 0
			if r.line {
				if len(v[5]) != 8 {
					return false, fmt.Errorf("profile: history: line net of %d bytes", len(v[5]))
				}
				r.net = int64(binary.BigEndian.Uint64(v[5]))
			}
			return true, nil
		}
		return s.foldRows(next, func() error { rows.Close(); return nil }, now, byBrand, every, emit)
	})
}

// pgEpoch is where PostgreSQL's binary timestamps count microseconds from.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// historyColumns checks that the history query's columns come in the
// forms historyPG decodes: member, basket and store text, the time a binary
// timestamptz, categories text, the net a binary int8, brand text.
func historyColumns(fds []pgconn.FieldDescription) error {
	want := []uint32{pgtype.TextOID, pgtype.TextOID, pgtype.TextOID, pgtype.TimestamptzOID, pgtype.TextOID, pgtype.Int8OID, pgtype.TextOID}
	if len(fds) != len(want) {
		return fmt.Errorf("profile: history: %d columns, want %d", len(fds), len(want))
	}
	for i, fd := range fds {
		if fd.DataTypeOID != want[i] || (fd.Format != pgx.BinaryFormatCode && fd.DataTypeOID != pgtype.TextOID) {
			return fmt.Errorf("profile: history: column %s is of type %d in format %d", fd.Name, fd.DataTypeOID, fd.Format)
		}
	}
	return nil
}

// foldRows folds the rows next gives (false at the end), then calls done
// (which closes the query), handing the folded members to emit as history
// says.
func (s *Service) foldRows(next func(*row) (bool, error), done func() error, now time.Time, byBrand map[string]string,
	every int, emit func([]folded) error) error {
	f := newFold(s.opt, now)
	f.byBrand = byBrand
	var pending []folded
	var r row
	for {
		ok, err := next(&r)
		if err != nil {
			return fmt.Errorf("profile: history: %w", err)
		}
		if !ok {
			break
		}
		if f.member == "" || string(r.member) != f.member {
			if f.member != "" {
				pending = append(pending, f.done())
				if every > 0 && len(pending) >= every {
					if err := emit(pending); err != nil {
						return err
					}
					// emit owns what it was given.
					pending = make([]folded, 0, every)
				}
			}
			f.member = string(r.member)
		}
		if err := f.add(&r); err != nil {
			return err
		}
	}
	if err := done(); err != nil {
		return fmt.Errorf("profile: history: %w", err)
	}
	if f.member != "" {
		pending = append(pending, f.done())
	}
	if len(pending) > 0 {
		return emit(pending)
	}
	return nil
}

// stage writes folded members' figures and affinities to st's tables in tx,
// by multi-row INSERTs.
func (s *Service) stage(ctx context.Context, tx *sql.Tx, st staging, ms []folded) error {
	figs, affs := rowsOf(ms)
	if err := s.bulk(ctx, nil, tx, st.figures, stageCols, figs); err != nil {
		return fmt.Errorf("profile: stage figures: %w", err)
	}
	if err := s.bulk(ctx, nil, tx, st.affinities, affinityCols, affs); err != nil {
		return fmt.Errorf("profile: write affinities: %w", err)
	}
	return nil
}

// rowsOf is the rows of folded members' figures (stageCols) and affinities
// (affinityCols).
func rowsOf(ms []folded) (figs, affs [][]any) {
	figs = make([][]any, 0, len(ms))
	for i := range ms {
		m := &ms[i]
		figs = append(figs, []any{m.member, m.last, m.freq, m.monetary, m.store, m.avg, m.visitDays, m.interval, m.overdueAfter})
		for _, a := range m.categories {
			affs = append(affs, []any{m.member, kindCategory, a.name, a.share})
		}
		for _, a := range m.brands {
			affs = append(affs, []any{m.member, kindBrand, a.name, a.share})
		}
	}
	return figs, affs
}

// bulk writes rows into table: by COPY on conn when it is given on
// PostgreSQL (tx is then unused: the rows go in conn's transaction, if it is
// in one), by INSERTs in tx otherwise.
func (s *Service) bulk(ctx context.Context, conn *sql.Conn, tx *sql.Tx, table string, cols []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	if conn != nil && s.db.Dialect == store.Postgres {
		return conn.Raw(func(dc any) error {
			_, err := dc.(*stdlib.Conn).Conn().CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows))
			return err
		})
	}
	// Rows go bulkRows at a time through one statement prepared for that
	// many, the rest one by one: a statement per row cost more in
	// database/sql and binding than SQLite's insert, and a multi-row
	// statement of varying size was parsed again for every batch.
	var one, many *sql.Stmt
	defer func() {
		for _, st := range []*sql.Stmt{one, many} {
			if st != nil {
				st.Close()
			}
		}
	}()
	head := `INSERT INTO ` + table + ` (` + strings.Join(cols, ", ") + `) VALUES `
	args := make([]any, 0, bulkRows*len(cols))
	for len(rows) >= bulkRows {
		if many == nil {
			var err error
			if many, err = tx.PrepareContext(ctx, head+store.Values(bulkRows, len(cols))); err != nil {
				return err
			}
		}
		args = args[:0]
		for _, r := range rows[:bulkRows] {
			args = append(args, r...)
		}
		if _, err := many.ExecContext(ctx, args...); err != nil {
			return err
		}
		rows = rows[bulkRows:]
	}
	for _, r := range rows {
		if one == nil {
			var err error
			if one, err = tx.PrepareContext(ctx, head+store.Values(1, len(cols))); err != nil {
				return err
			}
		}
		if _, err := one.ExecContext(ctx, r...); err != nil {
			return err
		}
	}
	return nil
}

// bulkRows is how many rows one of bulk's INSERTs writes on SQLite.
const bulkRows = 64

// phases adds up the wall time of a refresh's phases, logged at Debug so a
// benchmark can tell where the time goes.
// fold is the whole figures pass and includes stage, the time spent
// writing what the fold produced.
type phases struct{ fold, stage, upsert, cuts, events time.Duration }

type phasesKey struct{}

// since adds the time since start to the phase field picks, when ctx
// carries phases.
func since(ctx context.Context, start time.Time, pick func(*phases) *time.Duration) {
	if p, ok := ctx.Value(phasesKey{}).(*phases); ok {
		*pick(p) += time.Since(start)
	}
}
