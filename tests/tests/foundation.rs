//! The foundation under load and failure, against real PostgreSQL with a
//! fresh database per test: exactly-once projection, crash between apply
//! and commit, competing runners, append-only log, blue/green rebuild.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use adapters::postgres::PgStores;
use adapters::projector::batch::{self, BeforeCommit};
use adapters::projector::rebuild;
use adapters::projector::runtime::{Runner, RunnerOptions};
use adapters::projector::status;
use adapters::projector::wake::Wake;
use adapters::read_models::accounts::AccountsProjection;
use commands::Metadata;
use commands::store::Repository;
use domain::account::{Account, AccountCommand, AccountId, Email, Username};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tests::{count_events, eventually};
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

fn register(id: Uuid) -> AccountCommand {
    let short = id.simple().to_string();
    AccountCommand::Register {
        account_id: AccountId::from_uuid(id),
        email: Email::parse(&format!("{short}@load.example")).unwrap(),
        username: Username::parse(&format!("u{}", &short[..24])).unwrap(),
        password_hash: "fake$x".into(),
        verification: domain::account::IssuedToken {
            id: Uuid::now_v7(),
            hash: "0".repeat(64),
            expires_at: OffsetDateTime::now_utc() + time::Duration::days(1),
        },
        now: OffsetDateTime::now_utc(),
    }
}

fn sign_in(ok: bool) -> AccountCommand {
    AccountCommand::RecordSignIn {
        password_matched: ok,
        client_ip: Some("192.0.2.7".into()),
        now: OffsetDateTime::now_utc(),
    }
}

/// `writers` tasks, each registering `accounts_each` accounts and then
/// signing in to them round-robin until it has executed `commands_each`
/// commands. Every third sign-in fails.
async fn write_load(pool: &PgPool, writers: usize, accounts_each: usize, commands_each: usize) {
    let repo = Arc::new(Repository::<Account, PgStores>::new(
        &PgStores::new(pool.clone()),
        None,
    ));
    let tasks = (0..writers).map(|_| {
        let repo = Arc::clone(&repo);
        tokio::spawn(async move {
            let meta = Metadata::system("load-test");
            let ids: Vec<Uuid> = (0..accounts_each).map(|_| Uuid::now_v7()).collect();
            for id in &ids {
                repo.execute(&id.to_string(), register(*id), &meta)
                    .await
                    .unwrap();
            }
            for n in 0..commands_each - accounts_each {
                let id = ids[n % ids.len()];
                repo.execute(&id.to_string(), sign_in(n % 3 != 0), &meta)
                    .await
                    .unwrap();
            }
        })
    });
    for task in futures::future::join_all(tasks).await {
        task.unwrap();
    }
}

fn runner(pool: &PgPool, before_commit: Option<BeforeCommit>) -> Runner {
    Runner::new(
        Arc::new(AccountsProjection),
        pool.clone(),
        Wake::default(),
        RunnerOptions {
            batch_size: 200,
            poll: Duration::from_millis(50),
            leadership_check: Duration::from_millis(100),
            before_commit,
        },
    )
}

async fn wait_caught_up(pool: &PgPool) {
    let pool = pool.clone();
    eventually(
        Duration::from_secs(60),
        "the projection to catch up",
        || {
            let pool = pool.clone();
            async move {
                let s = status::status(&pool, "accounts").await.ok()?;
                (s.lag_events == 0 && s.events_seen > 0).then_some(())
            }
        },
    )
    .await;
}

/// Each account row must equal what its own events say, and every event
/// must have been seen exactly once by the checkpoint.
async fn assert_exactly_once(pool: &PgPool) {
    let mismatched: i64 = sqlx::query_scalar(
        "WITH truth AS (
            SELECT aggregate_id::uuid AS id,
                   count(*) FILTER (WHERE event_type = 'LoginSucceeded') AS ok,
                   count(*) FILTER (WHERE event_type = 'LoginFailed') AS bad,
                   max(sequence) AS last_seq
              FROM events WHERE aggregate_type = 'account' GROUP BY aggregate_id)
         SELECT count(*) FROM truth FULL JOIN accounts_view v ON v.account_id = truth.id
          WHERE v.account_id IS NULL OR truth.id IS NULL
             OR v.logins_succeeded <> truth.ok OR v.logins_failed <> truth.bad
             OR v.last_seq <> truth.last_seq",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(mismatched, 0, "rows that disagree with their events");
    let seen: i64 = sqlx::query_scalar(
        "SELECT events_seen FROM projection_checkpoints WHERE projection = 'accounts'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(
        seen,
        count_events(pool).await,
        "every event is read exactly once"
    );
    let report = rebuild::verify(pool, &AccountsProjection, 1000)
        .await
        .unwrap();
    assert_eq!(
        report.total(),
        0,
        "live projection differs from a fresh rebuild: {report:?}"
    );
}

async fn bigger_pool(options: PgPoolOptions, connect: PgConnectOptions) -> PgPool {
    options
        .max_connections(16)
        .connect_with(connect)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn eight_writers_while_the_projector_runs_reach_the_projection_exactly_once(
    options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let pool = bigger_pool(options, connect).await;
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(runner(&pool, None).run(shutdown.clone()));

    write_load(&pool, 8, 40, 500).await;
    // Each registration records two events (registered, verification requested).
    assert_eq!(count_events(&pool).await, 8 * (500 + 40));

    wait_caught_up(&pool).await;
    let (rows, ok, bad): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*), sum(logins_succeeded)::bigint, sum(logins_failed)::bigint FROM accounts_view",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    // Per writer: 460 sign-ins, of which n % 3 == 0 fail: 154 failures.
    assert_eq!((rows, ok, bad), (8 * 40, 8 * 306, 8 * 154));
    assert_exactly_once(&pool).await;
    shutdown.cancel();
    running.await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn a_projector_failing_between_apply_and_commit_loses_and_doubles_nothing(pool: PgPool) {
    write_load(&pool, 4, 10, 60).await;
    batch::ensure_checkpoint(&pool, "accounts").await.unwrap();

    // The crash: the batch was applied inside the transaction, then the
    // process fails before the commit.
    let crash: BeforeCommit = Arc::new(|_| anyhow::bail!("simulated crash before commit"));
    let failed = batch::run_batch(&pool, &AccountsProjection, 100, Some(&crash)).await;
    assert!(failed.is_err());
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM accounts_view")
        .fetch_one(&pool)
        .await
        .unwrap();
    let checkpoint: i64 = sqlx::query_scalar(
        "SELECT last_pos FROM projection_checkpoints WHERE projection = 'accounts'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        (rows, checkpoint),
        (0, 0),
        "the failed batch left nothing behind"
    );

    // A runner that crashes on its first three batches, then recovers:
    // the runtime retries, and every batch lands exactly once.
    let failures = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&failures);
    let flaky: BeforeCommit = Arc::new(move |_| {
        if counter.fetch_add(1, Ordering::SeqCst) < 3 {
            anyhow::bail!("simulated crash before commit")
        }
        Ok(())
    });
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(runner(&pool, Some(flaky)).run(shutdown.clone()));
    wait_caught_up(&pool).await;
    assert!(
        failures.load(Ordering::SeqCst) >= 4,
        "the flaky runner failed and then committed"
    );

    // More writes after the restart are picked up too.
    write_load(&pool, 2, 5, 20).await;
    wait_caught_up(&pool).await;
    assert_exactly_once(&pool).await;
    shutdown.cancel();
    running.await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn of_two_runners_only_one_leads_and_a_stale_one_cannot_double_apply(
    options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let pool = bigger_pool(options, connect).await;
    let shutdown = CancellationToken::new();
    let first = runner(&pool, None);
    let second = runner(&pool, None);
    let (first_leads, second_leads) = (first.leading(), second.leading());
    let a = tokio::spawn(first.run(shutdown.clone()));
    let b = tokio::spawn(second.run(shutdown.clone()));
    let (fl, sl) = (Arc::clone(&first_leads), Arc::clone(&second_leads));
    eventually(Duration::from_secs(10), "a leader", || {
        let (fl, sl) = (Arc::clone(&fl), Arc::clone(&sl));
        async move { (fl.load(Ordering::SeqCst) || sl.load(Ordering::SeqCst)).then_some(()) }
    })
    .await;

    // A stale runner that believes it leads (no lock) races the real one
    // batch for batch while writers are busy.
    let stale_stop = CancellationToken::new();
    let stale_pool = pool.clone();
    let stale_token = stale_stop.clone();
    let stale = tokio::spawn(async move {
        let mut applied = 0;
        while !stale_token.is_cancelled() {
            applied += batch::run_batch(&stale_pool, &AccountsProjection, 50, None)
                .await
                .unwrap();
            tokio::task::yield_now().await;
        }
        applied
    });
    write_load(&pool, 6, 20, 150).await;
    wait_caught_up(&pool).await;
    stale_stop.cancel();
    let stale_applied = stale.await.unwrap();

    let leaders = [&first_leads, &second_leads]
        .iter()
        .filter(|l| l.load(Ordering::SeqCst))
        .count();
    assert_eq!(leaders, 1, "exactly one runner holds the projection");
    assert_exactly_once(&pool).await;
    assert!(
        stale_applied > 0,
        "the stale runner did compete for batches"
    );
    shutdown.cancel();
    a.await.unwrap();
    b.await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn the_event_log_rejects_update_delete_and_truncate(pool: PgPool) {
    write_load(&pool, 1, 1, 2).await;
    for statement in [
        "UPDATE events SET payload = '{}'",
        "DELETE FROM events",
        "TRUNCATE events",
    ] {
        let error = sqlx::query(statement).execute(&pool).await.unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains("events is append-only"),
            "{statement}: {message}"
        );
    }
    assert_eq!(count_events(&pool).await, 3);
    let (position, tx_set, recorded): (i64, bool, bool) = sqlx::query_as(
        "SELECT min(global_position), bool_and(transaction_id IS NOT NULL), bool_and(recorded_at <= now()) FROM events",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(position >= 1 && tx_set && recorded);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_rebuild_swaps_in_identical_tables_while_writes_continue(
    options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let pool = bigger_pool(options, connect).await;
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(runner(&pool, None).run(shutdown.clone()));
    write_load(&pool, 4, 20, 100).await;
    wait_caught_up(&pool).await;

    let writes = {
        let pool = pool.clone();
        tokio::spawn(async move { write_load(&pool, 2, 10, 100).await })
    };
    let progress_calls = AtomicUsize::new(0);
    let report = rebuild::rebuild(&pool, &AccountsProjection, 100, &|done, total| {
        assert!(done <= total);
        progress_calls.fetch_add(1, Ordering::SeqCst);
    })
    .await
    .unwrap();
    assert!(report.events >= 400);
    assert!(progress_calls.load(Ordering::SeqCst) > 1);
    writes.await.unwrap();
    wait_caught_up(&pool).await;

    let leftovers: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'accounts_view__%'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(leftovers, 0, "the shadow table was renamed into place");
    assert_exactly_once_after_rebuild(&pool).await;
    shutdown.cancel();
    running.await.unwrap();
}

/// After a rebuild the checkpoint counts the replay, not the original run,
/// so compare rows and the fresh replay only.
async fn assert_exactly_once_after_rebuild(pool: &PgPool) {
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM accounts_view")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(rows, 4 * 20 + 2 * 10);
    let report = rebuild::verify(pool, &AccountsProjection, 1000)
        .await
        .unwrap();
    assert_eq!(report.total(), 0, "{report:?}");
}

#[sqlx::test(migrations = "../migrations")]
async fn the_fenced_reader_never_skips_events_that_commit_out_of_order(pool: PgPool) {
    // A writer holds its transaction open after inserting; a later writer
    // commits first. A reader ordered by global_position alone would move
    // past the first event; the fenced reader waits for it.
    let mut slow = pool.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         VALUES ('probe', 'slow', 1, 'Probe', '1.0', '{}', '{}')",
    )
    .execute(&mut *slow)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         VALUES ('probe', 'fast', 1, 'Probe', '1.0', '{}', '{}')",
    )
    .execute(&pool)
    .await
    .unwrap();

    let mut conn = pool.acquire().await.unwrap();
    let start = adapters::postgres::event_log::Position::start();
    let before = adapters::postgres::event_log::read_after(&mut conn, &start, 100, None, None)
        .await
        .unwrap();
    assert!(
        before.is_empty(),
        "nothing is safe to read while an older transaction is open"
    );

    slow.commit().await.unwrap();
    let after = adapters::postgres::event_log::read_after(&mut conn, &start, 100, None, None)
        .await
        .unwrap();
    let ids: Vec<_> = after
        .iter()
        .map(|r| r.event.aggregate_id.as_str())
        .collect();
    assert_eq!(
        ids,
        ["slow", "fast"],
        "commit order by transaction, nothing skipped"
    );
}
