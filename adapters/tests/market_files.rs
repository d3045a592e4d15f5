//! `cryptolens market aggregate` and `market detect` reproduce the
//! original's reference outputs byte for byte, on every shipped candle
//! file and every timeframe: through the library functions, and through
//! the real binary (argument parsing, no database or configuration needed).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;

use adapters::market::files::{aggregate_file, detect_file};
use domain::market::Timeframe;

const FILES: [&str; 4] = ["ETH_BTC-1m", "XLM_BTC-1m", "UNITTEST_BTC-1m", "XRP_ETH-1m"];

fn data(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../data")
        .join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(data(path)).unwrap()
}

#[test]
fn aggregate_and_detect_print_exactly_the_reference_files() {
    let mut compared = 0;
    for file in FILES {
        let candles = read(&format!("candles/{file}.csv"));
        let source = format!("{file}.csv");
        for tf in Timeframe::ALL {
            if tf != Timeframe::M1 {
                let ours = aggregate_file(&candles, tf).unwrap();
                let theirs = read(&format!("reference/{file}/candles_{tf}.csv"));
                assert!(ours == theirs, "{file} candles_{tf}.csv differs");
            }
            let ours = detect_file(&candles, &source, (tf != Timeframe::M1).then_some(tf)).unwrap();
            let theirs = read(&format!("reference/{file}/patterns_{tf}.json"));
            if ours != theirs {
                let line = ours.lines().zip(theirs.lines()).position(|(a, b)| a != b);
                panic!("{file} patterns_{tf}.json differs at line {line:?}");
            }
            compared += 1;
        }
    }
    assert_eq!(compared, 32);
}

fn cryptolens(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_cryptolens"))
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn the_binary_prints_the_reference_outputs_without_a_database() {
    let file = data("candles/XRP_ETH-1m.csv");
    let file = file.to_str().unwrap();
    assert_eq!(
        cryptolens(&["market", "aggregate", file, "--timeframe", "15m"]),
        read("reference/XRP_ETH-1m/candles_15m.csv")
    );
    assert_eq!(
        cryptolens(&["market", "detect", file, "--timeframe", "1h"]),
        read("reference/XRP_ETH-1m/patterns_1h.json")
    );
    assert_eq!(
        cryptolens(&["market", "detect", file]),
        read("reference/XRP_ETH-1m/patterns_1m.json")
    );
}

#[test]
fn a_bad_timeframe_is_refused_with_the_valid_ones_named() {
    let output = Command::new(env!("CARGO_BIN_EXE_cryptolens"))
        .args([
            "market",
            "aggregate",
            data("candles/XRP_ETH-1m.csv").to_str().unwrap(),
            "--timeframe",
            "3m",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("unknown timeframe `3m`") && stderr.contains("1m 5m 15m"),
        "{stderr}"
    );
}
