-- Referrals (issue 19): members bring members.

-- The programme's referral settings: one row, the spec as JSON (what
-- rewards, when, caps, budget), as `perk referrals apply` and the API save it.
CREATE TABLE referral_settings (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    spec       TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- Each member's short referral code (6 characters, at least one digit, no
-- look-alike letters), drawn the first time it is needed and never reused.
CREATE TABLE referral_codes (
    member_id  TEXT PRIMARY KEY REFERENCES members (id),
    code       TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX referral_codes_code_key ON referral_codes (code);

-- A sign-up that came with a referral code. friend_id is the member it
-- made (NULL when the phone was already a member: nobody new to tie it to).
-- status: pending_purchase, rewarded, not_rewarded, refused, clawed_back;
-- reason says why in words. amount is the qualifying purchase's value after
-- discounts, returned what of it came back since.
CREATE TABLE referrals (
    id             TEXT PRIMARY KEY,
    code           TEXT NOT NULL,
    referrer_id    TEXT NOT NULL REFERENCES members (id),
    friend_id      TEXT REFERENCES members (id),
    channel        TEXT NOT NULL,
    status         TEXT NOT NULL,
    reason         TEXT NOT NULL,
    basket_id      TEXT,
    amount         BIGINT NOT NULL DEFAULT 0,
    returned       BIGINT NOT NULL DEFAULT 0,
    created_at     TIMESTAMP NOT NULL,
    qualify_by     TIMESTAMP,
    qualified_at   TIMESTAMP,
    clawed_back_at TIMESTAMP
);
CREATE UNIQUE INDEX referrals_friend_key ON referrals (friend_id);
CREATE INDEX referrals_referrer_idx ON referrals (referrer_id, created_at);
CREATE INDEX referrals_basket_idx ON referrals (basket_id);

-- What a referral gave, per side: points (ledger entries under the
-- transaction id "referral:<id>"), a personal offer (the member added to a
-- list campaign) or a free content code. cost is in minor units, what the
-- budget counts; clawed_back the part of it taken back.
CREATE TABLE referral_rewards (
    referral_id  TEXT NOT NULL REFERENCES referrals (id),
    role         TEXT NOT NULL,
    member_id    TEXT NOT NULL REFERENCES members (id),
    kind         TEXT NOT NULL,
    points       BIGINT NOT NULL DEFAULT 0,
    campaign_id  TEXT,
    content_code TEXT,
    cost         BIGINT NOT NULL,
    clawed_back  BIGINT NOT NULL DEFAULT 0,
    note         TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (referral_id, role)
);
CREATE INDEX referral_rewards_member_idx ON referral_rewards (member_id);

-- Links sent (INVITE replies, the card page's share button) and opened
-- (/join?ref=), for the report.
CREATE TABLE referral_activity (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    referrer_id  TEXT NOT NULL REFERENCES members (id),
    kind         TEXT NOT NULL,
    anonymous_id TEXT,
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX referral_activity_idx ON referral_activity (referrer_id, kind);

-- Keyed hashes (HMAC-SHA256) of the phones of erased members: erasure keeps
-- nothing else of the number, and this only to refuse a referral reward to
-- a phone that was a member before. The key is drawn once per database.
CREATE TABLE former_phones (
    phone_hash TEXT PRIMARY KEY,
    left_at    TIMESTAMP NOT NULL
);
CREATE TABLE former_phone_key (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    key TEXT NOT NULL
);
