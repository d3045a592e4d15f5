//! The signal aggregate: one per confluence signal (ALGORITHMS §8), keyed by
//! a deterministic id (symbol, direction, creation time). After it is
//! generated, later candles record its entry, the targets it reaches and how
//! it ended (PRODUCT §4: outcomes tracked automatically).

mod aggregate;
mod event;

#[cfg(test)]
mod tests;

pub use aggregate::{Signal, SignalCommand, SignalError};
pub use event::{SignalEvent, SignalFacts};
