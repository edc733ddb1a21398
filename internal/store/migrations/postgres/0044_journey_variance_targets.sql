-- An operator's target for a journey's variance view, used for a stage
-- with no learned norm (docs/variance.md, "Journeys"): for entered, the
-- cumulative entries by the end of hour H of the window; for every other
-- stage, the cumulative count per entrant by the end of hour H after the
-- entry hour.
CREATE TABLE journey_variance_targets (
    journey    TEXT NOT NULL,
    stage      TEXT NOT NULL,
    hour       INTEGER NOT NULL,
    cumulative DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (journey, stage, hour)
);
