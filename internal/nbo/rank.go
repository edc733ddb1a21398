package nbo

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"

	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/member"
)

// NextOffer is one ranked offer as the API shows it.
type NextOffer struct {
	Rank          int            `json:"rank"`
	Source        string         `json:"source"`                // campaign: a live offer the member holds; pool: one they could be given
	Name          string         `json:"name"`                  // the pool offer's name, or the campaign's
	CampaignID    string         `json:"campaign_id,omitempty"` // for source campaign
	Description   string         `json:"description"`
	Benefit       engine.Benefit `json:"benefit"`
	ExpectedValue int64          `json:"expected_value"` // minor units: probability x (margin - cost)
	Probability   float64        `json:"probability"`
	Reasons       Reasons        `json:"reasons"`
}

// Sources of a ranked offer.
const (
	SourceCampaign = "campaign"
	SourcePool     = "pool"
)

// MaxK is the most offers one ranking returns.
const MaxK = 50

// Rank returns the member's best k offers: the live offers they hold (from
// the wallet: active campaigns they are in with uses left) and the pool's
// offers they do not hold yet, by expected incremental value.
func (s *Service) Rank(ctx context.Context, m *member.Member, k int) ([]NextOffer, error) {
	var offers []checkout.Offer
	if s.opt.Wallet != nil {
		var err error
		// The offers only: the ranking does not need the points balance.
		if offers, err = s.opt.Wallet.Offers(ctx, m); err != nil {
			return nil, err
		}
	}
	return s.rank(ctx, m, offers, true, k)
}

// Wallet is the checkout's wallet of the member with its offers in the
// ranking's order (best first; the pool's offers they do not hold are not
// theirs, so not in it), for the card page and the OFFERS reply. Offers
// the ranking leaves out keep the checkout's order after the ranked ones.
func (s *Service) Wallet(ctx context.Context, m *member.Member) (*checkout.Wallet, error) {
	if s.opt.Wallet == nil {
		return nil, fmt.Errorf("nbo: no checkout to read the wallet from")
	}
	w, err := s.opt.Wallet.Wallet(ctx, m)
	if err != nil || len(w.Offers) < 2 {
		return w, err
	}
	ranked, err := s.rank(ctx, m, w.Offers, false, MaxK)
	if err != nil {
		return nil, err
	}
	pos := make(map[string]int, len(ranked))
	for _, r := range ranked {
		pos[r.CampaignID] = r.Rank
	}
	at := func(o checkout.Offer) int {
		if p, ok := pos[o.CampaignID]; ok {
			return p
		}
		return MaxK + 1
	}
	slices.SortStableFunc(w.Offers, func(a, b checkout.Offer) int { return at(a) - at(b) })
	return w, nil
}

// rank ranks the live offers the member holds and, withPool, the pool's
// offers they do not hold yet.
func (s *Service) rank(ctx context.Context, m *member.Member, offers []checkout.Offer, withPool bool, k int) ([]NextOffer, error) {
	l, err := s.current(ctx)
	if err != nil {
		return nil, err
	}
	f, err := s.features(ctx, l, m.ID)
	if err != nil {
		return nil, err
	}
	// A member who holds no live offer ranks the pool as loaded, without
	// copying it.
	cands, groups := l.poolCands, l.groups
	if len(offers) > 0 || !withPool {
		n := len(offers)
		if withPool {
			n += len(l.pool)
		}
		cands, groups = make([]Candidate, 0, n), make([]string, 0, n)
		held := map[string]bool{}
		for _, o := range offers {
			g, err := s.campaignGiven(ctx, l, o.CampaignID)
			if err != nil {
				return nil, err
			}
			if pool, ok := l.personal[g.name]; ok {
				held[pool] = true
			}
			cands = append(cands, Candidate{Source: SourceCampaign, Name: o.Name, CampaignID: o.CampaignID,
				Offer: Offer{Name: o.Name, Description: o.Description, Benefit: g.benefit, Cost: campaignCost(g.benefit, l.model.Spend[g.group])}})
			groups = append(groups, g.group)
		}
		for i, o := range l.pool {
			if withPool && !held[o.Name] {
				cands = append(cands, l.poolCands[i])
				groups = append(groups, l.groups[i])
			}
		}
	}
	ranked := l.model.Rank(f, cands, groups, k)
	out := make([]NextOffer, len(ranked))
	for i, r := range ranked {
		out[i] = NextOffer{Rank: i + 1, Source: r.Source, Name: r.Name, CampaignID: r.CampaignID, Description: r.Offer.Description,
			Benefit: r.Offer.Benefit, ExpectedValue: int64(math.Round(r.Score)), Probability: r.Reasons.Probability, Reasons: r.Reasons}
	}
	return out, nil
}

// campaignCost is what one redemption of a live campaign's benefit costs,
// for campaigns, which state no cost: the amount off, or the percentage of
// the typical spend in its scope; points and gifts count as 0 (docs/nbo.md).
func campaignCost(b engine.Benefit, spend float64) int64 {
	switch b.Kind {
	case engine.AmountOff:
		return b.Amount
	case engine.SpendThreshold:
		if b.Percent > 0 {
			return b.Threshold * int64(b.Percent) / 100
		}
		return b.Amount
	case engine.PercentOff:
		return int64(math.Round(spend * float64(b.Percent) / 100))
	}
	return 0
}

// campaignGiven is what a launched campaign gives, read once and kept with
// the model.
func (s *Service) campaignGiven(ctx context.Context, l *loaded, id string) (given, error) {
	s.mu.Lock()
	g, ok := l.campaigns[id]
	s.mu.Unlock()
	if ok {
		return g, nil
	}
	c, err := s.campaigns.Get(ctx, id)
	if err != nil {
		return given{}, err
	}
	g = describeCampaign(&c.Spec, l.categories)
	s.mu.Lock()
	l.campaigns[id] = g
	s.mu.Unlock()
	return g, nil
}

// memberQuery reads everything the ranking needs of one member in one
// statement, so a request makes one round trip for it instead of five
// (lines, profile, affinities, redemptions, audiences): rows tagged by
// their first column.
//
//	0: a line of a committed basket in the window: basket id, 1 if the
//	   basket is within SegmentWindow, categories (JSON), value
//	1: the refined profile's RFM segment, if it has one
//	2: a campaign the member redeemed (not restored)
//	3: a campaign whose audience holds the member, not held back
const memberQuery = `SELECT 0, b.id, CASE WHEN b.created_at >= $3 THEN 1 ELSE 0 END, bl.categories, bl.quantity * bl.unit_price - bl.discount
		FROM baskets b JOIN basket_lines bl ON bl.basket_id = b.id
		WHERE b.member_id = $1 AND b.status = 'committed' AND b.created_at >= $2
	UNION ALL SELECT 1, segment, 0, '', 0 FROM member_profiles WHERE member_id = $1 AND segment <> ''
	UNION ALL SELECT 2, r.campaign_id, 0, '', 0 FROM baskets b JOIN redemptions r ON r.basket_id = b.id
		WHERE b.member_id = $1 AND r.restored_at IS NULL
	UNION ALL SELECT 3, campaign_id, 0, '', 0 FROM campaign_members WHERE member_id = $1 AND control = 0`

// features reads one member's spend by category, segment and offer history
// (memberQuery: one indexed statement).
func (s *Service) features(ctx context.Context, l *loaded, memberID string) (*Features, error) {
	now := s.now()
	f := &Features{}
	rows, err := s.db.Read.QueryContext(ctx, memberQuery, memberID, now.Add(-s.opt.Window), now.Add(-SegmentWindow))
	if err != nil {
		return nil, fmt.Errorf("nbo: member features: %w", err)
	}
	defer rows.Close()
	spend := map[string]float64{}
	bought := map[string]bool{}
	var total float64
	var recent, redeemed map[string]bool
	var given []string
	segment := ""
	for rows.Next() {
		var kind, isRecent int
		var key, cats string
		var value int64
		if err := rows.Scan(&kind, &key, &isRecent, &cats, &value); err != nil {
			return nil, fmt.Errorf("nbo: member features: %w", err)
		}
		switch kind {
		case 0:
			if isRecent == 1 {
				if recent == nil {
					recent = map[string]bool{}
				}
				recent[key] = true
			}
			cs, err := l.expand(cats)
			if err != nil {
				return nil, fmt.Errorf("nbo: member features: %w", err)
			}
			total += float64(value)
			for _, c := range cs {
				spend[c] += float64(value)
				bought[c] = true
			}
		case 1:
			segment = key
		case 2:
			if redeemed == nil {
				redeemed = map[string]bool{}
			}
			redeemed[key] = true
		case 3:
			given = append(given, key)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("nbo: member features: %w", err)
	}
	rows.Close()
	f.Share, f.Bought = shares(spend, total), bought
	f.Segment = SegmentOf(int64(len(recent)))
	// The refined profile's RFM segment, once it has one, replaces the
	// stand-in.
	if segment != "" {
		f.Segment = segment
	}
	// After the rows are read: campaignGiven may query.
	for _, id := range given {
		g, err := s.campaignGiven(ctx, l, id)
		if err != nil {
			return nil, fmt.Errorf("nbo: member offers: %w", err)
		}
		if !g.none {
			f.History = append(f.History, Exposure{Group: g.group, Kind: g.kind, Redeemed: redeemed[id]})
		}
	}
	return f, nil
}

// eachRow runs a query of one text column and calls fn for every row,
// after the rows are read (fn may query).
func eachRow(ctx context.Context, db *sql.DB, q string, args []any, fn func(string) error) error {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	var vals []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return err
		}
		vals = append(vals, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, v := range vals {
		if err := fn(v); err != nil {
			return err
		}
	}
	return nil
}
