-- A delta offer export finds the members whose offers may have changed since
-- its cursor through these, instead of reading every member (a 1,000,000-member
-- programme's delta after 1,000 baskets took seconds scanning members).
CREATE INDEX members_updated_at_idx ON members (updated_at);
CREATE INDEX points_entries_created_idx ON points_entries (created_at);
CREATE INDEX baskets_voided_idx ON baskets (voided_at) WHERE voided_at IS NOT NULL;
CREATE INDEX basket_returns_created_idx ON basket_returns (created_at);
