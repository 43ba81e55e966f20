//! TruthfulQA's multiple-choice task (MC1): `mc_task.json`, one JSON document walked question
//! by question, each with its one true answer as the target.

use std::path::PathBuf;

use serde_json::Value;
use touchstone_core::{DatasetFormat, FieldMap, Sample};

use crate::ReadOptions;
use crate::error::DataError;
use crate::mapping::{Mapper, Record, kind};
use crate::native::{JsonDoc, Native, common, letter, record};

const TRUTHFULQA_FIELDS: &str =
    "a JSON array of {\"question\", \"mc1_targets\": {answer: 0/1}, \"mc2_targets\"}";

/// TruthfulQA's `mc_task.json`, walked one question at a time.
pub(crate) struct TruthfulqaStream {
    doc: JsonDoc,
    mapper: Mapper,
    n: u64,
    started: bool,
    done: bool,
}

impl TruthfulqaStream {
    pub(crate) fn new(path: PathBuf, bytes: Vec<u8>, options: ReadOptions) -> Self {
        let mut mapper = Mapper::new(&FieldMap::default(), path.clone());
        mapper.set_check_given_ids(options.check_duplicate_ids);
        TruthfulqaStream {
            doc: JsonDoc::new(path, bytes),
            mapper,
            n: 0,
            started: false,
            done: false,
        }
    }

    fn next_sample(&mut self) -> Result<Option<Sample>, DataError> {
        if !self.started {
            self.started = true;
            self.doc.expect(b'[', TRUTHFULQA_FIELDS)?;
            if self.doc.eat(b']') {
                self.doc.end()?;
                return Err(DataError::Empty {
                    path: self.doc.path.clone(),
                });
            }
        } else {
            if self.doc.eat(b']') {
                self.doc.end()?;
                return Ok(None);
            }
            self.doc.expect(b',', "`,` or `]`")?;
        }
        self.doc.skip_ws();
        let at = self.doc.at();
        let value = self.doc.value()?;
        let path = self.doc.path.clone();
        let Value::Object(rec) = value else {
            return Err(DataError::BadRecord {
                path,
                at,
                message: format!(
                    "expected a question object, found {}; the file holds {TRUTHFULQA_FIELDS}",
                    kind(&value)
                ),
            });
        };
        let rec = truthfulqa(
            Native::new(
                rec,
                at,
                &path,
                DatasetFormat::TruthfulqaMc,
                TRUTHFULQA_FIELDS,
            ),
            self.n,
        )?;
        self.n += 1;
        self.mapper.map(rec, at).map(Some)
    }
}

impl Iterator for TruthfulqaStream {
    type Item = Result<Sample, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.next_sample().transpose();
        if !matches!(item, Some(Ok(_))) {
            self.done = true;
            self.doc.bytes = Vec::new();
        }
        item
    }
}

/// Answers in file order and whether each is marked true.
type Marked = (Vec<String>, Vec<bool>);

/// An `{answer: 0/1}` object in file order (serde_json keeps it), as texts and truth values.
fn targets(row: &mut Native<'_>, field: &str) -> Result<Option<Marked>, DataError> {
    let obj = match row.take(field) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(m)) => m,
        Some(other) => {
            let found = kind(&other);
            return Err(row.bad(
                field,
                format!("expected an object {{answer: 0 or 1}}, found {found}"),
            ));
        }
    };
    let mut texts = Vec::with_capacity(obj.len());
    let mut truth = Vec::with_capacity(obj.len());
    for (answer, v) in obj {
        let t = match v.as_u64() {
            Some(0) => false,
            Some(1) => true,
            _ => {
                return Err(row.bad(
                    field,
                    format!("answer `{answer}` is marked {v}, expected 0 or 1"),
                ));
            }
        };
        texts.push(answer);
        truth.push(t);
    }
    Ok(Some((texts, truth)))
}

fn truthfulqa(mut row: Native<'_>, n: u64) -> Result<Record, DataError> {
    let question = row.prompt("question")?;
    let Some((choices, truth)) = targets(&mut row, "mc1_targets")? else {
        return Err(row.missing("mc1_targets"));
    };
    let correct: Vec<usize> = truth
        .iter()
        .enumerate()
        .filter(|(_, t)| **t)
        .map(|(i, _)| i)
        .collect();
    let [answer] = correct[..] else {
        return Err(row.bad(
            "mc1_targets",
            format!("MC1 has exactly one true answer; found {}", correct.len()),
        ));
    };
    let mut meta = common("truthfulqa_mc", "en");
    if let Some((mc2, mc2_truth)) = targets(&mut row, "mc2_targets")? {
        let letters: Vec<Value> = mc2_truth
            .iter()
            .enumerate()
            .filter(|(_, t)| **t)
            .map(|(i, _)| letter(i).into())
            .collect();
        meta.insert("mc2_choices".into(), mc2.into());
        meta.insert("mc2_targets".into(), letters.into());
    }
    Ok(record(
        Some(n.to_string()),
        question,
        Some(letter(answer)),
        Some(choices),
        meta,
    ))
}
