-- Webhooks (internal/webhook). An endpoint is a URL subscribed to event
-- types, with its signing secret and, during a rotation, the previous one
-- until previous_until. event_types is a JSON array of type names.
CREATE TABLE webhook_endpoints (
    id             TEXT PRIMARY KEY,
    url            TEXT NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    event_types    TEXT NOT NULL,
    secret         TEXT NOT NULL,
    previous_secret TEXT NOT NULL DEFAULT '',
    previous_until TIMESTAMPTZ,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);

-- The outbox: one row per (event, endpoint), written in the transaction of
-- the change it reports, and its own job. status is pending (waiting for
-- next_at), sending (claimed by a dispatcher until next_at, its lease,
-- claim_token naming the claim), delivered or dead (gave up at expires_at).
-- payload is the exact body sent; the signature is made at each attempt.
-- endpoint_id has no foreign key on purpose: every till commit would lock
-- the one endpoint row (a shared hot row on PostgreSQL), and a process
-- whose endpoint cache is a moment stale would fail a sale for an endpoint
-- removed elsewhere. Removing an endpoint deletes its deliveries; a
-- delivery for one already gone is dead-lettered at its first attempt.
CREATE TABLE webhook_deliveries (
    id           TEXT PRIMARY KEY,
    endpoint_id  TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    event_type   TEXT NOT NULL,
    payload      TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'pending',
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at      TIMESTAMPTZ NOT NULL,
    claim_token  TEXT,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    delivered_at TIMESTAMPTZ,
    last_code    INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (status, next_at);
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, id);

-- The delivery log: one row per attempt, with the answer and how long it took.
CREATE TABLE webhook_attempts (
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt     INTEGER NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    code        INTEGER NOT NULL,
    latency_us  BIGINT NOT NULL,
    error       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (delivery_id, attempt)
);
