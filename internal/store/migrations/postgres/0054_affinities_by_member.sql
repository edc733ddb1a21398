-- member_affinities_key_idx (kind, name, share) goes, as it went from
-- SQLite in 0053: every query reads affinities by member but an audience's
-- affinity filter, an EXISTS the planner answers as well or better by
-- scanning the table (at 1,000,000 members and 5,000,000 affinities: 1.0 s
-- without the index against 1.6 s with it for a filter 390,000 members
-- pass, 0.37 s against 0.13 s for one none pass), while the index cost
-- every profile refresh a sort and build of five million entries (14 s of
-- its 65 on two cores) and every drain an insert per affinity.
DROP INDEX member_affinities_key_idx;
