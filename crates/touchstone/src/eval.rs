//! `touchstone eval`: a run from the command line — flags to a suite and options, the engine
//! with a progress bar, the table and files after, and an exit status a CI can gate on.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use miette::Report;
use tokio_util::sync::CancellationToken;
use touchstone_core::ModelSpec;
use touchstone_engine::{EvalOptions, ExecOptions, RunOutcome};
use touchstone_store::RunStatus;

use crate::cli::{EvalArgs, McMethodArg};
use crate::{
    EXIT_INTERRUPTED, EXIT_NOTHING_SCORED, EXIT_UNMET, engine_report, open_store, progress,
};

pub async fn eval(db: &Path, quiet: bool, args: EvalArgs) -> miette::Result<ExitCode> {
    let exec = ExecOptions {
        concurrency: args.concurrency.map(|n| n as usize),
        request_timeout_secs: args.request_timeout,
        max_retries: args.max_retries,
        no_cache: args.no_cache,
        threads: args.threads.map(|n| n as usize),
    };
    let cancel = CancellationToken::new();
    spawn_interrupt_handler(cancel.clone(), quiet);
    if let Some(dir) = &args.out {
        touchstone_engine::prepare_output_dir(dir).map_err(engine_report)?;
    }
    let store = open_store(db)?;
    let progress = Arc::new(progress::Progress::new(quiet));

    let outcome = if let Some(run) = &args.resume {
        let run = (!run.is_empty()).then_some(run.as_str());
        touchstone_engine::resume(
            store.clone(),
            touchstone_providers::Standard::shared(),
            db.to_path_buf(),
            run,
            Some(exec),
            progress.clone(),
            cancel,
        )
        .await
    } else {
        let mut suite = match (&args.dataset, &args.benchmark) {
            (Some(path), _) => {
                if args.scorers.is_empty() && !quiet {
                    errln!(
                        "· no --scorer given: answers are scored with `exact` (normalised equality) / 未指定评分器，使用 exact"
                    );
                }
                touchstone_suite::adhoc::suite(path, &args.scorers).map_err(Report::new)?
            }
            (None, Some(name)) => {
                let method = match args.mc_method {
                    McMethodArg::Generate => touchstone_suite::benchmarks::McMethod::Generate,
                    McMethodArg::Cot => touchstone_suite::benchmarks::McMethod::ChainOfThought,
                    McMethodArg::Loglikelihood => {
                        touchstone_suite::benchmarks::McMethod::Loglikelihood
                    }
                };
                let data = args.data_dir.as_deref().unwrap_or(Path::new("."));
                let request = touchstone_suite::benchmarks::BenchmarkRequest {
                    name,
                    data,
                    shots: args.shots,
                    method,
                    circular: args.circular,
                    pass_at_k: args.pass_at_k.clone(),
                };
                touchstone_suite::benchmarks::benchmark(&request).map_err(Report::new)?
            }
            (None, None) => touchstone_suite::load(args.suite.as_deref().unwrap_or("quick"))
                .map_err(Report::new)?,
        };
        if let Some(attacks) = &args.attacks {
            touchstone_engine::set_attacks(&mut suite.spec, attacks).map_err(engine_report)?;
        }
        let sample = args.sample.map(|n| touchstone_core::SampleSpec {
            n: n as usize,
            stratify: args.stratify.clone(),
            seed: None,
        });
        touchstone_engine::sample::set_sampling(&mut suite.spec, sample, args.seed);
        let other_model = |spec: &Option<String>| {
            spec.as_deref()
                .map(|s| {
                    ModelSpec::parse_with_key_env(s, &args.api_key_env)
                        .map_err(|e| miette::miette!("{e}"))
                })
                .transpose()
        };
        let judge = other_model(&args.judge)?;
        let attacker = other_model(&args.attacker)?;
        let specs: Vec<String> = if args.models.is_empty() {
            vec![touchstone_core::model_spec::DEFAULT_MODEL.to_string()]
        } else {
            args.models.clone()
        };
        let models = specs
            .iter()
            .map(|s| {
                ModelSpec::parse_with_key_env(s, &args.api_key_env)
                    .map_err(|e| miette::miette!("{e}"))
            })
            .collect::<miette::Result<Vec<_>>>()?;
        let options = EvalOptions {
            limit: args.limit.map(|n| n as usize),
            epochs: args.epochs.map(|n| n as u32),
            seed: args.seed.unwrap_or_default(),
            judge,
            attacker,
            draws: Default::default(),
            allow_unisolated_code: args.allow_unisolated_code,
            exec,
        };
        touchstone_engine::start(
            store.clone(),
            touchstone_providers::Standard::shared(),
            suite,
            models,
            options,
            progress.clone(),
            cancel,
        )
        .await
    };
    progress.finish();
    let RunOutcome {
        run_id,
        status,
        results,
    } = outcome.map_err(engine_report)?;
    crate::audit::record(
        store.as_ref(),
        if args.resume.is_some() {
            "run.resume"
        } else {
            "run.execute"
        },
        &format!("run:{run_id}"),
        status.as_str(),
    );
    out!("{}", touchstone_engine::render_table(&results));
    if let Some(dir) = &args.out {
        touchstone_engine::write_outputs(store.as_ref(), &results, dir).map_err(|e| {
            miette::miette!(
                "{e}; the run is recorded: write its files again with `touchstone runs show {run_id} --out DIR` / 结果已记录，可用该命令重新导出"
            )
        })?;
        if !quiet {
            errln!("· wrote {}/results.json and samples.jsonl", dir.display());
        }
    }
    if status == RunStatus::Interrupted {
        errln!(
            "interrupted: run {run_id} is saved; continue it with `touchstone eval --resume {run_id}` / 已中断：运行已保存，可用上述命令继续"
        );
        return Ok(ExitCode::from(EXIT_INTERRUPTED));
    }
    if results.nothing_scored() {
        errln!(
            "nothing was scored: all {} recorded item(s) of run {run_id} failed; see why with `touchstone runs show {run_id} --out DIR` (samples.jsonl) — an endpoint that answers only errors, or a model name it does not serve, fails every item / 所有条目均失败，未得到任何评分",
            results.counts.failed
        );
        return Ok(ExitCode::from(EXIT_NOTHING_SCORED));
    }
    let unmet = results.unmet();
    if !args.strict && !unmet.is_empty() && !quiet {
        errln!(
            "· {} expectation(s) and {} compliance check(s) not met; with --strict that fails the command (exit 3) / 未达预期；加 --strict 时以状态 3 退出",
            unmet.expectations.len(),
            unmet.verdicts.len()
        );
    }
    if args.strict && !unmet.is_empty() {
        for what in &unmet.expectations {
            errln!("expectation not met / 未达预期: {what}");
        }
        for what in &unmet.verdicts {
            errln!("does not conform / 不符合: {what}");
        }
        return Ok(ExitCode::from(EXIT_UNMET));
    }
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C or SIGTERM (what `kill`, systemd and container runtimes send) stops dispatching,
/// lets the writer commit what is done, and leaves a resumable run. A second signal of either
/// kind exits at once; the store is still consistent (WAL, one transaction per batch).
pub(crate) fn spawn_interrupt_handler(cancel: CancellationToken, quiet: bool) {
    use tokio::signal::unix::{SignalKind, signal};
    // Installed before anything is read, so that no signal falls back to the default action
    // (killing the process mid-write) between here and the end of the run.
    let (Ok(mut interrupt), Ok(mut terminate)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        // Without handlers the signals keep their default action: the process ends at once.
        return;
    };
    tokio::spawn(async move {
        tokio::select! { _ = interrupt.recv() => {}, _ = terminate.recv() => {} }
        if !quiet {
            errln!(
                "\nstopping: finishing writes… (Ctrl-C or SIGTERM again to quit at once) / 正在停止，再次中断将立即退出"
            );
        }
        cancel.cancel();
        tokio::select! { _ = interrupt.recv() => {}, _ = terminate.recv() => {} }
        std::process::exit(i32::from(EXIT_INTERRUPTED));
    });
}
