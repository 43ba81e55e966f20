//! bench/sandbox: what the isolation of generated code costs per item.
//!
//! Runs the same programs through the isolated sandbox (bubblewrap, seccomp, cgroup, private
//! tmpfs) and through the unisolated path the sandbox had before issue 13 (rlimits and a process
//! group), one item at a time, and prints the median and 90th percentile from start to result
//! for a trivial program and for HumanEval solutions (the canonical ones, from
//! ../shared/data/humaneval), with the difference. Target: at most 50 ms added per item.
//!
//! Usage: sandbox [--items N]   (default 40 per row)

use std::path::PathBuf;
use std::time::Duration;

use touchstone_core::{DatasetFormat, FieldMap};
use touchstone_sandbox::{Limits, Sandbox};

fn humaneval_programs(n: usize) -> Vec<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/humaneval/HumanEval.jsonl.gz");
    let samples =
        touchstone_data::open_file(&path, Some(DatasetFormat::Humaneval), &FieldMap::default())
            .and_then(|s| s.collect::<Result<Vec<_>, _>>())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let text = |s: &touchstone_core::Sample, k: &str| {
        s.metadata
            .get(k)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    samples
        .iter()
        .cycle()
        .take(n)
        .map(|s| {
            format!(
                "{}{}\n\n{}\n\ncheck({})\n",
                s.input.text(),
                text(s, "canonical_solution"),
                text(s, "test"),
                text(s, "entry_point")
            )
        })
        .collect()
}

/// Median and 90th percentile of the programs' times, in milliseconds.
fn measure(sandbox: &Sandbox, programs: &[String]) -> (f64, f64) {
    let mut times: Vec<Duration> = programs
        .iter()
        .map(|p| {
            let out = sandbox.run_python(p).expect("the sandbox runs");
            assert!(out.status.passed(), "{}: {}", out.stderr, p);
            out.wall
        })
        .collect();
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    (ms(times[times.len() / 2]), ms(times[times.len() * 9 / 10]))
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut n = 40;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--items" => n = args.next().and_then(|v| v.parse().ok()).unwrap_or(n),
            other => {
                eprintln!("unknown argument {other}; usage: sandbox [--items N]");
                std::process::exit(2);
            }
        }
    }
    let limits = Limits::default();
    let isolated = Sandbox::new(limits.clone());
    let before = Sandbox::new(limits).unisolated_only();
    let first = isolated
        .run_python("pass\n")
        .expect("the isolated sandbox runs here (bubblewrap installed, user namespaces on)");
    let rows = [
        ("trivial (`pass`)", vec!["pass\n".to_string(); n]),
        ("HumanEval solution", humaneval_programs(n)),
    ];
    println!("Sandbox cost per item, start to result, {n} items per row, one at a time");
    println!(
        "isolation: {:?}, resources: {:?}\n",
        first.isolation.mechanism, first.isolation.resources
    );
    println!(
        "{:<20} {:>17} {:>17} {:>17} {:>17} {:>12}",
        "program",
        "unisolated p50 ms",
        "unisolated p90 ms",
        "isolated p50 ms",
        "isolated p90 ms",
        "added p50 ms"
    );
    for (name, programs) in rows {
        let (b50, b90) = measure(&before, &programs);
        let (i50, i90) = measure(&isolated, &programs);
        println!(
            "{name:<20} {b50:>17.1} {b90:>17.1} {i50:>17.1} {i90:>17.1} {:>12.1}",
            i50 - b50
        );
    }
}
