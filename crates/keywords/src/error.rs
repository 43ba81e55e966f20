//! Errors of loading keyword libraries and building scanners. Each names the file (or built-in
//! library) and, where there is one, the line and field.

#[derive(Debug, thiserror::Error)]
pub enum KeywordError {
    #[error("{path}: cannot read the keyword library: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "{path}: unknown keyword library format; name the file `.jsonl` (one JSON object a line) \
         or `.csv` (header `keyword,risk,variants`)"
    )]
    UnknownFormat { path: String },

    #[error("{path}:{line}: invalid UTF-8; save the file as UTF-8")]
    InvalidUtf8 { path: String, line: usize },

    #[error("{path}:{line}: invalid JSON: {message}; each line must be one JSON object")]
    InvalidJson {
        path: String,
        line: usize,
        message: String,
    },

    #[error("{path}:{line}: invalid CSV: {message}")]
    InvalidCsv {
        path: String,
        line: usize,
        message: String,
    },

    #[error("{path}:{line}: field `{field}` is missing; every entry needs `keyword` and `risk`")]
    MissingField {
        path: String,
        line: usize,
        field: &'static str,
    },

    #[error("{path}:{line}: field `{field}` is empty; give it a value or remove the entry")]
    EmptyField {
        path: String,
        line: usize,
        field: &'static str,
    },

    #[error("{path}:{line}: field `{field}`: {message}")]
    BadField {
        path: String,
        line: usize,
        field: &'static str,
        message: String,
    },

    #[error("{path}: the library has no keywords; add at least one entry")]
    Empty { path: String },

    /// The automaton could not be built (a library far beyond any real size).
    #[error("cannot build the keyword scanner: {0}")]
    Build(String),
}
