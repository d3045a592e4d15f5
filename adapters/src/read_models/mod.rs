//! Read models on PostgreSQL: set-based application of each projection's
//! row changes, and the queries the API serves from them.

pub mod accounts;
pub mod api_keys;
pub mod broadcasts;
pub mod market;
pub mod notifications;
pub mod subscriptions;

/// The billing projections (subscriptions, payments, revenue).
pub fn billing_projections() -> Vec<std::sync::Arc<dyn crate::projector::Projection>> {
    vec![std::sync::Arc::new(subscriptions::SubscriptionsProjection)]
}
