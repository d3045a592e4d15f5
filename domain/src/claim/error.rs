//! Why a claim command was refused.

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ClaimError {
    #[error("the value is already taken")]
    Taken,
    #[error("the claim is not reserved by this owner")]
    NotReservedByOwner,
}
