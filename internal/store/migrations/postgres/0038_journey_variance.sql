-- A journey's variance alerts share the campaigns' table: journey names the
-- journey and campaign_id is empty (docs/variance.md, "Journeys").
ALTER TABLE variance_alerts ADD COLUMN journey TEXT NOT NULL DEFAULT '';
CREATE INDEX variance_alerts_journey_idx ON variance_alerts (journey, cleared_at);
CREATE INDEX journey_enrolments_entered_idx ON journey_enrolments (journey, entered_at);
