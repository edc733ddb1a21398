-- PostgreSQL only: its 0054 drops member_affinities_key_idx, which SQLite's
-- 0053 already did not make again.
SELECT 1;
