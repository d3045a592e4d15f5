//! Preferences and per-symbol mutes, validated before anything is recorded.

use domain::account::{AccountId, FieldError};
use domain::notification::{Mutes, Preferences, PreferencesInput, SettingsCommand, parse_symbol};

use super::topic::reject;
use super::{NotificationService, SettingsRejection};
use crate::store::EventStores;
use crate::{CommandError, Metadata};

type Result<T> = std::result::Result<T, CommandError<SettingsRejection>>;

impl<S: EventStores> NotificationService<S> {
    #[tracing::instrument(skip_all, fields(%user))]
    pub async fn update_preferences(
        &self,
        user: AccountId,
        input: &PreferencesInput,
        metadata: &Metadata,
    ) -> Result<Preferences> {
        let preferences = Preferences::parse(input)
            .map_err(|fields| CommandError::Rejected(SettingsRejection::Invalid(fields)))?;
        self.settings(user, metadata).await?;
        self.settings
            .execute(
                &user.to_string(),
                SettingsCommand::UpdatePreferences {
                    preferences: preferences.clone(),
                },
                metadata,
            )
            .await
            .map_err(reject)?;
        Ok(preferences)
    }

    /// Mutes (`mute = true`) or unmutes a symbol; returns the muted list.
    #[tracing::instrument(skip_all, fields(%user, mute))]
    pub async fn set_muted(
        &self,
        user: AccountId,
        symbol: &str,
        mute: bool,
        metadata: &Metadata,
    ) -> Result<Mutes> {
        let symbol = parse_symbol(symbol).ok_or_else(|| {
            CommandError::Rejected(SettingsRejection::Invalid(vec![FieldError {
                field: "symbol",
                message: "must be a pair such as BTC/USDT".to_owned(),
            }]))
        })?;
        let command = if mute {
            SettingsCommand::Mute { symbol }
        } else {
            SettingsCommand::Unmute { symbol }
        };
        let id = user.to_string();
        self.settings
            .execute(&id, command, metadata)
            .await
            .map_err(reject)?;
        Ok(self
            .settings
            .load(&id)
            .await
            .map_err(reject)?
            .muted()
            .clone())
    }
}
