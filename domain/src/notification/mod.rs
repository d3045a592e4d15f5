//! Notifications: what a push says, the per-message delivery record, and
//! each user's settings (topic, preferences, mutes).

mod broadcast;
mod delivery;
mod preferences;
mod push;
mod settings;
mod signal;

#[cfg(test)]
mod tests;

pub use broadcast::{
    Audience, Broadcast, BroadcastCommand, BroadcastContent, BroadcastError, BroadcastEvent,
    BroadcastId, BroadcastTemplate, TemplateCommand, TemplateError, TemplateEvent,
    parse_template_name,
};
pub use delivery::{
    FailureReason, Notification, NotificationCommand, NotificationError, NotificationEvent,
    Recipient,
};
pub use preferences::{
    Directions, Mutes, Preferences, PreferencesInput, QuietHours, TimeZoneName, Topic,
    parse_symbol, quiet_until,
};
pub use push::{Priority, Push, PushKind};
pub use settings::{
    MAX_MUTES, NotificationSettings, SettingsCommand, SettingsError, SettingsEvent,
};
pub use signal::{SignalAlert, TIMEFRAMES, pattern_abbreviation};
