-- The funnel rollup: the event stream folded per person, UTC day, type and
-- the columns funnels filter and break down by (campaign, channel, store),
-- with the first and last event of each row exactly (time in microseconds
-- since the epoch, and arrival id), so funnels read one narrow row where the
-- stream holds many. Kept from events by an arrival-id cursor; see
-- docs/events.md "How a report reads the stream".
CREATE TABLE funnel_rollup (
    person   TEXT NOT NULL,                      -- member id, or 'anon:' || anonymous id never tied
    day      INTEGER NOT NULL,                   -- UTC days since the epoch
    type     TEXT NOT NULL,
    campaign TEXT NOT NULL,
    channel  TEXT NOT NULL,
    store_id TEXT NOT NULL,
    n        INTEGER NOT NULL,                   -- events folded in
    first_us INTEGER NOT NULL, first_id INTEGER NOT NULL,
    last_us  INTEGER NOT NULL, last_id  INTEGER NOT NULL,
    PRIMARY KEY (person, day, type, campaign, channel, store_id)
) WITHOUT ROWID;
-- Who entered a funnel: step 1's type (and campaign) over a range of days,
-- covering what the entry needs.
CREATE INDEX funnel_rollup_entry_idx ON funnel_rollup (type, campaign, day, person, n, first_us, last_us);

-- The rollup's progress: every event with id <= done_id is folded in.
CREATE TABLE funnel_rollup_state (
    one    INTEGER PRIMARY KEY CHECK (one = 1),
    done_id INTEGER NOT NULL
);
INSERT INTO funnel_rollup_state (one, done_id) VALUES (1, 0);

-- The last cursor at which each day's rows changed (events folded in, or
-- moved by a merge): a cached report stays valid while no day it reads
-- changed after it was computed.
CREATE TABLE funnel_rollup_days (
    day        INTEGER PRIMARY KEY,
    changed_id BIGINT NOT NULL
);
