//! The `touchstone-mock` binary: startup line, serving, and the JSONL request log.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn binary_prints_its_url_serves_and_logs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log_path = dir.path().join("requests.jsonl");
    let child = Command::new(env!("CARGO_BIN_EXE_touchstone-mock"))
        .args(["--port", "0", "--seed", "3", "--log"])
        .arg(&log_path)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn touchstone-mock");
    let mut child = KillOnDrop(child);
    let stdout = child.0.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read startup line");
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .expect("startup line")
        .to_owned();
    let authority = url
        .strip_prefix("http://")
        .and_then(|rest| rest.strip_suffix("/v1"))
        .expect("url shape");
    assert!(authority.starts_with("127.0.0.1:"));

    let body = r#"{"model":"m","messages":[{"role":"user","content":"What is 20 + 22?"}]}"#;
    let mut stream = std::net::TcpStream::connect(authority).expect("connect");
    write!(
        stream,
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    assert!(response.contains("The answer is 42."), "{response}");

    let log = std::fs::read_to_string(&log_path).expect("log file");
    let records: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSONL record"))
        .collect();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["user_text"], "What is 20 + 22?");
    assert_eq!(records[0]["seq"], 0);
    assert!(records[0]["fault"].is_null());
}

#[test]
fn bad_fault_rate_is_refused() {
    let output = Command::new(env!("CARGO_BIN_EXE_touchstone-mock"))
        .args(["--fault-rate", "1.5"])
        .output()
        .expect("run touchstone-mock");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("outside 0..=1"));
}
