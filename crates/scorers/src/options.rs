//! Reading a scorer's options from its spec, with errors that name the option.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::ScorerError;
use crate::error::suggest;

/// Options every scorer accepts: `metric` names the metric its mean is reported under
/// (see `ScorerSpec::metric_name`).
const COMMON: &[&str] = &["metric"];

pub(crate) struct Options<'a> {
    scorer: &'static str,
    map: &'a BTreeMap<String, Value>,
}

impl<'a> Options<'a> {
    /// Checks that every given option is one of `known` (or a common one).
    pub(crate) fn new(
        scorer: &'static str,
        map: &'a BTreeMap<String, Value>,
        known: &[&str],
    ) -> Result<Self, ScorerError> {
        let all: Vec<&str> = known.iter().chain(COMMON).copied().collect();
        for key in map.keys() {
            if !all.contains(&key.as_str()) {
                let hint = match suggest(key, &all) {
                    Some(s) => format!(" (did you mean `{s}`?)"),
                    None => String::new(),
                };
                let message = if known.is_empty() {
                    format!("unknown option{hint}; this scorer takes no options besides `metric`")
                } else {
                    format!("unknown option{hint}; known options: {}", all.join(", "))
                };
                return Err(ScorerError::BadOption {
                    scorer: scorer.into(),
                    option: key.clone(),
                    message,
                });
            }
        }
        let options = Options { scorer, map };
        options.string("metric")?;
        Ok(options)
    }

    fn bad(&self, option: &str, message: String) -> ScorerError {
        ScorerError::BadOption {
            scorer: self.scorer.into(),
            option: option.into(),
            message,
        }
    }

    pub(crate) fn bool(&self, name: &str, default: bool) -> Result<bool, ScorerError> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(self.bad(name, format!("expected true or false, found {other}"))),
        }
    }

    pub(crate) fn string(&self, name: &str) -> Result<Option<&'a str>, ScorerError> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(other) => Err(self.bad(name, format!("expected a string, found {other}"))),
        }
    }

    /// A finite number that is at least 0.
    pub(crate) fn non_negative(&self, name: &str, default: f64) -> Result<f64, ScorerError> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Number(n)) => match n.as_f64() {
                Some(x) if x.is_finite() && x >= 0.0 => Ok(x),
                _ => Err(self.bad(name, format!("expected a number at least 0, found {n}"))),
            },
            Some(other) => Err(self.bad(name, format!("expected a number, found {other}"))),
        }
    }
}
