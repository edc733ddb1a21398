-- The CRM feed's change log: one row per change a CRM is told about, written
-- by the transaction that makes the change (crm.Feed records change events),
-- and read by perk crm export and GET /v1/crm/export/{feed}. On SQLite the
-- one writer commits in seq order, so seq is the export cursor.
-- external_id is kept only when the member is erased: the CRM id it had,
-- so the feed can tell the CRM whom to erase; otherwise the export reads the
-- member's current CRM id. data holds ids, amounts and states, never
-- personal data.
CREATE TABLE crm_feed (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    type        TEXT NOT NULL,
    member_id   TEXT NOT NULL,
    external_id TEXT,
    data        TEXT NOT NULL DEFAULT '{}',
    at          TIMESTAMP NOT NULL
);
CREATE INDEX crm_feed_erased_idx ON crm_feed (member_id) WHERE type = 'member.erased';
