//! Payments: provider webhook signatures (verified on the raw body, in
//! constant time, before anything is parsed or appended) and the
//! subscription use cases.

pub mod signatures;
pub mod subscriptions;
