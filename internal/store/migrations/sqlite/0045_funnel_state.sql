-- Funnels at scale (docs/events.md, "Funnels kept per person"). On SQLite
-- the one writer commits events in id order, so the rollup's cursor stays
-- the id (done_tx stays 0); gen counts the folds, and
-- funnel_rollup_days.changed_id holds the gen a day last changed at
-- (numbered on from the old cursor, which it held before).
ALTER TABLE funnel_rollup_state ADD COLUMN done_tx INTEGER NOT NULL DEFAULT 0;
ALTER TABLE funnel_rollup_state ADD COLUMN gen INTEGER NOT NULL DEFAULT 0;
UPDATE funnel_rollup_state SET gen = done_id;

-- Funnels whose outcome is kept per person (funnel.Service.Track): spec is
-- the definition as JSON, the key reports find it by.
CREATE TABLE funnel_tracked (
    id   INTEGER PRIMARY KEY,
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
    funnel   INTEGER NOT NULL,
    day      INTEGER NOT NULL,
    person   TEXT NOT NULL,
    key      TEXT NOT NULL,
    entry_us INTEGER NOT NULL,
    last_us  INTEGER NOT NULL,
    prev_us  INTEGER,
    reached  INTEGER NOT NULL,
    span_us  INTEGER NOT NULL,
    PRIMARY KEY (funnel, day, person, key)
) WITHOUT ROWID;
CREATE INDEX funnel_state_person_idx ON funnel_state (funnel, person);
