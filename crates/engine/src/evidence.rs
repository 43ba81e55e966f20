//! What a certificate names as the evidence behind a run's results: the suite, every dataset
//! file (and few-shot source), the model identities and the Touchstone build, each by SHA-256
//! and SM3. Dataset files are read again now and must still match the digests the run recorded
//! when it started: a certificate never vouches for data that changed since.

use std::collections::BTreeSet;
use std::path::Path;

use touchstone_core::{DatasetSource, DatasetSpec, TaskSpec};
use touchstone_trust::{Digests, Subject};

use crate::EngineError;
use crate::config::RunConfig;

/// The subjects of a run, in a stable order: suite, datasets (by task, then few-shot sources),
/// models, judge, build. Dataset paths are written relative to `files_root` (the folder a
/// verifier passes as `--files-root`), so that a certificate names no folder of the issuer's
/// machine above it; a file outside it keeps its absolute path.
pub fn subjects(config: &RunConfig, files_root: &Path) -> Result<Vec<Subject>, EngineError> {
    let root = std::fs::canonicalize(files_root).map_err(|e| {
        EngineError::Config(format!(
            "the files root {} cannot be used: {e} / 文件根目录不可用",
            files_root.display()
        ))
    })?;
    let mut out = Vec::new();
    let suite = touchstone_trust::canonical::of(&config.suite)
        .map_err(|e| EngineError::Internal(format!("the suite does not serialize: {e}")))?;
    out.push(Subject::new(
        "suite",
        &config.suite.name,
        None,
        Digests::of_bytes(&suite),
    ));

    let mut seen = BTreeSet::new();
    for task in &config.suite.tasks {
        check_unchanged(config, task)?;
        dataset_subjects(&task.name, &task.dataset, &root, &mut seen, &mut out)?;
        if let Some(from) = &task.prompt.few_shot_from {
            dataset_subjects(
                &format!("{} (few-shot)", task.name),
                &from.dataset,
                &root,
                &mut seen,
                &mut out,
            )?;
        }
    }
    for identity in &config.model_identities {
        out.push(identity_subject("model", &identity.label, identity)?);
    }
    if let Some(judge) = &config.judge_identity {
        out.push(identity_subject(
            "model",
            &format!("judge {}", judge.label),
            judge,
        )?);
    }
    out.push(Subject::of_text(
        "build",
        "touchstone",
        &format!(
            "touchstone {} {}",
            config.touchstone_version, config.git_revision
        ),
    ));
    Ok(out)
}

fn identity_subject(
    kind: &str,
    name: &str,
    identity: &touchstone_models::ModelIdentity,
) -> Result<Subject, EngineError> {
    let bytes = touchstone_trust::canonical::of(identity)
        .map_err(|e| EngineError::Internal(format!("a model identity does not serialize: {e}")))?;
    Ok(Subject::new(kind, name, None, Digests::of_bytes(&bytes)))
}

/// The task's data must hash as it did when the run started.
fn check_unchanged(config: &RunConfig, task: &TaskSpec) -> Result<(), EngineError> {
    let Some(recorded) = config.datasets.iter().find(|d| d.task == task.name) else {
        return Ok(());
    };
    let now = crate::plan::digest(task)?;
    if now.sha256 != recorded.sha256 {
        return Err(EngineError::Config(format!(
            "dataset of task `{}` ({}) changed since the run: its SHA-256 was {} and is now {}; a certificate cannot vouch for it. \
             Restore the file or evaluate again / 任务数据自运行以来已改变，无法签发证书",
            task.name, recorded.source, recorded.sha256, now.sha256
        )));
    }
    Ok(())
}

fn dataset_subjects(
    name: &str,
    spec: &DatasetSpec,
    root: &Path,
    seen: &mut BTreeSet<String>,
    out: &mut Vec<Subject>,
) -> Result<(), EngineError> {
    match &spec.source {
        DatasetSource::Builtin(bank) => {
            let bytes = touchstone_data::builtin_bytes(bank).unwrap_or_default();
            if seen.insert(format!("builtin:{bank}")) {
                out.push(Subject::new(
                    "dataset",
                    &format!("{name}: builtin:{bank}"),
                    None,
                    Digests::of_bytes(bytes),
                ));
            }
        }
        DatasetSource::Path(path) => {
            // A directory dataset (MMLU's subject files) is certified file by file: the files read.
            let mut files = touchstone_data::dataset_files(path, spec.format)?;
            files.extend(touchstone_data::companion_files(path, spec.format));
            for file in files {
                let shown = shown_path(&file, root);
                if seen.insert(shown.clone()) {
                    out.push(file_subject(name, &shown, &file)?);
                }
            }
        }
    }
    Ok(())
}

/// `file` relative to `root` with `/` separators when it lies below it, else as it is.
fn shown_path(file: &Path, root: &Path) -> String {
    let absolute = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
    match absolute.strip_prefix(root) {
        Ok(relative) => relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/"),
        Err(_) => file.display().to_string(),
    }
}

fn file_subject(name: &str, shown: &str, file: &Path) -> Result<Subject, EngineError> {
    Subject::of_file("dataset", name, shown, file).map_err(|e| {
        EngineError::Config(format!(
            "cannot read dataset file {shown}: {e} / 无法读取数据文件"
        ))
    })
}
