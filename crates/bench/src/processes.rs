//! The processes the speed benchmarks start: binaries built beside the benchmark, and the mock
//! model endpoint as a separate process.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The directory of the running benchmark binary, where `bench/*` builds the others.
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    exe.parent().expect("bin dir").to_path_buf()
}

/// `touchstone-mock` answering after `latency_ms`; the process and its base URL.
pub fn start_mock(bin_dir: &Path, latency_ms: u64) -> (Child, String) {
    let mut child = Command::new(bin_dir.join("touchstone-mock"))
        .args(["--port", "0", "--latency-ms", &latency_ms.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start touchstone-mock (build it with `cargo build --release -p touchstone-mock`)");
    let stdout = child.stdout.take().expect("mock stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("mock prints its address");
    let url = line.trim().rsplit(' ').next().expect("url").to_string();
    (child, url)
}
