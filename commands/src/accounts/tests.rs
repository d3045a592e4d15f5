use std::sync::Arc;

use cqrs_es::EventStore;

use domain::account::{FieldError, RegistrationInvalid};
use time::macros::datetime;

use super::*;
use crate::password::FakePasswordHasher;
use crate::ports::{Clock, TotpSecrets};
use crate::ports::{FakeClock, MemTotpSecrets};
use crate::store::{EventStores, MemStores};
use crate::tokens::{TokenKey, TokenPurpose};
use crate::totp;
use crate::{CommandError, Metadata};

fn deps(clock: Arc<FakeClock>) -> AccountDeps {
    AccountDeps {
        hasher: Arc::new(FakePasswordHasher),
        clock,
        claim_keys: ClaimKeys::new(vec![7; 32]).unwrap(),
        token_key: TokenKey::new(vec![8; 32]).unwrap(),
        totp_secrets: Arc::new(MemTotpSecrets::default()),
    }
}

fn clock() -> Arc<FakeClock> {
    Arc::new(FakeClock::at(datetime!(2026-03-01 10:00 UTC)))
}

fn service(stores: &MemStores) -> AccountService<MemStores> {
    AccountService::new(stores, None, deps(clock()))
}

fn meta() -> Metadata {
    Metadata {
        client_ip: Some("198.51.100.4".into()),
        ..Metadata::system("test")
    }
}

#[tokio::test]
async fn a_registered_account_can_sign_in() {
    let stores = MemStores::default();
    let service = service(&stores);
    let id = service
        .register_account("Ada@Example.com", "ada", "Correct-Horse-9", &meta())
        .await
        .unwrap();
    let outcome = service
        .sign_in("ada@example.com", "Correct-Horse-9", &meta())
        .await
        .unwrap();
    assert_eq!(outcome, SignInOutcome::SignedIn { account_id: id });
}

#[tokio::test]
async fn a_taken_email_or_username_is_refused_whatever_its_case() {
    let stores = MemStores::default();
    let service = service(&stores);
    service
        .register_account("ada@example.com", "ada", "Correct-Horse-9", &meta())
        .await
        .unwrap();
    let again = service
        .register_account("ADA@example.com", "other", "Correct-Horse-9", &meta())
        .await;
    assert!(matches!(
        again,
        Err(CommandError::Rejected(RegistrationError::EmailTaken))
    ));
    let same_name = service
        .register_account("bob@example.com", "ADA", "Correct-Horse-9", &meta())
        .await;
    assert!(matches!(
        same_name,
        Err(CommandError::Rejected(RegistrationError::UsernameTaken))
    ));
    // The email claimed by the refused attempt was released again.
    service
        .register_account("bob@example.com", "bob", "Correct-Horse-9", &meta())
        .await
        .unwrap();
}

#[tokio::test]
async fn invalid_fields_are_all_reported() {
    let stores = MemStores::default();
    let result = service(&stores)
        .register_account("not-an-email", "ab", "short", &meta())
        .await;
    let Err(CommandError::Rejected(RegistrationError::Invalid(RegistrationInvalid { fields }))) =
        result
    else {
        panic!("expected field errors, got {result:?}");
    };
    let names: Vec<_> = fields
        .iter()
        .map(|FieldError { field, .. }| *field)
        .collect();
    assert_eq!(names, ["email", "username", "password"]);
}

#[tokio::test]
async fn wrong_password_and_unknown_email_fail_alike() {
    let stores = MemStores::default();
    let service = service(&stores);
    let id = service
        .register_account("ada@example.com", "ada", "Correct-Horse-9", &meta())
        .await
        .unwrap();
    let wrong = service
        .sign_in("ada@example.com", "Wrong-Horse-9", &meta())
        .await
        .unwrap();
    let unknown = service
        .sign_in("eve@example.com", "Correct-Horse-9", &meta())
        .await
        .unwrap();
    assert_eq!(wrong, SignInOutcome::Failed);
    assert_eq!(unknown, SignInOutcome::Failed);
    let account = service.accounts().load(&id.to_string()).await.unwrap();
    assert_eq!(account.consecutive_failures(), 1);
}

#[derive(Default)]
struct CountCommits(std::sync::atomic::AtomicUsize);

impl crate::store::CommitObserver for CountCommits {
    fn committed(&self, _type: &'static str, _id: &str, events: usize) {
        self.0
            .fetch_add(events, std::sync::atomic::Ordering::SeqCst);
    }
}

#[tokio::test]
async fn signing_in_records_nothing_for_an_unknown_account() {
    let stores = MemStores::default();
    let commits = Arc::new(CountCommits::default());
    let service = AccountService::new(&stores, Some(commits.clone()), deps(clock()));
    let outcome = service
        .sign_in("eve@example.com", "Correct-Horse-9", &meta())
        .await;
    assert!(matches!(outcome, Ok(SignInOutcome::Failed)));
    assert_eq!(commits.0.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_user_with_two_factor_signs_in_with_a_code_once_and_a_recovery_code_once() {
    let stores = MemStores::default();
    let clock = clock();
    let secrets = Arc::new(MemTotpSecrets::default());
    let service = AccountService::new(
        &stores,
        None,
        AccountDeps {
            totp_secrets: secrets.clone(),
            ..deps(clock.clone())
        },
    );
    let id = service
        .register_account("ada@example.com", "ada", "Correct-Horse-9", &meta())
        .await
        .unwrap();
    service.begin_two_factor(id, "ada").await.unwrap();
    let secret = secrets.load(id.as_uuid()).await.unwrap().unwrap();
    let now = || u64::try_from(clock.now().unix_timestamp()).unwrap();
    let code = totp::code_at(&secret, 6, now()).unwrap();
    let recovery = service
        .confirm_two_factor(id, &code, &meta())
        .await
        .unwrap();
    assert_eq!(recovery.len(), 10);

    let first = service
        .sign_in("ada@example.com", "Correct-Horse-9", &meta())
        .await
        .unwrap();
    assert_eq!(
        first,
        SignInOutcome::SecondFactorRequired { account_id: id }
    );
    // The enrolment code's step is used up.
    assert_eq!(
        service.complete_sign_in(id, &code, &meta()).await.unwrap(),
        SignInOutcome::Failed
    );
    clock.advance(time::Duration::seconds(30));
    let next = totp::code_at(&secret, 6, now()).unwrap();
    assert_eq!(
        service.complete_sign_in(id, &next, &meta()).await.unwrap(),
        SignInOutcome::SignedIn { account_id: id }
    );
    assert_eq!(
        service
            .complete_sign_in(id, &recovery[3], &meta())
            .await
            .unwrap(),
        SignInOutcome::SignedIn { account_id: id }
    );
    assert_eq!(
        service
            .complete_sign_in(id, &recovery[3], &meta())
            .await
            .unwrap(),
        SignInOutcome::Failed
    );
}

#[tokio::test]
async fn a_reset_link_sets_a_new_password_once() {
    let stores = MemStores::default();
    let service = service(&stores);
    let id = service
        .register_account("ada@example.com", "ada", "Correct-Horse-9", &meta())
        .await
        .unwrap();
    service
        .request_password_reset("ADA@example.com", &meta())
        .await
        .unwrap();
    service
        .request_password_reset("nobody@example.com", &meta())
        .await
        .unwrap();
    let events = stores
        .store::<domain::account::Account>()
        .load_events(&id.to_string())
        .await
        .unwrap();
    let token_id = events
        .iter()
        .find_map(|e| match &e.payload {
            domain::account::AccountEvent::PasswordResetRequested { token_id, .. } => {
                Some(*token_id)
            }
            _ => None,
        })
        .unwrap();
    let token = TokenKey::new(vec![8; 32])
        .unwrap()
        .derive(TokenPurpose::PasswordReset, token_id);
    service
        .reset_password(id, &token, "Brand-New-Pass-7", &meta())
        .await
        .unwrap();
    assert!(matches!(
        service
            .reset_password(id, &token, "Another-Pass-8", &meta())
            .await,
        Err(CommandError::Rejected(PasswordChangeError::Account(
            domain::account::AccountError::InvalidToken
        )))
    ));
    assert_eq!(
        service
            .sign_in("ada@example.com", "Brand-New-Pass-7", &meta())
            .await
            .unwrap(),
        SignInOutcome::SignedIn { account_id: id }
    );
}
