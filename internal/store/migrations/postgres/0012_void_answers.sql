-- A void's answer, kept like a commit's (baskets.response) and a return's
-- (basket_returns.response) so that a till retrying a void whose answer it
-- lost is told the same refund and points again. NULL until the basket is
-- voided, and for baskets voided before this migration.
ALTER TABLE baskets ADD COLUMN void_response TEXT;
