//! Turning one source record (a JSON object, a CSV row, a Parquet row — all presented as a JSON
//! object) into a `Sample` according to a `FieldMap`, and keeping sample ids unique and stable.

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;

use serde_json::{Map, Value};
use touchstone_core::{ChoicesField, FieldMap, Input, Message, Role, Sample, Target};

use crate::error::{DataError, Location};

/// Hex digits of SHA-256 kept for a content-hash id (64 bits: collisions are negligible, and
/// identical samples are told apart by a suffix anyway).
const HASH_ID_LEN: usize = 16;

pub(crate) type Record = Map<String, Value>;

/// Rewrites a record of a public set's native layout into one with the default field names
/// (`id`, `input`, `target`, `choices`, `metadata`), checking the native fields on the way.
pub(crate) type Adapter = Box<dyn FnMut(Record, Location) -> Result<Record, DataError> + Send>;

pub(crate) struct Mapper {
    fields: FieldMap,
    path: PathBuf,
    adapter: Option<Adapter>,
    /// Hash of each id seen so far -> where it was seen. Hashes, not ids, keep memory small for
    /// large datasets.
    /// The line or row number is kept as u32 (the kind is the file's own), 12 bytes an entry.
    seen: HashMap<u64, u32>,
    /// Whether ids given by the file are checked for repeats. A caller that has already read
    /// the file once (the engine's planning pass) turns it off to keep memory flat; content
    /// ids are always tracked, because their numbering depends on it.
    check_given_ids: bool,
}

impl Mapper {
    pub(crate) fn new(fields: &FieldMap, path: PathBuf) -> Self {
        Mapper {
            fields: fields.clone(),
            path,
            adapter: None,
            seen: HashMap::new(),
            check_given_ids: true,
        }
    }

    /// A mapper for a public set: `adapter` produces records with the default field names,
    /// and the rest (ids, repeats, content hashes) works as for any file.
    pub(crate) fn with_adapter(path: PathBuf, adapter: Adapter) -> Self {
        Mapper {
            adapter: Some(adapter),
            ..Mapper::new(&FieldMap::default(), path)
        }
    }

    pub(crate) fn set_check_given_ids(&mut self, on: bool) {
        self.check_given_ids = on;
    }

    pub(crate) fn path(&self) -> &PathBuf {
        &self.path
    }

    pub(crate) fn map(&mut self, rec: Record, at: Location) -> Result<Sample, DataError> {
        if let Some((field, position)) = find_nul(&rec) {
            return Err(self.bad(
                at,
                &field,
                format!(
                    "contains a NUL byte (U+0000) at character {position}; text fields cannot \
                     hold NUL (it usually means a binary or UTF-16 file): remove it or re-save the \
                     file as UTF-8 / 字段含有 NUL 字符"
                ),
            ));
        }
        let mut rec = match self.adapter.as_mut() {
            Some(adapt) => adapt(rec, at)?,
            None => rec,
        };
        let input_name = self.fields.input.clone();
        let input = match rec.get(&input_name) {
            None => return Err(self.missing(&rec, at, &input_name, "input")),
            Some(v) => self.input(v, at, &input_name)?,
        };
        let target = match rec.get(&self.fields.target) {
            None | Some(Value::Null) => Target::default(),
            Some(v) => self.target(v, at)?,
        };
        let choices = self.choices(&rec, at)?;
        let cluster = match self.fields.cluster.clone() {
            None => None,
            Some(name) => match rec.get(&name) {
                None => return Err(self.missing(&rec, at, &name, "cluster")),
                Some(Value::Null) => None,
                Some(v) => {
                    Some(self.scalar_string(v, at, &name, "a cluster name (text or number)")?)
                }
            },
        };

        let mut metadata = Map::new();
        match rec.remove("metadata") {
            None | Some(Value::Null) => {}
            Some(Value::Object(m)) => metadata.extend(m),
            // CSV cells are text; a cell holding a JSON object is merged like a JSON object.
            Some(Value::String(s)) => match serde_json::from_str::<Value>(&s) {
                Ok(Value::Object(m)) => metadata.extend(m),
                _ => {
                    metadata.insert("metadata".into(), Value::String(s));
                }
            },
            Some(other) => {
                metadata.insert("metadata".into(), other);
            }
        }
        for name in &self.fields.metadata {
            // A trailing `?` marks an optional field (e.g. a bank's `source`).
            let (name, optional) = match name.strip_suffix('?') {
                Some(n) => (n, true),
                None => (name.as_str(), false),
            };
            match rec.get(name) {
                // `metadata` was taken above; asking for it again is not an error.
                None if name == "metadata" || optional => {}
                None => return Err(self.missing(&rec, at, name, "metadata")),
                Some(v) => {
                    metadata.insert(name.to_string(), v.clone());
                }
            }
        }

        let given = match rec.get(&self.fields.id) {
            None | Some(Value::Null) => None,
            Some(v) => {
                let id_name = self.fields.id.clone();
                let s = self.scalar_string(v, at, &id_name, "an id (text or number)")?;
                if s.is_empty() { None } else { Some(s) }
            }
        };
        let id = match given {
            Some(id) if !self.check_given_ids => id,
            Some(id) => {
                let h = hash64(&id);
                if let Some(&first) = self.seen.get(&h) {
                    let first = match at {
                        Location::Line(_) => Location::Line(u64::from(first)),
                        Location::Row(_) => Location::Row(u64::from(first)),
                    };
                    return Err(DataError::DuplicateId {
                        path: self.path.clone(),
                        id,
                        first,
                        second: at,
                    });
                }
                self.seen.insert(h, compact(at));
                id
            }
            None => {
                let base = content_id(&input, &target, choices.as_deref());
                // Identical samples get the same hash; number repeats in file order, which is
                // just as stable as the hash itself.
                let mut id = base.clone();
                let mut n = 1u64;
                while self.seen.contains_key(&hash64(&id)) {
                    n += 1;
                    id = format!("{base}-{n}");
                }
                self.seen.insert(hash64(&id), compact(at));
                id
            }
        };

        Ok(Sample {
            id,
            input,
            target,
            choices,
            cluster,
            metadata,
        })
    }

    fn missing(&self, rec: &Record, at: Location, field: &str, role: &'static str) -> DataError {
        DataError::MissingField {
            path: self.path.clone(),
            at,
            field: field.to_string(),
            role,
            available: rec.keys().cloned().collect(),
        }
    }

    fn bad(&self, at: Location, field: &str, message: String) -> DataError {
        DataError::BadValue {
            path: self.path.clone(),
            at,
            field: field.to_string(),
            message,
        }
    }

    fn scalar_string(
        &self,
        v: &Value,
        at: Location,
        field: &str,
        what: &str,
    ) -> Result<String, DataError> {
        scalar(v).ok_or_else(|| self.bad(at, field, format!("expected {what}, found {}", kind(v))))
    }

    fn input(&self, v: &Value, at: Location, field: &str) -> Result<Input, DataError> {
        match v {
            Value::String(s) => Ok(Input::Text(s.clone())),
            Value::Number(n) => Ok(Input::Text(n.to_string())),
            Value::Array(items) => {
                if items.is_empty() {
                    return Err(self.bad(
                        at,
                        field,
                        "the input is an empty list of messages".into(),
                    ));
                }
                let mut messages = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    messages.push(
                        self.message(item)
                            .map_err(|m| self.bad(at, field, format!("message {}: {m}", i + 1)))?,
                    );
                }
                Ok(Input::Messages(messages))
            }
            other => Err(self.bad(
                at,
                field,
                format!(
                    "expected text or a list of chat messages {{role, content}}, found {}",
                    kind(other)
                ),
            )),
        }
    }

    fn message(&self, v: &Value) -> Result<Message, String> {
        let Value::Object(m) = v else {
            return Err(format!(
                "expected an object {{role, content}}, found {}",
                kind(v)
            ));
        };
        let role = match m.get("role") {
            Some(Value::String(r)) => match r.as_str() {
                "system" => Role::System,
                "user" => Role::User,
                "assistant" => Role::Assistant,
                other => {
                    return Err(format!(
                        "role `{other}` is not supported; use system, user or assistant"
                    ));
                }
            },
            Some(other) => return Err(format!("`role` must be text, found {}", kind(other))),
            None => return Err("no `role`".into()),
        };
        let content = match m.get("content") {
            Some(Value::String(c)) => c.clone(),
            // Content as a list of parts (OpenAI / Inspect style): keep the text parts.
            Some(Value::Array(parts)) => {
                let mut texts = Vec::new();
                for part in parts {
                    match part.get("text") {
                        Some(Value::String(t)) => texts.push(t.as_str()),
                        _ => {
                            return Err(
                                "only text content parts ({type: text, text}) are supported".into(),
                            );
                        }
                    }
                }
                texts.join("\n")
            }
            Some(other) => return Err(format!("`content` must be text, found {}", kind(other))),
            None => return Err("no `content`".into()),
        };
        Ok(Message { role, content })
    }

    fn target(&self, v: &Value, at: Location) -> Result<Target, DataError> {
        let field = &self.fields.target;
        match v {
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(scalar(item).ok_or_else(|| {
                        self.bad(
                            at,
                            field,
                            format!(
                                "a target list must hold text or numbers, found {}",
                                kind(item)
                            ),
                        )
                    })?);
                }
                Ok(Target(out))
            }
            other => Ok(Target::one(self.scalar_string(
                other,
                at,
                field,
                "text, a number or a list of them",
            )?)),
        }
    }

    fn choices(&self, rec: &Record, at: Location) -> Result<Option<Vec<String>>, DataError> {
        match &self.fields.choices {
            ChoicesField::One(name) => match rec.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Array(items)) => self.choice_list(items, at, name).map(Some),
                // A CSV cell may hold a JSON list of options.
                Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
                    Ok(Value::Array(items)) => self.choice_list(&items, at, name).map(Some),
                    _ => Err(self.bad(
                        at,
                        name,
                        "expected a list of options (in CSV, a JSON list like [\"a\", \"b\"]); for one column \
                         per option, set `fields.choices` to the list of column names"
                            .into(),
                    )),
                },
                Some(other) => Err(self.bad(at, name, format!("expected a list of options, found {}", kind(other)))),
            },
            ChoicesField::Many(names) => {
                let mut out = Vec::with_capacity(names.len());
                for name in names {
                    match rec.get(name) {
                        None => return Err(self.missing(rec, at, name, "choices")),
                        // An absent option (null) is left out, e.g. a 5-option column set where
                        // some questions have 4.
                        Some(Value::Null) => {}
                        Some(v) => out.push(self.scalar_string(v, at, name, "an option (text or number)")?),
                    }
                }
                Ok(Some(out))
            }
        }
    }

    fn choice_list(
        &self,
        items: &[Value],
        at: Location,
        field: &str,
    ) -> Result<Vec<String>, DataError> {
        items
            .iter()
            .map(|item| {
                scalar(item).ok_or_else(|| {
                    self.bad(
                        at,
                        field,
                        format!("options must be text or numbers, found {}", kind(item)),
                    )
                })
            })
            .collect()
    }
}

/// The first NUL character in any text of a record: its field (dotted path for nested values)
/// and 1-based character position. NUL is refused everywhere: C-string consumers (SQLite's
/// text functions, terminals, PDF) cut text at it, so what is shown would differ from what
/// was scored.
fn find_nul(rec: &Record) -> Option<(String, usize)> {
    fn walk(v: &Value, path: &str) -> Option<(String, usize)> {
        match v {
            Value::String(s) => s
                .chars()
                .position(|c| c == '\0')
                .map(|i| (path.to_string(), i + 1)),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, item)| walk(item, &format!("{path}[{i}]"))),
            Value::Object(map) => map.iter().find_map(|(k, item)| {
                nul_in_name(k, &format!("{path}.")).or_else(|| walk(item, &format!("{path}.{k}")))
            }),
            _ => None,
        }
    }
    /// A field name holding NUL: shown escaped, with the position in the name.
    fn nul_in_name(name: &str, prefix: &str) -> Option<(String, usize)> {
        let i = name.chars().position(|c| c == '\0')?;
        Some((
            format!("{prefix}{} (its name)", name.replace('\0', "\\0")),
            i + 1,
        ))
    }
    rec.iter()
        .find_map(|(k, v)| nul_in_name(k, "").or_else(|| walk(v, k)))
}

/// Text of a scalar JSON value: strings as they are, numbers and booleans as written.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn hash64(s: &str) -> u64 {
    // DefaultHasher::new() uses fixed keys, so this is deterministic within a process, which is
    // all the duplicate check needs.
    let mut h = DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

/// The content-hash id of a sample: a hex SHA-256 prefix of the JSON array
/// `[input, target, choices]`. An array (not an object) keeps the bytes independent of
/// serde_json's map ordering.
pub fn content_id(input: &Input, target: &Target, choices: Option<&[String]>) -> String {
    let canonical = serde_json::to_vec(&(input, &target.0, choices)).unwrap_or_default();
    let mut hex = crate::sha256_hex(&canonical);
    hex.truncate(HASH_ID_LEN);
    hex
}

/// A line or row number for the duplicate-id table; files past 4 billion lines report the
/// largest u32, which still names the file and the id.
fn compact(at: Location) -> u32 {
    u32::try_from(at.number()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rec(v: Value) -> Record {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    fn mapper() -> Mapper {
        Mapper::new(&FieldMap::default(), "t.jsonl".into())
    }

    #[test]
    fn nul_in_any_text_is_refused_with_its_row_and_field() {
        let e = mapper()
            .map(
                rec(json!({"input": "ok", "target": "a\u{0}b"})),
                Location::Row(7),
            )
            .unwrap_err()
            .to_string();
        assert!(e.contains("row 7"), "{e}");
        assert!(e.contains("`target`"), "{e}");
        assert!(e.contains("NUL") && e.contains("character 2"), "{e}");
        let e = mapper()
            .map(
                rec(json!({"input": "ok", "metadata": {"tags": ["x", "\u{0}"]}})),
                Location::Line(3),
            )
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 3") && e.contains("metadata.tags[1]"),
            "{e}"
        );
        assert!(
            mapper()
                .map(rec(json!({"input": "ok"})), Location::Row(1))
                .is_ok()
        );
    }

    #[test]
    fn maps_inspect_fields() {
        let s = mapper()
            .map(
                rec(json!({"id": 7, "input": "q", "target": 18, "choices": ["a", 2], "metadata": {"k": 1}})),
                Location::Line(1),
            )
            .unwrap();
        assert_eq!(s.id, "7");
        assert_eq!(s.input, Input::Text("q".into()));
        assert_eq!(s.target, Target::one("18"));
        assert_eq!(s.choices, Some(vec!["a".into(), "2".into()]));
        assert_eq!(s.metadata.get("k"), Some(&json!(1)));
    }

    #[test]
    fn chat_input_and_target_list() {
        let s = mapper()
            .map(
                rec(json!({"input": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}],
                           "target": ["x", "y"]})),
                Location::Line(2),
            )
            .unwrap();
        assert_eq!(
            s.input,
            Input::Messages(vec![Message::system("s"), Message::user("u")])
        );
        assert_eq!(s.target, Target(vec!["x".into(), "y".into()]));
    }

    #[test]
    fn bad_role_is_named() {
        let err = mapper()
            .map(
                rec(json!({"input": [{"role": "robot", "content": "u"}]})),
                Location::Line(4),
            )
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 4, field `input`: message 1: role `robot`"),
            "{err}"
        );
    }

    #[test]
    fn content_ids_are_stable_and_repeats_numbered() {
        let mut m = mapper();
        let a = m
            .map(rec(json!({"input": "q", "target": "t"})), Location::Line(1))
            .unwrap();
        let b = m
            .map(rec(json!({"input": "q", "target": "t"})), Location::Line(2))
            .unwrap();
        let mut m2 = mapper();
        let a2 = m2
            .map(rec(json!({"input": "q", "target": "t"})), Location::Line(1))
            .unwrap();
        assert_eq!(a.id.len(), HASH_ID_LEN);
        assert_eq!(a.id, a2.id);
        assert_eq!(b.id, format!("{}-2", a.id));
    }

    #[test]
    fn metadata_fields_and_cluster() {
        let fields = FieldMap {
            cluster: Some("passage".into()),
            metadata: vec!["subject".into()],
            ..FieldMap::default()
        };
        let mut m = Mapper::new(&fields, "t.csv".into());
        let s = m
            .map(rec(json!({"input": "q", "passage": 3, "subject": "math", "metadata": "{\"a\": true}"})), Location::Row(2))
            .unwrap();
        assert_eq!(s.cluster.as_deref(), Some("3"));
        assert_eq!(s.metadata.get("subject"), Some(&json!("math")));
        assert_eq!(s.metadata.get("a"), Some(&json!(true)));
        let err = m
            .map(rec(json!({"input": "q", "passage": 3})), Location::Row(3))
            .unwrap_err()
            .to_string();
        assert!(err.contains("row 3 has no field `subject`"), "{err}");
    }

    #[test]
    fn object_target_is_rejected() {
        let err = mapper()
            .map(
                rec(json!({"input": "q", "target": {"a": 1}})),
                Location::Line(9),
            )
            .unwrap_err();
        assert!(
            matches!(err, DataError::BadValue { ref field, .. } if field == "target"),
            "{err}"
        );
    }
}
