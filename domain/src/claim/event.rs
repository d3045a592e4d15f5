//! What happened to a claim. Variant names are the frozen `event_type`s.

use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::FIRST_EVENT_VERSION;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ClaimEvent {
    ClaimReserved {
        owner: Uuid,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    ClaimConfirmed {
        owner: Uuid,
    },
    ClaimReleased {
        owner: Uuid,
    },
}

impl DomainEvent for ClaimEvent {
    fn event_type(&self) -> String {
        match self {
            Self::ClaimReserved { .. } => "ClaimReserved",
            Self::ClaimConfirmed { .. } => "ClaimConfirmed",
            Self::ClaimReleased { .. } => "ClaimReleased",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        FIRST_EVENT_VERSION.to_owned()
    }
}
