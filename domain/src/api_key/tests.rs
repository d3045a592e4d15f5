use cqrs_es::test::TestFramework;
use time::macros::datetime;
use uuid::Uuid;

use super::*;

type KeyTest = TestFramework<ApiKey>;

const OWNER: Uuid = Uuid::from_u128(1);

fn issue(name: &str, scopes: Vec<ApiScope>) -> ApiKeyCommand {
    ApiKeyCommand::Issue {
        key_id: Uuid::from_u128(9),
        owner: OWNER,
        name: name.into(),
        secret_hash: "h".into(),
        scopes,
        expires_at: Some(datetime!(2026-02-01 00:00 UTC)),
        now: datetime!(2026-01-01 00:00 UTC),
    }
}

fn issued() -> ApiKeyEvent {
    ApiKeyEvent::ApiKeyIssued {
        key_id: Uuid::from_u128(9),
        owner: OWNER,
        name: "bot".into(),
        secret_hash: "h".into(),
        scopes: vec![ApiScope::ReadMarket, ApiScope::ReadSignals],
        expires_at: Some(datetime!(2026-02-01 00:00 UTC)),
        issued_at: datetime!(2026-01-01 00:00 UTC),
    }
}

#[test]
fn a_key_is_issued_with_sorted_distinct_scopes_and_a_trimmed_name() {
    KeyTest::with(())
        .given_no_previous_events()
        .when(issue(
            " bot ",
            vec![
                ApiScope::ReadSignals,
                ApiScope::ReadMarket,
                ApiScope::ReadSignals,
            ],
        ))
        .then_expect_events(vec![issued()]);
}

#[test]
fn a_key_needs_a_name_and_a_scope() {
    KeyTest::with(())
        .given_no_previous_events()
        .when(issue("  ", vec![ApiScope::ReadMarket]))
        .then_expect_error(ApiKeyError::BadName);
    KeyTest::with(())
        .given_no_previous_events()
        .when(issue("bot", vec![]))
        .then_expect_error(ApiKeyError::NoScopes);
}

#[test]
fn only_the_owner_revokes_and_only_once() {
    let revoke = |by| ApiKeyCommand::Revoke {
        by,
        now: datetime!(2026-01-02 00:00 UTC),
    };
    KeyTest::with(())
        .given(vec![issued()])
        .when(revoke(Uuid::from_u128(2)))
        .then_expect_error(ApiKeyError::NotFound);
    KeyTest::with(())
        .given(vec![issued()])
        .when(revoke(OWNER))
        .then_expect_events(vec![ApiKeyEvent::ApiKeyRevoked {
            at: datetime!(2026-01-02 00:00 UTC),
        }]);
    KeyTest::with(())
        .given(vec![
            issued(),
            ApiKeyEvent::ApiKeyRevoked {
                at: datetime!(2026-01-02 00:00 UTC),
            },
        ])
        .when(revoke(OWNER))
        .then_expect_error(ApiKeyError::AlreadyRevoked);
}

#[test]
fn a_key_is_usable_until_it_expires_or_is_revoked() {
    let mut key = ApiKey::default();
    cqrs_es::Aggregate::apply(&mut key, issued());
    assert!(key.is_usable(datetime!(2026-01-31 23:59 UTC)));
    assert!(!key.is_usable(datetime!(2026-02-01 00:00 UTC)));
    cqrs_es::Aggregate::apply(
        &mut key,
        ApiKeyEvent::ApiKeyRevoked {
            at: datetime!(2026-01-02 00:00 UTC),
        },
    );
    assert!(!key.is_usable(datetime!(2026-01-03 00:00 UTC)));
    assert_eq!(
        ApiScope::parse("write:portfolio"),
        Ok(ApiScope::WritePortfolio)
    );
    assert!(ApiScope::parse("admin").is_err());
}
