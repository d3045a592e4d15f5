-- State of the signal notifier reactor, written in its checkpoint
-- transaction (so exactly once per event).

-- Pushes held back by the recipient's quiet hours until `release_at`; the
-- hold releaser publishes them then, or drops them if their signal was
-- resolved meanwhile.
CREATE TABLE notification_holds (
    message_id text        PRIMARY KEY,
    signal_id  text        NOT NULL,
    release_at timestamptz NOT NULL,
    -- 'work' or 'delay' (the free tier's delay still applies after release)
    route      text        NOT NULL CHECK (route IN ('work', 'delay')),
    message    jsonb       NOT NULL
);
CREATE INDEX notification_holds_release_idx ON notification_holds (release_at);

-- Signals resolved (target, stop, expiry): held pushes for them are dropped.
CREATE TABLE notification_resolved_signals (
    signal_id text PRIMARY KEY
);

-- The notification tier of a user. There are no subscriptions yet: every
-- user is on the free plan, which is the correct rule for a user without a
-- valid subscription (PRODUCT §1). The payments work replaces this function.
CREATE FUNCTION cryptolens_notification_tier(user_id uuid) RETURNS text
    LANGUAGE sql STABLE AS $$ SELECT 'free'::text $$;
