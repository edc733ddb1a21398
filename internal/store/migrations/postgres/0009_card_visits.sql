-- Card page visits, for the member's contact and reaction history and the
-- campaign funnel (text -> card -> purchase).
CREATE TABLE card_visits (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    member_id  TEXT NOT NULL REFERENCES members (id),
    visited_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX card_visits_member_idx ON card_visits (member_id, visited_at);
CREATE INDEX card_visits_time_idx ON card_visits (visited_at);
