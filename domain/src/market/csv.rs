//! The candle file format of CryptoLens and of the reference data:
//! `timestamp_ms,open,high,low,close,volume`, one candle per line, open time
//! in epoch ms, numbers printed like Python's `repr` (shortest round-trip,
//! `1e-05` style below 1e-4). Text in, text out: no file I/O here.

use thiserror::Error;

use super::candle::Candle;

/// The header line of a candle file.
pub const HEADER: &str = "timestamp_ms,open,high,low,close,volume";

/// Why a candle file does not parse.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CsvError {
    #[error("line {line}: expected 6 comma-separated fields, found {found}")]
    FieldCount { line: usize, found: usize },
    #[error("line {line}: `{value}` is not a {what}")]
    BadNumber {
        line: usize,
        value: String,
        what: &'static str,
    },
}

/// Parses a candle file (the header line is optional; blank lines are
/// skipped). Numbers are parsed correctly rounded, so the file's decimal
/// tokens give the exact doubles. Candles are not validated here.
pub fn parse_candles(text: &str) -> Result<Vec<Candle>, CsvError> {
    let mut candles = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || (index == 0 && line.starts_with("timestamp")) {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != 6 {
            return Err(CsvError::FieldCount {
                line: index + 1,
                found: fields.len(),
            });
        }
        let number = |i: usize| -> Result<f64, CsvError> {
            fields[i].parse::<f64>().map_err(|_| CsvError::BadNumber {
                line: index + 1,
                value: fields[i].to_owned(),
                what: "number",
            })
        };
        let open_time = fields[0].parse::<i64>().map_err(|_| CsvError::BadNumber {
            line: index + 1,
            value: fields[0].to_owned(),
            what: "timestamp in ms",
        })?;
        candles.push(Candle::new(
            open_time,
            number(1)?,
            number(2)?,
            number(3)?,
            number(4)?,
            number(5)?,
        ));
    }
    Ok(candles)
}

/// Prints candles in the file format, header first, numbers as Python's
/// `repr` would (the format of `data/reference/*/candles_<tf>.csv`).
pub fn format_candles(candles: &[Candle]) -> String {
    let mut out = String::with_capacity(64 * (candles.len() + 1));
    out.push_str(HEADER);
    out.push('\n');
    for c in candles {
        out.push_str(&c.open_time.to_string());
        for value in [c.open, c.high, c.low, c.close, c.volume] {
            out.push(',');
            out.push_str(&py_repr(value));
        }
        out.push('\n');
    }
    out
}

/// Python's `repr(float)`: the shortest decimal that round-trips, in fixed
/// notation when the decimal exponent is in `-4..16` (with `.0` added to
/// whole numbers), otherwise as `d.ddde-05` / `de+16`.
pub fn py_repr(value: f64) -> String {
    if value.is_nan() {
        return "nan".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    if value == 0.0 {
        return if value.is_sign_negative() {
            "-0.0"
        } else {
            "0.0"
        }
        .to_owned();
    }
    // Rust's `{:e}` gives a shortest round-trip digit string, but where two
    // strings of that length round-trip it may not pick the nearer one, as
    // Python does. The correctly rounded decimal of the same length (exact,
    // ties to even) is the nearest one, and it round-trips too.
    let shortest = format!("{:e}", value.abs());
    let length = shortest.split_once('e').map_or(shortest.len(), |(m, _)| {
        m.chars().filter(char::is_ascii_digit).count()
    });
    let sci = format!("{:.*e}", length.saturating_sub(1), value.abs());
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if value < 0.0 { "-" } else { "" };
    if !(-4..16).contains(&exponent) {
        let (first, rest) = digits.split_at(1);
        let mantissa = if rest.is_empty() {
            first.to_owned()
        } else {
            format!("{first}.{rest}")
        };
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        return format!("{sign}{mantissa}e{exp_sign}{:02}", exponent.abs());
    }
    let point = exponent + 1; // digits before the decimal point
    let body = if point <= 0 {
        format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
    } else {
        let point = point as usize;
        if digits.len() <= point {
            format!("{digits}{}.0", "0".repeat(point - digits.len()))
        } else {
            format!("{}.{}", &digits[..point], &digits[point..])
        }
    };
    format!("{sign}{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_like_python_repr() {
        let cases = [
            (0.1, "0.1"),
            (1.0, "1.0"),
            (2753204.0, "2753204.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (5.352e-05, "5.352e-05"),
            (4.1389999999999995e-05, "4.1389999999999995e-05"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (123456789012345.6, "123456789012345.6"),
            (9999999999999998.0, "9999999999999998.0"),
            (-0.5, "-0.5"),
            (0.0, "0.0"),
            (585.08421205, "585.08421205"),
            (0.001068621428571431, "0.001068621428571431"),
            (1e22, "1e+22"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            // Two 16-digit strings round-trip; Python prints the nearer.
            (570724280910275.2, "570724280910275.2"),
        ];
        for (value, expected) in cases {
            assert_eq!(py_repr(value), expected, "{value:e}");
        }
    }

    #[test]
    fn files_round_trip_exactly() {
        let text = "timestamp_ms,open,high,low,close,volume\n1516420800000,0.08939998,0.08939998,0.08833357,0.08852688,585.08421205\n1516424400000,4.137e-05,4.15e-05,4.101e-05,4.107e-05,2753204.0\n";
        let candles = parse_candles(text).unwrap();
        assert_eq!(candles.len(), 2);
        assert_eq!(candles[1].open, 4.137e-05);
        assert_eq!(format_candles(&candles), text);
    }

    #[test]
    fn malformed_lines_are_reported_with_their_number() {
        assert_eq!(
            parse_candles("timestamp_ms,open,high,low,close,volume\n1,2,3\n"),
            Err(CsvError::FieldCount { line: 2, found: 3 })
        );
        assert!(matches!(
            parse_candles("1,2,3,x,5,6"),
            Err(CsvError::BadNumber { line: 1, .. })
        ));
    }
}
