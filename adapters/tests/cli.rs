//! The `cryptolens` binary as an operator uses it, against a fresh database
//! per test: help on every subcommand, one-line configuration errors, the
//! event log commands and the projection commands.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Output};

use sqlx::PgPool;

const BIN: &str = env!("CARGO_BIN_EXE_cryptolens");

/// `DATABASE_URL` pointed at the test's own database.
async fn database_url(pool: &PgPool) -> String {
    let name: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(pool)
        .await
        .unwrap();
    let base = std::env::var("DATABASE_URL").unwrap();
    let (server, _) = base.rsplit_once('/').unwrap();
    format!("{server}/{name}")
}

fn run(database_url: &str, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("DATABASE_URL", database_url)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Polls `check` (every 100 ms, for up to 20 s) until it gives a value.
fn until_ok<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// An account as the application records it: personal data sealed with
/// the account's key (kept in `personal_data_keys`).
async fn seed(pool: &PgPool) -> String {
    let id = "01890000-0000-7000-8000-000000000001";
    let account = uuid::Uuid::parse_str(id).unwrap();
    let key = commands::personal_data::new_key();
    sqlx::query("INSERT INTO personal_data_keys (account_id, key) VALUES ($1, $2)")
        .bind(account)
        .bind(&key)
        .execute(pool)
        .await
        .unwrap();
    let seal = |text: &str| {
        commands::personal_data::seal(&key, account, text)
            .unwrap()
            .sealed()
            .to_owned()
    };
    for (sequence, event_type, payload) in [
        (
            1,
            "AccountRegistered",
            serde_json::json!({"AccountRegistered": {"account_id": id, "email": seal("ada@example.com"), "username": seal("ada"), "password_hash": "x", "registered_at": "2026-01-01T00:00:00Z"}}),
        ),
        (
            2,
            "LoginSucceeded",
            serde_json::json!({"LoginSucceeded": {"at": "2026-01-02T00:00:00Z", "client_ip": seal("192.0.2.1")}}),
        ),
    ] {
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
             VALUES ('account', $1, $2, $3, '1.0', $4, '{\"actor\":\"system:test\",\"request_id\":\"r-1\"}')",
        )
        .bind(id)
        .bind(sequence)
        .bind(event_type)
        .bind(payload)
        .execute(pool)
        .await
        .unwrap();
    }
    id.to_owned()
}

#[test]
fn every_subcommand_has_help() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["events", "--help"],
        vec!["events", "show", "--help"],
        vec!["events", "tail", "--help"],
        vec!["projections", "--help"],
        vec!["projections", "status", "--help"],
        vec!["projections", "rebuild", "--help"],
        vec!["projections", "verify", "--help"],
        vec!["demo", "seed", "--help"],
        vec!["bench", "--help"],
    ] {
        let output = Command::new(BIN).args(&args).output().unwrap();
        assert!(output.status.success(), "{args:?}");
        assert!(stdout(&output).contains("Usage: cryptolens"), "{args:?}");
    }
}

#[test]
fn missing_configuration_is_one_clear_line() {
    let output = Command::new(BIN)
        .arg("migrate")
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: DATABASE_URL is not set"),
        "{stderr}"
    );

    let output = Command::new(BIN)
        .arg("serve")
        .env("DATABASE_URL", "postgres://root@127.0.0.1/x")
        .env("CRYPTOLENS_PROJECTOR__BATCH_SIZE", "0")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr.starts_with("error: CRYPTOLENS_PROJECTOR__BATCH_SIZE is invalid"),
        "{stderr}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn events_show_and_tail_tell_the_history_in_order(pool: PgPool) {
    let url = database_url(&pool).await;
    let id = seed(&pool).await;

    let shown = run(&url, &["events", "show", "account", &id]);
    assert!(shown.status.success());
    let text = stdout(&shown);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("#1")
            && lines[0].contains("position 1")
            && lines[0].contains("AccountRegistered v1.0"),
        "{text}"
    );
    assert!(
        lines[1].contains("payload") && lines[1].contains("ada@example.com"),
        "{text}"
    );
    assert!(
        lines[2].contains("metadata") && lines[2].contains("system:test"),
        "{text}"
    );
    assert!(
        lines[3].starts_with("#2") && lines[3].contains("LoginSucceeded"),
        "{text}"
    );

    let json = run(&url, &["events", "show", "account", &id, "--json"]);
    let entries: Vec<serde_json::Value> = stdout(&json)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1]["sequence"], 2);
    assert_eq!(entries[1]["metadata"]["request_id"], "r-1");

    let missing = run(&url, &["events", "show", "account", "nobody"]);
    assert_eq!(missing.status.code(), Some(1));

    // The fence is cluster-wide: parallel tests may hold it back a moment.
    let positions = until_ok("both events past the fence", || {
        let tail = run(&url, &["events", "tail", "--json"]);
        let positions: Vec<i64> = stdout(&tail)
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["global_position"]
                    .as_i64()
                    .unwrap()
            })
            .collect();
        (positions.len() == 2).then_some(positions)
    });
    assert_eq!(positions, [1, 2]);
    let from_two = run(&url, &["events", "tail", "--from", "2", "--json"]);
    assert_eq!(stdout(&from_two).lines().count(), 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn projections_status_rebuild_and_verify(pool: PgPool) {
    let url = database_url(&pool).await;
    seed(&pool).await;

    // The fence is cluster-wide: parallel tests may hold it back a moment.
    let rebuilt = until_ok("a rebuild that sees both events", || {
        let rebuilt = run(&url, &["projections", "rebuild", "accounts"]);
        assert!(
            rebuilt.status.success(),
            "{}",
            String::from_utf8_lossy(&rebuilt.stderr)
        );
        let out = stdout(&rebuilt);
        (!out.contains("rebuilt accounts: 0 events replayed")).then_some(out)
    });
    assert!(
        rebuilt.contains("rebuilt accounts: 2 events replayed"),
        "{rebuilt}"
    );
    let (username, logins): (String, i64) =
        sqlx::query_as("SELECT username, logins_succeeded FROM accounts_view")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((username.as_str(), logins), ("ada", 1));

    let status = run(&url, &["projections", "status"]);
    let line = stdout(&status)
        .lines()
        .find(|l| l.starts_with("accounts"))
        .map(str::to_owned)
        .unwrap();
    let columns: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(&columns[..4], ["accounts", "2", "2", "0"], "{line}");

    let clean = run(&url, &["projections", "verify", "accounts"]);
    assert!(clean.status.success());
    assert!(stdout(&clean).contains("accounts: 0 differing rows"));

    // Tamper with the read model: verify must notice and fail.
    sqlx::query("UPDATE accounts_view SET logins_succeeded = 7")
        .execute(&pool)
        .await
        .unwrap();
    let dirty = run(&url, &["projections", "verify", "accounts"]);
    assert_eq!(dirty.status.code(), Some(1));
    assert!(
        stdout(&dirty).contains("accounts_view: 2 differing rows"),
        "{}",
        stdout(&dirty)
    );

    let unknown = run(&url, &["projections", "verify", "nope"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no projection named \"nope\""));
}
