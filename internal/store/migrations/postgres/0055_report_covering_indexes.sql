-- The campaign report reads a campaign's messages three times: counted by
-- status and receipt, and bucketed by sent_at and by delivered_at for its
-- series. With delivered_at and sent_at in the campaign index all three read
-- the index alone instead of one table row per message (on SQLite at 50,000
-- messages a campaign, about 200 ms a series), and the delivered series
-- seeks its time range. The columns added change in
-- the same UPDATEs as status and delivery_state, which the index already
-- held, so the SMS path writes no more index entries than before.
DROP INDEX sms_outbox_campaign_idx;
CREATE INDEX sms_outbox_campaign_idx ON sms_outbox (campaign_id, status, delivery_state, delivered_at, sent_at);
-- A dynamic audience (all, open) counts the members not erased enrolled
-- before a time: with status in the index, without a table row per member.
DROP INDEX members_enrolled_at_idx;
CREATE INDEX members_enrolled_at_idx ON members (enrolled_at, status);
