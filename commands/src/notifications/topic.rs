//! The user's topic: assigned on first use, rotated on request; and the
//! test push, sent to it through the notifier.

use domain::account::AccountId;
use domain::notification::{NotificationSettings, SettingsCommand, Topic};

use super::{NotificationService, SettingsRejection};
use crate::store::EventStores;
use crate::{CommandError, Metadata};

type Result<T> = std::result::Result<T, CommandError<SettingsRejection>>;

impl<S: EventStores> NotificationService<S> {
    /// The user's settings, assigning a topic first if they have none.
    #[tracing::instrument(skip_all, fields(%user))]
    pub async fn settings(
        &self,
        user: AccountId,
        metadata: &Metadata,
    ) -> Result<NotificationSettings> {
        let id = user.to_string();
        let current = self.settings.load(&id).await.map_err(reject)?;
        if current.topic().is_some() {
            return Ok(current);
        }
        let topic = self.topics.mint();
        self.settings
            .execute(&id, SettingsCommand::AssignTopic { topic }, metadata)
            .await
            .map_err(reject)?;
        self.settings.load(&id).await.map_err(reject)
    }

    /// Replaces the topic with a fresh one and returns it.
    #[tracing::instrument(skip_all, fields(%user))]
    pub async fn rotate_topic(&self, user: AccountId, metadata: &Metadata) -> Result<Topic> {
        let topic = self.topics.mint();
        self.settings
            .execute(
                &user.to_string(),
                SettingsCommand::RotateTopic {
                    topic: topic.clone(),
                },
                metadata,
            )
            .await
            .map_err(reject)?;
        Ok(topic)
    }

    /// Records a test-push request; the notifier sends it to the topic.
    #[tracing::instrument(skip_all, fields(%user))]
    pub async fn request_test_push(&self, user: AccountId, metadata: &Metadata) -> Result<()> {
        self.settings(user, metadata).await?;
        let now = self.clock.now();
        self.settings
            .execute(
                &user.to_string(),
                SettingsCommand::RequestTestPush { now },
                metadata,
            )
            .await
            .map_err(reject)
    }
}

pub(super) fn reject(
    error: CommandError<domain::notification::SettingsError>,
) -> CommandError<SettingsRejection> {
    error.map_rejection(SettingsRejection::Settings)
}
