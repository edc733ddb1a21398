-- Card page visits, for the member's contact and reaction history and the
-- campaign funnel (text -> card -> purchase).
CREATE TABLE card_visits (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    member_id  TEXT NOT NULL REFERENCES members (id),
    visited_at TIMESTAMP NOT NULL
);
CREATE INDEX card_visits_member_idx ON card_visits (member_id, visited_at);
CREATE INDEX card_visits_time_idx ON card_visits (visited_at);
