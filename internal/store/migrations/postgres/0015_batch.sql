-- The managed service (internal/batch): what tills gave offline that broke
-- a rule (applied-mode transaction files), and the record of every batch
-- job (transaction files in, offer files out) with its counts and files.
CREATE TABLE reconciliation (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    basket_id      TEXT NOT NULL REFERENCES baskets (id),
    store_id       TEXT NOT NULL,
    transaction_id TEXT NOT NULL,
    offer_id       TEXT NOT NULL DEFAULT '',  -- '' when the breach is the basket's (an unknown member)
    campaign_id    TEXT NOT NULL DEFAULT '',  -- '' for an unknown offer
    member_id      TEXT,
    rule           TEXT NOT NULL,             -- checkout.Rule
    detail         TEXT NOT NULL DEFAULT '',
    amount         BIGINT NOT NULL DEFAULT 0, -- discount given under the broken rule, minor units
    created_at     TIMESTAMPTZ NOT NULL       -- the sale's time
);
CREATE INDEX reconciliation_created_idx ON reconciliation (created_at, id);
CREATE INDEX reconciliation_basket_idx ON reconciliation (basket_id);

CREATE TABLE batch_jobs (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,              -- transactions, offers
    source      TEXT NOT NULL DEFAULT '',   -- cli, upload, folder, schedule
    filename    TEXT NOT NULL DEFAULT '',
    format      TEXT NOT NULL DEFAULT '',
    mode        TEXT NOT NULL DEFAULT '',   -- decide, applied (transactions)
    status      TEXT NOT NULL,              -- running, done, failed
    stats       TEXT NOT NULL DEFAULT '{}', -- JSON counts
    error       TEXT NOT NULL DEFAULT '',
    dir         TEXT NOT NULL DEFAULT '',   -- where its result and errors files are
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ
);
CREATE INDEX batch_jobs_started_idx ON batch_jobs (started_at);

-- Members whose offers a batch file changed, by when it was processed: a
-- file's sales carry the tills' (earlier) times, so delta offer exports
-- would miss them if they looked only at the baskets' own times.
CREATE TABLE offer_changes (
    member_id  TEXT PRIMARY KEY REFERENCES members (id),
    changed_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX offer_changes_changed_idx ON offer_changes (changed_at);
