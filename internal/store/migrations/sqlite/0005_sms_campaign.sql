-- Messages sent for a campaign carry its id, so campaign reports can count
-- sent, delivered, failed and clicked.
ALTER TABLE sms_outbox ADD COLUMN campaign_id TEXT NOT NULL DEFAULT '';
CREATE INDEX sms_outbox_campaign_idx ON sms_outbox (campaign_id, status);
