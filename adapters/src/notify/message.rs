//! The message on the wire: one JSON document per recipient.

use domain::notification::{Push, PushKind, Recipient};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One push for one topic, as published to RabbitMQ.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushMessage {
    /// `{event id}/{user id}` (or `{event id}/topic:{n}` for custom topics):
    /// the same every time the same event is turned into messages, so the
    /// consumer's inbox can drop republished copies.
    pub message_id: String,
    pub user_id: Option<Uuid>,
    pub kind: PushKind,
    pub broadcast_id: Option<Uuid>,
    /// The NTFY topic (a secret: never logged, never stored in events).
    pub topic: String,
    /// Pushes per UTC day the recipient may receive (`None`: no cap).
    pub daily_cap: Option<u32>,
    pub push: Push,
}

impl PushMessage {
    pub fn recipient(&self) -> Recipient {
        Recipient {
            user_id: self.user_id,
            kind: self.kind,
            broadcast_id: self.broadcast_id,
        }
    }
}
