//! Helpers for the notification tests: a randomised topology per test (and
//! its removal), messages, the dead-letter queue, and the test's own AMQP
//! connections as `rabbitmqctl` sees them.

use std::time::Duration;

use adapters::notify::config::NotifyConfig;
use adapters::notify::message::PushMessage;
use adapters::notify::publisher::{Attempts, Outgoing, Publisher, Route};
use adapters::notify::topology;
use domain::market::tracker::{ClosedBy, Outcome, PatternKey, SignalLevels};
use domain::market::{Direction, PatternType, Symbol, Timeframe};
use domain::notification::{Priority, Push, PushKind};
use domain::signal::{SignalEvent, SignalFacts};
use lapin::options::{BasicAckOptions, BasicGetOptions};
use lapin::types::AMQPValue;
use lapin::{Connection, ConnectionProperties};
use uuid::Uuid;

use crate::amqp_url;

/// Notification settings with a random prefix (`test.<uuid>`), short retry
/// delays and timeouts, pointed at `ntfy_url`; `extra` overrides any variable.
pub fn notify_config(ntfy_url: &str, extra: &[(&str, &str)]) -> NotifyConfig {
    let prefix = format!("test.{}", Uuid::now_v7().simple());
    let mut vars: Vec<(String, String)> = vec![
        ("CRYPTOLENS_NOTIFY__PREFIX".into(), prefix),
        (
            "CRYPTOLENS_NOTIFY__RETRY_DELAYS_MS".into(),
            "200,400,800".into(),
        ),
        ("CRYPTOLENS_NOTIFY__LEASE_MS".into(), "3000".into()),
        ("CRYPTOLENS_NOTIFY__PREFETCH".into(), "16".into()),
        ("CRYPTOLENS_NTFY__URL".into(), ntfy_url.into()),
        ("CRYPTOLENS_NTFY__TIMEOUT_MS".into(), "1000".into()),
        ("CRYPTOLENS_NTFY__BREAKER_OPEN_MS".into(), "500".into()),
        (
            "CRYPTOLENS_PUBLIC_URL".into(),
            "https://cryptolens.test".into(),
        ),
    ];
    for (name, value) in extra {
        vars.retain(|(n, _)| n != name);
        vars.push(((*name).into(), (*value).into()));
    }
    NotifyConfig::from_lookup(&|name: &str| {
        vars.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
    })
    .unwrap()
}

/// A connection of the test itself (publishing, inspecting, cleaning up).
pub struct Broker {
    pub connection: Connection,
    pub publisher: Publisher,
    config: NotifyConfig,
}

impl Broker {
    /// Connects and declares the topology.
    pub async fn open(config: &NotifyConfig) -> Self {
        let connection = Connection::connect(
            &amqp_url(),
            ConnectionProperties::default().with_connection_name("cryptolens-test-driver".into()),
        )
        .await
        .unwrap();
        let channel = connection.create_channel().await.unwrap();
        topology::declare(&channel, config).await.unwrap();
        let publisher = Publisher::open(&connection, config).await.unwrap();
        Self {
            connection,
            publisher,
            config: config.clone(),
        }
    }

    pub async fn publish(&self, messages: &[PushMessage]) {
        self.publish_to(Route::Work, messages).await;
    }

    pub async fn publish_to(&self, route: Route, messages: &[PushMessage]) {
        let batch: Vec<Outgoing<'_>> = messages
            .iter()
            .map(|message| Outgoing {
                route,
                message,
                attempts: Attempts::default(),
            })
            .collect();
        self.publisher.publish_all(&batch).await.unwrap();
    }

    /// Drains the dead-letter queue: each message with its `x-death` reason
    /// (`None` when the consumer parked it itself).
    pub async fn dead_letters(&self) -> Vec<(PushMessage, Option<String>)> {
        let channel = self.connection.create_channel().await.unwrap();
        let mut out = Vec::new();
        while let Some(message) = channel
            .basic_get(
                self.config.dead_queue().as_str().into(),
                BasicGetOptions::default(),
            )
            .await
            .unwrap()
        {
            let reason = message
                .delivery
                .properties
                .headers()
                .as_ref()
                .and_then(|h| match h.inner().get("x-death") {
                    Some(AMQPValue::FieldArray(deaths)) => deaths.as_slice().first().cloned(),
                    _ => None,
                })
                .and_then(|death| match death {
                    AMQPValue::FieldTable(death) => match death.inner().get("reason") {
                        Some(AMQPValue::LongString(reason)) => {
                            Some(String::from_utf8_lossy(reason.as_bytes()).into_owned())
                        }
                        _ => None,
                    },
                    _ => None,
                });
            out.push((
                serde_json::from_slice(&message.delivery.data).unwrap_or_else(|_| PushMessage {
                    message_id: format!(
                        "undecodable:{}",
                        String::from_utf8_lossy(&message.delivery.data)
                    ),
                    ..message_for("none", 0)
                }),
                reason,
            ));
            message
                .delivery
                .ack(BasicAckOptions::default())
                .await
                .unwrap();
        }
        out
    }

    pub async fn depth(&self, queue: &str) -> u32 {
        let channel = self.connection.create_channel().await.unwrap();
        topology::depth(&channel, queue).await.unwrap()
    }

    /// Deletes the test's exchanges and queues.
    pub async fn cleanup(self) {
        let channel = self.connection.create_channel().await.unwrap();
        topology::delete(&channel, &self.config).await.unwrap();
        let _ = self.connection.close(200, "done".into()).await;
    }
}

/// A message with a unique body, for user `n` of a run.
pub fn message_for(run: &str, n: u32) -> PushMessage {
    PushMessage {
        message_id: format!("{run}/{n}"),
        user_id: Some(Uuid::from_u128(u128::from(n) + 1)),
        kind: PushKind::Signal,
        broadcast_id: None,
        topic: format!("cl_{run}_{n}"),
        daily_cap: None,
        push: Push {
            title: format!("message {n}"),
            body: format!("{run} body {n}"),
            priority: Priority::DEFAULT,
            tags: vec!["test".into()],
            click: None,
        },
    }
}

pub fn messages(run: &str, count: u32) -> Vec<PushMessage> {
    (0..count).map(|n| message_for(run, n)).collect()
}

/// The broker-side ids (Erlang pids, what `rabbitmqctl close_connection`
/// takes) of the connections whose client-provided name is `connection_name`.
/// (Async: a blocking call would freeze the test's single-threaded runtime,
/// consumers included.)
pub async fn connections_named(connection_name: &str) -> Vec<String> {
    let output = tokio::process::Command::new("rabbitmqctl")
        .args([
            "list_connections",
            "-q",
            "--no-table-headers",
            "pid",
            "client_properties",
        ])
        .output()
        .await
        .expect("rabbitmqctl runs (the tests run as root next to RabbitMQ)");
    assert!(output.status.success(), "{output:?}");
    let needle = format!("{{\"connection_name\",\"{connection_name}\"}}");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| line.contains(&needle))
        .filter_map(|line| line.split('\t').next().map(str::to_owned))
        .collect()
}

/// Has the broker close every connection named `connection_name`; returns
/// how many it closed.
pub async fn close_connections(connection_name: &str) -> usize {
    let names = connections_named(connection_name).await;
    for name in &names {
        let status = tokio::process::Command::new("rabbitmqctl")
            .args(["close_connection", name, "closed by the fault test"])
            .output()
            .await
            .unwrap();
        assert!(status.status.success(), "{status:?}");
    }
    names.len()
}

/// How long the fault tests give asynchronous delivery.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// A consumer running in a task, as `serve` and the worker run it.
pub struct RunningConsumer {
    pub name: String,
    pub breaker: std::sync::Arc<adapters::notify::breaker::Breaker>,
    stop: tokio_util::sync::CancellationToken,
    task: tokio::task::JoinHandle<adapters::notify::consumer::Exit>,
}

impl RunningConsumer {
    pub fn start(
        pool: &sqlx::PgPool,
        config: &NotifyConfig,
        fault: Option<adapters::notify::consumer::FaultHook>,
    ) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let name = format!("cryptolens-test-consumer-{}", Uuid::now_v7().simple());
        let mut consumer =
            adapters::notify::consumer::Consumer::new(pool.clone(), config, &amqp_url(), &name)
                .unwrap();
        if let Some(fault) = fault {
            consumer = consumer.with_fault(fault);
        }
        let breaker = consumer.breaker();
        let stop = tokio_util::sync::CancellationToken::new();
        let task = tokio::spawn(consumer.run(stop.clone()));
        Self {
            name,
            breaker,
            stop,
            task,
        }
    }

    /// Waits until the broker lists this consumer's connection.
    pub async fn connected(&self) {
        crate::eventually(PATIENCE, "the consumer's connection", || async {
            (!connections_named(&self.name).await.is_empty()).then_some(())
        })
        .await;
    }

    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    pub async fn join(self) -> adapters::notify::consumer::Exit {
        self.task.await.unwrap()
    }

    pub async fn stop(self) -> adapters::notify::consumer::Exit {
        self.stop.cancel();
        self.task.await.unwrap()
    }
}

/// Rows of the event log of one type, as (aggregate id, payload).
pub async fn events_of(pool: &sqlx::PgPool, event_type: &str) -> Vec<(String, serde_json::Value)> {
    sqlx::query_as(
        "SELECT aggregate_id, payload -> event_type FROM events WHERE event_type = $1 ORDER BY global_position",
    )
    .bind(event_type)
    .fetch_all(pool)
    .await
    .unwrap()
}

/// Read-model fixture for the notifier: an account (verified, active) with
/// notification settings. Returns the user ids.
#[derive(Debug, Clone)]
pub struct UserFixture {
    pub verified: bool,
    pub active: bool,
    pub enabled: bool,
    pub min_confluence: i16,
    pub directions: &'static str,
    pub priority: i16,
    pub quiet: Option<(i16, i16)>,
    pub time_zone: &'static str,
    pub muted: Vec<String>,
}

impl Default for UserFixture {
    fn default() -> Self {
        Self {
            verified: true,
            active: true,
            enabled: true,
            min_confluence: 3,
            directions: "both",
            priority: 4,
            quiet: None,
            time_zone: "UTC",
            muted: Vec::new(),
        }
    }
}

/// The topic fixture users get: `cl_` + the user id's hex.
pub fn topic_of(user: Uuid) -> String {
    format!("cl_{}", user.simple())
}

pub async fn insert_users(pool: &sqlx::PgPool, users: &[(Uuid, UserFixture)]) {
    let ids: Vec<Uuid> = users.iter().map(|(id, _)| *id).collect();
    sqlx::query(
        "INSERT INTO accounts_view (account_id, username, email, registered_at, last_seq, verified, active)
         SELECT id, 'u' || replace(id::text, '-', ''), replace(id::text, '-', '') || '@example.com', now(), 1, v, a
           FROM unnest($1::uuid[], $2::bool[], $3::bool[]) AS t(id, v, a)",
    )
    .bind(&ids)
    .bind(users.iter().map(|(_, u)| u.verified).collect::<Vec<_>>())
    .bind(users.iter().map(|(_, u)| u.active).collect::<Vec<_>>())
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO notification_settings_view (user_id, topic, enabled, min_confluence, directions,
                priority, quiet_start, quiet_end, time_zone, muted_symbols, last_seq)
         SELECT id, 'cl_' || replace(id::text, '-', ''), e, m, d, p, qs, qe, tz,
                string_to_array(mutes, ','), 1
           FROM unnest($1::uuid[], $2::bool[], $3::int2[], $4::text[], $5::int2[], $6::int2[],
                       $7::int2[], $8::text[], $9::text[]) AS t(id, e, m, d, p, qs, qe, tz, mutes)",
    )
    .bind(&ids)
    .bind(users.iter().map(|(_, u)| u.enabled).collect::<Vec<_>>())
    .bind(users.iter().map(|(_, u)| u.min_confluence).collect::<Vec<_>>())
    .bind(users.iter().map(|(_, u)| u.directions).collect::<Vec<_>>())
    .bind(users.iter().map(|(_, u)| u.priority).collect::<Vec<_>>())
    .bind(users.iter().map(|(_, u)| u.quiet.map(|q| q.0)).collect::<Vec<_>>())
    .bind(users.iter().map(|(_, u)| u.quiet.map(|q| q.1)).collect::<Vec<_>>())
    .bind(users.iter().map(|(_, u)| u.time_zone).collect::<Vec<_>>())
    .bind(users.iter().map(|(_, u)| u.muted.join(",")).collect::<Vec<_>>())
    .execute(pool)
    .await
    .unwrap();
}

/// A signal as the market work records it: a real
/// `domain::signal::SignalEvent::SignalGenerated` on aggregate
/// `signal`/`signal_id`, serialised as the event store does.
#[derive(Debug, Clone)]
pub struct SignalFixture {
    pub signal_id: String,
    pub symbol: &'static str,
    pub long: bool,
    pub pattern: PatternType,
    pub timeframe: Timeframe,
    pub confluence: usize,
    pub aligned: Vec<Timeframe>,
    /// Entry, stop loss, TP1, TP2, TP3.
    pub levels: [f64; 5],
}

impl SignalFixture {
    pub fn long_btc_fvg() -> Self {
        Self {
            signal_id: Uuid::now_v7().to_string(),
            symbol: "BTC/USDT",
            long: true,
            pattern: PatternType::Imbalance,
            timeframe: Timeframe::H4,
            confluence: 4,
            aligned: vec![Timeframe::M15, Timeframe::H1, Timeframe::H4, Timeframe::D1],
            levels: [40000.0, 39000.0, 41000.0, 42000.0, 43500.0],
        }
    }

    fn facts(&self) -> SignalFacts {
        SignalFacts {
            symbol: Symbol::parse(self.symbol).unwrap(),
            direction: if self.long {
                Direction::Bullish
            } else {
                Direction::Bearish
            },
            created_at: 1_795_860_000_000,
        }
    }

    pub fn generated(&self) -> SignalEvent {
        let facts = self.facts();
        let [
            entry,
            stop_loss,
            take_profit_1,
            take_profit_2,
            take_profit_3,
        ] = self.levels;
        SignalEvent::SignalGenerated {
            pattern_id: Uuid::now_v7(),
            pattern: PatternKey {
                timeframe: self.timeframe,
                pattern_type: self.pattern,
                direction: facts.direction,
                detected_ts: 1_795_850_000_000,
            },
            facts,
            zone_low: 39500.0,
            zone_high: 40100.0,
            timeframes_aligned: self.aligned.clone(),
            confluence: self.confluence,
            levels: SignalLevels {
                atr: 350.0,
                entry,
                stop_loss,
                take_profit_1,
                take_profit_2,
                take_profit_3,
                risk: (entry - stop_loss).abs(),
                risk_reward: 1.5,
            },
            valid_until: 1_795_900_000_000,
        }
    }

    /// Its end: stopped out.
    pub fn resolved(&self) -> SignalEvent {
        SignalEvent::SignalResolved {
            facts: self.facts(),
            outcome: Outcome::Stopped,
            closed_by: ClosedBy::Stop,
            at: 1_795_870_000_000,
        }
    }

    pub fn payload(&self) -> serde_json::Value {
        serde_json::to_value(self.generated()).unwrap()
    }
}

/// Appends an event as its writer would; returns its global position.
pub async fn append_event(
    pool: &sqlx::PgPool,
    aggregate_type: &str,
    aggregate_id: &str,
    event_type: &str,
    payload: serde_json::Value,
) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         SELECT $1, $2, COALESCE(max(sequence), 0) + 1, $3, '1.0', $4, '{}'::jsonb
           FROM events WHERE aggregate_type = $1 AND aggregate_id = $2
         RETURNING global_position",
    )
    .bind(aggregate_type)
    .bind(aggregate_id)
    .bind(event_type)
    .bind(payload)
    .fetch_one(pool)
    .await
    .unwrap()
}

pub async fn append_signal(pool: &sqlx::PgPool, signal: &SignalFixture) -> i64 {
    append_signal_event(pool, &signal.signal_id, &signal.generated()).await
}

/// Appends one of the signal aggregate's events; returns its global position.
pub async fn append_signal_event(pool: &sqlx::PgPool, signal_id: &str, event: &SignalEvent) -> i64 {
    use cqrs_es::DomainEvent;
    append_event(
        pool,
        "signal",
        signal_id,
        &event.event_type(),
        serde_json::to_value(event).unwrap(),
    )
    .await
}

/// The signal notifier running under the projector runtime, with an
/// optional fault between its publishes and its checkpoint commit.
pub struct RunningNotifier {
    pub link: std::sync::Arc<adapters::notify::notifier::Link>,
    stop: tokio_util::sync::CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl RunningNotifier {
    pub fn start(
        pool: &sqlx::PgPool,
        config: &NotifyConfig,
        before_commit: Option<adapters::projector::batch::BeforeCommit>,
    ) -> Self {
        use adapters::notify::notifier::{Link, SignalNotifier};
        use adapters::projector::runtime::{Runner, RunnerOptions};
        let link = std::sync::Arc::new(Link::new(
            &amqp_url(),
            &format!("cryptolens-test-notifier-{}", Uuid::now_v7().simple()),
            config,
        ));
        let runner = Runner::new(
            std::sync::Arc::new(SignalNotifier::new(config, link.clone())),
            pool.clone(),
            adapters::projector::wake::Wake::default(),
            RunnerOptions {
                poll: Duration::from_millis(50),
                leadership_check: Duration::from_millis(200),
                before_commit,
                ..RunnerOptions::default()
            },
        );
        let stop = tokio_util::sync::CancellationToken::new();
        let task = tokio::spawn(runner.run(stop.clone()));
        Self { link, stop, task }
    }

    pub async fn stop(self) {
        self.stop.cancel();
        self.task.await.unwrap();
    }
}

/// Where the notifier's checkpoint is (its global position).
pub async fn notifier_position(pool: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar(
        "SELECT last_pos FROM projection_checkpoints WHERE projection = 'signal_notifier'",
    )
    .fetch_optional(pool)
    .await
    .unwrap()
    .unwrap_or(0)
}
