//! A user's effective tier, as every gated path reads it: the SQL function
//! `cryptolens_account_tier` (migrations), answered from the subscription
//! projection. Unknown names read as free, the rule for "no valid
//! subscription" (PRODUCT §1).

use domain::billing::tier::Tier;
use sqlx::PgPool;
use uuid::Uuid;

pub async fn account_tier(pool: &PgPool, user_id: Uuid) -> Result<Tier, sqlx::Error> {
    let name: Option<String> = sqlx::query_scalar("SELECT cryptolens_account_tier($1)")
        .bind(user_id)
        .fetch_one(pool)
        .await?;
    Ok(name.as_deref().and_then(Tier::parse).unwrap_or(Tier::Free))
}

/// The tier `user_id` has at `at` (`cryptolens_account_tier_at`): gated
/// paths pass the application clock, so an injected clock decides lapses.
pub async fn account_tier_at(
    pool: &PgPool,
    user_id: Uuid,
    at: time::OffsetDateTime,
) -> Result<Tier, sqlx::Error> {
    let name: Option<String> = sqlx::query_scalar("SELECT cryptolens_account_tier_at($1, $2)")
        .bind(user_id)
        .bind(at)
        .fetch_one(pool)
        .await?;
    Ok(name.as_deref().and_then(Tier::parse).unwrap_or(Tier::Free))
}
