-- Operator accounts for the dashboard and their browser sessions.
-- Emails are stored lower-cased by the auth service, so the unique key is
-- case-insensitive. password_hash is a PHC string ($argon2id$v=19$m=...).
-- pos is a role for tills, never for a person.
CREATE TABLE operators (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'manager', 'reporting')),
    created_at    TIMESTAMPTZ NOT NULL,
    disabled_at   TIMESTAMPTZ,
    last_login_at TIMESTAMPTZ
);

-- A session's id is the SHA-256 (hex) of the token in the cookie; the token
-- itself is never stored.
CREATE TABLE operator_sessions (
    id           TEXT PRIMARY KEY,
    operator_id  TEXT NOT NULL REFERENCES operators (id),
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    user_agent   TEXT NOT NULL DEFAULT '',
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX operator_sessions_operator_idx ON operator_sessions (operator_id, expires_at);
