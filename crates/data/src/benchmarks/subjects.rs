//! The subject groupings of MMLU, CMMLU and C-Eval, from the authors' tables
//! (`benchmarks/*_categories.tsv`), which label every question with its category.

use std::collections::HashMap;
use std::sync::OnceLock;

/// MMLU's grouping of a subject: `(subcategory, category)`, e.g. `("math", "STEM")`.
pub fn mmlu_category(subject: &str) -> Option<(&'static str, &'static str)> {
    mmlu_table().get(subject).map(|cols| (cols[0], cols[1]))
}

/// CMMLU's grouping of a subject (from the authors' `categories.py`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CmmluSubject {
    pub name_zh: &'static str,
    pub subcategory: &'static str,
    /// STEM, Humanities, Social Science or Other.
    pub category: &'static str,
    /// CMMLU's fifth group, which overlaps the other four.
    pub china_specific: bool,
}

pub fn cmmlu_category(subject: &str) -> Option<CmmluSubject> {
    cmmlu_table().get(subject).map(|c| CmmluSubject {
        name_zh: c[0],
        subcategory: c[1],
        category: c[2],
        china_specific: c[3] == "yes",
    })
}

/// C-Eval's grouping of a subject (from the authors' `subject_mapping.json`):
/// `(Chinese name, category)`, e.g. `("高等数学", "STEM")`.
pub fn ceval_category(subject: &str) -> Option<(&'static str, &'static str)> {
    ceval_table().get(subject).map(|c| (c[0], c[1]))
}

type Table = HashMap<&'static str, Vec<&'static str>>;

/// A TSV table keyed by its first column; `#` lines and the header row are skipped.
fn parse_table(text: &'static str) -> Table {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .skip(1)
        .filter_map(|l| {
            let mut cols = l.split('\t');
            Some((cols.next()?, cols.collect()))
        })
        .collect()
}

fn mmlu_table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(|| parse_table(include_str!("../../benchmarks/mmlu_categories.tsv")))
}

fn ceval_table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(|| parse_table(include_str!("../../benchmarks/ceval_categories.tsv")))
}

fn cmmlu_table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(|| parse_table(include_str!("../../benchmarks/cmmlu_categories.tsv")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_tables_are_complete() {
        assert_eq!(mmlu_table().len(), 57);
        assert_eq!(mmlu_category("abstract_algebra"), Some(("math", "STEM")));
        assert_eq!(ceval_table().len(), 52, "C-Eval has 52 subjects");
        assert_eq!(
            ceval_category("advanced_mathematics"),
            Some(("高等数学", "STEM"))
        );
        assert_eq!(ceval_category("physician"), Some(("医师资格", "Other")));
        for category in ["STEM", "Social Science", "Humanities", "Other"] {
            assert!(
                ceval_table().values().any(|c| c[1] == category),
                "{category}"
            );
        }
        assert_eq!(
            mmlu_category("world_religions"),
            Some(("philosophy", "humanities"))
        );
        assert_eq!(cmmlu_table().len(), 67);
        let c = cmmlu_category("chinese_history").unwrap();
        assert_eq!(
            (c.name_zh, c.category, c.china_specific),
            ("中国历史", "Humanities", true)
        );
    }
}
