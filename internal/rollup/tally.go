package rollup

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/perk-platform/perk/internal/report/figures"
	"github.com/perk-platform/perk/internal/store"
)

// Tally is one row of a basket's contribution to basket_tally (migration
// 0056), keyed by campaign, the UTC hour of the sale (hours since the Unix
// epoch) and store. For Campaign "" it is the basket as the overview counts
// it: Baskets 1 if committed, Sales (figures.Sales) and Points
// (figures.LinePoints) of its lines, and Redemptions and Discount of every
// campaign that redeemed in it (a redemption per campaign, figures.Discount).
// For a campaign with a standing redemption in the basket: Redemptions 1
// (figures.Redemptions), the basket's revenue as Sales, the campaign's
// Discount and its Points (figures.Points); Baskets 0.
type Tally struct {
	Campaign    string
	Hour        int64
	Store       string
	Baskets     int64
	Redemptions int64
	Sales       int64
	Discount    int64
	Points      int64
}

func (t Tally) key() tallyKey { return tallyKey{t.Campaign, t.Hour, t.Store} }

func (t Tally) zero() bool {
	return t.Baskets == 0 && t.Redemptions == 0 && t.Sales == 0 && t.Discount == 0 && t.Points == 0
}

type tallyKey struct {
	campaign string
	hour     int64
	store    string
}

// tallyColumns are basket_tally's columns in the order tallyOf gives them.
const tallyColumns = `campaign_id, hour, store_id, baskets, redemptions, sales, discount, points`

// tallyParts are the rows of basket_tally's contribution from the raw rows
// of the baskets that onBasket (on b) and onRedemption (on r) select, built
// from package figures' definitions so the roll-up is their sum by
// construction: per basket (bk: committed, a basket counts once, as
// COUNT(DISTINCT b.id) does) and per redemption of a campaign in a basket
// (rd: one, as figures.Redemptions counts it), each read once, then the
// basket and its redemptions for the row of no campaign and each campaign's
// redemption with the basket's revenue.
func tallyParts(d store.Dialect, onBasket, onRedemption string) string {
	return `WITH bk AS (SELECT b.id, ` + d.EpochBucket("b.created_at", 3600) + ` AS h, b.store_id AS s, b.status,
			` + figures.Sales + ` AS sales, COALESCE(SUM(` + figures.LinePoints + `), 0) AS points
		FROM baskets b JOIN basket_lines l ON l.basket_id = b.id WHERE ` + onBasket + ` GROUP BY b.id, 2, b.store_id, b.status),
	rd AS (SELECT r.basket_id, r.campaign_id, ` + d.EpochBucket("r.created_at", 3600) + ` AS h, r.store_id AS s,
			` + figures.Discount + ` AS discount, ` + figures.Points + ` AS points
		FROM redemptions r WHERE ` + onRedemption + ` AND ` + figures.Standing + ` GROUP BY r.basket_id, r.campaign_id, 3, r.store_id)
	SELECT '' AS c, bk.h AS h, bk.s AS s, 1 AS n, 0 AS r, bk.sales AS sales, 0 AS discount, bk.points AS points
		FROM bk WHERE bk.status = 'committed'
	UNION ALL
	SELECT '', rd.h, rd.s, 0, 1, 0, rd.discount, 0 FROM rd
	UNION ALL
	SELECT rd.campaign_id, rd.h, rd.s, 0, 1, COALESCE(bk.sales, 0), rd.discount, rd.points FROM rd LEFT JOIN bk ON bk.id = rd.basket_id`
}

// tallyOf is one basket's ($1) contribution, a row per key, in key order.
func tallyOf(d store.Dialect) string {
	return `SELECT t.c AS c, t.h AS h, t.s AS s, SUM(t.n) AS n, SUM(t.r) AS r, SUM(t.sales) AS sales, SUM(t.discount) AS discount,
		SUM(t.points) AS points
	FROM (` + tallyParts(d, `b.id = $1`, `r.basket_id = $1`) + `) t GROUP BY t.c, t.h, t.s ORDER BY 1, 2, 3`
}

// shard is the tally row a transaction writes: on PostgreSQL its backend's
// process id, unique among the connections open at once, so two tills of one
// store committing in the same hour never queue for one row lock (the rows
// of an hour and store are at most one per connection that wrote in it); a
// basket's rows are written last in its transaction and in key order.
// SQLite has one writer: shard 0.
func shard(d store.Dialect) string {
	if d == store.Postgres {
		return `pg_backend_pid()`
	}
	return `0`
}

const tallyUpsert = ` ON CONFLICT (campaign_id, hour, store_id, shard) DO UPDATE SET baskets = basket_tally.baskets + excluded.baskets,
	redemptions = basket_tally.redemptions + excluded.redemptions, sales = basket_tally.sales + excluded.sales,
	discount = basket_tally.discount + excluded.discount, points = basket_tally.points + excluded.points`

// addTally adds a basket's ($1) contribution to basket_tally, in key order.
func addTally(d store.Dialect) string {
	return `INSERT INTO basket_tally (campaign_id, hour, store_id, shard, baskets, redemptions, sales, discount, points)
	SELECT t.c, t.h, t.s, ` + shard(d) + `, t.n, t.r, t.sales, t.discount, t.points FROM (` + tallyOf(d) + `) t
	WHERE true ORDER BY 1, 2, 3` + tallyUpsert
}

var addTallySQL = map[store.Dialect]string{store.SQLite: addTally(store.SQLite), store.Postgres: addTally(store.Postgres)}

// AddTally counts a basket just stored in basket_tally: call it once its
// lines and redemptions are written, as late in the transaction as it can
// come, since on PostgreSQL its rows stay locked until the commit.
func AddTally(ctx context.Context, tx store.Execer, d store.Dialect, basketID string) error {
	if _, err := tx.ExecContext(ctx, addTallySQL[d], basketID); err != nil {
		return fmt.Errorf("rollup: tally basket %s: %w", basketID, err)
	}
	return nil
}

// Queryer reads and writes in a transaction: a *sql.Tx.
type Queryer interface {
	store.Execer
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// TallyOf reads a basket's contribution to basket_tally as it stands in tx,
// in key order: before a return or void changes it (see Retally).
func TallyOf(ctx context.Context, tx Queryer, d store.Dialect, basketID string) ([]Tally, error) {
	rows, err := tx.QueryContext(ctx, tallyOf(d), basketID)
	if err != nil {
		return nil, fmt.Errorf("rollup: tally of basket %s: %w", basketID, err)
	}
	defer rows.Close()
	var out []Tally
	for rows.Next() {
		var t Tally
		if err := rows.Scan(&t.Campaign, &t.Hour, &t.Store, &t.Baskets, &t.Redemptions, &t.Sales, &t.Discount, &t.Points); err != nil {
			return nil, fmt.Errorf("rollup: tally of basket %s: %w", basketID, err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("rollup: tally of basket %s: %w", basketID, err)
	}
	return out, nil
}

func compareTally(a, b Tally) int {
	return cmp.Or(strings.Compare(a.Campaign, b.Campaign), cmp.Compare(a.Hour, b.Hour), strings.Compare(a.Store, b.Store))
}

// Retally moves basket_tally from a basket's contribution before a change
// (TallyOf, read before it) to its contribution now: one statement of the
// differences, written last in the transaction as a commit's rows are, so
// a return holds no tally row while it waits for the ledger or counters.
func Retally(ctx context.Context, tx Queryer, d store.Dialect, basketID string, before []Tally) error {
	after, err := TallyOf(ctx, tx, d, basketID)
	if err != nil {
		return err
	}
	delta := map[tallyKey]Tally{}
	for _, t := range after {
		delta[t.key()] = t
	}
	for _, t := range before {
		x, ok := delta[t.key()]
		if !ok {
			x = Tally{Campaign: t.Campaign, Hour: t.Hour, Store: t.Store}
		}
		x.Baskets -= t.Baskets
		x.Redemptions -= t.Redemptions
		x.Sales -= t.Sales
		x.Discount -= t.Discount
		x.Points -= t.Points
		delta[t.key()] = x
	}
	var rows []Tally
	for _, t := range delta {
		if !t.zero() {
			rows = append(rows, t)
		}
	}
	if len(rows) == 0 {
		return nil
	}
	// In key order, as a commit writes them: VALUES are inserted in the
	// order given.
	slices.SortFunc(rows, compareTally)
	var q strings.Builder
	q.WriteString(`INSERT INTO basket_tally (campaign_id, hour, store_id, shard, baskets, redemptions, sales, discount, points) VALUES `)
	args := make([]any, 0, 8*len(rows))
	for i, t := range rows {
		if i > 0 {
			q.WriteString(", ")
		}
		n := 8 * i
		fmt.Fprintf(&q, "($%d, $%d, $%d, %s, $%d, $%d, $%d, $%d, $%d)", n+1, n+2, n+3, shard(d), n+4, n+5, n+6, n+7, n+8)
		args = append(args, t.Campaign, t.Hour, t.Store, t.Baskets, t.Redemptions, t.Sales, t.Discount, t.Points)
	}
	q.WriteString(tallyUpsert)
	if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
		return fmt.Errorf("rollup: retally basket %s: %w", basketID, err)
	}
	return nil
}

// tallyFrom recomputes basket_tally from every raw row, set-based, with
// tallyOf's definitions (migration 0056's backfill is this statement
// written out per dialect; the rollup tests check the three agree).
func tallyFrom(d store.Dialect) string {
	return `INSERT INTO basket_tally (campaign_id, hour, store_id, shard, baskets, redemptions, sales, discount, points)
	SELECT t.c, t.h, t.s, 0, SUM(t.n), SUM(t.r), SUM(t.sales), SUM(t.discount), SUM(t.points)
	FROM (` + tallyParts(d, `1 = 1`, `1 = 1`) + `) t GROUP BY t.c, t.h, t.s`
}

func rebuildTally(ctx context.Context, db store.Execer, d store.Dialect) error {
	if _, err := db.ExecContext(ctx, `DELETE FROM basket_tally`); err != nil {
		return fmt.Errorf("rollup: rebuild tally: %w", err)
	}
	if _, err := db.ExecContext(ctx, tallyFrom(d)); err != nil {
		return fmt.Errorf("rollup: rebuild tally: %w", err)
	}
	return nil
}
