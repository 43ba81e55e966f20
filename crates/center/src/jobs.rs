//! Workers: take a queued job, execute its run through the engine, record how it ended.
//!
//! A job is named by the id of the run it becomes. A worker holds a lease on the job that it
//! renews while the run executes; a worker that dies stops renewing, and another worker (on a
//! restarted center, or `touchstone worker`) takes the job again. If the run was already
//! created, it is resumed: the engine sends no request for an item it recorded. Where the dead
//! worker ran on this machine, its death is seen at once through `/proc` rather than when its
//! lease runs out.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use touchstone_core::ModelSpec;
use touchstone_engine::owner::{Liveness, liveness, now_ms, this_process};
use touchstone_store::RunStatus;

use crate::catalogue::RunRequest;
use crate::directory::{Job, JobStatus};
use crate::feed::RunFeed;
use crate::handlers::model_key;
use crate::{Center, blocking};

/// How long a job's lease lasts without renewal.
pub const JOB_LEASE: Duration = Duration::from_secs(30);
const RENEW_EVERY: Duration = Duration::from_secs(5);
/// How often an idle worker looks at the queue.
const POLL: Duration = Duration::from_millis(250);

/// One worker: takes jobs until `stop`, then leaves its job to be resumed by another.
pub async fn work(center: Arc<Center>, stop: CancellationToken) {
    let me = this_process();
    while !stop.is_cancelled() {
        let claimed = {
            let (c, me) = (center.clone(), me.clone());
            blocking(move || {
                release_dead_workers(&c);
                let now = now_ms();
                c.directory
                    .claim_job(&me, now, now + JOB_LEASE.as_millis() as i64)
            })
            .await
        };
        match claimed {
            Ok(Ok(Some(job))) => execute(&center, job, &me, &stop).await,
            Ok(Ok(None)) => {
                tokio::select! {
                    () = stop.cancelled() => break,
                    () = tokio::time::sleep(POLL) => {}
                }
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, "the job queue cannot be read");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            Err(e) => {
                tracing::error!(error = %e.message, "the job queue cannot be read");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    }
}

/// Ends the leases of running jobs whose worker process on this machine is gone.
fn release_dead_workers(center: &Center) {
    let Ok(running) = center.directory.running_workers() else {
        return;
    };
    for (run_id, worker) in running {
        if liveness(&worker) == Liveness::Gone {
            tracing::info!(run = %run_id, %worker, "the worker of this run is gone; taking it over");
            let _ = center.directory.expire_lease(&run_id, &worker);
        }
    }
}

async fn execute(center: &Arc<Center>, job: Job, me: &str, stop: &CancellationToken) {
    let run_id = job.run_id.clone();
    let cancel = CancellationToken::new();
    center
        .running
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(run_id.clone(), cancel.clone());
    if job.cancel_requested {
        cancel.cancel();
    }
    // Renew the lease; stop the run if the lease is lost or a cancel is asked for.
    let renewer = {
        let (c, id, me, cancel) = (
            center.clone(),
            run_id.clone(),
            me.to_string(),
            cancel.clone(),
        );
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(RENEW_EVERY).await;
                let (c2, id2, me2) = (c.clone(), id.clone(), me.clone());
                let renewed = blocking(move || {
                    c2.directory
                        .renew_job(&id2, &me2, now_ms() + JOB_LEASE.as_millis() as i64)
                })
                .await;
                match renewed {
                    Ok(Ok((true, false))) => {}
                    Ok(Ok((true, true))) => cancel.cancel(),
                    Ok(Ok((false, _))) => {
                        tracing::warn!(run = %id, "lost the lease on this job; stopping");
                        cancel.cancel();
                        return;
                    }
                    _ => {}
                }
            }
        })
    };
    let stopping = {
        let (stop, cancel) = (stop.clone(), cancel.clone());
        tokio::spawn(async move {
            stop.cancelled().await;
            cancel.cancel();
        })
    };
    let outcome = run(center, &job, cancel.clone()).await;
    renewer.abort();
    stopping.abort();
    center
        .running
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&run_id);
    let (status, error) = match outcome {
        Ok(RunStatus::Completed) => (JobStatus::Completed, None),
        Ok(RunStatus::Failed) => (JobStatus::Failed, Some("the run failed".to_string())),
        Ok(RunStatus::Running | RunStatus::Interrupted) => {
            if stop.is_cancelled() && !cancel_requested(center, &run_id).await {
                // The center is stopping: leave the job running with its lease, for the next
                // worker to resume.
                return;
            }
            (JobStatus::Cancelled, None)
        }
        Err(message) => (JobStatus::Failed, Some(message)),
    };
    let (c, id, worker) = (center.clone(), run_id.clone(), me.to_string());
    let finished = blocking(move || {
        c.directory.finish_job(
            &id,
            &worker,
            status,
            error.as_deref(),
            &touchstone_store::now_rfc3339(),
        )
    })
    .await;
    if !matches!(finished, Ok(Ok(true))) {
        tracing::warn!(run = %run_id, "the job was no longer this worker's when it ended");
    }
    let event = touchstone_audit::Event {
        actor: "worker".into(),
        role: "system".into(),
        organisation: Some(job.organisation.clone()),
        action: "RunFinished".into(),
        object: format!("run:{run_id}"),
        source: me.to_string(),
        outcome: status.as_str().into(),
    };
    center.audit(event).await;
}

async fn cancel_requested(center: &Arc<Center>, run_id: &str) -> bool {
    let (c, id) = (center.clone(), run_id.to_string());
    matches!(
        blocking(move || c.directory.job(&id)).await,
        Ok(Ok(Some(j))) if j.cancel_requested
    )
}

/// Starts or resumes the job's run; the run's status when the engine returns, or why it could
/// not run.
async fn run(
    center: &Arc<Center>,
    job: &Job,
    cancel: CancellationToken,
) -> Result<RunStatus, String> {
    let request: RunRequest = serde_json::from_value(job.request.clone())
        .map_err(|e| format!("the stored request cannot be read: {e}"))?;
    // The models and their keys, decrypted for this run only.
    let mut specs = Vec::new();
    let mut keys = HashMap::new();
    for id in &request.models {
        let (c, i) = (center.clone(), id.clone());
        let (model, key) = blocking(move || -> Result<_, String> {
            let model = c
                .directory
                .model(&i)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| {
                    format!("model {i} was removed; the run cannot use it / 模型已删除")
                })?;
            let key = model_key(&c, &i).map_err(|e| e.message)?;
            Ok((model, key))
        })
        .await
        .map_err(|e| e.message)??;
        let spec: ModelSpec = model.spec().parse().map_err(|e| format!("{e}"))?;
        if let Some(key) = key {
            keys.insert(spec.label(), key);
        }
        specs.push(spec);
    }
    let providers = (center.providers)(keys);
    let feed = RunFeed::new(center.clone(), &job.run_id);
    let store = center.store.clone();
    let id = job.run_id.clone();
    let exists = blocking(move || store.run(&id))
        .await
        .map_err(|e| e.message)?
        .map_err(|e| e.to_string())?
        .is_some();
    let outcome = if exists {
        touchstone_engine::resume(
            center.store.clone(),
            providers,
            std::path::PathBuf::new(),
            Some(&job.run_id),
            None,
            feed.clone(),
            cancel,
        )
        .await
    } else {
        let suite = {
            let (c, r) = (center.clone(), request.clone());
            blocking(move || crate::catalogue::load(&c, &r))
                .await
                .and_then(|loaded| loaded)
                .map_err(|e| e.message)?
        };
        let options = request.options();
        touchstone_engine::start_as(
            job.run_id.clone(),
            center.store.clone(),
            providers,
            suite,
            specs,
            options,
            feed.clone(),
            cancel,
        )
        .await
    };
    feed.flush();
    outcome.map(|o| o.status).map_err(|e| e.to_string())
}
