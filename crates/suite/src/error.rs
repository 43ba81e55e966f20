use std::path::PathBuf;

use std::sync::Arc;

use miette::{Diagnostic, NamedSource, SourceSpan};

/// A suite that cannot be used, with where and what to do.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum SuiteError {
    #[error("no suite `{name}`: not a built-in suite and no such file")]
    #[diagnostic(help("built-in suites: {builtins}{}", suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default()))]
    NotFound {
        name: String,
        builtins: String,
        suggestion: Option<String>,
    },

    #[error("cannot read suite file {}: {message}", path.display())]
    Io { path: PathBuf, message: String },

    #[error("no benchmark `{name}`")]
    #[diagnostic(help("benchmarks: {known}{}; `touchstone benchmarks list` says where to get each", suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default()))]
    UnknownBenchmark {
        name: String,
        known: String,
        suggestion: Option<String>,
    },

    /// `eval --dataset`: a request that cannot make a suite (what and what to do instead).
    #[error("{message}")]
    Adhoc { message: String },

    #[error("--data-dir {}: {message}", path.display())]
    BenchmarkData { path: PathBuf, message: String },

    #[error("suite file {} is not UTF-8 (first bad byte at offset {offset})", path.display())]
    #[diagnostic(help("save the file as UTF-8"))]
    NotUtf8 { path: PathBuf, offset: usize },

    #[error("suite {origin} is empty")]
    #[diagnostic(help("a suite needs at least `name:` and `tasks:`"))]
    Empty { origin: String },

    #[error("{origin}:{line}:{column}: {message}")]
    #[diagnostic(code(touchstone::suite::yaml))]
    Yaml {
        origin: String,
        line: usize,
        column: usize,
        message: String,
        #[source_code]
        src: Arc<NamedSource<String>>,
        #[label("here")]
        span: SourceSpan,
    },

    #[error("{origin}:{line}:{column}: {message}")]
    #[diagnostic(code(touchstone::suite::invalid))]
    Invalid {
        origin: String,
        line: usize,
        column: usize,
        message: String,
        #[help]
        help: Option<String>,
        #[source_code]
        src: Arc<NamedSource<String>>,
        #[label("here")]
        span: SourceSpan,
    },
}
