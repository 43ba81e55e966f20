//! A cgroup per item: it bounds the item's total memory (tmpfs pages included), its number of
//! processes and its CPU, across every process the item starts. The sandboxed process joins it
//! before it executes bubblewrap, so everything it starts is inside from the first instruction.
//!
//! cgroup v2 where the host delegates the memory and pids controllers to us, else the v1
//! hierarchies (`memory`, `pids`, `cpu`) a root host mounts; where neither is writable (an
//! ordinary user without delegation), there is none and the per-process rlimits remain: the
//! outcome says which.

use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

static NEXT: AtomicU64 = AtomicU64::new(0);

/// CPU period for the quota, in microseconds.
const PERIOD_US: u64 = 100_000;

/// The bounds of one item's cgroup.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds {
    pub memory_bytes: u64,
    pub processes: u64,
    /// CPUs the item may use at once.
    pub cpus: u64,
}

/// An item's cgroup: one directory (v2) or one per controller (v1).
#[derive(Debug)]
pub(crate) struct Cgroup {
    pub version: u8,
    dirs: Vec<PathBuf>,
    /// The `cgroup.procs` files the child writes its pid into, prepared before the fork.
    pub join: Vec<CString>,
}

impl Cgroup {
    /// A fresh cgroup with `bounds`, or why there is none.
    pub fn create(bounds: Bounds) -> Result<Cgroup, String> {
        let own = std::fs::read_to_string("/proc/self/cgroup")
            .map_err(|e| format!("cannot read /proc/self/cgroup: {e}"))?;
        let name = format!(
            "touchstone-sandbox-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        match v2(&own, &name, bounds) {
            Ok(cg) => Ok(cg),
            Err(v2_reason) => {
                v1(&own, &name, bounds).map_err(|v1_reason| format!("{v2_reason}; {v1_reason}"))
            }
        }
    }

    /// Kills whatever is still inside (nothing, normally: the PID namespace died with its
    /// init) and removes the cgroup.
    pub fn remove(self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(5);
        for dir in &self.dirs {
            if self.version == 2 {
                let _ = std::fs::write(dir.join("cgroup.kill"), "1");
            }
            loop {
                let pids = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
                let pids: Vec<i32> = pids.lines().filter_map(|l| l.trim().parse().ok()).collect();
                for pid in &pids {
                    // SAFETY: kill has no memory-safety preconditions; these pids are members
                    // of the item's own cgroup.
                    unsafe { libc::kill(*pid, libc::SIGKILL) };
                }
                match std::fs::remove_dir(dir) {
                    Ok(()) => break,
                    Err(e) if Instant::now() > deadline => {
                        return Err(format!("cannot remove cgroup {}: {e}", dir.display()));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        }
        Ok(())
    }
}

fn c_path(p: &Path) -> Result<CString, String> {
    CString::new(p.as_os_str().as_encoded_bytes())
        .map_err(|_| format!("cgroup path {} contains NUL", p.display()))
}

fn write(dir: &Path, file: &str, value: &str) -> Result<(), String> {
    std::fs::write(dir.join(file), value)
        .map_err(|e| format!("cannot write {}: {e}", dir.join(file).display()))
}

fn v2(own: &str, name: &str, b: Bounds) -> Result<Cgroup, String> {
    let root = Path::new("/sys/fs/cgroup");
    let controllers = std::fs::read_to_string(root.join("cgroup.controllers"))
        .map_err(|_| "no cgroup v2 hierarchy at /sys/fs/cgroup".to_string())?;
    if !controllers.split_whitespace().any(|c| c == "memory")
        || !controllers.split_whitespace().any(|c| c == "pids")
    {
        return Err("cgroup v2 lacks the memory or pids controller".into());
    }
    let path = own
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .ok_or("this process is in no cgroup v2")?;
    let parent = root.join(path.trim_start_matches('/'));
    // Our own cgroup must hand memory and pids to its children (a delegated subtree does).
    let enabled =
        std::fs::read_to_string(parent.join("cgroup.subtree_control")).unwrap_or_default();
    if !(enabled.contains("memory") && enabled.contains("pids")) {
        write(&parent, "cgroup.subtree_control", "+memory +pids +cpu")
            .map_err(|e| format!("cgroup v2 not delegated ({e})"))?;
    }
    let dir = parent.join(name);
    std::fs::create_dir(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let cg = Cgroup {
        version: 2,
        join: vec![c_path(&dir.join("cgroup.procs"))?],
        dirs: vec![dir.clone()],
    };
    let limits = write(&dir, "memory.max", &b.memory_bytes.to_string())
        .and_then(|()| write(&dir, "memory.swap.max", "0").or(Ok(())))
        .and_then(|()| write(&dir, "pids.max", &b.processes.to_string()))
        .and_then(|()| {
            write(
                &dir,
                "cpu.max",
                &format!("{} {PERIOD_US}", b.cpus * PERIOD_US),
            )
            .or(Ok(()))
        });
    if let Err(e) = limits {
        let _ = cg.remove();
        return Err(e);
    }
    Ok(cg)
}

/// The mount point of the v1 hierarchy that has `controller`, from /proc/self/mountinfo.
fn v1_mount(controller: &str) -> Option<PathBuf> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    info.lines().find_map(|line| {
        let (mount, rest) = line.split_once(" - ")?;
        let mut fs = rest.split_whitespace();
        let is_cgroup = fs.next()? == "cgroup";
        let has_controller = fs.nth(1)?.split(',').any(|option| option == controller);
        let mount_point = mount.split_whitespace().nth(4)?;
        (is_cgroup && has_controller).then(|| PathBuf::from(mount_point))
    })
}

fn v1(own: &str, name: &str, b: Bounds) -> Result<Cgroup, String> {
    let mut cg = Cgroup {
        version: 1,
        dirs: Vec::new(),
        join: Vec::new(),
    };
    let result = (|| {
        for controller in ["memory", "pids", "cpu"] {
            let mount = v1_mount(controller)
                .ok_or_else(|| format!("no cgroup v1 `{controller}` hierarchy"))?;
            let path = own
                .lines()
                .find_map(|l| {
                    let mut parts = l.splitn(3, ':');
                    let (_, list, path) = (parts.next()?, parts.next()?, parts.next()?);
                    list.split(',').any(|c| c == controller).then_some(path)
                })
                .ok_or_else(|| format!("this process is in no `{controller}` cgroup"))?;
            let dir = mount.join(path.trim_start_matches('/')).join(name);
            std::fs::create_dir(&dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            cg.dirs.push(dir.clone());
            match controller {
                "memory" => {
                    write(&dir, "memory.limit_in_bytes", &b.memory_bytes.to_string())?;
                    // Swap counts too where the kernel accounts it.
                    let _ = write(
                        &dir,
                        "memory.memsw.limit_in_bytes",
                        &b.memory_bytes.to_string(),
                    );
                }
                "pids" => write(&dir, "pids.max", &b.processes.to_string())?,
                _ => {
                    write(&dir, "cpu.cfs_period_us", &PERIOD_US.to_string())?;
                    write(&dir, "cpu.cfs_quota_us", &(b.cpus * PERIOD_US).to_string())?;
                }
            }
            cg.join.push(c_path(&dir.join("cgroup.procs"))?);
        }
        Ok(())
    })();
    match result {
        Ok(()) => Ok(cg),
        Err(e) => {
            let _ = cg.remove();
            Err(e)
        }
    }
}
