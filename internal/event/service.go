package event

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/store"
)

// Options configure a Service.
type Options struct {
	// SessionGap closes a session after this long without a shopper's
	// event (30 minutes if zero).
	SessionGap time.Duration
	// Retention is how long events are kept (0: for ever); see Cutoff.
	Retention time.Duration
	// PartitionsAhead is how many days ahead of today Maintain keeps
	// PostgreSQL's day partitions ready (DefaultPartitionsAhead if zero).
	PartitionsAhead int
	Now             func() time.Time // time.Now if nil
	Log             *slog.Logger
}

// DefaultSessionGap is the inactivity that ends a session, as PostHog and
// Snowplow's mobile trackers use.
const DefaultSessionGap = 30 * time.Minute

// Service ingests batches and reads the stream back per person.
type Service struct {
	db    *store.DB
	opt   Options
	parts *partitions
	sign  signer
	// inserts are SQLite's prepared multi-row inserts (prepared.go).
	inserts inserts
}

// NewService returns a Service on db.
func NewService(db *store.DB, opt Options) *Service {
	if opt.SessionGap <= 0 {
		opt.SessionGap = DefaultSessionGap
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.PartitionsAhead <= 0 {
		opt.PartitionsAhead = DefaultPartitionsAhead
	}
	return &Service{db: db, opt: opt, parts: &partitions{days: map[time.Time]bool{}}}
}

// Now is the service's clock, which the HTTP layer decodes batches against.
func (s *Service) Now() time.Time { return s.opt.Now() }

// Result is the answer to a batch.
type Result struct {
	Accepted   int         `json:"accepted"`   // kept now
	Duplicates int         `json:"duplicates"` // event_id seen before: harmless resends
	Rejected   []Rejection `json:"rejected"`   // never nil, so clients can always loop
}

// Ingest stores a decoded batch sent with a secret key in one transaction;
// rejected are the decoder's rejections, to which events naming an unknown
// member are added. An identify token, when an event has one, must be
// good (token.go).
func (s *Service) Ingest(ctx context.Context, in []Incoming, rejected []Rejection) (Result, error) {
	return s.ingest(ctx, in, rejected, false)
}

// IngestPublic is Ingest for a batch sent with a public (ingest) key: an
// event may name a member only with that member's identify token, or the
// batch is refused (ErrTokenRequired and the other ErrToken errors).
func (s *Service) IngestPublic(ctx context.Context, in []Incoming, rejected []Rejection) (Result, error) {
	return s.ingest(ctx, in, rejected, true)
}

func (s *Service) ingest(ctx context.Context, in []Incoming, rejected []Rejection, public bool) (Result, error) {
	res := Result{Rejected: rejected}
	if err := s.checkTokens(ctx, in, public); err != nil {
		return res, err
	}
	if res.Rejected == nil {
		res.Rejected = []Rejection{}
	}
	members, err := s.resolveMembers(ctx, in)
	if err != nil {
		return res, err
	}
	evs := make([]Event, 0, len(in))
	cut := Cutoff(s.Now(), s.opt.Retention)
	for _, x := range in {
		if x.Event.Time.Before(cut) {
			res.Rejected = append(res.Rejected, Rejection{Index: x.Index, EventID: x.Event.EventID,
				Code: "time_too_old", Field: "time", Reason: "time is before " + cut.Format(time.DateOnly) +
					", older than the events this server keeps (--events-retention)"})
			continue
		}
		if x.Member != "" {
			id, ok := members[x.Member]
			if !ok {
				res.Rejected = append(res.Rejected, Rejection{Index: x.Index, EventID: x.Event.EventID,
					Code: "member_not_found", Field: "member", Reason: "no member with that id or code"})
				continue
			}
			x.Event.MemberID = id
		}
		evs = append(evs, x.Event)
	}
	sortRejections(res.Rejected)
	if err := s.parts.ensureFor(ctx, s.db, evs); err != nil {
		return res, err
	}
	if s.db.Dialect == store.Postgres {
		err = s.db.ConnTx(ctx, func(conn *sql.Conn, tx *sql.Tx) error {
			n, err := write(ctx, tx, s.db.Dialect, evs, func(evs []Event) (int, error) { return copyInsert(ctx, conn, tx, evs) })
			res.Accepted, res.Duplicates = n, len(evs)-n
			return err
		})
		return res, err
	}
	if err := s.inserts.prepare(ctx, s.db); err != nil {
		return res, err
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		n, err := write(ctx, tx, s.db.Dialect, evs, func(evs []Event) (int, error) { return s.insertPrepared(ctx, tx, evs) })
		res.Accepted, res.Duplicates = n, len(evs)-n
		return err
	})
	return res, err
}

// resolveMembers maps the member keys of a batch (ids or 8-digit codes) to
// member ids with one query; erased members are not found.
func (s *Service) resolveMembers(ctx context.Context, in []Incoming) (map[string]string, error) {
	var ids, codes []any
	seen := map[string]bool{}
	for _, x := range in {
		k := x.Member
		if k == "" || seen[k] {
			continue
		}
		seen[k] = true
		if strings.HasPrefix(k, "mem_") {
			ids = append(ids, k)
		} else {
			codes = append(codes, k)
		}
	}
	out := map[string]string{}
	if len(seen) == 0 {
		return out, nil
	}
	d := s.db.Dialect
	var where []string
	if len(ids) > 0 {
		where = append(where, "id IN ("+d.Placeholders(1, len(ids))+")")
	}
	if len(codes) > 0 {
		where = append(where, "code IN ("+d.Placeholders(len(ids)+1, len(codes))+")")
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, code FROM members WHERE status <> 'erased' AND (`+
		strings.Join(where, " OR ")+`)`, append(ids, codes...)...)
	if err != nil {
		return nil, fmt.Errorf("event: resolve members: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, code string
		if err := rows.Scan(&id, &code); err != nil {
			return nil, fmt.Errorf("event: resolve members: %w", err)
		}
		if seen[id] {
			out[id] = id
		}
		if seen[code] {
			out[code] = id
		}
	}
	return out, rows.Err()
}

func sortRejections(r []Rejection) {
	slices.SortStableFunc(r, func(a, b Rejection) int { return a.Index - b.Index })
}
