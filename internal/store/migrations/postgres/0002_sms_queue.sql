-- The outbox becomes the SMS send queue: each message row is its own job,
-- with attempts, back-off, a lease for crash recovery and its delivery state.
-- send_after is when the row next needs a sender: for a queued message the
-- time it may go, for a claimed one the end of its lease; claim_token names
-- the claim, so only its sender may settle the message.
ALTER TABLE sms_outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sms_outbox ADD COLUMN send_after TIMESTAMPTZ;
ALTER TABLE sms_outbox ADD COLUMN claim_token TEXT;
ALTER TABLE sms_outbox ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
ALTER TABLE sms_outbox ADD COLUMN held_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE sms_outbox ADD COLUMN gateway_message_id TEXT;
ALTER TABLE sms_outbox ADD COLUMN segments INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sms_outbox ADD COLUMN sent_at TIMESTAMPTZ;
ALTER TABLE sms_outbox ADD COLUMN delivery_state TEXT NOT NULL DEFAULT '';
ALTER TABLE sms_outbox ADD COLUMN delivered_at TIMESTAMPTZ;
DROP INDEX sms_outbox_status_idx;
CREATE INDEX sms_outbox_due_idx ON sms_outbox (status, send_after);
CREATE INDEX sms_outbox_gateway_idx ON sms_outbox (gateway_message_id);

-- Receipts that arrive before the submit is recorded (an SMSC may send the
-- DLR before Perk has stored its submit_sm_resp) wait here.
CREATE TABLE sms_early_receipts (
    gateway_message_id TEXT PRIMARY KEY,
    state              TEXT NOT NULL,
    at                 TIMESTAMPTZ NOT NULL
);
