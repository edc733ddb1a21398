-- PostgreSQL only: its 0056 carries created_at and delivery_state in the due
-- index for the overview's SMS count. SQLite has no INCLUDE, and as key
-- columns they would make every delivery receipt rewrite the due index's
-- entry, which on SQLite only the columns that change do.
SELECT 1;
