-- How far the CRM feed's log has been pruned (crm.Prune): every row at or
-- below position (the log's position, store.Dialect.LogPosition) may be
-- gone, so an export from a cursor at or below it would miss changes and is
-- refused as expired.
CREATE TABLE crm_feed_pruned (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    position  INTEGER NOT NULL,
    pruned_at TIMESTAMP NOT NULL
);
