//! Runs untrusted generated code (HumanEval-style Python) so that a hostile program cannot
//! reach anything outside its item: inside bubblewrap with every namespace, private bounded
//! tmpfs mounts, no inherited descriptors, `no_new_privs`, a seccomp filter, a cgroup per item
//! and a distinct unprivileged uid per item on a root host ([`jail`]). When the item ends, its
//! PID namespace and cgroup end with it: nothing it started survives.
//!
//! Where bubblewrap cannot build the sandbox (not installed, or user namespaces are off), code
//! is refused ([`SandboxError::Unavailable`]) unless the caller explicitly allows the old,
//! unisolated path ([`Sandbox::allow_unisolated`]): rlimits, a process group under a
//! subreaper, a network namespace where the kernel allows one. Every [`Outcome`] says which
//! isolation the run actually got.

mod cgroup;
mod child;
mod jail;
mod seccomp;
pub mod usage;

pub use jail::INNER_ID;

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use child::ChildPlan;

/// Resource limits of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// CPU seconds per process (RLIMIT_CPU): SIGXCPU at the limit.
    pub cpu_secs: u64,
    /// Address space per process in bytes (RLIMIT_AS): allocations beyond it fail.
    pub memory_bytes: u64,
    /// Largest file a process may write, in bytes (RLIMIT_FSIZE).
    pub file_size_bytes: u64,
    /// Processes and threads an item may start: its cgroup's pids limit, and RLIMIT_NPROC (which
    /// the kernel counts per uid, host-wide: an item with a uid of its own, on a root host, gets
    /// exactly this; one that shares a uid gets this on top of what that uid already runs).
    pub max_processes: u64,
    /// Wall-clock time after which the whole process group is killed.
    pub wall: Duration,
    /// `false` (the default) isolates the run from the network.
    pub network: bool,
    /// Bytes of stdout and of stderr kept; the rest is read and dropped.
    pub output_bytes: usize,
    /// Size of each private tmpfs (`/work`, `/tmp`, `/dev/shm`) in bytes.
    pub scratch_bytes: u64,
    /// Memory of all the item's processes together, tmpfs pages included (its cgroup).
    pub total_memory_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            cpu_secs: 10,
            memory_bytes: 512 << 20,
            file_size_bytes: 16 << 20,
            max_processes: 32,
            wall: Duration::from_secs(15),
            network: false,
            output_bytes: 64 << 10,
            scratch_bytes: 64 << 20,
            total_memory_bytes: 1 << 30,
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Status {
    /// Exit code 0.
    Passed,
    /// A non-zero exit code (an uncaught Python exception exits with 1).
    Failed { code: i32 },
    /// The wall-clock limit ran out and the process group was killed.
    TimedOut,
    /// The CPU-time limit ran out (SIGXCPU, or SIGKILL at the hard limit).
    CpuLimit,
    /// Ended by another signal.
    Killed { signal: i32 },
}

impl Status {
    /// Exit code 0: for a HumanEval program, every test assertion held.
    pub fn passed(&self) -> bool {
        *self == Status::Passed
    }
}

/// Whether the run was cut off from the network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum NetworkIsolation {
    /// A fresh network namespace: no interfaces but a loopback that is down.
    Namespace,
    /// The same, in a fresh user namespace (the host lacks CAP_SYS_ADMIN).
    UserNamespace,
    /// [`Limits::network`] asked for the network.
    Allowed,
    /// Isolation was asked for but the kernel refused it; the program had the host's network.
    None { reason: String },
}

/// Which user the program ran as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum UserIsolation {
    /// The host is root; the program ran as this unprivileged uid and gid.
    Dropped { uid: u32, gid: u32 },
    /// The program ran as the (unprivileged) host user.
    SameUser { uid: u32 },
}

/// What contained the program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Mechanism {
    /// bubblewrap: user, PID, mount, network, IPC, UTS and cgroup namespaces, private tmpfs
    /// mounts, no capabilities, a seccomp filter.
    Bubblewrap,
    /// The caller allowed running without it: rlimits and a process group only.
    Unisolated { reason: String },
}

/// What bounded the item's processes together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Resources {
    /// A cgroup of its own (v1 or v2) bounding total memory, processes and CPUs.
    Cgroup {
        version: u8,
        memory_bytes: u64,
        processes: u64,
        cpus: u64,
    },
    /// No cgroup could be made (why); the per-process rlimits bound each process.
    Rlimits { reason: String },
}

/// The containment a run actually got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Isolation {
    pub mechanism: Mechanism,
    pub network: NetworkIsolation,
    pub user: UserIsolation,
    pub resources: Resources,
    /// The seccomp filter was installed.
    pub seccomp: bool,
    /// The rlimits were applied (always, or the run fails to start).
    pub rlimits: bool,
    /// Descendants were reaped by the sandbox's own subreaper rather than left to init.
    pub reaper: bool,
}

/// The result of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub status: Status,
    pub stdout: String,
    pub stderr: String,
    /// stdout or stderr was longer than [`Limits::output_bytes`] and was cut.
    pub truncated: bool,
    pub wall: Duration,
    pub isolation: Isolation,
    /// The process group the program ran in; it no longer exists when `run` returns.
    pub process_group: i32,
    /// Why the temporary directory could not be removed, if it could not.
    pub cleanup_error: Option<String>,
}

/// Why a run could not happen. The program's own failures are [`Status`]es, not errors.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error(
        "could not prepare the sandbox directory: {0}; check that the temp dir ($TMPDIR) is writable"
    )]
    TempDir(#[source] std::io::Error),
    #[error(
        "file name {0:?} is not a plain name inside the sandbox directory; use a name without '/' or '..'"
    )]
    BadFileName(String),
    #[error(
        "could not start {program:?} in the sandbox: {source}; check that it is installed in {path}"
    )]
    Spawn {
        program: String,
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the sandbox supervisor failed: {0}")]
    Supervisor(String),
    #[error(
        "untrusted code was not run: no isolated sandbox is available ({reason}). Install \
         bubblewrap (scripts/system-deps) on a kernel with user namespaces, or allow unisolated \
         runs explicitly / 无可用的隔离沙箱，未运行不可信代码"
    )]
    Unavailable { reason: String },
}

/// Unprivileged uid and gid runs use when the host is root ("nobody" on Debian).
pub const NOBODY: (u32, u32) = (65534, 65534);

/// Runs programs under fixed [`Limits`].
#[derive(Debug, Clone)]
pub struct Sandbox {
    limits: Limits,
    path: String,
    run_as: (u32, u32),
    allow_unisolated: bool,
    unisolated_only: bool,
}

impl Sandbox {
    pub fn new(limits: Limits) -> Self {
        Sandbox {
            limits,
            path: "/usr/local/bin:/usr/bin:/bin".into(),
            run_as: NOBODY,
            allow_unisolated: false,
            unisolated_only: false,
        }
    }

    /// Always takes the unisolated path, without trying bubblewrap: what the benchmark compares
    /// the sandbox's cost against. Never for untrusted code.
    pub fn unisolated_only(mut self) -> Self {
        self.unisolated_only = true;
        self.allow_unisolated = true;
        self
    }

    /// Allows the unisolated path where bubblewrap cannot build the sandbox (default: refuse).
    /// Its outcomes say [`Mechanism::Unisolated`] and why.
    pub fn allow_unisolated(mut self, allow: bool) -> Self {
        self.allow_unisolated = allow;
        self
    }

    /// The `PATH` programs are looked up in and see (default `/usr/local/bin:/usr/bin:/bin`).
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// The uid and gid the unisolated path uses when the host is root (default [`NOBODY`]);
    /// the isolated path gives every item a uid of its own.
    pub fn with_run_as(mut self, uid: u32, gid: u32) -> Self {
        self.run_as = (uid, gid);
        self
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Runs `code` as `main.py` with `python3 -I -B` (isolated mode: no user site-packages, no
    /// PYTHON* variables, no bytecode files).
    pub fn run_python(&self, code: &str) -> Result<Outcome, SandboxError> {
        self.run(
            "python3",
            &["-I", "-B", "main.py"],
            &[("main.py", code.as_bytes())],
            b"",
        )
    }

    /// Runs `program args…` in a fresh directory holding `files` (plain names), with `stdin`.
    pub fn run(
        &self,
        program: &str,
        args: &[&str],
        files: &[(&str, &[u8])],
        stdin: &[u8],
    ) -> Result<Outcome, SandboxError> {
        for (name, _) in files {
            if name.is_empty() || name.contains('/') || *name == "." || *name == ".." {
                return Err(SandboxError::BadFileName((*name).to_string()));
            }
        }
        let refusal = match jail::bwrap_path() {
            _ if self.unisolated_only => "asked for the unisolated path".to_string(),
            Some(bwrap) => {
                match jail::run(
                    &bwrap,
                    &self.limits,
                    &self.path,
                    program,
                    args,
                    files,
                    stdin,
                ) {
                    Err(SandboxError::Unavailable { reason }) => reason,
                    other => return other,
                }
            }
            None => "bubblewrap (bwrap) is not installed".to_string(),
        };
        if !self.allow_unisolated {
            return Err(SandboxError::Unavailable { reason: refusal });
        }
        let mut outcome = self.run_unisolated(program, args, files, stdin)?;
        outcome.isolation.mechanism = Mechanism::Unisolated { reason: refusal };
        Ok(outcome)
    }

    /// The fallback: a fresh host directory, rlimits, a supervisor that kills the group.
    fn run_unisolated(
        &self,
        program: &str,
        args: &[&str],
        files: &[(&str, &[u8])],
        stdin: &[u8],
    ) -> Result<Outcome, SandboxError> {
        let dir = tempfile::Builder::new()
            .prefix("touchstone-sandbox-")
            .tempdir()
            .map_err(SandboxError::TempDir)?;
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        let drop_to = root.then_some(self.run_as);
        for (name, bytes) in files {
            if name.is_empty() || name.contains('/') || *name == "." || *name == ".." {
                return Err(SandboxError::BadFileName((*name).to_string()));
            }
            std::fs::write(dir.path().join(name), bytes).map_err(SandboxError::TempDir)?;
        }
        if let Some((uid, gid)) = drop_to {
            chown_tree(dir.path(), uid, gid).map_err(SandboxError::TempDir)?;
        }

        let result = self.spawn_and_wait(program, args, dir.path(), stdin, drop_to);
        // The group is dead by now, so nothing writes into the directory any more.
        let cleanup_error = dir.close().err().map(|e| e.to_string());
        let mut outcome = result?;
        outcome.cleanup_error = cleanup_error;
        Ok(outcome)
    }

    fn spawn_and_wait(
        &self,
        program: &str,
        args: &[&str],
        cwd: &Path,
        stdin: &[u8],
        drop_to: Option<(u32, u32)>,
    ) -> Result<Outcome, SandboxError> {
        let (status_read, status_write) = cloexec_pipe().map_err(|e| {
            SandboxError::Supervisor(format!("could not create the status pipe: {e}"))
        })?;
        let limits = &self.limits;
        let plan = ChildPlan {
            status_fd: status_write.as_raw_fd(),
            isolate_network: !limits.network,
            cpu_secs: limits.cpu_secs,
            memory_bytes: limits.memory_bytes,
            file_size_bytes: limits.file_size_bytes,
            // Items share the uid here (nobody, or the caller's): see `process_limit`.
            max_processes: jail::process_limit(
                // SAFETY: getuid has no preconditions.
                Some(drop_to.map_or_else(|| unsafe { libc::getuid() }, |(uid, _)| uid)),
                limits.max_processes,
            ),
            wall_nanos: u64::try_from(limits.wall.as_nanos()).unwrap_or(u64::MAX),
            drop_to,
        };
        let mut cmd = Command::new(program);
        cmd.args(args)
            .current_dir(cwd)
            .env_clear()
            .env("PATH", &self.path)
            .stdin(if stdin.is_empty() {
                Stdio::null()
            } else {
                Stdio::piped()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        // SAFETY: `child::enter` makes only async-signal-safe calls.
        unsafe { cmd.pre_exec(move || child::enter(&plan)) };
        let start = Instant::now();
        let mut proc = cmd.spawn().map_err(|source| SandboxError::Spawn {
            program: program.to_string(),
            path: self.path.clone(),
            source,
        })?;
        drop(status_write); // only the supervisor holds the write end now
        let mut status_read = std::fs::File::from(status_read);

        let cap = limits.output_bytes;
        let out = capture(proc.stdout.take(), cap);
        let err = capture(proc.stderr.take(), cap);
        if let Some(mut sin) = proc.stdin.take() {
            let data = stdin.to_vec();
            // A program that never reads its stdin must not block us; errors are its business.
            thread::spawn(move || {
                let _ = sin.write_all(&data);
            });
        }

        let (net, w) = read_record(&mut status_read).map_err(|e| {
            let _ = proc.kill();
            let _ = proc.wait();
            SandboxError::Supervisor(format!("no start record: {e}"))
        })?;
        let reaper = w > 0;
        let group = w.abs();

        // The supervisor enforces the wall clock; this is a backstop in case it cannot.
        let backstop = limits.wall + Duration::from_secs(10);
        loop {
            match proc.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if start.elapsed() > backstop => {
                    // SAFETY: signals only the sandbox's two process groups.
                    unsafe {
                        libc::kill(-group, libc::SIGKILL);
                        libc::kill(-(proc.id() as i32), libc::SIGKILL);
                    }
                    let _ = proc.wait();
                    break;
                }
                Ok(None) => thread::sleep(Duration::from_millis(5)),
                Err(e) => return Err(SandboxError::Supervisor(format!("waiting failed: {e}"))),
            }
        }
        let wall = start.elapsed();
        let (kind, value) = read_record(&mut status_read)
            .map_err(|e| SandboxError::Supervisor(format!("no final status: {e}")))?;
        let status = match kind {
            child::KIND_TIMED_OUT => Status::TimedOut,
            child::KIND_EXITED if value == 0 => Status::Passed,
            child::KIND_EXITED => Status::Failed { code: value },
            child::KIND_SIGNALED if value == libc::SIGXCPU => Status::CpuLimit,
            child::KIND_SIGNALED => Status::Killed { signal: value },
            other => {
                return Err(SandboxError::Supervisor(format!(
                    "unknown status kind {other}"
                )));
            }
        };
        // Output pipes close when the group is dead; one that outlived it (setsid) is not waited
        // for beyond a moment.
        let (stdout, t1) = out.finish(Duration::from_secs(1));
        let (stderr, t2) = err.finish(Duration::from_secs(1));

        let network = match net {
            child::NET_OK => NetworkIsolation::Namespace,
            child::NET_OK_USER_NS => NetworkIsolation::UserNamespace,
            child::NET_NOT_REQUESTED => NetworkIsolation::Allowed,
            errno => NetworkIsolation::None {
                reason: format!(
                    "unshare(CLONE_NEWNET) failed: {}",
                    std::io::Error::from_raw_os_error(errno)
                ),
            },
        };
        let user = match drop_to {
            Some((uid, gid)) => UserIsolation::Dropped { uid, gid },
            // SAFETY: getuid has no preconditions.
            None => UserIsolation::SameUser {
                uid: unsafe { libc::getuid() },
            },
        };
        Ok(Outcome {
            status,
            stdout,
            stderr,
            truncated: t1 || t2,
            wall,
            isolation: Isolation {
                mechanism: Mechanism::Unisolated {
                    reason: String::new(),
                },
                network,
                user,
                resources: Resources::Rlimits {
                    reason: "the unisolated path makes no cgroup".into(),
                },
                seccomp: false,
                rlimits: true,
                reaper,
            },
            process_group: group,
            cleanup_error: None,
        })
    }
}

pub(crate) fn cloexec_pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills the two-element array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: both fds are fresh and owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

fn read_record(r: &mut impl Read) -> std::io::Result<(i32, i32)> {
    let mut buf = [0u8; 8];
    r.read_exact(&mut buf)?;
    let a = i32::from_ne_bytes(buf[..4].try_into().expect("4 bytes"));
    let b = i32::from_ne_bytes(buf[4..].try_into().expect("4 bytes"));
    Ok((a, b))
}

fn chown_tree(dir: &Path, uid: u32, gid: u32) -> std::io::Result<()> {
    std::os::unix::fs::chown(dir, Some(uid), Some(gid))?;
    for entry in std::fs::read_dir(dir)? {
        std::os::unix::fs::chown(entry?.path(), Some(uid), Some(gid))?;
    }
    Ok(())
}

/// A pipe drained on its own thread, keeping the first `cap` bytes.
pub(crate) struct Capture {
    buf: Arc<Mutex<(Vec<u8>, bool)>>,
    done: Option<std::sync::mpsc::Receiver<()>>,
}

pub(crate) fn capture(pipe: Option<impl Read + Send + 'static>, cap: usize) -> Capture {
    let buf = Arc::new(Mutex::new((Vec::new(), false)));
    let Some(mut pipe) = pipe else {
        return Capture { buf, done: None };
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let shared = Arc::clone(&buf);
    thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        loop {
            match pipe.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let mut g = shared.lock().unwrap_or_else(|p| p.into_inner());
                    let room = cap.saturating_sub(g.0.len());
                    g.0.extend_from_slice(&chunk[..n.min(room)]);
                    g.1 |= n > room;
                }
            }
        }
        let _ = tx.send(());
    });
    Capture {
        buf,
        done: Some(rx),
    }
}

impl Capture {
    /// The text read so far (lossy UTF-8) and whether it was cut, after waiting up to `wait`.
    pub(crate) fn finish(self, wait: Duration) -> (String, bool) {
        if let Some(rx) = self.done {
            let _ = rx.recv_timeout(wait);
        }
        let g = self.buf.lock().unwrap_or_else(|p| p.into_inner());
        (String::from_utf8_lossy(&g.0).into_owned(), g.1)
    }
}
