-- Basket abandonment: each person's latest cart not yet followed by a
-- purchase; due_at is when it counts as abandoned. See docs/journeys.md.
CREATE TABLE cart_watch (
    person       TEXT PRIMARY KEY,               -- the member id, or "anon:" and the anonymous id
    member_id    TEXT,
    anonymous_id TEXT,
    channel      TEXT NOT NULL,
    cart_seq     BIGINT NOT NULL,                -- events.id of the latest cart_updated
    due_at       TIMESTAMP NOT NULL,
    abandoned    INTEGER NOT NULL DEFAULT 0      -- 1: cart_abandoned raised, waiting for a purchase
);
CREATE INDEX cart_watch_due_idx ON cart_watch (abandoned, due_at);
