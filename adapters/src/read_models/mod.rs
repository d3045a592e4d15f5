//! Read models on PostgreSQL: set-based application of each projection's
//! row changes, and the queries the API serves from them.

pub mod accounts;
pub mod api_keys;
pub mod broadcasts;
pub mod market;
pub mod notifications;
