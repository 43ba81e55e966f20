//! `touchstone`: the command line. It parses arguments, calls the libraries and prints; every
//! capability lives in a library (invariant 7).

// First, so that its macros (`out!`, `outln!`, `errln!`) are in scope in every module below.
#[macro_use]
mod output;

mod analysis;
mod audit;
mod catalogue;
mod center;
mod certify;
mod cli;
mod eval;
mod progress;
mod runs;
mod serve;

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use miette::Report;
use touchstone_engine::EngineError;
use touchstone_store::{SqliteStore, Store};

use cli::{
    AttacksCommand, AuditCommand, BankCommand, BenchmarksCommand, CenterCommand, Cli, Command,
    KeysCommand, LogCommand, ModelsCommand, RunsCommand, SuitesCommand,
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
    let outcome = runtime.block_on(dispatch(cli));
    // What is left on the runtime now is abandoned work (an interrupted item's code still
    // running in its sandbox, which dies with this process): dropping the runtime would wait for
    // it, so a stopped run would not stop.
    runtime.shutdown_background();
    match outcome {
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
        Command::Eval(args) => eval::eval(&cli.db, cli.quiet, args).await,
        Command::Suites(SuitesCommand::List) => catalogue::suites_list(),
        Command::Suites(SuitesCommand::Validate { file }) => catalogue::suites_validate(&file),
        Command::Models(ModelsCommand::List) => catalogue::models_list(),
        Command::Models(ModelsCommand::Pull { name }) => catalogue::models_pull(name).await,
        Command::Bank(BankCommand::Check {
            file,
            profile,
            bank,
            json,
        }) => catalogue::bank_check(&file, &profile, bank.as_deref(), json),
        Command::ServeModel {
            model,
            port,
            threads,
            request_log,
        } => serve::serve_model(&cli.db, cli.quiet, &model, port, threads, request_log).await,
        Command::Benchmarks(BenchmarksCommand::List) => catalogue::benchmarks_list(),
        Command::Attacks(AttacksCommand::List) => catalogue::attacks_list(),
        Command::Attacks(AttacksCommand::Show { name, text, seed }) => {
            catalogue::attacks_show(&name, &text, seed)
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
        Command::Audit(AuditCommand::Verify { head }) => audit::verify(&cli.db, head.as_ref()),
        Command::Audit(AuditCommand::Export { out }) => audit::export(&cli.db, out.as_deref()),
        Command::Center(args) => match args.command {
            Some(CenterCommand::Init { admin }) => center::init(&cli.db, &admin),
            Some(CenterCommand::Submit(a)) => center::submit(&a, cli.quiet).await,
            Some(CenterCommand::Status { run, client }) => center::status(&client, &run).await,
            Some(CenterCommand::Fetch { run, client, out }) => {
                center::fetch(&client, &run, out.as_deref()).await
            }
            None => center::serve(&cli.db, &args).await,
        },
        Command::Worker { workers } => center::worker(&cli.db, workers).await,
        Command::Runs(RunsCommand::List) => runs::list(&cli.db),
        Command::Runs(RunsCommand::Show { run, json, out }) => {
            runs::show(&cli.db, &run, json, out.as_ref())
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
