-- SQLite only (its 0053 stores basket lines by their key and widens
-- baskets_member_idx for the profile refresh's reads): the refresh on
-- PostgreSQL reads the whole history with hash joins, and a heap table's
-- index-only reads need no change here.
SELECT 1;
