-- The live variance view (package variance, docs/variance.md): actuals in
-- hourly buckets kept incrementally, norms precomputed at launch, operator
-- targets, stores' baseline shares and the alerts raised.

-- Hourly actuals per campaign, stage and store ('' for stages without a
-- store). hour counts hours from the Unix epoch (UTC).
CREATE TABLE variance_buckets (
    campaign_id TEXT NOT NULL,
    stage       TEXT NOT NULL,
    store_id    TEXT NOT NULL DEFAULT '',
    hour        BIGINT NOT NULL,
    n           BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, stage, hour, store_id)
);

-- The incremental pass's high-water mark: buckets from hour "through" on
-- are recounted by the next pass, those before it are kept.
CREATE TABLE variance_marks (
    campaign_id TEXT PRIMARY KEY,
    through     BIGINT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

-- A campaign's norm: per stage and hour since the launch hour, the expected
-- cumulative count per treated member and the relative spread.
CREATE TABLE variance_norms (
    campaign_id TEXT NOT NULL,
    stage       TEXT NOT NULL,
    hour        INTEGER NOT NULL,
    per_member  DOUBLE PRECISION NOT NULL,
    spread      DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (campaign_id, stage, hour)
);

-- Where a campaign's norm came from; basis lists the comparable campaigns
-- (JSON) and fingerprint their ids and end times, so a norm is relearned
-- when the history it was learned from changes.
CREATE TABLE variance_norm_info (
    campaign_id TEXT PRIMARY KEY,
    source      TEXT NOT NULL,
    basis       TEXT NOT NULL DEFAULT '[]',
    fingerprint TEXT NOT NULL DEFAULT '',
    audience    BIGINT NOT NULL,
    computed_at TIMESTAMPTZ NOT NULL
);

-- Each store's share of the programme's baskets in the 28 days before the
-- launch: its expected share of the campaign's redemptions.
CREATE TABLE variance_store_shares (
    campaign_id TEXT NOT NULL,
    store_id    TEXT NOT NULL,
    share       DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (campaign_id, store_id)
);

-- An operator's target: the cumulative count a stage should reach by the
-- end of an hour since the launch hour.
CREATE TABLE variance_targets (
    campaign_id TEXT NOT NULL,
    stage       TEXT NOT NULL,
    hour        INTEGER NOT NULL,
    cumulative  DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (campaign_id, stage, hour)
);

-- Alerts: one open row per campaign, stage and store until it clears.
CREATE TABLE variance_alerts (
    id          BIGSERIAL PRIMARY KEY,
    campaign_id TEXT NOT NULL,
    stage       TEXT NOT NULL,
    store_id    TEXT NOT NULL DEFAULT '',
    level       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    message     TEXT NOT NULL,
    raised_at   TIMESTAMPTZ NOT NULL,
    cleared_at  TIMESTAMPTZ
);
CREATE INDEX variance_alerts_campaign_idx ON variance_alerts (campaign_id, cleared_at);
CREATE INDEX variance_alerts_open_idx ON variance_alerts (cleared_at, raised_at);

-- The incremental pass reads a campaign's deliveries and visits by time.
CREATE INDEX sms_outbox_campaign_delivered_idx ON sms_outbox (campaign_id, delivered_at);
CREATE INDEX link_clicks_time_idx ON link_clicks (clicked_at);
