-- The event stream: every channel's events (the API's, /perk.js's and Perk's
-- own), one row each, with the person they belong to once known. See
-- docs/events.md.
CREATE TABLE events (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- the order of arrival; timeline cursors use it
    event_id     TEXT NOT NULL,                   -- the sender's id: a resend is a no-op
    type         TEXT NOT NULL,
    occurred_at  TIMESTAMPTZ NOT NULL,
    received_at  TIMESTAMPTZ NOT NULL,
    channel      TEXT NOT NULL,                   -- sms, web, app, pos, card
    source       TEXT NOT NULL,                   -- api (sent to /v1/events) or perk (written by Perk)
    anonymous_id TEXT,
    member_id    TEXT,                            -- the person, once known (set by identity stitching)
    session_id   TEXT,                            -- the client's, kept for reference
    campaign     TEXT NOT NULL DEFAULT '',        -- from properties, for funnel breakdowns
    store_id     TEXT NOT NULL DEFAULT '',
    order_id     TEXT,                            -- an online order or a till transaction, ties them
    properties   TEXT NOT NULL DEFAULT '{}',
    CONSTRAINT events_event_id_key UNIQUE (event_id)
);
CREATE INDEX events_member_idx ON events (member_id, occurred_at);
CREATE INDEX events_anonymous_idx ON events (anonymous_id, occurred_at);
CREATE INDEX events_type_idx ON events (type, occurred_at);
CREATE INDEX events_order_idx ON events (order_id) WHERE order_id IS NOT NULL;

-- An anonymous id (a browser's cookie, an app install) that became a member.
CREATE TABLE identities (
    anonymous_id TEXT PRIMARY KEY,
    member_id    TEXT NOT NULL,
    via          TEXT NOT NULL,                   -- sms_link, card, join, identify, till_order
    linked_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX identities_member_idx ON identities (member_id);

-- A second member claiming an anonymous id already linked: never merged
-- automatically, kept for an operator.
CREATE TABLE identity_conflicts (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    anonymous_id    TEXT NOT NULL,
    member_id       TEXT NOT NULL,                -- the member the id stays with
    other_member_id TEXT NOT NULL,                -- the member that claimed it too
    via             TEXT NOT NULL,
    seen_at         TIMESTAMPTZ NOT NULL,
    CONSTRAINT identity_conflicts_pair_key UNIQUE (anonymous_id, other_member_id)
);

-- Funnel definitions (API, YAML, dashboard).
CREATE TABLE funnels (
    name       TEXT PRIMARY KEY,
    spec       TEXT NOT NULL,                     -- JSON
    updated_at TIMESTAMPTZ NOT NULL
);
