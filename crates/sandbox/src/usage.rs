//! What a finished child process cost: its own CPU time and peak memory, read by `wait4`.
//! Benchmarks use it to charge a command for what it did, not for what the machine did.

use std::process::Child;
use std::time::Duration;

/// A reaped child: whether it exited with status 0, its CPU time (user + system) and its peak
/// resident set size in KiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChildUsage {
    pub success: bool,
    pub cpu: Duration,
    pub max_rss_kib: i64,
}

/// Waits for `child` (reaping it, as `Child::wait` would) and returns what it used.
pub fn wait_with_usage(child: &Child) -> std::io::Result<ChildUsage> {
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    // SAFETY: wait4 writes only into the status and rusage we pass; the pid is our child's.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if r != pid {
        return Err(std::io::Error::last_os_error());
    }
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    Ok(ChildUsage {
        success: libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        cpu: tv(usage.ru_utime) + tv(usage.ru_stime),
        max_rss_kib: usage.ru_maxrss,
    })
}

/// Raises this process's soft limit on open files to its hard limit (a server holding a
/// thousand event streams needs more than the usual 1,024); the limit now in force.
pub fn raise_open_files_limit() -> std::io::Result<u64> {
    // SAFETY: an all-zero rlimit is a valid value of this plain C struct.
    let mut limit: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: getrlimit writes only into the struct we pass.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    if limit.rlim_cur < limit.rlim_max {
        limit.rlim_cur = limit.rlim_max;
        // SAFETY: setrlimit reads the struct we pass; raising the soft limit up to the hard
        // one needs no privilege.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(limit.rlim_cur)
}

/// Allocations at least this large are mapped on their own and unmapped when freed.
const OWN_MAPPING_FROM: usize = 4 << 20;

/// Makes large allocations go back to the system when freed. glibc raises its mmap threshold
/// after each large free, so that later large blocks (a 19 MiB argon2 working area per password
/// hash) are carved from per-thread heaps and stay resident: a server that checked a handful of
/// passwords on a few threads held 100+ MiB it no longer used. A fixed threshold turns that off.
/// Elsewhere than glibc nothing is changed. Returns whether the threshold was set.
pub fn return_large_allocations() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only sets allocator parameters; any threshold is a valid value.
        unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, OWN_MAPPING_FROM as libc::c_int) == 1 }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        let _ = OWN_MAPPING_FROM;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_allocations_are_returned_on_glibc() {
        assert_eq!(
            return_large_allocations(),
            cfg!(all(target_os = "linux", target_env = "gnu"))
        );
    }

    #[test]
    // wait_with_usage reaps the children with wait4, which clippy cannot see.
    #[allow(clippy::zombie_processes)]
    fn a_child_is_reaped_with_its_status() {
        let ok = std::process::Command::new("true").spawn().unwrap();
        assert!(wait_with_usage(&ok).unwrap().success);
        let bad = std::process::Command::new("false").spawn().unwrap();
        let used = wait_with_usage(&bad).unwrap();
        assert!(!used.success);
        assert!(used.max_rss_kib >= 0);
    }
}
