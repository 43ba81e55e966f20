//! The JSONL multiple-choice benchmarks ARC and HellaSwag: each record rewritten into a
//! question with its choices in order and the right one's letter as the target.

use std::path::PathBuf;

use serde_json::Value;
use touchstone_core::DatasetFormat;

use super::files::split_from_name;
use crate::error::DataError;
use crate::mapping::{Adapter, Record, kind};
use crate::native::{Native, common, letter, record};

const ARC_FIELDS: &str =
    "one JSON object per line: {\"id\", \"question\": {\"stem\", \"choices\"}, \"answerKey\"}";
const HELLASWAG_FIELDS: &str =
    "one JSON object per line: {\"ind\", \"ctx\", \"endings\", \"label\", \"activity_label\"}";

/// ARC's records.
pub(crate) fn arc_adapter(path: PathBuf) -> Adapter {
    let format = DatasetFormat::Arc;
    let split = split_from_name(&path);
    Box::new(move |rec, at| {
        arc(
            Native::new(rec, at, &path, format, ARC_FIELDS),
            split.as_deref(),
        )
    })
}

/// HellaSwag's records.
pub(crate) fn hellaswag_adapter(path: PathBuf) -> Adapter {
    let format = DatasetFormat::Hellaswag;
    Box::new(move |rec, at| hellaswag(Native::new(rec, at, &path, format, HELLASWAG_FIELDS)))
}

fn arc(mut row: Native<'_>, split: Option<&str>) -> Result<Record, DataError> {
    let Some(id) = row.opt_scalar("id")? else {
        return Err(row.missing("id"));
    };
    let question = match row.take("question") {
        None | Some(Value::Null) => return Err(row.missing("question")),
        Some(Value::Object(q)) => q,
        Some(other) => {
            let found = kind(&other);
            return Err(row.bad(
                "question",
                format!("expected an object {{stem, choices}}, found {found}"),
            ));
        }
    };
    let stem = match question.get("stem") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        Some(Value::String(_)) => return Err(row.bad("question.stem", "is empty".into())),
        Some(other) => {
            let found = kind(other);
            return Err(row.bad("question.stem", format!("expected text, found {found}")));
        }
        None => return Err(row.bad("question", "has no `stem`".into())),
    };
    let Some(Value::Array(items)) = question.get("choices") else {
        return Err(row.bad(
            "question.choices",
            "expected a list of {text, label}".into(),
        ));
    };
    let mut texts = Vec::with_capacity(items.len());
    let mut labels = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match (item.get("text"), item.get("label")) {
            (Some(Value::String(t)), Some(Value::String(l))) => {
                texts.push(t.clone());
                labels.push(l.clone());
            }
            _ => {
                return Err(row.bad(
                    "question.choices",
                    format!(
                        "choice {} is not {{\"text\", \"label\"}} with text values",
                        i + 1
                    ),
                ));
            }
        }
    }
    if texts.is_empty() {
        return Err(row.bad("question.choices", "the list of choices is empty".into()));
    }
    let key = row.text("answerKey")?;
    // Most questions are labelled A–D, some 1–4 (and a few have 3 or 5 options): the target
    // is the letter of the answer's position, whatever its label.
    let Some(pos) = labels.iter().position(|l| *l == key) else {
        return Err(row.bad(
            "answerKey",
            format!("`{key}` is none of the choice labels {}", labels.join(", ")),
        ));
    };
    let mut meta = common("arc", "en");
    meta.insert("answer_key".into(), key.into());
    meta.insert("labels".into(), labels.into());
    if let Some(s) = split {
        meta.insert("split".into(), s.into());
    }
    Ok(record(Some(id), stem, Some(letter(pos)), Some(texts), meta))
}

fn hellaswag(mut row: Native<'_>) -> Result<Record, DataError> {
    let Some(id) = row.opt_scalar("ind")? else {
        return Err(row.missing("ind"));
    };
    let raw_ctx = row.prompt("ctx")?;
    let Some(endings) = row.opt_text_list("endings")? else {
        return Err(row.missing("endings"));
    };
    // lm-evaluation-harness's query: "{activity_label}: {ctx_a} {ctx_b.capitalize()}", and the
    // endings, through its WikiHow clean-up (`hellaswag_text`).
    let activity = row.opt_text("activity_label")?;
    let ctx = match (row.opt_text("ctx_a")?, row.opt_text("ctx_b")?) {
        (Some(a), Some(b)) => format!("{a} {}", python_capitalize(&b)),
        _ => raw_ctx.clone(),
    };
    let query = hellaswag_text(&match &activity {
        Some(label) => format!("{label}: {ctx}"),
        None => ctx,
    });
    let endings: Vec<String> = endings.iter().map(|e| hellaswag_text(e)).collect();
    if endings.is_empty() {
        return Err(row.bad("endings", "the list of endings is empty".into()));
    }
    // The label is a number in the released files (a string in some re-exports); the test
    // split has none.
    let target = match row.take("label") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(v) => {
            let index = match &v {
                Value::Number(n) => n.as_u64(),
                Value::String(s) => s.trim().parse::<u64>().ok(),
                _ => None,
            };
            match index.and_then(|i| usize::try_from(i).ok()) {
                Some(i) if i < endings.len() => Some(letter(i)),
                _ => {
                    return Err(row.bad(
                        "label",
                        format!(
                            "expected an ending number 0–{}, found {v}",
                            endings.len() - 1
                        ),
                    ));
                }
            }
        }
    };
    let mut meta = common("hellaswag", "en");
    meta.insert("ctx".into(), raw_ctx.into());
    if let Some(label) = activity {
        meta.insert("activity_label".into(), label.into());
    }
    for field in ["split", "split_type"] {
        if let Some(v) = row.opt_text(field)? {
            meta.insert(field.into(), v.into());
        }
    }
    if let Some(v) = row.opt_scalar("source_id")? {
        meta.insert("source_id".into(), v.into());
    }
    Ok(record(Some(id), query, target, Some(endings), meta))
}

/// Python's `str.capitalize`: the first character upper case, the rest lower case.
fn python_capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first
            .to_uppercase()
            .chain(chars.flat_map(char::to_lowercase))
            .collect(),
        None => String::new(),
    }
}

/// lm-evaluation-harness's HellaSwag `preprocess`: strip, ` [title]` → `. `, drop every
/// `[…]` (shortest, within a line), then one pass of two spaces → one.
fn hellaswag_text(text: &str) -> String {
    let text = text.trim().replace(" [title]", ". ");
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        match after.find([']', '\n']) {
            Some(close) if after.as_bytes()[close] == b']' => {
                out.push_str(&rest[..open]);
                rest = &after[close + 1..];
            }
            _ => {
                out.push_str(&rest[..=open]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out.replace("  ", " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hellaswag_text_matches_lm_eval_preprocess() {
        assert_eq!(python_capitalize("he IS"), "He is");
        assert_eq!(python_capitalize(""), "");
        assert_eq!(
            hellaswag_text(" How to tie a tie [title] Cross the ends [step] then pull. "),
            "How to tie a tie. Cross the ends then pull."
        );
        assert_eq!(hellaswag_text("a [b\nc] d"), "a [b\nc] d");
        assert_eq!(hellaswag_text("a [x [y] z] b"), "a z] b");
        assert_eq!(hellaswag_text("a   b"), "a  b");
    }
}
