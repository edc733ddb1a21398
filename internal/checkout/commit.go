package checkout

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/id"
	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/money"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/profile"
	"github.com/perk-platform/perk/internal/rollup"
	"github.com/perk-platform/perk/internal/store"
)

// errRetry restarts a commit whose cached view of a campaign was stale: a
// limit or budget turned out to be used up when the commit tried to take it.
var errRetry = errors.New("retry with fresh limits")

// takeAgain restarts a commit whose take of a campaign's totals found no
// counter shard with room the way it looked (campaign.ErrTakeCarefully,
// campaign.ErrTakeAll): the next attempt takes them in mode.
type takeAgain struct {
	campaignID string
	mode       campaign.TakeMode
}

func (e *takeAgain) Error() string {
	return fmt.Sprintf("take campaign %s totals again in mode %d", e.campaignID, e.mode)
}

// ErrContentExhausted is returned when a free-content pool has no codes left.
var ErrContentExhausted = problem.New(problem.Conflict, "content_exhausted", "the free content pool has no codes left")

// Commit applies exactly what Evaluate would now: it takes the offer uses
// and budgets, pays with points if asked, writes the points ledger and
// stores the basket, all in one database transaction. The same
// transaction id and body returns the stored answer; another body is
// ErrConflict.
func (s *Service) Commit(ctx context.Context, req *Request) (*Response, error) {
	resp, replayed, err := s.commit(ctx, req)
	s.metrics.commit(replayed, err)
	return resp, err
}

// commit is Commit, also telling whether the answer is a stored one.
func (s *Service) commit(ctx context.Context, req *Request) (*Response, bool, error) {
	p, err := s.prepare(ctx, req, true)
	if err != nil {
		return nil, false, err
	}
	h := hash(req)
	if resp, err := storedCommit(ctx, s.db.Read, req, h); resp != nil || err != nil {
		return resp, resp != nil, err
	}
	m, err := s.resolveMember(ctx, req.MemberKey())
	if err != nil {
		return nil, false, err
	}
	exhausted := map[string]engine.Reason{}
	modes := map[string]campaign.TakeMode{} // how each campaign's totals are taken (campaign.ErrTakeCarefully, ErrTakeAll)
	for attempt := 0; ; attempt++ {
		var resp *Response
		var ended bool
		var moved []string // campaigns the commit redeemed
		// The live set is read before the transaction: on PostgreSQL reads
		// and writes share one pool, and a transaction waiting for a second
		// connection could wait for ever once every connection is a
		// transaction doing the same.
		live, err := s.campaigns.Live(ctx)
		if err != nil {
			return nil, false, err
		}
		// The replay check made above is not made again in the
		// transaction: the basket's insert finds a commit of the same id
		// that came first (storeBasket) and answers as it did.
		err = s.db.Tx(store.GroupCommit(ctx), func(tx *sql.Tx) error {
			return s.batchChanges(ctx, tx, func(ctx context.Context) error {
				var err error
				resp, ended, err = s.commitTx(ctx, tx, req, p, h, m, live, exhausted, modes)
				if err != nil {
					return err
				}
				moved = slices.Clone(resp.campaignsOf())
				return s.recordCommit(ctx, tx, m, resp)
			})
		})
		var first *firstCommit
		if errors.As(err, &first) {
			return first.resp, true, nil
		}
		var again *takeAgain
		if errors.As(err, &again) && attempt < 20 {
			modes[again.campaignID] = again.mode
			continue
		}
		if store.Deadlock(err) && attempt < 20 {
			// Commits and returns take counter shards in campaign and
			// shard order, and a take that would lock every shard starts
			// again holding none, so this is a safety net for the other
			// rows a transaction file's chunk holds: the loser runs again.
			s.metrics.retries.Inc()
			continue
		}
		if errors.Is(err, errRetry) && attempt < 20 {
			s.metrics.retries.Inc()
			s.campaigns.Invalidate()
			continue
		}
		if c, ok := store.UniqueViolation(err); ok && c == "baskets_store_transaction_key" {
			// A concurrent commit of the same transaction id won.
			resp, err := storedCommit(ctx, s.db.Read, req, h)
			return resp, resp != nil, err
		}
		if err != nil {
			return nil, false, err
		}
		if ended {
			// In a chunk of a transaction file, the next basket must not
			// see the ended campaign as live: the chunk commits first.
			store.AfterCommit(ctx, s.campaigns.Invalidate)
		}
		if moved != nil {
			s.opt.OnChange(moved...)
		}
		// Counted once the basket is durable: a chunk of a transaction file
		// that never commits is sent again.
		now := s.opt.Now().UTC()
		store.OnCommit(ctx, func() { s.noteUnknown(p, req.Store, now) })
		return resp, false, nil
	}
}

// storedCommit returns the stored answer for a repeated commit, ErrConflict
// for the same id with another body, or nil, nil.
func storedCommit(ctx context.Context, q querier, req *Request, h string) (*Response, error) {
	var stored, body string
	err := q.QueryRowContext(ctx, `SELECT request_hash, response FROM baskets WHERE store_id = $1 AND transaction_id = $2`,
		req.Store, req.TransactionID).Scan(&stored, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find transaction: %w", err)
	}
	if stored != h {
		return nil, ErrConflict
	}
	var resp Response
	if err := json.Unmarshal([]byte(body), &resp); err != nil {
		return nil, fmt.Errorf("stored response: %w", err)
	}
	return &resp, nil
}

func (s *Service) commitTx(ctx context.Context, tx *sql.Tx, req *Request, p *prepared, h string, m *member.Member,
	live *campaign.LiveSet, exhausted map[string]engine.Reason, modes map[string]campaign.TakeMode) (*Response, bool, error) {
	now := s.opt.Now().UTC()
	st, err := loadState(ctx, tx, live, m, now)
	if err != nil {
		return nil, false, err
	}
	b := p.basket(req, m, now)
	res := engine.Evaluate(b, st.candidatesFor(live, &b, exhausted), s.engineOptions(false))

	// Take every applying campaign's limits before writing anything else;
	// a limit that is gone restarts the commit without that campaign.
	perCampaign := map[string]*engine.Applied{}
	for i := range res.Benefits {
		a := &res.Benefits[i]
		if t := perCampaign[a.CampaignID]; t != nil {
			t.Discount += a.Discount
			t.Points += a.Points
		} else {
			c := *a
			perCampaign[a.CampaignID] = &c
		}
	}
	periods := map[string]string{}
	for _, cid := range res.Campaigns {
		reason, period, err := takeMemberUses(ctx, tx, live.ByID[cid], m, now)
		if err != nil {
			return nil, false, err
		}
		if reason != "" {
			exhausted[cid] = reason
			return nil, false, errRetry
		}
		periods[cid] = period
	}

	resp := s.response(req, p, m, res)
	var memberID sql.NullString
	if m != nil {
		memberID = sql.NullString{String: m.ID, Valid: true}
	}
	if err := s.payWithPoints(ctx, tx, req, m, resp, now); err != nil {
		return nil, false, err
	}
	// The basket is written once, with its answer, after everything that
	// decides the answer; only a free-content code, which points at its
	// basket, needs the basket first (and its answer written after).
	basketID := id.New("bsk", now)
	early := slices.ContainsFunc(resp.Benefits, func(b Benefit) bool { return b.Kind == engine.FreeContent })
	if early {
		if err := s.storeBasket(ctx, tx, basketID, req, h, memberID, resp, nil, now); err != nil {
			return nil, false, err
		}
	}
	gave := map[string]bool{} // campaigns that gave the shopper something
	for i := range resp.Benefits {
		b := &resp.Benefits[i]
		if b.Kind == engine.FreeContent {
			b.Content, err = issueContent(ctx, tx, b.Pool, basketID, memberID, now)
			if errors.Is(err, ErrContentExhausted) {
				// A dry pool must not stop the sale: the shopper is told,
				// the operator sees it in the log and the report.
				s.opt.Log.WarnContext(ctx, "free content pool empty", "pool", b.Pool, "campaign", b.CampaignID)
				b.Description += " (none left)"
			} else if err != nil {
				return nil, false, err
			}
		}
		if b.Discount > 0 || b.Points > 0 || b.Content != "" {
			gave[b.CampaignID] = true
		}
	}
	resp.ReceiptText = receipt(resp, s.cur)

	if m != nil {
		if err := s.earn(ctx, tx, m.ID, req.TransactionID, res, now); err != nil {
			return nil, false, err
		}
		if err := s.referred(ctx, tx, m.ID, basketID, resp.Total, now); err != nil {
			return nil, false, err
		}
		bal, err := s.ledger.BalanceTx(ctx, tx, m.ID, now)
		if err != nil {
			return nil, false, err
		}
		resp.Member.PointsBalance, resp.Member.PointsPending = bal.Available, bal.Pending
	}
	// Campaign totals last: their row lock is held until the transaction
	// commits, and every till redeeming the same budgeted campaign waits for
	// it (on PostgreSQL), so it is taken as late as possible.
	ended := false
	// In one order in every commit, so two commits redeeming the same
	// campaigns never hold each other's shards.
	for _, cid := range sortedCampaigns(res.Campaigns) {
		if !gave[cid] {
			// It gave nothing, so it takes nothing: the member's use
			// comes back and its totals are not counted.
			if err := giveBackUses(ctx, tx, cid, m, periods[cid]); err != nil {
				return nil, false, err
			}
			continue
		}
		a := perCampaign[cid]
		reason, end, err := s.takeTotals(ctx, tx, live.ByID[cid], a.Discount, a.Points, now, modes[cid])
		switch {
		case errors.Is(err, campaign.ErrTakeCarefully):
			return nil, false, &takeAgain{cid, campaign.TakeCareful}
		case errors.Is(err, campaign.ErrTakeAll):
			return nil, false, &takeAgain{cid, campaign.TakeAll}
		}
		if err != nil {
			return nil, false, err
		}
		if reason != "" {
			exhausted[cid] = reason
			return nil, false, errRetry
		}
		ended = ended || end
	}
	if err := s.recordBasket(ctx, tx, basketID, req, resp, memberID.String, gave, now); err != nil {
		return nil, false, err
	}
	if memberID.Valid && !s.opt.NoProfiles {
		if err := profile.Enqueue(ctx, tx, memberID.String, now); err != nil {
			return nil, false, err
		}
	}
	if early {
		if err := storeResponse(ctx, tx, basketID, resp); err != nil {
			return nil, false, err
		}
	} else if err := s.storeBasket(ctx, tx, basketID, req, h, memberID, resp, resp, now); err != nil {
		return nil, false, err
	}
	if err := insertLines(ctx, tx, basketID, p, res, resp.PointsEarned); err != nil {
		return nil, false, err
	}
	if err := insertRedemptions(ctx, tx, basketID, memberID, req.Store, resp, gave, periods, now); err != nil {
		return nil, false, err
	}
	if err := rollup.AddBasket(ctx, tx, basketID); err != nil {
		return nil, false, err
	}
	if err := rollup.AddTally(ctx, tx, s.db.Dialect, basketID); err != nil {
		return nil, false, err
	}
	return resp, ended, nil
}

// insertRedemptions records, in one statement, a redemption for each
// benefit of a campaign that gave the shopper something.
func insertRedemptions(ctx context.Context, tx *sql.Tx, basketID string, memberID sql.NullString, storeID string, resp *Response,
	gave map[string]bool, periods map[string]string, now time.Time) error {
	var args []any
	n := 0
	for i := range resp.Benefits {
		b := &resp.Benefits[i]
		if !gave[b.CampaignID] {
			// Only a free gift from a dry pool: no redemption (docs/figures.md).
			continue
		}
		shares, _ := json.Marshal(b.Lines)
		args = append(args, basketID, b.OfferID, b.CampaignID, memberID, storeID, string(b.Kind), b.Discount, b.Points, string(shares),
			b.Content, periods[b.CampaignID], now)
		n++
	}
	if n == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO redemptions (basket_id, offer_id, campaign_id, member_id, store_id, kind, discount, points,
		lines, content_code, period, created_at) VALUES `+store.Values(n, 12), args...); err != nil {
		return fmt.Errorf("store redemptions: %w", err)
	}
	return nil
}

// firstCommit is the answer stored for a transaction that another commit of
// the same id stored first; the commit that finds it answers with it.
type firstCommit struct{ resp *Response }

func (e *firstCommit) Error() string { return "transaction already committed" }

// storeBasket inserts the basket with its answer (nil: none yet, for
// storeResponse to write). A basket of the same store and transaction id
// already there (committed, or earlier in the same chunk) makes it return
// that basket's answer as a *firstCommit, or ErrConflict for another body.
func (s *Service) storeBasket(ctx context.Context, tx *sql.Tx, basketID string, req *Request, h string, memberID sql.NullString,
	resp, answer *Response, now time.Time) error {
	body := ""
	if answer != nil {
		b, err := json.Marshal(answer)
		if err != nil {
			return err
		}
		body = string(b)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO baskets (id, store_id, transaction_id, terminal, member_id, currency, gross, discount,
		points_earned, points_redeemed, points_value, status, request_hash, response, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'committed', $12, $13, $14)
		ON CONFLICT (store_id, transaction_id) DO NOTHING`,
		basketID, req.Store, req.TransactionID, req.Terminal, memberID, resp.Currency, resp.Subtotal, resp.TotalDiscount,
		resp.PointsEarned, resp.PointsRedeemed, resp.PointsValue, h, body, now)
	if err != nil {
		return fmt.Errorf("store basket: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store basket: %w", err)
	} else if n == 1 {
		return nil
	}
	first, err := storedCommit(ctx, tx, req, h)
	if err != nil {
		return err
	}
	if first == nil {
		return fmt.Errorf("store basket: transaction %s neither stored nor found", req.TransactionID)
	}
	return &firstCommit{first}
}

// payWithPoints pays with the points the request asks to pay with, if any.
func (s *Service) payWithPoints(ctx context.Context, tx *sql.Tx, req *Request, m *member.Member, resp *Response, now time.Time) error {
	if req.RedeemPoints <= 0 || m == nil {
		return nil
	}
	value := s.ledger.Policy().Value(req.RedeemPoints)
	if value > resp.Total {
		return ErrPointsOverTotal
	}
	if _, err := s.ledger.Redeem(ctx, tx, m.ID, req.RedeemPoints, "paid at the till", req.TransactionID, now); err != nil {
		return err
	}
	resp.PointsRedeemed, resp.PointsValue = req.RedeemPoints, value
	resp.AmountDue = resp.Total - value
	return nil
}

// payAndStore pays with points if asked and stores the basket and its
// lines, as every commit does whoever decided its benefits. It returns the
// basket's id and its member column.
func (s *Service) payAndStore(ctx context.Context, tx *sql.Tx, req *Request, p *prepared, h string, m *member.Member, res engine.Result,
	resp *Response, now time.Time) (string, sql.NullString, error) {
	var memberID sql.NullString
	if m != nil {
		memberID = sql.NullString{String: m.ID, Valid: true}
	}
	if err := s.payWithPoints(ctx, tx, req, m, resp, now); err != nil {
		return "", memberID, err
	}
	basketID := id.New("bsk", now)
	if _, err := tx.ExecContext(ctx, `INSERT INTO baskets (id, store_id, transaction_id, terminal, member_id, currency, gross, discount,
		points_earned, points_redeemed, points_value, status, request_hash, response, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'committed', $12, '', $13)`,
		basketID, req.Store, req.TransactionID, req.Terminal, memberID, resp.Currency, resp.Subtotal, resp.TotalDiscount,
		resp.PointsEarned, resp.PointsRedeemed, resp.PointsValue, h, now); err != nil {
		return "", memberID, fmt.Errorf("store basket: %w", err)
	}
	return basketID, memberID, insertLines(ctx, tx, basketID, p, res, resp.PointsEarned)
}

// storeResponse keeps a commit's answer for its retries.
func storeResponse(ctx context.Context, tx *sql.Tx, basketID string, resp *Response) error {
	body, err := json.Marshal(resp)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE baskets SET response = $2 WHERE id = $1`, basketID, string(body)); err != nil {
		return fmt.Errorf("store response: %w", err)
	}
	return nil
}

// earn writes the base points and each campaign's points as ledger
// entries, in one ledger write.
func (s *Service) earn(ctx context.Context, tx *sql.Tx, memberID, txnID string, res engine.Result, now time.Time) error {
	cs := []ledger.Credit{{MemberID: memberID, Kind: ledger.KindEarn, Points: res.BasePoints, Reason: "purchase", TransactionID: txnID}}
	for _, b := range res.Benefits {
		cs = append(cs, ledger.Credit{MemberID: memberID, Kind: ledger.KindBonus, Points: b.Points,
			Reason: b.Description, TransactionID: txnID, CampaignID: b.CampaignID})
	}
	return s.ledger.EarnAll(ctx, tx, memberID, cs, now)
}

// insertLines stores each line with its discount and its share of the
// points earned, spread by net value like a basket discount, so a return
// takes back exactly that share. A measured line is stored as one unit at
// its value, with its measure and price per unit beside them.
func insertLines(ctx context.Context, tx *sql.Tx, basketID string, p *prepared, res engine.Result, points int64) error {
	nets := make([]int64, len(p.lines))
	for i := range p.lines {
		nets[i] = p.lines[i].value() - res.Lines[i].Discount
	}
	shares := Spread(points, nets)
	// One statement for all lines: a commit is on the till's critical path
	// and SQLite's single writer pays for every round trip.
	var b strings.Builder
	b.WriteString(`INSERT INTO basket_lines (basket_id, line, sku, categories, quantity, unit_price, discount, points, unit, measure, measure_price) VALUES `)
	args := make([]any, 0, 11*len(p.lines))
	for i := range p.lines {
		l := &p.lines[i]
		cats, _ := json.Marshal(nonNil(l.cats))
		if i > 0 {
			b.WriteString(", ")
		}
		n := len(args)
		fmt.Fprintf(&b, "($%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8, n+9, n+10, n+11)
		unit, measurePrice := "", int64(0)
		if l.unit.Measured() {
			unit, measurePrice = string(l.unit), l.item.UnitPrice
		}
		args = append(args, basketID, l.item.Line, l.sku, string(cats), l.qty, l.price, res.Lines[i].Discount, shares[i],
			unit, int64(l.measure), measurePrice)
	}
	if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
		return fmt.Errorf("store lines: %w", err)
	}
	return nil
}

func sortedCampaigns(ids []string) []string {
	if slices.IsSorted(ids) {
		return ids
	}
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Spread splits total over weights in proportion (floor), giving the
// leftover to the largest weight (the first of equals). With no positive
// weight it all goes to the first entry.
func Spread(total int64, weights []int64) []int64 {
	out := make([]int64, len(weights))
	if len(weights) == 0 || total == 0 {
		return out
	}
	var sum int64
	big := 0
	for i, w := range weights {
		if w > 0 {
			sum += w
		}
		if w > weights[big] {
			big = i
		}
	}
	if sum == 0 {
		out[0] = total
		return out
	}
	var given int64
	for i, w := range weights {
		if w > 0 {
			out[i] = money.MulDiv(total, w, sum)
			given += out[i]
		}
	}
	out[big] += total - given
	return out
}

// takeMemberUses takes one of the member's uses of campaign l (ever and
// this period) by an atomic conditional write that fails when the limit is
// reached. It returns the reason when a limit is gone and the period key.
func takeMemberUses(ctx context.Context, tx *sql.Tx, l *campaign.Live, m *member.Member, now time.Time) (engine.Reason, string, error) {
	lim := l.Spec.Limits
	if m == nil {
		return "", "", nil
	}
	if lim.PerMember > 0 {
		ok, err := takeUse(ctx, tx, l.ID, m.ID, "", lim.PerMember)
		if err != nil || !ok {
			return engine.LimitReached, "", err
		}
	}
	period := ""
	if lim.PerPeriod > 0 {
		period = campaign.PeriodKey(lim.Period, now, l.Location)
		ok, err := takeUse(ctx, tx, l.ID, m.ID, period, lim.PerPeriod)
		if err != nil || !ok {
			return engine.LimitReached, "", err
		}
	}
	return "", period, nil
}

// giveBackUses returns the uses takeMemberUses took for a campaign that
// then gave the shopper nothing.
func giveBackUses(ctx context.Context, tx *sql.Tx, cid string, m *member.Member, period string) error {
	if m == nil {
		return nil
	}
	return restoreUses(ctx, tx, cid, m.ID, period)
}

// takeTotals counts one redemption of campaign l against its total limit
// and budget (campaign.Service.TakeTotals: spread over counter shards so
// concurrent tills do not queue on one row). It returns the reason when
// one is used up, and whether this redemption reached it (and ended the
// campaign for everyone).
func (s *Service) takeTotals(ctx context.Context, tx *sql.Tx, l *campaign.Live, discount, points int64, now time.Time, mode campaign.TakeMode) (engine.Reason, bool, error) {
	lim := l.Spec.Limits
	if lim.MaxRedemptions == 0 && lim.Budget == 0 {
		return "", false, nil
	}
	t, err := s.campaigns.TakeTotals(ctx, tx, l.ID, discount, points, now, mode)
	if err != nil {
		return "", false, err
	}
	if t.Refused {
		if t.LimitUsed || (lim.MaxRedemptions > 0 && l.Redemptions+1 >= lim.MaxRedemptions) {
			return engine.LimitReached, false, nil
		}
		return engine.BudgetExhausted, false, nil
	}
	return "", t.Ended, nil
}

// takeUse adds one use of a campaign by a member in a period unless the
// limit is reached. The conditional upsert is atomic on both engines: on
// PostgreSQL a concurrent taker waits for the row lock and then sees the new
// count.
func takeUse(ctx context.Context, tx *sql.Tx, cid, memberID, period string, limit int) (bool, error) {
	var uses int64
	err := tx.QueryRowContext(ctx, `INSERT INTO offer_uses (campaign_id, member_id, period, uses) VALUES ($1, $2, $3, 1)
		ON CONFLICT (member_id, campaign_id, period) DO UPDATE SET uses = offer_uses.uses + 1 WHERE offer_uses.uses < $4
		RETURNING uses`, cid, memberID, period, limit).Scan(&uses)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("take offer use: %w", err)
	}
	return true, nil
}

// issueContent hands out the next free code of a pool. The outer
// "issued_at IS NULL" makes a concurrent taker of the same code update
// nothing and try the next one.
func issueContent(ctx context.Context, tx *sql.Tx, pool, basketID string, memberID sql.NullString, now time.Time) (string, error) {
	for range 50 {
		var code string
		err := tx.QueryRowContext(ctx, `UPDATE content_codes SET basket_id = $2, member_id = $3, issued_at = $4
			WHERE pool = $1 AND issued_at IS NULL
			AND code = (SELECT code FROM content_codes WHERE pool = $1 AND issued_at IS NULL ORDER BY code LIMIT 1)
			RETURNING code`, pool, basketID, memberID, now).Scan(&code)
		if errors.Is(err, sql.ErrNoRows) {
			var left int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM content_codes WHERE pool = $1 AND issued_at IS NULL`, pool).Scan(&left); err != nil {
				return "", err
			}
			if left == 0 {
				return "", ErrContentExhausted
			}
			continue
		}
		if err != nil {
			return "", fmt.Errorf("issue content: %w", err)
		}
		return code, nil
	}
	return "", ErrContentExhausted
}

// campaignsOf lists the campaigns an answer's benefits belong to, each once,
// never nil.
func (r *Response) campaignsOf() []string {
	out := []string{}
	for _, b := range r.Benefits {
		if !slices.Contains(out, b.CampaignID) {
			out = append(out, b.CampaignID)
		}
	}
	return out
}

// CommitReplay is Commit, also telling whether the answer is the stored
// answer of an earlier identical commit (nothing changed): a batch file
// sent twice counts its baskets as unchanged.
func (s *Service) CommitReplay(ctx context.Context, req *Request) (*Response, bool, error) {
	resp, replayed, err := s.commit(ctx, req)
	s.metrics.commit(replayed, err)
	return resp, replayed, err
}
