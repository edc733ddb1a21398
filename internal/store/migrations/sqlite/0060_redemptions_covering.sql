-- A campaign's redemption figures (package figures: distinct baskets and
-- members, discount net of returns, points, over the standing redemptions)
-- read every one of its redemptions, each a table row. The campaign index
-- now carries the columns those figures read, so they come from the index
-- alone.
DROP INDEX redemptions_campaign_idx;
CREATE INDEX redemptions_campaign_idx ON redemptions (campaign_id, created_at, basket_id, member_id, restored_at, discount,
    discount_returned, points, content_code);
