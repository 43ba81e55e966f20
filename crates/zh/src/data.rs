//! Parsers of the curated data files in `data/`. Shared by `build.rs` (which turns them into
//! static tables) and the unit tests (which check the error messages), so both agree on syntax.
//!
//! Every file is UTF-8 text, one `char<TAB>value` entry per line; blank lines and lines starting
//! with `#` are comments.

use std::collections::BTreeMap;
use std::fmt;

/// A syntax error in a data file, with its 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

fn err(line: usize, message: impl Into<String>) -> LineError {
    LineError {
        line,
        message: message.into(),
    }
}

/// The `(line, char, value)` entries of a `char<TAB>value` file, keys unique.
fn entries(text: &str) -> Result<Vec<(usize, char, &str)>, LineError> {
    let mut seen: BTreeMap<char, usize> = BTreeMap::new();
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let trimmed = raw.trim_end_matches('\r');
        if trimmed.trim().is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let Some((key, value)) = trimmed.split_once('\t') else {
            return Err(err(
                line,
                "expected `character<TAB>value`; separate the two columns with one tab",
            ));
        };
        let mut chars = key.chars();
        let (Some(c), None) = (chars.next(), chars.next()) else {
            return Err(err(
                line,
                format!("the first column must be exactly one character, found {key:?}"),
            ));
        };
        let value = value.trim();
        if value.is_empty() {
            return Err(err(line, format!("`{c}` has an empty second column")));
        }
        if let Some(first) = seen.insert(c, line) {
            return Err(err(
                line,
                format!(
                    "`{c}` is listed twice (first on line {first}); keep one line per character"
                ),
            ));
        }
        out.push((line, c, value));
    }
    Ok(out)
}

fn is_han(c: char) -> bool {
    matches!(c as u32, 0x2E80..=0x2FDF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3134F)
}

/// `split.txt`: a character and its written parts (拆字), e.g. `好<TAB>女子`.
pub fn parse_split(text: &str) -> Result<Vec<(char, String)>, LineError> {
    let mut out = Vec::new();
    for (line, c, parts) in entries(text)? {
        let n = parts.chars().count();
        if n < 2 {
            return Err(err(
                line,
                format!("`{c}` must split into at least two parts, found {parts:?}"),
            ));
        }
        if let Some(bad) = parts.chars().find(|p| !is_han(*p)) {
            return Err(err(
                line,
                format!("part {bad:?} of `{c}` is not a Han character or radical"),
            ));
        }
        if parts.contains(c) {
            return Err(err(line, format!("`{c}` cannot be one of its own parts")));
        }
        out.push((c, parts.to_string()));
    }
    Ok(out)
}

/// `homophones.txt`: a character and the characters that sound the same, e.g. `炸<TAB>榨咋`.
pub fn parse_homophones(text: &str) -> Result<Vec<(char, Vec<char>)>, LineError> {
    let mut out = Vec::new();
    for (line, c, value) in entries(text)? {
        let mut list: Vec<char> = Vec::new();
        for h in value.chars() {
            if !is_han(h) {
                return Err(err(
                    line,
                    format!("homophone {h:?} of `{c}` is not a Han character"),
                ));
            }
            if h == c {
                return Err(err(line, format!("`{c}` cannot be its own homophone")));
            }
            if list.contains(&h) {
                return Err(err(
                    line,
                    format!("homophone `{h}` of `{c}` is listed twice"),
                ));
            }
            list.push(h);
        }
        out.push((c, list));
    }
    Ok(out)
}

/// `s2t_preferred.txt`: for a simplified character with several traditional forms, the one
/// `to_traditional` gives, e.g. `发<TAB>發` (a character may name itself to stay unchanged).
pub fn parse_preferred(text: &str) -> Result<Vec<(char, char, usize)>, LineError> {
    let mut out = Vec::new();
    for (line, c, value) in entries(text)? {
        let mut chars = value.chars();
        let (Some(t), None) = (chars.next(), chars.next()) else {
            return Err(err(
                line,
                format!("`{c}` must name exactly one traditional character, found {value:?}"),
            ));
        };
        out.push((c, t, line));
    }
    Ok(out)
}
