//! The composition root of CryptoLens: configuration, PostgreSQL (event
//! store, projector runtime, read models), RabbitMQ, HTTP, telemetry and
//! the `cryptolens` command line. Everything with I/O lives here; the
//! domain, use cases and projections it wires together do none.

pub mod app;
pub mod bench;
pub mod broker;
pub mod cli;
pub mod config;
pub mod exchange;
pub mod http;
pub mod identity_config;
pub mod mail;
pub mod market;
pub mod postgres;
pub mod projector;
pub mod read_models;
pub mod scheduler;
pub mod telemetry;
