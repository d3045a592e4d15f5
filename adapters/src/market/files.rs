//! `cryptolens market aggregate` and `market detect`: the original's
//! outputs for any 1m candle file, in exactly the format of
//! `data/reference/<file>/candles_<tf>.csv` and `patterns_<tf>.json`, so
//! anyone can check parity on their own data.

use std::fmt::Write;

use anyhow::Context;
use domain::market::csv::{format_candles, parse_candles, py_repr};
use domain::market::detect::{
    DEFAULT_OVERLAP_THRESHOLD, MIN_ZONE_PERCENT, ORDER_BLOCK_STRENGTH_MULTIPLIER,
};
use domain::market::tracker::overlap_threshold;
use domain::market::{
    Candle, DetectConfig, Direction, Pattern, PatternType, Timeframe, TradingLevels, aggregate,
    detect, levels_as_of_detection,
};

/// The series of `timeframe` built from a 1m file (all buckets, the last
/// partial one included, as the original aggregator did).
pub fn series(text: &str, timeframe: Timeframe) -> anyhow::Result<Vec<Candle>> {
    let candles = parse_candles(text)?;
    if timeframe == Timeframe::M1 {
        return Ok(candles);
    }
    aggregate(&candles, timeframe).context("the 1m candles must have strictly ascending times")
}

/// `market aggregate <csv> --timeframe <tf>`.
pub fn aggregate_file(text: &str, timeframe: Timeframe) -> anyhow::Result<String> {
    Ok(format_candles(&series(text, timeframe)?))
}

fn opt(value: Option<f64>) -> String {
    value.map_or_else(|| "null".to_owned(), py_repr)
}

fn levels_json(l: &TradingLevels) -> String {
    format!(
        "{{\"atr\":{},\"swing_high\":{},\"swing_low\":{},\"entry\":{},\"stop_loss\":{},\"take_profit_1\":{},\"take_profit_2\":{},\"take_profit_3\":{},\"risk\":{},\"risk_reward_1\":{},\"risk_reward_2\":{},\"risk_reward_3\":{}}}",
        py_repr(l.atr),
        opt(l.swing_high),
        opt(l.swing_low),
        py_repr(l.entry),
        py_repr(l.stop_loss),
        py_repr(l.take_profit_1),
        py_repr(l.take_profit_2),
        py_repr(l.take_profit_3),
        py_repr(l.risk),
        py_repr(l.risk_reward_1),
        py_repr(l.risk_reward_2),
        py_repr(l.risk_reward_3),
    )
}

fn pattern_json(p: &Pattern, levels: Option<&TradingLevels>) -> String {
    let mut out = format!(
        "{{\"pattern_type\":\"{}\",\"direction\":\"{}\",\"zone_high\":{},\"zone_low\":{},\"detected_at\":{},\"detected_ts\":{}",
        p.pattern_type.as_str(),
        p.direction.as_str(),
        py_repr(p.zone_high),
        py_repr(p.zone_low),
        p.detected_at,
        p.detected_ts
    );
    if let Some(level) = p.swept_level {
        let _ = write!(out, ",\"swept_level\":{}", py_repr(level));
    }
    if let Some(levels) = levels {
        let _ = write!(out, ",\"levels_as_of_detection\":{}", levels_json(levels));
    }
    out.push('}');
    out
}

fn records(out: &mut String, name: &str, records: &[String], last: bool) {
    let _ = writeln!(out, "   \"{name}\":[");
    for (i, record) in records.iter().enumerate() {
        let comma = if i + 1 < records.len() { "," } else { "" };
        let _ = writeln!(out, "    {record}{comma}");
    }
    let _ = writeln!(out, "   ]{}", if last { "" } else { "," });
}

/// `market detect <csv> [--timeframe <tf>]`: the three detectors in both
/// modes on the file (aggregated to `timeframe` when given), levels as of
/// detection in raw mode. `source` is the file name printed as
/// `source_csv`.
pub fn detect_file(
    text: &str,
    source: &str,
    timeframe: Option<Timeframe>,
) -> anyhow::Result<String> {
    let timeframe = timeframe.unwrap_or(Timeframe::M1);
    let candles = series(text, timeframe)?;
    let mut found = Vec::new();
    for pattern_type in PatternType::ALL {
        let raw = detect(&candles, pattern_type, &DetectConfig::raw());
        let dedup = detect(&candles, pattern_type, &DetectConfig::deduplicated());
        let raw_records = raw
            .iter()
            .map(|p| {
                let levels = levels_as_of_detection(&candles, p)?;
                Ok(pattern_json(p, Some(&levels)))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let dedup_records: Vec<String> = dedup.iter().map(|p| pattern_json(p, None)).collect();
        found.push((pattern_type, raw, dedup, raw_records, dedup_records));
    }
    let count = |list: &[Pattern], d: Option<Direction>| {
        list.iter()
            .filter(|p| d.is_none_or(|d| p.direction == d))
            .count()
    };
    let counts: Vec<String> = found
        .iter()
        .map(|(t, raw, dedup, _, _)| {
            format!(
                "\"{}\":{{\"raw\":{},\"raw_bullish\":{},\"raw_bearish\":{},\"dedup\":{},\"dedup_bullish\":{},\"dedup_bearish\":{}}}",
                t.as_str(),
                count(raw, None),
                count(raw, Some(Direction::Bullish)),
                count(raw, Some(Direction::Bearish)),
                count(dedup, None),
                count(dedup, Some(Direction::Bullish)),
                count(dedup, Some(Direction::Bearish)),
            )
        })
        .collect();
    let mut out = String::new();
    out.push_str("{\n");
    let _ = writeln!(out, " \"source_csv\":\"{source}\",");
    let _ = writeln!(out, " \"timeframe\":\"{timeframe}\",");
    let _ = writeln!(out, " \"n_candles\":{},", candles.len());
    let _ = writeln!(
        out,
        " \"first_ts\":{},",
        candles.first().map_or(0, |c| c.open_time)
    );
    let _ = writeln!(
        out,
        " \"last_ts\":{},",
        candles.last().map_or(0, |c| c.open_time)
    );
    let _ = writeln!(out, " \"min_zone_pct\":{},", py_repr(MIN_ZONE_PERCENT));
    let _ = writeln!(
        out,
        " \"order_block_strength_multiplier\":{},",
        py_repr(ORDER_BLOCK_STRENGTH_MULTIPLIER)
    );
    let _ = writeln!(
        out,
        " \"in_memory_overlap_threshold\":{},",
        py_repr(DEFAULT_OVERLAP_THRESHOLD)
    );
    let _ = writeln!(
        out,
        " \"production_overlap_threshold_for_tf\":{},",
        py_repr(overlap_threshold(timeframe))
    );
    let _ = writeln!(out, " \"counts\":{{{}}},", counts.join(","));
    out.push_str(" \"detectors\":{\n");
    for (i, (t, _, _, raw, dedup)) in found.iter().enumerate() {
        let _ = writeln!(out, "  \"{}\":{{", t.as_str());
        records(&mut out, "skip_overlap_true", raw, false);
        records(&mut out, "skip_overlap_false", dedup, true);
        let _ = writeln!(out, "  }}{}", if i + 1 < found.len() { "," } else { "" });
    }
    out.push_str(" }\n}\n");
    Ok(out)
}
