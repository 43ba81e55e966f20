//! SafetyBench: questions in one JSON array joined with the answer key of a separate file,
//! both whole JSON documents ([`crate::native::JsonDoc`]), walked question by question.

use std::collections::HashMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use serde_json::Value;
use touchstone_core::{DatasetFormat, Sample};

use crate::error::{DataError, Location};
use crate::mapping::{Mapper, Record, kind};
use crate::native::{JsonDoc, MAX_DOCUMENT_BYTES, Native, common, letter, read_document, record};
use crate::{ReadOptions, SampleStream};

const SAFETYBENCH_FIELDS: &str =
    "a JSON array of {\"id\", \"category\", \"question\", \"options\"}";

/// The answer key that belongs to a question file: the folder is the same, and the name is
/// `<first>_answers_<rest>` where the question file's name is `<first>_<rest>` (the name is
/// split at its first `_`): `test_zh_subset.json` → `test_answers_zh_subset.json`,
/// `test_en.json` → `test_answers_en.json`. A name without `_` gets `_answers` before its
/// extension (`questions.json` → `questions_answers.json`).
pub(crate) fn answers_path(questions: &Path) -> PathBuf {
    let name = questions
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (stem, ext) = match name.find('.') {
        Some(i) if i > 0 => name.split_at(i),
        _ => (name.as_str(), ""),
    };
    let key = match stem.split_once('_') {
        Some((first, rest)) => format!("{first}_answers_{rest}{ext}"),
        None => format!("{stem}_answers{ext}"),
    };
    questions.with_file_name(key)
}

/// Questions in `questions` joined with the key in `answers`, or when None the key
/// [`answers_path`] names (see [`crate::open_safetybench`]).
pub(crate) fn open(
    questions: &Path,
    answers: Option<&Path>,
    options: ReadOptions,
) -> Result<SampleStream, DataError> {
    let key_path = answers.map_or_else(|| answers_path(questions), Path::to_path_buf);
    let file = touchstone_input::open(questions).map_err(|source| DataError::Open {
        path: questions.to_path_buf(),
        source,
    })?;
    let key_file = touchstone_input::open(&key_path).map_err(|source| DataError::NoAnswerKey {
        path: questions.to_path_buf(),
        key: key_path.clone(),
        source,
    })?;
    let key = read_document(key_file, &key_path, MAX_DOCUMENT_BYTES)?;
    let bytes = read_document(file, questions, MAX_DOCUMENT_BYTES)?;
    let stream = SafetybenchStream::new(
        questions.to_path_buf(),
        bytes,
        key_path,
        key,
        options.check_duplicate_ids,
    )?;
    Ok(Box::new(stream))
}

/// Questions and answer key from memory; `source` names the questions in errors and the key
/// is named after it (see [`crate::read_safetybench_bytes`]).
pub(crate) fn from_bytes(
    questions: Vec<u8>,
    answers: Vec<u8>,
    source: &Path,
) -> Result<SampleStream, DataError> {
    let key_path = answers_path(source);
    let key = read_document(Cursor::new(answers), &key_path, MAX_DOCUMENT_BYTES)?;
    let bytes = read_document(Cursor::new(questions), source, MAX_DOCUMENT_BYTES)?;
    let stream = SafetybenchStream::new(source.to_path_buf(), bytes, key_path, key, true)?;
    Ok(Box::new(stream))
}

struct Answer {
    /// 0 = A.
    index: usize,
    line: u64,
}

struct AnswerKey {
    path: PathBuf,
    answers: HashMap<String, Answer>,
}

impl AnswerKey {
    fn parse(path: PathBuf, bytes: Vec<u8>) -> Result<Self, DataError> {
        let mut doc = JsonDoc::new(path.clone(), bytes);
        doc.expect(
            b'{',
            "an answer key: a JSON object {\"<id>\": {\"answer\": 0-3}}",
        )?;
        let mut answers = HashMap::new();
        if !doc.eat(b'}') {
            loop {
                doc.skip_ws();
                let at = doc.at();
                let id = match doc.value()? {
                    Value::String(id) => id,
                    other => {
                        return Err(DataError::BadRecord {
                            path,
                            at,
                            message: format!(
                                "expected a question id (a JSON string key), found {}",
                                kind(&other)
                            ),
                        });
                    }
                };
                doc.expect(b':', "`:`")?;
                let entry = doc.value()?;
                let index = key_answer(&entry).map_err(|message| DataError::BadValue {
                    path: path.clone(),
                    at,
                    field: "answer".into(),
                    message: format!("id `{id}`: {message}"),
                })?;
                let line = at.number();
                if let Some(first) = answers.insert(id.clone(), Answer { index, line }) {
                    return Err(DataError::DuplicateId {
                        path,
                        id,
                        first: Location::Line(first.line),
                        second: at,
                    });
                }
                if doc.eat(b',') {
                    continue;
                }
                doc.expect(b'}', "`,` or `}`")?;
                break;
            }
        }
        doc.end()?;
        Ok(AnswerKey { path, answers })
    }
}

/// The answer of one key entry: `{"answer": 0-3}` (0 = A), or a letter.
fn key_answer(entry: &Value) -> Result<usize, String> {
    let Value::Object(m) = entry else {
        return Err(format!(
            "expected an object {{\"category\", \"answer\"}}, found {}",
            kind(entry)
        ));
    };
    match m.get("answer") {
        None => Err("the entry has no `answer`".into()),
        Some(Value::Number(n)) => n
            .as_u64()
            .filter(|&a| a < 26)
            .map(|a| a as usize)
            .ok_or_else(|| format!("expected an option number (0 = A), found {n}")),
        Some(Value::String(s)) if s.len() == 1 && s.as_bytes()[0].is_ascii_uppercase() => {
            Ok(usize::from(s.as_bytes()[0] - b'A'))
        }
        Some(other) => Err(format!(
            "expected an option number (0 = A) or a letter, found {}",
            match other {
                Value::String(s) => format!("`{s}`"),
                v => kind(v).to_string(),
            }
        )),
    }
}

/// `zh` or `en` when the file name says so (`test_zh_subset.json`).
fn lang_from_name(path: &Path) -> Option<&'static str> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    name.split(['_', '-', '.']).find_map(|t| match t {
        "zh" => Some("zh"),
        "en" => Some("en"),
        _ => None,
    })
}

fn has_cjk(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    Items,
    Done,
}

struct SafetybenchStream {
    doc: JsonDoc,
    key: AnswerKey,
    mapper: Mapper,
    lang: Option<&'static str>,
    state: State,
}

impl SafetybenchStream {
    /// Parses the answer key now (its errors come first); questions are read as the stream
    /// is drained.
    fn new(
        path: PathBuf,
        questions: Vec<u8>,
        key_path: PathBuf,
        key: Vec<u8>,
        check_given_ids: bool,
    ) -> Result<Self, DataError> {
        let key = AnswerKey::parse(key_path, key)?;
        let mut mapper = Mapper::new(&Default::default(), path.clone());
        mapper.set_check_given_ids(check_given_ids);
        Ok(SafetybenchStream {
            lang: lang_from_name(&path),
            doc: JsonDoc::new(path, questions),
            key,
            mapper,
            state: State::Start,
        })
    }

    fn next_sample(&mut self) -> Result<Option<Sample>, DataError> {
        match self.state {
            State::Done => return Ok(None),
            State::Start => {
                self.doc.expect(b'[', SAFETYBENCH_FIELDS)?;
                if self.doc.eat(b']') {
                    self.doc.end()?;
                    return Err(DataError::Empty {
                        path: self.doc.path.clone(),
                    });
                }
                self.state = State::Items;
            }
            State::Items => {
                if self.doc.eat(b']') {
                    self.doc.end()?;
                    self.state = State::Done;
                    return Ok(None);
                }
                self.doc.expect(b',', "`,` or `]`")?;
            }
        }
        self.doc.skip_ws();
        let at = self.doc.at();
        let value = self.doc.value()?;
        let rec = self.question(value, at)?;
        self.mapper.map(rec, at).map(Some)
    }

    /// A question object as a record with the default field names, joined with its answer.
    fn question(&self, value: Value, at: Location) -> Result<Record, DataError> {
        let path = &self.doc.path;
        let Value::Object(rec) = value else {
            return Err(DataError::BadRecord {
                path: path.clone(),
                at,
                message: format!(
                    "expected a question object, found {}; the file holds {SAFETYBENCH_FIELDS}",
                    kind(&value)
                ),
            });
        };
        let mut row = Native::new(
            rec,
            at,
            path,
            DatasetFormat::Safetybench,
            SAFETYBENCH_FIELDS,
        );
        let Some(id) = row.opt_scalar("id")? else {
            return Err(row.missing("id"));
        };
        let question = row.prompt("question")?;
        let options = match row.take("options") {
            None | Some(Value::Null) => return Err(row.missing("options")),
            Some(Value::Array(items)) => row.text_items("options", &items)?,
            Some(other) => {
                return Err(row.bad(
                    "options",
                    format!("expected a list of options, found {}", kind(&other)),
                ));
            }
        };
        if options.is_empty() {
            return Err(row.bad("options", "the list of options is empty".into()));
        }
        let category = row.opt_text("category")?;
        let Some(answer) = self.key.answers.get(&id) else {
            return Err(DataError::MissingAnswer {
                path: path.clone(),
                at,
                id,
                key: self.key.path.clone(),
            });
        };
        if answer.index >= options.len() {
            return Err(DataError::BadValue {
                path: self.key.path.clone(),
                at: Location::Line(answer.line),
                field: "answer".into(),
                message: format!(
                    "id `{id}`: answer {} ({}) is out of range: the question ({}, {at}) has {} options",
                    answer.index,
                    letter(answer.index),
                    path.display(),
                    options.len()
                ),
            });
        }
        let lang = self
            .lang
            .unwrap_or(if has_cjk(&question) { "zh" } else { "en" });
        let mut meta = common("safetybench", lang);
        if let Some(c) = category {
            meta.insert("category".into(), c.into());
        }
        Ok(record(
            Some(id),
            question,
            Some(letter(answer.index)),
            Some(options),
            meta,
        ))
    }
}

impl Iterator for SafetybenchStream {
    type Item = Result<Sample, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.state == State::Done {
            return None;
        }
        let item = self.next_sample().transpose();
        if !matches!(item, Some(Ok(_))) {
            self.state = State::Done;
            // The document is not needed any more.
            self.doc.bytes = Vec::new();
        }
        item
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(questions: &str, key: &str) -> Result<Vec<Sample>, DataError> {
        SafetybenchStream::new(
            "q_zh.json".into(),
            questions.as_bytes().to_vec(),
            "q_answers_zh.json".into(),
            key.as_bytes().to_vec(),
            true,
        )?
        .collect()
    }

    #[test]
    fn answer_key_names() {
        assert_eq!(
            answers_path(Path::new("d/test_zh_subset.json")),
            Path::new("d/test_answers_zh_subset.json")
        );
        assert_eq!(
            answers_path(Path::new("test_en.json.gz")),
            Path::new("test_answers_en.json.gz")
        );
        assert_eq!(
            answers_path(Path::new("questions.json")),
            Path::new("questions_answers.json")
        );
    }

    #[test]
    fn joins_answers_as_letters() {
        let q = "[\n {\"id\": 7, \"category\": \"c\", \"question\": \"q?\", \"options\": [\"a\", \"b\", \"c\"]},\n {\"id\": \"x\", \"question\": \"r?\", \"options\": [\"a\", \"b\"]}\n]\n";
        let k = "{\"7\": {\"answer\": 2}, \"x\": {\"answer\": \"A\"}, \"unused\": {\"answer\": 0}}";
        let s = stream(q, k).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].id.as_str(), s[0].target.first()), ("7", "C"));
        assert_eq!(s[0].metadata["lang"], "zh");
        assert_eq!(s[0].metadata["category"], "c");
        assert_eq!((s[1].id.as_str(), s[1].target.first()), ("x", "A"));
    }

    #[test]
    fn errors_name_the_line() {
        let q = "[\n {\"id\": 1, \"question\": \"q\", \"options\": [\"a\"]},\n {\"id\": 2, \"question\": \"q\", \"options\": [\"a\"]}\n]";
        let err = stream(q, "{\"1\": {\"answer\": 0}}")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("q_zh.json: line 3: question id `2` has no entry in the answer key q_answers_zh.json"), "{err}");

        let err = stream(q, "{\"1\": {\"answer\": 0},\n \"2\": {\"answer\": 1}}")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(
                "q_answers_zh.json: line 2, field `answer`: id `2`: answer 1 (B) is out of range"
            ),
            "{err}"
        );

        let err = stream(q, "{\"1\": {\"answer\": 0},\n \"1\": {\"answer\": 0}}")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("sample id `1` appears on line 1 and line 2"),
            "{err}"
        );

        let err = stream(
            "[\n {\"id\": 1, \"question\": \"q\", \"options\": [\"a\"]}\n {\"id\": 2}]",
            "{\"1\": {\"answer\": 0}}",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "q_zh.json: line 3, column 2: invalid JSON: expected `,` or `]`, found `{`"
        );

        let err = stream("[\n {\"id\": 1,\n  \"question\": tru}]", "{}")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("q_zh.json: line 3, column "), "{err}");

        let err = stream(
            "[\n {\"id\": 1, \"options\": [\"a\"]}]",
            "{\"1\": {\"answer\": 0}}",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("q_zh.json: line 2 has no field `question`"),
            "{err}"
        );

        let err = stream("[]", "{}").unwrap_err().to_string();
        assert_eq!(err, "q_zh.json: dataset has no samples");

        let err = stream(
            "[{\"id\": 1, \"question\": \"q\", \"options\": [\"a\"]}] x",
            "{\"1\": {\"answer\": 0}}",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("line 1, column 48: invalid JSON: unexpected text after"),
            "{err}"
        );
    }
}
