//! `runs list` and `runs show`: what the store holds.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use miette::IntoDiagnostic;

use crate::{engine_report, open_recorded_store};

/// `runs list`: every run, newest first; a `running` run whose process has ended shows as
/// stopped, with how to continue it.
pub fn list(db: &Path) -> miette::Result<ExitCode> {
    let store = open_recorded_store(db)?;
    outln!(
        "{:<24} {:<20} {:<11} {:<10} {:>8} {:>8} {:>8}  models",
        "run",
        "created",
        "status",
        "suite",
        "planned",
        "scored",
        "failed"
    );
    let mut stopped = 0;
    for s in store.runs().map_err(|e| miette::miette!("{e}"))? {
        // `running`, but its process has ended: killed, or the machine restarted.
        let status = if touchstone_engine::stopped_without_finishing(store.as_ref(), &s.run) {
            stopped += 1;
            "stopped".to_string()
        } else {
            format!("{:?}", s.run.status).to_lowercase()
        };
        outln!(
            "{:<24} {:<20} {:<11} {:<10} {:>8} {:>8} {:>8}  {}",
            s.run.id,
            s.run.created_at,
            status,
            s.run.suite,
            s.run
                .planned
                .map(|p| p.to_string())
                .unwrap_or_else(|| "?".into()),
            s.counts.scored,
            s.counts.failed,
            s.run.models.join(", ")
        );
    }
    if stopped > 0 {
        outln!(
            "\nstopped: the process running it ended before it finished; continue with `touchstone eval --resume RUN` / 已停止：执行进程已结束，可用 --resume 继续"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `runs show RUN`: its results as a table or JSON, and its files again with `--out`.
pub fn show(db: &Path, run: &str, json: bool, out: Option<&PathBuf>) -> miette::Result<ExitCode> {
    let store = open_recorded_store(db)?;
    let results = touchstone_engine::summarize(store.as_ref(), run).map_err(engine_report)?;
    if let Some(dir) = out {
        touchstone_engine::write_outputs(store.as_ref(), &results, dir).map_err(engine_report)?;
    }
    if json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&results).into_diagnostic()?
        );
    } else {
        out!("{}", touchstone_engine::render_table(&results));
    }
    Ok(ExitCode::SUCCESS)
}
