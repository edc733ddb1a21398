-- Every till commit of a member reads the member's balance (and every earn
-- the points held, for the balance limit): sums over the member's open lots
-- and all of the member's entries. With the columns those sums read in the
-- index, they are answered from the index alone instead of from every lot's
-- and entry's row; in a transaction file of 1,000,000 baskets by 1,000
-- members those rows were most of a basket's cost by the end.
DROP INDEX points_lots_open_idx;
CREATE INDEX points_lots_open_idx ON points_lots (member_id, available_at, expires_at, remaining) WHERE remaining > 0;
CREATE INDEX points_entries_lifetime_idx ON points_entries (member_id, kind, points, shortfall);
