//! Billing read models: each user's subscription (what the tier function
//! reads), each payment's history and the revenue per plan and month.

pub mod subscriptions;
