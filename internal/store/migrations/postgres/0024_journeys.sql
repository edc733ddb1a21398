-- Journeys: definitions by version, each shopper's position in one, the log
-- of the steps they ran and the cursor of the event stream the triggers read.
-- See docs/journeys.md.
CREATE TABLE journeys (
    name       TEXT PRIMARY KEY,
    version    INTEGER NOT NULL,                 -- the version new members enter
    status     TEXT NOT NULL,                    -- draft, live, stopped
    launched_seq BIGINT NOT NULL DEFAULT 0,      -- events.id at launch: only later events trigger
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- Every version ever applied; a member finishes on the version they entered.
CREATE TABLE journey_versions (
    journey    TEXT NOT NULL,
    version    INTEGER NOT NULL,
    spec       TEXT NOT NULL,                    -- JSON
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (journey, version)
);

-- One member's way through one version of a journey: the job the runner
-- claims when next_at is due.
CREATE TABLE journey_enrolments (
    id           TEXT PRIMARY KEY,
    journey      TEXT NOT NULL,
    version      INTEGER NOT NULL,
    member_id    TEXT NOT NULL,
    holdout      INTEGER NOT NULL DEFAULT 0,     -- 1: control group, runs no step
    state        TEXT NOT NULL,                  -- active, ended
    step         INTEGER NOT NULL DEFAULT 0,     -- index of the step it is at
    waiting      INTEGER NOT NULL DEFAULT 0,     -- 1: the step's wait has started
    woken        INTEGER NOT NULL DEFAULT 0,     -- 1: the event a wait_for waits for arrived
    waiting_for  TEXT NOT NULL DEFAULT '',       -- the event type a wait_for waits for
    steps_run    INTEGER NOT NULL DEFAULT 0,     -- steps logged so far: the log's next number
    next_at      TIMESTAMPTZ,                      -- due; NULL once ended
    claim_token  TEXT,
    lease_until  TIMESTAMPTZ,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT NOT NULL DEFAULT '',
    trigger_seq  BIGINT NOT NULL,                -- events.id of the trigger
    entered_at   TIMESTAMPTZ NOT NULL,
    ended_at     TIMESTAMPTZ,
    exit_reason  TEXT NOT NULL DEFAULT '',       -- completed, exit, goal, holdout, failed
    converted_at TIMESTAMPTZ
);
CREATE INDEX journey_enrolments_due_idx ON journey_enrolments (state, next_at);
CREATE INDEX journey_enrolments_member_idx ON journey_enrolments (member_id, journey);
CREATE INDEX journey_enrolments_journey_idx ON journey_enrolments (journey, version, state, step);

-- The log: one row per step a member ran, written in the transaction that
-- ran it; (enrolment, n) is the fire-once guard.
CREATE TABLE journey_steps (
    enrolment_id TEXT NOT NULL,
    n            INTEGER NOT NULL,
    journey      TEXT NOT NULL,
    version      INTEGER NOT NULL,
    step         TEXT NOT NULL,                  -- the step's id
    kind         TEXT NOT NULL,
    outcome      TEXT NOT NULL DEFAULT '',       -- then, else, event, timeout, queued, given, ...
    message_id   TEXT,                           -- the SMS queued, whose state the counts show
    at           TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (enrolment_id, n)
);
CREATE INDEX journey_steps_journey_idx ON journey_steps (journey, version, step);

-- How far the triggers have read the event stream (events.id).
CREATE TABLE journey_cursor (
    name     TEXT PRIMARY KEY,
    last_seq BIGINT NOT NULL
);
