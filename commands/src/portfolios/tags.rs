//! A user's tags: create, rename, recolour, delete.

use domain::tag::TagCommand;
use uuid::Uuid;

use super::{PortfolioResult, PortfolioService, from_tag};
use crate::Metadata;
use crate::store::EventStores;

impl<S: EventStores> PortfolioService<S> {
    pub async fn create_tag(
        &self,
        user: Uuid,
        name: String,
        colour: Option<String>,
        metadata: &Metadata,
    ) -> PortfolioResult<Uuid> {
        self.policy(user).await?;
        let tag_id = Uuid::now_v7();
        self.tag_command(
            user,
            TagCommand::Create {
                tag_id,
                name,
                colour,
            },
            metadata,
        )
        .await?;
        Ok(tag_id)
    }

    /// Renames and/or recolours; each change is its own event.
    pub async fn change_tag(
        &self,
        user: Uuid,
        tag_id: Uuid,
        name: Option<String>,
        colour: Option<String>,
        metadata: &Metadata,
    ) -> PortfolioResult<()> {
        self.policy(user).await?;
        let tags = self.tags.load(&user.to_string()).await.map_err(from_tag)?;
        if !tags.contains(tag_id) {
            return Err(crate::CommandError::NotFound);
        }
        if let Some(colour) = &colour {
            domain::tag::check_colour(colour)
                .map_err(|e| from_tag(crate::CommandError::Rejected(e)))?;
        }
        if let Some(name) = name {
            self.tag_command(user, TagCommand::Rename { tag_id, name }, metadata)
                .await?;
        }
        if let Some(colour) = colour {
            self.tag_command(user, TagCommand::Recolour { tag_id, colour }, metadata)
                .await?;
        }
        Ok(())
    }

    pub async fn delete_tag(
        &self,
        user: Uuid,
        tag_id: Uuid,
        metadata: &Metadata,
    ) -> PortfolioResult<()> {
        self.policy(user).await?;
        self.tag_command(user, TagCommand::Delete { tag_id }, metadata)
            .await
    }

    async fn tag_command(
        &self,
        user: Uuid,
        command: TagCommand,
        metadata: &Metadata,
    ) -> PortfolioResult<()> {
        self.tags
            .execute(&user.to_string(), command, metadata)
            .await
            .map_err(from_tag)
    }
}
