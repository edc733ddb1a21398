-- The campaign report's and the overview's basket figures, rolled up (package
-- rollup, type Tally): per campaign, UTC hour of the sale and store, the
-- figures of package figures summed over the baskets: for campaign_id '' the
-- committed baskets (sales and points earned net of returns) and every
-- campaign's redemptions in them with their discount; for a campaign its
-- redemptions (distinct baskets), their revenue, discount net of returns and
-- campaign points. Kept in the transaction that commits, returns
-- or voids a basket, so a page reads a row per hour and store instead of
-- every line of the campaign's baskets. shard spreads one hour's and store's
-- row over the writers' connections on PostgreSQL (no row every till waits
-- for); SQLite has one writer and writes shard 0. The backfill below is the
-- sum of rollup.tallyOf over every basket (rollup.tallyFrom): existing databases show the same
-- figures after the upgrade (rollup's tests check the two agree).
CREATE TABLE basket_tally (
    campaign_id TEXT NOT NULL,
    hour        BIGINT NOT NULL,
    store_id    TEXT NOT NULL,
    shard       INTEGER NOT NULL,
    baskets     BIGINT NOT NULL,
    redemptions BIGINT NOT NULL,
    sales       BIGINT NOT NULL,
    discount    BIGINT NOT NULL,
    points      BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, hour, store_id, shard)
);

INSERT INTO basket_tally (campaign_id, hour, store_id, shard, baskets, redemptions, sales, discount, points)
	SELECT t.c, t.h, t.s, 0, SUM(t.n), SUM(t.r), SUM(t.sales), SUM(t.discount), SUM(t.points)
	FROM (WITH bk AS (SELECT b.id, (unixepoch(b.created_at) / 3600) AS h, b.store_id AS s, b.status,
			COALESCE(SUM(CASE WHEN b.status = 'committed' THEN (CASE WHEN l.measure > 0
	THEN l.unit_price - l.unit_price * l.returned_measure / l.measure - (l.discount - l.discount * l.returned_measure / l.measure)
	ELSE l.unit_price * (l.quantity - l.returned_qty) - (l.discount - l.discount * l.returned_qty / l.quantity) END) ELSE 0 END), 0) AS sales, COALESCE(SUM((CASE WHEN l.measure > 0 THEN l.points - l.points * l.returned_measure / l.measure
	ELSE l.points - l.points * l.returned_qty / l.quantity END)), 0) AS points
		FROM baskets b JOIN basket_lines l ON l.basket_id = b.id WHERE 1 = 1 GROUP BY b.id, 2, b.store_id, b.status),
	rd AS (SELECT r.basket_id, r.campaign_id, (unixepoch(r.created_at) / 3600) AS h, r.store_id AS s,
			COALESCE(SUM(r.discount - r.discount_returned), 0) AS discount, COALESCE(SUM(r.points), 0) AS points
		FROM redemptions r WHERE 1 = 1 AND r.restored_at IS NULL AND (r.discount > 0 OR r.points > 0 OR r.content_code <> '') GROUP BY r.basket_id, r.campaign_id, 3, r.store_id)
	SELECT '' AS c, bk.h AS h, bk.s AS s, 1 AS n, 0 AS r, bk.sales AS sales, 0 AS discount, bk.points AS points
		FROM bk WHERE bk.status = 'committed'
	UNION ALL
	SELECT '', rd.h, rd.s, 0, 1, 0, rd.discount, 0 FROM rd
	UNION ALL
	SELECT rd.campaign_id, rd.h, rd.s, 0, 1, COALESCE(bk.sales, 0), rd.discount, rd.points FROM rd LEFT JOIN bk ON bk.id = rd.basket_id) t GROUP BY t.c, t.h, t.s;
