//! What runs between `fork` and `exec`. Only async-signal-safe calls: the host is multi-threaded,
//! so nothing here may allocate or take a lock.
//!
//! The forked child becomes a small supervisor (S): it enters a new network namespace, becomes a
//! child subreaper, and forks the workload (W), which puts itself in its own process group, sets
//! its rlimits, drops to the unprivileged user and returns to `Command` to exec the program. S
//! never execs: it waits for W, enforces the wall clock, kills W's whole group and reaps every
//! descendant (orphans come to S because it is a subreaper; without this they would stay zombies
//! under an init that does not reap, and zombies still count against RLIMIT_NPROC), then reports
//! over a pipe and exits.

use std::io;

/// Everything the child needs, copied in before the fork.
#[derive(Clone, Copy)]
pub(crate) struct ChildPlan {
    pub status_fd: libc::c_int,
    pub isolate_network: bool,
    pub cpu_secs: u64,
    pub memory_bytes: u64,
    pub file_size_bytes: u64,
    pub max_processes: u64,
    pub wall_nanos: u64,
    /// uid and gid to switch W to (when the host runs as root).
    pub drop_to: Option<(libc::uid_t, libc::gid_t)>,
}

// Record S writes first: network result and W's pid; then the final status.
pub(crate) const NET_OK: i32 = 0;
pub(crate) const NET_NOT_REQUESTED: i32 = -1;
pub(crate) const NET_OK_USER_NS: i32 = -2;
pub(crate) const KIND_EXITED: i32 = 1;
pub(crate) const KIND_SIGNALED: i32 = 2;
pub(crate) const KIND_TIMED_OUT: i32 = 3;

/// After W is gone, how long S keeps killing and reaping stragglers before it gives up.
const REAP_GRACE_NANOS: u64 = 2_000_000_000;
/// Poll interval of S's wait loop.
const POLL_NANOS: i64 = 2_000_000;

fn errno() -> i32 {
    io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EINVAL)
}

fn now_nanos() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn sleep_poll() {
    let ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: POLL_NANOS,
    };
    // SAFETY: plain syscall on a stack value.
    unsafe { libc::nanosleep(&ts, std::ptr::null_mut()) };
}

fn write_record(fd: libc::c_int, a: i32, b: i32) {
    let mut buf = [0u8; 8];
    buf[..4].copy_from_slice(&a.to_ne_bytes());
    buf[4..].copy_from_slice(&b.to_ne_bytes());
    // 8 bytes is below PIPE_BUF, so the write is atomic.
    // SAFETY: writes from a stack buffer to a fd S owns.
    unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) };
}

fn set_limit(resource: libc::__rlimit_resource_t, soft: u64, hard: u64) -> io::Result<()> {
    let lim = libc::rlimit {
        rlim_cur: soft as libc::rlim_t,
        rlim_max: hard as libc::rlim_t,
    };
    // SAFETY: setrlimit reads the struct we pass.
    if unsafe { libc::setrlimit(resource, &lim) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The `pre_exec` hook. Returns only in W (to exec the program); S exits from inside.
///
/// # Safety
/// Must be called only in the child of a fork, as `CommandExt::pre_exec` does.
pub(crate) unsafe fn enter(plan: &ChildPlan) -> io::Result<()> {
    let mut net = NET_NOT_REQUESTED;
    if plan.isolate_network {
        // SAFETY: unshare affects only this (single-threaded) child.
        net = if unsafe { libc::unshare(libc::CLONE_NEWNET) } == 0 {
            NET_OK
        } else {
            let first = errno();
            // Without CAP_SYS_ADMIN a user namespace may still grant one for the network.
            if unsafe { libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNET) } == 0 {
                NET_OK_USER_NS
            } else {
                first
            }
        };
    }
    // SAFETY: prctl on this process only.
    let reaper = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } == 0;
    // SAFETY: the child is single-threaded, so a second fork is as safe as the first.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid == 0 {
        return unsafe { workload(plan) };
    }
    unsafe { supervise(plan, pid, net, reaper) }
}

/// W: own process group, rlimits, unprivileged user. Returns to exec the program.
unsafe fn workload(plan: &ChildPlan) -> io::Result<()> {
    // Own group, so one kill(-pid) reaches every process the program starts.
    if unsafe { libc::setpgid(0, 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    set_limit(libc::RLIMIT_CORE, 0, 0)?;
    // The soft limit sends SIGXCPU; the hard one a second later SIGKILL, should it be caught.
    set_limit(
        libc::RLIMIT_CPU,
        plan.cpu_secs,
        plan.cpu_secs.saturating_add(1),
    )?;
    set_limit(libc::RLIMIT_AS, plan.memory_bytes, plan.memory_bytes)?;
    set_limit(
        libc::RLIMIT_FSIZE,
        plan.file_size_bytes,
        plan.file_size_bytes,
    )?;
    set_limit(libc::RLIMIT_NPROC, plan.max_processes, plan.max_processes)?;
    if let Some((uid, gid)) = plan.drop_to {
        // SAFETY: credential syscalls on this single-threaded child; order matters (groups and
        // gid need privilege, so they go before uid).
        unsafe {
            if libc::setgroups(0, std::ptr::null()) != 0
                || libc::setgid(gid) != 0
                || libc::setuid(uid) != 0
            {
                return Err(io::Error::last_os_error());
            }
        }
    }
    Ok(())
}

/// SIGKILLs every child of S listed in /proc/thread-self/children (S is single-threaded). A
/// child's pid cannot be reused before S reaps it, so no stranger is hit.
unsafe fn kill_children() {
    let path = c"/proc/thread-self/children";
    // SAFETY: open/read/close on a stack buffer.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return; // no CONFIG_PROC_CHILDREN: the group kill is all we have
    }
    let mut buf = [0u8; 4096];
    let mut pid: libc::pid_t = 0;
    loop {
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 {
            break;
        }
        // Space-separated decimal pids, possibly split across reads.
        for &b in &buf[..n as usize] {
            if b.is_ascii_digit() {
                pid = pid.saturating_mul(10).saturating_add(i32::from(b - b'0'));
            } else {
                if pid > 0 {
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
                pid = 0;
            }
        }
    }
    if pid > 0 {
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    unsafe { libc::close(fd) };
}

/// S: close inherited descriptors, wait for W under the wall clock, kill and reap the group,
/// report, exit. Never returns.
unsafe fn supervise(plan: &ChildPlan, w: libc::pid_t, net: i32, reaper: bool) -> ! {
    let fd = plan.status_fd;
    // Close everything but stdio and the status pipe: above all `Command`'s own exec-error pipe,
    // which would otherwise keep `spawn` waiting until S exits.
    unsafe {
        if fd > 3 {
            libc::syscall(libc::SYS_close_range, 3u32, (fd - 1) as u32, 0u32);
        }
        libc::syscall(libc::SYS_close_range, (fd + 1) as u32, u32::MAX, 0u32);
    }
    write_record(fd, net, if reaper { w } else { -w });

    let start = now_nanos();
    let mut timed_out = false;
    let mut result: Option<(i32, i32)> = None;
    while result.is_none() {
        let mut st = 0;
        // SAFETY: waitpid writes the status into our local.
        let r = unsafe { libc::waitpid(-1, &mut st, libc::WNOHANG) };
        if r == w {
            result = Some(if libc::WIFSIGNALED(st) {
                (KIND_SIGNALED, libc::WTERMSIG(st))
            } else {
                (KIND_EXITED, libc::WEXITSTATUS(st))
            });
        } else if r > 0 {
            continue; // an orphan reaped; look again at once
        } else if r < 0 && errno() != libc::EINTR {
            result = Some((KIND_EXITED, 255)); // cannot happen: W is our child
        } else {
            if !timed_out && now_nanos().saturating_sub(start) > plan.wall_nanos {
                timed_out = true;
                // SAFETY: signals W's process group only.
                unsafe { libc::kill(-w, libc::SIGKILL) };
            }
            sleep_poll();
        }
    }
    // W is gone; anything it left behind in its group dies too, and S reaps it all.
    let grace_end = now_nanos() + REAP_GRACE_NANOS;
    loop {
        unsafe { libc::kill(-w, libc::SIGKILL) };
        // Descendants that left the group (setsid) were reparented to S; kill them by pid.
        unsafe { kill_children() };
        let mut st = 0;
        let r = unsafe { libc::waitpid(-1, &mut st, libc::WNOHANG) };
        if r > 0 {
            continue;
        }
        if r < 0 && errno() != libc::EINTR {
            break; // ECHILD: nothing left
        }
        if now_nanos() > grace_end {
            break; // should not happen: every child was killed; leave the rest to init
        }
        sleep_poll();
    }
    let (kind, value) = result.unwrap_or((KIND_EXITED, 255));
    if timed_out {
        write_record(fd, KIND_TIMED_OUT, value);
    } else {
        write_record(fd, kind, value);
    }
    unsafe { libc::_exit(0) }
}
