use std::sync::Arc;

use domain::account::{FieldError, RegistrationInvalid};
use time::macros::datetime;

use super::*;
use crate::password::FakePasswordHasher;
use crate::ports::FakeClock;
use crate::store::MemStores;
use crate::{CommandError, Metadata};

fn service(stores: &MemStores) -> AccountService<MemStores> {
    AccountService::new(
        stores,
        None,
        Arc::new(FakePasswordHasher),
        Arc::new(FakeClock::at(datetime!(2026-03-01 10:00 UTC))),
        ClaimKeys::new(vec![7; 32]).unwrap(),
    )
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
    assert_eq!(outcome, SignInOutcome::Succeeded { account_id: id });
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
    let service = AccountService::new(
        &stores,
        Some(commits.clone()),
        Arc::new(FakePasswordHasher),
        Arc::new(FakeClock::at(datetime!(2026-03-01 10:00 UTC))),
        ClaimKeys::new(vec![7; 32]).unwrap(),
    );
    let outcome = service
        .sign_in("eve@example.com", "Correct-Horse-9", &meta())
        .await;
    assert!(matches!(outcome, Ok(SignInOutcome::Failed)));
    assert_eq!(commits.0.load(std::sync::atomic::Ordering::SeqCst), 0);
}
