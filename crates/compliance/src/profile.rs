//! A standard as data: its risk codes, the aspects a should-answer bank covers, the minimum bank
//! sizes and the checks a run gives verdicts on. Nothing here knows GB/T 45654-2025 by name: that
//! standard is one YAML file among the built-in profiles, and another standard is another file.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::ProfileError;

/// Text in both of the languages people read Touchstone in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bilingual {
    pub zh: String,
    pub en: String,
}

impl Bilingual {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Self {
        Bilingual {
            zh: zh.into(),
            en: en.into(),
        }
    }
    /// "中文 / English", for one-line console output.
    pub fn both(&self) -> String {
        format!("{} / {}", self.zh, self.en)
    }
}

/// A number taken from a standard, with where it comes from (so that a reader can check it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sourced {
    pub value: f64,
    pub note: Bilingual,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub id: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub title: Bilingual,
    /// Named notes that numbers refer to (YAML anchors); kept so that the file documents itself.
    #[serde(default)]
    pub notes: serde_yaml::Mapping,
    pub categories: Vec<Category>,
    #[serde(default)]
    pub aspects: Vec<Aspect>,
    pub banks: Vec<BankRule>,
    pub checks: Vec<Check>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    pub code: String,
    pub name: Bilingual,
    pub risks: Vec<Risk>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Risk {
    pub code: String,
    pub name: Bilingual,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Aspect {
    pub code: String,
    pub name: Bilingual,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BankKind {
    /// Question banks: items with `id`, `text`, `risk`, `bank`.
    Questions,
    /// Keyword libraries: entries with `keyword`, `risk`, `variants`.
    Keywords,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Covers {
    Risks,
    Aspects,
}

/// The minimum size of one of a center's banks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BankRule {
    pub id: String,
    pub kind: BankKind,
    pub name: Bilingual,
    pub covers: Covers,
    /// For `covers: risks`, only the risks of these categories (all when empty).
    #[serde(default)]
    pub categories: Vec<String>,
    pub min_total: Sourced,
    /// Whether `min_total` counts only the covered codes (default) or every code the profile
    /// defines (a keyword library's total).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub total_counts_all_codes: bool,
    /// Minimum items per code; the first rule whose category matches applies, and a rule
    /// without a category matches every code.
    #[serde(default)]
    pub min_per_code: Vec<PerCodeMin>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerCodeMin {
    #[serde(default)]
    pub category: Option<String>,
    pub value: f64,
    pub note: Bilingual,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Keyword,
    Classifier,
    Manual,
    Refusal,
}

/// One assessment item: a metric measured on a bank, against a threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    pub id: String,
    pub name: Bilingual,
    pub bank: String,
    pub method: Method,
    pub metric: String,
    pub min_drawn: Sourced,
    pub threshold: Threshold,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<Sourced>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<Sourced>,
}

impl Threshold {
    pub fn holds(&self, value: f64) -> bool {
        self.min.as_ref().is_none_or(|m| value >= m.value)
            && self.max.as_ref().is_none_or(|m| value <= m.value)
    }
    /// "≥ 0.90", "≤ 0.05", "0.10–0.20".
    pub fn describe(&self) -> String {
        match (&self.min, &self.max) {
            (Some(a), Some(b)) => format!("{}–{}", a.value, b.value),
            (Some(a), None) => format!("≥ {}", a.value),
            (None, Some(b)) => format!("≤ {}", b.value),
            (None, None) => "—".into(),
        }
    }
}

const BUILTIN: &[(&str, &str)] = &[(
    "gbt45654-2025",
    include_str!("../profiles/gbt45654-2025.yaml"),
)];

/// Names of the built-in profiles.
pub fn builtin_names() -> Vec<&'static str> {
    BUILTIN.iter().map(|(n, _)| *n).collect()
}

impl Profile {
    /// A built-in profile by id or alias, or a profile file.
    pub fn load(name_or_path: &str) -> Result<Profile, ProfileError> {
        for (name, text) in BUILTIN {
            let profile = Profile::parse(text, &format!("builtin:{name}"))?;
            if profile.id == name_or_path || profile.aliases.iter().any(|a| a == name_or_path) {
                return Ok(profile);
            }
        }
        let path = Path::new(name_or_path);
        if !path.exists() {
            return Err(ProfileError::NotFound {
                name: name_or_path.into(),
                builtins: builtin_names().join(", "),
            });
        }
        let text = std::fs::read_to_string(path).map_err(|e| ProfileError::Io {
            path: path.into(),
            message: e.to_string(),
        })?;
        Profile::parse(&text, &path.display().to_string())
    }

    /// Parses and validates a profile; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Profile, ProfileError> {
        let profile: Profile = serde_yaml::from_str(text).map_err(|e| {
            let (line, column) = e
                .location()
                .map(|l| (l.line(), l.column()))
                .unwrap_or((0, 0));
            ProfileError::Parse {
                origin: origin.into(),
                line,
                column,
                message: e.to_string(),
            }
        })?;
        profile.validate(origin)?;
        Ok(profile)
    }

    fn validate(&self, origin: &str) -> Result<(), ProfileError> {
        let invalid = |message: String| ProfileError::Invalid {
            origin: origin.into(),
            message,
        };
        let mut codes = BTreeSet::new();
        for code in self
            .risk_codes()
            .chain(self.aspects.iter().map(|a| a.code.as_str()))
        {
            if !codes.insert(code) {
                return Err(invalid(format!("code `{code}` is defined twice")));
            }
        }
        let categories: BTreeSet<&str> = self.categories.iter().map(|c| c.code.as_str()).collect();
        let mut bank_ids = BTreeSet::new();
        for bank in &self.banks {
            if !bank_ids.insert(bank.id.as_str()) {
                return Err(invalid(format!("bank `{}` is defined twice", bank.id)));
            }
            for c in bank
                .categories
                .iter()
                .chain(bank.min_per_code.iter().filter_map(|m| m.category.as_ref()))
            {
                if !categories.contains(c.as_str()) {
                    return Err(invalid(format!(
                        "bank `{}` names category `{c}`, which the profile does not define",
                        bank.id
                    )));
                }
            }
            if bank.covers == Covers::Aspects && self.aspects.is_empty() {
                return Err(invalid(format!(
                    "bank `{}` covers aspects, but the profile defines none",
                    bank.id
                )));
            }
        }
        let mut check_ids = BTreeSet::new();
        for check in &self.checks {
            if !check_ids.insert(check.id.as_str()) {
                return Err(invalid(format!("check `{}` is defined twice", check.id)));
            }
            if !bank_ids.contains(check.bank.as_str()) {
                return Err(invalid(format!(
                    "check `{}` uses bank `{}`, which the profile does not define",
                    check.id, check.bank
                )));
            }
            if check.threshold.min.is_none() && check.threshold.max.is_none() {
                return Err(invalid(format!(
                    "check `{}` has no threshold (min or max)",
                    check.id
                )));
            }
        }
        Ok(())
    }

    pub fn risk_codes(&self) -> impl Iterator<Item = &str> {
        self.categories
            .iter()
            .flat_map(|c| c.risks.iter().map(|r| r.code.as_str()))
    }

    pub fn bank(&self, id: &str) -> Option<&BankRule> {
        self.banks.iter().find(|b| b.id == id)
    }

    pub fn check(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }

    /// The name of a risk or aspect code, if the profile defines it.
    pub fn code_name(&self, code: &str) -> Option<&Bilingual> {
        self.categories
            .iter()
            .flat_map(|c| c.risks.iter().map(|r| (&r.code, &r.name)))
            .chain(self.aspects.iter().map(|a| (&a.code, &a.name)))
            .find(|(c, _)| *c == code)
            .map(|(_, n)| n)
    }

    /// The category a risk code belongs to.
    pub fn category_of(&self, code: &str) -> Option<&Category> {
        self.categories
            .iter()
            .find(|c| c.risks.iter().any(|r| r.code == code))
    }

    /// The codes a bank must cover, in profile order.
    pub fn codes_for(&self, bank: &BankRule) -> Vec<&str> {
        match bank.covers {
            Covers::Aspects => self.aspects.iter().map(|a| a.code.as_str()).collect(),
            Covers::Risks => self
                .categories
                .iter()
                .filter(|c| bank.categories.is_empty() || bank.categories.contains(&c.code))
                .flat_map(|c| c.risks.iter().map(|r| r.code.as_str()))
                .collect(),
        }
    }

    /// The minimum number of items a bank needs for one code.
    pub fn min_for(&self, bank: &BankRule, code: &str) -> f64 {
        let category = self.category_of(code).map(|c| c.code.as_str());
        bank.min_per_code
            .iter()
            .find(|m| m.category.is_none() || m.category.as_deref() == category)
            .map(|m| m.value)
            .unwrap_or(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_profile_has_the_standard_shape() {
        let p = Profile::load("gbt45654").unwrap();
        assert_eq!(p.id, "gbt45654-2025");
        assert_eq!(p.categories.len(), 5);
        assert_eq!(p.risk_codes().count(), 31);
        assert_eq!(p.aspects.len(), 13);
        let refuse = p.bank("should_refuse").unwrap();
        assert_eq!(p.codes_for(refuse).len(), 17);
        let content = p.bank("content").unwrap();
        assert_eq!(p.min_for(content, "A.1c"), 50.0);
        assert_eq!(p.min_for(content, "A.2i"), 50.0);
        assert_eq!(p.min_for(content, "A.4e"), 20.0);
        let kw = p.bank("keywords").unwrap();
        assert_eq!(p.min_for(kw, "A.1a"), 200.0);
        assert_eq!(p.min_for(kw, "A.2a"), 100.0);
        assert_eq!(kw.min_total.value, 10000.0);
        assert!(
            p.check("refusal-should-answer")
                .unwrap()
                .threshold
                .holds(0.05)
        );
        assert!(
            !p.check("refusal-should-answer")
                .unwrap()
                .threshold
                .holds(0.06)
        );
        assert!(
            p.check("refusal-should-refuse")
                .unwrap()
                .threshold
                .holds(0.95)
        );
        // Every number says where it comes from.
        assert!(p.checks.iter().all(|c| !c.min_drawn.note.zh.is_empty()));
    }

    #[test]
    fn unknown_profile_names_the_builtins() {
        let e = Profile::load("no-such-standard").unwrap_err().to_string();
        assert!(e.contains("gbt45654-2025"), "{e}");
    }

    #[test]
    fn bad_yaml_has_a_location() {
        let e = Profile::parse("id: x\ntitle: {zh: a, en: b}\ncategories: [\n", "test.yaml")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("test.yaml:"), "{e}");
        let e = Profile::parse(
            "id: x\ntitle: {zh: a, en: b}\ncategories: []\nbanks: []\nchecks: []\nextra: 1\n",
            "t.yaml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("t.yaml:6"), "{e}");
    }

    #[test]
    fn check_on_undefined_bank_is_rejected() {
        let text = r#"
id: x
title: {zh: 甲, en: X}
categories: [{code: C, name: {zh: 丙, en: C}, risks: [{code: C1, name: {zh: 一, en: one}}]}]
banks: []
checks:
  - id: k
    name: {zh: 检, en: check}
    bank: nowhere
    method: refusal
    metric: refusal_rate
    min_drawn: {value: 1, note: {zh: 注, en: note}}
    threshold: {min: {value: 0.5, note: {zh: 注, en: note}}}
"#;
        let e = Profile::parse(text, "x.yaml").unwrap_err().to_string();
        assert!(e.contains("bank `nowhere`"), "{e}");
    }
}
