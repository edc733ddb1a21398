-- The part of a redemption's discount that returns gave back while the
-- redemption stands (some, not all, of the lines it applied to came back),
-- so "discount given" is counted net of returns from the row itself
-- (internal/report/figures). Rows returned before this migration keep 0.
ALTER TABLE redemptions ADD COLUMN discount_returned BIGINT NOT NULL DEFAULT 0;
