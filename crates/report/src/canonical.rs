//! Canonical JSON (RFC 8785, the JSON Canonicalization Scheme): object members sorted by the
//! UTF-16 code units of their names, no whitespace, strings with the minimal escapes, and
//! numbers written the way ECMAScript's `Number.prototype.toString` writes them.
//!
//! Integers that a double cannot hold exactly (beyond ±2^53) are written in full rather than
//! rounded; nothing in a report comes close.

use serde::Serialize;
use serde_json::{Number, Value};

/// The canonical JSON of `value`.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> String {
    // Serialising the report's own types cannot fail: every map is keyed by strings.
    let value = serde_json::to_value(value).expect("report data serialises to JSON");
    value_to_string(&value)
}

/// The canonical JSON of an already parsed value.
pub fn value_to_string(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, k);
                out.push(':');
                write_value(out, v);
            }
            out.push('}');
        }
    }
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{08}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{0C}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

const EXACT: u64 = 1 << 53;

fn write_number(out: &mut String, n: &Number) {
    if let Some(u) = n.as_u64() {
        if u <= EXACT {
            out.push_str(&u.to_string());
        } else {
            out.push_str(&format_f64(u as f64));
        }
    } else if let Some(i) = n.as_i64() {
        if i.unsigned_abs() <= EXACT {
            out.push_str(&i.to_string());
        } else {
            out.push_str(&format_f64(i as f64));
        }
    } else {
        // serde_json numbers are finite.
        out.push_str(&format_f64(n.as_f64().unwrap_or(0.0)));
    }
}

/// ECMAScript `Number.prototype.toString` for a finite double (RFC 8785 §3.2.2.3). Non-finite
/// values have no JSON form and are written as `null`.
pub fn format_f64(x: f64) -> String {
    if !x.is_finite() {
        return "null".into();
    }
    if x == 0.0 {
        return "0".into();
    }
    let mut out = String::new();
    if x < 0.0 {
        out.push('-');
    }
    // Rust's `{:e}` gives the shortest digits that round-trip, as ECMAScript requires.
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let exp: i32 = exp.parse().unwrap_or(0);
    let k = digits.len() as i32;
    let n = exp + 1;
    if k <= n && n <= 21 {
        out.push_str(&digits);
        out.push_str(&"0".repeat((n - k) as usize));
    } else if 0 < n && n <= 21 {
        out.push_str(&digits[..n as usize]);
        out.push('.');
        out.push_str(&digits[n as usize..]);
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        out.push_str(&"0".repeat((-n) as usize));
        out.push_str(&digits);
    } else {
        out.push_str(&digits[..1]);
        if k > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if n - 1 < 0 { '-' } else { '+' });
        out.push_str(&(n - 1).abs().to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_the_ecmascript_way() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0"),
            (-0.0, "0"),
            (1.0, "1"),
            (-1.5, "-1.5"),
            (0.1, "0.1"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (123456789012345680000.0, "123456789012345680000"),
            (1e-6, "0.000001"),
            (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (0.8333333333333334, "0.8333333333333334"),
            (4.35, "4.35"),
            (333333333.3333333, "333333333.3333333"),
            (9007199254740992.0, "9007199254740992"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
        ];
        for (x, want) in cases {
            assert_eq!(format_f64(*x), *want, "{x}");
        }
    }

    #[test]
    fn sorted_keys_minimal_escapes() {
        let v: Value = serde_json::from_str(r#"{"b": [1, 2.50, "x\u0001\n\"é"], "a": {"\u20ac": 1, "\r": 2}, "10": null}"#).unwrap();
        assert_eq!(value_to_string(&v), "{\"10\":null,\"a\":{\"\\r\":2,\"€\":1},\"b\":[1,2.5,\"x\\u0001\\n\\\"é\"]}");
    }

    #[test]
    fn utf16_order_not_utf8_order() {
        // U+FB33 sorts before U+1F600 in UTF-8 but after it in UTF-16 (surrogates are 0xD8xx).
        let v: Value = serde_json::from_str("{\"\u{1F600}\": 1, \"\u{FB33}\": 2}").unwrap();
        assert_eq!(value_to_string(&v), "{\"\u{1F600}\":1,\"\u{FB33}\":2}");
    }
}
