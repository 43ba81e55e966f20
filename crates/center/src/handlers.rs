//! One function per route. Each is called only after the policy allowed its action for the
//! caller; a handler that loads an organisation's object asks [`policy::decide_object`] before
//! it shows or changes it. Request bodies are structs that refuse unknown fields.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{Value, json};
use touchstone_core::ModelSpec;

use crate::catalogue::RunRequest;
use crate::directory::{Job, JobStatus, Model, Organisation, Token, User};
use crate::error::ApiError;
use crate::exchange::{self, Body, Call, Reply, on_directory};
use crate::objects::{acting_organisation, load_job};
use crate::policy::{self, Action, Credential, Role, Scope};
use crate::validate::{check_name, check_password, check_text};
use crate::{Center, SESSION_TTL, blocking, secrets};

pub(crate) async fn dispatch(
    center: &Arc<Center>,
    action: Action,
    call: Call,
) -> Result<Reply, ApiError> {
    use Action::*;
    match action {
        Health => Ok(Reply::ok(json!({
            "status": "ok",
            "version": touchstone_engine::config::TOUCHSTONE_VERSION,
        }))),
        OpenApi => Ok(Reply::ok(crate::openapi::document())),
        LogHead => log_head(center).await,
        Login => login(center, call).await,
        Logout => logout(center, call).await,
        Me => me(&call),
        PasswordChange => password_change(center, call).await,
        UsersList => users_list(center).await,
        UsersCreate => users_create(center, call).await,
        OrgsList => Ok(Reply::ok(
            json!({ "organisations": on_directory(center, |d| d.orgs()).await? }),
        )),
        OrgsCreate => orgs_create(center, call).await,
        TokensList => tokens_list(center, call).await,
        TokensCreate => tokens_create(center, call).await,
        TokensRevoke => tokens_revoke(center, call).await,
        ModelsList => models_list(center, call).await,
        ModelsCreate => models_create(center, call).await,
        ModelsGet => {
            let model = load_model(center, &call, action).await?;
            Ok(Reply::ok(json!(model)).on(format!("model:{}", model.id)))
        }
        ModelsDelete => models_delete(center, call).await,
        ModelsTest => models_test(center, call).await,
        SuitesList => suites_list(center, call).await,
        SuitesUpload => crate::uploads::upload(center, call).await,
        RunsList => runs_list(center, call).await,
        RunsCreate => runs_create(center, call).await,
        RunsGet => runs_get(center, call).await,
        RunsResults => runs_results(center, call).await,
        RunsSamples => runs_samples(center, call).await,
        RunsEvents => runs_events(center, call).await,
        RunsReport => runs_report(center, call).await,
        Compare => compare(center, call).await,
        RunsCancel => runs_cancel(center, call).await,
        RunsCertify => crate::certificates::issue(center, call).await,
        RunsCertificate => crate::certificates::download(center, call).await,
        ReviewsList => crate::reviews::list(center, call).await,
        ReviewsCreate => crate::reviews::create(center, call).await,
        ReviewQueue => crate::queue::list(center, call).await,
        RunsSamplesFile => runs_samples_file(center, call).await,
        FlagsCreate => crate::queue::flag(center, call).await,
        RunsPublish => crate::publication::publish(center, call).await,
        PublishedList => crate::publication::list(center).await,
        CertificatesVerify => crate::certificates::verify(center, call).await,
        AuditList => audit_list(center, call).await,
        // Pages are answered by `pages`, which the HTTP layer calls for them.
        Static | PageHome | PageAbout | PageVerify | PageVerifyCheck | PageLang | PageLogin
        | PageLoginSubmit | PageLogout | PageDashboard | PageRun | PageRunCancel
        | PageRunCertify | PageRunPublish | PagePassword | PagePasswordSubmit | PageModels
        | PageModelsCreate | PageModelTest | PageModelDelete | PageRunNew | PageRunCreate
        | PageAdmin | PageUserCreate | PageOrgCreate | PageTokens | PageTokenCreate
        | PageTokenRevoke | PageAudit | PageSamples | PageReviewCreate | PageModel | PageLog
        | PageCompare | PageQueue | PageFlagCreate => Err(ApiError::not_found()),
    }
}

fn now() -> String {
    touchstone_store::now_rfc3339()
}

fn user_json(u: &User) -> Value {
    json!({
        "id": u.id,
        "name": u.name,
        "role": u.role,
        "organisation": u.organisation,
        "must_change_password": u.must_change_password,
    })
}

// Public.

/// The log head names this many of the newest entries.
const LOG_RECENT: usize = 20;

async fn log_head(center: &Arc<Center>) -> Result<Reply, ApiError> {
    let store = center.store.clone();
    let leaves = blocking(move || touchstone_engine::certify::log_leaves(store.as_ref()))
        .await?
        .map_err(ApiError::internal)?;
    // The newest entries, so that anyone can see what was appended lately.
    let recent: Vec<Value> = leaves
        .iter()
        .enumerate()
        .rev()
        .take(LOG_RECENT)
        .map(|(index, leaf)| json!({ "index": index, "leaf_hash": hex::encode(leaf) }))
        .collect();
    Ok(Reply::ok(json!({
        "tree_size": leaves.len(),
        "root_hash": hex::encode(touchstone_trust::merkle::root(&leaves)),
        "recent": recent,
    })))
}

// Sessions.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    name: String,
    password: String,
}

/// Too many wrong passwords for this name or address: wait `wait` seconds.
fn throttled(wait: u64) -> ApiError {
    let mut e = ApiError::new(
        429,
        "throttled",
        format!("too many wrong passwords; try again in {wait} s"),
        format!("密码错误次数过多，请 {wait} 秒后再试"),
    );
    e.retry_after = Some(wait);
    e
}

/// A new session for `user_id`, created after `before` in the same call to the directory;
/// the cookie that carries it.
async fn new_session(
    center: &Arc<Center>,
    user_id: &str,
    before: impl FnOnce(&crate::directory::Directory) -> Result<(), crate::directory::DirectoryError>
    + Send
    + 'static,
) -> Result<String, ApiError> {
    let (secret, digest) = exchange::new_session()?;
    let uid = user_id.to_string();
    let expires = touchstone_engine::owner::now_ms() + SESSION_TTL.as_millis() as i64;
    on_directory(center, move |d| {
        before(d)?;
        d.create_session(&digest, &uid, expires)
    })
    .await?;
    Ok(exchange::session_cookie_header(
        &secret,
        SESSION_TTL.as_secs(),
        center.secure_cookies(),
    ))
}

async fn login(center: &Arc<Center>, call: Call) -> Result<Reply, ApiError> {
    let body: LoginBody = call.json()?;
    let address = call.peer.to_string();
    let event = |outcome: &str| touchstone_audit::Event {
        actor: body.name.chars().take(64).collect(),
        role: "public".into(),
        organisation: None,
        action: "Login".into(),
        object: format!("user:{}", body.name.chars().take(64).collect::<String>()),
        source: address.clone(),
        outcome: outcome.into(),
    };
    if let Some(wait) = center.throttle.wait(&body.name, &address, Instant::now()) {
        center.audit(event("refused:throttled")).await;
        return Err(throttled(wait));
    }
    let name = body.name.clone();
    let found = on_directory(center, move |d| d.user_by_name(&name)).await?;
    let password = body.password.clone();
    let user = blocking(move || match found {
        Some((user, hash)) if secrets::verify_password(&password, &hash) => Some(user),
        Some(_) => None,
        None => {
            secrets::burn_password_check(&password);
            None
        }
    })
    .await?;
    let Some(user) = user else {
        center.throttle.failed(&body.name, &address, Instant::now());
        center.audit(event("refused:bad_credentials")).await;
        return Err(ApiError::new(
            401,
            "bad_credentials",
            "wrong name or password",
            "用户名或密码错误",
        ));
    };
    center.throttle.succeeded(&body.name);
    // A session id is never carried over a login (session fixation): the one presented is
    // ended and a new one issued.
    let old = call.session_secret.as_deref().map(secrets::digest);
    let cookie = new_session(center, &user.id, move |d| match old {
        Some(old) => d.delete_session(&old),
        None => Ok(()),
    })
    .await?;
    center
        .audit(touchstone_audit::Event {
            actor: user.name.clone(),
            role: user.role.as_str().into(),
            organisation: user.organisation.clone(),
            ..event("ok")
        })
        .await;
    let mut reply = Reply::ok(json!({ "user": user_json(&user) }));
    reply.set_cookies.push(cookie);
    Ok(reply)
}

async fn logout(center: &Arc<Center>, call: Call) -> Result<Reply, ApiError> {
    if let (Credential::Session, Some(secret)) = (&call.who()?.credential, &call.session_secret) {
        let digest = secrets::digest(secret);
        on_directory(center, move |d| d.delete_session(&digest)).await?;
    }
    let mut reply = Reply::ok(json!({ "signed_out": true }));
    reply
        .set_cookies
        .push(exchange::clear_cookie(center.secure_cookies()));
    Ok(reply)
}

fn me(call: &Call) -> Result<Reply, ApiError> {
    let p = call.who()?;
    let scopes = match &p.credential {
        Credential::Session => policy::scopes_of(p.role),
        Credential::Token { scopes, .. } => scopes.clone(),
    };
    Ok(Reply::ok(json!({
        "id": p.user_id,
        "name": p.name,
        "role": p.role,
        "organisation": p.organisation,
        "credential": match p.credential { Credential::Session => "session", Credential::Token { .. } => "token" },
        "must_change_password": p.must_change_password,
        "scopes": scopes,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordChangeBody {
    current: String,
    new: String,
}

/// The caller's own new password. The current one is asked for (a session left open must not
/// be enough) and throttled as a sign-in; every session ends and this one is renewed.
async fn password_change(center: &Arc<Center>, call: Call) -> Result<Reply, ApiError> {
    let who = call.who()?.clone();
    let body: PasswordChangeBody = call.json()?;
    let address = call.peer.to_string();
    if let Some(wait) = center.throttle.wait(&who.name, &address, Instant::now()) {
        return Err(throttled(wait));
    }
    let name = who.name.clone();
    let found = on_directory(center, move |d| d.user_by_name(&name)).await?;
    let Some((user, hash)) = found else {
        return Err(policy::Refusal::SignIn.into());
    };
    let current = body.current.clone();
    if !blocking(move || secrets::verify_password(&current, &hash)).await? {
        center.throttle.failed(&who.name, &address, Instant::now());
        return Err(ApiError::new(
            400,
            "wrong_password",
            "the current password is wrong",
            "当前密码错误",
        )
        .at("current"));
    }
    center.throttle.succeeded(&who.name);
    check_password(&body.new).map_err(|e| e.at("new"))?;
    if body.new == body.current {
        return Err(ApiError::bad_request(
            "the new password is the current one: choose another",
            "新密码与当前密码相同",
        )
        .at("new"));
    }
    let new = body.new.clone();
    let hash = blocking(move || secrets::hash_password(&new))
        .await?
        .map_err(ApiError::internal)?;
    let uid = user.id.clone();
    let cookie = new_session(center, &user.id, move |d| d.set_password(&uid, &hash)).await?;
    let mut reply = Reply::ok(json!({
        "user": user_json(&User {
            must_change_password: false,
            ..user
        }),
        "password_changed": true,
    }))
    .on(format!("user:{}", who.name));
    reply.set_cookies.push(cookie);
    Ok(reply)
}

// Accounts and organisations.

async fn users_list(center: &Arc<Center>) -> Result<Reply, ApiError> {
    let users = on_directory(center, |d| d.users()).await?;
    Ok(Reply::ok(
        json!({ "users": users.iter().map(user_json).collect::<Vec<_>>() }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    name: String,
    role: String,
    #[serde(default)]
    organisation: Option<String>,
    /// Generated (and returned once) when absent.
    #[serde(default)]
    password: Option<String>,
}

async fn users_create(center: &Arc<Center>, call: Call) -> Result<Reply, ApiError> {
    let body: NewUser = call.json()?;
    check_name(&body.name, "name")?;
    let role = Role::parse(&body.role).ok_or_else(|| {
        ApiError::bad_request(
            "`role` is one of admin, assessor, reviewer, applicant, auditor",
            "`role` 须为 admin、assessor、reviewer、applicant、auditor 之一",
        )
        .at("role")
    })?;
    match (role.is_member(), &body.organisation) {
        (true, None) => {
            return Err(ApiError::bad_request(
                "an applicant belongs to an organisation: give `organisation`",
                "申请方用户须指定 `organisation`",
            )
            .at("organisation"));
        }
        (false, Some(_)) => {
            return Err(ApiError::bad_request(
                "only applicants belong to an organisation",
                "只有申请方用户属于组织",
            )
            .at("organisation"));
        }
        (true, Some(org)) => {
            let org = org.clone();
            if !on_directory(center, move |d| d.org_exists(&org)).await? {
                return Err(ApiError::not_found().at("organisation"));
            }
        }
        (false, None) => {}
    }
    let generated = body.password.is_none();
    let password = match body.password {
        Some(p) => {
            check_password(&p)?;
            p
        }
        None => secrets::new_password().map_err(ApiError::internal)?,
    };
    let hash = {
        let p = password.clone();
        blocking(move || secrets::hash_password(&p))
            .await?
            .map_err(ApiError::internal)?
    };
    let user = User {
        id: secrets::new_id("u").map_err(ApiError::internal)?,
        name: body.name,
        role,
        organisation: body.organisation,
        created_at: now(),
        // The administrator knows this password: its owner replaces it on first sign-in.
        must_change_password: true,
    };
    let u = user.clone();
    if !on_directory(center, move |d| d.create_user(&u, &hash)).await? {
        return Err(
            ApiError::conflict("an account with this name exists", "该用户名已存在").at("name"),
        );
    }
    let mut out = user_json(&user);
    if generated {
        out["password"] = json!(password);
    }
    Ok(Reply::json(201, out).on(format!("user:{}", user.name)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewOrg {
    name: String,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    max_running: Option<u32>,
}

async fn orgs_create(center: &Arc<Center>, call: Call) -> Result<Reply, ApiError> {
    let body: NewOrg = call.json()?;
    check_name(&body.name, "name")?;
    let display_name = body.display_name.unwrap_or_else(|| body.name.clone());
    check_text(&display_name, "display_name", 200)?;
    let max_running = body.max_running.unwrap_or(2);
    if !(1..=64).contains(&max_running) {
        return Err(ApiError::bad_request(
            "`max_running` is from 1 to 64",
            "`max_running` 须在 1 至 64 之间",
        )
        .at("max_running"));
    }
    let org = Organisation {
        name: body.name,
        display_name,
        max_running,
        created_at: now(),
    };
    let o = org.clone();
    if !on_directory(center, move |d| d.create_org(&o)).await? {
        return Err(
            ApiError::conflict("an organisation with this name exists", "该组织已存在").at("name"),
        );
    }
    Ok(Reply::json(201, json!(org)).on(format!("organisation:{}", org.name)))
}

// Tokens.

async fn tokens_list(center: &Arc<Center>, call: Call) -> Result<Reply, ApiError> {
    let uid = call.who()?.user_id.clone();
    let tokens = on_directory(center, move |d| d.tokens_of(&uid)).await?;
    Ok(Reply::ok(json!({ "tokens": tokens })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewToken {
    name: String,
    scopes: Vec<String>,
    /// Days until it expires: 1 to 366 (default 90).
    #[serde(default)]
    expires_in_days: Option<u32>,
}

async fn tokens_create(center: &Arc<Center>, call: Call) -> Result<Reply, ApiError> {
    let who = call.who()?.clone();
    let body: NewToken = call.json()?;
    check_text(&body.name, "name", 100)?;
    if body.name.trim().is_empty() {
        return Err(ApiError::bad_request(
            "give the token a `name` (what uses it)",
            "请为令牌命名",
        )
        .at("name"));
    }
    let allowed = policy::scopes_of(who.role);
    let mut scopes = Vec::new();
    for (i, s) in body.scopes.iter().enumerate() {
        match Scope::parse(s) {
            Some(scope) if allowed.contains(&scope) => scopes.push(scope),
            _ => {
                let names: Vec<&str> = allowed.iter().map(|s| s.as_str()).collect();
                return Err(ApiError::bad_request(
                    format!(
                        "scope `{s}` is not one your role can give; yours: {}",
                        names.join(", ")
                    ),
                    format!("您的角色不能授予权限范围 `{s}`"),
                )
                .at(format!("scopes[{i}]")));
            }
        }
    }
    if scopes.is_empty() {
        return Err(
            ApiError::bad_request("give at least one scope", "至少指定一个权限范围").at("scopes"),
        );
    }
    let days = body.expires_in_days.unwrap_or(90);
    if !(1..=366).contains(&days) {
        return Err(ApiError::bad_request(
            "`expires_in_days` is from 1 to 366",
            "`expires_in_days` 须在 1 至 366 之间",
        )
        .at("expires_in_days"));
    }
    let secret = format!("tst_{}", secrets::new_secret().map_err(ApiError::internal)?);
    let token = Token {
        id: secrets::new_id("t").map_err(ApiError::internal)?,
        user_id: who.user_id.clone(),
        name: body.name,
        scopes,
        created_at: now(),
        expires_at_ms: Some(touchstone_engine::owner::now_ms() + i64::from(days) * 86_400_000),
        revoked_at: None,
        last_used_at: None,
    };
    let (t, digest) = (token.clone(), secrets::digest(&secret));
    on_directory(center, move |d| d.create_token(&t, &digest)).await?;
    let mut out = json!(token);
    out["token"] = json!(secret);
    Ok(Reply::json(201, out).on(format!("token:{}", token.id)))
}

async fn tokens_revoke(center: &Arc<Center>, call: Call) -> Result<Reply, ApiError> {
    let uid = call.who()?.user_id.clone();
    let id = call.param(0).to_string();
    let i = id.clone();
    if !on_directory(center, move |d| d.revoke_token(&i, &uid, &now())).await? {
        return Err(ApiError::not_found());
    }
    Ok(Reply::ok(json!({ "revoked": id })).on(format!("token:{id}")))
}

// Models.

async fn models_list(center: &Arc<Center>, call: Call) -> Result<Reply, ApiError> {
    let org = policy::visible_organisation(call.who()?).map(str::to_string);
    let models = on_directory(center, move |d| d.models(org.as_deref())).await?;
    Ok(Reply::ok(json!({ "models": models })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewModel {
    #[serde(default)]
    organisation: Option<String>,
    /// The model's name at the endpoint.
    name: String,
    /// The endpoint's base URL, e.g. `https://api.example.com/v1`.
    base_url: String,
    #[serde(default)]
    api_key: Option<String>,
}

async fn models_create(center: &Arc<Center>, call: Call) -> Result<Reply, ApiError> {
    let who = call.who()?.clone();
    let body: NewModel = call.json()?;
    let org = acting_organisation(center, &who, body.organisation).await?;
    check_text(&body.name, "name", 200)?;
    check_text(&body.base_url, "base_url", 2000)?;
    let spec = format!("openai:{}@{}", body.name, body.base_url);
    if let Err(e) = spec.parse::<ModelSpec>() {
        return Err(ApiError::bad_request(
            format!("not a usable endpoint: {e}"),
            "模型名称或地址无效",
        )
        .at("base_url"));
    }
    if body.name.trim().is_empty() || body.name.contains('@') {
        return Err(ApiError::bad_request(
            "`name` is the model's name at the endpoint (no `@`)",
            "`name` 为端点上的模型名称（不含 `@`）",
        )
        .at("name"));
    }
    let id = secrets::new_id("m").map_err(ApiError::internal)?;
    let sealed = match &body.api_key {
        Some(key) => {
            check_text(key, "api_key", 4096)?;
            Some(center.master.seal(key, &id).map_err(ApiError::internal)?)
        }
        None => None,
    };
    let model = Model {
        id,
        organisation: org,
        name: body.name,
        base_url: body.base_url.trim_end_matches('/').to_string(),
        has_key: sealed.is_some(),
        created_by: who.name.clone(),
        created_at: now(),
    };
    let m = model.clone();
    on_directory(center, move |d| d.create_model(&m, sealed.as_deref())).await?;
    Ok(Reply::json(201, json!(model)).on(format!("model:{}", model.id)))
}

/// The model the path names, if the caller may see it (else 404).
async fn load_model(center: &Arc<Center>, call: &Call, action: Action) -> Result<Model, ApiError> {
    let id = call.param(0).to_string();
    let model = on_directory(center, move |d| d.model(&id))
        .await?
        .ok_or_else(ApiError::not_found)?;
    policy::decide_object(call.who()?, action, &model.organisation)?;
    Ok(model)
}

async fn models_delete(center: &Arc<Center>, call: Call) -> Result<Reply, ApiError> {
    let model = load_model(center, &call, Action::ModelsDelete).await?;
    let id = model.id.clone();
    on_directory(center, move |d| d.delete_model(&id)).await?;
    Ok(Reply::ok(json!({ "deleted": model.id })).on(format!("model:{}", model.id)))
}

/// The API key of `model`, decrypted.
pub(crate) fn model_key(center: &Center, model_id: &str) -> Result<Option<String>, ApiError> {
    match center.directory.model_key(model_id)? {
        Some(sealed) => center
            .master
            .open(&sealed, model_id)
            .map(Some)
            .map_err(ApiError::internal),
        None => Ok(None),
    }
}

async fn models_test(center: &Arc<Center>, call: Call) -> Result<Reply, ApiError> {
    let model = load_model(center, &call, Action::ModelsTest).await?;
    let c = center.clone();
    let id = model.id.clone();
    let key = blocking(move || model_key(&c, &id)).await??;
    let client = touchstone_models::openai::OpenAiModel::new(&model.name, &model.base_url, key)
        .map_err(|e| ApiError::bad_request(e.to_string(), "无法连接该模型").at("base_url"))?
        .with_timeout(Duration::from_secs(15));
    let answer = match tokio::time::timeout(Duration::from_secs(20), client.list_models()).await {
        Ok(Ok(models)) => json!({ "ok": true, "models": models }),
        Ok(Err(e)) => json!({ "ok": false, "error": e.to_string() }),
        Err(_) => json!({ "ok": false, "error": "no answer within 20 s" }),
    };
    Ok(Reply::ok(answer).on(format!("model:{}", model.id)))
}

// Runs.

async fn runs_create(center: &Arc<Center>, call: Call) -> Result<Reply, ApiError> {
    let who = call.who()?.clone();
    let mut body: RunRequest = call.json()?;
    let org = acting_organisation(center, &who, body.organisation.take()).await?;
    body.organisation = Some(org.clone());
    // What the run evaluates must load now, not fail later in a worker.
    let (c, request) = (center.clone(), body.clone());
    blocking(move || crate::catalogue::load(&c, &request).map(drop)).await??;
    if body.models.is_empty() || body.models.len() > 16 {
        return Err(
            ApiError::bad_request("give 1 to 16 model ids", "请指定 1 至 16 个模型").at("models"),
        );
    }
    for (i, id) in body.models.iter().enumerate() {
        let id = id.clone();
        let model = on_directory(center, move |d| d.model(&id)).await?;
        match model {
            Some(m) if m.organisation == org => {}
            // Another organisation's model is, to this request, no model at all.
            _ => return Err(ApiError::not_found().at(format!("models[{i}]"))),
        }
    }
    if body.limit == Some(0)
        || body.epochs == Some(0)
        || body.concurrency.is_some_and(|c| c == 0 || c > 256)
    {
        return Err(ApiError::bad_request(
            "`limit` and `epochs` are at least 1, `concurrency` 1 to 256",
            "`limit`、`epochs` 至少为 1，`concurrency` 为 1 至 256",
        )
        .at("body"));
    }
    let job = Job {
        run_id: touchstone_store::new_run_id(),
        organisation: org,
        submitted_by: who.name.clone(),
        request: serde_json::to_value(&body).map_err(ApiError::internal)?,
        status: JobStatus::Queued,
        created_at: now(),
        finished_at: None,
        error: None,
        worker: None,
        lease_expires_ms: 0,
        cancel_requested: false,
    };
    let j = job.clone();
    on_directory(center, move |d| d.create_job(&j)).await?;
    Ok(
        Reply::json(202, json!({ "run_id": job.run_id, "status": job.status }))
            .on(format!("run:{}", job.run_id)),
    )
}

/// A job with its run's progress from the store.
fn run_json(center: &Center, job: &Job) -> Result<Value, ApiError> {
    let run = center.store.run(&job.run_id)?;
    // A queued job's run does not exist yet: nothing counted.
    let counts = match &run {
        Some(_) => center.store.counts(&job.run_id)?,
        None => touchstone_store::Counts::default(),
    };
    Ok(json!({
        "run_id": job.run_id,
        "organisation": job.organisation,
        "submitted_by": job.submitted_by,
        "request": job.request,
        "status": job.status,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "error": job.error,
        "cancel_requested": job.cancel_requested,
        "planned": run.as_ref().and_then(|r| r.planned),
        "scored": counts.scored,
        "failed": counts.failed,
    }))
}

/// Built-in suites, the data folder's benchmarks, and the uploads the caller may see.
async fn suites_list(center: &Arc<Center>, call: Call) -> Result<Reply, ApiError> {
    let c = center.clone();
    let mut offered = blocking(move || crate::catalogue::offered(&c)).await?;
    offered["uploads"] = crate::uploads::visible(center, call.who()?).await?;
    Ok(Reply::ok(offered))
}

async fn runs_list(center: &Arc<Center>, call: Call) -> Result<Reply, ApiError> {
    let org = policy::visible_organisation(call.who()?).map(str::to_string);
    let c = center.clone();
    let runs = blocking(move || -> Result<Vec<Value>, ApiError> {
        c.directory
            .jobs(org.as_deref())?
            .iter()
            .map(|j| run_json(&c, j))
            .collect()
    })
    .await??;
    Ok(Reply::ok(json!({ "runs": runs })))
}

async fn runs_get(center: &Arc<Center>, call: Call) -> Result<Reply, ApiError> {
    let job = load_job(center, &call, Action::RunsGet).await?;
    let c = center.clone();
    let j = job.clone();
    let out = blocking(move || run_json(&c, &j)).await??;
    Ok(Reply::ok(out).on(format!("run:{}", job.run_id)))
}

async fn runs_results(center: &Arc<Center>, call: Call) -> Result<Reply, ApiError> {
    let job = load_job(center, &call, Action::RunsResults).await?;
    let object = format!("run:{}", job.run_id);
    let finished = job.status.is_finished();
    // The hot path of a dashboard: a finished run's cached results, without a blocking task.
    if finished && let Some(text) = center.results_cache.get(&job.run_id) {
        return Ok(Reply::text("application/json", text.to_string()).on(object));
    }
    let (c, id) = (center.clone(), job.run_id.clone());
    match blocking(move || c.results_text(&id, finished)).await?? {
        Some(text) => Ok(Reply::text("application/json", text.to_string()).on(object)),
        None => Err(ApiError::conflict(
            "the run has not started yet: no results",
            "运行尚未开始，暂无结果",
        )),
    }
}

/// `samples.jsonl` of a run, as `touchstone eval --out` writes it: every item recorded so far.
async fn runs_samples_file(center: &Arc<Center>, call: Call) -> Result<Reply, ApiError> {
    let job = load_job(center, &call, Action::RunsSamplesFile).await?;
    let (store, id) = (center.store.clone(), job.run_id.clone());
    let bytes = blocking(move || -> Result<Vec<u8>, ApiError> {
        let mut out = Vec::new();
        touchstone_engine::output::write_samples(store.as_ref(), &id, &mut out).map_err(|e| {
            ApiError::internal(match e {
                touchstone_engine::output::SamplesError::Store(e) => e.to_string(),
                touchstone_engine::output::SamplesError::Write(e) => e.to_string(),
            })
        })?;
        Ok(out)
    })
    .await??;
    Ok(Reply::file(
        "application/x-ndjson",
        format!("{}.samples.jsonl", job.run_id),
        bytes,
    )
    .on(format!("run:{}", job.run_id)))
}

/// Live progress: the run's events after the client's last (`Last-Event-ID`, or `?after=N`
/// where a client cannot set headers), then each as it is written, until the run is done.
async fn runs_events(center: &Arc<Center>, call: Call) -> Result<Reply, ApiError> {
    let job = load_job(center, &call, Action::RunsEvents).await?;
    let after = match call.last_event_id.clone().or_else(|| call.query("after")) {
        None => 0,
        Some(v) => v.trim().parse::<u64>().map_err(|_| {
            ApiError::bad_request(
                "`Last-Event-ID` / `after`: the number of an event this stream sent",
                "`Last-Event-ID` / `after`：须为本事件流发出的事件编号",
            )
            .at("header:last-event-id")
        })?,
    };
    let stream = center
        .feeds
        .subscribe(&center.directory, &job.run_id, after);
    Ok(Reply {
        refused: None,
        status: 200,
        body: Body::Events(stream),
        set_cookies: Vec::new(),
        object: Some(format!("run:{}", job.run_id)),
        location: None,
    })
}

/// The report's format and language from the query: (format, content type, lang).
fn report_format(
    call: &Call,
) -> Result<
    (
        touchstone_report::Format,
        &'static str,
        touchstone_report::Lang,
    ),
    ApiError,
> {
    use touchstone_report::{Format, Lang};
    let format = match call.query("format").as_deref() {
        None | Some("html") => (Format::Html, "text/html; charset=utf-8"),
        Some("md") => (Format::Markdown, "text/markdown; charset=utf-8"),
        Some("json") => (Format::Json, "application/json"),
        Some(_) => {
            return Err(ApiError::bad_request(
                "`format`: html, md or json",
                "`format`：须为 html、md 或 json",
            )
            .at("query:format"));
        }
    };
    let lang = match call.query("lang").as_deref() {
        None | Some("zh") => Lang::Zh,
        Some("en") => Lang::En,
        Some(_) => {
            return Err(
                ApiError::bad_request("`lang`: zh or en", "`lang`：须为 zh 或 en").at("query:lang"),
            );
        }
    };
    Ok((format.0, format.1, lang))
}

/// A run's report, as `touchstone report` writes it.
async fn runs_report(center: &Arc<Center>, call: Call) -> Result<Reply, ApiError> {
    let job = load_job(center, &call, Action::RunsReport).await?;
    let (format, content_type, lang) = report_format(&call)?;
    let (c, id, finished) = (center.clone(), job.run_id.clone(), job.status.is_finished());
    let text = blocking(move || -> Result<Option<String>, ApiError> {
        Ok(c.report_data(&id, finished)?
            .map(|data| touchstone_report::render(&data, format, lang)))
    })
    .await??
    .ok_or_else(|| {
        ApiError::conflict(
            "the run has not started yet: no report",
            "运行尚未开始，暂无报告",
        )
    })?;
    Ok(Reply::text(content_type, text).on(format!("run:{}", job.run_id)))
}

/// Runs side by side (`touchstone compare`): every run must be the caller's to read.
async fn compare(center: &Arc<Center>, call: Call) -> Result<Reply, ApiError> {
    let runs: Vec<String> = call
        .query("runs")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_string)
        .collect();
    // One run of several models compares them; the engine refuses fewer than two models.
    if !(1..=8).contains(&runs.len()) {
        return Err(ApiError::bad_request(
            "`runs`: 1 to 8 run ids, separated by commas (one run compares its models)",
            "`runs`：须为 1 至 8 个以逗号分隔的运行编号（单个运行则比较其中的模型）",
        )
        .at("query:runs"));
    }
    let seed = match call.query("seed") {
        None => 0,
        Some(s) => s.parse::<u64>().map_err(|_| {
            ApiError::bad_request("`seed`: a whole number", "`seed`：须为整数").at("query:seed")
        })?,
    };
    let (format, content_type, lang) = report_format(&call)?;
    for run in &runs {
        let id = run.clone();
        let job = on_directory(center, move |d| d.job(&id))
            .await?
            .ok_or_else(ApiError::not_found)?;
        policy::decide_object(call.who()?, Action::Compare, &job.organisation)?;
    }
    let store = center.store.clone();
    let ids = runs.clone();
    let text = blocking(move || -> Result<String, ApiError> {
        // The engine's reasons name the fix, in both languages.
        let refused = |e: touchstone_engine::EngineError| {
            ApiError::conflict(e.to_string(), format!("这些运行无法对比：{e}"))
        };
        let contestants =
            touchstone_engine::compare::contestants_of(store.as_ref(), &ids).map_err(refused)?;
        let comparison = touchstone_engine::compare::compare(store.as_ref(), &contestants, seed)
            .map_err(refused)?;
        Ok(touchstone_report::render_comparison(
            &comparison,
            format,
            lang,
        ))
    })
    .await??;
    Ok(Reply::text(content_type, text).on(format!("compare:{}", runs.join(","))))
}

/// Items on one page at most.
const MAX_PAGE: usize = 1000;

async fn runs_samples(center: &Arc<Center>, call: Call) -> Result<Reply, ApiError> {
    let job = load_job(center, &call, Action::RunsSamples).await?;
    let bad = |name: &str, en: &str, zh: &str| {
        ApiError::bad_request(format!("`{name}`: {en}"), format!("`{name}`：{zh}"))
            .at(format!("query:{name}"))
    };
    let number = |name: &str| -> Result<Option<f64>, ApiError> {
        call.query(name)
            .map(|v| {
                v.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| bad(name, "a number", "须为数字"))
            })
            .transpose()
    };
    let limit = match call.query("limit") {
        None => 100,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| {
                bad(
                    "limit",
                    "a whole number from 1 to 1000",
                    "须为 1 至 1000 的整数",
                )
            })?,
    };
    let status = match call.query("status").as_deref() {
        None => None,
        Some("scored") => Some(touchstone_core::ItemStatus::Scored),
        Some("failed") => Some(touchstone_core::ItemStatus::Failed),
        Some(_) => {
            return Err(bad(
                "status",
                "`scored` or `failed`",
                "须为 scored 或 failed",
            ));
        }
    };
    let label = match call.query("label") {
        None => None,
        Some(v) => match v.split_once(':') {
            Some((k, value)) if !k.is_empty() => Some((k.to_string(), value.to_string())),
            _ => return Err(bad("label", "KEY:VALUE, e.g. risk:A.1", "格式为 键:值")),
        },
    };
    let query = touchstone_store::ResultsQuery {
        after: call.query("after"),
        limit,
        status,
        task: call.query("task"),
        model: call.query("model"),
        label,
        score_min: number("score_min")?,
        score_max: number("score_max")?,
        text: call.query("text").filter(|t| !t.is_empty()),
        items: match call.query("baseline").filter(|b| !b.is_empty()) {
            None => None,
            Some(baseline) => Some(differing(center, &call, &job, baseline).await?),
        },
    };
    let store = center.store.clone();
    let id = job.run_id.clone();
    let page = blocking(
        move || -> Result<Vec<touchstone_store::ItemResult>, ApiError> {
            if store.run(&id)?.is_none() {
                return Ok(Vec::new());
            }
            Ok(store.results_page(&id, &query)?)
        },
    )
    .await??;
    let next = (page.len() == limit)
        .then(|| page.last().map(|r| r.item_id.0.clone()))
        .flatten();
    Ok(Reply::ok(json!({ "samples": page, "next": next })).on(format!("run:{}", job.run_id)))
}

/// The items of `job`'s run whose outcome differs from the same question in `baseline`, a run
/// the caller may read too. Kept while both runs are finished.
async fn differing(
    center: &Arc<Center>,
    call: &Call,
    job: &Job,
    baseline: String,
) -> Result<Arc<[String]>, ApiError> {
    // Another organisation's run is told apart from a missing one by nothing.
    let not_found = || {
        ApiError::new(
            404,
            "not_found",
            "no baseline run with this id",
            "没有此基线运行",
        )
        .at("query:baseline")
    };
    let base = on_directory(center, move |d| d.job(&baseline))
        .await?
        .ok_or_else(not_found)?;
    policy::decide_object(call.who()?, Action::RunsSamples, &base.organisation)
        .map_err(|_| not_found())?;
    let finished = job.status.is_finished() && base.status.is_finished();
    let (c, run, base_run) = (center.clone(), job.run_id.clone(), base.run_id.clone());
    blocking(move || c.differing_items(&run, &base_run, finished)).await?
}

async fn runs_cancel(center: &Arc<Center>, call: Call) -> Result<Reply, ApiError> {
    let job = load_job(center, &call, Action::RunsCancel).await?;
    let id = job.run_id.clone();
    let status = on_directory(center, move |d| d.request_cancel(&id, &now())).await?;
    if let Some(token) = center
        .running
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&job.run_id)
    {
        token.cancel();
    }
    Ok(Reply::json(
        202,
        json!({ "run_id": job.run_id, "status": status, "cancel_requested": true }),
    )
    .on(format!("run:{}", job.run_id)))
}

// The audit trail.

async fn audit_list(center: &Arc<Center>, call: Call) -> Result<Reply, ApiError> {
    let number = |name: &str, default: u64| -> Result<u64, ApiError> {
        match call.query(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| {
                ApiError::bad_request(
                    format!("`{name}` is a whole number"),
                    format!("`{name}` 须为整数"),
                )
                .at(format!("query:{name}"))
            }),
        }
    };
    let after = number("after", 0)?;
    let limit = number("limit", 1000)?.clamp(1, 10_000) as usize;
    let store = center.store.clone();
    let rows = blocking(move || store.audit_events(after, limit)).await??;
    let mut text = String::new();
    for row in rows {
        text.push_str(&row.event);
        text.push('\n');
    }
    Ok(Reply::text("application/x-ndjson", text).on(format!("audit:after:{after}")))
}
