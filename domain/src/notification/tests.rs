use cqrs_es::test::TestFramework;
use time::macros::datetime;
use uuid::Uuid;

use super::*;

type NotificationTest = TestFramework<Notification>;

fn recipient() -> Recipient {
    Recipient {
        user_id: Some(Uuid::from_u128(5)),
        kind: PushKind::Signal,
        broadcast_id: None,
    }
}

fn failed(attempt: u32, last: bool) -> NotificationEvent {
    NotificationEvent::NotificationFailed {
        recipient: recipient(),
        attempt,
        reason: FailureReason::Status { code: 503 },
        last,
        at: datetime!(2026-11-28 10:00 UTC),
    }
}

#[test]
fn a_delivery_after_failures_is_recorded_once() {
    NotificationTest::with(())
        .given(vec![failed(1, false)])
        .when(NotificationCommand::RecordDelivered {
            recipient: recipient(),
            attempt: 2,
            now: datetime!(2026-11-28 10:00:05 UTC),
        })
        .then_expect_events(vec![NotificationEvent::NotificationDelivered {
            recipient: recipient(),
            attempt: 2,
            at: datetime!(2026-11-28 10:00:05 UTC),
        }]);
}

#[test]
fn a_delivered_message_accepts_nothing_more() {
    let delivered = NotificationEvent::NotificationDelivered {
        recipient: recipient(),
        attempt: 1,
        at: datetime!(2026-11-28 10:00 UTC),
    };
    NotificationTest::with(())
        .given(vec![delivered])
        .when(NotificationCommand::RecordDelivered {
            recipient: recipient(),
            attempt: 2,
            now: datetime!(2026-11-28 10:01 UTC),
        })
        .then_expect_error(NotificationError::AlreadyDelivered);
}

#[test]
fn a_message_given_up_on_stays_given_up() {
    NotificationTest::with(())
        .given(vec![failed(1, true)])
        .when(NotificationCommand::RecordDelivered {
            recipient: recipient(),
            attempt: 2,
            now: datetime!(2026-11-28 10:01 UTC),
        })
        .then_expect_error(NotificationError::AlreadyAbandoned);
}

#[test]
fn events_are_stored_with_flat_fields() {
    let json = serde_json::to_value(failed(3, false)).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"NotificationFailed": {
            "user_id": "00000000-0000-0000-0000-000000000005", "kind": "signal",
            "broadcast_id": null, "attempt": 3, "reason": "status", "code": 503,
            "last": false, "at": "2026-11-28T10:00:00Z"}})
    );
    let back: NotificationEvent = serde_json::from_value(json).unwrap();
    assert_eq!(back, failed(3, false));
    assert!(Priority::new(0).is_none() && Priority::new(6).is_none());
    assert_eq!(Priority::new(5).map(Priority::get), Some(5));
}

mod settings {
    use time::macros::datetime;

    use super::super::*;

    type SettingsTest = cqrs_es::test::TestFramework<NotificationSettings>;

    fn topic(n: u8) -> Topic {
        Topic::from_random([n; 16])
    }

    fn input() -> PreferencesInput {
        PreferencesInput {
            enabled: true,
            min_confluence: 4,
            directions: "long".into(),
            priority: 5,
            quiet_hours: Some((22, 7)),
            time_zone: "Europe/Berlin".into(),
        }
    }

    #[test]
    fn a_topic_is_cl_and_128_bits_of_hex() {
        let topic = topic(0xab);
        assert_eq!(topic.as_str(), format!("cl_{}", "ab".repeat(16)));
        assert_eq!(Topic::parse(topic.as_str()), Some(topic));
        for bad in [
            "cl_abc",
            "xx_00000000000000000000000000000000",
            "cl_0000000000000000000000000000000G",
        ] {
            assert_eq!(Topic::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_topic_is_assigned_once_and_rotated_on_request() {
        let assigned = SettingsEvent::NotificationTopicAssigned { topic: topic(1) };
        SettingsTest::with(())
            .given(vec![assigned.clone()])
            .when(SettingsCommand::AssignTopic { topic: topic(2) })
            .then_expect_events(vec![]);
        SettingsTest::with(())
            .given(vec![assigned])
            .when(SettingsCommand::RotateTopic { topic: topic(3) })
            .then_expect_events(vec![SettingsEvent::NotificationTopicRotated {
                topic: topic(3),
            }]);
    }

    #[test]
    fn valid_preferences_are_recorded_and_unchanged_ones_are_not() {
        let preferences = Preferences::parse(&input()).unwrap();
        let updated = SettingsEvent::NotificationPreferencesUpdated {
            preferences: preferences.clone(),
        };
        SettingsTest::with(())
            .given_no_previous_events()
            .when(SettingsCommand::UpdatePreferences {
                preferences: preferences.clone(),
            })
            .then_expect_events(vec![updated.clone()]);
        SettingsTest::with(())
            .given(vec![updated])
            .when(SettingsCommand::UpdatePreferences { preferences })
            .then_expect_events(vec![]);
    }

    #[test]
    fn every_bad_field_is_reported() {
        let bad = PreferencesInput {
            enabled: true,
            min_confluence: 8,
            directions: "sideways".into(),
            priority: 0,
            quiet_hours: Some((5, 24)),
            time_zone: "Mars/Olympus".into(),
        };
        let fields: Vec<&str> = Preferences::parse(&bad)
            .unwrap_err()
            .iter()
            .map(|f| f.field)
            .collect();
        assert_eq!(
            fields,
            [
                "min_confluence",
                "directions",
                "priority",
                "quiet_hours",
                "time_zone"
            ]
        );
        let same_hours = PreferencesInput {
            quiet_hours: Some((3, 3)),
            ..input()
        };
        assert_eq!(
            Preferences::parse(&same_hours).unwrap_err()[0].field,
            "quiet_hours"
        );
    }

    #[test]
    fn quiet_hours_hold_until_they_end_in_the_users_zone() {
        let berlin = Preferences::parse(&input()).unwrap(); // 22 -> 7, Europe/Berlin
        // 21:30 UTC in November is 22:30 in Berlin: quiet until 07:00 Berlin = 06:00 UTC.
        assert_eq!(
            berlin.quiet_until(datetime!(2026-11-28 21:30 UTC)),
            Some(datetime!(2026-11-29 06:00 UTC))
        );
        // 03:00 UTC = 04:00 Berlin: quiet until 06:00 UTC the same day.
        assert_eq!(
            berlin.quiet_until(datetime!(2026-11-29 03:00 UTC)),
            Some(datetime!(2026-11-29 06:00 UTC))
        );
        // 12:00 UTC = 13:00 Berlin: not quiet.
        assert_eq!(berlin.quiet_until(datetime!(2026-11-29 12:00 UTC)), None);
        // Summer time: 22:00 Berlin is 20:00 UTC.
        assert_eq!(
            berlin.quiet_until(datetime!(2026-07-01 20:30 UTC)),
            Some(datetime!(2026-07-02 05:00 UTC))
        );
        assert_eq!(
            Preferences::default().quiet_until(datetime!(2026-07-01 20:30 UTC)),
            None
        );
    }

    #[test]
    fn mutes_keep_the_whole_list_and_a_test_push_needs_a_topic() {
        let muted = SettingsEvent::NotificationSymbolsMuted {
            muted_symbols: vec!["BTC/USDT".into()],
        };
        SettingsTest::with(())
            .given(vec![muted.clone()])
            .when(SettingsCommand::Mute {
                symbol: "ETH/USDT".into(),
            })
            .then_expect_events(vec![SettingsEvent::NotificationSymbolsMuted {
                muted_symbols: vec!["BTC/USDT".into(), "ETH/USDT".into()],
            }]);
        SettingsTest::with(())
            .given(vec![muted])
            .when(SettingsCommand::Unmute {
                symbol: "BTC/USDT".into(),
            })
            .then_expect_events(vec![SettingsEvent::NotificationSymbolsMuted {
                muted_symbols: vec![],
            }]);
        SettingsTest::with(())
            .given_no_previous_events()
            .when(SettingsCommand::RequestTestPush {
                now: datetime!(2026-11-28 10:00 UTC),
            })
            .then_expect_error(SettingsError::NoTopic);
        assert_eq!(parse_symbol(" btc/usdt "), Some("BTC/USDT".into()));
        assert_eq!(parse_symbol("BTCUSDT"), None);
    }
}

mod signal {
    use super::super::*;
    use crate::market::{Direction, PatternType, Timeframe};

    pub fn alert(direction: Direction) -> SignalAlert {
        SignalAlert {
            signal_id: "sig-1".into(),
            symbol: "BTC/USDT".into(),
            direction,
            pattern: PatternType::Imbalance,
            timeframe: Timeframe::H4,
            entry: 40000.0,
            stop_loss: 39000.0,
            take_profits: [41000.0, 42000.0, 43500.0],
            risk_reward: 1.5,
            confluence: 4,
            aligned: vec![Timeframe::M15, Timeframe::H1, Timeframe::H4, Timeframe::D1],
            created_at_ms: 1_795_860_000_000,
        }
    }

    #[test]
    fn a_long_signal_reads_as_product_section_5_says() {
        let push =
            alert(Direction::Bullish).push(Priority::new(5).unwrap(), "https://cryptolens.test/");
        assert_eq!(push.title, "LONG: BTC/USDT | FVG [4h]");
        assert_eq!(
            push.body,
            "28/11/2026 10:00 UTC\nEntry: $40000.0000\nStop Loss: $39000.0000 (-2.50%)\n\
             TP1: $41000.0000 (+2.50%)\nTP2: $42000.0000 (+5.00%)\nTP3: $43500.0000 (+8.75%)\n\
             R:R: 1.5\nConfluence: 4/7 [15m, 1h, 4h, 1d]"
        );
        assert_eq!(push.tags, ["green_circle", "long", "BTC", "FVG"]);
        assert_eq!(
            push.click.as_deref(),
            Some("https://cryptolens.test/signals/sig-1")
        );
        assert_eq!(push.priority.get(), 5);
    }

    #[test]
    fn the_alert_is_read_from_the_signal_aggregates_own_event() {
        use crate::market::Symbol;
        use crate::market::tracker::{PatternKey, SignalLevels};
        use crate::signal::{SignalEvent, SignalFacts};
        let generated = SignalEvent::SignalGenerated {
            facts: SignalFacts {
                symbol: Symbol::parse("BTC/USDT").unwrap(),
                direction: Direction::Bullish,
                created_at: 1_795_860_000_000,
            },
            pattern_id: uuid::Uuid::from_u128(9),
            pattern: PatternKey {
                timeframe: Timeframe::H4,
                pattern_type: PatternType::Imbalance,
                direction: Direction::Bullish,
                detected_ts: 1_795_850_000_000,
            },
            zone_low: 39500.0,
            zone_high: 40100.0,
            timeframes_aligned: vec![Timeframe::M15, Timeframe::H1, Timeframe::H4, Timeframe::D1],
            confluence: 4,
            levels: SignalLevels {
                atr: 350.0,
                entry: 40000.0,
                stop_loss: 39000.0,
                take_profit_1: 41000.0,
                take_profit_2: 42000.0,
                take_profit_3: 43500.0,
                risk: 1000.0,
                risk_reward: 1.5,
            },
            valid_until: 1_795_900_000_000,
        };
        // Through the stored JSON, as the notifier reads it.
        let stored: SignalEvent =
            serde_json::from_value(serde_json::to_value(&generated).unwrap()).unwrap();
        assert_eq!(
            SignalAlert::from_event("sig-1", &stored),
            Some(alert(Direction::Bullish))
        );
        let resolved = SignalEvent::SignalEntered {
            facts: stored.facts().clone(),
            at: 1,
        };
        assert_eq!(SignalAlert::from_event("sig-1", &resolved), None);
    }

    #[test]
    fn who_a_signal_reaches_follows_the_tier_table() {
        use crate::billing::Tier;
        let on = |symbol: &str, pattern| SignalAlert {
            symbol: symbol.into(),
            pattern,
            ..alert(Direction::Bullish)
        };
        assert!(on("BTC/USDT", PatternType::Imbalance).reaches(Tier::Free));
        assert!(!on("BTC/USDT", PatternType::OrderBlock).reaches(Tier::Free));
        assert!(!on("ETH/USDT", PatternType::Imbalance).reaches(Tier::Free));
        assert!(on("SOL/USDT", PatternType::LiquiditySweep).reaches(Tier::Pro));
        assert!(!on("DOGE/USDT", PatternType::Imbalance).reaches(Tier::Pro));
        assert!(on("DOGE/USDT", PatternType::OrderBlock).reaches(Tier::Premium));
        let cap = |tier: Tier| tier.policy().notification_cap();
        assert_eq!(
            (cap(Tier::Free), cap(Tier::Pro), cap(Tier::Premium)),
            (Some(1), Some(20), None)
        );
        let delay = |tier: Tier| tier.policy().notification_delay().as_secs();
        assert_eq!(
            (delay(Tier::Free), delay(Tier::Pro), delay(Tier::Premium)),
            (600, 0, 0)
        );
    }
}

mod broadcasts {
    use time::macros::datetime;

    use super::super::*;

    type BroadcastTest = cqrs_es::test::TestFramework<Broadcast>;

    fn content() -> BroadcastContent {
        BroadcastContent::parse("Maintenance", "Back at 10:00 UTC", 3, &["wrench".into()]).unwrap()
    }

    fn scheduled(at: time::OffsetDateTime) -> BroadcastEvent {
        BroadcastEvent::BroadcastScheduled {
            content: content(),
            audience: Audience::Verified,
            send_at: at,
        }
    }

    #[test]
    fn an_immediate_broadcast_is_scheduled_and_sent_at_once() {
        let now = datetime!(2026-11-28 10:00 UTC);
        BroadcastTest::with(())
            .given_no_previous_events()
            .when(BroadcastCommand::Create {
                content: content(),
                audience: Audience::Verified,
                send_at: now,
                now,
            })
            .then_expect_events(vec![
                scheduled(now),
                BroadcastEvent::BroadcastSent {
                    content: content(),
                    audience: Audience::Verified,
                    at: now,
                },
            ]);
    }

    #[test]
    fn a_scheduled_broadcast_is_sent_once_when_due_and_not_before() {
        let at = datetime!(2026-11-28 12:00 UTC);
        BroadcastTest::with(())
            .given(vec![scheduled(at)])
            .when(BroadcastCommand::SendIfDue {
                now: datetime!(2026-11-28 11:59 UTC),
            })
            .then_expect_events(vec![]);
        let sent = BroadcastEvent::BroadcastSent {
            content: content(),
            audience: Audience::Verified,
            at: datetime!(2026-11-28 12:00:01 UTC),
        };
        BroadcastTest::with(())
            .given(vec![scheduled(at)])
            .when(BroadcastCommand::SendIfDue {
                now: datetime!(2026-11-28 12:00:01 UTC),
            })
            .then_expect_events(vec![sent.clone()]);
        BroadcastTest::with(())
            .given(vec![scheduled(at), sent])
            .when(BroadcastCommand::Cancel { now: at })
            .then_expect_error(BroadcastError::Settled);
    }

    #[test]
    fn broadcast_fields_and_audiences_are_validated() {
        let fields: Vec<&str> = BroadcastContent::parse("", &"x".repeat(4001), 0, &["a,b".into()])
            .unwrap_err()
            .iter()
            .map(|f| f.field)
            .collect();
        assert_eq!(fields, ["title", "message", "priority", "tags"]);
        assert!(
            Audience::Topics {
                topics: vec!["bad topic".into()]
            }
            .validate()
            .is_err()
        );
        assert!(
            Audience::Topics {
                topics: vec!["cl_ok-1".into()]
            }
            .validate()
            .is_ok()
        );
        assert!(parse_template_name(&"n".repeat(101)).is_err());
    }
}
