-- Read model of the `accounts` projection. Every column is derived from
-- events only (no wall-clock columns), so a rebuild reproduces it exactly.
CREATE TABLE accounts_view (
    account_id           uuid        PRIMARY KEY,
    username             text        NOT NULL,
    email                text        NOT NULL,
    registered_at        timestamptz NOT NULL,
    logins_succeeded     bigint      NOT NULL DEFAULT 0,
    logins_failed        bigint      NOT NULL DEFAULT 0,
    consecutive_failures integer     NOT NULL DEFAULT 0,
    last_login_at        timestamptz,
    last_failed_login_at timestamptz,
    last_seq             bigint      NOT NULL
);
