//! `touchstone serve-model`: any model, as the engine opens it, behind an OpenAI-compatible
//! endpoint on 127.0.0.1.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use touchstone_core::ModelSpec;
use touchstone_engine::ExecOptions;

use crate::{engine_report, open_store};

pub async fn serve_model(
    db: &Path,
    quiet: bool,
    model: &str,
    port: u16,
    threads: Option<usize>,
    request_log: Option<PathBuf>,
) -> miette::Result<ExitCode> {
    let spec = ModelSpec::parse_with_key_env(model, "OPENAI_API_KEY")
        .map_err(|e| miette::miette!("{e}"))?;
    let exec = ExecOptions {
        threads,
        no_cache: true,
        ..ExecOptions::default()
    };
    let store = open_store(db)?;
    let opened =
        touchstone_engine::providers::open(&touchstone_providers::Standard, &spec, &exec, store)
            .await
            .map_err(engine_report)?;
    if !quiet {
        errln!("serving {spec} at http://127.0.0.1:{port}/v1 (Ctrl-C stops) / 正在提供服务");
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
