//! Reading a bank file for `touchstone bank check`: a question bank (JSONL/CSV with `id`,
//! `text` or `input`, `lang`, `risk`, `bank`) or a keyword library (`keyword`, `risk`,
//! `variants`), told apart by their fields.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use touchstone_core::{DatasetFormat, FieldMap};

use crate::bank::{BankItem, BankReport, check_keywords, check_questions};
use crate::profile::{BankKind, Profile};

#[derive(Debug, thiserror::Error)]
pub enum BankFileError {
    #[error(transparent)]
    Data(#[from] touchstone_data::DataError),
    #[error(transparent)]
    Keywords(#[from] touchstone_keywords::KeywordError),
    #[error("cannot read {}: {message}", path.display())]
    Io {
        path: std::path::PathBuf,
        message: String,
    },
    #[error("{}: {message}", path.display())]
    Bank {
        path: std::path::PathBuf,
        message: String,
    },
}

/// The fields of the file's first record (JSONL object keys, or the CSV header).
fn first_fields(path: &Path) -> Result<Vec<String>, BankFileError> {
    let io = |e: std::io::Error| BankFileError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let reader: Box<dyn Read> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(flate2::read::GzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let mut lines = BufReader::new(reader.take(16 << 20)).lines();
    let is_csv = touchstone_data::infer_format(path) == Some(DatasetFormat::Csv);
    for line in lines.by_ref() {
        let line = line.map_err(io)?;
        if line.trim().is_empty() {
            continue;
        }
        if is_csv {
            return Ok(line
                .split(',')
                .map(|f| f.trim().trim_matches('"').to_string())
                .collect());
        }
        // A bad first line is reported with its location by the real reader below.
        return Ok(
            serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&line)
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default(),
        );
    }
    Ok(Vec::new())
}

/// Checks a bank file against a profile: one report per bank the file holds (a question file
/// may mix banks by its `bank` field), or for `bank` when given.
pub fn check_file(
    path: &Path,
    profile: &Profile,
    bank: Option<&str>,
) -> Result<Vec<BankReport>, BankFileError> {
    let fields = first_fields(path)?;
    let unknown_bank = |id: &str| BankFileError::Bank {
        path: path.to_path_buf(),
        message: format!(
            "profile {} has no bank `{id}` (its banks: {})",
            profile.id,
            profile
                .banks
                .iter()
                .map(|b| b.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    if fields.iter().any(|f| f == "keyword") {
        let library = touchstone_keywords::KeywordLibrary::from_path(path)?;
        let rule = match bank {
            Some(id) => profile.bank(id).ok_or_else(|| unknown_bank(id))?,
            None => profile
                .banks
                .iter()
                .find(|b| b.kind == BankKind::Keywords)
                .ok_or_else(|| BankFileError::Bank {
                    path: path.to_path_buf(),
                    message: format!("profile {} has no keyword-library bank", profile.id),
                })?,
        };
        let entries = library.entries();
        return Ok(vec![check_keywords(
            profile,
            rule,
            entries
                .iter()
                .map(|e| (e.keyword.as_str(), e.risk.as_str())),
        )]);
    }
    let input = if fields.iter().any(|f| f == "text") {
        "text"
    } else {
        "input"
    };
    let map = FieldMap {
        input: input.into(),
        metadata: vec!["risk".into(), "bank?".into(), "lang?".into()],
        ..FieldMap::default()
    };
    let mut by_bank: BTreeMap<String, Vec<BankItem>> = BTreeMap::new();
    for sample in touchstone_data::open_file(path, None, &map)? {
        let item = BankItem::from_sample(sample?);
        let key = match (bank, &item.bank) {
            (Some(b), _) => b.to_string(),
            (None, Some(b)) => b.clone(),
            (None, None) => {
                return Err(BankFileError::Bank {
                    path: path.to_path_buf(),
                    message: format!(
                        "item `{}` has no `bank` field: give one per item, or pass --bank",
                        item.id
                    ),
                });
            }
        };
        by_bank.entry(key).or_default().push(item);
    }
    let mut reports = Vec::new();
    for (id, items) in by_bank {
        let rule = profile.bank(&id).ok_or_else(|| unknown_bank(&id))?;
        reports.push(check_questions(profile, rule, &items));
    }
    Ok(reports)
}

/// A bank report for people: per code have/need, then duplicates, unknown codes and the
/// conclusion, in Chinese and English.
pub fn render(report: &BankReport, profile: &Profile) -> String {
    let mut out = String::new();
    let name = profile
        .bank(&report.bank)
        .map(|b| b.name.both())
        .unwrap_or_else(|| report.bank.clone());
    out.push_str(&format!("题库 Bank: {name} · {} \n", profile.title.zh));
    out.push_str(&format!(
        "  总数 total: {} (标准要求 required ≥ {})\n",
        report.total, report.min_total
    ));
    for c in &report.codes {
        let label = profile
            .code_name(&c.code)
            .map(|n| n.both())
            .unwrap_or_default();
        let mark = if c.short() { "✗ 不足 short" } else { "✓" };
        out.push_str(&format!(
            "  {:<12} {:>6} / {:<6} {mark}  {label}\n",
            c.code, c.have, c.need
        ));
    }
    if !report.unknown_codes.is_empty() {
        out.push_str("  未知编码 unknown codes:\n");
        for (code, n) in &report.unknown_codes {
            out.push_str(&format!("    {code}: {n}\n"));
        }
    }
    if !report.outside_codes.is_empty() {
        out.push_str("  本题库不计的风险 codes this bank does not count:\n");
        for (code, n) in &report.outside_codes {
            out.push_str(&format!("    {code}: {n}\n"));
        }
    }
    if !report.duplicates.is_empty() {
        out.push_str(&format!(
            "  重复 duplicates ({} 组 groups, 只计一次 counted once):\n",
            report.duplicates.len()
        ));
        for g in report.duplicates.iter().take(20) {
            out.push_str(&format!("    {}\n", g.join(", ")));
        }
    }
    if !report.near_duplicates.is_empty() {
        out.push_str(&format!(
            "  近似重复 near-duplicates ({} 对 pairs):\n",
            report.near_duplicates.len()
        ));
        for n in report.near_duplicates.iter().take(20) {
            out.push_str(&format!("    {} ~ {} ({:.2})\n", n.a, n.b, n.similarity));
        }
    }
    let short: Vec<&str> = report.short_codes().map(|c| c.code.as_str()).collect();
    if report.qualifies {
        out.push_str("  结论 Result: 满足标准规模 qualifies\n");
    } else {
        out.push_str(&format!(
            "  结论 Result: 不满足标准规模 does not qualify{}\n",
            if short.is_empty() {
                String::new()
            } else {
                format!(" — 不足 short: {}", short.join(", "))
            }
        ));
    }
    out
}
