//! Containment: an infinite loop, a fork bomb, a huge allocation, a socket, an oversized file
//! are all contained, and a good program passes. The hostile programs of issue 13 (daemons,
//! killing the supervisor, writing outside, filling tmpfs, inherited descriptors, host sockets,
//! namespaces, other processes, shared memory) follow: each must leave nothing behind.

use std::net::TcpListener;
use std::sync::Mutex;
use std::time::Duration;

use touchstone_sandbox::{
    INNER_ID, Limits, Mechanism, NetworkIsolation, Outcome, Resources, Sandbox, Status,
};

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
    // The program's directory is a private tmpfs: nothing of it exists on the host.
    assert_eq!(lines[1], "/work");
    assert!(out.cleanup_error.is_none(), "{:?}", out.cleanup_error);
    // Only PATH, the sandbox's HOME, TMPDIR and PWD (and the LC_CTYPE Python adds itself when it
    // coerces the C locale).
    for var in lines[2].trim_matches(['[', ']']).split(", ") {
        assert!(
            ["'PATH'", "'LC_CTYPE'", "'HOME'", "'TMPDIR'", "'PWD'"].contains(&var),
            "leaked variable {var}"
        );
    }
    assert_eq!(lines[3], INNER_ID.to_string());
    assert_eq!(out.isolation.mechanism, Mechanism::Bubblewrap);
    assert!(out.isolation.seccomp);
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

/// Host processes whose command line contains `marker` (the hostile programs below put one
/// in theirs), other than this test process.
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

/// A program that starts `body` as a detached process (double fork and `setsid`) whose command
/// line carries `marker`, then exits at once.
fn daemon(marker: &str, body: &str) -> String {
    format!(
        "import os, sys\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        \
         os.execv(sys.executable, [sys.executable, '-c', {body:?}, '{marker}'])\n    os._exit(0)\n\
         print('started', flush=True)\n"
    )
}

#[test]
fn a_daemon_does_not_outlive_its_item() {
    if !python_present() {
        return;
    }
    let marker = format!("touchstone-daemon-{}", std::process::id());
    let out = run(quick(), &daemon(&marker, "import time\ntime.sleep(60)"));
    assert_eq!(out.status, Status::Passed, "{out:?}");
    assert!(out.wall < Duration::from_secs(3), "{:?}", out.wall);
    assert_eq!(survivors(&marker), Vec::<String>::new());
}

#[test]
fn a_regrowing_fork_chain_leaves_nothing_and_later_items_are_unaffected() {
    if !python_present() {
        return;
    }
    let marker = format!("touchstone-chain-{}", std::process::id());
    // Each process forks a successor and exits, forever: there is never a stable set of
    // children to kill one layer at a time.
    let chain = "import os\nwhile True:\n    try:\n        if os.fork() != 0: os._exit(0)\n    except OSError: pass";
    let out = run(quick(), &daemon(&marker, chain));
    assert_eq!(out.status, Status::Passed, "{out:?}");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(survivors(&marker), Vec::<String>::new());
    let out = run(quick(), "print('fine')\n");
    assert_eq!(out.status, Status::Passed, "{out:?}");
}

#[test]
fn killing_the_parent_or_init_neither_escapes_nor_hurts_the_host() {
    if !python_present() {
        return;
    }
    let code = "import os, signal, time\nfor pid in (os.getppid(), 1):\n    try: os.kill(pid, signal.SIGKILL)\n    except OSError as e: print('refused', pid, e.errno)\ntime.sleep(30)\n";
    let out = run(quick(), code);
    // Whatever the program managed inside its namespace, the item ends within its time and
    // this process (the host) is alive to see it.
    assert!(out.wall < Duration::from_secs(5), "{out:?}");
}

#[test]
fn files_written_outside_the_item_do_not_reach_the_host() {
    if !python_present() {
        return;
    }
    let marker = format!("touchstone-escape-{}", std::process::id());
    let code = format!(
        "import os\nfor d in ('/tmp', '/var/tmp', '/dev/shm', '/etc', '/usr', '/work'):\n    \
         try:\n        open(os.path.join(d, '{marker}'), 'w').write('x')\n        print('wrote', d)\n    \
         except OSError as e:\n        print('refused', d, e.errno)\n"
    );
    let out = run(quick(), &code);
    assert_eq!(out.status, Status::Passed, "{out:?}");
    assert!(out.stdout.contains("refused /etc"), "{}", out.stdout);
    assert!(out.stdout.contains("refused /usr"), "{}", out.stdout);
    for d in ["/tmp", "/var/tmp", "/dev/shm", "/etc", "/usr"] {
        let p = std::path::Path::new(d).join(&marker);
        assert!(!p.exists(), "{} reached the host", p.display());
    }
}

#[test]
fn scratch_space_is_bounded() {
    if !python_present() {
        return;
    }
    let limits = Limits {
        scratch_bytes: 8 << 20,
        file_size_bytes: 64 << 20,
        ..quick()
    };
    let code = "import errno\nfor d in ('/tmp', '/dev/shm', '/work'):\n    try:\n        with open(d + '/fill', 'wb') as f:\n            for _ in range(32): f.write(b'x' * (1 << 20))\n        print('filled', d)\n    except OSError as e:\n        print('full', d, e.errno == errno.ENOSPC)\n";
    let out = run(limits, code);
    assert_eq!(
        out.stdout.lines().collect::<Vec<_>>(),
        ["full /tmp True", "full /dev/shm True", "full /work True"],
        "{out:?}"
    );
}

#[test]
fn no_descriptor_of_the_host_is_inherited() {
    if !python_present() {
        return;
    }
    // A descriptor this process holds open without close-on-exec, as a careless host might.
    let path = std::ffi::CString::new("/proc/self/status").unwrap();
    // SAFETY: opens a file read-only; closed at the end of the test.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY) };
    assert!(fd > 2);
    let out = run(
        quick(),
        "import os\nprint(sorted(int(f) for f in os.listdir('/proc/self/fd')))\n",
    );
    // SAFETY: closes the descriptor opened above.
    unsafe { libc::close(fd) };
    let fds: Vec<i32> = out
        .stdout
        .trim()
        .trim_matches(['[', ']'])
        .split(", ")
        .map(|f| f.parse().unwrap())
        .collect();
    // stdin, stdout, stderr, and the one listdir itself opened.
    assert!(fds.len() <= 4 && fds[..3] == [0, 1, 2], "{out:?}");
}

#[test]
fn a_host_unix_socket_is_unreachable() {
    if !python_present() {
        return;
    }
    let path = std::env::temp_dir().join(format!("touchstone-sock-{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    listener.set_nonblocking(true).unwrap();
    let code = format!(
        "import socket\ns = socket.socket(socket.AF_UNIX)\ntry:\n    s.connect({:?})\n    print('connected')\nexcept OSError as e:\n    print('refused', e.errno)\n",
        path.display().to_string()
    );
    let out = run(quick(), &code);
    let arrived = listener.accept().is_ok();
    let _ = std::fs::remove_file(&path);
    assert!(out.stdout.starts_with("refused"), "{out:?}");
    assert!(!arrived);
}

#[test]
fn privileges_cannot_be_regained() {
    if !python_present() {
        return;
    }
    // no_new_privs and the seccomp filter are on, and namespaces cannot be made inside.
    let code = "import ctypes, os\nstatus = open('/proc/self/status').read()\nprint([l.split()[1] for l in status.splitlines() if l.startswith(('NoNewPrivs', 'Seccomp:'))])\nlibc = ctypes.CDLL(None, use_errno=True)\nprint(libc.unshare(0x10000000), ctypes.get_errno() == 1)\nprint(libc.ptrace(0, 0, 0, 0), ctypes.get_errno() == 1)\n";
    let out = run(quick(), code);
    assert_eq!(
        out.stdout.lines().collect::<Vec<_>>(),
        ["['1', '2']", "-1 True", "-1 True"],
        "{out:?}"
    );
}

#[test]
fn other_processes_are_invisible() {
    if !python_present() {
        return;
    }
    let code = "import os\nprint(len([p for p in os.listdir('/proc') if p.isdigit()]))\nprint(os.path.exists('/proc/%d' % os.getppid()))\n";
    let out = run(quick(), code);
    let seen: usize = out.stdout.lines().next().unwrap().parse().unwrap();
    // bubblewrap's init and the program itself.
    assert!(seen <= 3, "the program saw {seen} processes: {out:?}");
}

#[test]
fn the_items_processes_share_one_memory_bound() {
    if !python_present() {
        return;
    }
    let limits = Limits {
        total_memory_bytes: 256 << 20,
        memory_bytes: 512 << 20,
        ..quick()
    };
    // Four processes of 120 MB each: each is within its own address-space limit, together
    // they are over the item's bound.
    let code = "import os, time\npids = []\nfor _ in range(4):\n    pid = os.fork()\n    if pid == 0:\n        b = bytearray(120 << 20)\n        for i in range(0, len(b), 4096): b[i] = 1\n        time.sleep(1)\n        os._exit(0)\n    pids.append(pid)\nok = sum(os.waitpid(p, 0)[1] == 0 for p in pids)\nprint(ok)\n";
    let out = run(limits, code);
    match &out.isolation.resources {
        Resources::Cgroup { .. } => {
            let ok: usize = out.stdout.trim().parse().unwrap_or(0);
            assert!(ok < 4, "all four got their memory: {out:?}");
        }
        Resources::Rlimits { reason } => eprintln!("no cgroup here ({reason})"),
    }
}
