-- A member import may be a CRM subset sync (perk crm sync, POST /v1/crm/syncs):
-- its run id (crm_sync of the members it brought into the subset; kept by a
-- resumed run), whether the file is the whole subset, and how many members
-- of the subset it took out.
ALTER TABLE imports ADD COLUMN sync_run TEXT NOT NULL DEFAULT '';
ALTER TABLE imports ADD COLUMN full_sync BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE imports ADD COLUMN left_subset INTEGER NOT NULL DEFAULT 0;
