-- Ingestion at scale and retention (docs/events.md, "Storage"). The events
-- table becomes partitioned by day of occurred_at (UTC), so retention drops
-- whole days instead of deleting rows, and a funnel over a range reads only
-- its days. The server creates the partitions ahead and attaches late ones
-- (event.Partitions); events_default only catches a row whose day has no
-- partition yet, until the server moves it into one.
--
-- A unique index on a partitioned table must include the partition key, so
-- UNIQUE (event_id) cannot stay on events: a resend with the same event_id
-- but another time would land in another partition, unseen. The guarantee
-- moves to event_ids, one small row per event kept (its id and time): an
-- event is inserted only when its id was new there, in the same statement.
-- Its BRIN index on occurred_at costs next to nothing per insert and lets
-- retention delete the ids of the days it drops.
CREATE TABLE event_ids (
    event_id    TEXT PRIMARY KEY,
    occurred_at TIMESTAMPTZ NOT NULL
);
INSERT INTO event_ids (event_id, occurred_at) SELECT event_id, occurred_at FROM events;
CREATE INDEX event_ids_occurred_idx ON event_ids USING brin (occurred_at);

ALTER TABLE events RENAME TO events_unpartitioned;
DROP INDEX events_member_idx, events_anonymous_idx, events_type_idx, events_order_idx;

-- id keeps its meaning, the order of arrival, from a plain sequence (an
-- identity column on a partitioned table needs PostgreSQL 17), numbered on
-- from the old table's.
CREATE SEQUENCE events_seq;
SELECT setval('events_seq', COALESCE((SELECT max(id) FROM events_unpartitioned), 0) + 1, false);

CREATE TABLE events (
    id           BIGINT NOT NULL DEFAULT nextval('events_seq'), -- the order of arrival; timeline cursors use it
    event_id     TEXT NOT NULL,                   -- the sender's id, unique through event_ids
    type         TEXT NOT NULL,
    occurred_at  TIMESTAMPTZ NOT NULL,            -- the partition key: a client's event time never changes
    received_at  TIMESTAMPTZ NOT NULL,
    channel      TEXT NOT NULL,
    source       TEXT NOT NULL,
    anonymous_id TEXT,
    member_id    TEXT,
    session_id   TEXT,
    campaign     TEXT NOT NULL DEFAULT '',
    store_id     TEXT NOT NULL DEFAULT '',
    order_id     TEXT,
    properties   TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (id, occurred_at)
) PARTITION BY RANGE (occurred_at);
ALTER SEQUENCE events_seq OWNED BY events.id;
CREATE TABLE events_default PARTITION OF events DEFAULT;

DO $$
DECLARE d date;
BEGIN
    FOR d IN SELECT DISTINCT (occurred_at AT TIME ZONE 'UTC')::date FROM events_unpartitioned LOOP
        EXECUTE format('CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%L) TO (%L)',
            'events_' || to_char(d, 'YYYYMMDD'), to_char(d, 'YYYY-MM-DD') || ' 00:00:00+00',
            to_char(d + 1, 'YYYY-MM-DD') || ' 00:00:00+00');
    END LOOP;
END $$;

INSERT INTO events (id, event_id, type, occurred_at, received_at, channel, source, anonymous_id, member_id,
    session_id, campaign, store_id, order_id, properties)
SELECT id, event_id, type, occurred_at, received_at, channel, source, anonymous_id, member_id,
    session_id, campaign, store_id, order_id, properties FROM events_unpartitioned;
DROP TABLE events_unpartitioned;

-- Each event is in exactly one per-person index: rows with a member are
-- found by member (timeline, sessions, funnels), rows without one by
-- anonymous id (the merge that moves them, funnels counting people never
-- tied). Before, every row was in both.
CREATE INDEX events_member_idx ON events (member_id, occurred_at) WHERE member_id IS NOT NULL;
CREATE INDEX events_anonymous_idx ON events (anonymous_id, occurred_at) WHERE member_id IS NULL;
CREATE INDEX events_type_idx ON events (type, occurred_at);
CREATE INDEX events_order_idx ON events (order_id) WHERE order_id IS NOT NULL;

-- Secrets Perk signs with, made on first use (event.IdentifyToken): the same
-- for every server on the database, kept across restarts.
CREATE TABLE signing_keys (
    name       TEXT PRIMARY KEY,
    secret     TEXT NOT NULL,                     -- base64 of 32 random bytes
    created_at TIMESTAMPTZ NOT NULL
);
