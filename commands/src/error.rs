//! The one error type of every use case.

use std::error::Error as StdError;

use cqrs_es::AggregateError;

#[derive(Debug, thiserror::Error)]
pub enum CommandError<E: StdError> {
    /// The domain refused the command.
    #[error(transparent)]
    Rejected(E),
    #[error("not found")]
    NotFound,
    /// Concurrent writers kept winning the race for the same aggregate.
    #[error("concurrent modification, try again")]
    Conflict,
    /// Storage or another dependency failed; nothing was decided.
    #[error("unavailable: {0}")]
    Unavailable(#[source] Box<dyn StdError + Send + Sync>),
}

impl<E: StdError> CommandError<E> {
    /// Re-labels the rejection type, keeping every other case.
    pub fn map_rejection<F: StdError>(self, map: impl FnOnce(E) -> F) -> CommandError<F> {
        match self {
            Self::Rejected(e) => CommandError::Rejected(map(e)),
            Self::NotFound => CommandError::NotFound,
            Self::Conflict => CommandError::Conflict,
            Self::Unavailable(e) => CommandError::Unavailable(e),
        }
    }

    pub fn unavailable(error: impl StdError + Send + Sync + 'static) -> Self {
        Self::Unavailable(Box::new(error))
    }
}

impl<E: StdError> From<AggregateError<E>> for CommandError<E> {
    fn from(error: AggregateError<E>) -> Self {
        match error {
            AggregateError::UserError(e) => Self::Rejected(e),
            AggregateError::AggregateConflict => Self::Conflict,
            AggregateError::DatabaseConnectionError(e)
            | AggregateError::DeserializationError(e)
            | AggregateError::UnexpectedError(e) => Self::Unavailable(e),
        }
    }
}
