//! Every error has a line and a column, also those serde-saphyr cannot place itself (errors a
//! type raises with `custom`), and the path to the node before its message.

use std::collections::BTreeMap;

use serde::Deserialize;
use touchstone_yaml::{Step, locate};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Suite {
    name: String,
    tasks: Vec<Task>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Task {
    name: String,
    #[serde(default)]
    dataset: Option<Dataset>,
    #[serde(default)]
    choices: Option<Choices>,
    #[serde(default)]
    scorer: Option<Picky>,
}

/// Flattened with unknown fields denied: serde reports an unknown field with `custom`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Dataset {
    #[serde(flatten)]
    source: Source,
    #[serde(default)]
    limit: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum Source {
    Builtin(String),
    Path(String),
}

/// Untagged: a value of neither form is reported with `custom`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
#[allow(dead_code)]
enum Choices {
    One(String),
    Many(Vec<String>),
}

/// A hand-written visitor that refuses a mapping after reading it, with `custom`.
#[derive(Debug)]
struct Picky;

impl<'de> Deserialize<'de> for Picky {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let map = BTreeMap::<String, String>::deserialize(d)?;
        if map.contains_key("name") {
            Ok(Picky)
        } else {
            Err(D::Error::custom("this entry has no `name:`"))
        }
    }
}

fn error(text: &str) -> touchstone_yaml::Error {
    touchstone_yaml::from_str::<Suite>(text).unwrap_err()
}

#[test]
fn serde_saphyr_errors_keep_their_location_and_gain_the_path() {
    let e = error("name: s\ntasks:\n  - name: a\n    epoch: 2\n");
    assert_eq!((e.line, e.column), (4, 5), "{e:?}");
    assert!(
        e.message
            .starts_with("tasks[0].epoch: unknown field `epoch`"),
        "{e:?}"
    );

    let e = error("name: s\ntasks:\n  - name: a\n  - name: [x]\n");
    assert_eq!(e.line, 4, "{e:?}");
    assert!(e.message.starts_with("tasks[1].name: "), "{e:?}");
}

#[test]
fn a_path_stops_before_a_step_it_cannot_name() {
    // Malformed inside a flattened struct, which serde reads through a buffer without keys.
    let e = error("name: s\ntasks:\n  - name: a\n    dataset: {builtin: x\n  - name: b\n");
    assert!(e.line >= 4, "{e:?}");
    assert!(!e.message.contains('?'), "{e:?}");
}

#[test]
fn an_unknown_field_of_a_flattened_struct_is_located() {
    let e =
        error("name: s\ntasks:\n  - name: a\n  - name: b\n    dataset: {builtin: x, limt: 3}\n");
    assert_eq!(e.line, 5, "{e:?}");
    assert!(e.column >= 5, "{e:?}");
    assert!(e.message.contains("limt"), "{e:?}");
    assert!(e.message.starts_with("tasks[1].dataset: "), "{e:?}");
}

#[test]
fn an_untagged_enum_mismatch_is_located() {
    let e = error("name: s\ntasks:\n  - name: a\n    choices: {x: 1}\n");
    assert_eq!(e.line, 4, "{e:?}");
    assert!(e.message.contains("untagged"), "{e:?}");
}

#[test]
fn a_custom_error_of_a_visitor_is_located_at_its_node() {
    let e = error("name: s\ntasks:\n  - name: a\n    scorer:\n      pattern: x\n");
    assert!((4..=5).contains(&e.line), "{e:?}");
    assert!(
        e.message
            .starts_with("tasks[0].scorer: this entry has no `name:`"),
        "{e:?}"
    );
}

#[test]
fn locate_finds_keys_indexes_and_empty_collections() {
    let text =
        "id: x\nlist:\n  - a\n  - {k: 1, m: [2, 3]}\nempty: []\nnested:\n  deep:\n    v: 7\n";
    assert_eq!(locate(text, &[Step::Key("id")]).map(|p| p.0), Some(1));
    assert_eq!(
        locate(text, &[Step::Key("list"), Step::Index(0)]),
        Some((3, 5))
    );
    assert_eq!(
        locate(
            text,
            &[
                Step::Key("list"),
                Step::Index(1),
                Step::Key("m"),
                Step::Index(1)
            ]
        )
        .map(|p| p.0),
        Some(4)
    );
    assert_eq!(locate(text, &[Step::Key("empty")]).map(|p| p.0), Some(5));
    assert_eq!(
        locate(
            text,
            &[Step::Key("nested"), Step::Key("deep"), Step::Key("v")]
        )
        .map(|p| p.0),
        Some(8)
    );
    // No such node.
    assert_eq!(locate(text, &[Step::Key("nope")]), None);
    assert_eq!(locate(text, &[Step::Key("list"), Step::Index(9)]), None);
    assert_eq!(locate(text, &[Step::Key("id"), Step::Key("deeper")]), None);
    assert_eq!(locate("[unclosed", &[Step::Index(0)]), None);
}
