-- A campaign's total limit and budget are counted over shards rather than on
-- its one campaigns row, so tills redeeming the same budgeted campaign do not
-- all wait for one row lock (issue 15, docs/architecture.md "Campaign
-- counters"). The limit is split into allotments: each shard may take while
-- its used count stays within its allotment, and the allotments always sum to
-- the limit, so the sum of the shards' use never passes it. A NULL allotment
-- means no limit of that kind. The campaign's counts are the sums over its
-- shards (campaign.CountersSQL); the counters on campaigns are no longer
-- written and their values move here, into shard 0.
CREATE TABLE campaign_counter_shards (
    campaign_id       TEXT NOT NULL,
    shard             INTEGER NOT NULL,
    redemptions_allot BIGINT,
    budget_allot      BIGINT,
    redemptions_used  BIGINT NOT NULL DEFAULT 0,
    discount_used     BIGINT NOT NULL DEFAULT 0,
    points_given      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, shard)
);
INSERT INTO campaign_counter_shards (campaign_id, shard, redemptions_allot, budget_allot, redemptions_used, discount_used, points_given)
SELECT id, 0, max_redemptions, budget, redemptions, discount_given, points_given FROM campaigns
WHERE max_redemptions IS NOT NULL OR budget IS NOT NULL OR redemptions <> 0 OR discount_given <> 0 OR points_given <> 0;
UPDATE campaigns SET redemptions = 0, discount_given = 0, points_given = 0;
