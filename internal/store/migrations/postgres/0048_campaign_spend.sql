-- The uplift's roll-up (package rollup): per campaign and member, the
-- member's committed (not voided) baskets created in the campaign's window
-- [starts_at, ends_at) and their spend (gross - discount, returns not
-- deducted, as the uplift defines it). Kept in the transaction that commits
-- or voids a basket or moves a campaign's window, so the report reads one row
-- per buyer instead of every basket of the window. The backfill below is
-- rollup.rebuildSpend's statement: existing databases show the same figures
-- after the upgrade.
CREATE TABLE campaign_spend (
    campaign_id TEXT NOT NULL,
    member_id   TEXT NOT NULL,
    baskets     BIGINT NOT NULL DEFAULT 0,
    spend       BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, member_id)
);

INSERT INTO campaign_spend (campaign_id, member_id, baskets, spend)
SELECT c.id, b.member_id, COUNT(*), SUM(b.gross - b.discount)
FROM campaigns c JOIN baskets b ON b.created_at >= c.starts_at AND b.created_at < c.ends_at
WHERE b.status = 'committed' AND b.member_id IS NOT NULL
GROUP BY c.id, b.member_id;
