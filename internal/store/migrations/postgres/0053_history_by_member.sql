-- SQLite only: its 0053 stores basket lines and member affinities by their
-- key and widens baskets_member_idx for the profile refresh's reads. The
-- refresh on PostgreSQL reads the whole history with hash joins and writes
-- the affinities into a table it indexes once (profile.swapAffinities).
SELECT 1;
