//! `touchstone center` (the service), `center init` and `touchstone worker`: open the store and
//! the center's records, print what a person must know once (the first administrator's
//! password), and run until Ctrl-C or SIGTERM. Everything else is `touchstone-center`'s.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use serde_json::Value;
use tokio_util::sync::CancellationToken;
use touchstone_center::client::{Client, ClientError};
use touchstone_center::{Center, CenterConfig, ProviderFactory, RunRequest, Server};
use touchstone_engine::RunResults;

use crate::open_store;

/// Where the center keeps its files: beside the database unless told otherwise.
fn config(db: &Path) -> CenterConfig {
    let dir = db
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    CenterConfig {
        db: db.to_path_buf(),
        ..CenterConfig::in_dir(dir)
    }
}

fn open_center(config: &CenterConfig) -> miette::Result<Arc<Center>> {
    let store = open_store(&config.db)?;
    let providers: ProviderFactory = Arc::new(touchstone_providers::Keyed::shared);
    Center::open(store, config, providers).map_err(|e| miette::miette!("{e}"))
}

fn announce_admin(name: &str, password: Option<String>) {
    if let Some(password) = password {
        outln!(
            "created administrator `{name}` with password {password}\n\
             (shown once: keep it now) / 已创建管理员，密码仅显示这一次"
        );
    }
}

pub fn init(db: &Path, admin: &str) -> miette::Result<ExitCode> {
    let center = open_center(&config(db))?;
    match center
        .bootstrap_admin(admin)
        .map_err(|e| miette::miette!("{e}"))?
    {
        Some(password) => {
            announce_admin(admin, Some(password));
            Ok(ExitCode::SUCCESS)
        }
        None => Err(miette::miette!(
            "{} already has accounts; an administrator creates more through the API / 已有用户",
            db.display()
        )),
    }
}

pub async fn serve(db: &Path, args: &crate::cli::CenterArgs) -> miette::Result<ExitCode> {
    // Each event stream holds a connection: allow as many as the system lets this process.
    if let Err(e) = touchstone_sandbox::usage::raise_open_files_limit() {
        errln!("note: the open-files limit could not be raised ({e}) / 无法提高文件句柄上限");
    }
    // Password hashing's working areas go back to the system instead of staying resident.
    touchstone_sandbox::usage::return_large_allocations();
    let center = open_center(&CenterConfig {
        keys: args.keys.clone().unwrap_or_else(|| config(db).keys),
        issuer: args.issuer.clone(),
        data_dir: args.data_dir.clone(),
        ..config(db)
    })?;
    announce_admin(
        &args.admin,
        center
            .bootstrap_admin(&args.admin)
            .map_err(|e| miette::miette!("{e}"))?,
    );
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            Some(touchstone_center::tls::acceptor(cert, key).map_err(|e| miette::miette!("{e}"))?)
        }
        _ => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let server = Server::start_with(center, args.listen, args.workers, tls)
        .await
        .map_err(|e| miette::miette!("{e}"))?;
    errln!(
        "center at {scheme}://{} (API: /api/v1, OpenAPI: /api/v1/openapi.json); {} worker(s); Ctrl-C stops / 评测中心已启动",
        server.local_addr(),
        args.workers
    );
    let stop = CancellationToken::new();
    crate::eval::spawn_interrupt_handler(stop.clone(), true);
    stop.cancelled().await;
    errln!("stopping: runs in progress stay resumable / 正在停止");
    server.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

pub async fn worker(db: &Path, workers: usize) -> miette::Result<ExitCode> {
    let center = open_center(&config(db))?;
    errln!(
        "{workers} worker(s) on {}; Ctrl-C stops / 执行进程已启动",
        db.display()
    );
    let stop = CancellationToken::new();
    crate::eval::spawn_interrupt_handler(stop.clone(), true);
    let tasks: Vec<_> = (0..workers.max(1))
        .map(|_| tokio::spawn(touchstone_center::jobs::work(center.clone(), stop.clone())))
        .collect();
    for t in tasks {
        let _ = t.await;
    }
    Ok(ExitCode::SUCCESS)
}

fn client(args: &crate::cli::ClientArgs) -> miette::Result<Client> {
    let token = std::env::var(&args.token_env).map_err(|_| {
        miette::miette!(
            "set the environment variable {} to an API token of the center (create one with POST /api/v1/tokens), or name another with --token-env / 请在环境变量中提供 API 令牌",
            args.token_env
        )
    })?;
    Client::new(&args.url, token).map_err(|e| miette::miette!("{e}"))
}

fn center_error(e: ClientError) -> miette::Report {
    miette::miette!("{e}")
}

/// One line of a run's progress.
fn progress_line(run: &Value) -> String {
    let done = run["scored"].as_u64().unwrap_or(0) + run["failed"].as_u64().unwrap_or(0);
    match run["planned"].as_u64() {
        Some(planned) => format!(
            "run {}: {} · {done}/{planned} items ({} failed)",
            run["run_id"].as_str().unwrap_or("?"),
            run["status"].as_str().unwrap_or("?"),
            run["failed"].as_u64().unwrap_or(0)
        ),
        None => format!(
            "run {}: {}",
            run["run_id"].as_str().unwrap_or("?"),
            run["status"].as_str().unwrap_or("?")
        ),
    }
}

pub async fn submit(args: &crate::cli::SubmitArgs, quiet: bool) -> miette::Result<ExitCode> {
    let client = client(&args.client)?;
    let mut models = Vec::new();
    for m in &args.models {
        models.push(client.model_id(m).await.map_err(center_error)?);
    }
    let request = RunRequest {
        organisation: args.organisation.clone(),
        suite: args.suite.clone(),
        benchmark: args.benchmark.clone(),
        upload: args.upload.clone(),
        models,
        limit: args.limit,
        epochs: args.epochs,
        seed: args.seed,
        ..RunRequest::default()
    };
    let id = client.submit(&request).await.map_err(center_error)?;
    outln!("{id}");
    if args.no_wait {
        return Ok(ExitCode::SUCCESS);
    }
    let mut last = String::new();
    let run = loop {
        let run = client.run(&id).await.map_err(center_error)?;
        let line = progress_line(&run);
        if !quiet && line != last {
            errln!("{line}");
            last = line;
        }
        if !matches!(run["status"].as_str(), Some("queued" | "running")) {
            break run;
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    };
    finish(&client, &run, args.strict, quiet).await
}

/// The exit status a finished run gives, after its table.
async fn finish(
    client: &Client,
    run: &Value,
    strict: bool,
    quiet: bool,
) -> miette::Result<ExitCode> {
    let id = run["run_id"].as_str().unwrap_or_default();
    match run["status"].as_str() {
        Some("completed") => {}
        Some(other) => {
            errln!(
                "run {id} {other}{} / 运行未完成",
                run["error"]
                    .as_str()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            );
            return Ok(ExitCode::FAILURE);
        }
        None => {
            return Err(miette::miette!(
                "the center answered no status for run {id}"
            ));
        }
    }
    let results: RunResults =
        serde_json::from_value(client.results(id).await.map_err(center_error)?).map_err(|e| {
            miette::miette!("the center's results for {id} are not results.json: {e}")
        })?;
    if !quiet {
        out!("{}", touchstone_engine::render_table(&results));
    }
    let unmet = results.unmet();
    if strict && !unmet.is_empty() {
        for line in unmet.expectations.iter().chain(&unmet.verdicts) {
            errln!("not met / 未达标: {line}");
        }
        return Ok(ExitCode::from(crate::EXIT_UNMET));
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn status(args: &crate::cli::ClientArgs, run: &str) -> miette::Result<ExitCode> {
    let client = client(args)?;
    let run = client.run(run).await.map_err(center_error)?;
    outln!("{}", progress_line(&run));
    Ok(ExitCode::SUCCESS)
}

pub async fn fetch(
    args: &crate::cli::ClientArgs,
    run: &str,
    out: Option<&Path>,
) -> miette::Result<ExitCode> {
    let client = client(args)?;
    let results = client.results(run).await.map_err(center_error)?;
    if let Some(path) = out {
        let text = serde_json::to_string_pretty(&results).map_err(|e| miette::miette!("{e}"))?;
        std::fs::write(path, text + "\n")
            .map_err(|e| miette::miette!("cannot write {}: {e}", path.display()))?;
        errln!("· wrote {}", path.display());
    }
    let parsed: RunResults = serde_json::from_value(results)
        .map_err(|e| miette::miette!("the center's results for {run} are not results.json: {e}"))?;
    out!("{}", touchstone_engine::render_table(&parsed));
    Ok(ExitCode::SUCCESS)
}
