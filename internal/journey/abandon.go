package journey

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/perk-platform/perk/internal/event"
)

// Events Perk raises about carts.
const (
	// CartAbandoned: a cart_updated with no purchase by the same person
	// (online or at a till) within AbandonAfter.
	CartAbandoned = "cart_abandoned"
	// CartRecovered: a purchase by a person after their cart_abandoned.
	CartRecovered = "cart_recovered"
)

// DefaultAbandonAfter is the time without a purchase after which a cart is
// abandoned.
const DefaultAbandonAfter = 2 * time.Hour

// person is who a cart belongs to: the member, else the anonymous id.
func person(e *event.Event) string {
	if e.MemberID != "" {
		return e.MemberID
	}
	if e.AnonymousID != "" {
		return "anon:" + e.AnonymousID
	}
	return ""
}

// watchCart keeps cart_watch up to date as the reader goes through the
// stream, in its transaction: a cart starts (or restarts) the person's
// clock; a purchase ends it, and raises cart_recovered when the cart had
// been abandoned.
func (s *Service) watchCart(ctx context.Context, tx *sql.Tx, e *event.Event) error {
	who := person(e)
	if who == "" {
		return nil
	}
	switch {
	case e.Type == event.CartUpdated:
		due := e.Time.Add(s.opt.AbandonAfter)
		// One upsert rather than an UPDATE and, for a new person, an INSERT:
		// a cart event was two statements for most shoppers.
		_, err := tx.ExecContext(ctx, `INSERT INTO cart_watch (person, member_id, anonymous_id, channel, cart_seq, due_at)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (person) DO UPDATE SET cart_seq = excluded.cart_seq,
			due_at = excluded.due_at, abandoned = 0, channel = excluded.channel, member_id = excluded.member_id,
			anonymous_id = excluded.anonymous_id`, who, nullable(e.MemberID), nullable(e.AnonymousID), string(e.Channel), e.Seq, due)
		if err != nil {
			return fmt.Errorf("watch cart: %w", err)
		}
		return nil
	case e.Purchase():
		people, err := buyers(ctx, tx, e)
		if err != nil {
			return fmt.Errorf("watch cart: %w", err)
		}
		for _, who := range people {
			if err := s.endCart(ctx, tx, who, e); err != nil {
				return err
			}
		}
	}
	return nil
}

// buyers is every person whose cart a purchase ends: the buyer as the
// event names them, the anonymous id it carries, and every anonymous id
// tied to the member, so a visitor who put something in a cart before
// being identified and buys afterwards as the member is not told they
// abandoned it.
func buyers(ctx context.Context, tx *sql.Tx, e *event.Event) ([]string, error) {
	out := []string{person(e)}
	if e.MemberID == "" {
		return out, nil
	}
	if e.AnonymousID != "" {
		out = append(out, "anon:"+e.AnonymousID)
	}
	rows, err := tx.QueryContext(ctx, `SELECT anonymous_id FROM identities WHERE member_id = $1 ORDER BY anonymous_id`, e.MemberID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, err
		}
		if a != e.AnonymousID {
			out = append(out, "anon:"+a)
		}
	}
	return out, rows.Err()
}

// endCart ends who's cart watch on purchase e, and raises cart_recovered
// when the cart had been abandoned.
func (s *Service) endCart(ctx context.Context, tx *sql.Tx, who string, e *event.Event) error {
	var seq int64
	var abandoned int
	err := tx.QueryRowContext(ctx, `SELECT cart_seq, abandoned FROM cart_watch WHERE person = $1`, who).Scan(&seq, &abandoned)
	if err == sql.ErrNoRows || (err == nil && seq > e.Seq) {
		return nil // no cart, or one put together after this purchase
	}
	if err != nil {
		return fmt.Errorf("watch cart: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM cart_watch WHERE person = $1`, who); err != nil {
		return fmt.Errorf("watch cart: %w", err)
	}
	if abandoned == 0 {
		return nil
	}
	props, _ := json.Marshal(map[string]any{"cart_event": seq, "purchase_event": e.Seq, "purchase_type": e.Type})
	return event.Record(ctx, tx, s.db.Dialect, event.Event{EventID: fmt.Sprintf("%s:%s:%d", CartRecovered, who, seq),
		Type: CartRecovered, Time: e.Time, ReceivedAt: s.now(), Channel: e.Channel, MemberID: e.MemberID,
		AnonymousID: anonOnly(e.MemberID, e.AnonymousID), Properties: props})
}

// Abandon raises cart_abandoned for the carts whose time has come without
// a purchase, in one transaction that also marks them; the event's id is
// derived from the cart, so it is raised once. A purchase already in the
// stream that the reader has not reached yet still counts: the stream is
// asked directly. It returns how many carts it looked at.
func (s *Service) Abandon(ctx context.Context) (int, error) {
	now := s.now()
	n := 0
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		type cart struct {
			who, member, anon, channel string
			seq                        int64
			due                        time.Time
		}
		rows, err := tx.QueryContext(ctx, `SELECT person, COALESCE(member_id, ''), COALESCE(anonymous_id, ''), channel, cart_seq, due_at
			FROM cart_watch WHERE abandoned = 0 AND due_at <= $1 ORDER BY due_at LIMIT 500`, now)
		if err != nil {
			return err
		}
		var cs []cart
		for rows.Next() {
			var c cart
			if err := rows.Scan(&c.who, &c.member, &c.anon, &c.channel, &c.seq, &c.due); err != nil {
				rows.Close()
				return err
			}
			cs = append(cs, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		n = len(cs)
		for _, c := range cs {
			if c.member == "" {
				// A visitor identified since: their purchase is the
				// member's, and so is the abandonment.
				if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(member_id), '') FROM identities WHERE anonymous_id = $1`,
					c.anon).Scan(&c.member); err != nil {
					return err
				}
			}
			var bought int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM events WHERE (member_id = $1 OR anonymous_id = $2) AND id > $3
				AND type IN ($4, $5)`, c.member, c.anon, c.seq, event.OrderPlaced, event.BasketCommitted).Scan(&bought); err != nil {
				return err
			}
			if bought > 0 {
				// The reader will reach the purchase and end the watch.
				if _, err := tx.ExecContext(ctx, `DELETE FROM cart_watch WHERE person = $1 AND cart_seq = $2`, c.who, c.seq); err != nil {
					return err
				}
				continue
			}
			res, err := tx.ExecContext(ctx, `UPDATE cart_watch SET abandoned = 1 WHERE person = $1 AND cart_seq = $2 AND abandoned = 0`, c.who, c.seq)
			if err != nil {
				return err
			}
			if k, _ := res.RowsAffected(); k == 0 {
				continue
			}
			props, _ := json.Marshal(map[string]any{"cart_event": c.seq, "after_seconds": int64(s.opt.AbandonAfter / time.Second)})
			if err := event.Record(ctx, tx, s.db.Dialect, event.Event{EventID: fmt.Sprintf("%s:%s:%d", CartAbandoned, c.who, c.seq),
				Type: CartAbandoned, Time: c.due.UTC(), ReceivedAt: now, Channel: event.Channel(c.channel), MemberID: c.member,
				AnonymousID: anonOnly(c.member, c.anon), Properties: props}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("journey: abandoned carts: %w", err)
	}
	return n, nil
}

// anonOnly is the anonymous id to write on a raised event: none when the
// member is known, so raising an event never ties ids by itself.
func anonOnly(member, anon string) string {
	if member != "" {
		return ""
	}
	return anon
}

func nullable(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
