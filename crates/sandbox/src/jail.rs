//! The isolated path: untrusted code runs inside bubblewrap (Debian's `bubblewrap`, the sandbox
//! Flatpak is built on), which gives it its own user, PID, mount, network, IPC, UTS and cgroup
//! namespaces; a root made of read-only system directories and private tmpfs mounts of bounded
//! size for `/work` (its files), `/tmp` and `/dev/shm`; a fresh `/proc` and a minimal `/dev`;
//! no capabilities; a new session; `no_new_privs`; and the seccomp filter of [`crate::seccomp`].
//!
//! Around bubblewrap, this module adds what it does not do: the item's cgroup
//! ([`crate::cgroup`]), rlimits, a distinct unprivileged uid per item on a root host, and no
//! inherited file descriptors. When the item ends, the PID namespace's init exits and the kernel
//! kills everything left inside it; the cgroup is then emptied and removed.

use std::ffi::CString;
use std::io::{self, Read, Seek, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::cgroup::{Bounds, Cgroup};
use crate::{
    Isolation, Limits, Mechanism, NetworkIsolation, Outcome, Resources, SandboxError, Status,
    UserIsolation,
};

/// Inside the sandbox the program runs as this uid and gid, whatever it maps to outside.
pub const INNER_ID: u32 = 1000;

/// Host uids for items on a root host: `BASE_UID + n`, one per item, none of them a real account.
const BASE_UID: u32 = 1_900_000_000;
const UID_SLOTS: u32 = 50_000_000;
static NEXT_UID: AtomicU32 = AtomicU32::new(0);

/// Where bubblewrap is looked for (the host's, not the sandbox's `PATH`).
const BWRAP: &[&str] = &["/usr/bin/bwrap", "/usr/local/bin/bwrap", "/bin/bwrap"];

pub(crate) fn bwrap_path() -> Option<PathBuf> {
    BWRAP.iter().map(PathBuf::from).find(|p| p.is_file())
}

/// A distinct unprivileged host uid for the next item: the process id spreads concurrent
/// Touchstone processes apart, the counter separates this process's items.
fn next_uid() -> u32 {
    let n = NEXT_UID.fetch_add(1, Ordering::Relaxed);
    BASE_UID + (std::process::id().wrapping_mul(100_003).wrapping_add(n)) % UID_SLOTS
}

/// Everything the forked child needs, prepared before the fork (no allocation after it).
struct ChildPlan {
    cgroup_procs: Vec<CString>,
    /// Descriptors that bubblewrap reads, in the order they become 3, 4, …
    pass: Vec<libc::c_int>,
    limits: Limits,
    uid: Option<u32>,
    /// RLIMIT_NPROC for the item (see [`process_limit`]).
    nproc: u64,
}

/// RLIMIT_NPROC counts every process and thread of the real uid, host-wide. With a uid of its
/// own (`shared_uid` None: a root host) the item's limit is its own budget. Sharing a uid, a
/// fixed limit would both refuse every item of a user who already runs more processes than it (a desktop
/// runs hundreds of threads) and let one item's fork bomb use up the uid and starve the items
/// running beside it; so the limit is what the uid runs now plus the item's budget, within the
/// caller's own hard limit.
pub(crate) fn process_limit(shared_uid: Option<u32>, budget: u64) -> u64 {
    let Some(uid) = shared_uid else {
        return budget;
    };
    let running = tasks_of(uid);
    let mut hard = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct we pass.
    let ceiling = if unsafe { libc::getrlimit(libc::RLIMIT_NPROC, &mut hard) } == 0 {
        hard.rlim_max
    } else {
        libc::RLIM_INFINITY
    };
    running.saturating_add(budget).min(ceiling)
}

/// Processes and threads whose owner is `uid`, from /proc.
fn tasks_of(uid: u32) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| {
            e.file_name()
                .as_encoded_bytes()
                .iter()
                .all(u8::is_ascii_digit)
        })
        .filter(|e| e.metadata().is_ok_and(|m| m.uid() == uid))
        .map(|e| std::fs::read_dir(e.path().join("task")).map_or(1, |tasks| tasks.count() as u64))
        .sum()
}

fn set_limit(resource: libc::__rlimit_resource_t, soft: u64, hard: u64) -> io::Result<()> {
    let lim = libc::rlimit {
        rlim_cur: soft,
        rlim_max: hard,
    };
    // SAFETY: setrlimit reads the struct we pass.
    if unsafe { libc::setrlimit(resource, &lim) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Writes the calling process's pid into a `cgroup.procs` file without allocating.
fn join_cgroup(procs: &CString) -> io::Result<()> {
    // SAFETY: getpid has no preconditions.
    let mut pid = unsafe { libc::getpid() } as u32;
    let mut digits = [0u8; 12];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (pid % 10) as u8;
        pid /= 10;
        if pid == 0 {
            break;
        }
    }
    // SAFETY: a NUL-terminated path we own; the fd is closed below.
    let fd = unsafe { libc::open(procs.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: writes from our stack buffer.
    let n = unsafe { libc::write(fd, digits[at..].as_ptr().cast(), digits.len() - at) };
    let err = io::Error::last_os_error();
    // SAFETY: closes the fd opened above.
    unsafe { libc::close(fd) };
    if n < 0 {
        return Err(err);
    }
    Ok(())
}

/// Runs in the forked child before it executes bubblewrap: only async-signal-safe calls.
fn enter(plan: &ChildPlan) -> io::Result<()> {
    for procs in &plan.cgroup_procs {
        join_cgroup(procs)?;
    }
    // SAFETY: prctl with integer arguments: die with Touchstone, never gain privileges.
    unsafe {
        if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0
            || libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
        {
            return Err(io::Error::last_os_error());
        }
    }
    let l = &plan.limits;
    // SIGXCPU at the soft limit (reported as the CPU limit), SIGKILL a second later.
    set_limit(libc::RLIMIT_CPU, l.cpu_secs, l.cpu_secs + 1)?;
    set_limit(libc::RLIMIT_AS, l.memory_bytes, l.memory_bytes)?;
    set_limit(libc::RLIMIT_FSIZE, l.file_size_bytes, l.file_size_bytes)?;
    set_limit(libc::RLIMIT_CORE, 0, 0)?;
    // Per uid: on a root host every item has its own uid, so this bounds the item alone.
    set_limit(libc::RLIMIT_NPROC, plan.nproc, plan.nproc)?;
    // The descriptors bubblewrap reads become 3, 4, … and every other one above 2 is closed:
    // nothing the host had open reaches the program. First move them out of the way, so that
    // placing one cannot overwrite another.
    let mut moved = [0 as libc::c_int; 8];
    for (i, fd) in plan.pass.iter().enumerate() {
        // SAFETY: duplicates a descriptor we own to a number ≥ 64.
        let high = unsafe { libc::fcntl(*fd, libc::F_DUPFD_CLOEXEC, 64) };
        if high < 0 {
            return Err(io::Error::last_os_error());
        }
        moved[i] = high;
    }
    for (i, high) in moved[..plan.pass.len()].iter().enumerate() {
        // SAFETY: dup2 onto a fixed low number; the copy is inherited across exec.
        if unsafe { libc::dup2(*high, 3 + i as libc::c_int) } < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    let first_closed = 3 + plan.pass.len() as u32;
    // SAFETY: closes descriptors only; Rust's own exec-error pipe is among them and is
    // close-on-exec anyway, but `spawn` then learns of a failed exec from the child's exit.
    unsafe { libc::syscall(libc::SYS_close_range, first_closed, u32::MAX, 0u32) };
    if let Some(uid) = plan.uid {
        // SAFETY: drops every group and switches to the item's own unprivileged uid and gid.
        unsafe {
            if libc::setgroups(0, std::ptr::null()) != 0
                || libc::setgid(uid) != 0
                || libc::setuid(uid) != 0
            {
                return Err(io::Error::last_os_error());
            }
        }
    }
    Ok(())
}

/// An anonymous in-memory file holding `bytes`, positioned at its start.
fn memfile(name: &str, bytes: &[u8]) -> io::Result<std::fs::File> {
    let cname = CString::new(name).map_err(|_| io::Error::other("NUL in a file name"))?;
    // SAFETY: memfd_create takes a NUL-terminated name; the new fd is ours.
    let fd = unsafe { libc::memfd_create(cname.as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is fresh and owned by nobody else.
    let mut file = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) });
    file.write_all(bytes)?;
    file.rewind()?;
    Ok(file)
}

/// bubblewrap's arguments (after the program's descriptors 3 = seccomp, 4 = status, 5… =
/// files) for `program args…`.
pub(crate) fn arguments(
    limits: &Limits,
    files: &[(&str, &[u8])],
    program: &str,
    args: &[&str],
) -> Vec<String> {
    let mut a: Vec<String> = Vec::new();
    let mut push = |items: &[&str]| a.extend(items.iter().map(|s| s.to_string()));
    push(&["--unshare-all", "--die-with-parent", "--new-session"]);
    if limits.network {
        push(&["--share-net"]);
    }
    push(&["--cap-drop", "ALL", "--hostname", "sandbox"]);
    // The system, read-only: programs and libraries, and /etc for the interpreter's own files.
    // Nothing else of the host (no /home, /root, /run, /var, /tmp: no host sockets, no data).
    for dir in ["/usr", "/etc"] {
        push(&["--ro-bind-try", dir, dir]);
    }
    for dir in ["/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"] {
        match std::fs::read_link(dir) {
            Ok(target) => push(&["--symlink", &target.to_string_lossy(), dir]),
            Err(_) if Path::new(dir).is_dir() => push(&["--ro-bind", dir, dir]),
            Err(_) => {}
        }
    }
    push(&["--proc", "/proc", "--dev", "/dev"]);
    let size = limits.scratch_bytes.to_string();
    for dir in ["/tmp", "/dev/shm", "/work"] {
        push(&["--size", &size, "--tmpfs", dir]);
    }
    for (i, (name, _)) in files.iter().enumerate() {
        push(&["--file", &(5 + i).to_string(), &format!("/work/{name}")]);
    }
    let id = INNER_ID.to_string();
    push(&["--chdir", "/work", "--uid", &id, "--gid", &id]);
    push(&["--setenv", "HOME", "/work", "--setenv", "TMPDIR", "/tmp"]);
    push(&["--seccomp", "3", "--json-status-fd", "4", "--", program]);
    push(args);
    a
}

/// What bubblewrap reported on its status descriptor.
#[derive(Debug, Default)]
struct Reported {
    started: bool,
    exit_code: Option<i32>,
}

fn parse_status(text: &str) -> Reported {
    let mut r = Reported::default();
    for line in text.lines() {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(line) {
            r.started |= v.get("child-pid").is_some();
            if let Some(code) = v.get("exit-code").and_then(|c| c.as_i64()) {
                r.exit_code = i32::try_from(code).ok();
            }
        }
    }
    r
}

pub(crate) fn run(
    bwrap: &Path,
    limits: &Limits,
    search_path: &str,
    program: &str,
    args: &[&str],
    files: &[(&str, &[u8])],
    stdin: &[u8],
) -> Result<Outcome, SandboxError> {
    let supervisor = |what: &str, e: io::Error| SandboxError::Supervisor(format!("{what}: {e}"));
    let seccomp = memfile("seccomp", &crate::seccomp::program())
        .map_err(|e| supervisor("could not prepare the seccomp filter", e))?;
    let (status_read, status_write) =
        crate::cloexec_pipe().map_err(|e| supervisor("could not create the status pipe", e))?;
    let mut pass = vec![seccomp.as_raw_fd(), status_write.as_raw_fd()];
    let mut held = Vec::new();
    for (name, bytes) in files {
        let f = memfile(name, bytes).map_err(|e| supervisor("could not prepare a file", e))?;
        pass.push(f.as_raw_fd());
        held.push(f);
    }
    if pass.len() > 8 {
        return Err(SandboxError::Supervisor(format!(
            "{} files is more than the sandbox passes (6)",
            files.len()
        )));
    }

    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let uid = root.then(next_uid);
    let cgroup = Cgroup::create(Bounds {
        memory_bytes: limits.total_memory_bytes,
        processes: limits.max_processes,
        cpus: 1,
    });
    let plan = ChildPlan {
        cgroup_procs: cgroup.as_ref().map(|c| c.join.clone()).unwrap_or_default(),
        pass,
        limits: limits.clone(),
        uid,
        // SAFETY: getuid has no preconditions.
        nproc: process_limit(
            uid.is_none().then(|| unsafe { libc::getuid() }),
            limits.max_processes,
        ),
    };

    let mut cmd = Command::new(bwrap);
    cmd.args(arguments(limits, files, program, args))
        .current_dir("/")
        .env_clear()
        .env("PATH", search_path)
        .stdin(if stdin.is_empty() {
            Stdio::null()
        } else {
            Stdio::piped()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    // SAFETY: `enter` makes only async-signal-safe calls and allocates nothing.
    unsafe { cmd.pre_exec(move || enter(&plan)) };
    let start = Instant::now();
    let spawned = cmd.spawn();
    drop(status_write);
    drop(held);
    drop(seccomp);
    let mut proc = match spawned {
        Ok(p) => p,
        Err(source) => {
            if let Ok(cg) = cgroup {
                let _ = cg.remove();
            }
            return Err(SandboxError::Spawn {
                program: bwrap.display().to_string(),
                path: search_path.to_string(),
                source,
            });
        }
    };
    let cap = limits.output_bytes;
    let out = crate::capture(proc.stdout.take(), cap);
    let err = crate::capture(proc.stderr.take(), cap);
    if let Some(mut sin) = proc.stdin.take() {
        let data = stdin.to_vec();
        thread::spawn(move || {
            let _ = sin.write_all(&data);
        });
    }
    let mut status_read = std::fs::File::from(status_read);
    let status_text = thread::spawn(move || {
        let mut s = String::new();
        let _ = status_read.read_to_string(&mut s);
        s
    });

    let mut timed_out = false;
    let exit = loop {
        match proc.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if !timed_out && start.elapsed() > limits.wall => {
                timed_out = true;
                // bubblewrap's own process group: its init in the namespace dies with it
                // (--die-with-parent), and the kernel kills the namespace's processes.
                // SAFETY: signals the process group we created for bubblewrap.
                unsafe { libc::kill(-(proc.id() as i32), libc::SIGKILL) };
            }
            Ok(None) => thread::sleep(Duration::from_millis(2)),
            Err(e) => return Err(supervisor("waiting for bubblewrap failed", e)),
        }
    };
    let wall = start.elapsed();
    let (resources, cleanup_error) = match cgroup {
        Ok(cg) => {
            let version = cg.version;
            (
                Resources::Cgroup {
                    version,
                    memory_bytes: limits.total_memory_bytes,
                    processes: limits.max_processes,
                    cpus: 1,
                },
                cg.remove().err(),
            )
        }
        Err(reason) => (Resources::Rlimits { reason }, None),
    };
    let reported = parse_status(&status_text.join().unwrap_or_default());
    let (stdout, t1) = out.finish(Duration::from_secs(1));
    let (stderr, t2) = err.finish(Duration::from_secs(1));
    if !reported.started && !timed_out {
        return Err(SandboxError::Unavailable {
            reason: format!(
                "bubblewrap could not build the sandbox ({exit}): {}",
                stderr.trim()
            ),
        });
    }
    // bubblewrap started its child but could not execute the program.
    if reported.exit_code.or(exit.code()) == Some(1) && stderr.starts_with("bwrap: execvp ") {
        return Err(SandboxError::Spawn {
            program: program.to_string(),
            path: search_path.to_string(),
            source: io::Error::new(io::ErrorKind::NotFound, stderr.trim().to_string()),
        });
    }
    let status = if timed_out {
        Status::TimedOut
    } else {
        match reported.exit_code.or(exit.code()) {
            Some(0) => Status::Passed,
            // bubblewrap reports a program killed by signal s as 128 + s.
            Some(code) if code > 128 && code <= 128 + 64 => match code - 128 {
                libc::SIGXCPU => Status::CpuLimit,
                signal => Status::Killed { signal },
            },
            Some(code) => Status::Failed { code },
            None => Status::Killed { signal: 9 },
        }
    };
    Ok(Outcome {
        status,
        stdout,
        stderr,
        truncated: t1 || t2,
        wall,
        isolation: Isolation {
            mechanism: Mechanism::Bubblewrap,
            network: if limits.network {
                NetworkIsolation::Allowed
            } else {
                NetworkIsolation::UserNamespace
            },
            user: match uid {
                Some(uid) => UserIsolation::Dropped { uid, gid: uid },
                // SAFETY: getuid has no preconditions.
                None => UserIsolation::SameUser {
                    uid: unsafe { libc::getuid() },
                },
            },
            resources,
            seccomp: true,
            rlimits: true,
            reaper: true,
        },
        process_group: proc.id() as i32,
        cleanup_error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_isolate_everything_and_pass_files_by_descriptor() {
        let a = arguments(
            &Limits::default(),
            &[("main.py", b"print(1)"), ("in.txt", b"")],
            "python3",
            &["-I", "main.py"],
        );
        let text = a.join(" ");
        assert!(text.starts_with("--unshare-all --die-with-parent --new-session"));
        assert!(!text.contains("--share-net"));
        assert!(
            text.contains("--file 5 /work/main.py --file 6 /work/in.txt"),
            "{text}"
        );
        assert!(text.contains("--seccomp 3 --json-status-fd 4 -- python3 -I main.py"));
        assert!(text.contains(&format!("--size {} --tmpfs /dev/shm", 64 << 20)));
        assert!(!text.contains("/home") && !text.contains("/run") && !text.contains("/var"));
    }

    #[test]
    fn status_lines_are_read() {
        let r = parse_status("{ \"child-pid\": 12 }\n{ \"exit-code\": 3 }\n");
        assert!(r.started);
        assert_eq!(r.exit_code, Some(3));
        assert!(!parse_status("").started);
    }

    #[test]
    fn uids_differ_between_items() {
        let (a, b) = (next_uid(), next_uid());
        assert_ne!(a, b);
        assert!(a >= BASE_UID && b >= BASE_UID);
    }
}
