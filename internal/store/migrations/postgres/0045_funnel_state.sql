-- Funnels at scale (docs/events.md, "Funnels kept per person").
--
-- The rollup's cursor follows the events' commit order instead of taking a
-- SHARE lock on events to wait for writers: an event's id is handed out at
-- INSERT, not at commit, so a smaller id can become visible after a larger
-- one was folded. tx is the writing transaction's id, as crm_feed's; the
-- rollup folds the events whose tx is below its snapshot's boundary
-- (store.Dialect.LogBoundary), in (tx, id) order. Rows already there read
-- tx 0 (no rewrite): they are ordered first, by id, where the old cursor
-- left them.
ALTER TABLE events ADD COLUMN tx BIGINT NOT NULL DEFAULT 0;
ALTER TABLE events ALTER COLUMN tx SET DEFAULT (pg_current_xact_id()::text::bigint);
CREATE INDEX events_tx_idx ON events (tx, id);

-- done_tx, done_id: every event at or before (tx, id) is folded. gen counts
-- the folds; funnel_rollup_days.changed_id holds the gen a day last changed
-- at (numbered on from the old cursor, which it held before).
ALTER TABLE funnel_rollup_state ADD COLUMN done_tx BIGINT NOT NULL DEFAULT 0;
ALTER TABLE funnel_rollup_state ADD COLUMN gen BIGINT NOT NULL DEFAULT 0;
UPDATE funnel_rollup_state SET gen = done_id;

-- Funnels whose outcome is kept per person (funnel.Service.Track): spec is
-- the definition as JSON, the key reports find it by.
CREATE TABLE funnel_tracked (
    id   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    spec TEXT NOT NULL UNIQUE
);

-- One row per tracked funnel, UTC day, person and breakdown value in which
-- the person has an event matching step 1: the outcome had they entered at
-- the first such event of that day (entry_us), kept from the rollup in the
-- transaction that folds their events. prev_us is their last step-1 event
-- before that day (NULL for none), last_us the day's last: a report over
-- [from, to) counts the rows with prev_us < from <= entry_us < to, exactly
-- the people's first entries in the range, and reads only the few people
-- with from strictly between entry_us and last_us from the stream.
CREATE TABLE funnel_state (
    funnel   BIGINT NOT NULL,
    day      INTEGER NOT NULL,
    person   TEXT NOT NULL,
    key      TEXT NOT NULL,                      -- the breakdown value, '' without one
    entry_us BIGINT NOT NULL,
    last_us  BIGINT NOT NULL,
    prev_us  BIGINT,
    reached  INTEGER NOT NULL,                   -- the last step reached, from 0
    span_us  BIGINT NOT NULL,                    -- entry to the last step when reached, else 0
    PRIMARY KEY (funnel, day, person, key)
);
CREATE INDEX funnel_state_person_idx ON funnel_state (funnel, person);
