-- Journeys at scale (docs/journeys.md): when each logged step was due, so the
-- timers' lag (due time to firing) can be measured and shown; and the
-- campaign launches a journey's campaign_launch trigger has taken in.
ALTER TABLE journey_steps ADD COLUMN due_at TIMESTAMPTZ;

-- One row per (journey, campaign launch) the trigger has seen (a campaign
-- launches once, so the campaign names the launch): after_member is the
-- last member id enrolled from the launch's audience (pages commit with
-- it), done = 1 once the whole audience is in. A launch that happened
-- before the journey went live is recorded done at once and enrols nobody.
CREATE TABLE journey_campaign_launches (
    journey     TEXT NOT NULL,
    campaign_id TEXT NOT NULL,
    launched_at TIMESTAMPTZ NOT NULL,
    after_member TEXT NOT NULL DEFAULT '',
    done        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (journey, campaign_id)
);
