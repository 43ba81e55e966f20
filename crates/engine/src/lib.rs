//! The evaluation engine: plan → execute → score → aggregate.
//!
//! [`start`] plans a suite against models, records a run, executes it and returns its summary;
//! [`resume`] continues a run from what its store already holds, sending no request for a
//! recorded item; [`summarize`] computes results from the store alone.

mod attack;
pub mod certify;
pub mod compare;
pub mod config;
pub mod evidence;
mod execute;
mod item;
pub mod output;
pub mod owner;
pub mod plan;
pub mod prompt;
pub mod providers;
pub mod sample;
mod sent;
mod store_io;
pub mod summary;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use touchstone_core::{ItemStatus, ModelSpec};
use touchstone_store::{RunRecord, RunStatus, Store};
use touchstone_suite::{LoadedSuite, SuiteOrigin};

pub use config::{EvalOptions, ExecOptions, RunConfig, TaskBank};
pub use output::{
    prepare_output_dir, render_breakdowns, render_comparison, render_table, render_tradeoff,
    render_verdicts, write_outputs,
};
pub use owner::stopped_without_finishing;
pub use providers::Providers;
pub use store_io::blocking;
pub use summary::{RunResults, Unmet, summarize};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Suite(#[from] touchstone_suite::SuiteError),
    #[error(transparent)]
    Data(#[from] touchstone_data::DataError),
    /// A dataset error while planning one task of a suite: which task, then where in the file.
    #[error("task `{task}`: {source}")]
    TaskData {
        task: String,
        // Boxed: a DataError is large, and every engine result carries this enum.
        source: Box<touchstone_data::DataError>,
    },
    #[error(transparent)]
    Store(#[from] touchstone_store::StoreError),
    #[error(transparent)]
    Scorer(#[from] touchstone_scorers::ScorerError),
    /// A provider could not open a model (a local file that is not there, a provider this
    /// build lacks): the provider's own words.
    #[error("{0}")]
    Provider(Box<dyn std::error::Error + Send + Sync>),
    #[error(transparent)]
    Profile(#[from] touchstone_compliance::ProfileError),
    #[error("model {model}: {error}")]
    Model {
        model: String,
        error: touchstone_models::ModelError,
    },
    #[error(
        "cannot reach model {model} at {url}: {reason}. Is the server running, and is the URL right (it usually ends in /v1)?"
    )]
    Unreachable {
        model: String,
        url: String,
        reason: String,
    },
    #[error(
        "dataset of task `{task}` changed since run {run} started ({source_name}): resuming would mix two datasets; start a new run"
    )]
    DatasetChanged {
        run: String,
        task: String,
        source_name: String,
    },
    #[error("no unfinished run to resume in {}; start one with `touchstone eval`", db.display())]
    NothingToResume { db: PathBuf },
    #[error(
        "run {run} is being executed by {owner}; resuming it too would send its requests twice. \
         Wait for it, or stop it (Ctrl-C), then resume / 该运行正由另一进程执行"
    )]
    RunInUse { run: String, owner: String },
    #[error("cannot write {}: {message}", path.display())]
    Output { path: PathBuf, message: String },
    /// The endpoint refused access: every request of the run would be refused the same way.
    #[error(
        "{model} refused the request with HTTP {status} ({body}): the API key is missing or wrong, \
         or it may not use this model. Set the environment variable that --api-key-env names \
         (default OPENAI_API_KEY). The run stopped; what is recorded is kept: continue it with \
         `touchstone eval --resume` / 接口拒绝访问（密钥缺失或错误），运行已停止，修正后可续跑"
    )]
    AccessRefused {
        model: String,
        status: u16,
        body: String,
    },
    #[error("{0}")]
    Config(String),
    /// Signing, the transparency log or its proofs.
    #[error("{0}")]
    Trust(String),
    #[error("internal error: {0}")]
    Internal(String),
}

/// What a run reports as it goes (progress bars, logs). All methods default to doing nothing.
pub trait Events: Send + Sync {
    /// Loading a model or planning: a line for the user.
    fn note(&self, _message: &str) {}
    /// Execution begins: `planned` items in all, `recorded` of them already done.
    fn started(&self, _run_id: &str, _planned: u64, _recorded: u64) {}
    /// One item was durably recorded.
    fn item_finished(&self, _status: ItemStatus) {}
    /// Before [`Events::started`]: the items each task plans, all models together, in the
    /// suite's order.
    fn tasks_planned(&self, _run_id: &str, _tasks: &[(String, u64)]) {}
    /// One item of `task` was durably recorded (after [`Events::item_finished`]).
    fn task_item_finished(&self, _task: &str, _status: ItemStatus) {}
}

/// Reports nothing.
pub struct NoEvents;
impl Events for NoEvents {}

/// How a run ended.
#[derive(Debug)]
pub struct RunOutcome {
    pub run_id: String,
    pub status: RunStatus,
    pub results: RunResults,
}

/// Start a new run of `suite` against `models`.
pub async fn start(
    store: Arc<dyn Store>,
    providers: Arc<dyn Providers>,
    suite: LoadedSuite,
    models: Vec<ModelSpec>,
    options: EvalOptions,
    events: Arc<dyn Events>,
    cancel: CancellationToken,
) -> Result<RunOutcome, EngineError> {
    let run_id = touchstone_store::new_run_id();
    start_as(
        run_id, store, providers, suite, models, options, events, cancel,
    )
    .await
}

/// [`start`] under an id the caller chose beforehand: a queue that names its job by the run it
/// becomes knows, after a crash, whether the run was created (then it resumes it) or not.
#[allow(clippy::too_many_arguments)]
pub async fn start_as(
    run_id: String,
    store: Arc<dyn Store>,
    providers: Arc<dyn Providers>,
    suite: LoadedSuite,
    models: Vec<ModelSpec>,
    options: EvalOptions,
    events: Arc<dyn Events>,
    cancel: CancellationToken,
) -> Result<RunOutcome, EngineError> {
    if models.is_empty() {
        return Err(EngineError::Config("no model to evaluate".into()));
    }
    let mut labels = HashSet::new();
    for m in &models {
        if !labels.insert(m.label()) {
            return Err(EngineError::Config(format!(
                "model {} is given twice",
                m.label()
            )));
        }
    }
    if options.attacker.is_none()
        && suite
            .spec
            .tasks
            .iter()
            .any(|t| t.attacks.iter().any(|a| a == "pair"))
    {
        return Err(EngineError::Config(
            "attack `pair` needs an attacker model: pass --attacker SPEC / pair 攻击需要攻击者模型"
                .into(),
        ));
    }
    let mut suite = suite;
    touchstone_scorers::pin_metric_names(&mut suite.spec);
    let profile = suite
        .spec
        .profile
        .as_deref()
        .map(touchstone_compliance::Profile::load)
        .transpose()?;
    // Tasks that sample draw their items now; the run records the draw, and a resume uses it.
    let mut options = options;
    options.draws = plan::draw_all(&suite.spec, &options, profile.as_ref())?;
    for (task, draw) in &options.draws {
        events.note(&sample::describe(task, &draw.sampling));
    }
    events.note("planning: reading datasets");
    let (datasets, per_task) = plan_all(&suite.spec, &options)?;
    let planned = per_task.iter().map(|(_, n)| n).sum::<u64>() * models.len() as u64;
    let banks = match &profile {
        Some(p) => {
            events.note("checking banks against the profile");
            check_banks(&suite.spec, p)?
        }
        None => Vec::new(),
    };
    let mut config = RunConfig {
        suite: suite.spec,
        suite_origin: match suite.origin {
            SuiteOrigin::Builtin(name) => format!("builtin:{name}"),
            SuiteOrigin::File(path) => path.display().to_string(),
            SuiteOrigin::Adhoc => "adhoc".into(),
        },
        models,
        model_identities: Vec::new(),
        options,
        datasets,
        profile,
        banks,
        judge_identity: None,
        touchstone_version: config::TOUCHSTONE_VERSION.into(),
        git_revision: config::GIT_REVISION.into(),
    };
    let opened = open_models(&config, providers.as_ref(), store.clone(), events.as_ref()).await?;
    config.model_identities = opened.iter().map(|m| m.model.identity().clone()).collect();
    let helpers = open_helpers(&config, providers.as_ref(), store.clone(), events.as_ref()).await?;
    config.judge_identity = helpers
        .scorer_context
        .judge
        .as_ref()
        .map(|j| j.identity().clone());

    let run = RunRecord {
        id: run_id,
        created_at: touchstone_store::now_rfc3339(),
        finished_at: None,
        status: RunStatus::Running,
        suite: config.suite.name.clone(),
        models: config.models.iter().map(ModelSpec::label).collect(),
        planned: Some(planned),
        config: serde_json::to_value(&config).map_err(|e| EngineError::Internal(e.to_string()))?,
    };
    let run_id = run.id.clone();
    blocking(&store, move |s| s.create_run(&run)).await?;
    let claim = owner::Claim::take(store.clone(), &run_id, cancel.clone()).await?;
    events.tasks_planned(&run_id, &all_models(&per_task, config.models.len()));
    run_to_end(
        store,
        claim,
        run_id,
        Arc::new(config),
        opened,
        Some(helpers),
        HashSet::new(),
        planned,
        events,
        cancel,
    )
    .await
}

/// Continue `run` (or the newest unfinished run). Execution options may be changed; the plan
/// may not.
pub async fn resume(
    store: Arc<dyn Store>,
    providers: Arc<dyn Providers>,
    db_path: PathBuf,
    run: Option<&str>,
    exec: Option<ExecOptions>,
    events: Arc<dyn Events>,
    cancel: CancellationToken,
) -> Result<RunOutcome, EngineError> {
    let wanted = run.map(str::to_string);
    let record = blocking(&store, move |s| match wanted {
        Some(id) => s.resolve_run(&id).map_err(EngineError::from),
        None => s
            .latest_unfinished()?
            .ok_or(EngineError::NothingToResume { db: db_path }),
    })
    .await?;
    // Held from here on: two resumes at once, on any machine, do not both execute the run.
    let claim = owner::Claim::take(store.clone(), &record.id, cancel.clone()).await?;
    let mut config: RunConfig = serde_json::from_value(record.config.clone()).map_err(|e| {
        EngineError::Internal(format!(
            "run {} has an unreadable configuration: {e}",
            record.id
        ))
    })?;
    if let Some(exec) = exec {
        config.options.exec = exec;
        let value =
            serde_json::to_value(&config).map_err(|e| EngineError::Internal(e.to_string()))?;
        let id = record.id.clone();
        blocking(&store, move |s| s.update_run_config(&id, &value)).await?;
    }
    events.note(&format!("resuming run {}", record.id));
    let (datasets, per_task) = plan_all(&config.suite, &config.options)?;
    for (now, then) in datasets.iter().zip(&config.datasets) {
        if now.sha256 != then.sha256 {
            return Err(EngineError::DatasetChanged {
                run: record.id.clone(),
                task: now.task.clone(),
                source_name: now.source.clone(),
            });
        }
    }
    let planned = per_task.iter().map(|(_, n)| n).sum::<u64>() * config.models.len() as u64;
    let id = record.id.clone();
    let done = blocking(&store, move |s| s.recorded_ids(&id)).await?;
    let (opened, helpers) = if done.len() as u64 >= planned {
        (Vec::new(), None)
    } else {
        (
            open_models(&config, providers.as_ref(), store.clone(), events.as_ref()).await?,
            Some(open_helpers(&config, providers.as_ref(), store.clone(), events.as_ref()).await?),
        )
    };
    let id = record.id.clone();
    blocking(&store, move |s| {
        s.set_run_status(&id, RunStatus::Running, Some(planned))
    })
    .await?;
    events.tasks_planned(&record.id, &all_models(&per_task, config.models.len()));
    run_to_end(
        store,
        claim,
        record.id,
        Arc::new(config),
        opened,
        helpers,
        done,
        planned,
        events,
        cancel,
    )
    .await
}

fn plan_all(
    suite: &touchstone_core::SuiteSpec,
    options: &EvalOptions,
) -> Result<(Vec<config::DatasetDigest>, TaskItems), EngineError> {
    let attacks = touchstone_attacks::Catalogue::with_sources(&suite.attack_sources)
        .map_err(|e| EngineError::Config(format!("attack sources: {e}")))?;
    let mut datasets = Vec::new();
    let mut per_task = Vec::new();
    for task in &suite.tasks {
        let in_task = |e: EngineError| match e {
            EngineError::Data(source) => EngineError::TaskData {
                task: task.name.clone(),
                source: Box::new(source),
            },
            other => other,
        };
        datasets.push(plan::digest(task).map_err(in_task)?);
        let items = plan::count_items(task, options, &attacks).map_err(in_task)?;
        per_task.push((task.name.clone(), items));
    }
    Ok((datasets, per_task))
}

/// Items each task plans, by task name, in the suite's order.
type TaskItems = Vec<(String, u64)>;

/// The items each task of `suite` would run for one model under `options`, counted as a run
/// plans them (samples drawn, attacks expanded, epochs counted): the size of a run, shown
/// before it is started. Reads the datasets; sends nothing.
pub fn planned_items(
    suite: &touchstone_suite::LoadedSuite,
    options: &EvalOptions,
) -> Result<TaskItems, EngineError> {
    let mut spec = suite.spec.clone();
    touchstone_scorers::pin_metric_names(&mut spec);
    let profile = spec
        .profile
        .as_deref()
        .map(touchstone_compliance::Profile::load)
        .transpose()?;
    let mut options = options.clone();
    options.draws = plan::draw_all(&spec, &options, profile.as_ref())?;
    let attacks = touchstone_attacks::Catalogue::with_sources(&spec.attack_sources)
        .map_err(|e| EngineError::Config(format!("attack sources: {e}")))?;
    spec.tasks
        .iter()
        .map(|task| {
            plan::count_items(task, &options, &attacks)
                .map(|n| (task.name.clone(), n))
                .map_err(|e| match e {
                    EngineError::Data(source) => EngineError::TaskData {
                        task: task.name.clone(),
                        source: Box::new(source),
                    },
                    other => other,
                })
        })
        .collect()
}

/// Items per task for all `models` together.
fn all_models(per_task: &[(String, u64)], models: usize) -> Vec<(String, u64)> {
    per_task
        .iter()
        .map(|(task, n)| (task.clone(), n * models as u64))
        .collect()
}

async fn open_models(
    config: &RunConfig,
    providers: &dyn Providers,
    store: Arc<dyn Store>,
    events: &dyn Events,
) -> Result<Vec<providers::OpenedModel>, EngineError> {
    let mut opened = Vec::new();
    for spec in &config.models {
        events.note(&format!("opening model {spec}"));
        opened.push(providers::open(providers, spec, &config.options.exec, store.clone()).await?);
    }
    Ok(opened)
}

/// Replaces the attack list of every task that has attacks (`--attacks`); `none` clears them.
/// Names are checked against the catalogue.
pub fn set_attacks(
    suite: &mut touchstone_core::SuiteSpec,
    attacks: &[String],
) -> Result<(), EngineError> {
    let list: Vec<String> = attacks
        .iter()
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty() && a != "none")
        .collect();
    let catalogue = touchstone_attacks::Catalogue::with_sources(&suite.attack_sources)
        .map_err(|e| EngineError::Config(format!("attack sources: {e}")))?;
    for name in &list {
        if catalogue.get(name).is_none()
            && !touchstone_attacks::DRIVER_NAMES.contains(&name.as_str())
        {
            return Err(EngineError::Config(format!(
                "--attacks: no attack `{name}`; see `touchstone attacks list` / 没有这种攻击"
            )));
        }
    }
    let attacked: Vec<&mut touchstone_core::TaskSpec> = suite
        .tasks
        .iter_mut()
        .filter(|t| !t.attacks.is_empty())
        .collect();
    if attacked.is_empty() && !list.is_empty() {
        return Err(EngineError::Config(format!(
            "--attacks: suite `{}` has no task with attacks",
            suite.name
        )));
    }
    for task in attacked {
        task.attacks = list.clone();
    }
    Ok(())
}

/// The models that help a run besides the models under test.
struct Helpers {
    scorer_context: touchstone_scorers::ScorerContext,
    driver_models: attack::DriverModels,
}

/// The judge and attacker models, with the same layers as a model under test (their answers
/// are cached, so a resumed run re-judges nothing).
async fn open_helpers(
    config: &RunConfig,
    providers: &dyn Providers,
    store: Arc<dyn Store>,
    events: &dyn Events,
) -> Result<Helpers, EngineError> {
    let open = async |spec: &Option<ModelSpec>,
                      role: &str|
           -> Result<Option<touchstone_models::SharedModel>, EngineError> {
        match spec {
            Some(spec) => {
                events.note(&format!("opening {role} model {spec}"));
                Ok(Some(
                    providers::open(providers, spec, &config.options.exec, store.clone())
                        .await?
                        .model,
                ))
            }
            None => Ok(None),
        }
    };
    let judge = open(&config.options.judge, "judge").await?;
    let attacker = open(&config.options.attacker, "attacker").await?;
    Ok(Helpers {
        scorer_context: touchstone_scorers::ScorerContext {
            judge: judge.clone(),
            allow_unisolated_code: config.options.allow_unisolated_code,
        },
        driver_models: attack::DriverModels { attacker, judge },
    })
}

/// Each task that assesses profile checks: its whole bank (ignoring limits) against the
/// minimums of the bank its checks name.
fn check_banks(
    suite: &touchstone_core::SuiteSpec,
    profile: &touchstone_compliance::Profile,
) -> Result<Vec<TaskBank>, EngineError> {
    let mut out = Vec::new();
    for task in suite.tasks.iter().filter(|t| !t.assess.is_empty()) {
        let check = profile.check(&task.assess[0]).ok_or_else(|| {
            EngineError::Config(format!(
                "task `{}` assesses `{}`, which profile {} does not define",
                task.name, task.assess[0], profile.id
            ))
        })?;
        let rule = profile.bank(&check.bank).ok_or_else(|| {
            EngineError::Internal(format!(
                "profile {} has no bank `{}`",
                profile.id, check.bank
            ))
        })?;
        let items = plan::all_samples(task)?
            .map(|s| s.map(touchstone_compliance::BankItem::from_sample))
            .collect::<Result<Vec<_>, _>>()?;
        let report = touchstone_compliance::check_questions(profile, rule, &items);
        out.push(TaskBank {
            task: task.name.clone(),
            qualification: report.qualification(),
        });
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
async fn run_to_end(
    store: Arc<dyn Store>,
    claim: owner::Claim,
    run_id: String,
    config: Arc<RunConfig>,
    opened: Vec<providers::OpenedModel>,
    helpers: Option<Helpers>,
    done: HashSet<touchstone_core::WorkItemId>,
    planned: u64,
    events: Arc<dyn Events>,
    cancel: CancellationToken,
) -> Result<RunOutcome, EngineError> {
    // The lease is given back however the run ends (Drop covers a panic or a dropped future).
    let outcome = async {
        events.started(&run_id, planned, done.len() as u64);
        if let (false, Some(helpers)) = (opened.is_empty(), helpers) {
            let exec = execute::Execution {
                run_id: run_id.clone(),
                config: config.clone(),
                concurrency: opened.iter().map(|m| m.concurrency).collect(),
                models: opened.into_iter().map(|m| m.model).collect(),
                scorer_context: helpers.scorer_context,
                driver_models: helpers.driver_models,
                store: store.clone(),
                done: Arc::new(done),
                events: events.clone(),
                cancel: cancel.clone(),
            };
            if let Err(e) = execute::execute(exec).await {
                // What was recorded stays recorded; the run can be resumed once the cause is fixed.
                let id = run_id.clone();
                let _ = blocking(&store, move |s| {
                    s.set_run_status(&id, RunStatus::Interrupted, None)
                })
                .await;
                return Err(e);
            }
        }
        let id = run_id.clone();
        let (status, results) = blocking(&store, move |s| {
            let counts = s.counts(&id)?;
            let status = if counts.scored + counts.failed >= planned {
                RunStatus::Completed
            } else {
                RunStatus::Interrupted
            };
            s.set_run_status(&id, status, Some(planned))?;
            Ok::<_, EngineError>((status, summarize(s, &id)?))
        })
        .await?;
        Ok(RunOutcome {
            run_id,
            status,
            results,
        })
    }
    .await;
    claim.release().await;
    outcome
}
