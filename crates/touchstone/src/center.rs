//! `touchstone center` (the service), `center init` and `touchstone worker`: open the store and
//! the center's records, print what a person must know once (the first administrator's
//! password), and run until Ctrl-C or SIGTERM. Everything else is `touchstone-center`'s.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use touchstone_center::{Center, CenterPaths, ProviderFactory, Server};

use crate::open_store;

fn open_center(db: &Path) -> miette::Result<Arc<Center>> {
    let store = open_store(db)?;
    let dir = db
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let paths = CenterPaths {
        db: db.to_path_buf(),
        master_key: dir.join("master.key"),
    };
    let providers: ProviderFactory = Arc::new(touchstone_providers::Keyed::shared);
    Center::open(store, &paths, providers).map_err(|e| miette::miette!("{e}"))
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
    let center = open_center(db)?;
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
    let center = open_center(db)?;
    announce_admin(
        &args.admin,
        center
            .bootstrap_admin(&args.admin)
            .map_err(|e| miette::miette!("{e}"))?,
    );
    let server = Server::start(center, args.listen, args.workers)
        .await
        .map_err(|e| miette::miette!("{e}"))?;
    errln!(
        "center at http://{} (API: /api/v1, OpenAPI: /api/v1/openapi.json); {} worker(s); Ctrl-C stops / 评测中心已启动",
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
    let center = open_center(db)?;
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
