-- The member's locale (BCP 47, "fr", "fr-CA") for the texts Perk sends
-- them; NULL is the programme's locale (--locale), so changing that moves
-- every member who never chose.
ALTER TABLE members ADD COLUMN locale TEXT;
