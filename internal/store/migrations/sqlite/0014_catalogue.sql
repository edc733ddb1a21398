-- The catalogue the tills no longer have to send: stores with their region,
-- address and whether they trade; products with brand, unit, cost price and
-- any number of barcodes. Categories are paths ("drinks/coffee"), a tree.
ALTER TABLE stores ADD COLUMN region TEXT NOT NULL DEFAULT '';
ALTER TABLE stores ADD COLUMN address TEXT NOT NULL DEFAULT '';
ALTER TABLE stores ADD COLUMN status TEXT NOT NULL DEFAULT 'open'; -- open, closed
ALTER TABLE stores ADD COLUMN updated_at TIMESTAMP;

ALTER TABLE products ADD COLUMN brand TEXT NOT NULL DEFAULT '';
ALTER TABLE products ADD COLUMN unit TEXT NOT NULL DEFAULT 'each'; -- each, or a weight or volume unit
ALTER TABLE products ADD COLUMN cost_price BIGINT;                   -- minor units, optional
ALTER TABLE products ADD COLUMN updated_at TIMESTAMP;

-- A barcode (GTIN, EAN, UPC or the retailer's own) belongs to one product.
CREATE TABLE product_barcodes (
    barcode TEXT PRIMARY KEY,
    sku     TEXT NOT NULL REFERENCES products (sku) ON DELETE CASCADE
);
CREATE INDEX product_barcodes_sku_idx ON product_barcodes (sku);

-- One row, bumped by every catalogue write in the same transaction, so other
-- instances reload their in-memory catalogue only when it moved.
CREATE TABLE catalogue_version (
    id      INTEGER PRIMARY KEY,
    version BIGINT NOT NULL
);
INSERT INTO catalogue_version (id, version) VALUES (1, 0);

-- SKUs the tills sold that the catalogue lacks, so the operator can add them.
CREATE TABLE unknown_skus (
    sku        TEXT PRIMARY KEY,
    lines      BIGINT NOT NULL,
    store_id   TEXT NOT NULL DEFAULT '', -- where it was last seen
    first_seen TIMESTAMP NOT NULL,
    last_seen  TIMESTAMP NOT NULL
);

-- A weighed or measured line: its quantity in thousandths of its unit and
-- its price per unit. quantity is then 1 and unit_price the line's value
-- (rounded once), so every figure computed from quantity x unit_price holds.
ALTER TABLE basket_lines ADD COLUMN unit TEXT NOT NULL DEFAULT '';
ALTER TABLE basket_lines ADD COLUMN measure BIGINT NOT NULL DEFAULT 0;
ALTER TABLE basket_lines ADD COLUMN measure_price BIGINT NOT NULL DEFAULT 0;
ALTER TABLE basket_lines ADD COLUMN returned_measure BIGINT NOT NULL DEFAULT 0;
