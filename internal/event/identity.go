package event

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// How an anonymous id became a member (identities.via).
const (
	ViaSMSLink   = "sms_link"   // opened a tracked link sent to the member
	ViaCard      = "card"       // opened the member's card page
	ViaJoin      = "join"       // signed up on /join
	ViaIdentify  = "identify"   // perk.identify or an app's identify call
	ViaTillOrder = "till_order" // a till basket named an online order seen earlier
	ViaEvent     = "event"      // any other event that named both
)

func viaOf(e *Event) string {
	switch e.Type {
	case LinkClicked:
		return ViaSMSLink
	case CardViewed:
		return ViaCard
	case MemberJoined:
		return ViaJoin
	case Identified:
		return ViaIdentify
	}
	return ViaEvent
}

// stitch ties anonymous id anon to member, following the rules of
// docs/events.md:
//   - an id not yet tied becomes the member's: its earlier events without a
//     member move to the member, and an identity_merged event says so;
//   - an id already tied to the same member: nothing to do;
//   - an id tied to another member: two known people are never merged
//     automatically; the claim is recorded in identity_conflicts for an
//     operator, and the id stays with the first member. The event that
//     named the second member keeps it: the member named wins over the
//     anonymous id.
//
// The merge event is returned, for the caller to insert after the event that
// caused it; nil when nothing merged.
func stitch(ctx context.Context, tx *sql.Tx, anon, member, via string, cause *Event) (*Event, error) {
	var current string
	err := tx.QueryRowContext(ctx, `SELECT member_id FROM identities WHERE anonymous_id = $1`, anon).Scan(&current)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, fmt.Errorf("event: identity of %s: %w", anon, err)
	case current == member:
		return nil, nil
	default:
		_, err := tx.ExecContext(ctx, `INSERT INTO identity_conflicts (anonymous_id, member_id, other_member_id, via, seen_at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (anonymous_id, other_member_id) DO NOTHING`,
			anon, current, member, via, cause.Time)
		if err != nil {
			return nil, fmt.Errorf("event: record identity conflict: %w", err)
		}
		return nil, nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO identities (anonymous_id, member_id, via, linked_at) VALUES ($1, $2, $3, $4)`,
		anon, member, via, cause.Time); err != nil {
		return nil, fmt.Errorf("event: tie %s: %w", anon, err)
	}
	res, err := tx.ExecContext(ctx, `UPDATE events SET member_id = $1 WHERE anonymous_id = $2 AND member_id IS NULL`, member, anon)
	if err != nil {
		return nil, fmt.Errorf("event: reassign events of %s: %w", anon, err)
	}
	moved, _ := res.RowsAffected()
	props, _ := json.Marshal(map[string]any{"anonymous_id": anon, "via": via, "events_moved": moved, "cause": cause.Type})
	merged := Event{
		EventID: "perk:merge:" + anon, Type: IdentityMerged, Time: cause.Time, ReceivedAt: cause.ReceivedAt,
		Channel: cause.Channel, Source: SourcePerk, AnonymousID: anon, MemberID: member,
		Campaign: cause.Campaign, Properties: props,
	}
	return &merged, nil
}

// tieOrder ties the anonymous ids of online events that named the order a
// till basket now commits with a member (a web order collected in store).
func tieOrder(ctx context.Context, tx *sql.Tx, basket *Event) ([]Event, error) {
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT anonymous_id FROM events
		WHERE order_id = $1 AND anonymous_id IS NOT NULL AND type <> $2`, basket.OrderID, BasketCommitted)
	if err != nil {
		return nil, fmt.Errorf("event: order %s: %w", basket.OrderID, err)
	}
	var anons []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			rows.Close()
			return nil, fmt.Errorf("event: order %s: %w", basket.OrderID, err)
		}
		anons = append(anons, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("event: order %s: %w", basket.OrderID, err)
	}
	var merges []Event
	for _, a := range anons {
		m, err := stitch(ctx, tx, a, basket.MemberID, ViaTillOrder, basket)
		if err != nil {
			return nil, err
		}
		if m != nil {
			merges = append(merges, *m)
		}
	}
	return merges, nil
}

// Conflict is an anonymous id two members claimed.
type Conflict struct {
	AnonymousID   string    `json:"anonymous_id"`
	MemberID      string    `json:"member_id"`       // keeps the id
	OtherMemberID string    `json:"other_member_id"` // claimed it too
	Via           string    `json:"via"`
	SeenAt        time.Time `json:"seen_at"`
}

// Conflicts lists the identity conflicts that concern member, either side.
func (s *Service) Conflicts(ctx context.Context, member string) ([]Conflict, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT anonymous_id, member_id, other_member_id, via, seen_at
		FROM identity_conflicts WHERE member_id = $1 OR other_member_id = $1 ORDER BY id`, member)
	if err != nil {
		return nil, fmt.Errorf("event: conflicts: %w", err)
	}
	defer rows.Close()
	var out []Conflict
	for rows.Next() {
		var c Conflict
		if err := rows.Scan(&c.AnonymousID, &c.MemberID, &c.OtherMemberID, &c.Via, &c.SeenAt); err != nil {
			return nil, fmt.Errorf("event: conflicts: %w", err)
		}
		c.SeenAt = c.SeenAt.UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

// Identity is whom an anonymous id belongs to, "" if nobody yet.
func (s *Service) Identity(ctx context.Context, anon string) (string, error) {
	var m string
	err := s.db.R.QueryRowContext(ctx, `SELECT member_id FROM identities WHERE anonymous_id = $1`, anon).Scan(&m)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("event: identity: %w", err)
	}
	return m, nil
}
