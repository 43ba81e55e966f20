//! Which process executes a run: a lease in the store that the executing process renews while
//! it lives, so that workers on any machine can tell a live owner (lease in the future) from one
//! that stopped (lease expired), a run is not executed twice at once, and a `running` run whose
//! process is gone reads as stopped.
//!
//! An owner is `host/boot/pid/start`: the host name, the kernel's boot id, the process id and
//! the process's start time (clock ticks after boot), so that a pid reused after the owner
//! ended, or after a reboot, is not taken for it. On the owner's own machine its death is seen
//! at once through `/proc`, without waiting for the lease to run out.

use std::fs;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio_util::sync::CancellationToken;
use touchstone_store::{LeaseClaim, RunLease, RunRecord, RunStatus, Store};

use crate::{EngineError, blocking};

/// How long a lease lasts without renewal: long against clock skew between workers and a
/// slow store, short enough that a run whose worker died is free again within a minute.
pub const LEASE: Duration = Duration::from_secs(60);
/// How often the owner renews: three chances before the lease ends.
const RENEW_EVERY: Duration = Duration::from_secs(20);

/// Milliseconds since the Unix epoch, as leases count time.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// This process holding the lease on a run, renewed in the background until released (or
/// dropped, however the run ends short of a kill, which the lease's expiry then tells).
pub(crate) struct Claim {
    store: Arc<dyn Store>,
    run_id: String,
    owner: String,
    renewer: tokio::task::JoinHandle<()>,
}

impl Claim {
    /// Takes the lease on `run_id`, or says who holds it. A holder on this machine whose
    /// process has ended is replaced at once. Should the lease be lost later (renewal failed
    /// for longer than the lease, and another worker took the run), `cancel` stops this
    /// execution, so that no item is sent by two workers.
    pub(crate) async fn take(
        store: Arc<dyn Store>,
        run_id: &str,
        cancel: CancellationToken,
    ) -> Result<Claim, EngineError> {
        let owner = this_process();
        let (id, me) = (run_id.to_string(), owner.clone());
        let claim = blocking(&store, move |s| {
            let now = now_ms();
            let dead = s
                .run_lease(&id)?
                .filter(|l| liveness(&l.owner) == Liveness::Gone)
                .map(|l| l.owner);
            s.claim_run(
                &id,
                &me,
                now,
                now + LEASE.as_millis() as i64,
                dead.as_deref(),
            )
        })
        .await?;
        if let LeaseClaim::HeldBy(lease) = claim {
            return Err(EngineError::RunInUse {
                run: run_id.to_string(),
                owner: describe(&lease),
            });
        }
        let renewer = tokio::spawn(renew(
            store.clone(),
            run_id.to_string(),
            owner.clone(),
            cancel,
        ));
        Ok(Claim {
            store,
            run_id: run_id.to_string(),
            owner,
            renewer,
        })
    }

    /// Gives the lease up: the run is free for another worker at once.
    pub(crate) async fn release(self) {
        self.renewer.abort();
        let (id, owner) = (self.run_id.clone(), self.owner.clone());
        if let Err(e) = blocking(&self.store, move |s| s.release_run(&id, &owner)).await {
            tracing::warn!("releasing run {}: {e}", self.run_id);
        }
        // Released: nothing left for Drop to do.
        std::mem::forget(self);
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        // An early return or a panic: stop renewing and give the lease up without waiting.
        self.renewer.abort();
        let (store, id, owner) = (self.store.clone(), self.run_id.clone(), self.owner.clone());
        let release = move || {
            let _ = store.release_run(&id, &owner);
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => drop(handle.spawn_blocking(release)),
            Err(_) => release(),
        }
    }
}

/// Renews the lease every [`RENEW_EVERY`] until aborted. A store error is retried at the next
/// tick (the lease outlasts two failures); a lease found in other hands cancels the run.
async fn renew(store: Arc<dyn Store>, run_id: String, owner: String, cancel: CancellationToken) {
    let mut tick = tokio::time::interval(RENEW_EVERY);
    tick.tick().await; // the first tick is immediate: the lease was just taken
    loop {
        tick.tick().await;
        let (id, me) = (run_id.clone(), owner.clone());
        let renewed = blocking(&store, move |s| {
            let now = now_ms();
            s.claim_run(&id, &me, now, now + LEASE.as_millis() as i64, None)
        })
        .await;
        match renewed {
            Ok(LeaseClaim::Granted) => {}
            Ok(LeaseClaim::HeldBy(lease)) => {
                tracing::error!(
                    "run {run_id}: the lease was lost to {} while renewing failed; stopping so \
                     that no item is sent twice",
                    describe(&lease)
                );
                cancel.cancel();
                return;
            }
            Err(e) => tracing::warn!("run {run_id}: renewing the lease failed: {e}"),
        }
    }
}

/// A lease holder for a person: the process and host, and until when it holds the run.
fn describe(lease: &RunLease) -> String {
    let parts: Vec<&str> = lease.owner.split('/').collect();
    let who = match parts[..] {
        [host, _, pid, _] => format!("process {pid} on {host}"),
        _ => lease.owner.clone(),
    };
    let left = (lease.expires_at_ms - now_ms()).max(0) / 1000;
    format!("{who} (its lease runs {left} s more unless renewed)")
}

/// Whether a run recorded as `running` was stopped without finishing: the process that
/// executed it has ended (killed, or the machine restarted), or stopped renewing its lease.
/// `--resume` continues it.
pub fn stopped_without_finishing(store: &dyn Store, run: &RunRecord) -> bool {
    run.status == RunStatus::Running
        && store
            .run_lease(&run.id)
            .ok()
            .flatten()
            .is_some_and(|l| liveness(&l.owner) == Liveness::Gone || l.expired(now_ms()))
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

/// This process as an owner. Where `/proc` cannot say who it is, a name that is unique all
/// the same (a random boot id) but whose liveness is unknown: only its lease tells.
pub fn this_process() -> String {
    let pid = std::process::id().to_string();
    let proc_name = || {
        Some(format!(
            "{}/{}/{pid}/{}",
            read_trimmed("/proc/sys/kernel/hostname")?,
            read_trimmed("/proc/sys/kernel/random/boot_id")?,
            start_time(&pid)?
        ))
    };
    proc_name().unwrap_or_else(|| {
        let nonce: u64 = rand_nonce();
        format!("unknown-host/{nonce:016x}/{pid}/0")
    })
}

/// A value unlikely to repeat between processes, without a random-number dependency: the
/// clock's nanoseconds mixed with the pid through the standard library's hasher.
fn rand_nonce() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.write_u32(std::process::id());
    h.finish()
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
        if !std::path::Path::new("/proc/self/stat").exists() {
            return; // no /proc here: nothing to check
        }
        let me = this_process();
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
