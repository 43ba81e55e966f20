//! Reading a bank file for `touchstone bank check`: a question bank (JSONL/CSV with `id`,
//! `text` or `input`, `lang`, `risk`, `bank`) or a keyword library (`keyword`, `risk`,
//! `variants`), told apart by their fields.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde_json::Value;
use touchstone_core::{ChoicesField, DatasetFormat, FieldMap};
use touchstone_data::{DataError, Location};

use crate::bank::{BankItem, BankReport, check_keywords_at, check_questions};
use crate::profile::{BankKind, BankRule, Profile};

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
    /// Something wrong at one record of the file (`line 3` in JSONL, `row 3` in CSV/Parquet).
    #[error("{}: {at}: {message}", path.display())]
    At {
        path: std::path::PathBuf,
        at: Location,
        message: String,
    },
    /// Something wrong with one field of one record.
    #[error("{}: {at}, field `{field}`: {message}", path.display())]
    Field {
        path: std::path::PathBuf,
        at: Location,
        field: String,
        message: String,
    },
}

/// What `bank check` reads, for messages that tell people what to give it.
const FORMATS: &str = "question banks in JSONL (.jsonl/.ndjson), CSV (.csv, also .gz) or \
                       Parquet (.parquet), keyword libraries in JSONL or CSV";
const QUESTION_FIELDS: &str = "a question bank has `text` (or `input`), `risk` and optional `id`, \
                               `bank`, `lang`";
const KEYWORD_FIELDS: &str = "a keyword library has `keyword`, `risk` and optional `variants`";

/// A field name no file has: reading with it as the input makes the reader report the first
/// record's fields.
const PROBE: &str = "\u{1}touchstone bank check probe";

fn probe_map() -> FieldMap {
    FieldMap {
        id: PROBE.into(),
        input: PROBE.into(),
        target: PROBE.into(),
        choices: ChoicesField::One(PROBE.into()),
        cluster: None,
        metadata: Vec::new(),
    }
}

/// Where the file's first record is and its fields (JSONL object keys, the CSV header, the
/// Parquet columns), read by the same reader as the records (so a BOM, gzip or Parquet are
/// handled alike). A first record that cannot be read is that reader's error, with its place.
fn first_fields(path: &Path) -> Result<(Location, Vec<String>), BankFileError> {
    let mut stream = touchstone_data::open_file(path, None, &probe_map())?;
    match stream.next() {
        Some(Err(DataError::MissingField {
            at,
            field,
            available,
            ..
        })) if field == PROBE => Ok((at, available)),
        Some(Err(e)) => Err(e.into()),
        Some(Ok(_)) | None => Err(DataError::Empty {
            path: path.to_path_buf(),
        }
        .into()),
    }
}

/// A field name as written, without a BOM or surrounding spaces.
fn clean(name: &str) -> &str {
    name.trim_start_matches('\u{feff}').trim()
}

/// The name the file uses for `wanted` (a CSV header may say ` risk` or `Keyword`).
fn resolve(fields: &[String], wanted: &str) -> Option<String> {
    fields
        .iter()
        .find(|f| clean(f) == wanted)
        .or_else(|| {
            fields
                .iter()
                .find(|f| clean(f).eq_ignore_ascii_case(wanted))
        })
        .cloned()
}

/// The place of each record in turn: JSONL records are numbered by physical line (blank lines
/// are skipped, as the reader skips them), CSV records by row (the header is row 1) and Parquet
/// records by row (the first is row 1), as the reader numbers them in its own errors.
enum Locator {
    Lines {
        reader: Box<dyn BufRead>,
        line: u64,
        buf: Vec<u8>,
    },
    Rows {
        next: u64,
    },
}

impl Locator {
    fn new(path: &Path) -> Result<Self, BankFileError> {
        match touchstone_data::infer_format(path) {
            Some(DatasetFormat::Csv) => Ok(Locator::Rows { next: 2 }),
            Some(DatasetFormat::Parquet) => Ok(Locator::Rows { next: 1 }),
            _ => {
                let io = |e: std::io::Error| BankFileError::Io {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                };
                let mut file = BufReader::new(touchstone_input::open(path).map_err(io)?);
                let head = file.fill_buf().map_err(io)?;
                let reader: Box<dyn BufRead> = if head.starts_with(&[0x1f, 0x8b]) {
                    Box::new(BufReader::new(flate2::bufread::MultiGzDecoder::new(file)))
                } else {
                    Box::new(file)
                };
                Ok(Locator::Lines {
                    reader,
                    line: 0,
                    buf: Vec::new(),
                })
            }
        }
    }

    /// The place of the next record.
    fn next(&mut self) -> Location {
        match self {
            Locator::Rows { next } => {
                *next += 1;
                Location::Row(*next - 1)
            }
            Locator::Lines { reader, line, buf } => loop {
                buf.clear();
                *line += 1;
                // The reader has read this record already, so it is there and not too long.
                if reader.read_until(b'\n', buf).unwrap_or(0) == 0 {
                    return Location::Line(*line);
                }
                let text = String::from_utf8_lossy(buf);
                let text = if *line == 1 {
                    text.trim_start_matches('\u{feff}')
                } else {
                    &text
                };
                if !text.trim().is_empty() {
                    return Location::Line(*line);
                }
            },
        }
    }
}

fn kind_name(kind: BankKind) -> &'static str {
    match kind {
        BankKind::Keywords => "keyword library",
        BankKind::Questions => "question bank",
    }
}

/// The ids of the profile's banks of one kind, for messages.
fn banks_of(profile: &Profile, kind: BankKind) -> String {
    let ids: Vec<&str> = profile
        .banks
        .iter()
        .filter(|b| b.kind == kind)
        .map(|b| b.id.as_str())
        .collect();
    if ids.is_empty() {
        "none".into()
    } else {
        ids.join(", ")
    }
}

/// The bank `--bank` names, which must be of the file's kind.
fn bank_arg<'p>(
    path: &Path,
    profile: &'p Profile,
    id: &str,
    file_kind: BankKind,
) -> Result<&'p BankRule, BankFileError> {
    let Some(rule) = profile.bank(id) else {
        return Err(BankFileError::Bank {
            path: path.to_path_buf(),
            message: format!(
                "--bank `{id}`: profile {} has no such bank; this file is a {}, so pass one of \
                 its {} banks: {} / 标准中没有此题库，请改用所列题库之一",
                profile.id,
                kind_name(file_kind),
                kind_label(file_kind),
                banks_of(profile, file_kind),
            ),
        });
    };
    if rule.kind != file_kind {
        return Err(BankFileError::Bank {
            path: path.to_path_buf(),
            message: format!(
                "--bank `{id}` is a {} in profile {}, but this file is a {} ({}); pass one of \
                 its {} banks instead: {} / 所给题库类型与文件不符，请改用所列题库之一",
                kind_name(rule.kind),
                profile.id,
                kind_name(file_kind),
                match file_kind {
                    BankKind::Keywords => "its records have `keyword`",
                    BankKind::Questions => "its records have `text` or `input`, not `keyword`",
                },
                kind_label(file_kind),
                banks_of(profile, file_kind),
            ),
        });
    }
    Ok(rule)
}

fn kind_label(kind: BankKind) -> &'static str {
    match kind {
        BankKind::Keywords => "keyword-library",
        BankKind::Questions => "question",
    }
}

/// A missing field reported with advice for `bank check` (which has no field mapping).
fn bank_data_error(e: DataError) -> BankFileError {
    match e {
        DataError::MissingField {
            path,
            at,
            field,
            available,
            ..
        } => BankFileError::At {
            path,
            at,
            message: format!(
                "no field `{}`; it has: {}. `bank check` reads fields by these names: {QUESTION_FIELDS}; \
                 {KEYWORD_FIELDS} / 缺少字段 `{}`，请按上述字段名书写",
                clean(&field),
                list(&available),
                clean(&field),
            ),
        },
        other => other.into(),
    }
}

fn list(fields: &[String]) -> String {
    if fields.is_empty() {
        return "no fields".into();
    }
    fields
        .iter()
        .map(|f| format!("`{}`", clean(f)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A JSON value as the message shows it.
fn shown(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}

/// Checks a bank file against a profile: one report per bank the file holds (a question file
/// may mix banks by its `bank` field), or for `bank` when given.
pub fn check_file(
    path: &Path,
    profile: &Profile,
    bank: Option<&str>,
) -> Result<Vec<BankReport>, BankFileError> {
    if touchstone_data::infer_format(path).is_none() {
        return Err(BankFileError::Bank {
            path: path.to_path_buf(),
            message: format!(
                "cannot tell the format from the file name; `bank check` reads {FORMATS}: \
                 name the file by its format / 无法从扩展名判断格式，请使用 .jsonl、.csv 或 .parquet"
            ),
        });
    }
    let (first_at, fields) = first_fields(path)?;
    if let Some(keyword) = resolve(&fields, "keyword") {
        return check_keyword_file(path, profile, bank, &fields, &keyword);
    }
    let Some(input) = resolve(&fields, "text").or_else(|| resolve(&fields, "input")) else {
        return Err(BankFileError::At {
            path: path.to_path_buf(),
            at: first_at,
            message: format!(
                "neither a question bank nor a keyword library: no field `text`, `input` or \
                 `keyword`; it has: {}; {QUESTION_FIELDS}; {KEYWORD_FIELDS} \
                 / 既不是题库也不是关键词库：题库需要 `text`（或 `input`），关键词库需要 `keyword`",
                list(&fields)
            ),
        });
    };
    let given = bank
        .map(|id| bank_arg(path, profile, id, BankKind::Questions))
        .transpose()?;
    let risk = resolve(&fields, "risk").unwrap_or_else(|| "risk".into());
    let bank_field = resolve(&fields, "bank").unwrap_or_else(|| "bank".into());
    let lang = resolve(&fields, "lang").unwrap_or_else(|| "lang".into());
    let map = FieldMap {
        id: resolve(&fields, "id").unwrap_or_else(|| "id".into()),
        input: input.clone(),
        metadata: vec![risk.clone(), format!("{bank_field}?"), format!("{lang}?")],
        ..FieldMap::default()
    };
    let field_error = |at: Location, field: &str, message: String| BankFileError::Field {
        path: path.to_path_buf(),
        at,
        field: clean(field).to_string(),
        message,
    };
    let mut locator = Locator::new(path)?;
    let mut by_bank: BTreeMap<String, Vec<BankItem>> = BTreeMap::new();
    for sample in touchstone_data::open_file(path, None, &map).map_err(bank_data_error)? {
        let sample = sample.map_err(bank_data_error)?;
        let at = locator.next();
        if sample.input.text().trim().is_empty() {
            return Err(field_error(
                at,
                &input,
                "the question is empty; write the question or remove the record \
                 / 题目为空：请填写题目或删除此条"
                    .into(),
            ));
        }
        let code = match sample.metadata.get(&risk) {
            Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
            None | Some(Value::Null) | Some(Value::String(_)) => {
                return Err(field_error(
                    at,
                    &risk,
                    "empty; give the risk or aspect code the question tests (e.g. `A.1a`, \
                     `N.history`) / 风险编码为空：请填写题目所测的风险编码"
                        .into(),
                ));
            }
            Some(other) => {
                return Err(field_error(
                    at,
                    &risk,
                    format!(
                        "must be a string naming one code (e.g. \"A.1a\"), found {} \
                         / 风险编码须为字符串",
                        shown(other)
                    ),
                ));
            }
        };
        let key = match given {
            Some(rule) => rule.id.clone(),
            None => match sample.metadata.get(&bank_field) {
                None | Some(Value::Null) => {
                    return Err(BankFileError::At {
                        path: path.to_path_buf(),
                        at,
                        message: format!(
                            "item `{}` has no `bank` field: give one per item (one of the \
                             question banks of profile {}: {}), or pass --bank \
                             / 缺少 `bank` 字段：请为每题注明题库，或使用 --bank",
                            sample.id,
                            profile.id,
                            banks_of(profile, BankKind::Questions)
                        ),
                    });
                }
                Some(Value::String(s)) => {
                    let id = s.trim();
                    match profile.bank(id) {
                        Some(rule) if rule.kind == BankKind::Questions => id.to_string(),
                        Some(rule) => {
                            return Err(field_error(
                                at,
                                &bank_field,
                                format!(
                                    "`{id}` is a {} in profile {}, not a question bank; give \
                                     one of its question banks: {} \
                                     / 该题库不是题库类型，请改用所列题库之一",
                                    kind_name(rule.kind),
                                    profile.id,
                                    banks_of(profile, BankKind::Questions)
                                ),
                            ));
                        }
                        None if id.is_empty() => {
                            return Err(field_error(
                                at,
                                &bank_field,
                                format!(
                                    "empty; give one of the question banks of profile {}: {}, \
                                     or pass --bank / 题库名为空",
                                    profile.id,
                                    banks_of(profile, BankKind::Questions)
                                ),
                            ));
                        }
                        None => {
                            return Err(field_error(
                                at,
                                &bank_field,
                                format!(
                                    "profile {} has no bank `{id}`; give one of its question \
                                     banks: {} / 标准中没有此题库",
                                    profile.id,
                                    banks_of(profile, BankKind::Questions)
                                ),
                            ));
                        }
                    }
                }
                Some(other) => {
                    return Err(field_error(
                        at,
                        &bank_field,
                        format!(
                            "must be a string naming one bank (e.g. \"should_refuse\"), found {} \
                             / 题库名须为字符串",
                            shown(other)
                        ),
                    ));
                }
            },
        };
        let mut item = BankItem::from_sample(sample);
        item.code = code;
        item.bank = Some(key.clone());
        by_bank.entry(key).or_default().push(item);
    }
    let mut reports = Vec::new();
    for (id, items) in by_bank {
        // Every key was checked against the profile above.
        if let Some(rule) = profile.bank(&id) {
            reports.push(check_questions(profile, rule, &items));
        }
    }
    Ok(reports)
}

/// A keyword library: read and checked by the keyword scanner's own reader, then read again
/// for the place of each entry (conflicts).
fn check_keyword_file(
    path: &Path,
    profile: &Profile,
    bank: Option<&str>,
    fields: &[String],
    keyword: &str,
) -> Result<Vec<BankReport>, BankFileError> {
    let rule = match bank {
        Some(id) => bank_arg(path, profile, id, BankKind::Keywords)?,
        None => profile
            .banks
            .iter()
            .find(|b| b.kind == BankKind::Keywords)
            .ok_or_else(|| BankFileError::Bank {
                path: path.to_path_buf(),
                message: format!(
                    "this file is a keyword library, but profile {} has no keyword-library \
                     bank; check it against a profile that has one (--profile) \
                     / 该标准没有关键词库要求",
                    profile.id
                ),
            })?,
    };
    if touchstone_data::infer_format(path) == Some(DatasetFormat::Parquet) {
        return Err(BankFileError::Bank {
            path: path.to_path_buf(),
            message: "a keyword library is read from JSONL (.jsonl) or CSV (.csv), not Parquet; \
                      save it as one of those / 关键词库须为 JSONL 或 CSV"
                .into(),
        });
    }
    let library = touchstone_keywords::KeywordLibrary::from_path(path)?;
    let risk = resolve(fields, "risk").unwrap_or_else(|| "risk".into());
    let map = FieldMap {
        input: keyword.to_string(),
        metadata: vec![format!("{risk}?")],
        ..probe_map()
    };
    let mut locator = Locator::new(path)?;
    let mut places = Vec::with_capacity(library.len());
    for sample in touchstone_data::open_file(path, None, &map).map_err(bank_data_error)? {
        let sample = sample.map_err(bank_data_error)?;
        let at = locator.next();
        if sample.input.text().trim().is_empty() {
            continue; // a blank CSV row, which the library skips too
        }
        places.push(at.to_string());
    }
    let entries = library.entries();
    let places = (places.len() == entries.len()).then_some(places);
    Ok(vec![check_keywords_at(
        profile,
        rule,
        entries.iter().enumerate().map(|(i, e)| {
            (
                e.keyword.as_str(),
                e.risk.as_str(),
                places.as_ref().map(|p| p[i].clone()),
            )
        }),
    )])
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
    if !report.conflicts.is_empty() {
        out.push_str(&format!(
            "  冲突 conflicts ({} 个关键词属于两个风险 keywords under two risks; 只计第一个 the first \
             counts; 请为每个关键词只给一个风险 give each keyword one risk):\n",
            report.conflicts.len()
        ));
        let place =
            |at: &Option<String>| at.as_ref().map(|a| format!(" ({a})")).unwrap_or_default();
        for c in report.conflicts.iter().take(20) {
            out.push_str(&format!(
                "    {} {}{} ≠ {} {}{}\n",
                c.first.keyword,
                c.first.risk,
                place(&c.first.at),
                c.second.keyword,
                c.second.risk,
                place(&c.second.at)
            ));
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
