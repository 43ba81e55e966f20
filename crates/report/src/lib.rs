//! A run rendered as a report: a single-file HTML page (inline CSS and SVG charts, no script,
//! no network, prints well), Markdown, or canonical JSON (RFC 8785), in 简体中文 or English.
//!
//! A report is a pure function of the store (invariant 5): [`ReportData::from_store`] reads the
//! summary ([`touchstone_engine::summarize`]) and makes one pass over the results in item-id
//! order for the failures and the sample responses; [`render`] uses no clock, no hash-map
//! iteration order and fixed float formatting, so the same store gives the same bytes.
//!
//! Everything a model wrote (answers, error messages) and everything a suite names (tasks,
//! labels) is untrusted text: the HTML is built with `maud`, which escapes every interpolated
//! string, the page carries a Content-Security-Policy that allows no script, and Markdown
//! escapes table cells and fences answers.

mod collect;
mod html;
mod leaderboard;
mod markdown;
mod sampling;
mod svg;
mod text;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use touchstone_core::ItemStatus;
use touchstone_engine::RunResults;
use touchstone_store::Store;

pub use collect::{
    FAILED_SAMPLES_PER_TASK, FAILURE_EXAMPLES, MAX_ANSWER_CHARS, SCORED_SAMPLES_PER_TASK,
};
pub use leaderboard::{comparison_sections, render_comparison};

/// The JSON Schema (draft 2020-12) of `results.json` ([`RunResults`]).
pub const RESULTS_SCHEMA: &str = include_str!("../schema/results.schema.json");

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Summarizing the run failed (boxed: the engine's error is large).
    #[error(transparent)]
    Engine(Box<touchstone_engine::EngineError>),
    #[error(transparent)]
    Store(Box<touchstone_store::StoreError>),
}

impl From<touchstone_engine::EngineError> for ReportError {
    fn from(e: touchstone_engine::EngineError) -> Self {
        ReportError::Engine(Box::new(e))
    }
}

impl From<touchstone_store::StoreError> for ReportError {
    fn from(e: touchstone_store::StoreError) -> Self {
        ReportError::Store(Box::new(e))
    }
}

/// Everything a report shows: the summary (results.json), the failures grouped by reason, and a
/// bounded, deterministic selection of responses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportData {
    pub results: RunResults,
    /// Per (model, task, reason), in the order of `results.tasks`, then by count (most first)
    /// and reason.
    pub failures: Vec<FailureGroup>,
    /// Per (model, task), in the order of `results.tasks`: the first
    /// [`SCORED_SAMPLES_PER_TASK`] scored and [`FAILED_SAMPLES_PER_TASK`] failed items by item id.
    pub samples: Vec<SampleResponse>,
}

/// Failed items of one task and model that failed for the same reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailureGroup {
    pub model: String,
    pub task: String,
    /// The error's first line (at most 300 characters).
    pub reason: String,
    pub count: u64,
    /// The first [`FAILURE_EXAMPLES`] by item id.
    pub examples: Vec<FailureExample>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailureExample {
    pub item_id: String,
    pub sample_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub variant: String,
    pub epoch: u32,
    /// The whole error (at most [`MAX_ANSWER_CHARS`] characters).
    pub error: String,
}

/// One stored response, as the report shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleResponse {
    pub model: String,
    pub task: String,
    pub item_id: String,
    pub sample_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub variant: String,
    pub epoch: u32,
    pub status: ItemStatus,
    /// Each scorer's value, in the task's scorer order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scores: Vec<SampleScore>,
    /// At most [`MAX_ANSWER_CHARS`] characters; `truncated` says whether more was stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub labels: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleScore {
    pub scorer: String,
    pub value: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
}

impl ReportData {
    /// The summary of `run_id` (full id or unique prefix) and one pass over its results in
    /// item-id order.
    pub fn from_store(store: &dyn Store, run_id: &str) -> Result<ReportData, ReportError> {
        let results = touchstone_engine::summarize(store, run_id)?;
        collect::collect(store, results)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Html,
    Markdown,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// 简体中文 (the default).
    #[default]
    Zh,
    En,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{given}` (expected {expected})")]
pub struct ParseError {
    what: &'static str,
    given: String,
    expected: &'static str,
}

impl FromStr for Format {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "html" | "htm" => Ok(Format::Html),
            "md" | "markdown" => Ok(Format::Markdown),
            "json" => Ok(Format::Json),
            _ => Err(ParseError {
                what: "report format",
                given: s.to_string(),
                expected: "html, md or json",
            }),
        }
    }
}

impl FromStr for Lang {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "zh" | "zh-cn" | "zh-hans" | "cn" => Ok(Lang::Zh),
            "en" | "en-us" | "en-gb" => Ok(Lang::En),
            _ => Err(ParseError {
                what: "language",
                given: s.to_string(),
                expected: "zh or en",
            }),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Html => "html",
            Format::Markdown => "md",
            Format::Json => "json",
        })
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        })
    }
}

impl Format {
    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Html => "html",
            Format::Markdown => "md",
            Format::Json => "json",
        }
    }
}

/// The HTML report's sections without the page around them, for a page that frames them (the
/// center's run page); style them with [`HTML_CSS`]. Escaped as the report is.
pub fn html_sections(data: &ReportData, lang: Lang) -> maud::Markup {
    html::sections(data, lang)
}

/// The HTML report's style sheet.
pub const HTML_CSS: &str = html::CSS;

/// The report as text. JSON is the canonical JSON (RFC 8785) of `data` and does not depend on
/// `lang`.
pub fn render(data: &ReportData, format: Format, lang: Lang) -> String {
    match format {
        Format::Html => html::render(data, lang),
        Format::Markdown => markdown::render(data, lang),
        // One RFC 8785 implementation for reports and certificates: `touchstone-trust`'s.
        Format::Json => String::from_utf8(
            touchstone_trust::canonical::of(data).expect("report data is plain JSON"),
        )
        .expect("RFC 8785 output is UTF-8"),
    }
}
