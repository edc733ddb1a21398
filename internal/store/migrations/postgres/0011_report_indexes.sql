-- Indexes for the reports: a member's contact history reads their messages
-- (10M rows would otherwise be scanned for every page), a campaign report
-- counts its messages by status and receipt and its links' clicks, and the
-- uplift sums the spend of every basket in a campaign's window.
CREATE INDEX sms_outbox_member_idx ON sms_outbox (member_id, created_at);
CREATE INDEX sms_inbox_member_idx ON sms_inbox (member_id, received_at);
DROP INDEX sms_outbox_campaign_idx;
CREATE INDEX sms_outbox_campaign_idx ON sms_outbox (campaign_id, status, delivery_state);
CREATE INDEX short_links_campaign_idx ON short_links (campaign, code);
CREATE INDEX baskets_window_idx ON baskets (created_at, member_id, status, gross, discount);
