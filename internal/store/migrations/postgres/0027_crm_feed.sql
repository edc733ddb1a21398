-- The CRM feed's change log: one row per change a CRM is told about, written
-- by the transaction that makes the change (crm.Feed records change events),
-- and read by perk crm export and GET /v1/crm/export/{feed}.
-- seq is given at INSERT, not at commit, so a transaction holding seq 7 may
-- commit after one holding seq 8 was read: seq cannot be the cursor. tx is
-- the writing transaction's id; an export reads the rows whose tx is below
-- its snapshot's xmin (every transaction below it has ended), so a row is
-- read once it is final and never again (store.Dialect.LogPosition).
-- external_id is kept only when the member is erased: the CRM id it had,
-- so the feed can tell the CRM whom to erase; otherwise the export reads the
-- member's current CRM id. data holds ids, amounts and states, never
-- personal data.
CREATE TABLE crm_feed (
    seq         BIGSERIAL PRIMARY KEY,
    tx          BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    type        TEXT NOT NULL,
    member_id   TEXT NOT NULL,
    external_id TEXT,
    data        TEXT NOT NULL DEFAULT '{}',
    at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX crm_feed_tx_idx ON crm_feed (tx, seq);
CREATE INDEX crm_feed_erased_idx ON crm_feed (member_id) WHERE type = 'member.erased';
