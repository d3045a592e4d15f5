//! Admin broadcasts and templates.

use std::sync::Arc;

use domain::account::FieldError;
use domain::notification::{
    Audience, Broadcast, BroadcastCommand, BroadcastContent, BroadcastError, BroadcastTemplate,
    TemplateCommand, TemplateError, parse_template_name,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::ports::Clock;
use crate::store::{CommitObserver, EventStores, Repository};
use crate::{CommandError, Metadata};

/// Why a broadcast request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BroadcastRejection {
    #[error("some fields are invalid")]
    Invalid(Vec<FieldError>),
    #[error(transparent)]
    Broadcast(#[from] BroadcastError),
    #[error(transparent)]
    Template(#[from] TemplateError),
}

type Result<T> = std::result::Result<T, CommandError<BroadcastRejection>>;

/// A broadcast as submitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BroadcastInput {
    pub title: String,
    pub message: String,
    pub priority: i64,
    pub tags: Vec<String>,
}

impl BroadcastInput {
    fn content(&self) -> std::result::Result<BroadcastContent, CommandError<BroadcastRejection>> {
        BroadcastContent::parse(&self.title, &self.message, self.priority, &self.tags)
            .map_err(|fields| CommandError::Rejected(BroadcastRejection::Invalid(fields)))
    }
}

pub struct BroadcastService<S: EventStores> {
    broadcasts: Repository<Broadcast, S>,
    templates: Repository<BroadcastTemplate, S>,
    clock: Arc<dyn Clock>,
}

impl<S: EventStores> BroadcastService<S> {
    pub fn new(
        stores: &S,
        observer: Option<Arc<dyn CommitObserver>>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            broadcasts: Repository::new(stores, observer.clone()),
            templates: Repository::new(stores, observer),
            clock,
        }
    }

    /// Schedules a broadcast (`send_at` absent or past: sent at once).
    #[tracing::instrument(skip_all)]
    pub async fn create_broadcast(
        &self,
        input: &BroadcastInput,
        audience: Audience,
        send_at: Option<OffsetDateTime>,
        metadata: &Metadata,
    ) -> Result<Uuid> {
        let content = input.content()?;
        let audience = audience
            .validate()
            .map_err(|f| CommandError::Rejected(BroadcastRejection::Invalid(vec![f])))?;
        let now = self.clock.now();
        let id = Uuid::now_v7();
        self.broadcasts
            .create(
                &id.to_string(),
                BroadcastCommand::Create {
                    content,
                    audience,
                    send_at: send_at.unwrap_or(now),
                    now,
                },
                metadata,
            )
            .await
            .map_err(|e| e.map_rejection(BroadcastRejection::Broadcast))?;
        Ok(id)
    }

    /// The scheduler's call: sends `id` if it is due (idempotent).
    pub async fn send_if_due(&self, id: Uuid, metadata: &Metadata) -> Result<()> {
        let now = self.clock.now();
        self.broadcasts
            .execute(
                &id.to_string(),
                BroadcastCommand::SendIfDue { now },
                metadata,
            )
            .await
            .map_err(|e| e.map_rejection(BroadcastRejection::Broadcast))
    }

    pub async fn cancel_broadcast(&self, id: Uuid, metadata: &Metadata) -> Result<()> {
        let now = self.clock.now();
        self.broadcasts
            .execute(&id.to_string(), BroadcastCommand::Cancel { now }, metadata)
            .await
            .map_err(|e| e.map_rejection(BroadcastRejection::Broadcast))
    }

    /// Creates (`id` = None) or replaces a template; returns its id.
    pub async fn save_template(
        &self,
        id: Option<Uuid>,
        name: &str,
        input: &BroadcastInput,
        metadata: &Metadata,
    ) -> Result<Uuid> {
        let name = parse_template_name(name);
        let content = input.content();
        let (name, content) = match (name, content) {
            (Ok(name), Ok(content)) => (name, content),
            (name, content) => {
                let mut fields: Vec<FieldError> = name.err().into_iter().collect();
                if let Err(CommandError::Rejected(BroadcastRejection::Invalid(more))) = content {
                    fields.extend(more);
                }
                return Err(CommandError::Rejected(BroadcastRejection::Invalid(fields)));
            }
        };
        let template = id.unwrap_or_else(Uuid::now_v7);
        if id.is_some()
            && self
                .templates
                .load(&template.to_string())
                .await
                .map_err(|e| e.map_rejection(BroadcastRejection::Template))?
                .saved()
                .is_none()
        {
            return Err(CommandError::NotFound);
        }
        self.templates
            .execute(
                &template.to_string(),
                TemplateCommand::Save { name, content },
                metadata,
            )
            .await
            .map_err(|e| e.map_rejection(BroadcastRejection::Template))?;
        Ok(template)
    }

    pub async fn delete_template(&self, id: Uuid, metadata: &Metadata) -> Result<()> {
        self.templates
            .execute(&id.to_string(), TemplateCommand::Delete, metadata)
            .await
            .map_err(|e| match e {
                CommandError::Rejected(TemplateError::NotFound) => CommandError::NotFound,
                other => other.map_rejection(BroadcastRejection::Template),
            })
    }
}
