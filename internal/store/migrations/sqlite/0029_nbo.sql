-- Next best offer (package nbo, docs/nbo.md): the offer pool the operator
-- fills, the basket association rules mined from transaction lines, and
-- who a next_best_offer campaign gave which offer, ranked or at random.

-- One candidate offer of the pool: its JSON nbo.Offer (benefit, scope,
-- validity, cost) by name, as the operator wrote it.
CREATE TABLE nbo_offers (
    name       TEXT PRIMARY KEY,
    spec       TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- Association rules "antecedent -> consequent" at the category or SKU
-- level, replaced as a whole by each refresh (mined_at says when).
CREATE TABLE nbo_rules (
    level       TEXT NOT NULL,            -- category, sku
    antecedent  TEXT NOT NULL,
    consequent  TEXT NOT NULL,
    baskets     BIGINT NOT NULL,          -- baskets holding both
    support     REAL NOT NULL,
    confidence  REAL NOT NULL,
    lift        REAL NOT NULL,
    mined_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (level, antecedent, consequent)
);

-- next_best_offer campaigns: the spec (pool, k, holdout share, audience)
-- and when they gave their offers.
CREATE TABLE nbo_campaigns (
    name        TEXT PRIMARY KEY,
    spec        TEXT NOT NULL,
    launched_at TIMESTAMP NOT NULL
);

-- What a next_best_offer campaign gave each member of its audience: arm
-- ranked (the top k) or random (the holdout), the personal-offer campaign
-- that holds the offer, its rank and score when given.
CREATE TABLE nbo_given (
    run         TEXT NOT NULL REFERENCES nbo_campaigns (name),
    member_id   TEXT NOT NULL REFERENCES members (id),
    offer       TEXT NOT NULL,
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    arm         TEXT NOT NULL,            -- ranked, random
    position    INTEGER NOT NULL,         -- 1 = first of the k
    score       BIGINT NOT NULL,          -- expected value when given, minor units
    given_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (run, member_id, offer)
);
CREATE INDEX nbo_given_member_idx ON nbo_given (member_id);
