-- Read model of the `subscriptions` projection: one row per user who ever
-- had a plan. `access_until` is the instant the tier drops to free (period
-- end + 3-day grace while active, the period end when cancelled, NULL once
-- suspended, revoked or expired). Derived from events only.
CREATE TABLE subscriptions_view (
    user_id      uuid        PRIMARY KEY,
    plan         text,
    cycle        text,
    status       text        NOT NULL DEFAULT 'none',
    period_start timestamptz,
    period_end   timestamptz,
    access_until timestamptz,
    updated_at   timestamptz NOT NULL,
    last_seq     bigint      NOT NULL
);

CREATE INDEX subscriptions_view_period_end ON subscriptions_view (period_end);

-- A user's tier at `at` (PRODUCT §1): the plan of a valid subscription
-- (active, or lapsed less than the 3-day grace ago; cancelled ones until
-- the period end), otherwise free.
CREATE FUNCTION cryptolens_account_tier_at(user_id uuid, at timestamptz) RETURNS text
    LANGUAGE sql STABLE AS $$
    SELECT COALESCE(
        (SELECT s.plan FROM subscriptions_view s
          WHERE s.user_id = $1 AND s.access_until > $2 AND s.plan IS NOT NULL),
        'free')
$$;

CREATE OR REPLACE FUNCTION cryptolens_account_tier(user_id uuid) RETURNS text
    LANGUAGE sql STABLE AS $$ SELECT cryptolens_account_tier_at($1, now()) $$;
