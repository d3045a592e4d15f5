//! The `accounts` projection: one row per registered account with its
//! sign-in counters and its security state (verified, active, admin, 2FA,
//! locked until), which the HTTP layer reads on every authenticated request.

use std::collections::BTreeMap;

use domain::account::AccountEvent;
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{ProjectionError, RecordedEvent};

pub const NAME: &str = "accounts";
pub const TABLE: &str = "accounts_view";
pub const EVENT_TYPES: &[&str] = &[
    AccountEvent::REGISTERED,
    AccountEvent::LOGIN_SUCCEEDED,
    AccountEvent::LOGIN_FAILED,
    AccountEvent::LOCKED,
    AccountEvent::UNLOCKED,
    AccountEvent::VERIFIED,
    AccountEvent::PASSWORD_RESET,
    AccountEvent::TWO_FACTOR_ENROLLED,
    AccountEvent::TWO_FACTOR_DISABLED,
    AccountEvent::ADMIN_GRANTED,
    AccountEvent::ADMIN_REVOKED,
    AccountEvent::DEACTIVATED,
    AccountEvent::REACTIVATED,
];

/// A row of `accounts_view`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountView {
    pub account_id: Uuid,
    pub username: String,
    pub email: String,
    #[serde(with = "time::serde::rfc3339")]
    pub registered_at: OffsetDateTime,
    pub logins_succeeded: i64,
    pub logins_failed: i64,
    pub consecutive_failures: i32,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_login_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_failed_login_at: Option<OffsetDateTime>,
    pub verified: bool,
    pub active: bool,
    pub is_admin: bool,
    pub two_factor_enabled: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    pub locked_until: Option<OffsetDateTime>,
}

/// A row to insert.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAccount {
    pub account_id: Uuid,
    pub username: String,
    pub email: String,
    pub registered_at: OffsetDateTime,
    pub sequence: i64,
}

/// The sign-in activity of one account within a batch, to add to its row.
/// Applied only when the row has not yet seen `first_sequence`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AccountActivity {
    pub account_id: Uuid,
    pub first_sequence: i64,
    pub last_sequence: i64,
    pub logins_succeeded: i64,
    pub logins_failed: i64,
    /// `None`: unchanged by this batch.
    pub consecutive_failures: Option<i32>,
    pub last_login_at: Option<OffsetDateTime>,
    pub last_failed_login_at: Option<OffsetDateTime>,
    pub verified: Option<bool>,
    pub active: Option<bool>,
    pub is_admin: Option<bool>,
    pub two_factor_enabled: Option<bool>,
    /// `None`: unchanged; `Some(None)`: unlocked; `Some(Some(t))`: locked until `t`.
    pub locked_until: Option<Option<OffsetDateTime>>,
}

/// Everything a batch changes, ready for two set-based statements.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AccountChanges {
    pub new_accounts: Vec<NewAccount>,
    pub activity: Vec<AccountActivity>,
}

/// Folds a batch (in global order) into row changes.
pub fn changes(events: &[RecordedEvent]) -> Result<AccountChanges, ProjectionError> {
    let mut new_accounts = Vec::new();
    let mut activity: BTreeMap<Uuid, AccountActivity> = BTreeMap::new();
    for event in events.iter().filter(|e| e.aggregate_type == "account") {
        let account_id =
            Uuid::parse_str(&event.aggregate_id).map_err(|_| ProjectionError::BadAggregateId {
                position: event.global_position,
                aggregate_id: event.aggregate_id.clone(),
            })?;
        match event.decode::<AccountEvent>()? {
            AccountEvent::AccountRegistered {
                email,
                username,
                registered_at,
                ..
            } => new_accounts.push(NewAccount {
                account_id,
                username: username.as_str().to_owned(),
                email: email.as_str().to_owned(),
                registered_at,
                sequence: event.sequence,
            }),
            AccountEvent::LoginSucceeded { at, .. } => {
                let row = touch(&mut activity, account_id, event.sequence);
                row.logins_succeeded += 1;
                row.consecutive_failures = Some(0);
                row.last_login_at = Some(at);
            }
            AccountEvent::LoginFailed {
                at,
                consecutive_failures,
                ..
            } => {
                let row = touch(&mut activity, account_id, event.sequence);
                row.logins_failed += 1;
                row.consecutive_failures =
                    Some(i32::try_from(consecutive_failures).unwrap_or(i32::MAX));
                row.last_failed_login_at = Some(at);
            }
            AccountEvent::AccountLocked { until, .. } => {
                touch(&mut activity, account_id, event.sequence).locked_until = Some(Some(until));
            }
            AccountEvent::AccountUnlocked { .. } => {
                let row = touch(&mut activity, account_id, event.sequence);
                row.locked_until = Some(None);
                row.consecutive_failures = Some(0);
            }
            AccountEvent::PasswordReset { .. } => {
                touch(&mut activity, account_id, event.sequence).consecutive_failures = Some(0);
            }
            AccountEvent::EmailVerified { .. } => {
                touch(&mut activity, account_id, event.sequence).verified = Some(true);
            }
            AccountEvent::TwoFactorEnrolled { .. } => {
                touch(&mut activity, account_id, event.sequence).two_factor_enabled = Some(true);
            }
            AccountEvent::TwoFactorDisabled { .. } => {
                touch(&mut activity, account_id, event.sequence).two_factor_enabled = Some(false);
            }
            AccountEvent::AdminRoleGranted { .. } => {
                touch(&mut activity, account_id, event.sequence).is_admin = Some(true);
            }
            AccountEvent::AdminRoleRevoked { .. } => {
                touch(&mut activity, account_id, event.sequence).is_admin = Some(false);
            }
            AccountEvent::AccountDeactivated { .. } => {
                touch(&mut activity, account_id, event.sequence).active = Some(false);
            }
            AccountEvent::AccountReactivated { .. } => {
                touch(&mut activity, account_id, event.sequence).active = Some(true);
            }
            // Not part of this view.
            AccountEvent::PasswordAccepted { .. }
            | AccountEvent::EmailVerificationRequested { .. }
            | AccountEvent::PasswordResetRequested { .. }
            | AccountEvent::PasswordChanged { .. }
            | AccountEvent::TwoFactorCodeAccepted { .. }
            | AccountEvent::RecoveryCodeUsed { .. }
            | AccountEvent::SessionsRevoked { .. } => {}
        }
    }
    Ok(AccountChanges {
        new_accounts,
        activity: activity.into_values().collect(),
    })
}

fn touch(
    activity: &mut BTreeMap<Uuid, AccountActivity>,
    account_id: Uuid,
    sequence: i64,
) -> &mut AccountActivity {
    let row = activity
        .entry(account_id)
        .or_insert_with(|| AccountActivity {
            account_id,
            first_sequence: sequence,
            ..AccountActivity::default()
        });
    row.last_sequence = sequence;
    row
}

#[cfg(test)]
mod tests {
    use domain::account::{AccountId, Email, Username};
    use serde_json::json;
    use time::macros::datetime;

    use super::*;

    fn recorded(position: i64, id: Uuid, sequence: i64, event: &AccountEvent) -> RecordedEvent {
        let payload = serde_json::to_value(event).unwrap();
        // Externally tagged: the only key is the variant, i.e. the event type.
        let event_type = payload.as_object().unwrap().keys().next().unwrap().clone();
        RecordedEvent {
            global_position: position,
            aggregate_type: "account".into(),
            aggregate_id: id.to_string(),
            sequence,
            event_type,
            event_version: "1.0".into(),
            payload,
            metadata: json!({}),
            recorded_at: datetime!(2026-01-01 00:00 UTC),
        }
    }

    #[test]
    fn a_batch_folds_into_one_insert_and_one_delta_per_account() {
        let id = Uuid::from_u128(9);
        let registered = AccountEvent::AccountRegistered {
            account_id: AccountId::from_uuid(id),
            email: Email::parse("ada@example.com").unwrap(),
            username: Username::parse("Ada").unwrap(),
            password_hash: "x".into(),
            registered_at: datetime!(2026-01-01 00:00 UTC),
        };
        let failed = AccountEvent::LoginFailed {
            at: datetime!(2026-01-01 00:01 UTC),
            client_ip: None,
            consecutive_failures: 1,
            reason: domain::account::FailureReason::WrongPassword,
        };
        let ok = AccountEvent::LoginSucceeded {
            at: datetime!(2026-01-01 00:02 UTC),
            client_ip: None,
        };
        let events = [
            recorded(1, id, 1, &registered),
            recorded(2, id, 2, &failed),
            recorded(3, id, 3, &ok),
        ];
        let changes = changes(&events).unwrap();
        assert_eq!(changes.new_accounts.len(), 1);
        assert_eq!(changes.new_accounts[0].username, "Ada");
        assert_eq!(
            changes.activity,
            vec![AccountActivity {
                account_id: id,
                first_sequence: 2,
                last_sequence: 3,
                logins_succeeded: 1,
                logins_failed: 1,
                consecutive_failures: Some(0),
                last_login_at: Some(datetime!(2026-01-01 00:02 UTC)),
                last_failed_login_at: Some(datetime!(2026-01-01 00:01 UTC)),
                ..AccountActivity::default()
            }]
        );
    }

    #[test]
    fn an_undecodable_payload_is_an_error_naming_the_position() {
        let mut event = recorded(
            42,
            Uuid::from_u128(1),
            1,
            &AccountEvent::LoginSucceeded {
                at: datetime!(2026-01-01 00:00 UTC),
                client_ip: None,
            },
        );
        event.payload = json!({"Nonsense": {}});
        let error = changes(&[event]).unwrap_err();
        assert!(
            error.to_string().starts_with("event 42 (LoginSucceeded)"),
            "{error}"
        );
    }
}
