-- Refined member profiles (issue 14): one row per member who has shopped or
-- holds points, computed from history by the full refresh and kept up to
-- date by the incremental pass (docs/profiles.md).
CREATE TABLE member_profiles (
    member_id       TEXT PRIMARY KEY,
    last_purchase   TIMESTAMPTZ,                   -- recency: the last committed basket ever
    frequency       BIGINT NOT NULL DEFAULT 0,     -- committed baskets in the window
    monetary        BIGINT NOT NULL DEFAULT 0,     -- sales (figures.LineNet) in the window, minor units
    r_score         INTEGER NOT NULL DEFAULT 0,    -- 1-5 by quintile; 0 when never bought
    f_score         INTEGER NOT NULL DEFAULT 0,
    m_score         INTEGER NOT NULL DEFAULT 0,
    segment         TEXT NOT NULL DEFAULT '',
    preferred_store TEXT NOT NULL DEFAULT '',
    avg_basket      BIGINT NOT NULL DEFAULT 0,
    visit_days      BIGINT NOT NULL DEFAULT 0,     -- distinct days with a purchase in the window
    usual_interval  BIGINT NOT NULL DEFAULT 0,     -- median seconds between visit days; 0 with fewer than 2
    overdue_after   BIGINT NOT NULL DEFAULT 0,     -- Unix seconds: last purchase + k x usual_interval; 0 = never
    segment_since   TIMESTAMPTZ,                   -- when the member entered segment
    sms_received    BIGINT NOT NULL DEFAULT 0,
    sms_clicks      BIGINT NOT NULL DEFAULT 0,
    sms_redemptions BIGINT NOT NULL DEFAULT 0,
    points_earned   BIGINT NOT NULL DEFAULT 0,
    points_redeemed BIGINT NOT NULL DEFAULT 0,
    points_balance  BIGINT NOT NULL DEFAULT 0,
    refreshed_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX member_profiles_segment_idx ON member_profiles (segment);

-- Decayed spend shares, the top N per member and kind (category, brand).
CREATE TABLE member_affinities (
    member_id TEXT NOT NULL,
    kind      TEXT NOT NULL,                       -- category, brand
    name      TEXT NOT NULL,
    share     DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (member_id, kind, name)
);
CREATE INDEX member_affinities_key_idx ON member_affinities (kind, name, share);

-- Members whose baskets changed since their profile was computed: the
-- checkout enqueues in its own transaction, a background pass drains it.
CREATE TABLE profile_queue (
    member_id TEXT PRIMARY KEY,
    queued_at TIMESTAMPTZ NOT NULL
);

-- The last full refresh: its window and the quintile cut points the
-- incremental pass scores against (JSON arrays of four values each).
CREATE TABLE profile_state (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    refreshed_at TIMESTAMPTZ NOT NULL,
    window_days  INTEGER NOT NULL,
    cuts         TEXT NOT NULL
);

-- Each member's segment at the end of a month (the last refresh of it),
-- written once, by the first refresh of the next month.
CREATE TABLE profile_snapshots (
    month     TEXT NOT NULL,                       -- YYYY-MM
    member_id TEXT NOT NULL,
    segment   TEXT NOT NULL,
    PRIMARY KEY (month, member_id)
);
