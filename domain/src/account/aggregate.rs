//! The account's decision logic and the state it is rebuilt from.

use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::command::{AccountCommand, AdminAction, IssuedToken, SecondFactor};
use super::error::AccountError;
use super::event::{AccountEvent, FailureReason, UnlockReason, VerificationMethod};
use super::values::{AccountId, Email};
use super::{LOCKOUT_DURATION, LOCKOUT_THRESHOLD};

/// A token that is outstanding: its hash and expiry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct PendingToken {
    hash: String,
    expires_at: OffsetDateTime,
}

impl PendingToken {
    fn from_event(token_hash: String, expires_at: OffsetDateTime) -> Self {
        Self {
            hash: token_hash,
            expires_at,
        }
    }

    fn check(pending: Option<&Self>, hash: &str, now: OffsetDateTime) -> Result<(), AccountError> {
        match pending {
            Some(token) if token.hash == hash && now < token.expires_at => Ok(()),
            Some(token) if token.hash == hash => Err(AccountError::TokenExpired),
            _ => Err(AccountError::InvalidToken),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct TwoFactor {
    last_step: u64,
    recovery_code_hashes: Vec<String>,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    id: Option<AccountId>,
    email: Option<Email>,
    password_hash: String,
    consecutive_failures: u32,
    locked_until: Option<OffsetDateTime>,
    verified: bool,
    deactivated: bool,
    admin: bool,
    verification: Option<PendingToken>,
    reset: Option<PendingToken>,
    two_factor: Option<TwoFactor>,
}

/// The part of a sign-in outcome the caller acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInState {
    SignedIn,
    SecondFactorRequired,
    Failed,
}

impl Account {
    pub fn id(&self) -> Option<AccountId> {
        self.id
    }

    pub fn is_registered(&self) -> bool {
        self.id.is_some()
    }

    pub fn email(&self) -> Option<&Email> {
        self.email.as_ref()
    }

    pub fn password_hash(&self) -> Option<&str> {
        self.id.map(|_| self.password_hash.as_str())
    }

    pub fn consecutive_failures(&self) -> u32 {
        self.consecutive_failures
    }

    pub fn locked_until(&self) -> Option<OffsetDateTime> {
        self.locked_until
    }

    pub fn is_locked(&self, now: OffsetDateTime) -> bool {
        self.locked_until.is_some_and(|until| now < until)
    }

    pub fn is_verified(&self) -> bool {
        self.verified
    }

    pub fn is_active(&self) -> bool {
        self.is_registered() && !self.deactivated
    }

    pub fn is_admin(&self) -> bool {
        self.admin
    }

    pub fn has_two_factor(&self) -> bool {
        self.two_factor.is_some()
    }

    /// The newest TOTP step used (enrolment or sign-in), if 2FA is on.
    pub fn last_totp_step(&self) -> Option<u64> {
        self.two_factor.as_ref().map(|t| t.last_step)
    }

    pub fn unused_recovery_codes(&self) -> usize {
        self.two_factor
            .as_ref()
            .map_or(0, |t| t.recovery_code_hashes.len())
    }

    fn registered(&self) -> Result<AccountId, AccountError> {
        self.id.ok_or(AccountError::NotRegistered)
    }

    /// The events before judging an attempt: an expired lock is lifted.
    fn lift_expired_lock(&self, now: OffsetDateTime) -> Vec<AccountEvent> {
        match self.locked_until {
            Some(until) if now >= until => vec![AccountEvent::AccountUnlocked {
                at: now,
                reason: UnlockReason::Expired,
            }],
            _ => Vec::new(),
        }
    }

    /// A failed attempt, and the lock it may trigger.
    fn failure(
        &self,
        reason: FailureReason,
        client_ip: Option<String>,
        now: OffsetDateTime,
        failures_so_far: u32,
    ) -> Vec<AccountEvent> {
        let consecutive_failures = if reason.counts() {
            failures_so_far.saturating_add(1)
        } else {
            failures_so_far
        };
        let mut events = vec![AccountEvent::LoginFailed {
            at: now,
            client_ip,
            consecutive_failures,
            reason,
        }];
        if reason.counts() && consecutive_failures >= LOCKOUT_THRESHOLD {
            events.push(AccountEvent::AccountLocked {
                at: now,
                until: now + LOCKOUT_DURATION,
            });
        }
        events
    }

    /// Judges a sign-in step. `matched` is `Ok(success events)` when the
    /// credential matched, or `Err(reason)` when it did not.
    fn attempt(
        &self,
        matched: Result<Vec<AccountEvent>, FailureReason>,
        client_ip: Option<String>,
        now: OffsetDateTime,
    ) -> Vec<AccountEvent> {
        let mut events = self.lift_expired_lock(now);
        let failures = if events.is_empty() {
            self.consecutive_failures
        } else {
            0
        };
        let blocked = if self.deactivated {
            Some(FailureReason::Deactivated)
        } else if self.is_locked(now) {
            Some(FailureReason::Locked)
        } else {
            None
        };
        match (blocked, matched) {
            (Some(reason), _) | (None, Err(reason)) => {
                events.extend(self.failure(reason, client_ip, now, failures));
            }
            (None, Ok(success)) => events.extend(success),
        }
        events
    }

    fn second_factor(
        &self,
        factor: SecondFactor,
        client_ip: Option<String>,
        now: OffsetDateTime,
    ) -> Result<Vec<AccountEvent>, AccountError> {
        let two_factor = self
            .two_factor
            .as_ref()
            .ok_or(AccountError::TwoFactorNotEnabled)?;
        let signed_in = AccountEvent::LoginSucceeded {
            at: now,
            client_ip: client_ip.clone(),
        };
        let matched = match factor {
            SecondFactor::Totp { step } if step > two_factor.last_step => Ok(vec![
                AccountEvent::TwoFactorCodeAccepted { at: now, step },
                signed_in,
            ]),
            SecondFactor::Totp { .. } => Err(FailureReason::ReplayedCode),
            SecondFactor::RecoveryCode { hash }
                if two_factor.recovery_code_hashes.contains(&hash) =>
            {
                Ok(vec![
                    AccountEvent::RecoveryCodeUsed {
                        at: now,
                        code_hash: hash,
                    },
                    signed_in,
                ])
            }
            SecondFactor::RecoveryCode { .. } | SecondFactor::Wrong => {
                Err(FailureReason::WrongSecondFactor)
            }
        };
        Ok(self.attempt(matched, client_ip, now))
    }

    fn administer(
        &self,
        action: AdminAction,
        by: Option<AccountId>,
        now: OffsetDateTime,
    ) -> Result<Vec<AccountEvent>, AccountError> {
        let id = self.registered()?;
        let on_self = by == Some(id);
        let event = match action {
            AdminAction::GrantAdmin | AdminAction::RevokeAdmin | AdminAction::Deactivate
                if on_self =>
            {
                return Err(AccountError::CannotActOnSelf);
            }
            AdminAction::GrantAdmin => {
                (!self.admin).then_some(AccountEvent::AdminRoleGranted { at: now, by })
            }
            AdminAction::RevokeAdmin => self
                .admin
                .then_some(AccountEvent::AdminRoleRevoked { at: now, by }),
            AdminAction::Deactivate => {
                (!self.deactivated).then_some(AccountEvent::AccountDeactivated { at: now, by })
            }
            AdminAction::Reactivate => self
                .deactivated
                .then_some(AccountEvent::AccountReactivated { at: now, by }),
            AdminAction::Verify => (!self.verified).then_some(AccountEvent::EmailVerified {
                at: now,
                method: VerificationMethod::Admin,
            }),
            AdminAction::Unlock => {
                self.locked_until
                    .is_some()
                    .then_some(AccountEvent::AccountUnlocked {
                        at: now,
                        reason: UnlockReason::Admin,
                    })
            }
        };
        Ok(event.into_iter().collect())
    }

    fn decide(&self, command: AccountCommand) -> Result<Vec<AccountEvent>, AccountError> {
        if let AccountCommand::Register {
            account_id,
            email,
            username,
            password_hash,
            verification,
            now,
        } = command
        {
            if self.is_registered() {
                return Err(AccountError::AlreadyRegistered);
            }
            return Ok(vec![
                AccountEvent::AccountRegistered {
                    account_id,
                    email,
                    username,
                    password_hash,
                    registered_at: now,
                },
                verification_requested(verification),
            ]);
        }
        self.registered()?;
        Ok(match command {
            AccountCommand::Register { .. } => Vec::new(),
            AccountCommand::RecordSignIn {
                password_matched,
                client_ip,
                now,
            } => {
                let success = if self.two_factor.is_some() {
                    AccountEvent::PasswordAccepted {
                        at: now,
                        client_ip: client_ip.clone(),
                    }
                } else {
                    AccountEvent::LoginSucceeded {
                        at: now,
                        client_ip: client_ip.clone(),
                    }
                };
                let matched = if password_matched {
                    Ok(vec![success])
                } else {
                    Err(FailureReason::WrongPassword)
                };
                self.attempt(matched, client_ip, now)
            }
            AccountCommand::RecordSecondFactor {
                factor,
                client_ip,
                now,
            } => self.second_factor(factor, client_ip, now)?,
            AccountCommand::RequestVerification { token } => {
                if self.verified {
                    return Err(AccountError::AlreadyVerified);
                }
                vec![verification_requested(token)]
            }
            AccountCommand::VerifyEmail { token_hash, now } => {
                PendingToken::check(self.verification.as_ref(), &token_hash, now)?;
                vec![AccountEvent::EmailVerified {
                    at: now,
                    method: VerificationMethod::Link,
                }]
            }
            AccountCommand::RequestPasswordReset { token } => {
                if self.deactivated {
                    return Err(AccountError::Deactivated);
                }
                vec![AccountEvent::PasswordResetRequested {
                    token_id: token.id,
                    token_hash: token.hash,
                    expires_at: token.expires_at,
                }]
            }
            AccountCommand::ResetPassword {
                token_hash,
                password_hash,
                now,
            } => {
                if self.deactivated {
                    return Err(AccountError::Deactivated);
                }
                PendingToken::check(self.reset.as_ref(), &token_hash, now)?;
                let mut events = vec![AccountEvent::PasswordReset {
                    at: now,
                    password_hash,
                }];
                if self.locked_until.is_some() {
                    events.push(AccountEvent::AccountUnlocked {
                        at: now,
                        reason: UnlockReason::PasswordReset,
                    });
                }
                events
            }
            AccountCommand::ChangePassword {
                current_matched,
                password_hash,
                now,
            } => {
                if !current_matched {
                    return Err(AccountError::WrongPassword);
                }
                vec![AccountEvent::PasswordChanged {
                    at: now,
                    password_hash,
                }]
            }
            AccountCommand::EnrollTwoFactor {
                step,
                recovery_code_hashes,
                now,
            } => {
                if self.two_factor.is_some() {
                    return Err(AccountError::TwoFactorAlreadyEnabled);
                }
                vec![AccountEvent::TwoFactorEnrolled {
                    at: now,
                    step,
                    recovery_code_hashes,
                }]
            }
            AccountCommand::DisableTwoFactor {
                password_matched,
                now,
            } => {
                if self.two_factor.is_none() {
                    return Err(AccountError::TwoFactorNotEnabled);
                }
                if !password_matched {
                    return Err(AccountError::WrongPassword);
                }
                vec![AccountEvent::TwoFactorDisabled { at: now }]
            }
            AccountCommand::RecordSessionsRevoked {
                reason,
                sessions,
                now,
            } => vec![AccountEvent::SessionsRevoked {
                at: now,
                reason,
                sessions,
            }],
            AccountCommand::Administer { action, by, now } => self.administer(action, by, now)?,
        })
    }
}

fn verification_requested(token: IssuedToken) -> AccountEvent {
    AccountEvent::EmailVerificationRequested {
        token_id: token.id,
        token_hash: token.hash,
        expires_at: token.expires_at,
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
        for event in self.decide(command)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            AccountEvent::AccountRegistered {
                account_id,
                email,
                password_hash,
                ..
            } => {
                self.id = Some(account_id);
                self.email = Some(email);
                self.password_hash = password_hash;
            }
            AccountEvent::LoginSucceeded { .. } => self.consecutive_failures = 0,
            AccountEvent::LoginFailed {
                consecutive_failures,
                ..
            } => self.consecutive_failures = consecutive_failures,
            AccountEvent::PasswordAccepted { .. } => {}
            AccountEvent::AccountLocked { until, .. } => self.locked_until = Some(until),
            AccountEvent::AccountUnlocked { .. } => {
                self.locked_until = None;
                self.consecutive_failures = 0;
            }
            AccountEvent::EmailVerificationRequested {
                token_hash,
                expires_at,
                ..
            } => self.verification = Some(PendingToken::from_event(token_hash, expires_at)),
            AccountEvent::EmailVerified { .. } => {
                self.verified = true;
                self.verification = None;
            }
            AccountEvent::PasswordResetRequested {
                token_hash,
                expires_at,
                ..
            } => self.reset = Some(PendingToken::from_event(token_hash, expires_at)),
            AccountEvent::PasswordReset { password_hash, .. } => {
                self.password_hash = password_hash;
                self.reset = None;
                self.consecutive_failures = 0;
            }
            AccountEvent::PasswordChanged { password_hash, .. } => {
                self.password_hash = password_hash;
                self.reset = None;
            }
            AccountEvent::TwoFactorEnrolled {
                step,
                recovery_code_hashes,
                ..
            } => {
                self.two_factor = Some(TwoFactor {
                    last_step: step,
                    recovery_code_hashes,
                });
            }
            AccountEvent::TwoFactorDisabled { .. } => self.two_factor = None,
            AccountEvent::TwoFactorCodeAccepted { step, .. } => {
                if let Some(two_factor) = &mut self.two_factor {
                    two_factor.last_step = two_factor.last_step.max(step);
                }
            }
            AccountEvent::RecoveryCodeUsed { code_hash, .. } => {
                if let Some(two_factor) = &mut self.two_factor {
                    two_factor.recovery_code_hashes.retain(|h| *h != code_hash);
                }
            }
            AccountEvent::AdminRoleGranted { .. } => self.admin = true,
            AccountEvent::AdminRoleRevoked { .. } => self.admin = false,
            AccountEvent::AccountDeactivated { .. } => self.deactivated = true,
            AccountEvent::AccountReactivated { .. } => self.deactivated = false,
            AccountEvent::SessionsRevoked { .. } => {}
        }
    }
}

impl Account {
    /// How the newest sign-in step ended, judged from the events it produced.
    pub fn sign_in_state(events: &[AccountEvent]) -> SignInState {
        match events.last() {
            Some(AccountEvent::LoginSucceeded { .. }) => SignInState::SignedIn,
            Some(AccountEvent::PasswordAccepted { .. }) => SignInState::SecondFactorRequired,
            _ => SignInState::Failed,
        }
    }
}
