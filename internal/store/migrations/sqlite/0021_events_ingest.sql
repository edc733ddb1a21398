-- Ingestion at scale (docs/events.md, "Storage"): each event is in exactly one
-- per-person index. Rows with a member are found by member (timeline,
-- sessions, funnels); rows without one by anonymous id (the merge that moves
-- them to a member, and funnels counting people never tied). Before, every
-- row was in both, a B-tree insert per event spent on NULL keys.
DROP INDEX events_member_idx;
CREATE INDEX events_member_idx ON events (member_id, occurred_at) WHERE member_id IS NOT NULL;
DROP INDEX events_anonymous_idx;
CREATE INDEX events_anonymous_idx ON events (anonymous_id, occurred_at) WHERE member_id IS NULL;

-- Secrets Perk signs with, made on first use (event.IdentifyToken): the same
-- for every server on the database, kept across restarts.
CREATE TABLE signing_keys (
    name       TEXT PRIMARY KEY,
    secret     TEXT NOT NULL,                     -- base64 of 32 random bytes
    created_at TIMESTAMP NOT NULL
);
