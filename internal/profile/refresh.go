package profile

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/perk-platform/perk/internal/event"
	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/report/figures"
	"github.com/perk-platform/perk/internal/store"
)

// SegmentEntered is the type of the event a member raises on entering a
// segment, with properties {"segment"}: journeys trigger on it.
const SegmentEntered = "segment_entered"

// Service refreshes and updates profiles.
type Service struct {
	db  *store.DB
	opt Options
	log *slog.Logger
	// refreshing is held by a refresh: a second one waits, and a drain in
	// this process skips its turn rather than write a profile the refresh
	// is about to write again from older history, after the drain took
	// the member off the queue. (Across processes on PostgreSQL the
	// advisory lock refreshLock does the same.)
	refreshing sync.Mutex
}

// NewService returns a Service over db; a nil log discards.
func NewService(db *store.DB, opt Options, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, opt: opt.withDefaults(), log: log}
}

// Options returns the service's options with their defaults filled in.
func (s *Service) Options() Options { return s.opt }

// Result says what a refresh or a drain did.
type Result struct {
	Members  int64     `json:"members"`  // profiles written
	Scored   int64     `json:"scored"`   // members with a purchase, placed in quintiles
	Entered  int64     `json:"entered"`  // members who entered a segment (segment_entered events)
	Cuts     [3]Cuts   `json:"cuts"`     // recency (Unix seconds), frequency, monetary
	At       time.Time `json:"at"`       // the time the profiles are as of
	Snapshot string    `json:"snapshot"` // the month whose end-of-month segments this refresh kept, if any
}

// state is the last refresh's, which the incremental pass scores against.
type state struct {
	At   time.Time
	Cuts [3]Cuts
}

// scope restricts the statements to some members: every member when ids
// is nil and the scope is not ranged; the members listed in ids; or, when
// ranged, the members whose id is from lo (inclusive) to hi (exclusive; no
// upper bound when hi is "").
type scope struct {
	ids    []string
	ranged bool
	lo, hi string
}

// on is the condition on column col, with placeholders from $from; "" for
// every member.
func (sc scope) on(col string, from int) string {
	switch {
	case sc.ranged && sc.hi == "":
		return " AND " + col + " >= $" + strconv.Itoa(from)
	case sc.ranged:
		return " AND " + col + " >= $" + strconv.Itoa(from) + " AND " + col + " < $" + strconv.Itoa(from+1)
	case sc.ids == nil:
		return ""
	}
	return " AND " + col + " IN (" + store.Postgres.Placeholders(from, len(sc.ids)) + ")"
}

func (sc scope) args(head ...any) []any {
	if sc.ranged {
		head = append(head, sc.lo)
		if sc.hi != "" {
			head = append(head, sc.hi)
		}
		return head
	}
	for _, id := range sc.ids {
		head = append(head, id)
	}
	return head
}

// Refresh recomputes every member's profile from history, re-derives the
// quintile cut points and scores and segments everyone against them, raises
// segment_entered for members whose segment changed, and keeps last month's
// segments when this is the month's first refresh.
//
// On PostgreSQL it runs in one transaction: readers see the old profiles or
// the new ones, and tills never wait for it (they only upsert their own
// member's profile_queue row, which the refresh touches at its very end).
// On SQLite, whose one writer a till's commit needs too, it never holds the
// writer for more than one chunk of Options.RefreshChunk members: their
// affinities and staged figures, then (once every chunk is staged and the
// cut points are known) their profiles and segment_entered events, each
// chunk its own short transaction, so commits at the till go in between.
// Readers may then see some members refreshed and others not yet, for the
// length of the run; a member whose basket commits during the run stays
// queued for Drain. On both, the history is read on connections of the read
// pool while the writer writes (piped), and a drain waits for the refresh.
func (s *Service) Refresh(ctx context.Context) (Result, error) {
	s.refreshing.Lock()
	defer s.refreshing.Unlock()
	now := s.opt.Now().UTC()
	res := Result{At: now}
	ph := &phases{}
	ctx = context.WithValue(ctx, phasesKey{}, ph)
	if s.db.Dialect == store.Postgres {
		if err := s.refreshPG(ctx, now, &res); err != nil {
			return Result{}, err
		}
	} else if err := s.refreshChunked(ctx, now, &res); err != nil {
		return Result{}, err
	}
	s.log.InfoContext(ctx, "profiles refreshed", "members", res.Members, "scored", res.Scored, "entered", res.Entered)
	s.log.DebugContext(ctx, "profile refresh phases", "fold", ph.fold, "stage", ph.stage, "upsert", ph.upsert, "cuts", ph.cuts, "events", ph.events)
	return res, nil
}

// refreshChunked is Refresh on SQLite, one bounded write transaction at a
// time (see Refresh).
func (s *Service) refreshChunked(ctx context.Context, now time.Time, res *Result) error {
	chunks, err := s.chunks(ctx)
	if err != nil {
		return err
	}
	// The history query looks every line up by its basket, all over the
	// file: through the page cache each miss is a pread and a copy.
	// Mapped, the run reads the OS's cached pages in place. The write pool
	// is one connection, which keeps the setting until it is put back.
	if _, err := s.db.W.ExecContext(ctx, `PRAGMA mmap_size = `+strconv.FormatInt(store.SQLiteMmap, 10)); err != nil {
		return fmt.Errorf("profile: mmap: %w", err)
	}
	defer s.db.W.ExecContext(context.WithoutCancel(ctx), `PRAGMA mmap_size = 0`)
	if err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		res.Snapshot, err = s.snapshot(ctx, tx, now)
		return err
	}); err != nil {
		return err
	}
	s.opt.afterChunk()
	// The staging table is the write connection's own (temporary) and
	// outlives the chunks' transactions: every member's figures are staged
	// before the cut points can be taken.
	if err := s.initStage(ctx, s.db.W, refreshStaging.figures); err != nil {
		return err
	}
	defer s.db.W.ExecContext(context.WithoutCancel(ctx), `DELETE FROM temp.`+refreshStaging.figures)
	// Chunks' histories are read and folded on connections of the read
	// pool, one reader a core, while the writer stages the chunks already
	// read: on SQLite reading (B-tree lookups all over the file) costs
	// about twice what writing does, and one reader left the writer idle.
	// Chunks are independent ranges of members, so the order they are
	// staged in does not matter.
	byBrand, err := brands(ctx, s.db.R)
	if err != nil {
		return err
	}
	read := func(ctx context.Context, emit func(chunk) error) error {
		var next atomic.Int64
		g, ctx := errgroup.WithContext(ctx)
		for range min(runtime.GOMAXPROCS(0), maxReaders) {
			g.Go(func() error {
				conn, err := s.db.R.Conn(ctx)
				if err != nil {
					return fmt.Errorf("profile: read connection: %w", err)
				}
				defer conn.Close() // mapped, as every reader is (store.SQLiteMmap)
				for i := next.Add(1) - 1; i < int64(len(chunks)); i = next.Add(1) - 1 {
					var ms []folded
					if err := s.history(ctx, conn, chunks[i], now, byBrand, 0, func(f []folded) error { ms = f; return nil }); err != nil {
						return err
					}
					if err := emit(chunk{chunks[i], ms}); err != nil {
						return err
					}
				}
				return nil
			})
		}
		return g.Wait()
	}
	scored, err := newScoredDims(ctx, s.db.R)
	if err != nil {
		return err
	}
	write := func(c chunk) error {
		scored.add(c.ms)
		if err := s.db.Tx(ctx, func(tx *sql.Tx) error {
			if err := s.prepare(ctx, tx, c.sc); err != nil {
				return err
			}
			defer since(ctx, time.Now(), func(p *phases) *time.Duration { return &p.stage })
			return s.stage(ctx, tx, refreshStaging, c.ms)
		}); err != nil {
			return err
		}
		s.opt.afterChunk()
		return nil
	}
	start := time.Now()
	if err := piped(ctx, read, write); err != nil {
		return err
	}
	since(ctx, start, func(p *phases) *time.Duration { return &p.fold })
	st := state{At: now}
	// The cut points need every member's figures, all staged by now.
	res.Scored, st.Cuts = scored.cuts(ctx)
	res.Cuts = st.Cuts
	for _, sc := range chunks {
		if err := s.db.Tx(ctx, func(tx *sql.Tx) error {
			n, e, err := s.write(ctx, tx, refreshStaging.figures, sc, now, &st)
			res.Members += n
			res.Entered += e
			return err
		}); err != nil {
			return err
		}
		s.opt.afterChunk()
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error { return s.finish(ctx, tx, st, now) })
}

// refreshLock is the key of the PostgreSQL advisory lock a refresh holds and
// a drain must get (pg_try_advisory_xact_lock) to run.
const refreshLock = 7357014 // beside migrate.go's 7357001 and the others of the 73570xx family

// swapped is a table a refresh on PostgreSQL writes whole under the name
// next: filled without indexes, indexed once full (a sorted build) and
// swapped in for the live table at the end of the refresh's transaction.
// Deleting every row and inserting them again through the indexes cost
// several times as much and left as many dead rows behind.
// TestRefresh_SwapKeepsTheSchema checks that the swapped-in table has the
// columns, key and indexes the migrations give the live one, under the
// same names.
type swapped struct {
	live, next string
	key        string      // the primary key's columns
	indexes    [][2]string // the live table's other indexes: name, columns
}

var (
	affinitiesSwap = swapped{live: "member_affinities", next: "member_affinities_next", key: "member_id, kind, name"}
	profilesSwap   = swapped{live: "member_profiles", next: "member_profiles_next", key: "member_id",
		indexes: [][2]string{{"member_profiles_segment_idx", "segment"}}}
)

// create makes the empty next table, dropping one a failed refresh left.
func (t swapped) create(ctx context.Context, ex store.Execer) error {
	for _, q := range []string{`DROP TABLE IF EXISTS ` + t.next,
		`CREATE TABLE ` + t.next + ` (LIKE ` + t.live + ` INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`} {
		if _, err := ex.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("profile: new %s: %w", t.live, err)
		}
	}
	return nil
}

// index builds the next table's key and indexes, under names of their own
// until the swap, and gathers its statistics: the planner would otherwise
// know nothing of the swapped-in table until autovacuum came by.
func (t swapped) index(ctx context.Context, ex store.Execer) error {
	qs := []string{`ALTER TABLE ` + t.next + ` ADD CONSTRAINT ` + t.next + `_pkey PRIMARY KEY (` + t.key + `)`}
	for _, ix := range t.indexes {
		qs = append(qs, `CREATE INDEX `+ix[0]+`_next ON `+t.next+` (`+ix[1]+`)`)
	}
	for _, q := range append(qs, `ANALYZE `+t.next) {
		if _, err := ex.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("profile: index new %s: %w", t.live, err)
		}
	}
	return nil
}

// swap replaces the live table by the next one. Readers of the table wait
// from here to the commit, the refresh's last statements.
func (t swapped) swap(ctx context.Context, ex store.Execer) error {
	qs := []string{`DROP TABLE ` + t.live, `ALTER TABLE ` + t.next + ` RENAME TO ` + t.live,
		`ALTER TABLE ` + t.live + ` RENAME CONSTRAINT ` + t.next + `_pkey TO ` + t.live + `_pkey`}
	for _, ix := range t.indexes {
		qs = append(qs, `ALTER INDEX `+ix[0]+`_next RENAME TO `+ix[0])
	}
	for _, q := range qs {
		if _, err := ex.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("profile: swap %s: %w", t.live, err)
		}
	}
	return nil
}

// refreshPG is Refresh on PostgreSQL: one transaction (the writer's) that
// holds the refresh lock, stages the figures, builds the new profiles,
// raises the events and swaps in the new profiles and affinities. The
// affinities are written and indexed on a second connection, outside that
// transaction, so that their index builds run beside the profiles' (the
// history is read on a third, piped): the swap waits for them. A refresh
// that fails leaves no half-built table behind but, at worst, the
// affinities' next table, which the next refresh drops.
func (s *Service) refreshPG(ctx context.Context, now time.Time, res *Result) (err error) {
	aconn, err := s.db.W.Conn(ctx)
	if err != nil {
		return fmt.Errorf("profile: affinities connection: %w", err)
	}
	defer aconn.Close()
	built := false
	defer func() {
		if err != nil && built {
			s.dropNext(affinitiesSwap)
		}
	}()
	return s.db.ConnTx(ctx, func(conn *sql.Conn, tx *sql.Tx) error {
		// The refresh sorts and hashes the whole history: the default
		// 4 MB spilled its aggregates and sorts to disk.
		if _, err := tx.ExecContext(ctx, `SET LOCAL work_mem = '256MB'`); err != nil {
			return fmt.Errorf("profile: work_mem: %w", err)
		}
		var err error
		if res.Snapshot, err = s.snapshot(ctx, tx, now); err != nil {
			return err
		}
		// A drain waits for the refresh (what it wrote to the tables the
		// refresh replaces would be lost): drainOnce.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, refreshLock); err != nil {
			return fmt.Errorf("profile: refresh lock: %w", err)
		}
		built = true
		if err := affinitiesSwap.create(ctx, aconn); err != nil {
			return err
		}
		if err := profilesSwap.create(ctx, tx); err != nil {
			return err
		}
		if err := s.initStage(ctx, tx, refreshStaging.figures); err != nil {
			return err
		}
		scored, err := newScoredDims(ctx, tx)
		if err != nil {
			return err
		}
		// The figures go to the staging table in the transaction, the
		// affinities to their next table on the other connection, side by
		// side.
		start := time.Now()
		err = s.readAll(ctx, now)(func(ms []folded) error {
			defer since(ctx, time.Now(), func(p *phases) *time.Duration { return &p.stage })
			scored.add(ms)
			figs, affs := rowsOf(ms)
			var g errgroup.Group
			g.Go(func() error { return s.bulk(ctx, conn, tx, refreshStaging.figures, stageCols, figs) })
			g.Go(func() error { return s.bulk(ctx, aconn, nil, affinitiesSwap.next, affinityCols, affs) })
			return g.Wait()
		})
		if err != nil {
			return fmt.Errorf("profile: stage: %w", err)
		}
		since(ctx, start, func(p *phases) *time.Duration { return &p.fold })
		indexed := make(chan error, 1)
		go func() { indexed <- affinitiesSwap.index(ctx, aconn) }()
		// Whatever happens below, the index build is over before the
		// connection goes back to the pool.
		waited := false
		defer func() {
			if !waited {
				<-indexed
			}
		}()
		s.opt.afterChunk()
		st := state{At: now}
		res.Scored, st.Cuts = scored.cuts(ctx)
		res.Cuts = st.Cuts
		start = time.Now()
		if res.Members, err = s.upsert(ctx, tx, refreshStaging.figures, profilesSwap.next, scope{}, now, &st); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DROP TABLE `+refreshStaging.figures); err != nil {
			return fmt.Errorf("profile: staging table: %w", err)
		}
		if err := profilesSwap.index(ctx, tx); err != nil {
			return err
		}
		since(ctx, start, func(p *phases) *time.Duration { return &p.upsert })
		start = time.Now()
		if res.Entered, err = s.raiseEntered(ctx, tx, profilesSwap.next, scope{}, now); err != nil {
			return err
		}
		since(ctx, start, func(p *phases) *time.Duration { return &p.events })
		waited = true
		if err := <-indexed; err != nil {
			return err
		}
		for _, t := range []swapped{profilesSwap, affinitiesSwap} {
			if err := t.swap(ctx, tx); err != nil {
				return err
			}
		}
		s.opt.afterChunk()
		return s.finish(ctx, tx, st, now)
	})
}

// dropNext drops t's next table after a failed refresh, under the refresh
// lock (taken for the session, on a connection of its own: a failure may
// have broken the refresh's), when it gets it within dropWait: the failed
// refresh's server process may still hold it for a moment, and another
// refresh, which would be filling a next table of its own, holds it for
// longer (its next refresh then drops the table before making its own).
func (s *Service) dropNext(t swapped) {
	ctx, cancel := context.WithTimeout(context.Background(), dropWait)
	defer cancel()
	conn, err := s.db.W.Conn(ctx)
	if err != nil {
		s.log.Warn("profile: drop the new table of a failed refresh", "table", t.next, "err", err)
		return
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, refreshLock); err != nil {
		s.log.Warn("profile: new table of a failed refresh left for the next", "table", t.next, "err", err)
		return
	}
	if _, err := conn.ExecContext(ctx, `DROP TABLE IF EXISTS `+t.next); err != nil {
		s.log.Warn("profile: drop the new table of a failed refresh", "table", t.next, "err", err)
	}
	if _, err := conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, refreshLock); err != nil {
		// Not back to the pool holding the lock: every refresh would wait.
		conn.Raw(func(any) error { return driver.ErrBadConn })
		s.log.Warn("profile: refresh lock", "err", err)
	}
}

// dropWait bounds how long dropNext waits for the refresh lock.
const dropWait = 5 * time.Second

// maxReaders bounds the readers of a SQLite refresh (one a core up to it):
// the read pool has 8 connections, which tills' reads need too.
const maxReaders = 4

// chunk is one chunk's folded members, handed from the reader to the writer.
type chunk struct {
	sc scope
	ms []folded
}

// readAll is the feed of every member's figures on PostgreSQL: the history
// read in one query, streamed, on a read transaction of its own.
func (s *Service) readAll(ctx context.Context, now time.Time) func(func([]folded) error) error {
	return func(write func([]folded) error) error {
		return piped(ctx, func(ctx context.Context, emit func([]folded) error) error {
			conn, err := s.db.R.Conn(ctx)
			if err != nil {
				return fmt.Errorf("profile: history connection: %w", err)
			}
			defer conn.Close()
			byBrand, err := brands(ctx, conn)
			if err != nil {
				return err
			}
			// It sorts and hashes the whole history: the default 4 MB
			// spills to disk. It runs with one parallel worker, not the
			// default two: the fold and the writers keep the other core
			// busy, and the query took 38 CPU-seconds with two workers, 34
			// with one and 29 with none at 1,000,000 members (20 s, 18 s
			// and 29 s on an idle machine: the refresh took least with one).
			// JIT is back on (the store turns it off for its connections):
			// the refresh's goal, 60 s at 1M members, was measured with it.
			return s.historyPG(ctx, conn, []string{`SET LOCAL work_mem = '256MB'`, `SET LOCAL max_parallel_workers_per_gather = 1`, `SET LOCAL jit = on`},
				now, byBrand, flushMembers, emit)
		}, write)
	}
}

// chunks splits the members, by id, into ranges of Options.RefreshChunk.
func (s *Service) chunks(ctx context.Context) ([]scope, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT id FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS rn FROM members) x
		WHERE rn % $1 = 1 AND rn > 1 ORDER BY id`, s.opt.RefreshChunk)
	if err != nil {
		return nil, fmt.Errorf("profile: chunks: %w", err)
	}
	defer rows.Close()
	out := []scope{{ranged: true}}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("profile: chunks: %w", err)
		}
		out[len(out)-1].hi = id
		out = append(out, scope{ranged: true, lo: id})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("profile: chunks: %w", err)
	}
	return out, nil
}

// prepare drops the profiles of erased members and the affinities of the
// members in sc, which the chunk then writes again (SQLite).
func (s *Service) prepare(ctx context.Context, tx *sql.Tx, sc scope) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM member_profiles WHERE member_id IN
		(SELECT id FROM members WHERE status = 'erased'`+sc.on("id", 1)+`)`, sc.args()...); err != nil {
		return fmt.Errorf("profile: drop erased: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM member_affinities WHERE 1 = 1`+sc.on("member_id", 1), sc.args()...); err != nil {
		return fmt.Errorf("profile: clear affinities: %w", err)
	}
	return nil
}

// initStage creates the staging table of the figures, or empties it.
func (s *Service) initStage(ctx context.Context, ex store.Execer, table string) error {
	for _, q := range stageDDL(s.db.Dialect, table) {
		if _, err := ex.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("profile: staging table: %w", err)
		}
	}
	return nil
}

// stageFigures stages the figures of members and writes their affinities
// (the caller deleted their old ones), in tx by INSERTs: their history
// folded in Go (history.go), which feed hands to the write function it is
// given, goes to st's tables. The drain's; a full refresh stages its own
// way on each engine.
func (s *Service) stageFigures(ctx context.Context, tx *sql.Tx, st staging, feed func(write func([]folded) error) error) error {
	if err := s.initStage(ctx, tx, st.figures); err != nil {
		return err
	}
	defer since(ctx, time.Now(), func(p *phases) *time.Duration { return &p.fold })
	return feed(func(ms []folded) error {
		defer since(ctx, time.Now(), func(p *phases) *time.Duration { return &p.stage })
		return s.stage(ctx, tx, st, ms)
	})
}

// write upserts the profiles of the members in sc from their figures staged
// in table, scored against st's cut points when st is not nil (scores are
// left as they are before a first refresh), and raises segment_entered for
// those who entered a segment. It returns the profiles written and the
// members who entered a segment. On PostgreSQL the staging table is then
// dropped: ON COMMIT DROP would keep it until the end of a refresh's one
// transaction, and a second use in a transaction creates it again.
func (s *Service) write(ctx context.Context, tx *sql.Tx, table string, sc scope, now time.Time, st *state) (int64, int64, error) {
	start := time.Now()
	n, err := s.upsert(ctx, tx, table, "member_profiles", sc, now, st)
	if err != nil {
		return 0, 0, err
	}
	since(ctx, start, func(p *phases) *time.Duration { return &p.upsert })
	var entered int64
	if st != nil {
		start = time.Now()
		if entered, err = s.raiseEntered(ctx, tx, "member_profiles", sc, now); err != nil {
			return 0, 0, err
		}
		since(ctx, start, func(p *phases) *time.Duration { return &p.events })
	}
	if s.db.Dialect == store.Postgres {
		if _, err := tx.ExecContext(ctx, `DROP TABLE `+table); err != nil {
			return 0, 0, fmt.Errorf("profile: staging table: %w", err)
		}
	}
	return n, entered, nil
}

// inline is the feed of a few members' figures (Drain's): their history
// read in tx itself, then written.
func (s *Service) inline(ctx context.Context, tx *sql.Tx, sc scope, now time.Time) func(func([]folded) error) error {
	return func(write func([]folded) error) error { return s.history(ctx, tx, sc, now, nil, 0, write) }
}

// piped runs read in a goroutine of its own (on another connection than
// the writer's) and hands what it emits to write in the caller's
// goroutine, so reading and folding the history overlaps writing the
// previous batch: the two halves of a refresh each keep a core busy. It
// returns the first error of either; a failed write stops the read.
func piped[T any](ctx context.Context, read func(ctx context.Context, emit func(T) error) error, write func(T) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan T, 1)
	rerr := make(chan error, 1)
	go func() {
		defer close(ch)
		rerr <- read(ctx, func(v T) error {
			select {
			case ch <- v:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	var werr error
	for v := range ch {
		if werr == nil {
			if werr = write(v); werr != nil {
				cancel()
			}
		}
	}
	if err := <-rerr; werr == nil && err != nil {
		return err
	}
	return werr
}

// finish records the refresh's cut points and clears the queue of what it
// computed.
func (s *Service) finish(ctx context.Context, tx *sql.Tx, st state, now time.Time) error {
	cuts, _ := json.Marshal(st.Cuts)
	if _, err := tx.ExecContext(ctx, `DELETE FROM profile_state`); err != nil {
		return fmt.Errorf("profile: state: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO profile_state (id, refreshed_at, window_days, cuts) VALUES (1, $1, $2, $3)`,
		now, int(s.opt.Window/(24*time.Hour)), string(cuts)); err != nil {
		return fmt.Errorf("profile: state: %w", err)
	}
	// Whatever was queued by now is computed.
	if _, err := tx.ExecContext(ctx, `DELETE FROM profile_queue WHERE queued_at <= $1`, now); err != nil {
		return fmt.Errorf("profile: clear queue: %w", err)
	}
	return nil
}

// snapshot keeps every member's segment at the end of the month of the
// previous refresh, once, when this refresh is the first of a later month.
func (s *Service) snapshot(ctx context.Context, tx *sql.Tx, now time.Time) (string, error) {
	var prev sql.NullTime
	err := tx.QueryRowContext(ctx, `SELECT refreshed_at FROM profile_state WHERE id = 1`).Scan(&prev)
	if err == sql.ErrNoRows || (err == nil && !prev.Valid) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("profile: previous refresh: %w", err)
	}
	month := prev.Time.UTC().Format("2006-01")
	if month == now.Format("2006-01") {
		return "", nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM profile_snapshots WHERE month = $1`, month); err != nil {
		return "", fmt.Errorf("profile: snapshot: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO profile_snapshots (month, member_id, segment)
		SELECT $1, member_id, segment FROM member_profiles WHERE segment <> ''`, month); err != nil {
		return "", fmt.Errorf("profile: snapshot: %w", err)
	}
	return month, nil
}

// committedIn is the condition on baskets b of the member baskets that
// count: committed (not voided), from $2 (the window's start) to $1 (now).
const committedIn = `b.status = 'committed' AND b.member_id IS NOT NULL AND b.created_at >= $2 AND b.created_at <= $1`

// baskets is the FROM item of the baskets b of the members in sc. On SQLite
// a chunk of members must be read through the member index: the planner
// otherwise picks the window's created_at range, which reads every member's
// baskets for each chunk.
func (s *Service) baskets(sc scope) string {
	if sc.ranged && s.db.Dialect == store.SQLite {
		return "baskets b INDEXED BY baskets_member_idx"
	}
	return "baskets b"
}

// profileCols are the member_profiles columns upsert writes, scores apart.
const profileCols = `member_id, last_purchase, frequency, monetary, preferred_store, avg_basket, visit_days, usual_interval,
	overdue_after, sms_received, sms_clicks, sms_redemptions, points_earned, points_redeemed, points_balance, refreshed_at`

// upsert writes the profiles of the members in sc: the basket-derived
// figures staged in table (history), the SMS response, redemptions and
// points by SQL, and, when st is not nil, the scores and segment against its
// cut points, stamping segment_since where the segment changed. A profile
// row is written once: scoring it in a second UPDATE wrote every row twice
// (a sixth of the refresh on PostgreSQL at 1,000,000 members). The rows go
// into member_profiles, or, when into names another table (empty, of the
// same columns: a refresh's next table, swapped), into that one, with
// segment_since carried over from member_profiles where the segment is
// the same (st must then be given). Parameters: $1 now, $2 window start;
// then the scope's ids.
func (s *Service) upsert(ctx context.Context, tx *sql.Tx, table, into string, sc scope, now time.Time, st *state) (int64, error) {
	d := s.db.Dialect
	q := `WITH sms AS (SELECT member_id, SUM(CASE WHEN type = 'sms_delivered' THEN 1 ELSE 0 END) AS recv,
		SUM(CASE WHEN type = 'link_clicked' THEN 1 ELSE 0 END) AS clicks FROM events
		WHERE member_id IS NOT NULL AND type IN ('sms_delivered', 'link_clicked') AND occurred_at >= $2 AND occurred_at <= $1` +
		sc.on("member_id", 3) + ` GROUP BY member_id),
	red AS (SELECT member_id, COUNT(*) AS n FROM (SELECT DISTINCT r.member_id, r.basket_id, r.campaign_id FROM redemptions r
		WHERE r.member_id IS NOT NULL AND r.created_at >= $2 AND r.created_at <= $1 AND ` + figures.Standing + sc.on("r.member_id", 3) + `) x
		GROUP BY member_id),
	pts AS (SELECT member_id, ` + ledger.Lifetime + ` AS earned, ` + ledger.Redeemed + ` AS redeemed FROM points_entries
		WHERE 1 = 1` + sc.on("member_id", 3) + ` GROUP BY member_id),
	bal AS (SELECT member_id, CAST(SUM(remaining) AS BIGINT) AS balance FROM points_lots
		WHERE ` + ledger.LotsAvailable("$1") + sc.on("member_id", 3) + ` GROUP BY member_id),
	v AS (SELECT m.id AS member_id, f.last_purchase AS last_purchase, COALESCE(f.frequency, 0) AS frequency,
		COALESCE(f.monetary, 0) AS monetary, COALESCE(f.preferred_store, '') AS preferred_store, COALESCE(f.avg_basket, 0) AS avg_basket,
		COALESCE(f.visit_days, 0) AS visit_days, COALESCE(f.usual_interval, 0) AS usual_interval,
		COALESCE(f.overdue_after, 0) AS overdue_after, COALESCE(sms.recv, 0) AS sms_received, COALESCE(sms.clicks, 0) AS sms_clicks,
		COALESCE(red.n, 0) AS sms_redemptions, COALESCE(pts.earned, 0) AS points_earned, COALESCE(pts.redeemed, 0) AS points_redeemed,
		COALESCE(bal.balance, 0) AS points_balance, ` + d.TimeParam("$1") + ` AS refreshed_at
	FROM members m
	LEFT JOIN ` + table + ` f ON f.member_id = m.id
	LEFT JOIN sms ON sms.member_id = m.id
	LEFT JOIN red ON red.member_id = m.id
	LEFT JOIN pts ON pts.member_id = m.id
	LEFT JOIN bal ON bal.member_id = m.id
	WHERE m.status <> 'erased'` + sc.on("m.id", 3) + `)`
	set := `last_purchase = excluded.last_purchase, frequency = excluded.frequency,
		monetary = excluded.monetary, preferred_store = excluded.preferred_store, avg_basket = excluded.avg_basket,
		visit_days = excluded.visit_days, usual_interval = excluded.usual_interval, overdue_after = excluded.overdue_after,
		sms_received = excluded.sms_received, sms_clicks = excluded.sms_clicks, sms_redemptions = excluded.sms_redemptions,
		points_earned = excluded.points_earned, points_redeemed = excluded.points_redeemed,
		points_balance = excluded.points_balance, refreshed_at = excluded.refreshed_at`
	if st == nil {
		q += ` INSERT INTO member_profiles (` + profileCols + `) SELECT ` + profileCols + ` FROM v WHERE true
		ON CONFLICT (member_id) DO UPDATE SET ` + set
	} else {
		dm := dims(d)
		var score [3]string
		for i := range dm {
			score[i] = "CASE WHEN last_purchase IS NULL THEN 0 ELSE " + st.Cuts[i].scoreSQL(dm[i]) + " END"
		}
		// Both engines flatten subqueries and would evaluate each score's
		// CASE again in every one of the segment CASE's 25 branches, and the
		// segment twice; an OFFSET keeps each computed once a row. SQLite
		// needs a LIMIT before it.
		fence := " LIMIT -1 OFFSET 0"
		if d == store.Postgres {
			fence = " OFFSET 0"
		}
		scoredRows := `(SELECT y.*, ` + segmentSQL("r", "f", "m") + ` AS seg FROM (SELECT v.*, ` + score[0] + ` AS r, ` + score[1] + ` AS f, ` +
			score[2] + ` AS m FROM v` + fence + `) y` + fence + `) z`
		if into != "member_profiles" {
			q += ` INSERT INTO ` + into + ` (` + profileCols + `, r_score, f_score, m_score, segment, segment_since)
			SELECT ` + qualified("z", profileCols) + `, r, f, m, seg,
				CASE WHEN seg = o.segment THEN o.segment_since WHEN seg = '' THEN NULL ELSE ` + d.TimeParam("$1") + ` END
			FROM ` + scoredRows + ` LEFT JOIN member_profiles o ON o.member_id = z.member_id`
		} else {
			q += ` INSERT INTO member_profiles (` + profileCols + `, r_score, f_score, m_score, segment, segment_since)
			SELECT ` + profileCols + `, r, f, m, seg, CASE WHEN seg = '' THEN NULL ELSE ` + d.TimeParam("$1") + ` END
			FROM ` + scoredRows + ` WHERE true
			ON CONFLICT (member_id) DO UPDATE SET ` + set + `, r_score = excluded.r_score, f_score = excluded.f_score,
				m_score = excluded.m_score, segment = excluded.segment,
				segment_since = CASE WHEN excluded.segment = member_profiles.segment THEN member_profiles.segment_since
					ELSE excluded.segment_since END`
		}
	}
	r, err := tx.ExecContext(ctx, q, sc.args(now, now.Add(-s.opt.Window))...)
	if err != nil {
		return 0, fmt.Errorf("profile: upsert: %w", err)
	}
	n, _ := r.RowsAffected()
	return n, nil
}

// qualified is the comma-separated columns cols, each prefixed with alias.
func qualified(alias, cols string) string {
	fs := strings.Split(cols, ",")
	for i, c := range fs {
		fs[i] = alias + "." + strings.TrimSpace(c)
	}
	return strings.Join(fs, ", ")
}

// dims are the three scored values of a profile row: recency (the last
// purchase in Unix seconds), frequency and monetary value.
func dims(d store.Dialect) [3]string {
	return [3]string{d.EpochBucket("last_purchase", 1), "frequency", "monetary"}
}

// scoredDims collects, as a refresh stages them, the three scored values of
// every member who has bought (all the folded ones: a member is folded for
// having a basket), but those erased when the refresh began, which get no
// profile: the values the upsert scores. Their quintile cut points are taken
// in Go once all are staged (1,000,000 members are 24 MB), where SQL sorted
// the staged table three times.
type scoredDims struct {
	erased map[string]bool
	v      [3][]int64
}

// newScoredDims reads the erased members.
func newScoredDims(ctx context.Context, q querier) (*scoredDims, error) {
	rows, err := q.QueryContext(ctx, `SELECT id FROM members WHERE status = 'erased'`)
	if err != nil {
		return nil, fmt.Errorf("profile: erased members: %w", err)
	}
	defer rows.Close()
	d := &scoredDims{erased: map[string]bool{}}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("profile: erased members: %w", err)
		}
		d.erased[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("profile: erased members: %w", err)
	}
	return d, nil
}

// add collects ms's values: recency in Unix seconds (dims' EpochBucket),
// frequency and monetary value.
func (d *scoredDims) add(ms []folded) {
	for i := range ms {
		if m := &ms[i]; !d.erased[m.member] {
			d.v[0] = append(d.v[0], m.last.Unix())
			d.v[1] = append(d.v[1], m.freq)
			d.v[2] = append(d.v[2], m.monetary)
		}
	}
}

// cuts returns how many members are scored and the cut points of each
// dimension (CutsOf).
func (d *scoredDims) cuts(ctx context.Context) (int64, [3]Cuts) {
	defer since(ctx, time.Now(), func(p *phases) *time.Duration { return &p.cuts })
	var out [3]Cuts
	for i, v := range d.v {
		slices.Sort(v)
		out[i] = CutsOf(v)
	}
	return int64(len(d.v[0])), out
}

// raiseEntered writes a segment_entered event for each member of sc whose
// segment this pass changed (segment_since = now in the profiles table
// from), in one statement
// (event.RecordEach): a first refresh raises one per buying member, which
// read into Go and written back a page at a time was a fifth of the
// refresh on PostgreSQL at 1,000,000 members. The event id and properties
// are those event.Record was given before: segments are plain identifiers
// (score.go), so the JSON needs no escaping.
func (s *Service) raiseEntered(ctx context.Context, tx *sql.Tx, from string, sc scope, now time.Time) (int64, error) {
	stamp := strconv.FormatInt(now.UnixMilli(), 10)
	sel := `SELECT 'perk:segment_entered:' || member_id || ':' || segment || ':` + stamp + `', member_id,
		'{"segment":"' || segment || '"}' FROM ` + from + ` WHERE segment_since = $1 AND segment <> ''` + sc.on("member_id", 2) + `
		ORDER BY ` + s.db.Dialect.ByteOrder("member_id")
	n, err := event.RecordEach(ctx, tx, s.db.Dialect, SegmentEntered, now, sel, sc.args(now)...)
	if err != nil {
		return 0, fmt.Errorf("profile: entered: %w", err)
	}
	return n, nil
}
