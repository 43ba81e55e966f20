//! A model that is an attacker (issue 13): HumanEval items whose completions, served by the mock,
//! attack the host through `touchstone eval`. Each attack, had it escaped, would turn its item
//! into a pass (it defines the right function only then); contained, it ends with exit code 42,
//! which proves the attack ran to its end. Around the run the host checks what each attack
//! aimed at: nothing survives, nothing outside the item changed, a host process and the caller's
//! descriptor and socket are untouched, the mock got one request per item, and honest items
//! after the attacks score as they should.
//!
//! `scripts/test` runs this file as root and again as the unprivileged user `nobody`
//! (`TOUCHSTONE_BIN` then names a copy of the binary that user can run).

mod common;

use std::io::Read;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use touchstone_mock::{MockConfig, spawn_background};

fn have(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// What one attack aims at on the host, for the checks after the run.
struct Host {
    marker: String,
    mock_port: u16,
    victim_pid: u32,
    socket: PathBuf,
    canary: PathBuf,
}

/// The attacks, as module-level Python after a wrong `add`. Each calls `escaped()` when it got
/// through (which defines the right `add`, so the item would pass) and otherwise ends with
/// `os._exit(42)`. No backslashes, triple quotes or `]]`: the code travels inside a docstring
/// and a mock directive (a daemon's own program writes its newlines as `|`).
fn attacks(h: &Host) -> Vec<(&'static str, String)> {
    let m = &h.marker;
    let daemon = |body: &str| {
        format!(
            "if os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        os.execv(sys.executable, [sys.executable, '-c', '{body}'.replace('|', chr(10)), '{m}'])\n    os._exit(0)\ntime.sleep(0.3)\nos._exit(42)\n"
        )
    };
    vec![
        (
            "regrowing fork chain",
            daemon(
                "import os|while True:|    try:|        if os.fork() != 0: os._exit(0)|    except OSError: pass",
            ),
        ),
        ("daemon", daemon("import time|time.sleep(120)")),
        (
            "kill the supervisor",
            "os.kill(os.getppid(), signal.SIGKILL)\ntime.sleep(0.5)\nos._exit(42)\n".into(),
        ),
        (
            "kill every process it may",
            "try:\n    os.kill(-1, signal.SIGKILL)\nexcept OSError:\n    pass\nos._exit(42)\n"
                .into(),
        ),
        (
            "write outside",
            format!(
                "for d in ('/tmp', '/var/tmp', '/dev/shm', {:?}):\n    try:\n        open(os.path.join(d, '{m}'), 'w').write('x')\n    except OSError:\n        pass\ntry:\n    open({:?}, 'w').write('changed')\n    escaped()\nexcept OSError:\n    os._exit(42)\n",
                h.canary.parent().unwrap().display().to_string(),
                h.canary.display().to_string(),
            ),
        ),
        ("fill the disk", fill("/work/fill")),
        ("fill /dev/shm", fill("/dev/shm/fill")),
        (
            "read and signal another process",
            format!(
                "got = False\ntry:\n    open('/proc/{pid}/environ').read()\n    got = True\nexcept OSError:\n    pass\ntry:\n    os.kill({pid}, signal.SIGKILL)\n    got = True\nexcept OSError:\n    pass\nif got:\n    escaped()\nos._exit(42)\n",
                pid = h.victim_pid
            ),
        ),
        (
            "inherited descriptor",
            "wrote = False\nfor fd in range(3, 256):\n    try:\n        os.write(fd, b'escaped')\n        wrote = True\n    except OSError:\n        pass\nif wrote:\n    escaped()\nos._exit(42)\n"
                .into(),
        ),
        (
            "host unix socket",
            format!(
                "s = socket.socket(socket.AF_UNIX)\ntry:\n    s.connect({:?})\n    escaped()\nexcept OSError:\n    os._exit(42)\n",
                h.socket.display().to_string()
            ),
        ),
        (
            "setuid and privileges",
            "status = open('/proc/self/status').read()\nflags = dict(l.split(':', 1) for l in status.splitlines() if ':' in l)\ntry:\n    os.setuid(0)\n    became_root = os.geteuid() == 0 and flags['Uid'].split()[0] != '0'\nexcept OSError:\n    became_root = False\nif became_root or flags['NoNewPrivs'].strip() != '1' or flags['Seccomp'].strip() != '2':\n    escaped()\nos._exit(42)\n"
                .into(),
        ),
        (
            "many processes' memory",
            "pids = []\nfor _ in range(6):\n    pid = os.fork()\n    if pid == 0:\n        try:\n            b = bytearray(400 << 20)\n            for i in range(0, len(b), 4096): b[i] = 1\n            time.sleep(1)\n            os._exit(0)\n        except MemoryError:\n            os._exit(1)\n    pids.append(pid)\nok = sum(os.waitpid(p, 0)[1] == 0 for p in pids)\nif ok == 6:\n    escaped()\nos._exit(42)\n"
                .into(),
        ),
        (
            "network",
            format!(
                "try:\n    socket.create_connection(('127.0.0.1', {}), timeout=2).sendall(b'GET /v1/models HTTP/1.0')\n    escaped()\nexcept OSError:\n    os._exit(42)\n",
                h.mock_port
            ),
        ),
        (
            "fork bomb",
            "end = time.time() + 2\nwhile time.time() < end:\n    try:\n        os.fork()\n    except OSError:\n        pass\nos._exit(42)\n"
                .into(),
        ),
    ]
}

/// Writes up to 2 GB; more than 200 MB getting through is an escape.
fn fill(path: &str) -> String {
    format!(
        "n = 0\ntry:\n    with open('{path}', 'wb') as f:\n        for _ in range(2048):\n            f.write(b'x' * (1 << 20))\n            n += 1\nexcept OSError:\n    pass\nif n > 200:\n    escaped()\nos._exit(42)\n"
    )
}

const HONEST: [(&str, bool); 4] = [
    ("    return a + b\n", true),
    ("    return a - b\n", false),
    ("    return b + a\n", true),
    ("    return a * b\n", false),
];

/// Host processes whose command line holds `marker`, other than this test.
fn survivors(marker: &str) -> Vec<String> {
    let me = std::process::id().to_string();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == me || !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if let Ok(cmd) = std::fs::read(entry.path().join("cmdline"))
            && String::from_utf8_lossy(&cmd).contains(marker)
        {
            found.push(format!("{name}: {}", String::from_utf8_lossy(&cmd)));
        }
    }
    found
}

#[test]
fn hostile_completions_are_contained_and_the_run_records_every_item() {
    if !have("python3") {
        eprintln!("python3 is not installed: nothing to contain");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mock = spawn_background(MockConfig::default()).unwrap();
    let mock_port: u16 = mock
        .base_url()
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches("/v1")
        .parse()
        .unwrap();
    // A process of the same user as Touchstone, which an unconfined item could read and kill.
    let mut victim = Command::new("sleep").arg("600").spawn().unwrap();
    let socket = dir.path().join("host.sock");
    let listener = UnixListener::bind(&socket).unwrap();
    listener.set_nonblocking(true).unwrap();
    let canary = dir.path().join("canary");
    std::fs::write(&canary, "untouched").unwrap();
    let host = Host {
        marker: format!("touchstone-hostile-{}", std::process::id()),
        mock_port,
        victim_pid: victim.id(),
        socket: socket.clone(),
        canary: canary.clone(),
    };

    let preamble = "import os, signal, socket, sys, time\ndef add(a, b):\n    return None\ndef escaped():\n    global add\n    add = lambda a, b: a + b\n";
    let attacks = attacks(&host);
    let mut lines = Vec::new();
    for (name, code) in &attacks {
        lines.push(humaneval_add(
            &format!("Hostile/{}", lines.len()),
            &format!("# {name}\n{preamble}{code}"),
        ));
    }
    for (code, _) in HONEST {
        lines.push(humaneval_add(&format!("Hostile/{}", lines.len()), code));
    }
    let data = dir.path().join("HumanEval.jsonl");
    std::fs::write(&data, lines.join("\n") + "\n").unwrap();

    // The caller holds a writable descriptor (fd 3) open across exec, as a careless parent
    // might: Touchstone inherits it, the items must not.
    let leaked = dir.path().join("fd3");
    std::fs::write(&leaked, "").unwrap();
    let out = dir.path().join("out");
    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg("exec 3>>\"$LEAKED\"; exec \"$@\"")
        .arg("bash")
        .arg(bin_path())
        .args([
            "eval",
            "--benchmark",
            "humaneval",
            "--data-dir",
            data.to_str().unwrap(),
            "--model",
            &format!("openai:mock@{}", mock.base_url()),
            "--concurrency",
            "4",
            "--db",
            db(dir.path()).to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ])
        .env("LEAKED", &leaked);
    clean_env(&mut cmd);
    let started = Instant::now();
    let o = cmd.output().unwrap();
    let elapsed = started.elapsed();
    let err = stderr(&o);

    // The host, after the run.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        survivors(&host.marker),
        Vec::<String>::new(),
        "processes outlived the run"
    );
    assert!(
        victim.try_wait().unwrap().is_none(),
        "the host process {} was killed from inside an item",
        victim.id()
    );
    let _ = victim.kill();
    let _ = victim.wait();
    assert_eq!(std::fs::read_to_string(&canary).unwrap(), "untouched");
    for d in ["/tmp", "/var/tmp", "/dev/shm"] {
        let p = Path::new(d).join(&host.marker);
        assert!(!p.exists(), "{} reached the host", p.display());
    }
    let mut inherited = String::new();
    std::fs::File::open(&leaked)
        .unwrap()
        .read_to_string(&mut inherited)
        .unwrap();
    assert_eq!(inherited, "", "an item wrote to the caller's descriptor");
    assert!(
        listener.accept().is_err(),
        "an item reached the host's socket"
    );
    assert_eq!(
        mock.request_count(),
        lines.len() as u64,
        "one request per item, none from inside an item"
    );

    // The run: finished, and every item recorded.
    if !have("bwrap") {
        // Without the sandbox, code is refused rather than run unconfined.
        assert_clean_failure(&o, &["--allow-unisolated-code"]);
        return;
    }
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(elapsed < Duration::from_secs(120), "{elapsed:?}");
    let samples = read_jsonl(&out.join("samples.jsonl"));
    assert_eq!(samples.len(), lines.len(), "every item is recorded");
    let by_id = |i: usize| {
        samples
            .iter()
            .find(|s| s["sample_id"] == format!("Hostile/{i}").as_str())
            .unwrap_or_else(|| panic!("no sample for Hostile/{i}: {samples:?}"))
    };
    for (i, (name, _)) in attacks.iter().enumerate() {
        let s = by_id(i);
        let explanation = s["scores"][0]["explanation"].as_str().unwrap_or_default();
        assert!(explanation.contains("sandbox: bubblewrap"), "{name}: {s}");
        let bounded_memory = explanation.contains("cgroup");
        if *name == "many processes' memory" && !bounded_memory {
            // Without a cgroup (an ordinary user on a host that delegates none) memory is
            // bounded per process only, and the item says so.
            assert!(explanation.contains("rlimits"), "{name}: {s}");
            continue;
        }
        assert_eq!(s["score"].as_f64(), Some(0.0), "{name} escaped: {s}");
        // These end on their own after the attack; the rest may take their sandbox down.
        if !matches!(
            *name,
            "kill the supervisor" | "kill every process it may" | "fork bomb"
        ) {
            assert!(
                explanation.contains("exit code 42"),
                "{name} did not run to its end: {s}"
            );
        }
    }
    for (k, (_, right)) in HONEST.iter().enumerate() {
        let s = by_id(attacks.len() + k);
        let want = if *right { 1.0 } else { 0.0 };
        assert_eq!(s["score"].as_f64(), Some(want), "honest item {k}: {s}");
    }
}
