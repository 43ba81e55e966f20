//! `touchstone-mock`: the mock OpenAI-compatible server as a process, for benchmarks and
//! manual use. Runs on a single-threaded runtime so it costs little CPU next to the client.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use touchstone_mock::{Faults, MockConfig, MockServer};

/// A mock OpenAI-compatible model server with deterministic answers and fault injection.
#[derive(Parser, Debug)]
#[command(name = "touchstone-mock", version)]
struct Args {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Delay before each chat answer, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Share of requests (chat and completions) that get a fault, spread evenly over all seven kinds (0 to 1).
    #[arg(long, default_value_t = 0.0, value_parser = parse_rate)]
    fault_rate: f64,
    /// Seed of the fault draw.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Append every request record to this file as JSON lines.
    #[arg(long)]
    log: Option<PathBuf>,
    /// Model name reported in answers and by /v1/models.
    #[arg(long, default_value = "touchstone-mock")]
    model: String,
    /// Require `Authorization: Bearer KEY` on chat and completions requests (401 otherwise).
    #[arg(long)]
    api_key: Option<String>,
    /// Retry-After seconds on injected 429 answers.
    #[arg(long, default_value_t = 1)]
    retry_after_secs: u64,
    /// How long an injected hang lasts, in milliseconds.
    #[arg(long, default_value_t = 3_600_000)]
    hang_ms: u64,
}

fn parse_rate(text: &str) -> Result<f64, String> {
    let rate: f64 = text
        .parse()
        .map_err(|_| format!("'{text}' is not a number"))?;
    if (0.0..=1.0).contains(&rate) {
        Ok(rate)
    } else {
        Err(format!(
            "{rate} is outside 0..=1; give a probability such as 0.3"
        ))
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("touchstone-mock: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("touchstone-mock: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> std::io::Result<()> {
    let config = MockConfig {
        latency: Duration::from_millis(args.latency_ms),
        faults: Faults::uniform(args.fault_rate),
        seed: args.seed,
        retry_after_secs: args.retry_after_secs,
        hang: Duration::from_millis(args.hang_ms),
        model_name: args.model,
        api_key: args.api_key,
    };
    let addr = std::net::SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, args.port));
    let server = MockServer::start_on(addr, config).await?;
    if let Some(path) = &args.log {
        server.log_to_file(path)?;
    }
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on {}", server.base_url())?;
    stdout.flush()?;
    drop(stdout);
    // Run until killed; Ctrl-C ends it cleanly.
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
    server.shutdown();
    Ok(())
}
