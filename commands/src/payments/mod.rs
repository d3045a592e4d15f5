//! Payments: provider webhook signatures (verified on the raw body, in
//! constant time, before anything is parsed or appended).

pub mod signatures;
