package nbo

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/perk-platform/perk/internal/catalogue"
)

// Rule is a basket association rule "Antecedent -> Consequent": of the
// baskets, Support hold both, Confidence of those holding the antecedent
// hold the consequent too, and Lift is Confidence over the consequent's own
// share of baskets (above 1: bought together more often than chance).
type Rule struct {
	Level      string  `json:"level"` // category or sku
	Antecedent string  `json:"antecedent"`
	Consequent string  `json:"consequent"`
	Baskets    int64   `json:"baskets"` // holding both
	Support    float64 `json:"support"`
	Confidence float64 `json:"confidence"`
	Lift       float64 `json:"lift"`
}

// Rule levels.
const (
	LevelCategory = "category"
	LevelSKU      = "sku"
)

// Thresholds keep the rules worth acting on: a pair must be in at least
// MinSupport of the baskets (and MinBaskets of them, so a tiny programme
// does not learn from three baskets) with at least MinConfidence.
type Thresholds struct {
	MinSupport    float64 `json:"min_support"`
	MinConfidence float64 `json:"min_confidence"`
	MinBaskets    int64   `json:"min_baskets"`
}

// DefaultThresholds are used when a refresh names none.
var DefaultThresholds = Thresholds{MinSupport: 0.01, MinConfidence: 0.2, MinBaskets: 5}

// Mine finds the one-item rules X -> Y of the baskets (each a set of items;
// repeats inside a basket count once) that pass th. Single items on both
// sides are what an operator reads at a glance ("coffee -> pastries") and
// what an offer's scope can follow; longer antecedents would need far more
// baskets to be trusted. related, when not nil, drops pairs it calls
// related (a category and its own parent say nothing). Rules are ordered by
// lift, then confidence, then names, so the output is deterministic.
func Mine(level string, baskets [][]string, th Thresholds, related func(a, b string) bool) []Rule {
	n := int64(len(baskets))
	if n == 0 {
		return []Rule{}
	}
	single := map[string]int64{}
	type pair struct{ a, b string }
	both := map[pair]int64{}
	var items []string
	for _, b := range baskets {
		items = append(items[:0], b...)
		slices.Sort(items)
		items = slices.Compact(items)
		for i, x := range items {
			single[x]++
			for _, y := range items[i+1:] {
				both[pair{x, y}]++
			}
		}
	}
	out := []Rule{}
	for p, c := range both {
		if c < th.MinBaskets || float64(c)/float64(n) < th.MinSupport {
			continue
		}
		if related != nil && related(p.a, p.b) {
			continue
		}
		for _, dir := range [2][2]string{{p.a, p.b}, {p.b, p.a}} {
			conf := float64(c) / float64(single[dir[0]])
			if conf < th.MinConfidence {
				continue
			}
			out = append(out, Rule{Level: level, Antecedent: dir[0], Consequent: dir[1], Baskets: c,
				Support: float64(c) / float64(n), Confidence: conf, Lift: conf / (float64(single[dir[1]]) / float64(n))})
		}
	}
	slices.SortFunc(out, func(x, y Rule) int {
		return cmp.Or(cmp.Compare(y.Lift, x.Lift), cmp.Compare(y.Confidence, x.Confidence),
			cmp.Compare(x.Antecedent, y.Antecedent), cmp.Compare(x.Consequent, y.Consequent))
	})
	return out
}

// nested reports whether one category is within the other.
func nested(a, b string) bool { return catalogue.Within(a, b) || catalogue.Within(b, a) }

// Mined is the outcome of MineRules.
type Mined struct {
	Baskets int64     `json:"baskets"`
	Rules   []Rule    `json:"rules"`
	MinedAt time.Time `json:"mined_at"`
}

// MineRules mines the rules of the committed baskets of the last window
// (Options.Window) at the category level (each line's categories with their
// ancestors) and the SKU level, and replaces the stored rules with them.
// The operator runs it on demand (`perk nbo rules refresh`, POST
// /v1/nbo/rules/refresh) and `perk serve` nightly (Run).
func (s *Service) MineRules(ctx context.Context, th Thresholds) (*Mined, error) {
	now := s.now()
	cats, skus, err := s.basketItems(ctx, now.Add(-s.opt.Window))
	if err != nil {
		return nil, err
	}
	rules := append(Mine(LevelCategory, cats, th, nested), Mine(LevelSKU, skus, th, nil)...)
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM nbo_rules`); err != nil {
			return err
		}
		for _, r := range rules {
			if _, err := tx.ExecContext(ctx, `INSERT INTO nbo_rules (level, antecedent, consequent, baskets, support, confidence, lift, mined_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, r.Level, r.Antecedent, r.Consequent, r.Baskets, r.Support, r.Confidence, r.Lift, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("nbo: store rules: %w", err)
	}
	s.invalidate()
	s.opt.Log.InfoContext(ctx, "association rules mined", "baskets", len(cats), "rules", len(rules))
	return &Mined{Baskets: int64(len(cats)), Rules: rules, MinedAt: now}, nil
}

// basketItems reads each committed basket since from as its set of
// categories (with ancestors) and its set of SKUs, returned lines left out.
func (s *Service) basketItems(ctx context.Context, from time.Time) (cats, skus [][]string, err error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT bl.basket_id, bl.sku, bl.categories FROM basket_lines bl
		JOIN baskets b ON b.id = bl.basket_id
		WHERE b.status = 'committed' AND b.created_at >= $1 AND bl.returned_qty < bl.quantity
		ORDER BY bl.basket_id`, from)
	if err != nil {
		return nil, nil, fmt.Errorf("nbo: basket lines: %w", err)
	}
	defer rows.Close()
	last := ""
	for rows.Next() {
		var bid, sku, catJSON string
		if err := rows.Scan(&bid, &sku, &catJSON); err != nil {
			return nil, nil, err
		}
		if bid != last || len(cats) == 0 {
			cats, skus = append(cats, nil), append(skus, nil)
			last = bid
		}
		var cs []string
		if err := json.Unmarshal([]byte(catJSON), &cs); err != nil {
			return nil, nil, fmt.Errorf("nbo: basket %s categories: %w", bid, err)
		}
		i := len(cats) - 1
		cats[i] = append(cats[i], catalogue.Expand(cs)...)
		skus[i] = append(skus[i], sku)
	}
	return cats, skus, rows.Err()
}

// Rules returns the stored rules of a level ("" for both), strongest first.
func (s *Service) Rules(ctx context.Context, level string) ([]Rule, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT level, antecedent, consequent, baskets, support, confidence, lift FROM nbo_rules
		WHERE $1 = '' OR level = $1 ORDER BY lift DESC, confidence DESC, antecedent, consequent`, level)
	if err != nil {
		return nil, fmt.Errorf("nbo: read rules: %w", err)
	}
	defer rows.Close()
	out := []Rule{}
	for rows.Next() {
		var r Rule
		if err := rows.Scan(&r.Level, &r.Antecedent, &r.Consequent, &r.Baskets, &r.Support, &r.Confidence, &r.Lift); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Run mines the rules every interval (nightly in perk serve) until ctx ends.
func (s *Service) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.MineRules(ctx, DefaultThresholds); err != nil && ctx.Err() == nil {
				s.opt.Log.ErrorContext(ctx, "mining association rules", "err", err)
			}
		}
	}
}
