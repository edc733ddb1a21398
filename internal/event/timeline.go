package event

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/problem"
)

// ErrCursor is returned for a cursor this package did not hand out.
var ErrCursor = problem.New(problem.BadRequest, "cursor_invalid", "cursor is not one this API returned")

// Page is one page of a timeline, newest first; Next is the cursor of the
// page after it, "" at the end.
type Page struct {
	Events []Event `json:"events"`
	Next   string  `json:"next,omitempty"`
}

const eventCols = `id, event_id, type, occurred_at, received_at, channel, source, anonymous_id, member_id,
	session_id, campaign, store_id, order_id, properties`

// Timeline returns a member's events, newest first, limit at a time (1 to
// 500), after cursor ("" for the first page). Keyset pagination on
// (time, seq) keeps pages stable while events arrive.
func (s *Service) Timeline(ctx context.Context, memberID, cursor string, limit int) (Page, error) {
	limit = min(max(limit, 1), 500)
	q := `SELECT ` + eventCols + ` FROM events WHERE member_id = $1`
	args := []any{memberID}
	if cursor != "" {
		t, seq, err := parseCursor(cursor)
		if err != nil {
			return Page{}, err
		}
		q += ` AND (occurred_at < $2 OR (occurred_at = $2 AND id < $3))`
		args = append(args, t, seq)
	}
	q += fmt.Sprintf(` ORDER BY occurred_at DESC, id DESC LIMIT %d`, limit+1)
	evs, err := s.query(ctx, q, args...)
	if err != nil {
		return Page{}, fmt.Errorf("event: timeline: %w", err)
	}
	p := Page{Events: evs}
	if len(evs) > limit {
		p.Events = evs[:limit]
		last := p.Events[limit-1]
		p.Next = makeCursor(last.Time, last.Seq)
	}
	if p.Events == nil {
		p.Events = []Event{}
	}
	return p, nil
}

// MemberEvents returns all of a member's events in time order, at most max
// of the latest, for sessions and the member page.
func (s *Service) MemberEvents(ctx context.Context, memberID string, max int) ([]Event, error) {
	evs, err := s.query(ctx, `SELECT `+eventCols+` FROM events WHERE member_id = $1
		ORDER BY occurred_at DESC, id DESC LIMIT `+strconv.Itoa(max), memberID)
	if err != nil {
		return nil, fmt.Errorf("event: member events: %w", err)
	}
	for i, j := 0, len(evs)-1; i < j; i, j = i+1, j-1 {
		evs[i], evs[j] = evs[j], evs[i]
	}
	return evs, nil
}

func (s *Service) query(ctx context.Context, q string, args ...any) ([]Event, error) {
	rows, err := s.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		e, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func scan(rows *sql.Rows) (Event, error) {
	var e Event
	var anon, member, session, order sql.NullString
	var props, channel string
	err := rows.Scan(&e.Seq, &e.EventID, &e.Type, &e.Time, &e.ReceivedAt, &channel, &e.Source, &anon, &member,
		&session, &e.Campaign, &e.Store, &order, &props)
	e.Time, e.ReceivedAt = e.Time.UTC(), e.ReceivedAt.UTC()
	e.Channel = Channel(channel)
	e.AnonymousID, e.MemberID, e.SessionID, e.OrderID = anon.String, member.String, session.String, order.String
	e.Properties = []byte(props)
	return e, err
}

func makeCursor(t time.Time, seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(t.UnixMicro(), 10) + "." + strconv.FormatInt(seq, 10)))
}

func parseCursor(c string) (time.Time, int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, 0, ErrCursor
	}
	ts, ss, ok := strings.Cut(string(b), ".")
	micro, err1 := strconv.ParseInt(ts, 10, 64)
	seq, err2 := strconv.ParseInt(ss, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return time.Time{}, 0, ErrCursor
	}
	return time.UnixMicro(micro).UTC(), seq, nil
}
