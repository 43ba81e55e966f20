//! bench/overhead: what Touchstone itself costs per item, measured against the mock server.
//!
//! Runs the release `touchstone` binary as a child process on N multiple-choice items against a
//! `touchstone-mock` process (answers at once, or after a fixed latency), at concurrency 32, and
//! reads that child's own CPU time and peak RSS with `wait4`. Prints a table:
//! CPU ms per item, items/s, peak RSS, and — with latency — wall time as a fraction of the ideal
//! (items × latency ÷ concurrency).
//!
//! Usage: overhead [--quick]   (--quick: 2,000 / 20,000 items instead of 20,000 / 200,000)

use std::io::Write;
use std::path::Path;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use touchstone_bench::processes::{bin_dir, start_mock};

const CONCURRENCY: usize = 32;

struct Case {
    items: usize,
    latency_ms: u64,
}

struct Measured {
    wall: Duration,
    cpu: Duration,
    peak_rss_kib: i64,
}

fn write_dataset(path: &Path, n: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("dataset file"));
    for i in 0..n {
        let letter = ["A", "B", "C", "D"][i % 4];
        writeln!(
            f,
            "{{\"id\":\"q{i}\",\"input\":\"Question {i}: pick one. [[reply:The answer is {letter}.]]\",\"choices\":[\"w\",\"x\",\"y\",\"z\"],\"target\":\"{letter}\"}}"
        )
        .expect("write");
    }
}

/// Wait for one child and return its own CPU time and peak RSS (KiB), via wait4.
fn wait_with_usage(child: &Child) -> (bool, Duration, i64) {
    match touchstone_sandbox::usage::wait_with_usage(child) {
        Ok(u) => (u.success, u.cpu, u.max_rss_kib),
        Err(_) => (false, Duration::ZERO, 0),
    }
}

// `wait_with_usage` reaps the child with wait4, which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn run_case(bin_dir: &Path, case: &Case) -> Measured {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("items.jsonl");
    write_dataset(&data, case.items);
    let (mut mock, url) = start_mock(bin_dir, case.latency_ms);
    let started = Instant::now();
    let child = Command::new(bin_dir.join("touchstone"))
        .args(["eval", "--dataset"])
        .arg(&data)
        .args([
            "--scorer",
            "choice",
            "--model",
            &format!("openai:mock@{url}"),
        ])
        .args([
            "--concurrency",
            &CONCURRENCY.to_string(),
            "--no-cache",
            "--quiet",
            "--db",
        ])
        .arg(dir.path().join("bench.db"))
        .stdout(Stdio::null())
        .spawn()
        .expect("run touchstone");
    let (ok, cpu, peak_rss_kib) = wait_with_usage(&child);
    let wall = started.elapsed();
    let _ = mock.kill();
    let _ = mock.wait();
    assert!(ok, "touchstone eval failed");
    Measured {
        wall,
        cpu,
        peak_rss_kib,
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (small, large) = if quick {
        (2_000, 20_000)
    } else {
        (20_000, 200_000)
    };
    let bin_dir = bin_dir();
    let cases = [
        Case {
            items: small,
            latency_ms: 0,
        },
        Case {
            items: large,
            latency_ms: 0,
        },
        Case {
            items: small,
            latency_ms: 100,
        },
    ];
    println!(
        "Touchstone engine overhead — concurrency {CONCURRENCY}, mock endpoint on loopback, {} cores",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    println!();
    println!("| items | latency | wall s | items/s | CPU ms/item | peak RSS MiB | efficiency |");
    println!("|------:|--------:|-------:|--------:|------------:|-------------:|-----------:|");
    for case in &cases {
        let m = run_case(&bin_dir, case);
        let per_item_ms = m.cpu.as_secs_f64() * 1000.0 / case.items as f64;
        let rate = case.items as f64 / m.wall.as_secs_f64();
        let efficiency = if case.latency_ms > 0 {
            let ideal = case.items as f64 * case.latency_ms as f64 / 1000.0 / CONCURRENCY as f64;
            format!("{:.3}", ideal / m.wall.as_secs_f64())
        } else {
            "-".into()
        };
        println!(
            "| {:>6} | {:>5} ms | {:>6.1} | {:>7.0} | {:>11.4} | {:>12.1} | {:>10} |",
            case.items,
            case.latency_ms,
            m.wall.as_secs_f64(),
            rate,
            per_item_ms,
            m.peak_rss_kib as f64 / 1024.0,
            efficiency
        );
    }
    println!();
    println!(
        "Targets: ≤ 0.1 CPU ms/item, efficiency ≥ 0.95, peak RSS ≤ 50 MiB and flat from {small} to {large} items."
    );
}
