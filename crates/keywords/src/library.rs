//! Keyword libraries: JSONL or CSV files of `keyword`, `risk` and optional `variants`.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::KeywordError;
use crate::normalize::normalize;

/// One keyword of a library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeywordEntry {
    /// The canonical form, reported in matches.
    pub keyword: String,
    /// The risk code it belongs to, e.g. `A.1d`.
    pub risk: String,
    /// Other spellings that count as this keyword.
    pub variants: Vec<String>,
}

impl KeywordEntry {
    pub fn new(keyword: impl Into<String>, risk: impl Into<String>) -> Self {
        KeywordEntry {
            keyword: keyword.into(),
            risk: risk.into(),
            variants: Vec::new(),
        }
    }
}

/// A list of keywords; see [`crate::Scanner`] to search text for them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeywordLibrary {
    entries: Vec<KeywordEntry>,
}

/// Built-in libraries: (name, JSONL text).
const BUILTIN: &[(&str, &str)] = &[(
    "gbt45654-starter",
    include_str!("../libraries/gbt45654-starter.jsonl"),
)];

impl KeywordLibrary {
    pub fn from_entries(entries: Vec<KeywordEntry>) -> Self {
        KeywordLibrary { entries }
    }

    /// Reads a library file; the format follows the extension (`.jsonl`/`.ndjson` or `.csv`).
    pub fn from_path(path: &Path) -> Result<Self, KeywordError> {
        let shown = path.display().to_string();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let jsonl = match ext.as_deref() {
            Some("jsonl" | "ndjson") => true,
            Some("csv") => false,
            _ => return Err(KeywordError::UnknownFormat { path: shown }),
        };
        // A keyword library is a list of terms; 64 MiB is far beyond any published one.
        let bytes = touchstone_input::read(path, 64 * touchstone_input::MIB).map_err(|source| {
            KeywordError::Io {
                path: shown.clone(),
                source,
            }
        })?;
        if jsonl {
            Self::from_jsonl(&bytes, &shown)
        } else {
            Self::from_csv(&bytes, &shown)
        }
    }

    /// Parses JSONL text; `origin` names it in errors (a path or `builtin:NAME`).
    pub fn from_jsonl(bytes: &[u8], origin: &str) -> Result<Self, KeywordError> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut entries = Vec::new();
        for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
            let line = i + 1;
            let text = std::str::from_utf8(raw).map_err(|_| KeywordError::InvalidUtf8 {
                path: origin.into(),
                line,
            })?;
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            let value: Value =
                serde_json::from_str(text).map_err(|e| KeywordError::InvalidJson {
                    path: origin.into(),
                    line,
                    message: e.to_string(),
                })?;
            let Value::Object(map) = value else {
                return Err(KeywordError::InvalidJson {
                    path: origin.into(),
                    line,
                    message: "expected an object like {\"keyword\": \"…\", \"risk\": \"A.1d\"}"
                        .into(),
                });
            };
            let at = Loc { path: origin, line };
            let keyword = at.required_string(map.get("keyword"), "keyword")?;
            let risk = at.required_string(map.get("risk"), "risk")?;
            let variants = match map.get("variants") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(items)) => {
                    let mut out = Vec::with_capacity(items.len());
                    for item in items {
                        match item {
                            Value::String(s) => out.push(at.variant(s)?),
                            other => {
                                return Err(at.bad(
                                    "variants",
                                    format!("expected a list of strings, found the item {other}"),
                                ));
                            }
                        }
                    }
                    out
                }
                Some(other) => {
                    return Err(at.bad(
                        "variants",
                        format!("expected a list of strings, found {other}"),
                    ));
                }
            };
            entries.push(KeywordEntry {
                keyword,
                risk,
                variants,
            });
        }
        non_empty(entries, origin)
    }

    /// Parses CSV with a header row naming `keyword`, `risk` and optionally `variants`
    /// (`|`-separated); other columns are ignored.
    pub fn from_csv(bytes: &[u8], origin: &str) -> Result<Self, KeywordError> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut reader = csv::ReaderBuilder::new().from_reader(bytes);
        let csv_error = |e: csv::Error| {
            let line = e.position().map_or(1, |p| p.line() as usize);
            match e.kind() {
                csv::ErrorKind::Utf8 { .. } => KeywordError::InvalidUtf8 {
                    path: origin.into(),
                    line,
                },
                _ => KeywordError::InvalidCsv {
                    path: origin.into(),
                    line,
                    message: e.to_string(),
                },
            }
        };
        let header = reader.byte_headers().map_err(csv_error)?.clone();
        let header: Vec<String> = header
            .iter()
            .map(|h| String::from_utf8_lossy(h).trim().to_ascii_lowercase())
            .collect();
        let column = |name: &str| header.iter().position(|h| h == name);
        let at = Loc {
            path: origin,
            line: 1,
        };
        let keyword_col = column("keyword").ok_or_else(|| at.missing("keyword"))?;
        let risk_col = column("risk").ok_or_else(|| at.missing("risk"))?;
        let variants_col = column("variants");

        let mut entries = Vec::new();
        let mut record = csv::ByteRecord::new();
        while reader.read_byte_record(&mut record).map_err(csv_error)? {
            let line = record.position().map_or(0, |p| p.line() as usize);
            let at = Loc { path: origin, line };
            let field =
                |i: usize| -> Result<Option<&str>, KeywordError> {
                    match record.get(i) {
                        None => Ok(None),
                        Some(b) => std::str::from_utf8(b).map(Some).map_err(|_| {
                            KeywordError::InvalidUtf8 {
                                path: origin.into(),
                                line,
                            }
                        }),
                    }
                };
            if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
                continue; // a blank row
            }
            let keyword = at.required_str(field(keyword_col)?, "keyword")?;
            let risk = at.required_str(field(risk_col)?, "risk")?;
            let mut variants = Vec::new();
            // An empty cell is no variants; inside a list an empty part (`a||b`, `a|`) is a
            // mistake, refused as JSONL refuses `""` in its array.
            if let Some(col) = variants_col
                && let Some(list) = field(col)?.filter(|l| !l.trim().is_empty())
            {
                for v in list.split('|') {
                    variants.push(at.variant(v)?);
                }
            }
            entries.push(KeywordEntry {
                keyword,
                risk,
                variants,
            });
        }
        non_empty(entries, origin)
    }

    /// A library that ships with Touchstone, by name (see [`KeywordLibrary::builtin_names`]).
    /// The built-in files are checked by this crate's tests, so they always parse.
    pub fn builtin(name: &str) -> Option<KeywordLibrary> {
        let (_, text) = BUILTIN.iter().find(|(n, _)| *n == name)?;
        Self::from_jsonl(text.as_bytes(), &format!("builtin:{name}")).ok()
    }

    pub fn builtin_names() -> Vec<&'static str> {
        BUILTIN.iter().map(|(n, _)| *n).collect()
    }

    pub fn entries(&self) -> &[KeywordEntry] {
        &self.entries
    }

    /// The number of keywords (variants not counted).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Keywords per risk code.
    pub fn count_by_risk(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for e in &self.entries {
            *counts.entry(e.risk.clone()).or_insert(0) += 1;
        }
        counts
    }
}

fn non_empty(entries: Vec<KeywordEntry>, origin: &str) -> Result<KeywordLibrary, KeywordError> {
    if entries.is_empty() {
        return Err(KeywordError::Empty {
            path: origin.into(),
        });
    }
    Ok(KeywordLibrary { entries })
}

/// Where an entry is, for errors.
struct Loc<'a> {
    path: &'a str,
    line: usize,
}

impl Loc<'_> {
    fn missing(&self, field: &'static str) -> KeywordError {
        KeywordError::MissingField {
            path: self.path.into(),
            line: self.line,
            field,
        }
    }

    fn bad(&self, field: &'static str, message: String) -> KeywordError {
        KeywordError::BadField {
            path: self.path.into(),
            line: self.line,
            field,
            message,
        }
    }

    fn required_string(
        &self,
        v: Option<&Value>,
        field: &'static str,
    ) -> Result<String, KeywordError> {
        match v {
            None | Some(Value::Null) => Err(self.missing(field)),
            Some(Value::String(s)) => self.required_str(Some(s), field),
            Some(other) => Err(self.bad(field, format!("expected a string, found {other}"))),
        }
    }

    fn required_str(&self, v: Option<&str>, field: &'static str) -> Result<String, KeywordError> {
        let Some(s) = v else {
            return Err(self.missing(field));
        };
        let s = s.trim();
        if s.is_empty() {
            return Err(KeywordError::EmptyField {
                path: self.path.into(),
                line: self.line,
                field,
            });
        }
        if field == "keyword" {
            self.matchable(s, field)?;
        }
        Ok(s.to_string())
    }

    fn variant(&self, v: &str) -> Result<String, KeywordError> {
        let v = v.trim();
        if v.is_empty() {
            return Err(self.bad("variants", "a variant is empty; remove it".into()));
        }
        self.matchable(v, "variants")?;
        Ok(v.to_string())
    }

    /// A keyword made only of separators (`...`) would normalise to nothing and match nowhere.
    fn matchable(&self, s: &str, field: &'static str) -> Result<(), KeywordError> {
        if normalize(s).text.is_empty() {
            return Err(self.bad(
                field,
                format!("{s:?} has no letters or digits, so it can never match"),
            ));
        }
        Ok(())
    }
}
