#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The signal notifier: recipients from the read models, exact NTFY
//! requests, free-tier delay, quiet-hour holds, and no duplicate push when
//! it crashes between publishing and its checkpoint (fault e).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use adapters::notify::consumer::{FaultAction, FaultHook, Stage};
use adapters::projector::batch::BeforeCommit;
use domain::market::{PatternType, Timeframe};
use sqlx::PgPool;
use tests::eventually;
use tests::notify::{
    Broker, PATIENCE, RunningConsumer, RunningNotifier, SignalFixture, UserFixture, append_signal,
    append_signal_event, insert_users, notifier_position, notify_config, topic_of,
};
use tests::ntfy_fake::NtfyFake;
use uuid::Uuid;

fn instant_config(ntfy: &NtfyFake) -> adapters::notify::config::NotifyConfig {
    notify_config(&ntfy.url(), &[("CRYPTOLENS_NOTIFY__FREE_DELAY_MS", "0")])
}

#[sqlx::test(migrations = "../migrations")]
async fn a_long_and_a_short_signal_are_pushed_exactly_as_specified(pool: PgPool) {
    let ntfy = NtfyFake::start().await;
    let config = notify_config(
        &ntfy.url(),
        &[
            ("CRYPTOLENS_NOTIFY__FREE_DELAY_MS", "0"),
            ("CRYPTOLENS_NTFY__TOKEN", "tk_abc"),
        ],
    );
    let broker = Broker::open(&config).await;
    let (longer, shorter) = (Uuid::now_v7(), Uuid::now_v7());
    insert_users(
        &pool,
        &[
            (
                longer,
                UserFixture {
                    directions: "long",
                    priority: 5,
                    ..UserFixture::default()
                },
            ),
            (
                shorter,
                UserFixture {
                    directions: "short",
                    priority: 3,
                    ..UserFixture::default()
                },
            ),
        ],
    )
    .await;
    let consumer = RunningConsumer::start(&pool, &config, None);
    let notifier = RunningNotifier::start(&pool, &config, None);
    let long = SignalFixture::long_btc_fvg();
    let short = SignalFixture {
        signal_id: Uuid::now_v7().to_string(),
        long: false,
        confluence: 5,
        aligned: vec![
            Timeframe::M5,
            Timeframe::M15,
            Timeframe::M30,
            Timeframe::H1,
            Timeframe::H4,
        ],
        timeframe: Timeframe::H1,
        levels: [40000.0, 40800.0, 39000.0, 38000.0, 36500.0],
        ..SignalFixture::long_btc_fvg()
    };
    let long_position = append_signal(&pool, &long).await;
    let short_position = append_signal(&pool, &short).await;

    eventually(PATIENCE, "two pushes", || async {
        (ntfy.accepted().len() >= 2).then_some(())
    })
    .await;
    let requests = ntfy.accepted();
    assert_eq!(requests.len(), 2);
    let to = |user: Uuid| {
        requests
            .iter()
            .find(|r| r.topic() == topic_of(user))
            .unwrap()
            .clone()
    };

    let l = to(longer);
    assert_eq!(
        (l.method.as_str(), l.path.clone()),
        ("POST", format!("/{}", topic_of(longer)))
    );
    assert_eq!(l.header("Title"), Some("LONG: BTC/USDT | FVG [4h]"));
    assert_eq!(l.header("Priority"), Some("5"));
    assert_eq!(l.header("Tags"), Some("green_circle,long,BTC,FVG"));
    assert_eq!(
        l.header("Click"),
        Some(format!("https://cryptolens.test/signals/{}", long.signal_id).as_str())
    );
    assert_eq!(l.header("Authorization"), Some("Bearer tk_abc"));
    assert_eq!(
        l.body,
        "28/11/2026 10:00 UTC\nEntry: $40000.0000\nStop Loss: $39000.0000 (-2.50%)\n\
         TP1: $41000.0000 (+2.50%)\nTP2: $42000.0000 (+5.00%)\nTP3: $43500.0000 (+8.75%)\n\
         R:R: 1.5\nConfluence: 4/7 [15m, 1h, 4h, 1d]"
    );

    let s = to(shorter);
    assert_eq!(s.header("Title"), Some("SHORT: BTC/USDT | FVG [1h]"));
    assert_eq!(s.header("Priority"), Some("3"));
    assert_eq!(s.header("Tags"), Some("red_circle,short,BTC,FVG"));
    assert_eq!(
        s.header("Click"),
        Some(format!("https://cryptolens.test/signals/{}", short.signal_id).as_str())
    );
    assert_eq!(
        s.body,
        "28/11/2026 10:00 UTC\nEntry: $40000.0000\nStop Loss: $40800.0000 (+2.00%)\n\
         TP1: $39000.0000 (-2.50%)\nTP2: $38000.0000 (-5.00%)\nTP3: $36500.0000 (-8.75%)\n\
         R:R: 1.5\nConfluence: 5/7 [5m, 15m, 30m, 1h, 4h]"
    );

    let mut expected = vec![
        format!("{long_position}/{longer}"),
        format!("{short_position}/{shorter}"),
    ];
    expected.sort();
    // NTFY is called before the inbox records the delivery: wait for it.
    let delivered: Vec<String> = tests::eventually(
        std::time::Duration::from_secs(30),
        "both deliveries in the inbox",
        || {
            let (pool, expected) = (pool.clone(), expected.clone());
            async move {
                let rows: Vec<String> = sqlx::query_scalar(
                    "SELECT message_id FROM notification_inbox WHERE status = 'delivered' ORDER BY message_id",
                )
                .fetch_all(&pool)
                .await
                .ok()?;
                (rows.len() >= expected.len()).then_some(rows)
            }
        },
    )
    .await;
    assert_eq!(delivered, expected, "message id = {{event id}}/{{user id}}");
    notifier.stop().await;
    consumer.stop().await;
    broker.cleanup().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn only_eligible_users_are_pushed_and_quiet_hours_hold_the_push(pool: PgPool) {
    let ntfy = NtfyFake::start().await;
    let config = instant_config(&ntfy);
    let broker = Broker::open(&config).await;
    let now_hour = i16::from(time::OffsetDateTime::now_utc().hour());
    let fixtures: Vec<(&str, UserFixture)> = vec![
        ("eligible", UserFixture::default()),
        (
            "eligible_berlin",
            UserFixture {
                time_zone: "Europe/Berlin",
                ..UserFixture::default()
            },
        ),
        (
            "unverified",
            UserFixture {
                verified: false,
                ..UserFixture::default()
            },
        ),
        (
            "inactive",
            UserFixture {
                active: false,
                ..UserFixture::default()
            },
        ),
        (
            "disabled",
            UserFixture {
                enabled: false,
                ..UserFixture::default()
            },
        ),
        (
            "wants_more_confluence",
            UserFixture {
                min_confluence: 5,
                ..UserFixture::default()
            },
        ),
        (
            "wants_shorts",
            UserFixture {
                directions: "short",
                ..UserFixture::default()
            },
        ),
        (
            "muted_btc",
            UserFixture {
                muted: vec!["BTC/USDT".into(), "ETH/USDT".into()],
                ..UserFixture::default()
            },
        ),
        ("capped", UserFixture::default()),
        (
            "sleeping",
            UserFixture {
                quiet: Some((now_hour, (now_hour + 2) % 24)),
                ..UserFixture::default()
            },
        ),
    ];
    let users: Vec<(Uuid, UserFixture)> = fixtures
        .iter()
        .map(|(_, f)| (Uuid::now_v7(), f.clone()))
        .collect();
    let name: BTreeMap<String, &str> = users
        .iter()
        .zip(&fixtures)
        .map(|((id, _), (n, _))| (topic_of(*id), *n))
        .collect();
    insert_users(&pool, &users).await;
    // "capped" already had its free push today.
    let capped = users[8].0;
    sqlx::query("INSERT INTO notification_daily_counts (user_id, day, reserved) VALUES ($1, (now() AT TIME ZONE 'UTC')::date, 1)")
        .bind(capped)
        .execute(&pool)
        .await
        .unwrap();

    let consumer = RunningConsumer::start(&pool, &config, None);
    let notifier = RunningNotifier::start(&pool, &config, None);
    let signal = SignalFixture::long_btc_fvg();
    let position = append_signal(&pool, &signal).await;
    // An order block (free tier: FVG only) and an ETH signal reach nobody on free.
    append_signal(
        &pool,
        &SignalFixture {
            signal_id: Uuid::now_v7().to_string(),
            pattern: PatternType::OrderBlock,
            ..signal.clone()
        },
    )
    .await;
    let last = append_signal(
        &pool,
        &SignalFixture {
            signal_id: Uuid::now_v7().to_string(),
            symbol: "ETH/USDT",
            ..signal.clone()
        },
    )
    .await;

    eventually(PATIENCE, "the notifier past every signal", || async {
        (notifier_position(&pool).await >= last).then_some(())
    })
    .await;
    eventually(PATIENCE, "two pushes", || async {
        (ntfy.accepted().len() >= 2).then_some(())
    })
    .await;
    let mut pushed: Vec<&str> = ntfy.accepted().iter().map(|r| name[r.topic()]).collect();
    pushed.sort_unstable();
    assert_eq!(pushed, ["eligible", "eligible_berlin"]);

    // The sleeping user's push waits for the end of their quiet hours.
    let sleeping = users[9].0;
    let (message_id, release_at): (String, time::OffsetDateTime) =
        sqlx::query_as("SELECT message_id, release_at FROM notification_holds")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(message_id, format!("{position}/{sleeping}"));
    let now = time::OffsetDateTime::now_utc();
    let end = now.replace_time(
        time::Time::from_hms(u8::try_from((now_hour + 2) % 24).unwrap(), 0, 0).unwrap(),
    );
    let expected = if end > now {
        end
    } else {
        end + time::Duration::days(1)
    };
    assert_eq!(release_at, expected);

    // Once they are over it is published, unless the signal was resolved.
    sqlx::query("UPDATE notification_holds SET release_at = now() - interval '1 second'")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(
        adapters::notify::notifier::release_due(&pool, &notifier.link)
            .await
            .unwrap(),
        1
    );
    eventually(PATIENCE, "the held push", || async {
        (ntfy.accepted().len() >= 3).then_some(())
    })
    .await;
    assert!(
        ntfy.accepted()
            .iter()
            .any(|r| r.topic() == topic_of(sleeping))
    );
    assert_eq!(ntfy.accepted().len(), 3);
    notifier.stop().await;
    consumer.stop().await;
    broker.cleanup().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_hold_for_a_resolved_signal_is_dropped_and_the_free_tier_waits(pool: PgPool) {
    let ntfy = NtfyFake::start().await;
    let config = notify_config(&ntfy.url(), &[("CRYPTOLENS_NOTIFY__FREE_DELAY_MS", "1500")]);
    let broker = Broker::open(&config).await;
    let (awake, sleeping) = (Uuid::now_v7(), Uuid::now_v7());
    let hour = i16::from(time::OffsetDateTime::now_utc().hour());
    insert_users(
        &pool,
        &[
            (awake, UserFixture::default()),
            (
                sleeping,
                UserFixture {
                    quiet: Some((hour, (hour + 2) % 24)),
                    ..UserFixture::default()
                },
            ),
        ],
    )
    .await;
    let consumer = RunningConsumer::start(&pool, &config, None);
    consumer.connected().await;
    let notifier = RunningNotifier::start(&pool, &config, None);
    let signal = SignalFixture::long_btc_fvg();
    let started = Instant::now();
    append_signal(&pool, &signal).await;
    eventually(PATIENCE, "the delayed free push", || async {
        (!ntfy.accepted().is_empty()).then_some(())
    })
    .await;
    assert!(
        started.elapsed() >= Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(ntfy.accepted()[0].topic(), topic_of(awake));

    let resolved = append_signal_event(&pool, &signal.signal_id, &signal.resolved()).await;
    eventually(PATIENCE, "the resolution seen", || async {
        (notifier_position(&pool).await >= resolved).then_some(())
    })
    .await;
    sqlx::query("UPDATE notification_holds SET release_at = now() - interval '1 second'")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(
        adapters::notify::notifier::release_due(&pool, &notifier.link)
            .await
            .unwrap(),
        1
    );
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM notification_holds")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(left, 0);
    assert_eq!(
        broker.depth(&config.delay_queue()).await + broker.depth(&config.work_queue()).await,
        0
    );
    assert_eq!(
        ntfy.accepted().len(),
        1,
        "the resolved signal's held push was dropped"
    );
    notifier.stop().await;
    consumer.stop().await;
    broker.cleanup().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_notifier_crash_between_publishing_and_its_checkpoint_pushes_nothing_twice(pool: PgPool) {
    let ntfy = NtfyFake::start().await;
    let config = instant_config(&ntfy);
    let broker = Broker::open(&config).await;
    let users: Vec<(Uuid, UserFixture)> = (0..50)
        .map(|_| (Uuid::now_v7(), UserFixture::default()))
        .collect();
    insert_users(&pool, &users).await;
    // Count how often each message reaches the consumer.
    let seen: Arc<Mutex<BTreeMap<String, u32>>> = Arc::default();
    let hook: FaultHook = {
        let seen = Arc::clone(&seen);
        Arc::new(move |id: &str, stage| {
            if stage == Stage::Received {
                *seen.lock().unwrap().entry(id.to_owned()).or_default() += 1;
            }
            FaultAction::Continue
        })
    };
    // The first batch fails after every confirm, before its commit.
    let crashes = Arc::new(AtomicU32::new(0));
    let fault: BeforeCommit = {
        let crashes = Arc::clone(&crashes);
        Arc::new(move |_| {
            if crashes.fetch_add(1, Ordering::SeqCst) == 0 {
                anyhow::bail!("crash between publish and checkpoint")
            }
            Ok(())
        })
    };
    let notifier = RunningNotifier::start(&pool, &config, Some(fault));
    let position = append_signal(&pool, &SignalFixture::long_btc_fvg()).await;

    eventually(PATIENCE, "the checkpoint past the signal", || async {
        (notifier_position(&pool).await >= position).then_some(())
    })
    .await;
    // Both publications are queued before anything is delivered (otherwise
    // the retry's daily-cap pre-check would skip users already pushed).
    assert_eq!(broker.depth(&config.work_queue()).await, 100);
    let consumer = RunningConsumer::start(&pool, &config, Some(hook));
    eventually(PATIENCE, "every message seen twice", || async {
        let seen = seen.lock().unwrap();
        (seen.len() == 50 && seen.values().all(|n| *n >= 2)).then_some(())
    })
    .await;
    eventually(PATIENCE, "50 pushes", || async {
        (ntfy.accepted().len() >= 50).then_some(())
    })
    .await;
    assert!(
        crashes.load(Ordering::SeqCst) >= 2,
        "the batch was retried after the crash"
    );
    let mut topics: Vec<String> = ntfy
        .accepted()
        .iter()
        .map(|r| r.topic().to_owned())
        .collect();
    topics.sort();
    let mut expected: Vec<String> = users.iter().map(|(id, _)| topic_of(*id)).collect();
    expected.sort();
    assert_eq!(
        topics, expected,
        "each user exactly once although every message was published twice"
    );
    notifier.stop().await;
    consumer.stop().await;
    broker.cleanup().await;
}
