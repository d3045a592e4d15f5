//! A claim's decision logic.

use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{ClaimCommand, ClaimError, ClaimEvent, RESERVATION_TTL};

#[derive(Debug, Default, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum ClaimState {
    #[default]
    Free,
    Reserved {
        owner: Uuid,
        at: OffsetDateTime,
    },
    Confirmed {
        owner: Uuid,
    },
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claim {
    state: ClaimState,
}

impl Claim {
    pub fn state(&self) -> ClaimState {
        self.state
    }

    /// The owner of a confirmed claim.
    pub fn confirmed_owner(&self) -> Option<Uuid> {
        match self.state {
            ClaimState::Confirmed { owner } => Some(owner),
            _ => None,
        }
    }

    fn held_by_other(&self, owner: Uuid, now: OffsetDateTime) -> bool {
        match self.state {
            ClaimState::Free => false,
            ClaimState::Confirmed { owner: holder } => holder != owner,
            ClaimState::Reserved { owner: holder, at } => {
                holder != owner && now - at < RESERVATION_TTL
            }
        }
    }

    fn reserved_or_confirmed_by(&self, owner: Uuid) -> bool {
        matches!(self.state,
            ClaimState::Reserved { owner: holder, .. } | ClaimState::Confirmed { owner: holder }
                if holder == owner)
    }
}

impl Aggregate for Claim {
    const TYPE: &'static str = "unique_claim";
    type Command = ClaimCommand;
    type Event = ClaimEvent;
    type Error = ClaimError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        match command {
            ClaimCommand::Reserve { owner, now } => {
                if self.held_by_other(owner, now) {
                    return Err(ClaimError::Taken);
                }
                if !self.reserved_or_confirmed_by(owner) {
                    sink.write(ClaimEvent::ClaimReserved { owner, at: now }, self)
                        .await;
                }
            }
            ClaimCommand::Confirm { owner } => match self.state {
                ClaimState::Reserved { owner: holder, .. } if holder == owner => {
                    sink.write(ClaimEvent::ClaimConfirmed { owner }, self).await;
                }
                ClaimState::Confirmed { owner: holder } if holder == owner => {}
                _ => return Err(ClaimError::NotReservedByOwner),
            },
            ClaimCommand::Release { owner } => match self.state {
                ClaimState::Reserved { owner: holder, .. }
                | ClaimState::Confirmed { owner: holder }
                    if holder == owner =>
                {
                    sink.write(ClaimEvent::ClaimReleased { owner }, self).await;
                }
                // Releasing what one does not hold changes nothing: idempotent.
                _ => {}
            },
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        self.state = match event {
            ClaimEvent::ClaimReserved { owner, at } => ClaimState::Reserved { owner, at },
            ClaimEvent::ClaimConfirmed { owner } => ClaimState::Confirmed { owner },
            ClaimEvent::ClaimReleased { .. } => ClaimState::Free,
        };
    }
}
