//! The one-task suite of `touchstone eval --dataset FILE --scorer NAME…`: a dataset scored as
//! given, without writing a suite file.

use std::path::Path;

use touchstone_core::{
    DatasetSource, DatasetSpec, FieldMap, PromptSpec, ScorerSpec, SuiteSpec, TaskSpec,
};

use crate::{LoadedSuite, SuiteError, SuiteOrigin};

/// A suite of one task over `path`, scored by `scorers` (`exact` when none is named). Refused
/// before any request: an unknown scorer, a scorer that reads log-likelihoods (a dataset run
/// generates answers, so every item would fail after its request was paid for), a folder or a
/// missing file.
pub fn suite(path: &Path, scorers: &[String]) -> Result<LoadedSuite, SuiteError> {
    let adhoc = |message: String| SuiteError::Adhoc { message };
    let scorers: Vec<ScorerSpec> = if scorers.is_empty() {
        vec![ScorerSpec::named("exact")]
    } else {
        scorers.iter().map(ScorerSpec::named).collect()
    };
    for s in &scorers {
        touchstone_scorers::build(s).map_err(|e| adhoc(format!("--scorer {}: {e}", s.name)))?;
        if touchstone_scorers::reads_loglikelihoods(&s.name) {
            return Err(adhoc(format!(
                "--scorer {}: it reads log-likelihoods, and a --dataset run generates answers; score them with `--scorer choice`, or write a suite whose task has `output: multiple_choice_letters` / 该评分器需要对数似然，请改用 choice 或在套件中设置 output",
                s.name
            )));
        }
    }
    if path.is_dir() {
        return Err(adhoc(format!(
            "--dataset {} is a folder; give one JSONL, CSV or Parquet file (a benchmark's folder goes to --benchmark NAME --data-dir) / 请给出单个数据文件",
            path.display()
        )));
    }
    if let Err(e) = touchstone_input::check_not_special(path) {
        return Err(adhoc(format!("--dataset {}: {e}", path.display())));
    }
    if !path.is_file() {
        return Err(adhoc(format!(
            "--dataset {} does not exist / 数据文件不存在",
            path.display()
        )));
    }
    let absolute = std::fs::canonicalize(path)
        .map_err(|e| adhoc(format!("--dataset {}: {e}", path.display())))?;
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "dataset".into());
    let template = scorers.iter().any(|s| s.name == "choice").then(|| {
        "{input}\n\n{choices}\n\nAnswer with the letter of the correct option ({letters})."
            .to_string()
    });
    let mut task = TaskSpec::new(
        name.clone(),
        DatasetSpec {
            source: DatasetSource::Path(absolute),
            format: None,
            fields: FieldMap::default(),
            limit: None,
            filter: Default::default(),
        },
        scorers,
    );
    task.prompt = PromptSpec {
        template,
        ..Default::default()
    };
    Ok(LoadedSuite {
        spec: SuiteSpec {
            name,
            description: None,
            generate: Default::default(),
            profile: None,
            attack_sources: Vec::new(),
            tasks: vec![task],
        },
        origin: SuiteOrigin::Adhoc,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dataset_becomes_one_task_scored_exactly_by_default() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("qa.jsonl");
        std::fs::write(&file, "{\"input\":\"1+1\",\"target\":\"2\"}\n").unwrap();
        let suite = suite(&file, &[]).unwrap();
        assert_eq!(suite.spec.name, "qa");
        assert_eq!(suite.spec.tasks.len(), 1);
        assert_eq!(suite.spec.tasks[0].scorers[0].name, "exact");
        assert!(suite.spec.tasks[0].prompt.template.is_none());
        let choice = super::suite(&file, &["choice".to_string()]).unwrap();
        assert!(choice.spec.tasks[0].prompt.template.is_some());
    }

    #[test]
    fn bad_requests_are_refused_with_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("qa.jsonl");
        std::fs::write(&file, "{}\n").unwrap();
        let msg = |r: Result<LoadedSuite, SuiteError>| r.unwrap_err().to_string();
        assert!(msg(suite(&file, &["nope".into()])).contains("--scorer nope"));
        assert!(msg(suite(&file, &["acc".into()])).contains("log-likelihoods"));
        assert!(msg(suite(dir.path(), &[])).contains("is a folder"));
        assert!(msg(suite(&dir.path().join("missing.jsonl"), &[])).contains("does not exist"));
    }
}
