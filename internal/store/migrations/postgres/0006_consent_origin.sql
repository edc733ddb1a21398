-- The consent log also records the campaign that prompted a change, the
-- address it came through (short code, client address, API key) and the
-- number it concerned (cleared when the member is erased).
ALTER TABLE consents ADD COLUMN campaign TEXT NOT NULL DEFAULT '';
ALTER TABLE consents ADD COLUMN source_address TEXT NOT NULL DEFAULT '';
ALTER TABLE consents ADD COLUMN phone TEXT;
