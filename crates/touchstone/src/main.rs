//! `touchstone`: the command line. It parses arguments, calls the libraries and prints; every
//! capability lives in a library (invariant 7).

// First, so that its macros (`out!`, `outln!`, `errln!`) are in scope in every module below.
#[macro_use]
mod output;

mod analysis;
mod certify;
mod cli;
mod progress;

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use miette::{IntoDiagnostic, Report};
use tokio_util::sync::CancellationToken;
use touchstone_core::{
    DatasetSource, DatasetSpec, FieldMap, ModelSpec, PromptSpec, ScorerSpec, SuiteSpec, TaskSpec,
};
use touchstone_engine::{EngineError, EvalOptions, ExecOptions, RunOutcome};
use touchstone_store::{RunStatus, SqliteStore, Store};
use touchstone_suite::{LoadedSuite, SuiteOrigin};

use cli::{
    AttacksCommand, BankCommand, BenchmarksCommand, Cli, Command, EvalArgs, KeysCommand,
    LogCommand, McMethodArg, ModelsCommand, RunsCommand, SuitesCommand,
};

/// Exit code of a run stopped by Ctrl-C (128 + SIGINT), as shells expect.
const EXIT_INTERRUPTED: u8 = 130;
/// Exit status of `eval --strict` when an expectation or a compliance check is not met.
const EXIT_UNMET: u8 = 3;
/// Exit status of a run in which every recorded item failed: it measured nothing.
const EXIT_NOTHING_SCORED: u8 = 4;

fn main() -> ExitCode {
    let mut cli = Cli::parse();
    if cli.command.is_none() {
        // Plain `touchstone` is `touchstone eval`, with eval's own defaults and environment.
        cli = Cli::parse_from(std::env::args_os().chain(["eval".into()]));
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TOUCHSTONE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            errln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(code) => code,
        Err(report) => {
            errln!("{report:?}");
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(cli: Cli) -> miette::Result<ExitCode> {
    let Some(command) = cli.command else {
        return Ok(ExitCode::SUCCESS);
    };
    match command {
        Command::Eval(args) => eval(&cli.db, cli.quiet, args).await,
        Command::Suites(SuitesCommand::List) => {
            for (name, description) in touchstone_suite::builtin_suites() {
                outln!("{name:<12} {description}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Suites(SuitesCommand::Validate { file }) => {
            let suite = touchstone_suite::load_file(&file).map_err(Report::new)?;
            // The data too: a suite whose dataset cannot be read is not valid.
            let mut samples = 0;
            let profile = suite
                .spec
                .profile
                .as_deref()
                .map(touchstone_compliance::Profile::load)
                .transpose()
                .map_err(|e| miette::miette!("{e}"))?;
            for task in &suite.spec.tasks {
                samples += touchstone_engine::plan::check_task_data_with(task, profile.as_ref())
                    .map_err(|e| miette::miette!("task `{}`: {}", task.name, engine_report(e)))?;
            }
            outln!(
                "ok: {} — {} task(s), {samples} sample(s) / 有效：{} 个任务，{samples} 个样本",
                file.display(),
                suite.spec.tasks.len(),
                suite.spec.tasks.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Models(ModelsCommand::List) => {
            for entry in touchstone_local::catalogue::list() {
                outln!(
                    "local:{:<10} {:<8} {}  {}",
                    entry.model.name,
                    if entry.present { "present" } else { "absent" },
                    entry.model.description,
                    entry.path.display()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Models(ModelsCommand::Pull { name }) => {
            // `models list` shows the spec (`local:smollm2`); the catalogue name is what follows.
            let name = name.strip_prefix("local:").unwrap_or(&name).to_string();
            let path =
                tokio::task::spawn_blocking(move || touchstone_local::catalogue::pull(&name))
                    .await
                    .into_diagnostic()?
                    .map_err(|e| miette::miette!("{e}"))?;
            outln!("{}", path.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Bank(BankCommand::Check {
            file,
            profile,
            bank,
            json,
        }) => {
            let profile = touchstone_compliance::Profile::load(&profile)
                .map_err(|e| miette::miette!("{e}"))?;
            let reports = touchstone_compliance::check_file(&file, &profile, bank.as_deref())
                .map_err(|e| miette::miette!("{e}"))?;
            if json {
                outln!(
                    "{}",
                    serde_json::to_string_pretty(&reports).into_diagnostic()?
                );
            } else {
                for r in &reports {
                    out!("{}", touchstone_compliance::files::render(r, &profile));
                }
            }
            // Exit 3 when a bank falls short (as `eval --strict` does for an unmet check), so
            // that a center's CI can gate on it and tell it from an error (1).
            Ok(if reports.iter().all(|r| r.qualifies) {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(EXIT_UNMET)
            })
        }
        Command::ServeModel {
            model,
            port,
            threads,
            request_log,
        } => {
            let spec = ModelSpec::parse_with_key_env(&model, "OPENAI_API_KEY")
                .map_err(|e| miette::miette!("{e}"))?;
            let exec = ExecOptions {
                threads,
                no_cache: true,
                ..ExecOptions::default()
            };
            let store = open_store(&cli.db)?;
            let opened = touchstone_engine::providers::open(&spec, &exec, store)
                .await
                .map_err(engine_report)?;
            if !cli.quiet {
                errln!(
                    "serving {spec} at http://127.0.0.1:{port}/v1 (Ctrl-C stops) / 正在提供服务"
                );
            }
            let config = touchstone_serve::ServeConfig {
                request_log,
                ..touchstone_serve::ServeConfig::new(opened.model)
            };
            touchstone_serve::serve_config_port(config, port, async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .map_err(|e| miette::miette!("{e}"))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Benchmarks(BenchmarksCommand::List) => {
            // One block per benchmark: licences and sources are too long for table columns.
            for b in touchstone_data::benchmarks::list() {
                outln!("{}", b.name);
                outln!("  {} / {}", b.description_en, b.description_zh);
                outln!("  licence / 许可: {}", b.licence);
                outln!("  get it / 获取: {}", b.source_url_hint);
            }
            outln!(
                "\nNone is bundled: point --data-dir at the files as their authors publish them. 均未随附，请用 --data-dir 指向原始文件。"
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Attacks(AttacksCommand::List) => {
            out!(
                "{}",
                touchstone_attacks::describe_list(&touchstone_attacks::Catalogue::builtin())
            );
            outln!(
                "\nmulti-turn drivers / 多轮攻击驱动 (eval --attacks only): {}",
                touchstone_attacks::DRIVER_NAMES.join(", ")
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Attacks(AttacksCommand::Show { name, text, seed }) => {
            let catalogue = touchstone_attacks::Catalogue::builtin();
            let Some(attack) = catalogue.get(&name) else {
                if touchstone_attacks::DRIVER_NAMES.contains(&name.as_str()) {
                    return Err(miette::miette!(
                        "`{name}` is a multi-turn driver, not a transformation: it talks to the model under test over several turns (with `--attacker` and `--judge` models when given), so it has no fixed variant to show; run it with `touchstone eval --attacks {name}` / `{name}` 为多轮攻击驱动，仅在 eval 中运行"
                    ));
                }
                return Err(miette::miette!(
                    "no attack `{name}`; see `touchstone attacks list`"
                ));
            };
            out!(
                "{}",
                touchstone_attacks::show(attack, &text, seed)
                    .map_err(|e| miette::miette!("{e}"))?
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Keys(KeysCommand::Generate { out }) => certify::keys_generate(&out),
        Command::Certify(args) => certify::certify(&cli.db, &args),
        Command::Verify(args) => certify::verify(&args),
        Command::Log(LogCommand::Head {
            key,
            since,
            out,
            force,
            center,
        }) => certify::log_head(&cli.db, &key, &since, out.as_deref(), force, &center),
        Command::Report(args) => analysis::report(&cli.db, &args),
        Command::Compare(args) => analysis::compare(&cli.db, &args),
        Command::Plan(args) => analysis::plan(&args),
        Command::Runs(RunsCommand::List) => {
            let store = open_recorded_store(&cli.db)?;
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
                let status = if touchstone_engine::stopped_without_finishing(store.as_ref(), &s.run)
                {
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
        Command::Runs(RunsCommand::Show { run, json, out }) => {
            let store = open_recorded_store(&cli.db)?;
            let results =
                touchstone_engine::summarize(store.as_ref(), &run).map_err(engine_report)?;
            if let Some(dir) = &out {
                touchstone_engine::write_outputs(store.as_ref(), &results, dir)
                    .map_err(engine_report)?;
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
    }
}

fn open_store(db: &Path) -> miette::Result<Arc<dyn Store>> {
    let store = SqliteStore::open(db).map_err(|e| miette::miette!("{e}"))?;
    Ok(Arc::new(store))
}

/// The store of commands that read what `eval` recorded: a database that is not there is a
/// wrong path, not an empty history, so it is not created.
fn open_recorded_store(db: &Path) -> miette::Result<Arc<dyn Store>> {
    if !db.exists() {
        return Err(miette::miette!(
            "no run database at {}: `touchstone eval` records runs there; name the database with --db or TOUCHSTONE_DB / 运行数据库不存在",
            db.display()
        ));
    }
    open_store(db)
}

/// Suite errors carry source spans; show them as such.
fn engine_report(e: EngineError) -> Report {
    match e {
        EngineError::Suite(s) => Report::new(s),
        other => miette::miette!("{other}"),
    }
}

async fn eval(db: &Path, quiet: bool, args: EvalArgs) -> miette::Result<ExitCode> {
    let exec = ExecOptions {
        concurrency: args.concurrency.map(|n| n as usize),
        request_timeout_secs: args.request_timeout,
        max_retries: args.max_retries,
        no_cache: args.no_cache,
        threads: args.threads.map(|n| n as usize),
    };
    if let Some(dir) = &args.out {
        touchstone_engine::prepare_output_dir(dir).map_err(engine_report)?;
    }
    let store = open_store(db)?;
    let progress = Arc::new(progress::Progress::new(quiet));
    let cancel = CancellationToken::new();
    spawn_interrupt_handler(cancel.clone(), quiet);

    let outcome = if let Some(run) = &args.resume {
        let run = (!run.is_empty()).then_some(run.as_str());
        touchstone_engine::resume(
            store.clone(),
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
                adhoc_suite(path, &args.scorers)?
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
            exec,
        };
        touchstone_engine::start(
            store.clone(),
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

/// Ctrl-C (or SIGTERM) stops dispatching, lets the writer commit what is done, and leaves a
/// resumable run. A second Ctrl-C exits at once; the store is still consistent (WAL).
fn spawn_interrupt_handler(cancel: CancellationToken, quiet: bool) {
    tokio::spawn(async move {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let first = async {
            match term.as_mut() {
                Some(t) => {
                    tokio::select! { _ = tokio::signal::ctrl_c() => {}, _ = t.recv() => {} }
                }
                None => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        };
        first.await;
        if !quiet {
            errln!("\nstopping: finishing writes… (Ctrl-C again to quit at once) / 正在停止");
        }
        cancel.cancel();
        let _ = tokio::signal::ctrl_c().await;
        std::process::exit(i32::from(EXIT_INTERRUPTED));
    });
}

/// A one-task suite from `--dataset FILE --scorer NAME…`.
fn adhoc_suite(path: &Path, scorers: &[String]) -> miette::Result<LoadedSuite> {
    let scorers: Vec<ScorerSpec> = if scorers.is_empty() {
        vec![ScorerSpec::named("exact")]
    } else {
        scorers.iter().map(ScorerSpec::named).collect()
    };
    for s in &scorers {
        touchstone_scorers::build(s).map_err(|e| miette::miette!("--scorer {}: {e}", s.name))?;
        // A --dataset run generates answers; these two read log-likelihoods instead, and every
        // item would fail after its request was paid for.
        if touchstone_scorers::reads_loglikelihoods(&s.name) {
            return Err(miette::miette!(
                "--scorer {}: it reads log-likelihoods, and a --dataset run generates answers; score them with `--scorer choice`, or write a suite whose task has `output: multiple_choice_letters` / 该评分器需要对数似然，请改用 choice 或在套件中设置 output",
                s.name
            ));
        }
    }
    if path.is_dir() {
        return Err(miette::miette!(
            "--dataset {} is a folder; give one JSONL, CSV or Parquet file (a benchmark's folder goes to --benchmark NAME --data-dir) / 请给出单个数据文件",
            path.display()
        ));
    }
    if !path.is_file() {
        return Err(miette::miette!(
            "--dataset {} does not exist / 数据文件不存在",
            path.display()
        ));
    }
    let absolute = std::fs::canonicalize(path).into_diagnostic()?;
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
