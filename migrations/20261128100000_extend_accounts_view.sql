-- The accounts view carries each account's security state, read on every
-- authenticated request. All derived from events (no wall-clock columns).
ALTER TABLE accounts_view
    ADD COLUMN verified           boolean     NOT NULL DEFAULT false,
    ADD COLUMN active             boolean     NOT NULL DEFAULT true,
    ADD COLUMN is_admin           boolean     NOT NULL DEFAULT false,
    ADD COLUMN two_factor_enabled boolean     NOT NULL DEFAULT false,
    ADD COLUMN locked_until       timestamptz;
