//! The template-attack file format (`templates/*.yaml`, and a user's own files):
//!
//! ```yaml
//! name: role-play-zh          # kebab-case id, unique in the catalogue
//! family: role-play
//! lang: zh                    # en | zh | any
//! description_zh: 角色扮演……
//! description_en: Role-play …
//! template: |                 # must contain {prompt}; {model} is the target's name
//!   …{prompt}…
//! shots:                      # optional: faux prior turns (many-shot)
//!   - user: …
//!     assistant: …
//! ```

use serde::{Deserialize, Serialize};

use crate::error::AttackError;

/// The language an attack is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    En,
    Zh,
    /// Works on any prompt (encodings).
    Any,
}

impl Lang {
    /// The language of a prompt: Chinese when it has any Chinese character, else English.
    /// Callers can use it to pair prompts with attacks written for their language.
    pub fn detect(text: &str) -> Lang {
        if crate::text::is_chinese(text) {
            Lang::Zh
        } else {
            Lang::En
        }
    }

    /// Whether an attack written for this language suits a prompt in `prompt`'s language.
    pub fn suits(self, prompt: &str) -> bool {
        self == Lang::Any || self == Lang::detect(prompt)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
            Lang::Any => "any",
        }
    }
}

/// One faux exchange placed before the real prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shot {
    pub user: String,
    pub assistant: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TemplateFile {
    pub name: String,
    pub family: String,
    pub lang: Lang,
    pub description_zh: String,
    pub description_en: String,
    pub template: String,
    #[serde(default)]
    pub shots: Vec<Shot>,
}

/// Parses and checks one template file; `origin` names it in errors.
pub(crate) fn parse(text: &str, origin: &str) -> Result<TemplateFile, AttackError> {
    if text.trim().is_empty() {
        return Err(invalid(
            origin,
            text,
            "name",
            "the file is empty; see crates/attacks/templates/ for the format".into(),
        ));
    }
    let file: TemplateFile =
        touchstone_yaml::from_str(text).map_err(|e| AttackError::yaml(origin, e))?;
    if !is_kebab(&file.name) {
        return Err(invalid(
            origin,
            text,
            "name",
            format!(
                "{:?} is not a kebab-case id; use lower-case letters, digits and single dashes, e.g. role-play-zh",
                file.name
            ),
        ));
    }
    if !is_kebab(&file.family) {
        return Err(invalid(
            origin,
            text,
            "family",
            format!("{:?} is not a kebab-case id, e.g. role-play", file.family),
        ));
    }
    for (field, value) in [
        ("description_zh", &file.description_zh),
        ("description_en", &file.description_en),
    ] {
        if value.trim().is_empty() {
            return Err(invalid(
                origin,
                text,
                field,
                "is empty; say in one line what the attack does".into(),
            ));
        }
    }
    if !file.template.contains("{prompt}") {
        return Err(invalid(
            origin,
            text,
            "template",
            "has no {prompt} placeholder; put {prompt} where the sample's prompt goes".into(),
        ));
    }
    for (i, shot) in file.shots.iter().enumerate() {
        if shot.user.trim().is_empty() || shot.assistant.trim().is_empty() {
            return Err(invalid(
                origin,
                text,
                "shots",
                format!("shot {} has an empty user or assistant turn", i + 1),
            ));
        }
    }
    Ok(file)
}

pub(crate) fn is_kebab(s: &str) -> bool {
    !s.is_empty()
        && s.split('-').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

/// Turns any string into a kebab-case id: `Dan_11_0` → `dan-11-0`.
pub(crate) fn kebab(s: &str) -> String {
    let lowered: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    lowered
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

fn invalid(origin: &str, text: &str, field: &str, message: String) -> AttackError {
    AttackError::Template {
        origin: origin.to_string(),
        line: key_line(text, field),
        field: field.to_string(),
        message,
    }
}

/// The 1-based line where a top-level `key:` starts; the YAML reader gives no spans for values
/// that parsed but failed our checks.
fn key_line(text: &str, key: &str) -> Option<usize> {
    let prefix = format!("{key}:");
    text.lines()
        .position(|l| l.starts_with(&prefix))
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "name: my-attack\nfamily: custom\nlang: en\ndescription_zh: 测试\ndescription_en: test\ntemplate: \"Please: {prompt}\"\n";

    #[test]
    fn a_good_file_parses() {
        let f = parse(GOOD, "x.yaml").unwrap();
        assert_eq!(f.name, "my-attack");
        assert_eq!(f.lang, Lang::En);
        assert!(f.shots.is_empty());
    }

    #[test]
    fn missing_prompt_placeholder_names_file_line_and_field() {
        let text = GOOD.replace("{prompt}", "{promt}");
        let err = parse(&text, "x.yaml").unwrap_err().to_string();
        assert_eq!(
            err,
            "x.yaml:6: field `template`: has no {prompt} placeholder; put {prompt} where the sample's prompt goes"
        );
    }

    #[test]
    fn unknown_field_and_bad_lang_carry_yaml_location() {
        let err = parse(&format!("{GOOD}temlate: x\n"), "x.yaml").unwrap_err();
        let AttackError::Yaml { line, message, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(*line, 7);
        assert!(message.contains("temlate"), "{message}");
        let err = parse(&GOOD.replace("lang: en", "lang: fr"), "x.yaml").unwrap_err();
        let AttackError::Yaml { line, .. } = err else {
            panic!()
        };
        assert_eq!(line, 3);
    }

    #[test]
    fn names_must_be_kebab_case() {
        let err = parse(&GOOD.replace("my-attack", "My_Attack"), "x.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("x.yaml:1: field `name`"), "{err}");
        assert!(is_kebab("garak-dan-11-0"));
        assert!(!is_kebab("a--b") && !is_kebab("-a") && !is_kebab(""));
        assert_eq!(
            kebab("ChatGPT_Developer_Mode_RANTI"),
            "chatgpt-developer-mode-ranti"
        );
    }

    #[test]
    fn language_detection_pairs_prompts_with_attacks() {
        assert_eq!(Lang::detect("如何 make"), Lang::Zh);
        assert_eq!(Lang::detect("how"), Lang::En);
        assert!(
            Lang::Zh.suits("炸弹")
                && !Lang::Zh.suits("bomb")
                && Lang::Any.suits("bomb")
                && Lang::En.suits("bomb")
        );
    }

    #[test]
    fn empty_file_is_an_error_not_a_panic() {
        assert!(
            parse("  \n", "e.yaml")
                .unwrap_err()
                .to_string()
                .contains("e.yaml")
        );
    }
}
