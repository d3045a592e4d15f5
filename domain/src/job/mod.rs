//! Job runs as events: every run of a scheduled job (the market scan) is an
//! aggregate that starts, then finishes with its counts or fails with the
//! reason. The admin's job history and the per-symbol data health are read
//! models of these events.

mod aggregate;

pub use aggregate::{JobCommand, JobError, JobEvent, JobRun, SymbolReport};
