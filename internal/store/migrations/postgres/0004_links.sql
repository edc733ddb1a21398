-- Tracked short links (/l/{code}) in messages, and their clicks: part of a
-- member's contact and reaction history.
CREATE TABLE short_links (
    code       TEXT PRIMARY KEY,
    url        TEXT NOT NULL,
    member_id  TEXT REFERENCES members (id),
    message_id TEXT,
    campaign   TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX short_links_member_idx ON short_links (member_id);

CREATE TABLE link_clicks (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code       TEXT NOT NULL REFERENCES short_links (code),
    member_id  TEXT,
    clicked_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX link_clicks_code_idx ON link_clicks (code, clicked_at);
CREATE INDEX link_clicks_member_idx ON link_clicks (member_id, clicked_at);
