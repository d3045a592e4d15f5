//! What can be asked of a claim.

use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq)]
pub enum ClaimCommand {
    Reserve { owner: Uuid, now: OffsetDateTime },
    Confirm { owner: Uuid },
    Release { owner: Uuid },
}
