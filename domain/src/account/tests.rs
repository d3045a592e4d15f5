use cqrs_es::test::TestFramework;
use time::macros::datetime;
use uuid::Uuid;

use super::*;

type AccountTest = TestFramework<Account>;

fn id() -> AccountId {
    AccountId::from_uuid(Uuid::from_u128(7))
}

fn registered() -> AccountEvent {
    AccountEvent::AccountRegistered {
        account_id: id(),
        email: Email::parse("ada@example.com").unwrap(),
        username: Username::parse("ada").unwrap(),
        password_hash: "$argon2id$fake".into(),
        registered_at: datetime!(2026-01-01 00:00 UTC),
    }
}

fn register() -> AccountCommand {
    AccountCommand::Register {
        account_id: id(),
        email: Email::parse("ada@example.com").unwrap(),
        username: Username::parse("ada").unwrap(),
        password_hash: "$argon2id$fake".into(),
        now: datetime!(2026-01-01 00:00 UTC),
    }
}

fn sign_in(password_matched: bool) -> AccountCommand {
    AccountCommand::RecordSignIn {
        password_matched,
        client_ip: Some("203.0.113.9".into()),
        now: datetime!(2026-01-02 12:00 UTC),
    }
}

#[test]
fn registering_a_new_account_records_it() {
    AccountTest::with(())
        .given_no_previous_events()
        .when(register())
        .then_expect_events(vec![registered()]);
}

#[test]
fn registering_twice_is_refused() {
    AccountTest::with(())
        .given(vec![registered()])
        .when(register())
        .then_expect_error(AccountError::AlreadyRegistered);
}

#[test]
fn a_matching_password_records_a_successful_login_with_the_address() {
    AccountTest::with(())
        .given(vec![registered()])
        .when(sign_in(true))
        .then_expect_events(vec![AccountEvent::LoginSucceeded {
            at: datetime!(2026-01-02 12:00 UTC),
            client_ip: Some("203.0.113.9".into()),
        }]);
}

#[test]
fn a_wrong_password_records_a_failure_counting_the_ones_before_it() {
    let failed = |n| AccountEvent::LoginFailed {
        at: datetime!(2026-01-02 12:00 UTC),
        client_ip: Some("203.0.113.9".into()),
        consecutive_failures: n,
    };
    AccountTest::with(())
        .given(vec![registered(), failed(1), failed(2)])
        .when(sign_in(false))
        .then_expect_events(vec![failed(3)]);
}

#[test]
fn a_success_resets_the_failure_count() {
    let mut account = Account::default();
    for event in [
        registered(),
        AccountEvent::LoginFailed {
            at: datetime!(2026-01-02 12:00 UTC),
            client_ip: None,
            consecutive_failures: 1,
        },
        AccountEvent::LoginSucceeded {
            at: datetime!(2026-01-02 12:01 UTC),
            client_ip: None,
        },
    ] {
        cqrs_es::Aggregate::apply(&mut account, event);
    }
    assert_eq!(account.consecutive_failures(), 0);
    assert_eq!(account.password_hash(), Some("$argon2id$fake"));
}

#[test]
fn signing_in_to_an_unregistered_account_is_refused() {
    AccountTest::with(())
        .given_no_previous_events()
        .when(sign_in(true))
        .then_expect_error(AccountError::NotRegistered);
}

#[test]
fn emails_are_normalised_and_checked() {
    assert_eq!(
        Email::parse("  Ada@Example.COM ").unwrap().as_str(),
        "ada@example.com"
    );
    for bad in [
        "",
        "ada",
        "ada@",
        "@example.com",
        "ada@example",
        "a b@example.com",
        "ada@@example.com",
        "ada@exa_mple.com",
        ".ada@example.com",
    ] {
        assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
    }
    assert_eq!(
        Email::parse(&format!("{}@example.com", "a".repeat(250))),
        Err(EmailError::TooLong)
    );
}

#[test]
fn usernames_follow_the_policy() {
    assert_eq!(Username::parse("Ada_99").unwrap().normalized(), "ada_99");
    assert_eq!(Username::parse("ab"), Err(UsernameError::Length));
    assert_eq!(Username::parse(&"a".repeat(31)), Err(UsernameError::Length));
    assert_eq!(
        Username::parse("ada-lovelace"),
        Err(UsernameError::Characters)
    );
    assert_eq!(Username::parse("adä"), Err(UsernameError::Characters));
}

#[test]
fn the_password_policy_is_enforced() {
    let cases: &[(&str, Result<(), PasswordError>)] = &[
        ("Sh0rt", Err(PasswordError::TooShort)),
        ("alllower1", Err(PasswordError::NoUppercase)),
        ("ALLUPPER1", Err(PasswordError::NoLowercase)),
        ("NoDigitsHere", Err(PasswordError::NoDigit)),
        ("Password1", Err(PasswordError::Common)),
        ("Qwerty123", Err(PasswordError::Common)),
        ("Correct-Horse-9", Ok(())),
        ("Ab1aaaaa", Ok(())),
    ];
    for (password, expected) in cases {
        assert_eq!(
            &Password::parse(password).map(|_| ()),
            expected,
            "{password}"
        );
    }
    let long = format!("Aa1{}", "x".repeat(126));
    assert_eq!(
        Password::parse(&long).map(|_| ()),
        Err(PasswordError::TooLong)
    );
    assert!(Password::parse(&format!("Aa1{}", "x".repeat(125))).is_ok());
    assert_eq!(
        format!("{:?}", Password::parse("Correct-Horse-9").unwrap()),
        "Password(***)"
    );
}

#[test]
fn a_registration_reports_every_bad_field() {
    let err = Registration::parse("nope", "x", "weak").unwrap_err();
    let fields: Vec<_> = err.fields.iter().map(|f| f.field).collect();
    assert_eq!(fields, ["email", "username", "password"]);
}
