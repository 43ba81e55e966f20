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
//!   a few lines that expand to gigabytes) or nested deeper than [`MAX_DEPTH`];
//! - more than [`MAX_ALIASES`] aliases or [`MAX_ANCHORS`] anchors, nesting deeper than
//!   [`MAX_DEPTH`], and the parser's own limits on events, nodes and scalar bytes.
//!
//! Values are typed as Touchstone's files were always read (YAML 1.2, as `serde_yaml` 0.9 read
//! them): only `true`/`false` are booleans (`yes` and `on` are text); where the type is open
//! (a scorer's options) `0755` and `1_000` are text; a bare `key:` or `key: null` in a text
//! field is that text; `<<` is an ordinary key (no merging); a key given twice goes to the type
//! (a struct refuses it, a map keeps the last); `.nan` and `.inf` are numbers.
//!
//! Errors carry the 1-based line and column of the offending node ([`Error`]).

use std::fmt;

use serde::de::{DeserializeOwned, DeserializeSeed};
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
    /// What is wrong, without the location.
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
    check_size(text)?;
    serde_saphyr::from_str_with_options(text, options()).map_err(convert)
}

/// Reads `text` as one YAML document through `seed`: for a walk over the document that is not
/// a plain type (e.g. finding the node at a path to report an error there). An error the seed
/// raises carries the location of the node it was raised at.
pub fn from_str_seed<'de, S: DeserializeSeed<'de>>(
    text: &'de str,
    seed: S,
) -> Result<S::Value, Error> {
    check_size(text)?;
    serde_saphyr::with_deserializer_from_str_with_options(text, options(), |de| {
        seed.deserialize(de)
    })
    .map_err(convert)
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

fn convert(e: serde_saphyr::Error) -> Error {
    let (line, column) = e
        .location()
        .map(|l| (to_usize(l.line()), to_usize(l.column())))
        .unwrap_or((0, 0));
    // The error itself, under the wrappers that add where an alias was used and a snippet.
    let mut inner = &e;
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
    let text = serde_saphyr::DefaultMessageFormatter.format_message(inner);
    let mut message = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
            message.extend(c.escape_debug());
        } else {
            message.push(c);
        }
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
