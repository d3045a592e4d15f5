//! Application services: one use case per file, over ports.
//!
//! This is where the outside world meets the pure domain: passwords are
//! hashed (off the async runtime, with bounded concurrency), the clock is
//! read, ids, tokens and TOTP secrets are minted, secrets are sealed, and
//! the results are handed to aggregates inside their commands. Storage is
//! reached only through cqrs-es `EventStore`s ([`store::EventStores`]) and
//! ports, so every use case runs unchanged over the in-memory store in tests
//! and over PostgreSQL in production. No SQL, HTTP or broker code lives here.

pub mod accounts;
pub mod api_keys;
pub mod claim_keys;
pub mod error;
pub mod market;
pub mod metadata;
pub mod notifications;
pub mod password;
pub mod payments;
pub mod personal_data;
pub mod portfolios;
pub mod ports;
pub mod sealing;
pub mod store;
pub mod tokens;
pub mod totp;

pub use error::CommandError;
pub use metadata::Metadata;
