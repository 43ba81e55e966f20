//! Touchstone's vocabulary. Every other crate speaks in these types.
//!
//! This crate is plain data: serde types and pure functions over them. It does no IO, no async,
//! no HTTP and no SQL (architecture invariant 1).

pub mod generate;
pub mod message;
pub mod model_spec;
pub mod raw;
pub mod sample;
pub mod score;
pub mod suite;
pub mod work_item;

pub use generate::{Completion, FinishReason, GenerateParams, GenerateRequest, Usage};
pub use message::{Message, Role};
pub use model_spec::{ModelSpec, ModelSpecError};
pub use raw::{MAX_TOP_LOGPROBS, RawCompletion, RawRequest, TokenLogprob};
pub use sample::{Input, Sample, Target};
pub use score::Score;
pub use suite::{
    ChoicesField, DatasetFormat, DatasetSource, DatasetSpec, Expectation, FewShot, FewShotFrom,
    FieldMap, MetricSpec, PromptSpec, SampleSpec, ScorerSpec, SuiteSpec, TaskOutput, TaskSpec,
};
pub use work_item::{ItemStatus, WorkItem, WorkItemId};

/// Letters used to label multiple-choice options: A, B, C, …
pub fn choice_letter(index: usize) -> char {
    (b'A' + (index % 26) as u8) as char
}
