//! bench/center: what the center costs as a service, measured on the release binary.
//!
//! Starts `touchstone center` as a child process against `touchstone-mock` processes and
//! measures, printing tables:
//! 1. the engine's CPU per item for the same run through the center's queue and through
//!    `touchstone eval` (the center's own CPU is read from /proc, eval's with `wait4`);
//! 2. SSE fan-out: N subscribers to one running run's events, each checked to receive every
//!    event, with the center's peak RSS meanwhile;
//! 3. authenticated `GET` of a finished run's results and of a samples page at 64 keep-alive
//!    connections: requests/s, p50/p99 latency, the center's CPU ms per request, its RSS;
//! 4. the console's pages of a 100,000-item run (the run page, sample-browser pages first,
//!    halfway through the keyset, filtered, with the drawer open): server time p50/p99 on one
//!    connection, and the run page's weight with what it loads.
//!
//! Usage: center [--quick]   (--quick: smaller runs, 200 subscribers, 2 s of load, 10,000 items)

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use touchstone_bench::processes::{bin_dir, start_mock};

const CONNECTIONS: usize = 64;
const CONCURRENCY: usize = 32;

/// The center as a child: its process, address and the first administrator's password.
fn start_center(bin_dir: &Path, dir: &Path) -> (Child, String, String) {
    let mut child = Command::new(bin_dir.join("touchstone"))
        .args([
            "center",
            "--listen",
            "127.0.0.1:0",
            "--workers",
            "1",
            "--db",
        ])
        .arg(dir.join("touchstone.db"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start touchstone center");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line).expect("the admin password line");
    let password = line
        .split("password ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .expect("a one-time password")
        .to_string();
    std::thread::spawn(move || for _ in out.lines() {});
    let mut err = BufReader::new(child.stderr.take().expect("stderr"));
    let addr = loop {
        let mut line = String::new();
        assert!(
            err.read_line(&mut line).unwrap_or(0) > 0,
            "the center exited"
        );
        if let Some(rest) = line.split("center at http://").nth(1) {
            break rest.split_whitespace().next().expect("address").to_string();
        }
    };
    std::thread::spawn(move || for _ in err.lines() {});
    (child, addr, password)
}

/// CPU seconds (user + system) a live process has used, from /proc (in clock ticks of 10 ms,
/// Linux's USER_HZ).
fn cpu_of(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// Resident set size now and at its peak, in MiB.
fn rss_of(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    (field("VmRSS:"), field("VmHWM:"))
}

struct Api {
    http: reqwest::Client,
    base: String,
    auth: String,
}

impl Api {
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let mut req = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.base))
            .header(
                if self.auth.starts_with("Bearer") {
                    "authorization"
                } else {
                    "cookie"
                },
                &self.auth,
            );
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("the center answers");
        let status = resp.status();
        let v: Value = resp.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{method} {path}: {status} {v}");
        v
    }

    async fn wait_finished(&self, run: &str) -> Value {
        loop {
            let r = self.call("GET", &format!("/api/v1/runs/{run}"), None).await;
            if r["status"] != "queued" && r["status"] != "running" {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The `touchstone_session=…` cookie an answer sets.
fn session_cookie(resp: &reqwest::Response) -> String {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .find_map(|v| {
            let v = v.to_str().ok()?;
            v.strip_prefix("touchstone_session=")
                .map(|r| format!("touchstone_session={}", r.split(';').next().unwrap_or("")))
        })
        .expect("a session")
}

/// A session of `name`.
async fn sign_in(http: &reqwest::Client, base: &str, name: &str, password: &str) -> Api {
    let resp = http
        .post(format!("{base}/api/v1/login"))
        .json(&json!({"name": name, "password": password}))
        .send()
        .await
        .unwrap();
    let mut api = Api {
        http: http.clone(),
        base: base.to_string(),
        auth: session_cookie(&resp),
    };
    let me = api.call("GET", "/api/v1/me", None).await;
    if me["must_change_password"] == true {
        // A password someone else set (the printed one-time one) is replaced first.
        let changed = http
            .post(format!("{base}/api/v1/me/password"))
            .header("cookie", &api.auth)
            .json(&json!({ "current": password, "new": format!("{password}-changed") }))
            .send()
            .await
            .unwrap();
        api.auth = session_cookie(&changed);
    }
    api
}

/// Signs in as the administrator and sets up an organisation, the mocks as its models and a
/// token; (API with the token, model ids).
async fn setup(addr: &str, password: &str, mocks: &[(&str, &str)]) -> (Api, Vec<String>) {
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let base = format!("http://{addr}");
    let session = sign_in(&http, &base, "admin", password).await;
    session
        .call(
            "POST",
            "/api/v1/organisations",
            Some(json!({"name": "bench", "max_running": 4})),
        )
        .await;
    let mut models = Vec::new();
    for (name, url) in mocks {
        let m = session
            .call(
                "POST",
                "/api/v1/models",
                Some(json!({"organisation": "bench", "name": name, "base_url": url})),
            )
            .await;
        models.push(m["id"].as_str().unwrap().to_string());
    }
    // Runs are an assessor's to request: one with a token, as a script would hold.
    let assessor_password = "bench-assessor-password";
    session
        .call(
            "POST",
            "/api/v1/users",
            Some(json!({"name": "bench", "role": "assessor", "password": assessor_password})),
        )
        .await;
    let assessor = sign_in(&http, &base, "bench", assessor_password).await;
    let t = assessor
        .call(
            "POST",
            "/api/v1/tokens",
            Some(json!({"name": "bench", "scopes": ["read", "runs"]})),
        )
        .await;
    let api = Api {
        http,
        base,
        auth: format!("Bearer {}", t["token"].as_str().unwrap()),
    };
    (api, models)
}

async fn submit(api: &Api, model: &str, epochs: u32, concurrency: usize) -> String {
    let r = api
        .call(
            "POST",
            "/api/v1/runs",
            Some(
                json!({"organisation": "bench", "suite": "quick", "models": [model],
                        "epochs": epochs, "concurrency": concurrency, "no_cache": true}),
            ),
        )
        .await;
    r["run_id"].as_str().unwrap().to_string()
}

/// Part 1: CPU per item, center queue vs `touchstone eval`; the center's run.
// `wait_with_usage` reaps the child with wait4, which clippy cannot see.
#[allow(clippy::zombie_processes)]
async fn overhead(
    bin: &Path,
    dir: &Path,
    api: &Api,
    center: u32,
    model: &str,
    url: &str,
    epochs: u32,
) -> String {
    // eval, as a child whose own CPU wait4 reports.
    let started = Instant::now();
    let child = Command::new(bin.join("touchstone"))
        .args(["eval", "--suite", "quick", "--epochs", &epochs.to_string()])
        .args(["--model", &format!("openai:mock@{url}")])
        .args([
            "--concurrency",
            &CONCURRENCY.to_string(),
            "--no-cache",
            "--quiet",
            "--db",
        ])
        .arg(dir.join("eval.db"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run touchstone eval");
    let usage = touchstone_sandbox::usage::wait_with_usage(&child).expect("eval's usage");
    let eval_wall = started.elapsed();
    // The center: its CPU over the run, from submission to the job's end.
    let before = cpu_of(center);
    let started = Instant::now();
    let run = submit(api, model, epochs, CONCURRENCY).await;
    let done = api.wait_finished(&run).await;
    let center_wall = started.elapsed();
    let center_cpu = cpu_of(center) - before;
    assert_eq!(done["status"], "completed", "{done}");
    let items = done["scored"].as_u64().unwrap() + done["failed"].as_u64().unwrap();
    let eval_ms = usage.cpu.as_secs_f64() * 1000.0 / items as f64;
    let center_ms = center_cpu.as_secs_f64() * 1000.0 / items as f64;
    println!("### Engine CPU per item: the center's queue beside `touchstone eval`");
    println!();
    println!("| path | items | wall s | items/s | CPU ms/item |");
    println!("|------|------:|-------:|--------:|------------:|");
    for (path, wall, ms) in [
        ("touchstone eval", eval_wall, eval_ms),
        ("center queue", center_wall, center_ms),
    ] {
        println!(
            "| {path} | {items} | {:.1} | {:.0} | {ms:.3} |",
            wall.as_secs_f64(),
            items as f64 / wall.as_secs_f64()
        );
    }
    println!();
    println!(
        "center / eval CPU per item: {:.2}× (target ≤ 1.5×; eval's includes its start: loading the suite and opening the store)",
        center_ms / eval_ms
    );
    println!();
    run
}

/// One SSE subscriber: the ids and kinds of the events it received, and when `done` came.
async fn subscribe(addr: String, auth: String, run: String) -> (Vec<u64>, bool, Instant) {
    let mut tcp = TcpStream::connect(&addr).await.expect("connect");
    let request = format!(
        "GET /api/v1/runs/{run}/events HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {auth}\r\nConnection: close\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).await.expect("send");
    let mut text = Vec::new();
    let mut buf = vec![0u8; 4096];
    let mut done_at = None;
    loop {
        let n = tcp.read(&mut buf).await.unwrap_or(0);
        if n == 0 {
            break;
        }
        text.extend_from_slice(&buf[..n]);
        if done_at.is_none() && text.windows(11).any(|w| w == b"event: done") {
            done_at = Some(Instant::now());
        }
    }
    let text = String::from_utf8_lossy(&text);
    let ids = text
        .lines()
        .filter_map(|l| l.strip_prefix("id: ")?.parse().ok())
        .collect();
    (ids, done_at.is_some(), done_at.unwrap_or_else(Instant::now))
}

/// Part 2: SSE fan-out to `n` subscribers of one running run.
async fn fan_out(api: &Api, addr: &str, center: u32, model: &str, n: usize, epochs: u32) {
    let run = submit(api, model, epochs, 8).await;
    let auth = api.auth.clone();
    let started = Instant::now();
    let subscribers: Vec<_> = (0..n)
        .map(|_| tokio::spawn(subscribe(addr.to_string(), auth.clone(), run.clone())))
        .collect();
    // Sample the center's RSS while the run goes (in KiB, as /proc gives it).
    let peak_kib = Arc::new(AtomicU64::new(0));
    let sampler = {
        let peak_kib = peak_kib.clone();
        tokio::spawn(async move {
            loop {
                let now = (rss_of(center).0 * 1024.0) as u64;
                peak_kib.fetch_max(now, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let mut results = Vec::new();
    for s in subscribers {
        results.push(s.await.expect("subscriber"));
    }
    let wall = started.elapsed();
    sampler.abort();
    let peak = peak_kib.load(Ordering::Relaxed) as f64 / 1024.0;
    let finished = api.wait_finished(&run).await;
    let events = results.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let complete = results
        .iter()
        .filter(|(ids, done, _)| {
            *done
                && ids.len() == events
                && ids.iter().enumerate().all(|(i, id)| *id == i as u64 + 1)
        })
        .count();
    let first = results.iter().map(|r| r.2).min().unwrap_or(started);
    let last = results.iter().map(|r| r.2).max().unwrap_or(started);
    let (_, hwm) = rss_of(center);
    println!("### Live progress: {n} subscribers to one running run");
    println!();
    println!(
        "| subscribers | run items | events each | received every event | done spread ms | wall s | center RSS MiB (peak sampled / kernel's peak) |"
    );
    println!(
        "|------------:|----------:|------------:|---------------------:|---------------:|-------:|------------------------------:|"
    );
    println!(
        "| {n} | {} | {events} | {complete} of {n} | {:.0} | {:.1} | {peak:.1} / {hwm:.1} |",
        finished["planned"],
        (last - first).as_secs_f64() * 1000.0,
        wall.as_secs_f64()
    );
    println!();
    println!("Target: every subscriber receives every event; the center's RSS ≤ 150 MB.");
    println!();
}

/// Part 3: `path` at 64 keep-alive connections for `secs`: (requests, latencies in µs).
async fn load(addr: &str, auth: &str, path: &str, secs: f64) -> (usize, Vec<u32>) {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (addr, auth, path) = (addr.to_string(), auth.to_string(), path.to_string());
            tokio::spawn(async move {
                let tcp = TcpStream::connect(&addr).await.expect("connect");
                let _ = tcp.set_nodelay(true);
                let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
                    .await
                    .expect("handshake");
                tokio::spawn(conn);
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    let req = hyper::Request::get(&path)
                        .header("host", &addr)
                        .header("authorization", &auth)
                        .body(Empty::<Bytes>::new())
                        .unwrap();
                    let t = Instant::now();
                    let resp = sender.send_request(req).await.expect("request");
                    assert_eq!(resp.status(), 200, "{path}");
                    let _ = resp.into_body().collect().await.expect("body");
                    latencies.push(t.elapsed().as_micros() as u32);
                }
                latencies
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("connection task"));
    }
    (all.len(), all)
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

async fn requests(api: &Api, addr: &str, center: u32, run: &str, secs: f64) {
    println!(
        "### Authenticated GETs at {CONNECTIONS} keep-alive connections ({secs} s each; the load generator shares the machine)"
    );
    println!();
    println!(
        "| request | requests | req/s | p50 ms | p99 ms | center CPU ms/request | center RSS MiB |"
    );
    println!(
        "|---------|---------:|------:|-------:|-------:|----------------------:|---------------:|"
    );
    for (name, path) in [
        ("run results", format!("/api/v1/runs/{run}/results")),
        (
            "samples page (100)",
            format!("/api/v1/runs/{run}/samples?limit=100"),
        ),
    ] {
        // Warm: the first results GET summarises the run.
        api.call("GET", &path, None).await;
        let before = cpu_of(center);
        let started = Instant::now();
        let (n, mut latencies) = load(addr, &api.auth, &path, secs).await;
        let wall = started.elapsed().as_secs_f64();
        let cpu = cpu_of(center) - before;
        latencies.sort_unstable();
        println!(
            "| {name} | {n} | {:.0} | {:.2} | {:.2} | {:.3} | {:.1} |",
            n as f64 / wall,
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.99),
            cpu.as_secs_f64() * 1000.0 / n as f64,
            rss_of(center).0
        );
    }
    println!();
    println!("Target on 2 cores: run results ≥ 5,000 requests/s at p99 ≤ 20 ms.");
    println!();
}

/// `path` on one keep-alive connection, `n` times in turn: each latency (µs) is the server's
/// time plus loopback, with no queue in front of it; and the last answer's body.
async fn sequential(addr: &str, auth: &str, path: &str, n: usize) -> (Vec<u32>, Bytes) {
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let _ = tcp.set_nodelay(true);
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .expect("handshake");
    tokio::spawn(conn);
    let mut latencies = Vec::with_capacity(n);
    let mut last = Bytes::new();
    for _ in 0..n {
        sender
            .ready()
            .await
            .expect("the center keeps the connection open");
        let req = hyper::Request::get(path)
            .header("host", addr)
            .header("authorization", auth)
            .body(Empty::<Bytes>::new())
            .unwrap();
        let t = Instant::now();
        let resp = sender.send_request(req).await.expect("request");
        assert_eq!(resp.status(), 200, "{path}");
        last = resp.into_body().collect().await.expect("body").to_bytes();
        latencies.push(t.elapsed().as_micros() as u32);
    }
    latencies.sort_unstable();
    (latencies, last)
}

/// Part 4: the console's pages of a large run — the run page, and sample-browser pages (first,
/// deep in the keyset, filtered) — server time p50/p99, and the run page's weight.
async fn console_pages(api: &Api, addr: &str, model: &str, items: u64, views: usize) {
    // The quick suite's items per epoch, from a probe run; then a run of about `items`.
    let probe = submit(api, model, 1, CONCURRENCY).await;
    let per_epoch = api.wait_finished(&probe).await["planned"]
        .as_u64()
        .expect("planned")
        .max(1);
    let epochs = items.div_ceil(per_epoch) as u32;
    let started = Instant::now();
    let run = submit(api, model, epochs, 64).await;
    let done = api.wait_finished(&run).await;
    let total = done["scored"].as_u64().unwrap_or(0) + done["failed"].as_u64().unwrap_or(0);
    eprintln!(
        "console pages: a run of {total} items in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    // A task of the run, and an item id halfway through its keyset order.
    let first = api
        .call("GET", &format!("/api/v1/runs/{run}/samples?limit=1"), None)
        .await;
    let task = first["samples"][0]["task"].as_str().unwrap().to_string();
    let mut after = String::new();
    for _ in 0..(total / 2 / 1000) {
        let page = api
            .call(
                "GET",
                &format!("/api/v1/runs/{run}/samples?limit=1000&after={after}"),
                None,
            )
            .await;
        match page["next"].as_str() {
            Some(next) => after = next.to_string(),
            None => break,
        }
    }
    println!(
        "### Console pages of a {total}-item run: server time, {views} views each on one connection"
    );
    println!();
    println!("| page | p50 ms | p99 ms | bytes |");
    println!("|------|-------:|-------:|------:|");
    let run_page = format!("/console/runs/{run}");
    let mut run_page_bytes = Bytes::new();
    for (name, path) in [
        ("run page", run_page.clone()),
        (
            "samples, first page",
            format!("/console/runs/{run}/samples"),
        ),
        (
            "samples, halfway (keyset)",
            format!("/console/runs/{run}/samples?after={after}"),
        ),
        (
            "samples, one task's wrong answers",
            format!("/console/runs/{run}/samples?task={task}&score_max=0"),
        ),
        (
            "samples, item drawer open",
            format!(
                "/console/runs/{run}/samples?task={task}&item={}",
                first["samples"][0]["item_id"].as_str().unwrap()
            ),
        ),
    ] {
        // Warm: the first view of a finished run's page summarises it once.
        sequential(addr, &api.auth, &path, 1).await;
        let (latencies, body) = sequential(addr, &api.auth, &path, views).await;
        println!(
            "| {name} | {:.2} | {:.2} | {} |",
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.99),
            body.len()
        );
        if path == run_page {
            run_page_bytes = body;
        }
    }
    println!();
    // What a browser fetches for the run page: the page and the files it names; and whether
    // it names anything outside the center.
    let html = String::from_utf8_lossy(&run_page_bytes);
    let mut weight = run_page_bytes.len();
    for asset in [
        "/static/report.css",
        "/static/console.css",
        "/static/console.js",
    ] {
        assert!(html.contains(asset), "the run page loads {asset}");
        weight += sequential(addr, &api.auth, asset, 1).await.1.len();
    }
    let external = [
        "src=\"http",
        "href=\"http",
        "src=\"//",
        "href=\"//",
        "url(http",
    ]
    .iter()
    .map(|p| html.matches(p).count())
    .sum::<usize>();
    println!(
        "Run page weight: {:.1} KiB over the wire uncompressed (page {:.1} KiB + style sheets and script); requests outside the center: {external}.",
        weight as f64 / 1024.0,
        run_page_bytes.len() as f64 / 1024.0
    );
    println!();
    println!(
        "Target on 2 cores: p99 ≤ 50 ms for the run page and a filtered samples page at 100,000 items."
    );
    println!();
}

#[tokio::main]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (epochs, subscribers, sse_epochs, secs, page_items, views) = if quick {
        (20, 200, 10, 2.0, 10_000, 50)
    } else {
        (100, 1000, 30, 5.0, 100_000, 200)
    };
    if let Err(e) = touchstone_sandbox::usage::raise_open_files_limit() {
        eprintln!("note: the open-files limit could not be raised: {e}");
    }
    let bin = bin_dir();
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut fast, fast_url) = start_mock(&bin, 0);
    let (mut slow, slow_url) = start_mock(&bin, 20);
    let (mut center, addr, password) = start_center(&bin, dir.path());
    let pid = center.id();
    let (api, models) = setup(
        &addr,
        &password,
        &[("mock", fast_url.as_str()), ("slow", slow_url.as_str())],
    )
    .await;
    println!(
        "Touchstone center — release binary, mock endpoints on loopback, {} cores",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    println!();
    // The SSE part first, so that the kernel's peak RSS of the center is its peak under the
    // fan-out (the later parts are reported separately).
    fan_out(&api, &addr, pid, &models[1], subscribers, sse_epochs).await;
    let run = overhead(&bin, dir.path(), &api, pid, &models[0], &fast_url, epochs).await;
    requests(&api, &addr, pid, &run, secs).await;
    console_pages(&api, &addr, &models[0], page_items, views).await;
    for child in [&mut center, &mut fast, &mut slow] {
        let _ = child.kill();
        let _ = child.wait();
    }
}
