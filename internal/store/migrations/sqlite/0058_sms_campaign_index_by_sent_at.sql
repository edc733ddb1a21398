-- The campaign report's message series read whole hours from sms_tally
-- (0057) and only the partial hours at the ends of their range from the
-- messages: chiefly the hour the clock is in. For the sent series that is a
-- range of sent_at, which the campaign index of 0055 could not seek (sent_at
-- came after delivery_state and delivered_at), so an hour's edge read every
-- sent message of the campaign. sent_at now comes right after status; the
-- counts by status and receipt still read this index alone, and the
-- delivered series' edge seeks sms_outbox_campaign_delivered_idx. Same
-- columns, so the SMS path writes the same entries as before.
DROP INDEX sms_outbox_campaign_idx;
CREATE INDEX sms_outbox_campaign_idx ON sms_outbox (campaign_id, status, sent_at, delivery_state, delivered_at);
