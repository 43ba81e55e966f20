//! Containment: an infinite loop, a fork bomb, a huge allocation, a socket, an oversized file
//! are all contained, and a good program passes.

use std::net::TcpListener;
use std::sync::Mutex;
use std::time::Duration;

use touchstone_sandbox::{Limits, NetworkIsolation, Outcome, Sandbox, Status, UserIsolation};

/// Runs share the sandbox uid and so its process-count limit; one at a time keeps the fork bomb
/// from starving the other tests.
static SERIAL: Mutex<()> = Mutex::new(());

fn python_present() -> bool {
    let found = ["/usr/local/bin/python3", "/usr/bin/python3", "/bin/python3"]
        .iter()
        .any(|p| std::path::Path::new(p).exists());
    if !found {
        eprintln!("skipped: python3 is not installed in /usr/local/bin, /usr/bin or /bin");
    }
    found
}

fn quick() -> Limits {
    Limits {
        cpu_secs: 5,
        wall: Duration::from_secs(3),
        ..Limits::default()
    }
}

fn run(limits: Limits, code: &str) -> Outcome {
    let _g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    Sandbox::new(limits)
        .run_python(code)
        .expect("the sandbox runs")
}

fn group_is_gone(pgid: i32) -> bool {
    // SAFETY: signal 0 only checks for existence.
    let r = unsafe { libc::kill(-pgid, 0) };
    r == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
}

#[test]
fn passing_program_returns_its_output_and_cleans_up() {
    if !python_present() {
        return;
    }
    let code = "import os\nprint('hello', sum(range(10)))\nprint(os.getcwd())\nprint(sorted(os.environ))\nprint(os.getuid())\n";
    let out = run(quick(), code);
    assert_eq!(out.status, Status::Passed, "stderr: {}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "hello 45");
    let cwd = lines[1];
    assert!(cwd.contains("touchstone-sandbox-"), "cwd {cwd}");
    assert!(
        !std::path::Path::new(cwd).exists(),
        "temp dir {cwd} was left behind"
    );
    assert!(out.cleanup_error.is_none());
    // Only PATH (and the LC_CTYPE Python adds itself when it coerces the C locale).
    for var in lines[2].trim_matches(['[', ']']).split(", ") {
        assert!(
            var == "'PATH'" || var == "'LC_CTYPE'",
            "leaked variable {var}"
        );
    }
    if let UserIsolation::Dropped { uid, .. } = out.isolation.user {
        assert_eq!(lines[3], uid.to_string());
    }
    assert!(out.isolation.rlimits);
    assert!(group_is_gone(out.process_group));
}

#[test]
fn failing_program_reports_its_exit_code() {
    if !python_present() {
        return;
    }
    let out = run(
        quick(),
        "import sys\nprint('oops', file=sys.stderr)\nsys.exit(3)\n",
    );
    assert_eq!(out.status, Status::Failed { code: 3 });
    assert_eq!(out.stderr.trim(), "oops");
    let out = run(quick(), "assert 1 + 1 == 3\n");
    assert_eq!(out.status, Status::Failed { code: 1 });
    assert!(out.stderr.contains("AssertionError"), "{}", out.stderr);
}

#[test]
fn infinite_loop_is_stopped_by_the_wall_clock() {
    if !python_present() {
        return;
    }
    let out = run(quick(), "while True: pass\n");
    assert_eq!(out.status, Status::TimedOut);
    assert!(
        out.wall >= Duration::from_secs(3) && out.wall < Duration::from_secs(8),
        "{:?}",
        out.wall
    );
    assert!(group_is_gone(out.process_group));
}

#[test]
fn infinite_loop_is_stopped_by_the_cpu_limit() {
    if !python_present() {
        return;
    }
    let limits = Limits {
        cpu_secs: 1,
        wall: Duration::from_secs(10),
        ..Limits::default()
    };
    let out = run(limits, "while True: pass\n");
    assert_eq!(out.status, Status::CpuLimit);
    assert!(out.wall < Duration::from_secs(5), "{:?}", out.wall);
}

#[test]
fn fork_bomb_is_contained_and_leaves_nothing() {
    if !python_present() {
        return;
    }
    let out = run(
        quick(),
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
    );
    assert_eq!(out.status, Status::TimedOut, "stderr: {}", out.stderr);
    assert!(out.wall < Duration::from_secs(10), "{:?}", out.wall);
    assert!(
        group_is_gone(out.process_group),
        "processes of group {} survived",
        out.process_group
    );
    // The plain bomb, whose children die on the first failed fork, is contained too.
    let out = run(quick(), "import os\nwhile True: os.fork()\n");
    assert!(
        group_is_gone(out.process_group),
        "processes of group {} survived",
        out.process_group
    );
    // And the sandbox still works afterwards: nothing is left counting against the limit.
    let out = run(
        quick(),
        "import os\npid = os.fork()\nif pid == 0: os._exit(0)\nos.waitpid(pid, 0)\nprint('ok')\n",
    );
    assert_eq!(out.status, Status::Passed, "stderr: {}", out.stderr);
}

#[test]
fn huge_allocation_fails_inside_the_program() {
    if !python_present() {
        return;
    }
    let out = run(quick(), "x = bytearray(10**10)\n");
    assert_eq!(out.status, Status::Failed { code: 1 });
    assert!(out.stderr.contains("MemoryError"), "{}", out.stderr);
}

#[test]
fn oversized_file_cannot_be_written() {
    if !python_present() {
        return;
    }
    let limits = Limits {
        file_size_bytes: 1 << 20,
        ..quick()
    };
    let code = "import os\ntry:\n    with open('big', 'wb') as f:\n        f.write(b'x' * (4 << 20))\n    print('wrote')\nexcept OSError as e:\n    print('refused', e.errno)\nprint(os.path.getsize('big'))\n";
    let out = run(limits, code);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines.first(),
        Some(&format!("refused {}", libc::EFBIG).as_str()),
        "{out:?}"
    );
    let size: u64 = lines[1].parse().unwrap();
    assert!(size <= 1 << 20, "file grew to {size}");
}

#[test]
fn socket_cannot_reach_the_host() {
    if !python_present() {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let code = format!(
        "import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)\nprint('connected')\n"
    );
    let out = run(quick(), &code);
    let arrived = listener.accept().is_ok();
    match &out.isolation.network {
        NetworkIsolation::Namespace | NetworkIsolation::UserNamespace => {
            assert!(matches!(out.status, Status::Failed { .. }), "{out:?}");
            assert!(!out.stdout.contains("connected"));
            assert!(!arrived, "the connection reached the host listener");
        }
        other => eprintln!(
            "network isolation unavailable here ({other:?}); connection arrived: {arrived}"
        ),
    }
}

#[test]
fn network_can_be_allowed() {
    if !python_present() {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let code = format!(
        "import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)\nprint('connected')\n"
    );
    let out = run(
        Limits {
            network: true,
            ..quick()
        },
        &code,
    );
    assert_eq!(out.isolation.network, NetworkIsolation::Allowed);
    assert_eq!(out.status, Status::Passed, "{out:?}");
}

#[test]
fn output_is_capped() {
    if !python_present() {
        return;
    }
    let limits = Limits {
        output_bytes: 1000,
        ..quick()
    };
    let out = run(limits, "import sys\nsys.stdout.write('y' * 1_000_000)\n");
    assert_eq!(out.status, Status::Passed);
    assert_eq!(out.stdout.len(), 1000);
    assert!(out.truncated);
}

#[test]
fn stdin_and_extra_files_reach_the_program() {
    if !python_present() {
        return;
    }
    let _g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let sandbox = Sandbox::new(quick());
    let code = b"import sys\nprint(sys.stdin.read().upper(), open('data.txt').read())\n";
    let out = sandbox
        .run(
            "python3",
            &["-I", "main.py"],
            &[("main.py", code), ("data.txt", b"file")],
            b"in",
        )
        .unwrap();
    assert_eq!(out.stdout.trim(), "IN file", "{out:?}");
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let sandbox = Sandbox::new(quick());
    let err = sandbox
        .run("python3", &[], &[("../escape", b"")], b"")
        .unwrap_err();
    assert!(err.to_string().contains("../escape"), "{err}");
    let err = sandbox
        .run("no-such-program-xyz", &[], &[], b"")
        .unwrap_err();
    assert!(err.to_string().contains("no-such-program-xyz"), "{err}");
}

#[test]
fn a_process_that_leaves_the_group_is_killed_too() {
    if !python_present() {
        return;
    }
    let code = "import os, sys, time\npid = os.fork()\nif pid == 0:\n    os.setsid()\n    time.sleep(60)\n    os._exit(0)\nprint(pid, flush=True)\n";
    let out = run(quick(), code);
    assert_eq!(out.status, Status::Passed, "{out:?}");
    let pid: i32 = out.stdout.trim().parse().unwrap();
    // SAFETY: signal 0 only checks for existence.
    let r = unsafe { libc::kill(pid, 0) };
    assert!(
        r == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH),
        "escaped process {pid} survived"
    );
    assert!(out.wall < Duration::from_secs(3), "{:?}", out.wall);
}
