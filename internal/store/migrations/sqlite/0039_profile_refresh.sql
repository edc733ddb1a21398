-- The profile refresh and drain read a member's redemptions (their SMS
-- response) a chunk of members at a time; without this index each chunk
-- scanned every redemption (docs/profiles.md).
CREATE INDEX redemptions_member_idx ON redemptions (member_id, created_at) WHERE member_id IS NOT NULL;
