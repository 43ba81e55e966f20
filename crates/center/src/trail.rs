//! Writing the center's audit events with group commit: requests hand their event to one
//! writer thread, which appends everything waiting in one transaction and then answers each
//! request. A request is still answered only once its event is stored, but a thousand
//! concurrent reads cost a few transactions rather than a thousand.

use std::sync::Arc;
use std::sync::mpsc;

use tokio::sync::oneshot;
use touchstone_audit::Event;
use touchstone_store::Store;

/// Events appended in one transaction, at most.
const MAX_BATCH: usize = 1024;

type Pending = (Event, oneshot::Sender<Result<(), String>>);

pub(crate) struct Trail {
    queue: mpsc::Sender<Pending>,
}

impl Trail {
    /// Starts the writer thread; it ends when the trail is dropped.
    pub fn start(store: Arc<dyn Store>) -> std::io::Result<Trail> {
        let (queue, waiting) = mpsc::channel::<Pending>();
        std::thread::Builder::new()
            .name("touchstone-audit".into())
            .spawn(move || write(store.as_ref(), &waiting))?;
        Ok(Trail { queue })
    }

    /// Appends `event`; returns once it is stored (or why it was not).
    pub async fn append(&self, event: Event) -> Result<(), String> {
        let (done, stored) = oneshot::channel();
        self.queue
            .send((event, done))
            .map_err(|_| "the audit writer has stopped".to_string())?;
        stored
            .await
            .map_err(|_| "the audit writer has stopped".to_string())?
    }
}

fn write(store: &dyn Store, waiting: &mpsc::Receiver<Pending>) {
    while let Ok(first) = waiting.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match waiting.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        let (events, answers): (Vec<Event>, Vec<_>) = batch.into_iter().unzip();
        let outcome = touchstone_audit::append_all(store, &events)
            .map(|_| ())
            .map_err(|e| e.to_string());
        for answer in answers {
            let _ = answer.send(outcome.clone());
        }
    }
}
