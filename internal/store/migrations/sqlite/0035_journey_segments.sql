-- A journey's segment trigger: the members who matched its segment at the
-- last pass, so that one who comes to match it is told from one who already
-- did (docs/journeys.md). A journey without a row here has had no pass: the
-- first pass records who matches at launch and enrols nobody.
CREATE TABLE journey_segment_members (
    journey   TEXT NOT NULL,
    member_id TEXT NOT NULL,
    PRIMARY KEY (journey, member_id)
);
CREATE TABLE journey_segment_passes (
    journey   TEXT PRIMARY KEY,
    passed_at TIMESTAMP NOT NULL
);
