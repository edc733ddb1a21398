-- Every inbound SMS, as received, with what the router made of it.
CREATE TABLE sms_inbox (
    id          TEXT PRIMARY KEY,
    from_phone  TEXT,                      -- E.164, NULL once the member is erased
    to_addr     TEXT NOT NULL DEFAULT '',
    body        TEXT NOT NULL,
    keyword     TEXT NOT NULL DEFAULT '',  -- '' when not recognised: kept for the operator
    member_id   TEXT REFERENCES members (id),
    received_at TIMESTAMP NOT NULL
);
CREATE INDEX sms_inbox_from_idx ON sms_inbox (from_phone, received_at);
CREATE INDEX sms_inbox_unknown_idx ON sms_inbox (keyword, received_at);
CREATE INDEX sms_outbox_to_idx ON sms_outbox (to_phone, purpose, created_at);
