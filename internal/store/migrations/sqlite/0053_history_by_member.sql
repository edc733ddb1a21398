-- A member's history in the fewest page reads (issue 14: the full profile
-- refresh reads every member's baskets and lines, a chunk of members at a
-- time, and at 1,000,000 members those reads, one random B-tree lookup after
-- another, were most of it; docs/benchmarks.md, "Profile refresh at
-- 1,000,000 members on a quiet machine").
--
-- baskets_member_idx carries what that read needs of a basket, so a chunk's
-- baskets are one walk of the index instead of a table lookup each.
DROP INDEX baskets_member_idx;
CREATE INDEX baskets_member_idx ON baskets (member_id, created_at, status, store_id, id);

-- basket_lines is stored by its primary key (WITHOUT ROWID): a basket's lines
-- sit together and are found by one lookup, where a rowid table needed the
-- key's index and then the table for every line. A commit writes one B-tree
-- per line fewer. Nothing references the table, and no code reads its rowid.
CREATE TABLE basket_lines_by_key (
    basket_id        TEXT NOT NULL REFERENCES baskets (id),
    line             INTEGER NOT NULL,
    sku              TEXT NOT NULL,
    categories       TEXT NOT NULL DEFAULT '[]',
    quantity         INTEGER NOT NULL,
    unit_price       BIGINT NOT NULL,
    discount         BIGINT NOT NULL,
    points           BIGINT NOT NULL,
    returned_qty     INTEGER NOT NULL DEFAULT 0,
    unit             TEXT NOT NULL DEFAULT '',
    measure          BIGINT NOT NULL DEFAULT 0,
    measure_price    BIGINT NOT NULL DEFAULT 0,
    returned_measure BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (basket_id, line)
) WITHOUT ROWID;
INSERT INTO basket_lines_by_key (basket_id, line, sku, categories, quantity, unit_price, discount, points, returned_qty, unit,
    measure, measure_price, returned_measure)
SELECT basket_id, line, sku, categories, quantity, unit_price, discount, points, returned_qty, unit, measure, measure_price,
    returned_measure FROM basket_lines ORDER BY basket_id, line;
DROP TABLE basket_lines;
ALTER TABLE basket_lines_by_key RENAME TO basket_lines;
CREATE INDEX basket_lines_sku_idx ON basket_lines (sku);

-- member_affinities likewise: the refresh writes every member's, and a
-- rowid table kept its key as an index of its own, a third B-tree per row.
-- Nor is member_affinities_key_idx (kind, name, share) made again: every
-- query reads affinities by member (an audience's affinity filter is an
-- EXISTS that SQLite answers by the primary key, the member page and the
-- data mart by member id), and inserting into it at random places was what
-- made each chunk of a refresh rewrite pages all over the index.
CREATE TABLE member_affinities_by_key (
    member_id TEXT NOT NULL,
    kind      TEXT NOT NULL,
    name      TEXT NOT NULL,
    share     REAL NOT NULL,
    PRIMARY KEY (member_id, kind, name)
) WITHOUT ROWID;
INSERT INTO member_affinities_by_key (member_id, kind, name, share)
SELECT member_id, kind, name, share FROM member_affinities ORDER BY member_id, kind, name;
DROP TABLE member_affinities;
ALTER TABLE member_affinities_by_key RENAME TO member_affinities;
