//! Standards as data: compliance profiles (risk codes, bank minimums, checks with thresholds),
//! checks of a center's banks against a profile, and verdicts per check.
//!
//! Nothing here is specific to one standard: GB/T 45654-2025 is the built-in profile
//! `profiles/gbt45654-2025.yaml`, and a profile file for another standard works the same way.

pub mod bank;
mod dedup;
pub mod files;
pub mod profile;
pub mod verdict;

use std::path::PathBuf;

pub use bank::{
    BankItem, BankQualification, BankReport, KeywordConflict, check_keywords, check_questions,
};
pub use files::{BankFileError, check_file};
pub use profile::{Bilingual, Check, Method, Profile};
pub use verdict::{Evidence, Measured, Verdict, VerdictKind, decide, decide_all};

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("no profile `{name}`: not a built-in profile and no such file (built-in: {builtins})")]
    NotFound { name: String, builtins: String },
    #[error("cannot read profile {}: {message}", path.display())]
    Io { path: PathBuf, message: String },
    #[error("{origin}:{line}:{column}: {message}")]
    Parse {
        origin: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{origin}: {message}")]
    Invalid { origin: String, message: String },
}
