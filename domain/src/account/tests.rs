use cqrs_es::test::TestFramework;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::*;

type AccountTest = TestFramework<Account>;

const T0: OffsetDateTime = datetime!(2026-01-02 12:00 UTC);
const IP: &str = "203.0.113.9";

fn id() -> AccountId {
    AccountId::from_uuid(Uuid::from_u128(7))
}

fn token(hash: &str, expires_at: OffsetDateTime) -> IssuedToken {
    IssuedToken {
        id: Uuid::from_u128(3),
        hash: hash.into(),
        expires_at,
    }
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

fn verification_requested() -> AccountEvent {
    AccountEvent::EmailVerificationRequested {
        token_id: Uuid::from_u128(3),
        token_hash: "v".into(),
        expires_at: datetime!(2026-01-02 00:00 UTC),
    }
}

fn register() -> AccountCommand {
    AccountCommand::Register {
        account_id: id(),
        email: Email::parse("ada@example.com").unwrap(),
        username: Username::parse("ada").unwrap(),
        password_hash: "$argon2id$fake".into(),
        verification: token("v", datetime!(2026-01-02 00:00 UTC)),
        now: datetime!(2026-01-01 00:00 UTC),
    }
}

fn sign_in_at(password_matched: bool, now: OffsetDateTime) -> AccountCommand {
    AccountCommand::RecordSignIn {
        password_matched,
        client_ip: Some(IP.into()),
        now,
    }
}

fn sign_in(password_matched: bool) -> AccountCommand {
    sign_in_at(password_matched, T0)
}

fn failed(n: u32, reason: FailureReason, at: OffsetDateTime) -> AccountEvent {
    AccountEvent::LoginFailed {
        at,
        client_ip: Some(IP.into()),
        consecutive_failures: n,
        reason,
    }
}

fn succeeded(at: OffsetDateTime) -> AccountEvent {
    AccountEvent::LoginSucceeded {
        at,
        client_ip: Some(IP.into()),
    }
}

fn state(events: Vec<AccountEvent>) -> Account {
    let mut account = Account::default();
    for event in events {
        cqrs_es::Aggregate::apply(&mut account, event);
    }
    account
}

fn four_failures() -> Vec<AccountEvent> {
    let mut events = vec![registered(), verification_requested()];
    events.extend((1..=4).map(|n| failed(n, FailureReason::WrongPassword, T0)));
    events
}

fn enrolled() -> AccountEvent {
    AccountEvent::TwoFactorEnrolled {
        at: T0,
        step: 100,
        recovery_code_hashes: vec!["r1".into(), "r2".into()],
    }
}

#[test]
fn registering_records_the_account_and_asks_for_verification() {
    AccountTest::with(())
        .given_no_previous_events()
        .when(register())
        .then_expect_events(vec![registered(), verification_requested()]);
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
        .then_expect_events(vec![succeeded(T0)]);
}

#[test]
fn a_wrong_password_records_a_failure_counting_the_ones_before_it() {
    AccountTest::with(())
        .given(vec![
            registered(),
            failed(1, FailureReason::WrongPassword, T0),
            failed(2, FailureReason::WrongPassword, T0),
        ])
        .when(sign_in(false))
        .then_expect_events(vec![failed(3, FailureReason::WrongPassword, T0)]);
}

#[test]
fn the_fifth_failure_locks_the_account_for_fifteen_minutes() {
    AccountTest::with(())
        .given(four_failures())
        .when(sign_in(false))
        .then_expect_events(vec![
            failed(5, FailureReason::WrongPassword, T0),
            AccountEvent::AccountLocked {
                at: T0,
                until: T0 + Duration::minutes(15),
            },
        ]);
}

#[test]
fn a_locked_account_refuses_even_the_right_password_without_counting() {
    let mut events = four_failures();
    events.push(failed(5, FailureReason::WrongPassword, T0));
    events.push(AccountEvent::AccountLocked {
        at: T0,
        until: T0 + Duration::minutes(15),
    });
    let later = T0 + Duration::minutes(14);
    AccountTest::with(())
        .given(events.clone())
        .when(sign_in_at(true, later))
        .then_expect_events(vec![failed(5, FailureReason::Locked, later)]);
    // At 15 minutes the lock is lifted first, then the attempt is judged.
    let expired = T0 + Duration::minutes(15);
    AccountTest::with(())
        .given(events)
        .when(sign_in_at(true, expired))
        .then_expect_events(vec![
            AccountEvent::AccountUnlocked {
                at: expired,
                reason: UnlockReason::Expired,
            },
            succeeded(expired),
        ]);
}

#[test]
fn a_deactivated_account_cannot_sign_in() {
    AccountTest::with(())
        .given(vec![
            registered(),
            AccountEvent::AccountDeactivated { at: T0, by: None },
        ])
        .when(sign_in(true))
        .then_expect_events(vec![failed(0, FailureReason::Deactivated, T0)]);
}

#[test]
fn with_two_factor_the_password_only_opens_the_second_step() {
    AccountTest::with(())
        .given(vec![registered(), enrolled()])
        .when(sign_in(true))
        .then_expect_events(vec![AccountEvent::PasswordAccepted {
            at: T0,
            client_ip: Some(IP.into()),
        }]);
}

#[test]
fn a_totp_step_is_accepted_once_and_a_replay_counts_as_a_failure() {
    let code = |step| AccountCommand::RecordSecondFactor {
        factor: SecondFactor::Totp { step },
        client_ip: Some(IP.into()),
        now: T0,
    };
    AccountTest::with(())
        .given(vec![registered(), enrolled()])
        .when(code(101))
        .then_expect_events(vec![
            AccountEvent::TwoFactorCodeAccepted { at: T0, step: 101 },
            succeeded(T0),
        ]);
    AccountTest::with(())
        .given(vec![
            registered(),
            enrolled(),
            AccountEvent::TwoFactorCodeAccepted { at: T0, step: 101 },
        ])
        .when(code(101))
        .then_expect_events(vec![failed(1, FailureReason::ReplayedCode, T0)]);
}

#[test]
fn a_recovery_code_works_once() {
    let recovery = AccountCommand::RecordSecondFactor {
        factor: SecondFactor::RecoveryCode { hash: "r2".into() },
        client_ip: Some(IP.into()),
        now: T0,
    };
    let used = AccountEvent::RecoveryCodeUsed {
        at: T0,
        code_hash: "r2".into(),
    };
    AccountTest::with(())
        .given(vec![registered(), enrolled()])
        .when(recovery.clone())
        .then_expect_events(vec![used.clone(), succeeded(T0)]);
    AccountTest::with(())
        .given(vec![registered(), enrolled(), used])
        .when(recovery)
        .then_expect_events(vec![failed(1, FailureReason::WrongSecondFactor, T0)]);
}

#[test]
fn second_factor_failures_count_towards_the_lockout() {
    let mut events = four_failures();
    events.push(enrolled());
    AccountTest::with(())
        .given(events)
        .when(AccountCommand::RecordSecondFactor {
            factor: SecondFactor::Wrong,
            client_ip: Some(IP.into()),
            now: T0,
        })
        .then_expect_events(vec![
            failed(5, FailureReason::WrongSecondFactor, T0),
            AccountEvent::AccountLocked {
                at: T0,
                until: T0 + Duration::minutes(15),
            },
        ]);
}

#[test]
fn a_reset_token_works_once_and_not_after_it_expires() {
    let requested = AccountEvent::PasswordResetRequested {
        token_id: Uuid::from_u128(4),
        token_hash: "r".into(),
        expires_at: T0 + Duration::hours(1),
    };
    let reset = |hash: &str, now| AccountCommand::ResetPassword {
        token_hash: hash.into(),
        password_hash: "new".into(),
        now,
    };
    AccountTest::with(())
        .given(vec![registered(), requested.clone()])
        .when(reset("r", T0))
        .then_expect_events(vec![AccountEvent::PasswordReset {
            at: T0,
            password_hash: "new".into(),
        }]);
    AccountTest::with(())
        .given(vec![registered(), requested.clone()])
        .when(reset("r", T0 + Duration::hours(1)))
        .then_expect_error(AccountError::TokenExpired);
    AccountTest::with(())
        .given(vec![registered(), requested.clone()])
        .when(reset("other", T0))
        .then_expect_error(AccountError::InvalidToken);
    AccountTest::with(())
        .given(vec![
            registered(),
            requested,
            AccountEvent::PasswordReset {
                at: T0,
                password_hash: "new".into(),
            },
        ])
        .when(reset("r", T0))
        .then_expect_error(AccountError::InvalidToken);
}

#[test]
fn a_verification_link_verifies_once() {
    let verify = |now| AccountCommand::VerifyEmail {
        token_hash: "v".into(),
        now,
    };
    let early = datetime!(2026-01-01 12:00 UTC);
    AccountTest::with(())
        .given(vec![registered(), verification_requested()])
        .when(verify(early))
        .then_expect_events(vec![AccountEvent::EmailVerified {
            at: early,
            method: VerificationMethod::Link,
        }]);
    AccountTest::with(())
        .given(vec![registered(), verification_requested()])
        .when(verify(datetime!(2026-01-02 00:00 UTC)))
        .then_expect_error(AccountError::TokenExpired);
    AccountTest::with(())
        .given(vec![
            registered(),
            verification_requested(),
            AccountEvent::EmailVerified {
                at: early,
                method: VerificationMethod::Link,
            },
        ])
        .when(verify(early))
        .then_expect_error(AccountError::InvalidToken);
}

#[test]
fn an_admin_cannot_change_their_own_role_or_deactivate_themselves() {
    for action in [
        AdminAction::GrantAdmin,
        AdminAction::RevokeAdmin,
        AdminAction::Deactivate,
    ] {
        AccountTest::with(())
            .given(vec![
                registered(),
                AccountEvent::AdminRoleGranted { at: T0, by: None },
            ])
            .when(AccountCommand::Administer {
                action,
                by: Some(id()),
                now: T0,
            })
            .then_expect_error(AccountError::CannotActOnSelf);
    }
    let other = Some(AccountId::from_uuid(Uuid::from_u128(8)));
    AccountTest::with(())
        .given(vec![registered()])
        .when(AccountCommand::Administer {
            action: AdminAction::Deactivate,
            by: other,
            now: T0,
        })
        .then_expect_events(vec![AccountEvent::AccountDeactivated { at: T0, by: other }]);
}

#[test]
fn disabling_two_factor_needs_the_password() {
    AccountTest::with(())
        .given(vec![registered(), enrolled()])
        .when(AccountCommand::DisableTwoFactor {
            password_matched: false,
            now: T0,
        })
        .then_expect_error(AccountError::WrongPassword);
}

#[test]
fn a_success_resets_the_failure_count() {
    let account = state(vec![
        registered(),
        failed(1, FailureReason::WrongPassword, T0),
        succeeded(T0),
    ]);
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
