package loadgen

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/rollup"
	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/store"
)

// DatasetOptions size the reporting data set (GenerateDataset).
type DatasetOptions struct {
	Members   int       // members, enrolled over the two years before Now
	Messages  int       // campaign SMS, spread over the campaigns
	Baskets   int       // committed baskets over the 90 days before Now
	Campaigns int       // launched campaigns, audience all, 10% control group
	Stores    int       // stores S01..
	Seed      uint64    // same seed, same data
	Now       time.Time // the end of the data set's time span
	// Progress, if set, is called after each table with its name and rows.
	Progress func(table string, rows int, took time.Duration)
}

// GenerateDataset fills an empty, migrated database with a retailer's
// history for report benchmarks: members, launched campaigns with their
// control groups, campaign messages with delivery states and clicks, and
// baskets with lines and redemptions. Rows go in with multi-row INSERTs
// straight into the tables (not through the services), which is what makes
// tens of millions of rows possible in minutes; the values follow the
// services' rules (valid codes and numbers, control groups by the campaign
// hash, redemptions only inside a campaign's dates).
func GenerateDataset(ctx context.Context, db *store.DB, o DatasetOptions) error {
	if o.Campaigns <= 0 {
		o.Campaigns = 20
	}
	if o.Stores <= 0 {
		o.Stores = 50
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	g := &gen{db: db, o: o, r: rand.New(rand.NewPCG(o.Seed, 0x5eed)), now: o.Now.UTC().Truncate(time.Second)}
	for _, step := range []struct {
		name string
		fn   func(context.Context) (int, error)
	}{
		{"stores", g.stores}, {"members", g.members}, {"campaigns", g.campaigns}, {"campaign_members", g.control},
		{"sms_outbox", g.messages}, {"baskets", g.baskets}, {"campaign_spend", g.rollups},
	} {
		start := time.Now()
		n, err := step.fn(ctx)
		if err == nil {
			err = g.commit()
		}
		if err != nil {
			return fmt.Errorf("generate %s: %w", step.name, err)
		}
		if o.Progress != nil {
			o.Progress(step.name, n, time.Since(start))
		}
	}
	return nil
}

// rollups computes the report's roll-ups from the rows written by SQL
// above, as the tills and the SMS queue would have kept them.
func (g *gen) rollups(ctx context.Context) (int, error) {
	if err := rollup.Rebuild(ctx, g.db.W, g.db.Dialect); err != nil {
		return 0, err
	}
	if err := sms.RebuildTally(ctx, g.db.W, g.db.Dialect); err != nil {
		return 0, err
	}
	var n int
	return n, g.db.W.QueryRowContext(ctx, `SELECT COUNT(*) FROM campaign_spend`).Scan(&n)
}

type gen struct {
	db    *store.DB
	o     DatasetOptions
	r     *rand.Rand
	now   time.Time
	camps []genCampaign
	tx    *sql.Tx // open bulk transaction, if any
	stmts int
}

// exec runs a bulk statement in the generator's open transaction, committing
// every 50 statements: one transaction per statement spent most of its time
// committing.
func (g *gen) exec(ctx context.Context, q string, args ...any) error {
	if g.tx == nil {
		tx, err := g.db.W.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		g.tx = tx
	}
	if _, err := g.tx.ExecContext(ctx, q, args...); err != nil {
		g.tx.Rollback()
		g.tx = nil
		return err
	}
	if g.stmts++; g.stmts%50 == 0 {
		return g.commit()
	}
	return nil
}

func (g *gen) commit() error {
	if g.tx == nil {
		return nil
	}
	err := g.tx.Commit()
	g.tx = nil
	return err
}

type genCampaign struct {
	id         string
	start, end time.Time
}

// bulk inserts rows of n columns in statements of up to 500 rows, one
// transaction per statement.
type bulk struct {
	g      *gen
	head   string
	cols   int
	args   []any
	rows   int
	manual bool // flushed by the caller only (child rows after their parents)
}

func (g *gen) bulk(table, cols string) *bulk {
	return &bulk{g: g, head: "INSERT INTO " + table + " (" + cols + ") VALUES ", cols: strings.Count(cols, ",") + 1}
}

func (b *bulk) add(ctx context.Context, vals ...any) error {
	b.args = append(b.args, vals...)
	if !b.manual && len(b.args)/b.cols >= 500 {
		return b.flush(ctx)
	}
	return nil
}

func (b *bulk) flush(ctx context.Context) error {
	n := len(b.args) / b.cols
	if n == 0 {
		return nil
	}
	var sb strings.Builder
	sb.WriteString(b.head)
	for i := range n {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString("(" + b.g.db.Dialect.Placeholders(i*b.cols+1, b.cols) + ")")
	}
	if err := b.g.exec(ctx, sb.String(), b.args...); err != nil {
		return err
	}
	b.rows += n
	b.args = b.args[:0]
	return nil
}

func (g *gen) stores(ctx context.Context) (int, error) {
	b := g.bulk("stores", "id, name, timezone, created_at")
	for i := 1; i <= g.o.Stores; i++ {
		if err := b.add(ctx, storeID(i), fmt.Sprintf("Store %d", i), "Europe/London", g.now.AddDate(-3, 0, 0)); err != nil {
			return 0, err
		}
	}
	err := b.flush(ctx)
	return b.rows, err
}

func storeID(i int) string { return fmt.Sprintf("S%02d", i) }

func memberID(i int) string { return fmt.Sprintf("mem_gen%09d", i) }

func (g *gen) members(ctx context.Context) (int, error) {
	b := g.bulk("members", "id, code, phone, first_name, home_store, tags, timezone, channel, status, enrolled_at, updated_at")
	channels := []string{"sms", "web", "pos", "import", "api"}
	var num []byte
	for i := range g.o.Members {
		code, err := member.CodeFromDigits(fmt.Sprintf("%07d", (uint64(i)*phoneMul+phoneAdd)%10_000_000))
		if err != nil {
			return 0, err
		}
		num = appendMobile(num[:0], phonesForFiles, uint64(i))
		status := "active"
		switch x := g.r.IntN(100); {
		case x < 10:
			status = "opted_out"
		case x < 15:
			status = "pending"
		}
		tags := "[]"
		if g.r.IntN(4) == 0 {
			tags = `["vip"]`
		}
		enrolled := g.now.Add(-time.Duration(g.r.Int64N(int64(2 * 365 * 24 * time.Hour))))
		if err := b.add(ctx, memberID(i), string(code), "+44"+string(num[1:]), firstNames[i%len(firstNames)].display, storeID(1+g.r.IntN(g.o.Stores)),
			tags, "Europe/London", channels[g.r.IntN(len(channels))], status, enrolled, enrolled); err != nil {
			return 0, err
		}
	}
	return g.o.Members, b.flush(ctx)
}

// campaigns are spread over the last 90 days, a week or two each.
func (g *gen) campaigns(ctx context.Context) (int, error) {
	b := g.bulk("campaigns", "id, name, status, spec, starts_at, ends_at, created_at, updated_at, launched_at, audience_size, control_size")
	for i := range g.o.Campaigns {
		start := g.now.Add(-time.Duration(g.r.Int64N(int64(85 * 24 * time.Hour)))).Truncate(time.Hour)
		end := start.Add(time.Duration(7+g.r.IntN(8)) * 24 * time.Hour)
		spec := campaign.Spec{Name: fmt.Sprintf("Generated %02d", i+1), Start: start.Format(time.RFC3339), End: end.Format(time.RFC3339),
			Audience: campaign.Audience{Kind: campaign.AudienceAll}, ControlGroup: 10,
			Benefits: []engine.Benefit{{Kind: engine.PercentOff, Percent: 5 + 5*g.r.IntN(4), Scope: engine.Scope{Categories: []string{fmt.Sprintf("CAT%03d", 1+i)}}}}}
		body, _ := json.Marshal(spec)
		status := "active"
		if !end.After(g.now) {
			status = "ended"
		}
		id := fmt.Sprintf("cmp_gen%04d", i)
		g.camps = append(g.camps, genCampaign{id: id, start: start, end: end})
		if err := b.add(ctx, id, spec.Name, status, string(body), start, end, start, start, start, g.o.Members, g.o.Members/10); err != nil {
			return 0, err
		}
	}
	return g.o.Campaigns, b.flush(ctx)
}

// control writes each campaign's launch control group, drawn by the same
// hash the tills use.
func (g *gen) control(ctx context.Context) (int, error) {
	b := g.bulk("campaign_members", "campaign_id, member_id, control")
	for _, c := range g.camps {
		for i := range g.o.Members {
			if id := memberID(i); campaign.InControl(c.id, id, 10) {
				if err := b.add(ctx, c.id, id, 1); err != nil {
					return 0, err
				}
			}
		}
	}
	err := b.flush(ctx)
	return b.rows, err
}

func (g *gen) treated(c genCampaign) string {
	for {
		id := memberID(g.r.IntN(max(g.o.Members, 1)))
		if !campaign.InControl(c.id, id, 10) {
			return id
		}
	}
}

// messages are campaign announcements: 92% delivered, 3% failed, 3% sent
// without a receipt, 2% held; one in ten carries a link, a fifth of those
// are clicked.
func (g *gen) messages(ctx context.Context) (int, error) {
	if len(g.camps) == 0 || g.o.Members == 0 {
		return 0, nil
	}
	b := g.bulk("sms_outbox", "id, member_id, to_phone, body, kind, purpose, status, created_at, send_after, sent_at, delivery_state, delivered_at, campaign_id, segments")
	links := g.bulk("short_links", "code, url, member_id, message_id, campaign, created_at")
	clicks := g.bulk("link_clicks", "code, member_id, clicked_at")
	links.manual, clicks.manual = true, true // clicks after their links
	for i := range g.o.Messages {
		c := g.camps[i%len(g.camps)]
		mid := g.treated(c)
		id := fmt.Sprintf("msg_gen%010d", i)
		at := c.start.Add(time.Duration(g.r.Int64N(int64(2 * time.Hour))))
		sent, delivered := sql.NullTime{Time: at.Add(2 * time.Second), Valid: true}, sql.NullTime{Time: at.Add(9 * time.Second), Valid: true}
		status, state := "sent", "delivered"
		switch x := g.r.IntN(100); {
		case x < 3:
			status, state, sent, delivered = "failed", "", sql.NullTime{}, sql.NullTime{}
		case x < 6:
			state, delivered = "", sql.NullTime{}
		case x < 8:
			status, state, sent, delivered = "held", "", sql.NullTime{}, sql.NullTime{}
		}
		if err := b.add(ctx, id, mid, "+447400000000", "Your offer is waiting", "marketing", "campaign", status, at, at, sent, state, delivered, c.id, 1); err != nil {
			return 0, err
		}
		if i%10 == 0 && status == "sent" {
			code := fmt.Sprintf("g%09d", i)
			if err := links.add(ctx, code, "https://shop.example/offer", mid, id, c.id, at); err != nil {
				return 0, err
			}
			if g.r.IntN(5) == 0 {
				if err := clicks.add(ctx, code, mid, at.Add(time.Duration(g.r.Int64N(int64(48*time.Hour))))); err != nil {
					return 0, err
				}
			}
			if len(links.args)/links.cols >= 500 {
				if err := links.flush(ctx); err != nil {
					return 0, err
				}
				if err := clicks.flush(ctx); err != nil {
					return 0, err
				}
			}
		}
	}
	for _, x := range []*bulk{b, links, clicks} { // in this order: clicks need their links
		if err := x.flush(ctx); err != nil {
			return 0, err
		}
	}
	return b.rows, nil
}

// baskets: 90% from members, one to four lines from the catalogue; a basket
// inside a live campaign's dates redeems it one time in five.
func (g *gen) baskets(ctx context.Context) (int, error) {
	bs := g.bulk("baskets", "id, store_id, transaction_id, terminal, member_id, currency, gross, discount, points_earned, points_redeemed, points_value, status, request_hash, response, created_at")
	ls := g.bulk("basket_lines", "basket_id, line, sku, categories, quantity, unit_price, discount, points")
	rs := g.bulk("redemptions", "basket_id, offer_id, campaign_id, member_id, store_id, kind, discount, points, lines, created_at")
	ls.manual, rs.manual = true, true
	for i := range g.o.Baskets {
		id := fmt.Sprintf("bsk_gen%010d", i)
		at := g.now.Add(-time.Duration(g.r.Int64N(int64(90 * 24 * time.Hour))))
		var mid sql.NullString
		if g.o.Members > 0 && g.r.IntN(10) != 0 {
			mid = sql.NullString{String: memberID(g.r.IntN(g.o.Members)), Valid: true}
		}
		store := storeID(1 + g.r.IntN(g.o.Stores))
		type line struct {
			sku, qty int
			price    int64
		}
		var gross int64
		lines := make([]line, 1+g.r.IntN(4))
		amounts := make([]int64, len(lines))
		for l := range lines {
			sku := 1 + g.r.IntN(CatalogueSKUs)
			lines[l] = line{sku: sku, qty: 1 + g.r.IntN(3), price: SKUPrice(sku)}
			amounts[l] = int64(lines[l].qty) * lines[l].price
			gross += amounts[l]
		}
		var discount int64
		var redeemed *genCampaign
		if mid.Valid && g.r.IntN(5) == 0 {
			for _, c := range g.camps {
				if !at.Before(c.start) && at.Before(c.end) && !campaign.InControl(c.id, mid.String, 10) {
					discount, redeemed = gross/10, &c
					break
				}
			}
		}
		points := int64(0)
		if mid.Valid {
			points = (gross - discount) / 100
		}
		// Lines carry their shares of the basket's discount (by amount) and
		// of its points (by net), as a commit stores them, so line-level
		// sums equal the basket's.
		discounts := checkout.Spread(discount, amounts)
		nets := make([]int64, len(lines))
		var shares []engine.LineShare
		for l := range lines {
			nets[l] = amounts[l] - discounts[l]
			if discounts[l] > 0 {
				shares = append(shares, engine.LineShare{Line: l + 1, Discount: discounts[l]})
			}
		}
		pointShares := checkout.Spread(points, nets)
		for l, ln := range lines {
			if err := ls.add(ctx, id, l+1, SKU(ln.sku), `["`+Category(SKUCategory(ln.sku))+`"]`, ln.qty, ln.price, discounts[l], pointShares[l]); err != nil {
				return 0, err
			}
		}
		if redeemed != nil {
			sh, _ := json.Marshal(shares)
			if err := rs.add(ctx, id, redeemed.id+".1", redeemed.id, mid, store, "percent_off", discount, 0, string(sh), at); err != nil {
				return 0, err
			}
		}
		if err := bs.add(ctx, id, store, fmt.Sprintf("T%010d", i), "T1", mid, "GBP", gross, discount, points, 0, 0, "committed", "", "{}", at); err != nil {
			return 0, err
		}
		// Lines and redemptions reference the basket: write it first.
		if len(bs.args) == 0 {
			for _, x := range []*bulk{ls, rs} {
				if err := x.flush(ctx); err != nil {
					return 0, err
				}
			}
		}
	}
	for _, x := range []*bulk{bs, ls, rs} {
		if err := x.flush(ctx); err != nil {
			return 0, err
		}
	}
	return bs.rows, nil
}
