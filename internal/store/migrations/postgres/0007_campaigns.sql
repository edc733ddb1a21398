-- Campaigns, their audiences and offer uses; the till's transactions
-- (baskets), their lines, the offers they redeemed, returns and the pools of
-- free content codes.

-- A campaign's definition is kept as the JSON document the operator wrote
-- (spec), so the API, the manager page and `perk campaigns apply` round-trip
-- it exactly; the columns beside it are what queries filter and what the
-- till updates (counters taken under an atomic conditional UPDATE).
CREATE TABLE campaigns (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    status          TEXT NOT NULL,            -- draft, scheduled, active, paused, ended
    spec            TEXT NOT NULL,            -- JSON campaign.Spec
    starts_at       TIMESTAMPTZ NOT NULL,
    ends_at         TIMESTAMPTZ NOT NULL,
    max_redemptions BIGINT,                   -- NULL = no limit
    budget          BIGINT,                   -- minor units; NULL = no budget
    redemptions     BIGINT NOT NULL DEFAULT 0,
    discount_given  BIGINT NOT NULL DEFAULT 0,
    points_given    BIGINT NOT NULL DEFAULT 0,
    audience_size   BIGINT NOT NULL DEFAULT 0,
    control_size    BIGINT NOT NULL DEFAULT 0,
    version         BIGINT NOT NULL DEFAULT 1,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    launched_at     TIMESTAMPTZ,
    ended_reason    TEXT NOT NULL DEFAULT '',
    CONSTRAINT campaigns_name_key UNIQUE (name)
);
CREATE INDEX campaigns_status_idx ON campaigns (status);

-- Who a launched campaign is for, fixed at launch; control = 1 for the
-- members held back to measure uplift (never told, never given it).
CREATE TABLE campaign_members (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    member_id   TEXT NOT NULL REFERENCES members (id),
    control     INTEGER NOT NULL DEFAULT 0,
    message_id  TEXT,                         -- the announcement, when one was queued
    PRIMARY KEY (campaign_id, member_id)
);
CREATE INDEX campaign_members_member_idx ON campaign_members (member_id);

-- An uploaded audience list, resolved to members when it is uploaded.
CREATE TABLE campaign_lists (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    member_id   TEXT NOT NULL REFERENCES members (id),
    PRIMARY KEY (campaign_id, member_id)
);

-- Uses of a campaign by a member: period '' counts every use, a period key
-- (2026-11-23, 2026-W48, 2026-11) the uses in that day, week or month.
CREATE TABLE offer_uses (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    member_id   TEXT NOT NULL REFERENCES members (id),
    period      TEXT NOT NULL,
    uses        BIGINT NOT NULL,
    PRIMARY KEY (member_id, campaign_id, period)
);

-- A committed till transaction. request_hash makes commit idempotent: the
-- same transaction id and body returns the stored response, another body is
-- a conflict.
CREATE TABLE baskets (
    id              TEXT PRIMARY KEY,
    store_id        TEXT NOT NULL,
    transaction_id  TEXT NOT NULL,
    terminal        TEXT NOT NULL DEFAULT '',
    member_id       TEXT REFERENCES members (id),
    currency        TEXT NOT NULL,
    gross           BIGINT NOT NULL,
    discount        BIGINT NOT NULL,
    points_earned   BIGINT NOT NULL,
    points_redeemed BIGINT NOT NULL,
    points_value    BIGINT NOT NULL,          -- minor units paid with points
    status          TEXT NOT NULL,            -- committed, voided
    request_hash    TEXT NOT NULL,
    response        TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    voided_at       TIMESTAMPTZ,
    CONSTRAINT baskets_store_transaction_key UNIQUE (store_id, transaction_id)
);
CREATE INDEX baskets_member_idx ON baskets (member_id, created_at);
CREATE INDEX baskets_created_idx ON baskets (created_at);

-- Each line's share of the discount and points is stored at commit, so a
-- return refunds exactly that share.
CREATE TABLE basket_lines (
    basket_id    TEXT NOT NULL REFERENCES baskets (id),
    line         INTEGER NOT NULL,
    sku          TEXT NOT NULL,
    categories   TEXT NOT NULL DEFAULT '[]',
    quantity     INTEGER NOT NULL,
    unit_price   BIGINT NOT NULL,
    discount     BIGINT NOT NULL,
    points       BIGINT NOT NULL,
    returned_qty INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (basket_id, line)
);
CREATE INDEX basket_lines_sku_idx ON basket_lines (sku);

-- Offers a basket redeemed; restored_at is set when a return or void gives
-- a single-use offer back.
CREATE TABLE redemptions (
    basket_id    TEXT NOT NULL REFERENCES baskets (id),
    offer_id     TEXT NOT NULL,
    campaign_id  TEXT NOT NULL REFERENCES campaigns (id),
    member_id    TEXT REFERENCES members (id),
    store_id     TEXT NOT NULL,
    kind         TEXT NOT NULL,
    discount     BIGINT NOT NULL,
    points       BIGINT NOT NULL,
    lines        TEXT NOT NULL DEFAULT '[]', -- JSON [{line, discount}]
    content_code TEXT NOT NULL DEFAULT '',
    period       TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    restored_at  TIMESTAMPTZ,
    PRIMARY KEY (basket_id, offer_id)
);
CREATE INDEX redemptions_campaign_idx ON redemptions (campaign_id, created_at);

CREATE TABLE basket_returns (
    basket_id     TEXT NOT NULL REFERENCES baskets (id),
    return_id     TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    response      TEXT NOT NULL,
    refund        BIGINT NOT NULL,            -- discount share given back, minor units
    points        BIGINT NOT NULL,            -- points taken back
    created_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (basket_id, return_id)
);

-- Free content (a code or a link) handed out one per redemption.
CREATE TABLE content_codes (
    pool       TEXT NOT NULL,
    code       TEXT NOT NULL,
    basket_id  TEXT REFERENCES baskets (id),
    member_id  TEXT REFERENCES members (id),
    issued_at  TIMESTAMPTZ,
    PRIMARY KEY (pool, code)
);
CREATE INDEX content_codes_free_idx ON content_codes (pool, issued_at);
