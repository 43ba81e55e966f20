//! How a model under test is named on the command line and in suites.
//!
//! - `openai:NAME@BASE_URL`: an OpenAI-compatible Chat Completions endpoint.
//! - `local:PATH.gguf`: a GGUF file run in-process by llama.cpp.
//! - `local:smollm2`: a named model from the built-in catalogue (the default).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "provider", rename_all = "snake_case")]
pub enum ModelSpec {
    OpenAi {
        model: String,
        base_url: String,
        /// Name of the environment variable that holds the API key (never the key itself).
        api_key_env: String,
    },
    Local {
        /// A path ending in `.gguf`, or the name of a catalogue model such as `smollm2`.
        source: String,
    },
}

pub const DEFAULT_API_KEY_ENV: &str = "OPENAI_API_KEY";
pub const DEFAULT_MODEL: &str = "local:smollm2";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelSpecError {
    #[error(
        "model spec `{0}` has no provider; write `openai:NAME@BASE_URL`, `local:PATH.gguf` or `local:smollm2`"
    )]
    NoProvider(String),
    #[error("unknown provider `{provider}` in model spec `{spec}`; known providers: openai, local")]
    UnknownProvider { spec: String, provider: String },
    #[error(
        "model spec `{0}` needs a model name and a base URL: `openai:NAME@http://HOST:PORT/v1`"
    )]
    OpenAiShape(String),
    #[error(
        "base URL `{url}` in model spec `{spec}` must be http:// or https:// and a host, e.g. http://127.0.0.1:8000/v1"
    )]
    BadUrl { spec: String, url: String },
    #[error("model spec `{0}` names no local model; write `local:PATH.gguf` or `local:smollm2`")]
    EmptyLocal(String),
}

impl ModelSpec {
    /// Parse a spec, with the API key variable to use for `openai:` specs.
    pub fn parse_with_key_env(s: &str, api_key_env: &str) -> Result<Self, ModelSpecError> {
        let s = s.trim();
        let (provider, rest) = s
            .split_once(':')
            .ok_or_else(|| ModelSpecError::NoProvider(s.into()))?;
        match provider {
            "openai" => {
                // The model name may itself contain '@' rarely; the URL starts at the last
                // "@http".
                let at = rest
                    .rfind("@http")
                    .or_else(|| rest.rfind('@'))
                    .ok_or_else(|| ModelSpecError::OpenAiShape(s.into()))?;
                let (model, url) = (&rest[..at], &rest[at + 1..]);
                if model.is_empty() || url.is_empty() {
                    return Err(ModelSpecError::OpenAiShape(s.into()));
                }
                // A scheme with no host (`http://`) is no address either.
                let host = url
                    .strip_prefix("http://")
                    .or_else(|| url.strip_prefix("https://"));
                if host.is_none_or(|h| h.trim_matches('/').is_empty()) {
                    return Err(ModelSpecError::BadUrl {
                        spec: s.into(),
                        url: url.into(),
                    });
                }
                Ok(ModelSpec::OpenAi {
                    model: model.into(),
                    base_url: url.trim_end_matches('/').into(),
                    api_key_env: api_key_env.into(),
                })
            }
            "local" => {
                if rest.is_empty() {
                    return Err(ModelSpecError::EmptyLocal(s.into()));
                }
                Ok(ModelSpec::Local {
                    source: rest.into(),
                })
            }
            other => Err(ModelSpecError::UnknownProvider {
                spec: s.into(),
                provider: other.into(),
            }),
        }
    }

    /// The label that names this model in runs, work-item ids and reports. It carries no secret.
    pub fn label(&self) -> String {
        self.to_string()
    }
}

impl FromStr for ModelSpec {
    type Err = ModelSpecError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ModelSpec::parse_with_key_env(s, DEFAULT_API_KEY_ENV)
    }
}

impl fmt::Display for ModelSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelSpec::OpenAi {
                model, base_url, ..
            } => write!(f, "openai:{model}@{base_url}"),
            ModelSpec::Local { source } => write!(f, "local:{source}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_openai() {
        let m: ModelSpec = "openai:qwen2.5-7b@http://127.0.0.1:8000/v1/"
            .parse()
            .unwrap();
        assert_eq!(
            m,
            ModelSpec::OpenAi {
                model: "qwen2.5-7b".into(),
                base_url: "http://127.0.0.1:8000/v1".into(),
                api_key_env: "OPENAI_API_KEY".into()
            }
        );
        assert_eq!(m.label(), "openai:qwen2.5-7b@http://127.0.0.1:8000/v1");
    }

    #[test]
    fn parses_local() {
        assert_eq!(
            "local:smollm2".parse::<ModelSpec>().unwrap(),
            ModelSpec::Local {
                source: "smollm2".into()
            }
        );
        assert_eq!(
            "local:/m/x.gguf".parse::<ModelSpec>().unwrap(),
            ModelSpec::Local {
                source: "/m/x.gguf".into()
            }
        );
    }

    #[test]
    fn rejects_bad_specs() {
        assert!(matches!(
            "gpt4".parse::<ModelSpec>(),
            Err(ModelSpecError::NoProvider(_))
        ));
        assert!(matches!(
            "foo:x".parse::<ModelSpec>(),
            Err(ModelSpecError::UnknownProvider { .. })
        ));
        assert!(matches!(
            "openai:x".parse::<ModelSpec>(),
            Err(ModelSpecError::OpenAiShape(_))
        ));
        assert!(matches!(
            "openai:x@http://".parse::<ModelSpec>(),
            Err(ModelSpecError::BadUrl { .. })
        ));
        assert!(matches!(
            "openai:x@ftp://h".parse::<ModelSpec>(),
            Err(ModelSpecError::BadUrl { .. })
        ));
        assert!(matches!(
            "local:".parse::<ModelSpec>(),
            Err(ModelSpecError::EmptyLocal(_))
        ));
    }
}
