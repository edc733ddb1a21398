package report

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/money"
	"github.com/perk-platform/perk/internal/problem"
)

// Kinds of history event, in the order they are told apart when two share
// an instant (a purchase, then its redemptions, then its points).
const (
	EventEnrolled         = "enrolled"          // details: channel, source
	EventConsentRequested = "consent_requested" // double opt-in asked
	EventOptIn            = "opt_in"            // consent granted
	EventOptOut           = "opt_out"           // consent withdrawn
	EventMessageOut       = "message_out"       // at queuing; details: purpose, kind, status, delivery_state, sent_at, delivered_at, preview
	EventMessageIn        = "message_in"        // details: keyword, preview
	EventCardVisit        = "card_visit"        // the member opened their card page
	EventLinkClick        = "link_click"        // details: url (card tokens hidden)
	EventPurchase         = "purchase"          // a basket; details: gross, discount, total, points_earned, points_redeemed, status
	EventRedemption       = "redemption"        // an offer applied to a basket; details: offer_id, kind, discount, points, restored_at
	EventReturn           = "return"            // details: return_id, refund, points_reversed
	EventVoid             = "void"              // the basket was voided
	EventPointsAdjust     = "points_adjust"     // an operator's correction or a debt repayment
	EventPointsExpire     = "points_expire"     // points that expired
)

var eventRank = map[string]int{
	EventEnrolled: 0, EventConsentRequested: 1, EventOptIn: 2, EventOptOut: 3, EventMessageOut: 4, EventMessageIn: 5,
	EventCardVisit: 6, EventLinkClick: 7, EventPurchase: 8, EventRedemption: 9, EventReturn: 10, EventVoid: 11,
	EventPointsAdjust: 12, EventPointsExpire: 13,
}

// Event is one thing in a member's contact and reaction history. It never
// holds a phone number except masked, nor a card or confirmation link token.
type Event struct {
	At            time.Time `json:"at"` // UTC, to the microsecond
	Kind          string    `json:"kind"`
	Summary       string    `json:"summary"`
	CampaignID    string    `json:"campaign_id,omitempty"`
	CampaignName  string    `json:"campaign_name,omitempty"` // the campaign's name now, for people; the id is for links
	MessageID     string    `json:"message_id,omitempty"`
	TransactionID string    `json:"transaction_id,omitempty"` // the till's transaction id (unique per store)
	StoreID       string    `json:"store_id,omitempty"`
	Details       any       `json:"details,omitempty"` // *EnrolledDetails, *ConsentDetails, ... by Kind; nil for a card visit

	seq int64 // tie-break within a source, newest first
}

// HistoryQuery pages a history: events strictly before Before (the zero
// time: from now), at most Limit (default 100, at most 500).
type HistoryQuery struct {
	Limit  int
	Before time.Time
}

// History is a page of a member's timeline, newest first. NextBefore, when
// set, is the Before of the next page.
type History struct {
	MemberID   string     `json:"member_id"`
	Events     []Event    `json:"events"`
	NextBefore *time.Time `json:"next_before,omitempty"`
}

// History limits.
const (
	DefaultHistoryLimit = 100
	MaxHistoryLimit     = 500
)

// ErrHistoryLimit refuses a limit out of range.
var ErrHistoryLimit = problem.InvalidField("limit", "limit_invalid", nil, "must be between 1 and %d", MaxHistoryLimit)

// historySource reads one kind of row of a member's history: at most limit
// events strictly before before, newest first.
type historySource func(ctx context.Context, memberID string, before time.Time, limit int) ([]Event, error)

// MemberHistory returns one timeline of everything that happened between
// the programme and a member (member.ErrNotFound if there is no such
// member): enrolment, consent changes, every outbound message with its
// status and delivery state, inbound messages, link clicks, card page
// visits, purchases, redemptions, returns, voids, and points adjustments and
// expiries (earned and redeemed points are shown in the purchase).
//
// Each source is read newest first by its (member, time) index, limit+1
// rows, and the pages are merged. Times are cut to the microsecond (what
// PostgreSQL keeps); a page never splits the events of one instant: when
// more than Limit share it the page holds all of them (longer than Limit),
// so following NextBefore loses nothing (unless one source alone has more
// than Limit+1 rows in one microsecond).
func (s *Service) MemberHistory(ctx context.Context, memberID string, q HistoryQuery) (*History, error) {
	if q.Limit == 0 {
		q.Limit = DefaultHistoryLimit
	}
	if q.Limit < 1 || q.Limit > MaxHistoryLimit {
		return nil, ErrHistoryLimit
	}
	before := q.Before.UTC()
	if q.Before.IsZero() {
		before = s.now().UTC().Add(time.Hour) // anything written by a clock a little ahead
	}
	h := &History{MemberID: memberID, Events: []Event{}}
	var enrolled Event
	var channel, source string
	err := s.db.R.QueryRowContext(ctx, `SELECT channel, source, enrolled_at FROM members WHERE id = $1`, memberID).
		Scan(&channel, &source, &enrolled.At)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, member.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	enrolled.At = micro(enrolled.At)
	var all []Event
	if enrolled.At.Before(before) {
		enrolled.Kind, enrolled.Summary = EventEnrolled, "Enrolled by "+channel
		if source != "" {
			enrolled.Summary += " (" + source + ")"
		}
		enrolled.Details = &EnrolledDetails{Channel: channel, Source: source}
		all = append(all, enrolled)
	}
	for _, src := range []historySource{s.consentEvents, s.outboundEvents, s.inboundEvents, s.clickEvents, s.visitEvents,
		s.purchaseEvents, s.voidEvents, s.redemptionEvents, s.returnEvents, s.pointsEvents} {
		evs, err := src(ctx, memberID, before, q.Limit+1)
		if err != nil {
			return nil, fmt.Errorf("history: %w", err)
		}
		all = append(all, evs...)
	}
	slices.SortStableFunc(all, func(a, b Event) int {
		return cmp.Or(b.At.Compare(a.At), cmp.Compare(eventRank[b.Kind], eventRank[a.Kind]), cmp.Compare(b.seq, a.seq))
	})
	if len(all) <= q.Limit {
		h.Events = append(h.Events, all...)
		return h, s.nameCampaigns(ctx, h.Events)
	}
	// Cut before the instant of the first event left out, so the next page
	// (strictly before that instant + 1µs) starts with all of its events.
	cut := all[q.Limit].At
	n := q.Limit
	for n > 0 && all[n-1].At.Equal(cut) {
		n--
	}
	next := cut.Add(time.Microsecond)
	if n == 0 {
		// More than a page in one instant: return all of it (a page longer
		// than Limit) and carry on strictly before it.
		for n < len(all) && all[n].At.Equal(cut) {
			n++
		}
		next = cut
	}
	h.Events = append(h.Events, all[:n]...)
	h.NextBefore = &next
	return h, s.nameCampaigns(ctx, h.Events)
}

// nameCampaigns sets the CampaignName of events that have a campaign, by
// one look-up of the page's campaigns.
func (s *Service) nameCampaigns(ctx context.Context, evs []Event) error {
	var ids []any
	for _, e := range evs {
		if e.CampaignID != "" && !slices.Contains(ids, any(e.CampaignID)) {
			ids = append(ids, e.CampaignID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	marks := make([]string, len(ids))
	for i := range ids {
		marks[i] = fmt.Sprintf("$%d", i+1)
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, name FROM campaigns WHERE id IN (`+strings.Join(marks, ", ")+`)`, ids...)
	if err != nil {
		return fmt.Errorf("history: campaign names: %w", err)
	}
	defer rows.Close()
	names := map[string]string{}
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			return fmt.Errorf("history: campaign names: %w", err)
		}
		names[id] = name
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("history: campaign names: %w", err)
	}
	for i := range evs {
		evs[i].CampaignName = names[evs[i].CampaignID]
	}
	return nil
}

// priced returns how amounts of a basket's currency read in a history
// ("£12.05", "¥1205"); a code money does not know (not one Perk would
// have taken) is written after the number.
func priced(code string) func(int64) string {
	cur, err := money.ParseCurrency(code)
	if err != nil {
		return func(v int64) string { return strings.TrimSpace(money.Format(v) + " " + code) }
	}
	return cur.Format
}

// micro cuts a time to the microsecond in UTC.
func micro(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// query runs a source's SQL with (member, before, limit) and scans each row.
func (s *Service) query(ctx context.Context, q string, memberID string, before time.Time, limit int, scan func(*sql.Rows) (Event, error)) ([]Event, error) {
	rows, err := s.db.R.QueryContext(ctx, q, memberID, before, limit)
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
		e.At = micro(e.At)
		out = append(out, e)
	}
	return out, rows.Err()
}

func (s *Service) consentEvents(ctx context.Context, memberID string, before time.Time, limit int) ([]Event, error) {
	// The consent log's number and source address (a client address or the
	// API key) are left out: GET /v1/members/{key}/consents has them.
	return s.query(ctx, `SELECT id, action, method, source, campaign, wording_version, created_at FROM consents
		WHERE member_id = $1 AND created_at < $2 ORDER BY created_at DESC, id DESC LIMIT $3`, memberID, before, limit,
		func(rows *sql.Rows) (Event, error) {
			var e Event
			var action, method, source, version string
			if err := rows.Scan(&e.seq, &action, &method, &source, &e.CampaignID, &version, &e.At); err != nil {
				return e, err
			}
			switch action {
			case "granted":
				e.Kind, e.Summary = EventOptIn, "Opted in to marketing SMS"
			case "withdrawn":
				e.Kind, e.Summary = EventOptOut, "Opted out of marketing SMS"
			default:
				e.Kind, e.Summary = EventConsentRequested, "Asked to confirm marketing SMS (double opt-in)"
			}
			e.Summary += " by " + method
			if source != "" {
				e.Summary += " (" + scrub(source) + ")"
			}
			e.Details = &ConsentDetails{Action: action, Method: method, Source: scrub(source), WordingVersion: version}
			return e, nil
		})
}

func (s *Service) outboundEvents(ctx context.Context, memberID string, before time.Time, limit int) ([]Event, error) {
	return s.query(ctx, `SELECT id, kind, purpose, campaign_id, status, delivery_state, held_reason, segments, body,
		created_at, sent_at, delivered_at FROM sms_outbox
		WHERE member_id = $1 AND created_at < $2 ORDER BY created_at DESC, id DESC LIMIT $3`, memberID, before, limit,
		func(rows *sql.Rows) (Event, error) {
			var e Event
			var kind, purpose, status, delivery, held, body string
			var segments int
			var sent, delivered sql.NullTime
			if err := rows.Scan(&e.MessageID, &kind, &purpose, &e.CampaignID, &status, &delivery, &held, &segments, &body,
				&e.At, &sent, &delivered); err != nil {
				return e, err
			}
			e.Kind = EventMessageOut
			state := status
			switch {
			case status == "sent" && delivery != "":
				state = "sent, " + delivery
			case status == "held" && held != "":
				state = "held: " + held
			}
			preview := scrubPreview(body)
			e.Summary = fmt.Sprintf("SMS %s (%s): %q", purpose, state, preview)
			d := &MessageOutDetails{Purpose: purpose, Kind: kind, Status: status, DeliveryState: delivery,
				HeldReason: held, Segments: segments, Preview: preview}
			if sent.Valid {
				t := micro(sent.Time)
				d.SentAt = &t
			}
			if delivered.Valid {
				t := micro(delivered.Time)
				d.DeliveredAt = &t
			}
			e.Details = d
			return e, nil
		})
}

func (s *Service) inboundEvents(ctx context.Context, memberID string, before time.Time, limit int) ([]Event, error) {
	return s.query(ctx, `SELECT id, keyword, body, received_at FROM sms_inbox
		WHERE member_id = $1 AND received_at < $2 ORDER BY received_at DESC, id DESC LIMIT $3`, memberID, before, limit,
		func(rows *sql.Rows) (Event, error) {
			var e Event
			var keyword, body string
			if err := rows.Scan(&e.MessageID, &keyword, &body, &e.At); err != nil {
				return e, err
			}
			preview := scrubPreview(body)
			e.Kind = EventMessageIn
			if keyword != "" {
				e.Summary = fmt.Sprintf("Texted %s: %q", keyword, preview)
			} else {
				e.Summary = fmt.Sprintf("Texted (not understood): %q", preview)
			}
			e.Details = &MessageInDetails{Keyword: keyword, Preview: preview}
			return e, nil
		})
}

func (s *Service) clickEvents(ctx context.Context, memberID string, before time.Time, limit int) ([]Event, error) {
	return s.query(ctx, `SELECT k.id, l.url, l.campaign, COALESCE(l.message_id, ''), k.clicked_at
		FROM link_clicks k JOIN short_links l ON l.code = k.code
		WHERE k.member_id = $1 AND k.clicked_at < $2 ORDER BY k.clicked_at DESC, k.id DESC LIMIT $3`, memberID, before, limit,
		func(rows *sql.Rows) (Event, error) {
			var e Event
			var url string
			if err := rows.Scan(&e.seq, &url, &e.CampaignID, &e.MessageID, &e.At); err != nil {
				return e, err
			}
			url = scrub(url)
			e.Kind, e.Summary = EventLinkClick, "Clicked a link to "+url
			e.Details = &LinkClickDetails{URL: url}
			return e, nil
		})
}

func (s *Service) visitEvents(ctx context.Context, memberID string, before time.Time, limit int) ([]Event, error) {
	return s.query(ctx, `SELECT id, visited_at FROM card_visits
		WHERE member_id = $1 AND visited_at < $2 ORDER BY visited_at DESC, id DESC LIMIT $3`, memberID, before, limit,
		func(rows *sql.Rows) (Event, error) {
			e := Event{Kind: EventCardVisit, Summary: "Opened their card page"}
			return e, rows.Scan(&e.seq, &e.At)
		})
}

func (s *Service) purchaseEvents(ctx context.Context, memberID string, before time.Time, limit int) ([]Event, error) {
	return s.query(ctx, `SELECT id, store_id, transaction_id, terminal, currency, gross, discount, points_earned, points_redeemed,
		points_value, status, created_at FROM baskets
		WHERE member_id = $1 AND created_at < $2 ORDER BY created_at DESC, id DESC LIMIT $3`, memberID, before, limit,
		func(rows *sql.Rows) (Event, error) {
			var e Event
			var basketID, terminal, currency, status string
			var gross, discount, earned, redeemed, value int64
			if err := rows.Scan(&basketID, &e.StoreID, &e.TransactionID, &terminal, &currency, &gross, &discount, &earned,
				&redeemed, &value, &status, &e.At); err != nil {
				return e, err
			}
			e.Kind = EventPurchase
			price := priced(currency)
			e.Summary = fmt.Sprintf("Bought %s at %s", price(gross-discount), e.StoreID)
			if discount > 0 {
				e.Summary += fmt.Sprintf(", saved %s", price(discount))
			}
			if earned > 0 {
				e.Summary += fmt.Sprintf(", earned %d points", earned)
			}
			if redeemed > 0 {
				e.Summary += fmt.Sprintf(", paid %d points (%s)", redeemed, price(value))
			}
			if status == "voided" {
				e.Summary += " (voided later)"
			}
			e.Details = &PurchaseDetails{BasketID: basketID, Terminal: terminal, Currency: currency, Gross: gross,
				Discount: discount, Total: gross - discount, PointsEarned: earned, PointsRedeemed: redeemed,
				PointsValue: value, Status: status}
			return e, nil
		})
}

func (s *Service) voidEvents(ctx context.Context, memberID string, before time.Time, limit int) ([]Event, error) {
	return s.query(ctx, `SELECT id, store_id, transaction_id, voided_at FROM baskets
		WHERE member_id = $1 AND voided_at IS NOT NULL AND voided_at < $2 ORDER BY voided_at DESC, id DESC LIMIT $3`, memberID, before, limit,
		func(rows *sql.Rows) (Event, error) {
			var e Event
			var basketID string
			if err := rows.Scan(&basketID, &e.StoreID, &e.TransactionID, &e.At); err != nil {
				return e, err
			}
			e.Kind, e.Summary = EventVoid, fmt.Sprintf("Transaction %s at %s voided", e.TransactionID, e.StoreID)
			e.Details = &VoidDetails{BasketID: basketID}
			return e, nil
		})
}

func (s *Service) redemptionEvents(ctx context.Context, memberID string, before time.Time, limit int) ([]Event, error) {
	// By the member's baskets (baskets_member_idx), then each basket's
	// redemptions by primary key.
	// The campaign's name is joined by its key: the summary names it.
	return s.query(ctx, `SELECT r.offer_id, r.campaign_id, COALESCE(c.name, ''), r.kind, r.discount, r.points, r.created_at, r.restored_at,
		b.store_id, b.transaction_id, b.currency FROM baskets b JOIN redemptions r ON r.basket_id = b.id
		LEFT JOIN campaigns c ON c.id = r.campaign_id
		WHERE b.member_id = $1 AND r.created_at < $2 ORDER BY r.created_at DESC, r.offer_id DESC LIMIT $3`, memberID, before, limit,
		func(rows *sql.Rows) (Event, error) {
			var e Event
			var offer, name, kind, currency string
			var discount, points int64
			var restored sql.NullTime
			if err := rows.Scan(&offer, &e.CampaignID, &name, &kind, &discount, &points, &e.At, &restored, &e.StoreID, &e.TransactionID,
				&currency); err != nil {
				return e, err
			}
			e.Kind = EventRedemption
			if name == "" {
				name = offer
			}
			e.Summary = fmt.Sprintf("Redeemed %s (%s)", name, kind)
			if discount > 0 {
				e.Summary += ": " + priced(currency)(discount) + " off"
			}
			if points > 0 {
				e.Summary += fmt.Sprintf(", %d points", points)
			}
			d := &RedemptionDetails{OfferID: offer, Kind: kind, Discount: discount, Points: points}
			if restored.Valid {
				e.Summary += " (given back later)"
				t := micro(restored.Time)
				d.RestoredAt = &t
			}
			e.Details = d
			return e, nil
		})
}

func (s *Service) returnEvents(ctx context.Context, memberID string, before time.Time, limit int) ([]Event, error) {
	return s.query(ctx, `SELECT br.return_id, br.refund, br.points, br.created_at, b.store_id, b.transaction_id, b.currency
		FROM baskets b JOIN basket_returns br ON br.basket_id = b.id
		WHERE b.member_id = $1 AND br.created_at < $2 ORDER BY br.created_at DESC, br.return_id DESC LIMIT $3`, memberID, before, limit,
		func(rows *sql.Rows) (Event, error) {
			var e Event
			var returnID, currency string
			var refund, points int64
			if err := rows.Scan(&returnID, &refund, &points, &e.At, &e.StoreID, &e.TransactionID, &currency); err != nil {
				return e, err
			}
			e.Kind = EventReturn
			e.Summary = fmt.Sprintf("Returned items of %s at %s: %s refunded", e.TransactionID, e.StoreID, priced(currency)(refund))
			if points > 0 {
				e.Summary += fmt.Sprintf(", %d points taken back", points)
			}
			e.Details = &ReturnDetails{ReturnID: returnID, Refund: refund, PointsReversed: points}
			return e, nil
		})
}

func (s *Service) pointsEvents(ctx context.Context, memberID string, before time.Time, limit int) ([]Event, error) {
	return s.query(ctx, `SELECT seq, kind, points, reason, COALESCE(transaction_id, ''), COALESCE(campaign_id, ''),
		COALESCE(operator, ''), created_at FROM points_entries
		WHERE member_id = $1 AND kind IN ('adjust', 'expire') AND created_at < $2 ORDER BY created_at DESC, seq DESC LIMIT $3`,
		memberID, before, limit,
		func(rows *sql.Rows) (Event, error) {
			var e Event
			var kind, reason, operator string
			var points int64
			if err := rows.Scan(&e.seq, &kind, &points, &reason, &e.TransactionID, &e.CampaignID, &operator, &e.At); err != nil {
				return e, err
			}
			if kind == "expire" {
				e.Kind, e.Summary = EventPointsExpire, fmt.Sprintf("%d points expired", -points)
			} else {
				e.Kind, e.Summary = EventPointsAdjust, fmt.Sprintf("Points adjusted by %+d", points)
				if reason != "" {
					e.Summary += ": " + scrub(reason)
				}
			}
			e.Details = &PointsDetails{Points: points, Reason: scrub(reason), Operator: operator}
			return e, nil
		})
}

// previewRunes is how much of a message body the history shows.
const previewRunes = 80

// scrubPreview is the start of a message body with phone numbers masked and
// link tokens hidden.
func scrubPreview(body string) string {
	p := scrub(strings.Join(strings.Fields(body), " "))
	if r := []rune(p); len(r) > previewRunes {
		p = string(r[:previewRunes-1]) + "…"
	}
	return p
}
