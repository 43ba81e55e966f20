//! The center as a service (`touchstone center`): accounts with roles, organisations that
//! isolate data, sessions and API tokens, registered models with encrypted keys, runs as queued
//! jobs executed by workers through the engine, and an audit event for every change and every
//! read of a non-public object; certificates issued, downloaded and verified through the API.
//!
//! Layers, outside in: [`http`] (connections, credentials, CSRF, bodies, headers) → [`policy`]
//! (the one place that decides access) → `handlers` (one function per route of [`routes`]) →
//! [`directory`] (the center's records) and the engine's `Store` (runs, results, the audit trail
//! and the transparency log). [`jobs`] runs the queue.

mod catalogue;
mod certificates;
pub mod client;
pub mod directory;
pub mod error;
mod exchange;
pub mod feed;
mod handlers;
mod http;
pub mod jobs;
mod objects;
pub mod openapi;
mod pages;
pub mod policy;
mod publication;
mod queue;
mod reviews;
pub mod routes;
pub mod secrets;
mod throttle;
pub mod tls;
mod trail;
mod uploads;
mod validate;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use touchstone_store::Store;

pub use catalogue::RunRequest;
pub use directory::Directory;
pub use error::ApiError;
use policy::{Credential, Principal, Role};
use secrets::MasterKey;

#[derive(Debug, thiserror::Error)]
pub enum CenterError {
    #[error(transparent)]
    Store(#[from] touchstone_store::StoreError),
    #[error(transparent)]
    Directory(#[from] directory::DirectoryError),
    #[error(transparent)]
    Secret(#[from] secrets::SecretError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("{0}")]
    Config(String),
}

/// How long a login session lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 60 * 60);

/// Opens the models a job's run uses, given their API keys by model label.
pub type ProviderFactory =
    Arc<dyn Fn(HashMap<String, String>) -> Arc<dyn touchstone_engine::Providers> + Send + Sync>;

/// The center's state, shared by every request and worker.
pub struct Center {
    pub store: Arc<dyn Store>,
    pub directory: Arc<Directory>,
    master: MasterKey,
    throttle: throttle::Throttle,
    /// Set the cookie's `Secure` attribute (once served under TLS).
    secure_cookies: std::sync::atomic::AtomicBool,
    providers: ProviderFactory,
    /// Jobs this process executes, to stop them at once on cancel.
    running: Mutex<HashMap<String, CancellationToken>>,
    /// When each token's `last_used_at` was last written (once a minute at most).
    token_touched: Mutex<HashMap<String, Instant>>,
    /// Live progress subscribers of this process.
    feeds: feed::Hub,
    /// Summaries of finished runs, as JSON.
    results_cache: FinishedCache<Arc<str>>,
    report_cache: FinishedCache<Arc<touchstone_report::ReportData>>,
    /// A suite's published models compared (the leaderboard's tiers), by the runs compared.
    tiers_cache: FinishedCache<Option<Arc<touchstone_engine::compare::Comparison>>>,
    /// Items of a finished run that differ from a finished baseline run, by "run|baseline".
    differing_cache: FinishedCache<Arc<[String]>>,
    /// The items a finished run's scores put in its review queue.
    queue_cache: FinishedCache<Arc<Vec<queue::Candidate>>>,
    /// The audit trail's writer (group commit).
    trail: trail::Trail,
    /// The certificate key pair's folder (see [`CenterConfig::keys`]).
    keys: PathBuf,
    issuer: String,
    data_dir: Option<PathBuf>,
    uploads: PathBuf,
}

/// What was derived from finished runs, which no longer change: results as their JSON text (so
/// that a dashboard polling them costs a lookup rather than a summary with bootstrap
/// intervals) and the report's data (so that the run page of a 100,000-item run does not read
/// every item per view). A bounded number of runs; the oldest entry gives way.
struct FinishedCache<T> {
    entries: Mutex<(HashMap<String, T>, std::collections::VecDeque<String>)>,
}

impl<T> Default for FinishedCache<T> {
    fn default() -> Self {
        FinishedCache {
            entries: Mutex::new((HashMap::new(), std::collections::VecDeque::new())),
        }
    }
}

impl<T: Clone> FinishedCache<T> {
    const CAPACITY: usize = 64;

    fn get(&self, run_id: &str) -> Option<T> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.0.get(run_id).cloned()
    }

    fn put(&self, run_id: &str, value: T) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let (map, order) = &mut *entries;
        if map.insert(run_id.to_string(), value).is_none() {
            order.push_back(run_id.to_string());
        }
        while order.len() > Self::CAPACITY {
            if let Some(old) = order.pop_front() {
                map.remove(&old);
            }
        }
    }

    /// The value kept for `key`, else `compute`d — and kept only when `keep` (what it depends
    /// on is finished and will not change).
    fn get_or_compute<E>(
        &self,
        key: &str,
        keep: bool,
        compute: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, E> {
        if keep && let Some(found) = self.get(key) {
            return Ok(found);
        }
        let value = compute()?;
        if keep {
            self.put(key, value.clone());
        }
        Ok(value)
    }
}

/// Where the center keeps its files and what it calls itself on the certificates it issues.
pub struct CenterConfig {
    pub db: PathBuf,
    pub master_key: PathBuf,
    /// The certificate key pair (`touchstone keys generate --out DIR`): `private.json`, its
    /// passphrase asked for on each issue and never stored, and `public.json`, against which
    /// certificates are verified. The folder may be empty until the center certifies.
    pub keys: PathBuf,
    /// The issuing center's name, as `touchstone certify --center` takes it.
    pub issuer: String,
    /// Benchmarks the center offers, each as `DIR/NAME` (`--data-dir`).
    pub data_dir: Option<PathBuf>,
    /// Uploaded suites and their datasets, stored by content hash.
    pub uploads: PathBuf,
}

pub use touchstone_engine::certify::DEFAULT_ISSUER;

impl CenterConfig {
    /// `DIR/touchstone.db`, `DIR/master.key`, `DIR/keys` and `DIR/uploads`; no data folder.
    pub fn in_dir(dir: &Path) -> CenterConfig {
        CenterConfig {
            db: dir.join("touchstone.db"),
            master_key: dir.join("master.key"),
            keys: dir.join("keys"),
            issuer: DEFAULT_ISSUER.to_string(),
            data_dir: None,
            uploads: dir.join("uploads"),
        }
    }
}

impl Center {
    /// A run's results (`results.json`) as JSON text; None before the run has started. A
    /// finished run's results no longer change: summarised once, then served from memory.
    /// Blocking (it reads the store).
    pub(crate) fn results_text(
        &self,
        run_id: &str,
        finished: bool,
    ) -> Result<Option<Arc<str>>, ApiError> {
        if finished && let Some(text) = self.results_cache.get(run_id) {
            return Ok(Some(text));
        }
        if self.store.run(run_id)?.is_none() {
            return Ok(None);
        }
        let results = touchstone_engine::summarize(self.store.as_ref(), run_id)
            .map_err(ApiError::internal)?;
        let text: Arc<str> = serde_json::to_string(&results)
            .map_err(ApiError::internal)?
            .into();
        if finished {
            self.results_cache.put(run_id, text.clone());
        }
        Ok(Some(text))
    }

    /// A run's report data; None before the run has started. Kept once the run is finished, as
    /// [`Center::results_text`] keeps its results. Blocking (it reads the store).
    pub(crate) fn report_data(
        &self,
        run_id: &str,
        finished: bool,
    ) -> Result<Option<Arc<touchstone_report::ReportData>>, ApiError> {
        if finished && let Some(data) = self.report_cache.get(run_id) {
            return Ok(Some(data));
        }
        if self.store.run(run_id)?.is_none() {
            return Ok(None);
        }
        let data = Arc::new(
            touchstone_report::ReportData::from_store(self.store.as_ref(), run_id)
                .map_err(ApiError::internal)?,
        );
        if finished {
            self.report_cache.put(run_id, data.clone());
        }
        Ok(Some(data))
    }

    /// The items of a run its scores put in the review queue; kept once the run is finished,
    /// as [`Center::results_text`] keeps its results. Blocking (it reads every item).
    pub(crate) fn queue_candidates(
        &self,
        run_id: &str,
        finished: bool,
    ) -> Result<Arc<Vec<queue::Candidate>>, ApiError> {
        self.queue_cache.get_or_compute(run_id, finished, || {
            Ok(Arc::new(
                queue::candidates(self.store.as_ref(), run_id).map_err(ApiError::internal)?,
            ))
        })
    }

    /// The items of `run` whose outcome differs from `baseline`'s (`engine::compare`); kept
    /// when both are `finished`. Blocking (it reads every item of both).
    pub(crate) fn differing_items(
        &self,
        run: &str,
        baseline: &str,
        finished: bool,
    ) -> Result<Arc<[String]>, ApiError> {
        self.differing_cache
            .get_or_compute(&format!("{run}|{baseline}"), finished, || {
                let found =
                    touchstone_engine::compare::differing_items(self.store.as_ref(), run, baseline)
                        .map_err(|e| match e {
                            touchstone_engine::EngineError::Config(_)
                            | touchstone_engine::EngineError::Store(_) => {
                                ApiError::conflict(e.to_string(), format!("无法与该基线比较：{e}"))
                                    .at("query:baseline")
                            }
                            e => ApiError::internal(e),
                        })?;
                Ok(found.into())
            })
    }

    /// The published runs `runs` (completed, so unchanging) compared model against model, as
    /// `touchstone compare` does: the leaderboard's tiers. None where they share no scored task.
    /// Kept by the set of runs. Blocking (it reads every item of the runs once).
    pub(crate) fn published_comparison(
        &self,
        runs: &[String],
    ) -> Result<Option<Arc<touchstone_engine::compare::Comparison>>, ApiError> {
        self.tiers_cache.get_or_compute(&runs.join(","), true, || {
            let contestants = touchstone_engine::compare::contestants_of(self.store.as_ref(), runs)
                .map_err(ApiError::internal)?;
            // Fewer than two models, or no task in common: nothing to rank against.
            Ok(
                touchstone_engine::compare::compare(self.store.as_ref(), &contestants, 0)
                    .ok()
                    .map(Arc::new),
            )
        })
    }

    pub fn open(
        store: Arc<dyn Store>,
        config: &CenterConfig,
        providers: ProviderFactory,
    ) -> Result<Arc<Center>, CenterError> {
        let directory = Arc::new(Directory::open(&config.db)?);
        let master = MasterKey::load_or_create(&config.master_key)?;
        let trail = trail::Trail::start(store.clone())
            .map_err(|e| CenterError::Config(format!("cannot start the audit writer: {e}")))?;
        Ok(Arc::new(Center {
            store,
            directory,
            master,
            throttle: throttle::Throttle::default(),
            secure_cookies: std::sync::atomic::AtomicBool::new(false),
            providers,
            running: Mutex::new(HashMap::new()),
            token_touched: Mutex::new(HashMap::new()),
            feeds: feed::Hub::default(),
            results_cache: FinishedCache::default(),
            report_cache: FinishedCache::default(),
            tiers_cache: FinishedCache::default(),
            queue_cache: FinishedCache::default(),
            differing_cache: FinishedCache::default(),
            trail,
            keys: config.keys.clone(),
            issuer: config.issuer.clone(),
            data_dir: config.data_dir.clone(),
            uploads: config.uploads.clone(),
        }))
    }

    /// Whether session cookies carry `Secure` (the center is served under TLS).
    pub fn secure_cookies(&self) -> bool {
        self.secure_cookies
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// On first start (no account yet), creates administrator `name` with a random password
    /// and returns it, to be shown once. None when accounts exist.
    pub fn bootstrap_admin(&self, name: &str) -> Result<Option<String>, CenterError> {
        if self.directory.count_users()? > 0 {
            return Ok(None);
        }
        validate::check_name(name, "admin")
            .map_err(|e| CenterError::Config(format!("--admin: {}", e.message)))?;
        let password = secrets::new_password()?;
        let user = directory::User {
            id: secrets::new_id("u")?,
            name: name.to_string(),
            role: Role::Admin,
            organisation: None,
            created_at: touchstone_store::now_rfc3339(),
            must_change_password: true,
        };
        self.directory
            .create_user(&user, &secrets::hash_password(&password)?)?;
        let event = touchstone_audit::Event {
            actor: "center".into(),
            role: "system".into(),
            organisation: None,
            action: "UsersCreate".into(),
            object: format!("user:{name}"),
            source: "center init".into(),
            outcome: "ok".into(),
        };
        touchstone_audit::append(self.store.as_ref(), &event)
            .map_err(|e| CenterError::Config(e.to_string()))?;
        Ok(Some(password))
    }

    /// Appends an audit event. A trail that cannot be written is logged loudly; the request's
    /// answer is already decided.
    pub(crate) async fn audit(self: &Arc<Self>, event: touchstone_audit::Event) {
        if let Err(e) = self.trail.append(event).await {
            tracing::error!(error = %e, "the audit trail was not written");
        }
    }

    pub(crate) async fn session_principal(
        self: &Arc<Self>,
        secret: &str,
    ) -> Result<Option<Principal>, ApiError> {
        let digest = secrets::digest(secret);
        let now = touchstone_engine::owner::now_ms();
        let user = exchange::on_directory(self, move |d| d.session_user(&digest, now)).await?;
        Ok(user.map(|u| Principal {
            user_id: u.id,
            name: u.name,
            role: u.role,
            organisation: u.organisation,
            must_change_password: u.must_change_password,
            credential: Credential::Session,
        }))
    }

    pub(crate) async fn token_principal(
        self: &Arc<Self>,
        token: &str,
    ) -> Result<Principal, ApiError> {
        let digest = secrets::digest(token);
        let found = exchange::on_directory(self, move |d| d.token_by_digest(&digest)).await?;
        let Some((token, user)) = found else {
            return Err(ApiError::new(
                401,
                "bad_credentials",
                "this token is not known",
                "令牌无效",
            ));
        };
        if token.revoked_at.is_some() {
            return Err(ApiError::new(
                401,
                "token_revoked",
                "this token was revoked",
                "令牌已吊销",
            ));
        }
        if token
            .expires_at_ms
            .is_some_and(|at| at <= touchstone_engine::owner::now_ms())
        {
            return Err(ApiError::new(
                401,
                "token_expired",
                "this token has expired",
                "令牌已过期",
            ));
        }
        let touch = {
            let mut touched = self.token_touched.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            match touched.get(&token.id) {
                Some(t) if now.duration_since(*t) < Duration::from_secs(60) => false,
                _ => {
                    touched.insert(token.id.clone(), now);
                    true
                }
            }
        };
        if touch {
            let id = token.id.clone();
            let now = touchstone_store::now_rfc3339();
            exchange::on_directory(self, move |d| d.touch_token(&id, &now)).await?;
        }
        // A token never holds more than its owner's role allows, even if the role changed.
        let allowed = policy::scopes_of(user.role);
        Ok(Principal {
            user_id: user.id,
            name: user.name,
            role: user.role,
            organisation: user.organisation,
            must_change_password: user.must_change_password,
            credential: Credential::Token {
                id: token.id,
                scopes: token
                    .scopes
                    .into_iter()
                    .filter(|s| allowed.contains(s))
                    .collect(),
            },
        })
    }
}

/// How many pieces of blocking work run at once. The directory is one connection behind a
/// mutex, so more threads only wait on it; without a bound, 1,000 clients connecting at once
/// start hundreds of blocking threads, each with its stack and malloc arena (tens of MiB RSS).
const BLOCKING_AT_ONCE: usize = 16;
static BLOCKING_PERMITS: tokio::sync::Semaphore =
    tokio::sync::Semaphore::const_new(BLOCKING_AT_ONCE);

/// Runs blocking work (the directory, the store) off the runtime's threads; callers beyond
/// [`BLOCKING_AT_ONCE`] wait as tasks, not as threads. The work must not itself wait on
/// `blocking` (none does: it is plain synchronous code).
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    let permit = BLOCKING_PERMITS
        .acquire()
        .await
        .map_err(ApiError::internal)?;
    let out = tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal);
    drop(permit);
    out
}

/// A center serving in the background: bind port 0 for tests and ask [`Server::local_addr`].
pub struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
    workers: CancellationToken,
    worker_tasks: Vec<JoinHandle<()>>,
    /// Ends open event streams, which would otherwise hold the shutdown.
    streams: CancellationToken,
}

impl Server {
    /// Listens on `addr` and starts `workers` in-process workers.
    pub async fn start(
        center: Arc<Center>,
        addr: SocketAddr,
        workers: usize,
    ) -> Result<Server, CenterError> {
        Server::start_with(center, addr, workers, None).await
    }

    /// [`Server::start`], speaking TLS through `tls` when given (see [`tls`]).
    pub async fn start_with(
        center: Arc<Center>,
        addr: SocketAddr,
        workers: usize,
        tls: Option<tls::Acceptor>,
    ) -> Result<Server, CenterError> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| CenterError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| CenterError::Bind { addr, source })?;
        if tls.is_some() {
            center
                .secure_cookies
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(http::serve(listener, center.clone(), tls, async move {
            let _ = stopped.await;
        }));
        let cancel = CancellationToken::new();
        let worker_tasks = (0..workers)
            .map(|_| tokio::spawn(jobs::work(center.clone(), cancel.clone())))
            .collect();
        Ok(Server {
            addr,
            stop: Some(stop),
            task,
            workers: cancel,
            worker_tasks,
            streams: center.feeds.closing.clone(),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, finishes requests in flight, and stops the workers (their runs stay
    /// resumable: another worker continues them).
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.workers.cancel();
        self.streams.cancel();
        let _ = (&mut self.task).await;
        for t in self.worker_tasks.drain(..) {
            let _ = t.await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.workers.cancel();
        self.streams.cancel();
    }
}
