//! Hostile YAML is refused with an error, quickly, without a panic; ordinary YAML reads as
//! Touchstone's files always read.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Deserialize;

/// The classic "billion laughs": nine levels of ten aliases each, 10⁹ strings once expanded.
fn billion_laughs() -> String {
    let mut text = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for level in 1..=9 {
        let prev = format!("*a{}", level - 1);
        let items = [prev.as_str(); 10].join(", ");
        text.push_str(&format!("a{level}: &a{level} [{items}]\n"));
    }
    text
}

fn assert_refused_quickly<T: serde::de::DeserializeOwned + std::fmt::Debug>(text: &str) {
    let start = Instant::now();
    let err = touchstone_yaml::from_str::<T>(text).unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "took {:?}",
        start.elapsed()
    );
    assert!(err.over_limit, "{err}");
    assert!(err.message.contains("refused"), "{err}");
    // Located, as every YAML error is: where the expansion went over the limit.
    assert!(err.line >= 1 && err.column >= 1, "{err:?}");
    assert!(err.to_string().contains(" at line "), "{err}");
}

#[test]
fn a_billion_laughs_is_refused() {
    let text = billion_laughs();
    assert!(text.len() < 1000, "a small file: {} bytes", text.len());
    // Into an open type, which would keep every expanded string.
    assert_refused_quickly::<serde_json::Value>(&text);
    // Into a typed struct, as a suite or a profile is read.
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Doc {
        a0: Vec<serde_json::Value>,
        a9: Vec<serde_json::Value>,
    }
    assert_refused_quickly::<BTreeMap<String, serde_json::Value>>(&text);
    let err = touchstone_yaml::from_str::<Doc>(&text).unwrap_err();
    assert!(err.over_limit, "{err}");
    // The error says where: the alias being expanded when the limit was reached.
    assert!(err.line >= 2, "{err:?}");
}

#[test]
fn a_quadratic_blowup_is_refused() {
    // Fewer levels but many aliases of one big anchor: each alias replays the whole list.
    let items = ["x"; 5000].join(", ");
    let aliases = ["*big"; 5000].join(", ");
    let text = format!("big: &big [{items}]\nuse: [{aliases}]\n");
    assert_refused_quickly::<serde_json::Value>(&text);
}

#[test]
fn deep_nesting_is_refused() {
    let depth = 10_000;
    let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let start = Instant::now();
    let err = touchstone_yaml::from_str::<serde_json::Value>(&text).unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(10));
    assert!(err.line >= 1, "{err:?}");
}

#[test]
fn oversized_text_is_refused_before_parsing() {
    let text = format!("x: \"{}\"\n", "a".repeat(touchstone_yaml::MAX_BYTES));
    let err = touchstone_yaml::from_str::<serde_json::Value>(&text).unwrap_err();
    assert!(err.over_limit && err.message.contains("MiB"), "{err}");
}

#[test]
fn honest_anchors_still_work() {
    // A profile names a note once and refers to it many times.
    let mut text = String::from("notes:\n  n: &n {zh: 注, en: note}\nitems:\n");
    for i in 0..500 {
        text.push_str(&format!("  - {{id: {i}, note: *n}}\n"));
    }
    let v: serde_json::Value = touchstone_yaml::from_str(&text).unwrap();
    assert_eq!(v["items"][499]["note"]["en"], "note");
}

#[test]
fn values_are_typed_as_yaml_1_2() {
    let v: serde_json::Value = touchstone_yaml::from_str(
        "a: yes\nb: true\nc: 0755\nd: 1_000\ne: 12\nf: 0.5\ng: ~\nh: '3'\ni: 0x1F\n",
    )
    .unwrap();
    assert_eq!(
        v,
        serde_json::json!({"a": "yes", "b": true, "c": "0755", "d": "1_000", "e": 12, "f": 0.5,
            "g": null, "h": "3", "i": 31})
    );

    #[derive(Debug, Deserialize, PartialEq)]
    struct S {
        name: String,
        other: String,
        flag: Option<bool>,
    }
    let s: S = touchstone_yaml::from_str("name:\nother: null\n").unwrap();
    assert_eq!(
        s,
        S {
            name: String::new(),
            other: "null".into(),
            flag: None
        }
    );
    assert!(touchstone_yaml::from_str::<S>("name: a\nother: b\nflag: yes\n").is_err());
    // Not merged: `<<` is a key like any other.
    let v: serde_json::Value =
        touchstone_yaml::from_str("base: &b {x: 1}\nderived:\n  <<: *b\n  y: 2\n").unwrap();
    assert_eq!(v["derived"], serde_json::json!({"<<": {"x": 1}, "y": 2}));
    // Non-finite numbers where the type is open.
    let v: BTreeMap<String, f64> = touchstone_yaml::from_str("a: .nan\nb: -.inf\n").unwrap();
    assert!(v["a"].is_nan() && v["b"] == f64::NEG_INFINITY);
}

#[test]
fn errors_are_located_and_one_line() {
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct S {
        name: String,
    }
    let err = touchstone_yaml::from_str::<S>("name: a\nnmae: b\n").unwrap_err();
    assert_eq!((err.line, err.column), (2, 1), "{err:?}");
    assert!(err.message.contains("nmae"), "{err:?}");
    assert!(!err.message.contains('\n'), "{err:?}");
    assert!(
        !err.message.contains("line 2"),
        "the location is not repeated: {err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!("{} at line 2 column 1", err.message)
    );

    let err = touchstone_yaml::from_str::<S>("name: [unclosed\n").unwrap_err();
    assert!(err.line >= 1 && err.column >= 1, "{err:?}");
    assert!(!err.over_limit);
}

proptest::proptest! {
    #[test]
    fn never_panics(text in "(?s).{0,300}") {
        let _ = touchstone_yaml::from_str::<serde_json::Value>(&text);
    }

    #[test]
    fn never_panics_on_yaml_like_text(text in "([-:\\[\\]{}&*!|>'\"#, \n]|[a-z0-9]{1,3}){0,120}") {
        let _ = touchstone_yaml::from_str::<serde_json::Value>(&text);
    }
}
