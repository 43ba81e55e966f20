//! Which process executes a run, so that a `running` run whose process is gone reads as
//! stopped, and a run is not resumed while its process still executes it.
//!
//! An owner is `host/boot/pid/start`: the host name, the kernel's boot id, the process id and
//! the process's start time (clock ticks after boot), so that a pid reused after the owner
//! ended, or after a reboot, is not taken for it. Liveness is read from `/proc`; where there is
//! none (not Linux) or the owner is on another host, it is unknown and nothing is blocked.

use std::fs;
use std::sync::Arc;

use touchstone_store::{RunRecord, RunStatus, Store, StoreError};

/// This process recorded as executing a run, until the claim is dropped (however the run
/// ends short of a kill, which is what [`stopped_without_finishing`] then tells).
pub(crate) struct Claim {
    store: Arc<dyn Store>,
    run_id: String,
}

impl Claim {
    pub(crate) fn new(store: Arc<dyn Store>, run_id: &str) -> Result<Claim, StoreError> {
        if let Some(me) = this_process() {
            store.set_run_owner(run_id, Some(&me))?;
        }
        Ok(Claim {
            store,
            run_id: run_id.to_string(),
        })
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        let _ = self.store.set_run_owner(&self.run_id, None);
    }
}

/// The pid of another live process on this machine that executes `run_id`, if there is one.
pub(crate) fn executed_elsewhere(
    store: &dyn Store,
    run_id: &str,
) -> Result<Option<String>, StoreError> {
    Ok(store.run_owner(run_id)?.and_then(|o| {
        (Some(&o) != this_process().as_ref() && liveness(&o) == Liveness::Alive)
            .then(|| o.split('/').nth(2).unwrap_or("?").to_string())
    }))
}

/// Whether a run recorded as `running` was stopped without finishing: the process that
/// executed it has ended (killed, or the machine restarted). `--resume` continues it.
pub fn stopped_without_finishing(store: &dyn Store, run: &RunRecord) -> bool {
    run.status == RunStatus::Running
        && store
            .run_owner(&run.id)
            .ok()
            .flatten()
            .is_some_and(|o| liveness(&o) == Liveness::Gone)
}

/// What can be said of a recorded owner from here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    /// This process, or another live process on this machine.
    Alive,
    /// The process has ended (or the machine was restarted since).
    Gone,
    /// Another host, or no `/proc` to look at.
    Unknown,
}

fn read_trimmed(path: &str) -> Option<String> {
    fs::read_to_string(path).ok().map(|s| s.trim().to_string())
}

/// A process's start time from its `/proc/PID/stat` (field 22; the command name in field 2
/// may hold spaces and parentheses, so fields are counted after its closing parenthesis).
fn start_time(pid: &str) -> Option<String> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(19).map(str::to_string)
}

/// This process as an owner, or `None` where `/proc` cannot say who it is.
pub fn this_process() -> Option<String> {
    let pid = std::process::id().to_string();
    Some(format!(
        "{}/{}/{pid}/{}",
        read_trimmed("/proc/sys/kernel/hostname")?,
        read_trimmed("/proc/sys/kernel/random/boot_id")?,
        start_time(&pid)?
    ))
}

/// Whether the process `owner` names still runs.
pub fn liveness(owner: &str) -> Liveness {
    let parts: Vec<&str> = owner.split('/').collect();
    let [host, boot, pid, start] = parts[..] else {
        return Liveness::Unknown;
    };
    if read_trimmed("/proc/sys/kernel/hostname").as_deref() != Some(host) {
        return Liveness::Unknown;
    }
    match read_trimmed("/proc/sys/kernel/random/boot_id") {
        None => return Liveness::Unknown,
        Some(b) if b != boot => return Liveness::Gone,
        Some(_) => {}
    }
    if start_time(pid).as_deref() == Some(start) {
        Liveness::Alive
    } else {
        Liveness::Gone
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_an_ended_one_is_gone() {
        let Some(me) = this_process() else {
            return; // no /proc here: nothing to check
        };
        assert_eq!(liveness(&me), Liveness::Alive);
        // The same pid with another start time: a reused pid, not the owner.
        let mut parts: Vec<&str> = me.split('/').collect();
        parts[3] = "1";
        assert_eq!(liveness(&parts.join("/")), Liveness::Gone);
        // A child that has exited and been reaped.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id().to_string();
        child.wait().unwrap();
        let mut parts: Vec<&str> = me.split('/').collect();
        parts[2] = &pid;
        assert_eq!(liveness(&parts.join("/")), Liveness::Gone);
        assert_eq!(liveness("other-host/b/1/2"), Liveness::Unknown);
        assert_eq!(liveness("garbage"), Liveness::Unknown);
    }
}
