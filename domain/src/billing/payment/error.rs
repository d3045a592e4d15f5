//! Why a payment command was refused.

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    #[error("the payment was already opened for another order")]
    OrderMismatch,
}
