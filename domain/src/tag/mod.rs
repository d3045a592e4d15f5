//! A user's trade tags: one aggregate per user (keyed by the user id), so
//! a tag belongs to exactly one user and another user's tag id is simply
//! unknown here. Names are unique per user, case-insensitively. Attaching
//! a tag to a trade is recorded on the trade's portfolio; deleting a tag
//! makes the read models drop it from every trade.

use std::collections::BTreeMap;

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::FIRST_EVENT_VERSION;
use crate::account::FieldError;
use crate::portfolio::check_text;

/// At most this many characters in a tag name.
pub const TAG_NAME_MAX_CHARS: usize = 40;
/// A user's tags at most.
pub const MAX_TAGS: usize = 200;
/// The colour a tag gets when none is given (the original's indigo).
pub const DEFAULT_COLOUR: &str = "#6366f1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagState {
    pub name: String,
    pub colour: String,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct TagSet {
    tags: BTreeMap<Uuid, TagState>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TagCommand {
    Create {
        tag_id: Uuid,
        name: String,
        colour: Option<String>,
    },
    Rename {
        tag_id: Uuid,
        name: String,
    },
    Recolour {
        tag_id: Uuid,
        colour: String,
    },
    Delete {
        tag_id: Uuid,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TagEvent {
    TagCreated {
        tag_id: Uuid,
        name: String,
        colour: String,
    },
    TagRenamed {
        tag_id: Uuid,
        name: String,
    },
    TagRecoloured {
        tag_id: Uuid,
        colour: String,
    },
    TagDeleted {
        tag_id: Uuid,
    },
}

impl TagEvent {
    pub const CREATED: &'static str = "TagCreated";
    pub const RENAMED: &'static str = "TagRenamed";
    pub const RECOLOURED: &'static str = "TagRecoloured";
    pub const DELETED: &'static str = "TagDeleted";
}

impl DomainEvent for TagEvent {
    fn event_type(&self) -> String {
        match self {
            Self::TagCreated { .. } => Self::CREATED,
            Self::TagRenamed { .. } => Self::RENAMED,
            Self::TagRecoloured { .. } => Self::RECOLOURED,
            Self::TagDeleted { .. } => Self::DELETED,
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        FIRST_EVENT_VERSION.to_owned()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagError {
    #[error("no such tag")]
    NotFound,
    #[error("invalid tag: {}", .0.iter().map(|f| f.field).collect::<Vec<_>>().join(", "))]
    Invalid(Vec<FieldError>),
}

fn invalid(field: &'static str, message: &str) -> TagError {
    TagError::Invalid(vec![FieldError {
        field,
        message: message.to_owned(),
    }])
}

/// `#rrggbb`, lower-cased.
pub fn check_colour(colour: &str) -> Result<String, TagError> {
    let ok = colour.len() == 7
        && colour.starts_with('#')
        && colour.chars().skip(1).all(|c| c.is_ascii_hexdigit());
    if ok {
        Ok(colour.to_ascii_lowercase())
    } else {
        Err(invalid("colour", "a colour like #6366f1"))
    }
}

impl TagSet {
    pub fn get(&self, tag_id: Uuid) -> Option<&TagState> {
        self.tags.get(&tag_id)
    }

    pub fn contains(&self, tag_id: Uuid) -> bool {
        self.tags.contains_key(&tag_id)
    }

    fn check_name(&self, name: &str, except: Option<Uuid>) -> Result<String, TagError> {
        let name = name.trim().to_owned();
        let mut errors = Vec::new();
        check_text(&mut errors, "name", &name, TAG_NAME_MAX_CHARS, false);
        if !errors.is_empty() {
            return Err(TagError::Invalid(errors));
        }
        let taken = self
            .tags
            .iter()
            .any(|(id, tag)| Some(*id) != except && tag.name.to_lowercase() == name.to_lowercase());
        if taken {
            return Err(invalid("name", "you already have a tag with this name"));
        }
        Ok(name)
    }
}

impl Aggregate for TagSet {
    const TYPE: &'static str = "tag_set";
    type Command = TagCommand;
    type Event = TagEvent;
    type Error = TagError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let event = match command {
            TagCommand::Create {
                tag_id,
                name,
                colour,
            } => {
                if self.tags.contains_key(&tag_id) {
                    return Err(invalid("tag_id", "already used"));
                }
                if self.tags.len() >= MAX_TAGS {
                    return Err(invalid("name", "you have the most tags allowed"));
                }
                let name = self.check_name(&name, None)?;
                let colour = check_colour(colour.as_deref().unwrap_or(DEFAULT_COLOUR))?;
                TagEvent::TagCreated {
                    tag_id,
                    name,
                    colour,
                }
            }
            TagCommand::Rename { tag_id, name } => {
                let current = self.tags.get(&tag_id).ok_or(TagError::NotFound)?;
                let name = self.check_name(&name, Some(tag_id))?;
                if name == current.name {
                    return Ok(());
                }
                TagEvent::TagRenamed { tag_id, name }
            }
            TagCommand::Recolour { tag_id, colour } => {
                let current = self.tags.get(&tag_id).ok_or(TagError::NotFound)?;
                let colour = check_colour(&colour)?;
                if colour == current.colour {
                    return Ok(());
                }
                TagEvent::TagRecoloured { tag_id, colour }
            }
            TagCommand::Delete { tag_id } => {
                if !self.tags.contains_key(&tag_id) {
                    return Err(TagError::NotFound);
                }
                TagEvent::TagDeleted { tag_id }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            TagEvent::TagCreated {
                tag_id,
                name,
                colour,
            } => {
                self.tags.insert(tag_id, TagState { name, colour });
            }
            TagEvent::TagRenamed { tag_id, name } => {
                if let Some(tag) = self.tags.get_mut(&tag_id) {
                    tag.name = name;
                }
            }
            TagEvent::TagRecoloured { tag_id, colour } => {
                if let Some(tag) = self.tags.get_mut(&tag_id) {
                    tag.colour = colour;
                }
            }
            TagEvent::TagDeleted { tag_id } => {
                self.tags.remove(&tag_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use cqrs_es::test::TestFramework;

    use super::*;

    const TAG: Uuid = Uuid::from_u128(1);

    fn created(name: &str) -> TagEvent {
        TagEvent::TagCreated {
            tag_id: TAG,
            name: name.into(),
            colour: DEFAULT_COLOUR.into(),
        }
    }

    #[test]
    fn a_tag_is_created_renamed_recoloured_and_deleted() {
        TestFramework::<TagSet>::with(())
            .given_no_previous_events()
            .when(TagCommand::Create {
                tag_id: TAG,
                name: " breakout ".into(),
                colour: None,
            })
            .then_expect_events(vec![created("breakout")]);
        TestFramework::<TagSet>::with(())
            .given(vec![created("breakout")])
            .when(TagCommand::Recolour {
                tag_id: TAG,
                colour: "#FF0000".into(),
            })
            .then_expect_events(vec![TagEvent::TagRecoloured {
                tag_id: TAG,
                colour: "#ff0000".into(),
            }]);
        TestFramework::<TagSet>::with(())
            .given(vec![created("breakout")])
            .when(TagCommand::Rename {
                tag_id: TAG,
                name: "retest".into(),
            })
            .then_expect_events(vec![TagEvent::TagRenamed {
                tag_id: TAG,
                name: "retest".into(),
            }]);
        TestFramework::<TagSet>::with(())
            .given(vec![created("breakout")])
            .when(TagCommand::Delete { tag_id: TAG })
            .then_expect_events(vec![TagEvent::TagDeleted { tag_id: TAG }]);
    }

    #[test]
    fn duplicate_names_bad_colours_and_unknown_tags_are_refused() {
        TestFramework::<TagSet>::with(())
            .given(vec![created("Breakout")])
            .when(TagCommand::Create {
                tag_id: Uuid::from_u128(2),
                name: "breakout".into(),
                colour: None,
            })
            .then_expect_error(invalid("name", "you already have a tag with this name"));
        TestFramework::<TagSet>::with(())
            .given_no_previous_events()
            .when(TagCommand::Create {
                tag_id: TAG,
                name: "x".into(),
                colour: Some("red".into()),
            })
            .then_expect_error(invalid("colour", "a colour like #6366f1"));
        TestFramework::<TagSet>::with(())
            .given_no_previous_events()
            .when(TagCommand::Delete { tag_id: TAG })
            .then_expect_error(TagError::NotFound);
    }
}
