// Package checkout is the till's side of Perk: evaluate a basket against the
// member's offers, commit it (consume offers, write points, store the
// basket), return lines of it and void it. The matching itself is the pure
// engine in checkout/engine; this package supplies what the engine must not
// know (who the member is, their audiences and use counts, budgets) and does
// every write of a transaction in one database transaction.
package checkout

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/catalogue"
	"github.com/perk-platform/perk/internal/change"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/money"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/store"
)

// Options are the programme's checkout rules.
type Options struct {
	Currency     string // ISO 4217, the only one accepted
	BaseEarn     int64  // points per whole currency unit paid
	MinorPerUnit int64  // minor units per currency unit (100)
	Now          func() time.Time
	Log          *slog.Logger
	// OnChange, if set, is told after a commit, return or void which
	// campaigns' figures moved (for live dashboards). It must not block.
	OnChange func(campaignIDs ...string)
	// Metrics receives the service's series (commits by outcome, commit
	// retries); nil keeps them nowhere.
	Metrics prometheus.Registerer
	// Catalogue, if set, is where stores and products come from: a till
	// must name a known, open store, and a line's product (by SKU or
	// barcode) gives it its unit and categories. Without one (tests of
	// other packages) the lines are taken as sent and any store trades, in
	// the zone of its stores row or UTC.
	Catalogue *catalogue.Catalogue
	// Changes hears of every commit, return and void inside its
	// transaction (the webhooks' outbox); nil reports nothing.
	Changes change.Recorder
	// Referrals hears of members' commits, returns and voids inside their
	// transactions (package referral: a friend's qualifying purchase, its
	// clawback); nil tells no one.
	Referrals Referrals
	// NoProfiles leaves members' profiles alone: a commit, return or void
	// of a member's basket otherwise queues the member's profile for the
	// incremental update (profile.Enqueue, one statement). For benchmarks
	// of the commit without it.
	NoProfiles bool
}

// Referrals is what the checkout tells the referral programme. Both run in
// the till's transaction, so a retried commit (answered from its stored
// response) tells nothing twice.
type Referrals interface {
	// Purchased: a member's basket committed; amount is its total after
	// discounts, minor units.
	Purchased(ctx context.Context, tx *sql.Tx, memberID, basketID string, amount int64, now time.Time) error
	// Returned: value came back from a basket (all: it was voided).
	Returned(ctx context.Context, tx *sql.Tx, basketID string, value int64, all bool, now time.Time) error
}

// referred tells the referral programme of a member's commit.
func (s *Service) referred(ctx context.Context, tx *sql.Tx, memberID, basketID string, amount int64, now time.Time) error {
	if s.opt.Referrals == nil {
		return nil
	}
	return s.opt.Referrals.Purchased(ctx, tx, memberID, basketID, amount, now)
}

// Service evaluates, commits, returns and voids.
type Service struct {
	db        *store.DB
	members   *member.Service
	campaigns *campaign.Service
	ledger    *ledger.Ledger
	opt       Options
	cur       money.Currency // opt.Currency's decimals, for receipts
	zones     *zoneCache
	metrics   *metrics
}

// NewService returns a checkout service.
func NewService(db *store.DB, members *member.Service, campaigns *campaign.Service, l *ledger.Ledger, opt Options) *Service {
	if opt.Currency == "" {
		opt.Currency = "GBP"
	}
	if opt.MinorPerUnit == 0 {
		opt.MinorPerUnit = 100
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.OnChange == nil {
		opt.OnChange = func(...string) {}
	}
	// An unknown code (the command line refuses one) prints two decimals.
	cur, _ := money.ParseCurrency(opt.Currency)
	return &Service{db: db, members: members, campaigns: campaigns, ledger: l, opt: opt, cur: cur, metrics: newMetrics(opt.Metrics),
		zones: &zoneCache{now: opt.Now}}
}

// Errors callers branch on.
var (
	ErrConflict        = problem.New(problem.Conflict, "transaction_conflict", "this transaction id was committed with a different basket")
	ErrReturnConflict  = problem.New(problem.Conflict, "return_conflict", "this return id was used for different lines")
	ErrNotFound        = problem.New(problem.NotFound, "transaction_not_found", "no committed transaction with this id at this store")
	ErrVoided          = problem.New(problem.Conflict, "transaction_voided", "the transaction has been voided")
	ErrMemberErased    = problem.New(problem.Conflict, "member_erased", "the member has been erased")
	ErrPointsOverTotal = problem.InvalidField("redeem_points", "points_over_total", nil, "pays more than the basket costs after discounts")
)

// MemberInfo is the identified member in a checkout answer.
type MemberInfo struct {
	ID            string `json:"id"`
	Code          string `json:"code"`
	PointsBalance int64  `json:"points_balance"`
	PointsPending int64  `json:"points_pending"`
}

// Benefit is an applied offer in a checkout answer.
type Benefit struct {
	engine.Applied
	Content string `json:"content,omitempty"` // the free content code or link issued at commit
}

// Response is the answer to evaluate and commit; a commit's answer is
// stored and returned again for a repeated request.
type Response struct {
	TransactionID  string              `json:"transaction_id,omitempty"`
	Store          string              `json:"store"`
	Member         *MemberInfo         `json:"member"`
	Currency       string              `json:"currency"`
	Lines          []engine.LineResult `json:"lines"`
	Benefits       []Benefit           `json:"benefits"`
	Subtotal       int64               `json:"subtotal"`
	TotalDiscount  int64               `json:"total_discount"`
	Total          int64               `json:"total"` // subtotal - total_discount
	PointsEarned   int64               `json:"points_earned"`
	PointsRedeemed int64               `json:"points_redeemed"`
	PointsValue    int64               `json:"points_value"` // minor units paid with points
	AmountDue      int64               `json:"amount_due"`   // total - points_value
	ReceiptText    []string            `json:"receipt_text"`
	Explain        []engine.Rejection  `json:"explain,omitempty"`
	// Items is, with ?explain=true, what Perk made of each line: its
	// product, unit, value and where its categories came from.
	Items []LineInfo `json:"items,omitempty"`
}

// resolveMember finds the member a till names by code, phone or card token.
func (s *Service) resolveMember(ctx context.Context, key string) (*member.Member, error) {
	key = strings.TrimSpace(key)
	if key == "" {
		return nil, nil
	}
	m, err := s.members.Lookup(ctx, key)
	if problem.KindOf(err) == problem.Invalid && !strings.ContainsAny(key, "+ ") && len(key) >= 16 {
		// Not a code or a phone number: a card token read from the card page.
		m, err = s.members.ByCardToken(ctx, key)
	}
	if err != nil {
		var pe *problem.Error
		if errors.As(err, &pe) && pe.Field != "" {
			pe2 := *pe
			pe2.Field = "member"
			return nil, &pe2
		}
		return nil, err
	}
	if m.Status == member.StatusErased {
		return nil, ErrMemberErased
	}
	return m, nil
}

func (s *Service) engineOptions(explain bool) engine.Options {
	pol := s.ledger.Policy()
	return engine.Options{
		BaseEarn: s.opt.BaseEarn, MinorPerUnit: s.opt.MinorPerUnit,
		PointValueNum: pol.RedeemValue, PointValueDen: pol.RedeemPoints, Explain: explain,
	}
}

// Evaluate answers what the basket would get now, changing nothing.
func (s *Service) Evaluate(ctx context.Context, req *Request, explain bool) (*Response, error) {
	p, err := s.prepare(ctx, req, false)
	if err != nil {
		return nil, err
	}
	m, err := s.resolveMember(ctx, req.MemberKey())
	if err != nil {
		return nil, err
	}
	now := s.opt.Now().UTC()
	live, err := s.campaigns.Live(ctx)
	if err != nil {
		return nil, err
	}
	st, pts, err := loadStateAndPoints(ctx, s.db.Read, live, m, now, s.ledger.Now())
	if err != nil {
		return nil, err
	}
	b := p.basket(req, m, now)
	cands := st.candidatesFor(live, &b, nil)
	if explain {
		cands = st.candidates(live, nil) // an explanation names every campaign
	}
	res := engine.Evaluate(b, cands, s.engineOptions(explain))
	resp := s.response(req, p, m, res)
	if explain {
		resp.Items = p.explain()
	}
	if m != nil {
		resp.Member.PointsBalance, resp.Member.PointsPending = pts.available, pts.pending
	}
	return resp, nil
}

func (s *Service) response(req *Request, p *prepared, m *member.Member, res engine.Result) *Response {
	resp := &Response{
		TransactionID: req.TransactionID, Store: req.Store, Currency: strings.ToUpper(req.Currency),
		Lines: res.Lines, Benefits: make([]Benefit, len(res.Benefits)), Subtotal: p.subtotal(),
		TotalDiscount: res.TotalDiscount, PointsEarned: res.PointsEarned, Explain: res.Rejected,
	}
	if m != nil {
		resp.Member = &MemberInfo{ID: m.ID, Code: string(m.Code)}
	} else {
		resp.PointsEarned = 0 // nobody to give them to
	}
	for i, a := range res.Benefits {
		resp.Benefits[i] = Benefit{Applied: a}
	}
	resp.Total = resp.Subtotal - resp.TotalDiscount
	resp.AmountDue = resp.Total
	resp.ReceiptText = receipt(resp, s.cur)
	return resp
}

// storeZone is the store's time zone for day and time-of-day conditions.
// Zones change rarely, so they are cached for a minute: a till's hot path
// then reads no store row.
func (s *Service) storeZone(ctx context.Context, storeID string) (*time.Location, error) {
	now := s.zones.now()
	if z, ok := s.zones.m.Load(storeID); ok && now.Before(z.(zoneEntry).until) {
		return z.(zoneEntry).loc, nil
	}
	loc := time.UTC // an unknown store still trades, in UTC, until the retailer registers it
	var tz string
	err := s.db.R.QueryRowContext(ctx, `SELECT timezone FROM stores WHERE id = $1`, storeID).Scan(&tz)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, fmt.Errorf("store zone: %w", err)
	default:
		if l, err := time.LoadLocation(tz); err == nil {
			loc = l
		}
	}
	s.zones.m.Store(storeID, zoneEntry{loc: loc, until: now.Add(time.Minute)})
	return loc, nil
}

// zoneCache holds the stores' zones. Its entries expire on the clock of the
// service that made it, which its copies on another clock (WithClock: a
// transaction file's records, hours or days apart) share: on the records'
// clock every record of a file read the store row again.
type zoneCache struct {
	now func() time.Time
	m   sync.Map // store id -> zoneEntry
}

type zoneEntry struct {
	loc   *time.Location
	until time.Time
}

// receipt is the text for the till to print, one line per entry, amounts
// with the currency's decimals and no symbol (till printers differ in
// what they can print).
func receipt(r *Response, cur money.Currency) []string {
	out := []string{}
	for _, b := range r.Benefits {
		switch {
		case b.Discount > 0:
			out = append(out, fmt.Sprintf("%s  -%s", b.Description, cur.Number(b.Discount)))
		case b.Points > 0:
			out = append(out, fmt.Sprintf("%s  +%d pts", b.Description, b.Points))
		case b.Content != "":
			out = append(out, fmt.Sprintf("%s: %s", b.Description, b.Content))
		default:
			out = append(out, b.Description)
		}
	}
	if r.TotalDiscount > 0 {
		out = append(out, fmt.Sprintf("You saved %s", cur.Number(r.TotalDiscount)))
	}
	if r.PointsValue > 0 {
		out = append(out, fmt.Sprintf("Paid with %d points  -%s", r.PointsRedeemed, cur.Number(r.PointsValue)))
	}
	if r.Member != nil {
		if r.PointsEarned > 0 {
			out = append(out, fmt.Sprintf("Points earned: %d", r.PointsEarned))
		}
	}
	return out
}
