//! `cryptolens bench`: the write path against a raw-INSERT baseline, and
//! projector replay throughput, measured in one run on one scratch
//! database (created next to `DATABASE_URL`'s and dropped afterwards).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use commands::Metadata;
use commands::store::Repository;
use domain::account::{Account, AccountCommand, AccountId};
use indicatif::{ProgressBar, ProgressStyle};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::config::Config;
use crate::postgres::{self, PgStores};
use crate::projector::batch;
use crate::read_models::accounts::AccountsProjection;

const BENCH_KEY: [u8; 32] = [7; 32];

#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Seconds per measurement (each concurrency level, each side).
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
    /// Events in the log for the replay measurement (at least this many).
    #[arg(long, default_value_t = 200_000)]
    pub replay_events: u64,
    /// Concurrency levels of the write measurement.
    #[arg(long, value_delimiter = ',', default_value = "1,8,32")]
    pub writers: Vec<usize>,
    /// Keep the scratch database afterwards.
    #[arg(long)]
    pub keep: bool,
    #[command(subcommand)]
    pub target: Option<BenchTarget>,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum BenchTarget {
    /// Market: detection and aggregation throughput, and the live pipeline.
    Market(crate::market::bench::MarketBenchArgs),
}

struct Sample {
    ops: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Sample {
    fn per_second(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let index = ((self.latencies.len() - 1) as f64 * p).round() as usize;
        self.latencies[index.min(self.latencies.len() - 1)]
    }
}

async fn measure<F, Fut>(writers: usize, seconds: u64, op: F) -> anyhow::Result<Sample>
where
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let op = Arc::new(op);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut handles = Vec::new();
    for writer in 0..writers {
        let op = Arc::clone(&op);
        handles.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut n = 0;
            while Instant::now() < deadline {
                let t = Instant::now();
                op(writer, n).await?;
                latencies.push(t.elapsed());
                n += 1;
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for handle in handles {
        latencies.extend(handle.await??);
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    Ok(Sample {
        ops: latencies.len(),
        elapsed,
        latencies,
    })
}

fn register(id: Uuid) -> anyhow::Result<AccountCommand> {
    let short = id.simple().to_string();
    Ok(AccountCommand::Register {
        account_id: AccountId::from_uuid(id),
        // Sealed with a throwaway key: the write path does not open them.
        email: commands::personal_data::seal(&BENCH_KEY, id, &format!("{short}@bench.example"))
            .context("sealing")?,
        username: commands::personal_data::seal(&BENCH_KEY, id, &format!("b{}", &short[..20]))
            .context("sealing")?,
        // A cheap command: the hash is precomputed, nothing is hashed.
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$YmVuY2hzYWx0$YmVuY2hoYXNo".to_owned(),
        verification: domain::account::IssuedToken {
            id: Uuid::now_v7(),
            hash: "0".repeat(64),
            expires_at: OffsetDateTime::now_utc() + domain::account::VERIFICATION_TTL,
        },
        now: OffsetDateTime::now_utc(),
    })
}

/// Ten events per account: registered (email and username sealed with the
/// account's personal-data key, as the application records them), then
/// sign-ins with a sealed client address.
const SEED_EVENTS: &str = r#"
INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
SELECT 'account', acc.id::text, s,
       CASE WHEN s = 1 THEN 'AccountRegistered' WHEN s % 3 = 0 THEN 'LoginFailed' ELSE 'LoginSucceeded' END,
       '1.0',
       CASE WHEN s = 1 THEN jsonb_build_object('AccountRegistered', jsonb_build_object(
                'account_id', acc.id, 'email', acc.email,
                'username', acc.username, 'password_hash', 'x', 'registered_at', '2026-01-01T00:00:00Z'))
            WHEN s % 3 = 0 THEN jsonb_build_object('LoginFailed', jsonb_build_object(
                'at', '2026-01-02T00:00:00Z', 'client_ip', acc.ip, 'consecutive_failures', 1))
            ELSE jsonb_build_object('LoginSucceeded', jsonb_build_object(
                'at', '2026-01-02T00:00:00Z', 'client_ip', acc.ip)) END,
       '{"actor":"system:bench"}'::jsonb
  FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) AS acc(id, email, username, ip),
       generate_series(1, 10) AS s"#;

/// Seeded accounts `from..=to`: ids, keys and sealed personal data.
/// Seeded accounts: ids, their keys, and sealed emails, usernames and addresses.
type Seed = (Vec<Uuid>, Vec<Vec<u8>>, [Vec<String>; 3]);

fn seed_accounts(from: i64, to: i64) -> anyhow::Result<Seed> {
    let mut ids = Vec::new();
    let mut keys = Vec::new();
    let mut sealed: [Vec<String>; 3] = Default::default();
    for a in from..=to {
        let id = Uuid::now_v7();
        let key = commands::personal_data::new_key();
        for (column, text) in sealed.iter_mut().zip([
            format!("seed{a}@bench.example"),
            format!("seed{a}"),
            "192.0.2.1".to_owned(),
        ]) {
            let value = commands::personal_data::seal(&key, id, &text).context("sealing")?;
            column.push(value.sealed().to_owned());
        }
        ids.push(id);
        keys.push(key);
    }
    Ok((ids, keys, sealed))
}

pub async fn run(config: &Config, args: BenchArgs) -> anyhow::Result<()> {
    if let Some(BenchTarget::Market(market)) = &args.target {
        return crate::market::bench::run(config, market).await;
    }
    with_scratch_database(config, args.keep, |pool| async move {
        bench(&pool, &args).await
    })
    .await
}

/// Runs `work` on a scratch database created next to `DATABASE_URL`'s and
/// dropped afterwards (unless `keep`).
pub async fn with_scratch_database<F, Fut>(
    config: &Config,
    keep: bool,
    work: F,
) -> anyhow::Result<()>
where
    F: FnOnce(PgPool) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let base: PgConnectOptions = config.database_url.parse().context("DATABASE_URL")?;
    let scratch = format!("cryptolens_bench_{}", std::process::id());
    let mut admin = base
        .clone()
        .database("postgres")
        .connect()
        .await
        .context("connecting to create the scratch database")?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {scratch}"))
        .execute(&mut admin)
        .await?;
    sqlx::query(&format!("CREATE DATABASE {scratch}"))
        .execute(&mut admin)
        .await
        .context("creating the scratch database (needs CREATEDB)")?;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(40)
        .connect_with(base.clone().database(&scratch))
        .await?;
    let result = work(pool.clone()).await;
    pool.close().await;
    if !keep {
        sqlx::query(&format!("DROP DATABASE IF EXISTS {scratch} WITH (FORCE)"))
            .execute(&mut admin)
            .await?;
    }
    result
}

async fn bench(pool: &PgPool, args: &BenchArgs) -> anyhow::Result<()> {
    postgres::migrate(pool).await?;
    sqlx::query("CREATE TABLE bench_inserts (LIKE events INCLUDING ALL)")
        .execute(pool)
        .await?;
    let version: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(pool)
        .await?;
    let fsync: String = sqlx::query_scalar("SHOW fsync").fetch_one(pool).await?;
    let sync_commit: String = sqlx::query_scalar("SHOW synchronous_commit")
        .fetch_one(pool)
        .await?;
    println!(
        "machine: {} cores, PostgreSQL {version} (fsync={fsync}, synchronous_commit={sync_commit}), {}s per measurement",
        std::thread::available_parallelism().map_or(0, usize::from),
        args.seconds
    );
    println!();
    println!(
        "write path: commands vs single-row INSERT transactions into a table of the events table's shape"
    );
    println!("  create = Register of a new account (no hashing; optimistic create, no load)");
    println!("  update = RecordSignIn on an existing account (load its history, decide, append)");
    println!(
        "{:>8} {:>8} {:>12} {:>10} {:>10} {:>12} {:>10} {:>10} {:>7}",
        "writers",
        "command",
        "commands/s",
        "p50 ms",
        "p99 ms",
        "inserts/s",
        "p50 ms",
        "p99 ms",
        "ratio"
    );
    let repository = Arc::new(Repository::<Account, PgStores>::new(
        &PgStores::new(pool.clone()),
        None,
    ));
    let payload = serde_json::to_value(domain::account::AccountEvent::LoginSucceeded {
        at: OffsetDateTime::now_utc(),
        client_ip: commands::personal_data::seal(&BENCH_KEY, Uuid::nil(), "192.0.2.1"),
    })?;
    let metadata = Metadata::system("bench");
    let metadata_json = serde_json::to_value(metadata.to_map())?;
    for &writers in &args.writers {
        let insert_pool = pool.clone();
        let (p, m) = (payload.clone(), metadata_json.clone());
        let baseline = measure(writers, args.seconds, move |writer, n| {
            let (pool, p, m) = (insert_pool.clone(), p.clone(), m.clone());
            async move {
                sqlx::query(
                    "INSERT INTO bench_inserts (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
                     VALUES ('account', $1, 1, 'AccountRegistered', '1.0', $2, $3)",
                )
                .bind(format!("{writer}-{n}-{}", Uuid::now_v7()))
                .bind(p)
                .bind(m)
                .execute(&pool)
                .await?;
                Ok(())
            }
        })
        .await?;
        let repo = Arc::clone(&repository);
        let meta = metadata.clone();
        let creates = measure(writers, args.seconds, move |_, _| {
            let (repo, meta) = (Arc::clone(&repo), meta.clone());
            async move {
                let id = Uuid::now_v7();
                repo.create(&id.to_string(), register(id)?, &meta)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))
            }
        })
        .await?;
        // Each writer signs in round-robin to its own 200 accounts.
        let mut owned = Vec::new();
        for _ in 0..writers {
            let mut ids = Vec::new();
            for _ in 0..200 {
                let id = Uuid::now_v7();
                repository
                    .create(&id.to_string(), register(id)?, &metadata)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                ids.push(id.to_string());
            }
            owned.push(ids);
        }
        let owned = Arc::new(owned);
        let repo = Arc::clone(&repository);
        let meta = metadata.clone();
        let updates = measure(writers, args.seconds, move |writer, n| {
            let (repo, meta, owned) = (Arc::clone(&repo), meta.clone(), Arc::clone(&owned));
            async move {
                let id = &owned[writer][n % owned[writer].len()];
                let command = AccountCommand::RecordSignIn {
                    password_matched: n % 4 != 0,
                    client_ip: commands::personal_data::seal(&BENCH_KEY, Uuid::nil(), "192.0.2.1"),
                    now: OffsetDateTime::now_utc(),
                };
                repo.execute(id, command, &meta)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))
            }
        })
        .await?;
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        for (label, commands) in [("create", &creates), ("update", &updates)] {
            println!(
                "{:>8} {:>8} {:>12.0} {:>10.2} {:>10.2} {:>12.0} {:>10.2} {:>10.2} {:>7.2}",
                writers,
                label,
                commands.per_second(),
                ms(commands.percentile(0.5)),
                ms(commands.percentile(0.99)),
                baseline.per_second(),
                ms(baseline.percentile(0.5)),
                ms(baseline.percentile(0.99)),
                commands.per_second() / baseline.per_second()
            );
        }
    }

    println!();
    let existing: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(pool)
        .await?;
    let wanted = i64::try_from(args.replay_events).unwrap_or(i64::MAX);
    let accounts = ((wanted - existing).max(0) + 9) / 10;
    let seed = ProgressBar::new(u64::try_from(accounts).unwrap_or(0)).with_style(
        ProgressStyle::with_template("seeding the log [{bar:40}] {pos}/{len} accounts")?
            .progress_chars("=> "),
    );
    let chunk = 2_000;
    let mut from = 1;
    while from <= accounts {
        let to = (from + chunk - 1).min(accounts);
        let (ids, keys, [emails, usernames, ips]) = seed_accounts(from, to)?;
        sqlx::query("INSERT INTO personal_data_keys (account_id, key) SELECT * FROM unnest($1::uuid[], $2::bytea[])")
            .bind(&ids)
            .bind(&keys)
            .execute(pool)
            .await?;
        sqlx::query(SEED_EVENTS)
            .bind(&ids)
            .bind(emails)
            .bind(usernames)
            .bind(ips)
            .execute(pool)
            .await?;
        seed.set_position(u64::try_from(to).unwrap_or(0));
        from = to + 1;
    }
    seed.finish_and_clear();
    sqlx::query("ANALYZE events").execute(pool).await?;
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(pool)
        .await?;
    println!(
        "projector replay of the accounts projection over {total} events (set-based batches, one transaction each)"
    );
    println!("{:>8} {:>12} {:>10}", "batch", "events/s", "seconds");
    let projection = AccountsProjection;
    for batch_size in [1_000i64, 5_000] {
        sqlx::query("TRUNCATE accounts_view").execute(pool).await?;
        sqlx::query("DELETE FROM projection_checkpoints WHERE projection = 'accounts'")
            .execute(pool)
            .await?;
        let started = Instant::now();
        let read = batch::catch_up(pool, &projection, batch_size).await?;
        let elapsed = started.elapsed();
        println!(
            "{:>8} {:>12.0} {:>10.2}",
            batch_size,
            read as f64 / elapsed.as_secs_f64(),
            elapsed.as_secs_f64()
        );
    }
    Ok(())
}
