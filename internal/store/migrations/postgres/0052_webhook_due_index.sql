-- The outbox's due index holds only the deliveries still to send (pending or
-- sending), by next_at. The old one, on (status, next_at), made every claim
-- read and sort every due row to take the oldest few (status IN (...) gives
-- two ranges, neither in next_at order): a claim cost grew with the backlog,
-- and delivered rows stayed in it for ever. This one is read in next_at
-- order and stops at the claim's LIMIT; a settled delivery leaves it.
DROP INDEX webhook_deliveries_due_idx;
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_at) WHERE status IN ('pending', 'sending');
