package nbo

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/catalogue"
	"github.com/perk-platform/perk/internal/checkout/engine"
)

// loaded is the model with what it was read with: the pool, the categories
// of each product and what each launched campaign gave.
type loaded struct {
	model     *Model
	at        time.Time
	pool      []Offer
	poolCands []Candidate       // the pool's offers as candidates, in pool order
	groups    []string          // of pool offers
	personal  map[string]string // personal-offer campaign name -> pool offer name
	products  map[string][]string
	campaigns map[string]given // launched campaigns by id

	catMu sync.RWMutex
	cats  map[string][]string // a line's categories as stored -> expanded (expand)
}

// maxCachedCategoryLists bounds expand's cache: a programme's lines carry
// few distinct category lists, but nothing stops a catalogue from having
// many.
const maxCachedCategoryLists = 8192

// expand parses a line's categories (a JSON list, as stored) and adds their
// ancestors (catalogue.Expand), once per distinct list: parsing the JSON of
// every line of a member's year was a tenth of a ranking's CPU. The slice
// returned is shared: callers only read it.
func (l *loaded) expand(raw string) ([]string, error) {
	l.catMu.RLock()
	cs, ok := l.cats[raw]
	l.catMu.RUnlock()
	if ok {
		return cs, nil
	}
	if err := json.Unmarshal([]byte(raw), &cs); err != nil {
		return nil, fmt.Errorf("line categories %q: %w", raw, err)
	}
	cs = catalogue.Expand(cs)
	l.catMu.Lock()
	if l.cats == nil {
		l.cats = map[string][]string{}
	}
	if len(l.cats) < maxCachedCategoryLists {
		l.cats[raw] = cs
	}
	l.catMu.Unlock()
	return cs, nil
}

// given is what a campaign gave, as the history counts it.
type given struct {
	name    string
	group   string
	kind    engine.Kind
	benefit engine.Benefit
	desc    string
	// none: the campaign gives nothing itself (a next_best_offer
	// campaign, whose offers are the personal-offer campaigns it gave).
	none bool
}

func (l *loaded) categories(sku string) []string { return l.products[sku] }

// current returns the cached model. The first request, and the first after
// invalidate (a pool write, rules mined, offers given), reads it. Once it is
// older than Options.ModelTTL it is still served while one goroutine reads
// the next in the background: the load scans the window's basket lines
// (seconds for a hundred thousand baskets), which no request should wait for
// every ten minutes.
func (s *Service) current(ctx context.Context) (*loaded, error) {
	s.mu.Lock()
	l := s.model
	if l != nil && s.now().Sub(l.at) >= s.opt.ModelTTL && !s.refreshing {
		s.refreshing = true
		go s.refresh(context.WithoutCancel(ctx))
	}
	s.mu.Unlock()
	if l != nil {
		return l, nil
	}
	l, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.model = l
	s.mu.Unlock()
	return l, nil
}

// refresh reads the model again in the background and keeps it, unless it
// was dropped meanwhile (then the next request reads its own).
func (s *Service) refresh(ctx context.Context) {
	s.mu.Lock()
	gen := s.gen
	s.mu.Unlock()
	l, err := s.load(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refreshing = false
	if err != nil {
		s.opt.Log.WarnContext(ctx, "next best offer model not refreshed; the previous one is kept", "err", err)
		return
	}
	if s.gen == gen && s.model != nil {
		s.model = l
	}
}

// load reads the programme-wide statistics in one snapshot.
func (s *Service) load(ctx context.Context) (*loaded, error) {
	now := s.now()
	l := &loaded{at: now, model: &Model{Priors: map[string]Beta{}, Segments: map[string]map[string]Count{},
		AvgShare: map[string]float64{}, Rules: map[string][]Rule{}, Spend: map[string]float64{}, Margin: map[string]MarginRate{}},
		personal: map[string]string{}, products: map[string][]string{}, campaigns: map[string]given{}}
	tx, err := s.db.ReadSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	for _, step := range []func(context.Context, *sql.Tx, *loaded, time.Time) error{
		s.loadProducts, s.loadPool, s.loadCampaigns, s.loadSpend, s.loadHistory, s.loadRules,
	} {
		if err := step(ctx, tx, l, now); err != nil {
			return nil, fmt.Errorf("nbo: load model: %w", err)
		}
	}
	return l, nil
}

// loadProducts reads each product's categories and the margin rate of each
// category from the cost prices the catalogue knows: the sum of (price -
// cost) over the sum of price, over the category's products with both.
func (s *Service) loadProducts(ctx context.Context, tx *sql.Tx, l *loaded, _ time.Time) error {
	rows, err := tx.QueryContext(ctx, `SELECT sku, categories, price, cost_price FROM products`)
	if err != nil {
		return err
	}
	defer rows.Close()
	type sum struct {
		price, margin float64
		n             int
	}
	sums := map[string]*sum{}
	for rows.Next() {
		var sku, cats string
		var price int64
		var cost sql.NullInt64
		if err := rows.Scan(&sku, &cats, &price, &cost); err != nil {
			return err
		}
		var cs []string
		if err := json.Unmarshal([]byte(cats), &cs); err != nil {
			return fmt.Errorf("product %s categories: %w", sku, err)
		}
		cs = catalogue.Expand(cs)
		l.products[sku] = cs
		if !cost.Valid || price <= 0 {
			continue
		}
		for _, c := range append([]string{""}, cs...) {
			if sums[c] == nil {
				sums[c] = &sum{}
			}
			sums[c].price += float64(price)
			sums[c].margin += float64(price - cost.Int64)
			sums[c].n++
		}
	}
	for c, v := range sums {
		l.model.Margin[c] = MarginRate{Rate: v.margin / v.price, Source: fmt.Sprintf("catalogue (%d products)", v.n)}
	}
	return rows.Err()
}

func (s *Service) loadPool(ctx context.Context, tx *sql.Tx, l *loaded, _ time.Time) error {
	rows, err := tx.QueryContext(ctx, `SELECT spec FROM nbo_offers ORDER BY name`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return err
		}
		var o Offer
		if err := json.Unmarshal([]byte(body), &o); err != nil {
			return err
		}
		l.pool = append(l.pool, o)
		l.poolCands = append(l.poolCands, Candidate{Source: SourcePool, Name: o.Name, Offer: o})
		l.groups = append(l.groups, Group(o.Benefit, l.categories))
		l.personal[o.Personal().Spec().Name] = o.Name
	}
	return rows.Err()
}

// loadCampaigns reads what each launched campaign gives (its first
// benefit: the one a personal offer has), for members' histories.
func (s *Service) loadCampaigns(ctx context.Context, tx *sql.Tx, l *loaded, _ time.Time) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, spec FROM campaigns WHERE launched_at IS NOT NULL`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, body string
		if err := rows.Scan(&id, &body); err != nil {
			return err
		}
		var spec campaign.Spec
		if err := json.Unmarshal([]byte(body), &spec); err != nil {
			return fmt.Errorf("campaign %s: %w", id, err)
		}
		if spec.Kind != campaign.KindStandard {
			continue // gives nothing itself: its members are not offers given
		}
		l.campaigns[id] = describeCampaign(&spec, l.categories)
	}
	return rows.Err()
}

func describeCampaign(spec *campaign.Spec, categories func(string) []string) given {
	g := given{name: spec.Name, desc: spec.Description, none: spec.Kind != campaign.KindStandard}
	if len(spec.Benefits) > 0 {
		g.benefit = spec.Benefits[0]
		g.kind = g.benefit.Kind
		g.group = Group(g.benefit, categories)
		if g.desc == "" {
			g.desc = g.benefit.Description
		}
	}
	if g.desc == "" {
		g.desc = spec.Name
	}
	return g
}

// loadSpend reads the window's lines once: each member's share of spend by
// category (averaged over members into AvgShare) and the average spend in
// each category per basket holding it (Spend; "" is the whole basket).
func (s *Service) loadSpend(ctx context.Context, tx *sql.Tx, l *loaded, now time.Time) error {
	rows, err := tx.QueryContext(ctx, `SELECT b.member_id, bl.basket_id, bl.categories, bl.quantity * bl.unit_price - bl.discount
		FROM basket_lines bl JOIN baskets b ON b.id = bl.basket_id
		WHERE b.status = 'committed' AND b.created_at >= $1 ORDER BY bl.basket_id`, now.Add(-s.opt.Window))
	if err != nil {
		return err
	}
	defer rows.Close()
	type acc struct {
		spend map[string]float64
		total float64
	}
	members := map[string]*acc{}
	sum, baskets := map[string]float64{}, map[string]float64{}
	inBasket := map[string]bool{}
	last := ""
	for rows.Next() {
		var mid sql.NullString
		var bid, cats string
		var value int64
		if err := rows.Scan(&mid, &bid, &cats, &value); err != nil {
			return err
		}
		if bid != last {
			clear(inBasket)
			last = bid
			baskets[""]++
		}
		cs, err := l.expand(cats)
		if err != nil {
			return err
		}
		sum[""] += float64(value)
		for _, c := range cs {
			sum[c] += float64(value)
			if !inBasket[c] {
				inBasket[c] = true
				baskets[c]++
			}
		}
		if mid.Valid {
			a := members[mid.String]
			if a == nil {
				a = &acc{spend: map[string]float64{}}
				members[mid.String] = a
			}
			a.total += float64(value)
			for _, c := range cs {
				a.spend[c] += float64(value)
			}
		}
	}
	for c, v := range sum {
		l.model.Spend[c] = v / baskets[c]
	}
	for _, a := range members {
		for c, sh := range shares(a.spend, a.total) {
			l.model.AvgShare[c] += sh / float64(len(members))
		}
	}
	return rows.Err()
}

// loadHistory counts the offers given (members in a launched campaign's
// audience, not held back) and redeemed, by the members' segment and the
// offer's group, and fits each group's prior over the segments.
func (s *Service) loadHistory(ctx context.Context, tx *sql.Tx, l *loaded, now time.Time) error {
	segs, err := s.segments(ctx, tx, now)
	if err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT cm.campaign_id, cm.member_id,
		CASE WHEN EXISTS (SELECT 1 FROM redemptions r WHERE r.campaign_id = cm.campaign_id AND r.member_id = cm.member_id
			AND r.restored_at IS NULL) THEN 1 ELSE 0 END
		FROM campaign_members cm WHERE cm.control = 0`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var all Count
	for rows.Next() {
		var cid, mid string
		var red int
		if err := rows.Scan(&cid, &mid, &red); err != nil {
			return err
		}
		g, ok := l.campaigns[cid]
		if !ok {
			continue
		}
		seg := segs[mid]
		if seg == "" {
			seg = SegmentNone
		}
		if l.model.Segments[seg] == nil {
			l.model.Segments[seg] = map[string]Count{}
		}
		c := l.model.Segments[seg][g.group]
		c.Given++
		c.Redeemed += float64(red)
		l.model.Segments[seg][g.group] = c
		all.Given++
		all.Redeemed += float64(red)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	// With no history at all, a neutral 10% stands in until offers are given.
	l.model.Global = Beta{Mean: 0.10, Strength: GlobalStrength}.posterior(all)
	byGroup := map[string][]Count{}
	for _, gs := range l.model.Segments {
		for g, c := range gs {
			byGroup[g] = append(byGroup[g], c)
		}
	}
	for g, cells := range byGroup {
		l.model.Priors[g] = FitBeta(cells, l.model.Global)
	}
	return nil
}

func (s *Service) loadRules(ctx context.Context, tx *sql.Tx, l *loaded, _ time.Time) error {
	rows, err := tx.QueryContext(ctx, `SELECT level, antecedent, consequent, baskets, support, confidence, lift FROM nbo_rules
		WHERE level = 'category' ORDER BY lift DESC, confidence DESC, antecedent`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var r Rule
		if err := rows.Scan(&r.Level, &r.Antecedent, &r.Consequent, &r.Baskets, &r.Support, &r.Confidence, &r.Lift); err != nil {
			return err
		}
		l.model.Rules[r.Consequent] = append(l.model.Rules[r.Consequent], r)
	}
	return rows.Err()
}
