//! YAML in: the one reader for every YAML file Touchstone reads (suites, compliance profiles,
//! attack templates and drivers, the emoji table, judge rubrics), so that they all get the same
//! parser, the same limits and the same error shape.
//!
//! The parser is [`serde_saphyr`]: safe Rust (`forbid(unsafe_code)`), fuzzed, and built not to
//! panic on malformed input. A suite or a profile may come from anyone, so the reader refuses,
//! with an error instead of a hang or an exhausted memory:
//!
//! - text over [`MAX_BYTES`];
//! - alias expansion past [`MAX_REPLAYED_EVENTS`] replayed events (a "billion laughs" bomb:
//!   a few lines that expand to gigabytes), or aliases within aliases deeper than [`MAX_DEPTH`];
//! - more than [`MAX_ALIASES`] aliases or [`MAX_ANCHORS`] anchors, mappings and sequences
//!   nested deeper than [`MAX_DEPTH`], and the parser's own limits on events (1 000 000), nodes
//!   (250 000) and scalar bytes (64 MiB).
//!
//! Values are typed as Touchstone's files were always read (YAML 1.2, as `serde_yaml` 0.9 read
//! them): only `true`/`false` are booleans (`yes` and `on` are text); where the type is open
//! (a scorer's options) `0755` and `1_000` are text; a bare `key:` or `key: null` in a text
//! field is that text; `<<` is an ordinary key (no merging); a key given twice goes to the type
//! (a struct refuses it, a map keeps the last); `.nan` and `.inf` are numbers.
//!
//! Errors carry the 1-based line and column of the offending node and, before the message, the
//! path to it (`tasks[0].scorers[0]: …`), as serde_yaml gave them ([`Error`]). serde-saphyr
//! locates its own errors and serde's structured ones (unknown field, wrong type, …); an error a
//! type raises with `serde::de::Error::custom` (an untagged enum's, a flattened struct's unknown
//! field, a hand-written visitor's) has no location of its own, and is located at the node its
//! path leads to ([`locate`]).

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, IgnoredAny, Unexpected};
use serde_saphyr::{DuplicateKeyPolicy, MergeKeyPolicy, MessageFormatter, NonFiniteFloatPolicy};

/// The largest YAML text read, in bytes. Touchstone's own files are a few KB.
pub const MAX_BYTES: usize = 16 * 1024 * 1024;
/// The most events that aliases may replay in one document: a profile that names its notes
/// with anchors replays a few hundred; a billion-laughs bomb is stopped here.
pub const MAX_REPLAYED_EVENTS: usize = 100_000;
/// The most aliases (`*name`) in one document.
pub const MAX_ALIASES: usize = 10_000;
/// The most anchors (`&name`) in one document.
pub const MAX_ANCHORS: usize = 10_000;
/// The deepest nesting of mappings and sequences, and of aliases within aliases.
pub const MAX_DEPTH: usize = 64;

/// YAML that cannot be read: malformed, the wrong shape for its type, or over a limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// 1-based line of the offending node; 0 when unknown.
    pub line: usize,
    /// 1-based column (in characters) of the offending node; 0 when unknown.
    pub column: usize,
    /// What is wrong, after the path to the node (`tasks[0].name: …`) when it is not the
    /// document itself; without the location.
    pub message: String,
    /// Whether a limit refused the text (size, alias expansion, nesting), rather than a
    /// mistake in it.
    pub over_limit: bool,
}

impl fmt::Display for Error {
    /// `message at line L column C`, or the message alone when the location is unknown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if self.line > 0 {
            write!(f, " at line {} column {}", self.line, self.column)?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// Reads `text` as one YAML document of type `T`.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, Error> {
    from_str_seed(text, std::marker::PhantomData::<T>)
}

/// Reads `text` as one YAML document through `seed`: for a walk over the document that is not
/// a plain type.
pub fn from_str_seed<'de, S: DeserializeSeed<'de>>(
    text: &'de str,
    seed: S,
) -> Result<S::Value, Error> {
    check_size(text)?;
    let mut failed_at = None;
    serde_saphyr::with_deserializer_from_str_with_options(text, options(), |de| {
        let mut track = serde_path_to_error::Track::new();
        let result = seed.deserialize(serde_path_to_error::Deserializer::new(de, &mut track));
        if result.is_err() {
            failed_at = Some(track.path());
        }
        result
    })
    .map_err(|e| convert(text, &e, failed_at.as_ref()))
}

/// One step of a path into a YAML document: a mapping key or a sequence index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// The 1-based line and column of the node at `path` in `text` (for a mapping entry's value,
/// where its key is), found by walking the document to it; None when there is no such node or
/// the text does not parse.
pub fn locate(text: &str, path: &[Step<'_>]) -> Option<(usize, usize)> {
    if text.len() > MAX_BYTES {
        return None;
    }
    let found = Cell::new(false);
    let seek = Seek {
        path,
        found: &found,
    };
    let result = serde_saphyr::with_deserializer_from_str_with_options(text, options(), |de| {
        seek.deserialize(de)
    });
    match result {
        Err(e) if found.get() => e
            .location()
            .map(|l| (to_usize(l.line()), to_usize(l.column()))),
        _ => None,
    }
}

/// Walks to the node at `path` and fails there, with an error of a kind that serde-saphyr
/// locates (`invalid_value`, unlike `custom`).
struct Seek<'p, 'a> {
    path: &'p [Step<'a>],
    found: &'p Cell<bool>,
}

impl Seek<'_, '_> {
    fn here<E: de::Error>(&self) -> Result<(), E> {
        if self.path.is_empty() {
            self.found.set(true);
            Err(E::invalid_value(
                Unexpected::Other("the node looked for"),
                &"any other",
            ))
        } else {
            // A scalar where the path goes on: no such node.
            Ok(())
        }
    }

    fn rest(&self) -> Seek<'_, '_> {
        Seek {
            path: &self.path[1..],
            found: self.found,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Seek<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> de::Visitor<'de> for Seek<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.here()
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.here()
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.here()
    }
    fn visit_i128<E: de::Error>(self, _: i128) -> Result<(), E> {
        self.here()
    }
    fn visit_u128<E: de::Error>(self, _: u128) -> Result<(), E> {
        self.here()
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.here()
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.here()
    }
    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<(), E> {
        self.here()
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.here()
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.here()
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Some(&step) = self.path.first() else {
            return self.here();
        };
        let Step::Index(want) = step else {
            return Ok(());
        };
        for _ in 0..want {
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Ok(());
            }
        }
        seq.next_element_seed(self.rest()).map(|_| ())
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some(&step) = self.path.first() else {
            return self.here();
        };
        let Step::Key(want) = step else {
            return Ok(());
        };
        while let Some(key) = map.next_key::<KeyText>()? {
            if key.0.as_deref() == Some(want) {
                return map.next_value_seed(self.rest());
            }
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }
}

/// A mapping key as text (`1` and `true` as written); None for a key that is a collection.
struct KeyText(Option<String>);

impl<'de> de::Deserialize<'de> for KeyText {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> de::Visitor<'de> for V {
            type Value = KeyText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyText, E> {
                Ok(KeyText(Some(v.to_string())))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<KeyText, E> {
                Ok(KeyText(Some(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<KeyText, E> {
                Ok(KeyText(Some(v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<KeyText, E> {
                Ok(KeyText(Some(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<KeyText, E> {
                Ok(KeyText(Some(v.to_string())))
            }
            fn visit_unit<E: de::Error>(self) -> Result<KeyText, E> {
                Ok(KeyText(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<KeyText, E> {
                Ok(KeyText(None))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<KeyText, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(KeyText(None))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<KeyText, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(KeyText(None))
            }
        }
        d.deserialize_any(V)
    }
}

fn check_size(text: &str) -> Result<(), Error> {
    if text.len() > MAX_BYTES {
        return Err(Error {
            line: 0,
            column: 0,
            message: format!(
                "the YAML text is {} bytes, over the limit of {} MiB for a YAML file",
                text.len(),
                MAX_BYTES / (1024 * 1024)
            ),
            over_limit: true,
        });
    }
    Ok(())
}

/// The reader's settings; see the crate documentation.
fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_aliases: MAX_ALIASES,
            max_anchors: MAX_ANCHORS,
            max_depth: MAX_DEPTH,
            // The replay limit bounds what aliases expand to; a ratio of aliases to anchors would
            // also refuse an honest file that names a few notes many times.
            enforce_alias_anchor_ratio: false,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: MAX_REPLAYED_EVENTS,
            max_replay_stack_depth: MAX_DEPTH,
        },
        // Touchstone draws its own snippets (miette) from the line and column.
        with_snippet: false,
        duplicate_keys: DuplicateKeyPolicy::PassThrough,
        merge_keys: MergeKeyPolicy::AsOrdinary,
        strict_booleans: true,
        null_as_string: true,
        leading_zero_numbers_as_strings: true,
        underscored_numbers_as_strings: true,
        non_finite_float_policy: NonFiniteFloatPolicy::PassThrough,
    }
}

/// The error as Touchstone shows it: located (at the node of `path` when serde-saphyr has no
/// location for it), the message after the path.
fn convert(text: &str, e: &serde_saphyr::Error, path: Option<&serde_path_to_error::Path>) -> Error {
    let steps: Vec<Step<'_>> = path.map(steps).unwrap_or_default();
    let (line, column) = e
        .location()
        .map(|l| (to_usize(l.line()), to_usize(l.column())))
        .or_else(|| locate(text, &steps))
        .unwrap_or((0, 0));
    // The error itself, under the wrappers that add where an alias was used and a snippet.
    let mut inner = e;
    while let serde_saphyr::Error::AliasError { error, .. }
    | serde_saphyr::Error::WithSnippet { error, .. } = inner
    {
        inner = error;
    }
    let over_limit = matches!(
        inner,
        serde_saphyr::Error::Budget { .. }
            | serde_saphyr::Error::AliasReplayLimitExceeded { .. }
            | serde_saphyr::Error::AliasExpansionLimitExceeded { .. }
            | serde_saphyr::Error::AliasReplayStackDepthExceeded { .. }
            | serde_saphyr::Error::AliasReplayCounterOverflow { .. }
    );
    // The message alone (the caller places the location); control characters escaped, as a
    // message may quote the offending text.
    let text = serde_saphyr::UserMessageFormatter.format_message(inner);
    let mut message = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
            message.extend(c.escape_debug());
        } else {
            message.push(c);
        }
    }
    if !steps.is_empty() {
        message = format!("{}: {message}", show(&steps));
    }
    if over_limit {
        message = format!(
            "{message}; refused: the document is larger or expands further than a YAML file \
             Touchstone reads may (at most {MAX_ALIASES} aliases, {MAX_REPLAYED_EVENTS} events \
             replayed through aliases, nesting {MAX_DEPTH} deep)"
        );
    }
    Error {
        line,
        column,
        message,
        over_limit,
    }
}

/// A serde_path_to_error path as steps, up to its first step that names no key or index.
fn steps(path: &serde_path_to_error::Path) -> Vec<Step<'_>> {
    use serde_path_to_error::Segment;
    path.iter()
        .map_while(|segment| match segment {
            Segment::Seq { index } => Some(Step::Index(*index)),
            Segment::Map { key } => Some(Step::Key(key.as_str())),
            Segment::Enum { variant } => Some(Step::Key(variant.as_str())),
            Segment::Unknown => None,
        })
        .collect()
}

/// A path as serde_yaml wrote it: `tasks[0].scorers[1]`.
fn show(steps: &[Step<'_>]) -> String {
    let mut out = String::new();
    for step in steps {
        match step {
            Step::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_has_the_location_when_known() {
        let e = Error {
            line: 3,
            column: 7,
            message: "bad".into(),
            over_limit: false,
        };
        assert_eq!(e.to_string(), "bad at line 3 column 7");
        let e = Error { line: 0, ..e };
        assert_eq!(e.to_string(), "bad");
    }
}
