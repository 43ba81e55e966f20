//! Keyword libraries and a normalising scanner that survives obfuscation.
//!
//! A [`KeywordLibrary`] is a list of keywords, each with a risk code and variants, read from
//! JSONL or CSV ([`KeywordLibrary::from_path`]) or built in ([`KeywordLibrary::builtin`]). A
//! [`Scanner`] finds them in text after [`normalize`] has folded away full-width forms,
//! traditional characters, case, homoglyphs and inserted separators; matches point back into the
//! original text.

mod error;
mod library;
mod normalize;
mod scanner;

pub use error::KeywordError;
pub use library::{KeywordEntry, KeywordLibrary};
pub use normalize::{Normalized, normalize, normalize_into};
pub use scanner::{KeywordMatch, ScanOptions, Scanner};
