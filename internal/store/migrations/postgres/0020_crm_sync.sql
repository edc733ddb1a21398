-- The CRM sync run that last named the member (perk crm sync, PUT
-- /v1/crm/members): the member is in the retailer's CRM subset. A full sync
-- takes the members it did not name out of the subset (crm_sync NULL and the
-- tag "crm" removed); nobody is deleted.
ALTER TABLE members ADD COLUMN crm_sync TEXT;
CREATE INDEX members_crm_sync ON members (crm_sync) WHERE crm_sync IS NOT NULL;
