-- The SMS figures' roll-up (package sms, tally.go): per campaign ('' for a
-- message sent for none) and UTC hour (Unix seconds / 3600), the messages
-- now sent, counted three ways:
--   sent               by the hour of sent_at (the campaign report's sent series)
--   delivered          sent and delivered, by the hour of delivered_at (its
--                      delivered series)
--   created_sent       by the hour of the earlier of created_at and send_after
--   created_delivered  those of created_sent delivered (the overview's "sms" row,
--                      which counts messages created and due at or after the
--                      start of the day; the earlier of the two is the time
--                      both are at or after)
-- One row can hold all four: each counter has its own hour, and a message
-- adds to the row of each of its hours. The counters are kept in the
-- transaction that changes a message's status, sent_at, delivery_state or
-- delivered_at, by the change it makes (after less before), so a report
-- reads a row per hour instead of an index entry per message. Writers add to
-- a shard of each key of their own (on PostgreSQL the backend's pid,
-- unique among open connections) so that concurrent commits do not wait on
-- one hot row; readers sum
-- the shards. A counter may go negative in one shard (a receipt moving a
-- message away from delivered); the sums are what count. The backfill
-- below is sms.RebuildTally's statement: existing databases show the same
-- figures after the upgrade.
CREATE TABLE sms_tally (
    campaign_id       TEXT NOT NULL,
    hour              BIGINT NOT NULL,
    shard             INTEGER NOT NULL,
    sent              BIGINT NOT NULL DEFAULT 0,
    delivered         BIGINT NOT NULL DEFAULT 0,
    created_sent      BIGINT NOT NULL DEFAULT 0,
    created_delivered BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, hour, shard)
);
-- The overview reads every campaign's hours from the start of the day.
CREATE INDEX sms_tally_hour_idx ON sms_tally (hour);

INSERT INTO sms_tally (campaign_id, hour, shard, sent, delivered, created_sent, created_delivered)
SELECT campaign_id, hour, 0, SUM(sent), SUM(delivered), SUM(created_sent), SUM(created_delivered) FROM (
    SELECT campaign_id, (unixepoch(sent_at) / 3600) AS hour, 1 AS sent, 0 AS delivered, 0 AS created_sent, 0 AS created_delivered
    FROM sms_outbox WHERE status = 'sent' AND sent_at IS NOT NULL
    UNION ALL
    SELECT campaign_id, (unixepoch(delivered_at) / 3600), 0, 1, 0, 0
    FROM sms_outbox WHERE status = 'sent' AND delivery_state = 'delivered' AND delivered_at IS NOT NULL
    UNION ALL
    SELECT campaign_id, MIN((unixepoch(created_at) / 3600), (unixepoch(send_after) / 3600)), 0, 0, 1, CASE WHEN delivery_state = 'delivered' THEN 1 ELSE 0 END
    FROM sms_outbox WHERE status = 'sent' AND created_at IS NOT NULL AND send_after IS NOT NULL
) AS t
WHERE hour IS NOT NULL
GROUP BY campaign_id, hour;
