//! Why a subscription command was refused.

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SubscriptionError {
    #[error("there is no subscription")]
    NoSubscription,
    #[error("the subscription is not cancelled or suspended")]
    NotPaused,
    #[error("the period has ended")]
    PeriodEnded,
    #[error("the subscription is already cancelled")]
    AlreadyCancelled,
    #[error("a grant needs at least one day")]
    EmptyGrant,
}
