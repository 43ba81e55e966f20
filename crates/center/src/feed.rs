//! Live progress of runs: the events a worker writes as its run goes (`planned`, `progress`
//! with rate and ETA, `task` when a task's last item is recorded, `done` with the job's end) and
//! their fan-out to Server-Sent Events subscribers.
//!
//! Events are rows of `center_events`, numbered densely per run, so that any center process
//! serves them (the worker may be `touchstone worker` elsewhere), a reconnecting client resumes
//! after its `Last-Event-ID` exactly, and a restart loses none. `done` is written in the same
//! transaction that ends the job. In a server process one poller per watched run reads the new
//! rows and wakes every subscriber: a thousand subscribers cost one query per poll.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::Stream;
use serde_json::json;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use touchstone_core::ItemStatus;
use touchstone_engine::Events;

use crate::directory::{Directory, FeedEvent};
use crate::{Center, blocking};

/// Progress events are written at most this often per run.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);
/// How often a watched run's new events are read.
const POLL: Duration = Duration::from_millis(200);
/// A comment line this often keeps proxies from closing a quiet stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The engine's events for one run, written as feed rows.
pub struct RunFeed {
    center: Arc<Center>,
    run_id: String,
    state: Mutex<FeedState>,
}

#[derive(Default)]
struct FeedState {
    /// Per task: (name, planned, scored, failed), in the suite's order.
    tasks: Vec<(String, u64, u64, u64)>,
    planned: u64,
    /// Recorded when this execution began (a resumed run starts above zero).
    at_start: u64,
    scored: u64,
    failed: u64,
    began: Option<Instant>,
    last_progress: Option<Instant>,
}

impl FeedState {
    fn done(&self) -> u64 {
        self.scored + self.failed
    }

    fn progress(&self) -> serde_json::Value {
        let elapsed = self.began.map_or(0.0, |b| b.elapsed().as_secs_f64());
        let this_run = self.done().saturating_sub(self.at_start) as f64;
        let rate = if elapsed > 0.0 {
            this_run / elapsed
        } else {
            0.0
        };
        let remaining = self.planned.saturating_sub(self.done());
        let eta = (rate > 0.0).then(|| (remaining as f64 / rate).round() as u64);
        json!({
            "done": self.done(),
            "planned": self.planned,
            "scored": self.scored,
            "failed": self.failed,
            "rate_per_s": (rate * 10.0).round() / 10.0,
            "eta_s": eta,
        })
    }
}

impl RunFeed {
    pub fn new(center: Arc<Center>, run_id: &str) -> Arc<RunFeed> {
        Arc::new(RunFeed {
            center,
            run_id: run_id.to_string(),
            state: Mutex::new(FeedState::default()),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, FeedState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self, kind: &str, data: serde_json::Value) {
        if let Err(e) = self
            .center
            .directory
            .append_event(&self.run_id, kind, &data.to_string())
        {
            // Progress is a view; the run itself is unaffected when it cannot be written.
            tracing::warn!(run = %self.run_id, error = %e, "a progress event could not be written");
        }
    }

    /// The last progress of this execution, written when the engine returns.
    pub fn flush(&self) {
        let progress = {
            let mut s = self.state();
            if s.began.is_none() {
                return;
            }
            s.last_progress = Some(Instant::now());
            s.progress()
        };
        self.write("progress", progress);
    }
}

impl Events for RunFeed {
    fn tasks_planned(&self, run_id: &str, tasks: &[(String, u64)]) {
        // Items recorded before this execution (a resumed run), per task.
        let recorded = self.center.store.task_counts(run_id).unwrap_or_default();
        let mut s = self.state();
        s.tasks = tasks
            .iter()
            .map(|(task, planned)| {
                let c = recorded.get(task).copied().unwrap_or_default();
                (task.clone(), *planned, c.scored, c.failed)
            })
            .collect();
        s.scored = s.tasks.iter().map(|t| t.2).sum();
        s.failed = s.tasks.iter().map(|t| t.3).sum();
    }

    fn started(&self, _run_id: &str, planned: u64, recorded: u64) {
        let data = {
            let mut s = self.state();
            s.planned = planned;
            s.at_start = recorded;
            s.began = Some(Instant::now());
            let tasks: Vec<_> = s
                .tasks
                .iter()
                .map(|(task, planned, scored, failed)| {
                    json!({"task": task, "planned": planned, "recorded": scored + failed})
                })
                .collect();
            json!({"planned": planned, "recorded": recorded, "tasks": tasks})
        };
        self.write("planned", data);
    }

    fn task_item_finished(&self, task: &str, status: ItemStatus) {
        let (task_done, progress) = {
            let mut s = self.state();
            let failed = status == ItemStatus::Failed;
            if failed {
                s.failed += 1;
            } else {
                s.scored += 1;
            }
            let task_done = s.tasks.iter_mut().find(|t| t.0 == task).and_then(|t| {
                if failed {
                    t.3 += 1;
                } else {
                    t.2 += 1;
                }
                (t.2 + t.3 == t.1)
                    .then(|| json!({"task": t.0, "planned": t.1, "scored": t.2, "failed": t.3}))
            });
            let due = s
                .last_progress
                .is_none_or(|at| at.elapsed() >= PROGRESS_EVERY);
            let progress = due.then(|| {
                s.last_progress = Some(Instant::now());
                s.progress()
            });
            (task_done, progress)
        };
        if let Some(p) = progress {
            self.write("progress", p);
        }
        if let Some(t) = task_done {
            self.write("task", t);
        }
    }
}

/// One SSE frame: `id`, `event` and the JSON data on one line.
fn frame(e: &FeedEvent) -> Bytes {
    Bytes::from(format!(
        "id: {}\nevent: {}\ndata: {}\n\n",
        e.seq, e.kind, e.data
    ))
}

/// The events of one watched run, shared by its subscribers in this process.
struct Channel {
    /// Frames in order: `frames[i]` is the event numbered `i + 1`.
    frames: RwLock<Vec<Bytes>>,
    /// The number of frames, for subscribers to wait on.
    count: watch::Sender<usize>,
    /// Set once the `done` event is among the frames: nothing follows it.
    finished: std::sync::atomic::AtomicBool,
}

/// Watched runs of this server process.
pub struct Hub {
    channels: Mutex<HashMap<String, Weak<Channel>>>,
    /// Cancelled when the server stops: open streams end so that shutdown does not wait on
    /// them.
    pub closing: CancellationToken,
}

impl Default for Hub {
    fn default() -> Self {
        Hub {
            channels: Mutex::new(HashMap::new()),
            closing: CancellationToken::new(),
        }
    }
}

/// A subscriber's stream of SSE bytes.
pub type EventStream = Pin<Box<dyn Stream<Item = Bytes> + Send>>;

impl Hub {
    /// The events of `run_id` numbered above `after`, then each new one as it is written, until
    /// `done` or the server stops.
    pub fn subscribe(&self, directory: &Arc<Directory>, run_id: &str, after: u64) -> EventStream {
        let channel = self.channel(directory, run_id);
        let closing = self.closing.clone();
        let state = (channel, after as usize, closing);
        Box::pin(futures::stream::unfold(
            state,
            |(channel, next, closing)| async move {
                let mut count = channel.count.subscribe();
                loop {
                    let frame = channel
                        .frames
                        .read()
                        .unwrap_or_else(|p| p.into_inner())
                        .get(next)
                        .cloned();
                    if let Some(f) = frame {
                        return Some((f, (channel, next + 1, closing)));
                    }
                    if channel.finished.load(std::sync::atomic::Ordering::Acquire) {
                        return None;
                    }
                    tokio::select! {
                        () = closing.cancelled() => return None,
                        changed = count.changed() => if changed.is_err() { return None },
                        () = tokio::time::sleep(KEEP_ALIVE) => {
                            return Some((Bytes::from_static(b": keep-alive\n\n"), (channel, next, closing)));
                        }
                    }
                }
            },
        ))
    }

    fn channel(&self, directory: &Arc<Directory>, run_id: &str) -> Arc<Channel> {
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        channels.retain(|_, c| c.strong_count() > 0);
        if let Some(c) = channels.get(run_id).and_then(Weak::upgrade) {
            return c;
        }
        let channel = Arc::new(Channel {
            frames: RwLock::new(Vec::new()),
            count: watch::channel(0).0,
            finished: std::sync::atomic::AtomicBool::new(false),
        });
        channels.insert(run_id.to_string(), Arc::downgrade(&channel));
        tokio::spawn(poll(
            Arc::downgrade(&channel),
            directory.clone(),
            run_id.to_string(),
            self.closing.clone(),
        ));
        channel
    }
}

/// Reads the run's new events into its channel while anyone subscribes.
async fn poll(
    channel: Weak<Channel>,
    directory: Arc<Directory>,
    run_id: String,
    closing: CancellationToken,
) {
    let mut seen = 0u64;
    loop {
        if channel.strong_count() == 0 || closing.is_cancelled() {
            return;
        }
        let (d, id) = (directory.clone(), run_id.clone());
        let read = blocking(move || d.events_after(&id, seen, 10_000)).await;
        let events = match read {
            Ok(Ok(events)) => events,
            Ok(Err(e)) => {
                tracing::warn!(run = %run_id, error = %e, "run events cannot be read");
                Vec::new()
            }
            Err(e) => {
                tracing::warn!(run = %run_id, error = %e.message, "run events cannot be read");
                Vec::new()
            }
        };
        let Some(channel) = channel.upgrade() else {
            return;
        };
        if !events.is_empty() {
            let done = events.iter().any(|e| e.kind == "done");
            seen = events.last().map_or(seen, |e| e.seq);
            let count = {
                let mut frames = channel.frames.write().unwrap_or_else(|p| p.into_inner());
                frames.extend(events.iter().map(frame));
                frames.len()
            };
            if done {
                channel
                    .finished
                    .store(true, std::sync::atomic::Ordering::Release);
            }
            channel.count.send_replace(count);
            if done {
                return;
            }
        }
        drop(channel);
        tokio::select! {
            () = closing.cancelled() => return,
            () = tokio::time::sleep(POLL) => {}
        }
    }
}
