-- Retailer reference data, members, consent, card tokens, imports, API keys.
CREATE TABLE stores (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    timezone   TEXT NOT NULL DEFAULT 'UTC',
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE products (
    sku        TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    categories TEXT NOT NULL DEFAULT '[]',
    price      INTEGER NOT NULL,           -- minor units
    currency   TEXT NOT NULL
);

CREATE TABLE members (
    id          TEXT PRIMARY KEY,
    code        TEXT NOT NULL,
    phone       TEXT,                      -- E.164; NULL once erased
    first_name  TEXT NOT NULL DEFAULT '',
    last_name   TEXT NOT NULL DEFAULT '',
    email       TEXT NOT NULL DEFAULT '',
    birthday    TEXT NOT NULL DEFAULT '',  -- YYYY-MM-DD or ''
    home_store  TEXT NOT NULL DEFAULT '',
    external_id TEXT,
    attributes  TEXT NOT NULL DEFAULT '{}',
    tags        TEXT NOT NULL DEFAULT '[]',
    timezone    TEXT NOT NULL DEFAULT '',
    channel     TEXT NOT NULL,
    source      TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL,
    enrolled_at TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    erased_at   TIMESTAMP,
    CONSTRAINT members_code_key UNIQUE (code),
    CONSTRAINT members_phone_key UNIQUE (phone),
    CONSTRAINT members_external_id_key UNIQUE (external_id)
);
CREATE INDEX members_enrolled_at_idx ON members (enrolled_at);

CREATE TABLE card_tokens (
    token      TEXT PRIMARY KEY,
    member_id  TEXT NOT NULL REFERENCES members (id),
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX card_tokens_member_idx ON card_tokens (member_id);

CREATE TABLE consents (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    member_id       TEXT NOT NULL REFERENCES members (id),
    channel         TEXT NOT NULL,          -- sms
    action          TEXT NOT NULL,          -- requested, granted, withdrawn
    method          TEXT NOT NULL,          -- api, web, sms, import, pos
    source          TEXT NOT NULL DEFAULT '',
    wording_version TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX consents_member_idx ON consents (member_id, id);

CREATE TABLE optin_confirmations (
    token        TEXT PRIMARY KEY,
    member_id    TEXT NOT NULL REFERENCES members (id),
    created_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    confirmed_at TIMESTAMP
);
CREATE INDEX optin_confirmations_member_idx ON optin_confirmations (member_id);

-- Messages waiting for the SMS sender. Rows are written in the same
-- transaction as the change that causes them, so none is lost.
CREATE TABLE sms_outbox (
    id         TEXT PRIMARY KEY,
    member_id  TEXT REFERENCES members (id),
    to_phone   TEXT,
    body       TEXT NOT NULL,
    kind       TEXT NOT NULL,               -- transactional, marketing
    purpose    TEXT NOT NULL,               -- welcome, confirm_optin, ...
    status     TEXT NOT NULL DEFAULT 'queued',
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX sms_outbox_status_idx ON sms_outbox (status, created_at);

CREATE TABLE imports (
    id          TEXT PRIMARY KEY,
    source      TEXT NOT NULL DEFAULT '',
    filename    TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL,              -- running, done, failed
    rows_read   INTEGER NOT NULL DEFAULT 0,
    created     INTEGER NOT NULL DEFAULT 0,
    updated     INTEGER NOT NULL DEFAULT 0,
    unchanged   INTEGER NOT NULL DEFAULT 0,
    rejected    INTEGER NOT NULL DEFAULT 0,
    error       TEXT NOT NULL DEFAULT '',
    started_at  TIMESTAMP NOT NULL,
    finished_at TIMESTAMP
);

CREATE TABLE import_errors (
    import_id TEXT NOT NULL REFERENCES imports (id),
    row_num   INTEGER NOT NULL,
    col       TEXT NOT NULL,
    reason    TEXT NOT NULL
);
CREATE INDEX import_errors_import_idx ON import_errors (import_id, row_num);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL DEFAULT '',
    secret_hash  TEXT NOT NULL,
    role         TEXT NOT NULL,
    store_id     TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL,
    revoked_at   TIMESTAMP
);
