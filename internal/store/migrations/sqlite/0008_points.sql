-- Points: an append-only ledger of entries per member; the lots that
-- positive entries open, with what is left of each; how every negative entry
-- drew on those lots; and one account row per member that every write
-- updates first (on PostgreSQL the row lock serialises a member's writers).
CREATE TABLE points_accounts (
    member_id  TEXT PRIMARY KEY REFERENCES members (id),
    debt       INTEGER NOT NULL DEFAULT 0 CHECK (debt >= 0), -- points owed after returns (clawback "debt")
    version    INTEGER NOT NULL DEFAULT 0,                    -- bumped by every write
    updated_at TIMESTAMP
);

CREATE TABLE points_entries (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,   -- write order; the listing cursor
    id             TEXT NOT NULL,
    member_id      TEXT NOT NULL REFERENCES members (id),
    kind           TEXT NOT NULL,                       -- earn, bonus, redeem, expire, adjust, reverse, refund
    points         INTEGER NOT NULL,                    -- signed: what moved in or out of lots
    reason         TEXT NOT NULL DEFAULT '',
    transaction_id TEXT,                                -- checkout transaction
    campaign_id    TEXT,
    operator       TEXT,                                -- who made an adjustment
    created_at     TIMESTAMP NOT NULL,
    available_at   TIMESTAMP,                           -- positive entries: when the lot can be spent
    expires_at     TIMESTAMP,                           -- positive entries: NULL = never
    shortfall      INTEGER NOT NULL DEFAULT 0,          -- reverse: points asked for but not taken back
    debt           INTEGER NOT NULL DEFAULT 0,          -- change to points_accounts.debt
    CONSTRAINT points_entries_id_key UNIQUE (id)
);
CREATE INDEX points_entries_member_idx ON points_entries (member_id, seq);
CREATE INDEX points_entries_transaction_idx ON points_entries (transaction_id) WHERE transaction_id IS NOT NULL;

-- One lot per positive entry; only remaining changes.
CREATE TABLE points_lots (
    entry_id       TEXT PRIMARY KEY REFERENCES points_entries (id),
    member_id      TEXT NOT NULL REFERENCES members (id),
    transaction_id TEXT,
    remaining      INTEGER NOT NULL CHECK (remaining >= 0),
    available_at   TIMESTAMP NOT NULL,
    expires_at     TIMESTAMP
);
CREATE INDEX points_lots_open_idx ON points_lots (member_id) WHERE remaining > 0;
CREATE INDEX points_lots_expiry_idx ON points_lots (expires_at) WHERE remaining > 0;

-- How each negative entry drew on lots (a lot at most once per entry).
CREATE TABLE points_allocations (
    entry_id TEXT NOT NULL REFERENCES points_entries (id),
    lot_id   TEXT NOT NULL REFERENCES points_lots (entry_id),
    points   INTEGER NOT NULL CHECK (points > 0),
    PRIMARY KEY (entry_id, lot_id)
);
CREATE INDEX points_allocations_lot_idx ON points_allocations (lot_id);
