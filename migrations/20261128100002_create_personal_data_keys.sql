-- One 256-bit key per account, sealing its personal data inside events
-- (email, username, client addresses). Kept outside the append-only log:
-- `cryptolens accounts forget <id>` deletes the row, and what was sealed
-- with it can never be read again (crypto-shredding).
CREATE TABLE personal_data_keys (
    account_id  uuid        PRIMARY KEY,
    key         bytea       NOT NULL CHECK (length(key) = 32),
    created_at  timestamptz NOT NULL DEFAULT now()
);
