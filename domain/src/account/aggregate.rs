//! The account's decision logic and the state it is rebuilt from.

use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};

use super::command::AccountCommand;
use super::error::AccountError;
use super::event::AccountEvent;
use super::values::AccountId;

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    id: Option<AccountId>,
    password_hash: String,
    consecutive_failures: u32,
}

impl Account {
    pub fn id(&self) -> Option<AccountId> {
        self.id
    }

    pub fn is_registered(&self) -> bool {
        self.id.is_some()
    }

    pub fn password_hash(&self) -> Option<&str> {
        self.id.map(|_| self.password_hash.as_str())
    }

    pub fn consecutive_failures(&self) -> u32 {
        self.consecutive_failures
    }
}

impl Aggregate for Account {
    const TYPE: &'static str = "account";
    type Command = AccountCommand;
    type Event = AccountEvent;
    type Error = AccountError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        match command {
            AccountCommand::Register {
                account_id,
                email,
                username,
                password_hash,
                now,
            } => {
                if self.is_registered() {
                    return Err(AccountError::AlreadyRegistered);
                }
                let event = AccountEvent::AccountRegistered {
                    account_id,
                    email,
                    username,
                    password_hash,
                    registered_at: now,
                };
                sink.write(event, self).await;
            }
            AccountCommand::RecordSignIn {
                password_matched,
                client_ip,
                now,
            } => {
                if !self.is_registered() {
                    return Err(AccountError::NotRegistered);
                }
                let event = if password_matched {
                    AccountEvent::LoginSucceeded { at: now, client_ip }
                } else {
                    AccountEvent::LoginFailed {
                        at: now,
                        client_ip,
                        consecutive_failures: self.consecutive_failures.saturating_add(1),
                    }
                };
                sink.write(event, self).await;
            }
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            AccountEvent::AccountRegistered {
                account_id,
                password_hash,
                ..
            } => {
                self.id = Some(account_id);
                self.password_hash = password_hash;
            }
            AccountEvent::LoginSucceeded { .. } => self.consecutive_failures = 0,
            AccountEvent::LoginFailed {
                consecutive_failures,
                ..
            } => self.consecutive_failures = consecutive_failures,
        }
    }
}
