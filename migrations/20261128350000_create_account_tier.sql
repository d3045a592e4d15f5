-- The one place every gated path asks for a user's effective tier
-- (PRODUCT §1). Until the subscription projection exists every user is on
-- the free plan, the correct rule for a user without a valid subscription.
-- The payments work replaces the body (CREATE OR REPLACE) with a read of
-- its subscription projection; callers do not change.
CREATE FUNCTION cryptolens_account_tier(user_id uuid) RETURNS text
    LANGUAGE sql STABLE AS $$ SELECT 'free'::text $$;

CREATE OR REPLACE FUNCTION cryptolens_notification_tier(user_id uuid) RETURNS text
    LANGUAGE sql STABLE AS $$ SELECT cryptolens_account_tier(user_id) $$;
