-- Durable background jobs (internal/job): member imports, batch transaction
-- files, the points expiry sweep. A row is its own job: what to do (kind,
-- payload), when (run_at, with back-off after a failure), who runs it now
-- (a lease: lease_owner until lease_until, extended by a heartbeat, taken
-- over when it runs out), how far it got (progress, written in the same
-- transaction as the work it describes, so a restart resumes there) and how
-- it ended. node ties a job whose input file is in one instance's data
-- folder to that instance ('' runs anywhere).
CREATE TABLE jobs (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    node         TEXT NOT NULL DEFAULT '',
    payload      TEXT NOT NULL DEFAULT '{}',
    state        TEXT NOT NULL,               -- queued, running, done, failed, cancelled
    attempts     INTEGER NOT NULL DEFAULT 0,  -- claims made, the current one included
    max_attempts INTEGER NOT NULL DEFAULT 5,
    run_at       TIMESTAMP NOT NULL,
    lease_owner  TEXT NOT NULL DEFAULT '',
    lease_until  TIMESTAMP,
    cancel       BOOLEAN NOT NULL DEFAULT FALSE, -- asked to stop; the runner stops at its next heartbeat
    progress     TEXT NOT NULL DEFAULT '',    -- the kind's own cursor, JSON
    result       TEXT NOT NULL DEFAULT '',
    error        TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP
);
CREATE INDEX jobs_due_idx ON jobs (state, run_at);
