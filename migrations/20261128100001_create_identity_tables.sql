-- Server-side sessions. The cookie carries 256 random bits; only their
-- SHA-256 is stored, so a copy of this table opens no session. One
-- statement ends all of a user's sessions: DELETE ... WHERE account_id = $1.
CREATE TABLE sessions (
    id                 uuid        PRIMARY KEY,
    token_hash         bytea       NOT NULL UNIQUE,
    account_id         uuid        NOT NULL,
    -- 'pending_second_factor' after a right password when 2FA is on, else 'active'.
    state              text        NOT NULL CHECK (state IN ('pending_second_factor', 'active')),
    -- The synchronizer CSRF token of this session (256 bits, base64url).
    csrf_token         text        NOT NULL,
    created_at         timestamptz NOT NULL,
    last_seen_at       timestamptz NOT NULL,
    client_ip          text,
    user_agent         text,
    -- Set when the account's privileges changed: the next request gets a new id.
    rotate             boolean     NOT NULL DEFAULT false
);
CREATE INDEX sessions_account_idx ON sessions (account_id);

-- TOTP secrets sealed with AES-256-GCM-SIV under a configured key, named by
-- key_id so `cryptolens keys rotate` can re-seal them. Whether 2FA is on is
-- decided by the account's events; a row without TwoFactorEnrolled is an
-- unconfirmed enrolment.
CREATE TABLE totp_secrets (
    account_id  uuid        PRIMARY KEY,
    key_id      text        NOT NULL,
    nonce       bytea       NOT NULL,
    ciphertext  bytea       NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Read model of the `api_keys` projection (deterministic from events).
CREATE TABLE api_keys_view (
    key_id      uuid        PRIMARY KEY,
    owner       uuid        NOT NULL,
    name        text        NOT NULL,
    scopes      text[]      NOT NULL,
    expires_at  timestamptz,
    issued_at   timestamptz NOT NULL,
    revoked_at  timestamptz
);
CREATE INDEX api_keys_view_owner_idx ON api_keys_view (owner);

-- When each key was last used: operational data, not a state change, so
-- not evented and kept apart from the projection.
CREATE TABLE api_key_usage (
    key_id       uuid        PRIMARY KEY,
    last_used_at timestamptz NOT NULL
);

-- Mails to send, queued exactly once per event by the mail reactor (in the
-- reactor's batch transaction). The body is rendered when sending, so no
-- token is ever stored here: the row names the event it came from.
CREATE TABLE mail_outbox (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_event    bigint      NOT NULL UNIQUE,
    kind            text        NOT NULL,
    account_id      uuid        NOT NULL,
    token_id        uuid,
    recipient       text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    -- 'pending' (to send), 'sent', or 'local' (no SMTP configured: kept for `cryptolens mail list`).
    status          text        NOT NULL DEFAULT 'pending',
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    sent_at         timestamptz
);
CREATE INDEX mail_outbox_due_idx ON mail_outbox (next_attempt_at) WHERE status = 'pending';
