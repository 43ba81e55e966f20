//! The console's pages: each gathers its data through the API's own handlers — asked with the
//! caller's credential, after the policy allowed the page and the API action both — and hands
//! it to `touchstone-console` to render. So a page shows nothing the API would not give the
//! same caller, and there is no second way in. Forms post `application/x-www-form-urlencoded`
//! (the HTTP layer reads them as JSON objects of strings); answers to forms are redirects.

use std::sync::Arc;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};
use touchstone_console::{self as console, Frame, Lang, NavLink, Viewer};

use crate::error::ApiError;
use crate::exchange::{Body, Call, Reply};
use crate::policy::{self, Action, Principal};
use crate::{Center, blocking};

mod forms;
mod samples;

/// The language cookie: the visitor's choice, remembered for a year.
pub(crate) const LANG_COOKIE: &str = "touchstone_lang";

/// The header's links, each offered only where the policy lets the visitor follow it.
const NAV: &[(Action, NavLink)] = &[
    (
        Action::PageHome,
        NavLink {
            href: "/",
            zh: "公开结果",
            en: "Published results",
        },
    ),
    (
        Action::PageDashboard,
        NavLink {
            href: "/console",
            zh: "运行",
            en: "Runs",
        },
    ),
    (
        Action::PageCompare,
        NavLink {
            href: "/console/compare",
            zh: "比较",
            en: "Compare",
        },
    ),
    (
        Action::PageRunNew,
        NavLink {
            href: "/console/new-run",
            zh: "新建运行",
            en: "New run",
        },
    ),
    (
        Action::PageModels,
        NavLink {
            href: "/console/models",
            zh: "模型",
            en: "Models",
        },
    ),
    (
        Action::PageAdmin,
        NavLink {
            href: "/console/admin",
            zh: "管理",
            en: "Admin",
        },
    ),
    (
        Action::PageAudit,
        NavLink {
            href: "/console/audit",
            zh: "审计",
            en: "Audit",
        },
    ),
    (
        Action::PageTokens,
        NavLink {
            href: "/console/tokens",
            zh: "令牌",
            en: "Tokens",
        },
    ),
    (
        Action::PageVerify,
        NavLink {
            href: "/verify",
            zh: "验证证书",
            en: "Verify",
        },
    ),
    (
        Action::PageAbout,
        NavLink {
            href: "/about",
            zh: "说明",
            en: "About",
        },
    ),
];

fn nav(who: Option<&Principal>) -> Vec<NavLink> {
    NAV.iter()
        .filter(|(action, _)| policy::decide(who, *action).is_ok())
        .map(|(_, link)| *link)
        .collect()
}

fn viewer(who: Option<&Principal>) -> Option<Viewer> {
    who.map(|p| Viewer {
        name: p.name.clone(),
        role: p.role.as_str().to_string(),
        organisation: p.organisation.clone(),
    })
}

/// This request's path and query, where the language switch and sign-in come back to.
fn here(call: &Call) -> String {
    if call.query.is_empty() {
        call.path.clone()
    } else {
        format!("{}?{}", call.path, call.query)
    }
}

/// Renders a page with the caller's frame.
pub(super) fn render(
    call: &Call,
    status: u16,
    page: impl FnOnce(&Frame<'_>) -> String,
) -> Result<Reply, ApiError> {
    let who = call.principal.as_ref();
    let (viewer, nav, here) = (viewer(who), nav(who), here(call));
    let frame = Frame {
        lang: call.lang,
        viewer: viewer.as_ref(),
        nav: &nav,
        here: &here,
    };
    Ok(Reply::html(status, page(&frame)))
}

/// An error as a page: signing in sends the browser to the sign-in form and back; anything
/// else is the error's message in the page's language.
pub(crate) fn error_page(
    e: &ApiError,
    lang: Lang,
    who: Option<&Principal>,
    path_and_query: &str,
) -> Reply {
    if e.code == "sign_in" {
        return Reply::redirect(format!("/login?next={}", console::encode(path_and_query)));
    }
    if e.code == "password_change_required" {
        return Reply::redirect("/console/password".into());
    }
    let (viewer, nav) = (viewer(who), nav(who));
    let frame = Frame {
        lang,
        viewer: viewer.as_ref(),
        nav: &nav,
        here: path_and_query,
    };
    Reply::html(e.status, console::error(&frame, e.status, &said(e, lang)))
}

/// The error's message in the page's language.
pub(super) fn said(e: &ApiError, lang: Lang) -> String {
    match lang {
        Lang::Zh => e.message_zh.clone(),
        Lang::En => e.message.clone(),
    }
}

/// Where a form may send the browser back to: a path of this center, nothing else (an open
/// redirect would let a link to this center forward its visitors anywhere).
pub(super) fn local_path(next: Option<&str>, fallback: &str) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => fallback.to_string(),
    }
}

/// Asks the API's handler for `action` with the caller's credential, after the policy.
pub(super) async fn api(
    center: &Arc<Center>,
    call: &Call,
    action: Action,
    params: Vec<String>,
    query: &str,
    body: Bytes,
) -> Result<Reply, ApiError> {
    policy::decide(call.principal.as_ref(), action)?;
    let inner = derived(call, params, query, body, call.path.clone());
    crate::handlers::dispatch(center, action, inner).await
}

/// A call by the same caller, in the same language, with its own parameters, query, body and
/// path.
pub(super) fn derived(
    call: &Call,
    params: Vec<String>,
    query: &str,
    body: Bytes,
    path: String,
) -> Call {
    Call {
        principal: call.principal.clone(),
        params,
        query: query.to_string(),
        body,
        peer: call.peer,
        session_secret: call.session_secret.clone(),
        last_event_id: None,
        lang: call.lang,
        path,
    }
}

pub(super) fn json_of(reply: Reply) -> Result<Value, ApiError> {
    match reply.body {
        Body::Json(v) => Ok(v),
        Body::Text { text, .. } => serde_json::from_str(&text).map_err(ApiError::internal),
        _ => Err(ApiError::internal("a page asked for JSON and got a stream")),
    }
}

/// The object without its null fields (the API's bodies leave out what is not given).
pub(super) fn without_nulls(mut v: Value) -> Value {
    if let Some(object) = v.as_object_mut() {
        object.retain(|_, v| !v.is_null());
    }
    v
}

/// The API's JSON answer for `action` (no query): `body` sent as JSON, its null fields left
/// out, or nothing when it is null.
pub(super) async fn ask(
    center: &Arc<Center>,
    call: &Call,
    action: Action,
    params: Vec<String>,
    body: Value,
) -> Result<Value, ApiError> {
    let body = if body.is_null() {
        Bytes::new()
    } else {
        Bytes::from(without_nulls(body).to_string())
    };
    json_of(api(center, call, action, params, "", body).await?)
}

/// The array at `key`, or none.
pub(super) fn list(v: &Value, key: &str) -> Vec<Value> {
    v[key].as_array().cloned().unwrap_or_default()
}

/// A JSON value as the pages show it: a string as it is, null as nothing.
pub(super) fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The form's field `name` as sent (a string; the first of several), or "".
pub(super) fn field(form: &Value, name: &str) -> String {
    match &form[name] {
        Value::String(s) => s.clone(),
        Value::Array(list) => list
            .first()
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        _ => String::new(),
    }
}

/// A refusal the form shows: its status, its code (the audit trail records it) and what to fix.
pub(super) struct Shown {
    status: u16,
    code: &'static str,
    message: String,
}

impl Shown {
    /// A field the form itself finds wrong, before the API is asked.
    pub(super) fn field(message: String) -> Shown {
        Shown {
            status: 400,
            code: "bad_request",
            message,
        }
    }
}

/// The refusal as the form shows it, or the error itself where a form cannot help (signing in,
/// a failure of the center).
pub(super) fn in_form(e: ApiError, lang: Lang) -> Result<Shown, ApiError> {
    if e.status >= 500 || matches!(e.code, "sign_in" | "password_change_required") {
        return Err(e);
    }
    let message = said(&e, lang);
    Ok(Shown {
        status: e.status,
        code: e.code,
        message: match &e.location {
            Some(at) => format!("{message} ({at})"),
            None => message,
        },
    })
}

/// A text field's value, or JSON null when left empty.
pub(super) fn optional(form: &Value, name: &str) -> Value {
    match field(form, name).trim() {
        "" => Value::Null,
        s => json!(s),
    }
}

pub(crate) async fn dispatch(
    center: &Arc<Center>,
    action: Action,
    call: Call,
) -> Result<Reply, ApiError> {
    use Action::*;
    match action {
        Static => match console::asset(call.param(0)) {
            Some((content_type, text)) => Ok(Reply::text(content_type, text.to_string())),
            None => Err(ApiError::not_found()),
        },
        PageHome => home(center, &call).await,
        PageAbout => render(&call, 200, console::about),
        PageVerify => verify_form(center, &call).await,
        PageVerifyCheck => verify_check(center, &call).await,
        PageLang => lang(&call),
        PageLogin => {
            let next = call.query("next");
            let next = local_path(next.as_deref(), "/console");
            render(&call, 200, |f| console::login(f, &next, "", None))
        }
        PageLoginSubmit => login(center, &call).await,
        PageLogout => {
            let reply = api(center, &call, Logout, vec![], "", Bytes::new()).await?;
            let mut out = Reply::redirect("/".into());
            out.set_cookies = reply.set_cookies;
            Ok(out)
        }
        PageDashboard => dashboard(center, &call).await,
        PageRun => run(center, &call).await,
        PageRunCancel | PageRunCertify | PageRunPublish => {
            let id = call.param(0).to_string();
            let (inner, body) = match action {
                PageRunCancel => (RunsCancel, Bytes::new()),
                // The passphrase goes to the API's handler as it came, and nowhere else.
                PageRunCertify => (RunsCertify, call.body.clone()),
                _ => (RunsPublish, Bytes::new()),
            };
            api(center, &call, inner, vec![id.clone()], "", body).await?;
            Ok(
                Reply::redirect(format!("/console/runs/{}", console::encode(&id)))
                    .on(format!("run:{id}")),
            )
        }
        PagePassword => {
            let forced = call.who()?.must_change_password;
            render(&call, 200, |f| console::password(f, forced, None))
        }
        PagePasswordSubmit => password(center, &call).await,
        PageSamples => samples::browse(center, &call, 200, None).await,
        PageModel => model(center, &call).await,
        PageLog => log(center, &call).await,
        PageCompare => compare(center, &call).await,
        PageQueue => samples::queue(center, &call).await,
        PageFlagCreate => samples::flag(center, &call).await,
        PageReviewCreate => samples::review(center, &call).await,
        _ => forms::dispatch(center, action, call).await,
    }
}

fn lang(call: &Call) -> Result<Reply, ApiError> {
    let lang: Lang = call.param(0).parse().map_err(|_| {
        ApiError::bad_request("the language is zh or en", "语言须为 zh 或 en").at("path")
    })?;
    let next = call.query("next");
    let mut reply = Reply::redirect(local_path(next.as_deref(), "/"));
    reply.set_cookies.push(format!(
        "{LANG_COOKIE}={lang}; Path=/; Max-Age=31536000; SameSite=Lax"
    ));
    Ok(reply)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginForm {
    name: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
}

async fn login(center: &Arc<Center>, call: &Call) -> Result<Reply, ApiError> {
    let form: LoginForm = call.json()?;
    let next = local_path(form.next.as_deref(), "/console");
    let body = json!({ "name": form.name, "password": form.password }).to_string();
    match api(center, call, Action::Login, vec![], "", Bytes::from(body)).await {
        Ok(reply) => {
            let mut out = Reply::redirect(next);
            out.set_cookies = reply.set_cookies;
            Ok(out)
        }
        Err(e) if matches!(e.code, "bad_credentials" | "throttled") => {
            let message = said(&e, call.lang);
            render(call, e.status, |f| {
                console::login(f, &next, &form.name, Some(&message))
            })
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordForm {
    current: String,
    new: String,
}

/// The API's password change; its refusals (a wrong current password, a short new one, too
/// many tries) are shown in the form.
async fn password(center: &Arc<Center>, call: &Call) -> Result<Reply, ApiError> {
    let form: PasswordForm = call.json()?;
    let body = json!({ "current": form.current, "new": form.new }).to_string();
    match api(
        center,
        call,
        Action::PasswordChange,
        vec![],
        "",
        Bytes::from(body),
    )
    .await
    {
        Ok(reply) => {
            let mut out = Reply::redirect("/console".into());
            out.set_cookies = reply.set_cookies;
            Ok(out)
        }
        Err(e) if e.status < 500 && e.code != "sign_in" => {
            let message = said(&e, call.lang);
            let forced = call.who()?.must_change_password;
            render(call, e.status, |f| {
                console::password(f, forced, Some(&message))
            })
        }
        Err(e) => Err(e),
    }
}

/// The leaderboard API's answer as the pages show it.
fn boards_of(data: &Value) -> Vec<console::Board> {
    list(data, "suites")
        .iter()
        .map(|s| {
            let columns: Vec<String> = list(s, "columns").iter().map(text).collect();
            let rows = list(s, "runs")
                .iter()
                .map(|r| console::BoardRow {
                    run_id: text(&r["run_id"]),
                    models: text(&r["model"]),
                    organisation: text(&r["organisation"]),
                    published_at: text(&r["published_at"]),
                    cells: columns
                        .iter()
                        .map(|c| {
                            let cell = &r["cells"][c];
                            Some(console::Cell {
                                value: cell["value"].as_f64()?,
                                low: cell["ci_low"].as_f64()?,
                                high: cell["ci_high"].as_f64()?,
                                tier: r["tiers"][c].as_u64().map(|t| t as usize),
                            })
                        })
                        .collect(),
                    verdicts: [
                        "conforms",
                        "does_not_conform",
                        "not_applicable",
                        "cannot_decide",
                    ]
                    .map(|k| r["verdicts"][k].as_u64().unwrap_or(0) as usize),
                    certificate: r["certificate"].as_bool().unwrap_or(false),
                })
                .collect();
            console::Board {
                suite: text(&s["suite"]),
                columns,
                rows,
            }
        })
        .collect()
}

async fn home(center: &Arc<Center>, call: &Call) -> Result<Reply, ApiError> {
    let data = ask(center, call, Action::PublishedList, vec![], Value::Null).await?;
    let boards = boards_of(&data);
    render(call, 200, |f| console::home(f, &boards))
}

/// `/model?name=`: the leaderboard's rows of one model, in every suite it was published in.
async fn model(center: &Arc<Center>, call: &Call) -> Result<Reply, ApiError> {
    let name = call.query("name").unwrap_or_default();
    let data = ask(center, call, Action::PublishedList, vec![], Value::Null).await?;
    let boards: Vec<console::Board> = boards_of(&data)
        .into_iter()
        .filter_map(|mut board| {
            board.rows.retain(|r| r.models == name);
            (!board.rows.is_empty()).then_some(board)
        })
        .collect();
    if boards.is_empty() {
        return Err(ApiError::new(
            404,
            "not_found",
            "no published result names this model; the leaderboard lists those that exist",
            "没有该模型的公开结果；已公开的模型见排行榜",
        ));
    }
    render(call, 200, |f| console::model(f, &name, &boards))
}

/// `/log`: the transparency log's head, from the API's.
async fn log(center: &Arc<Center>, call: &Call) -> Result<Reply, ApiError> {
    let head = ask(center, call, Action::LogHead, vec![], Value::Null).await?;
    let view = console::LogView {
        tree_size: head["tree_size"].as_u64().unwrap_or(0),
        root_hash: text(&head["root_hash"]),
        recent: list(&head, "recent")
            .iter()
            .map(|e| (e["index"].as_u64().unwrap_or(0), text(&e["leaf_hash"])))
            .collect(),
    };
    render(call, 200, |f| console::log(f, &view))
}

/// Runs compared at most (the API's limit).
const COMPARE_MAX: usize = 8;

/// `/console/compare?run=A&run=B`: the completed runs to pick from, and the comparison of
/// those picked, through the compare API (which checks each run is the caller's to read).
async fn compare(center: &Arc<Center>, call: &Call) -> Result<Reply, ApiError> {
    let chosen: Vec<String> = call
        .queries("run")
        .into_iter()
        .filter(|r| !r.is_empty())
        .collect();
    let data = ask(center, call, Action::RunsList, vec![], Value::Null).await?;
    let runs: Vec<Value> = list(&data, "runs")
        .into_iter()
        .filter(|r| r["status"] == "completed")
        .collect();
    let names = model_names(center, &runs).await?;
    let choices = runs
        .iter()
        .zip(&names)
        .map(|(r, n)| {
            let row = run_row(r, n);
            console::CompareChoice {
                checked: chosen.contains(&row.id),
                label: format!("{} · {} · {}", row.evaluates, row.models, row.created_at),
                id: row.id,
            }
        })
        .collect();
    let mut view = console::CompareView {
        choices,
        chosen: chosen.clone(),
        comparison: None,
        error: None,
    };
    let lang = call.lang;
    if chosen.len() > COMPARE_MAX {
        view.error = Some(
            console::t(lang, "一次至多比较 8 个运行。", "Compare 8 runs at most.").to_string(),
        );
    } else if !chosen.is_empty() {
        let query = format!(
            "runs={}&format=json",
            chosen
                .iter()
                .map(|r| console::encode(r))
                .collect::<Vec<_>>()
                .join(",")
        );
        match api(center, call, Action::Compare, vec![], &query, Bytes::new()).await {
            Ok(reply) => {
                let c: touchstone_engine::compare::Comparison =
                    serde_json::from_value(json_of(reply)?).map_err(ApiError::internal)?;
                view.comparison = Some(touchstone_report::comparison_sections(&c, lang));
            }
            Err(e) if matches!(e.status, 400 | 409) => view.error = Some(said(&e, lang)),
            Err(e) => return Err(e),
        }
    }
    let status = if view.error.is_some() { 422 } else { 200 };
    render(call, status, |f| console::compare(f, &view))
}

/// The outcome of `POST /api/v1/certificates/verify` as the page shows it.
fn verify_view(answer: &Value, lang: Lang) -> console::VerifyView {
    let message = |v: &Value| match lang {
        Lang::Zh => text(&v["message_zh"]),
        Lang::En => text(&v["message"]),
    };
    let checks = answer["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| console::CheckLine {
            name: text(&c["check"]),
            passed: c["passed"].as_bool(),
            message: message(c),
        })
        .collect();
    let mut facts = Vec::new();
    if let Some(cert) = answer["certificate"].as_object() {
        for (key, value) in cert {
            let shown = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            facts.push((key.clone(), shown));
        }
    }
    console::VerifyView {
        valid: answer["valid"].as_bool().unwrap_or(false),
        checks,
        facts,
        offline: answer.get("offline").map(message),
        error: None,
    }
}

async fn verify_bytes(
    center: &Arc<Center>,
    call: &Call,
    bytes: Bytes,
) -> Result<console::VerifyView, ApiError> {
    match api(center, call, Action::CertificatesVerify, vec![], "", bytes).await {
        Ok(reply) => Ok(verify_view(&json_of(reply)?, call.lang)),
        Err(e) if e.status < 500 => Ok(console::VerifyView {
            valid: false,
            checks: Vec::new(),
            facts: Vec::new(),
            offline: None,
            error: Some(said(&e, call.lang)),
        }),
        Err(e) => Err(e),
    }
}

/// The form; with `?run=ID`, the verification of that published run's certificate.
async fn verify_form(center: &Arc<Center>, call: &Call) -> Result<Reply, ApiError> {
    let Some(run) = call.query("run") else {
        return render(call, 200, |f| console::verify(f, "", None));
    };
    let c = center.clone();
    let id = run.clone();
    // Only a published run's certificate is public.
    let certificate = blocking(move || -> Result<Option<Vec<u8>>, ApiError> {
        if c.directory.published_at(&id)?.is_none() {
            return Ok(None);
        }
        Ok(c.directory.latest_certificate(&id)?.map(|i| i.certificate))
    })
    .await??
    .ok_or_else(ApiError::not_found)?;
    let view = verify_bytes(center, call, Bytes::from(certificate.clone())).await?;
    let text = String::from_utf8_lossy(&certificate).into_owned();
    render(call, 200, |f| console::verify(f, &text, Some(&view)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyForm {
    certificate: String,
}

async fn verify_check(center: &Arc<Center>, call: &Call) -> Result<Reply, ApiError> {
    let form: VerifyForm = call.json()?;
    // A form sends a textarea's line ends as CRLF and may drop its last one; a certificate
    // file's lines end in LF, the last included. Outside its strings (where a line end is
    // written `\n`) that is all a browser changes, so it is undone and nothing else.
    let text = format!(
        "{}\n",
        form.certificate
            .replace("\r\n", "\n")
            .trim_end_matches('\n')
    );
    let view = verify_bytes(center, call, Bytes::from(text.clone())).await?;
    render(call, 200, |f| console::verify(f, &text, Some(&view)))
}

fn run_row(v: &Value, model_names: &[String]) -> console::RunRow {
    let request = &v["request"];
    let evaluates = ["suite", "benchmark", "upload"]
        .iter()
        .find_map(|k| request[*k].as_str())
        .unwrap_or("")
        .to_string();
    console::RunRow {
        id: text(&v["run_id"]),
        organisation: text(&v["organisation"]),
        evaluates,
        models: model_names.join(", "),
        status: text(&v["status"]),
        planned: v["planned"].as_u64(),
        done: v["scored"].as_u64().unwrap_or(0) + v["failed"].as_u64().unwrap_or(0),
        created_at: text(&v["created_at"]),
    }
}

/// The registered names of a run's models (the ids where a model was since removed).
async fn model_names(center: &Arc<Center>, runs: &[Value]) -> Result<Vec<Vec<String>>, ApiError> {
    let ids: Vec<Vec<String>> = runs
        .iter()
        .map(|r| {
            r["request"]["models"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|m| m.as_str().map(str::to_string))
                .collect()
        })
        .collect();
    let c = center.clone();
    blocking(move || -> Result<Vec<Vec<String>>, ApiError> {
        ids.into_iter()
            .map(|run| {
                run.into_iter()
                    .map(|id| Ok(c.directory.model(&id)?.map_or(id, |m| m.name)))
                    .collect()
            })
            .collect()
    })
    .await?
}

async fn dashboard(center: &Arc<Center>, call: &Call) -> Result<Reply, ApiError> {
    let data = ask(center, call, Action::RunsList, vec![], Value::Null).await?;
    let runs = data["runs"].as_array().cloned().unwrap_or_default();
    let names = model_names(center, &runs).await?;
    let rows: Vec<console::RunRow> = runs
        .iter()
        .zip(&names)
        .map(|(r, n)| run_row(r, n))
        .collect();
    render(call, 200, |f| console::dashboard(f, &rows))
}

async fn run(center: &Arc<Center>, call: &Call) -> Result<Reply, ApiError> {
    let id = call.param(0).to_string();
    let data = ask(center, call, Action::RunsGet, vec![id.clone()], Value::Null).await?;
    let names = model_names(center, std::slice::from_ref(&data)).await?;
    let row = run_row(&data, &names[0]);
    let finished = matches!(row.status.as_str(), "completed" | "failed" | "cancelled");
    let (c, run_id, lang) = (center.clone(), id.clone(), call.lang);
    type Found = (
        Option<Arc<touchstone_report::ReportData>>,
        Option<String>,
        bool,
    );
    let (report, published_at, certified) = blocking(move || -> Result<Found, ApiError> {
        // The report once the run has items.
        let report = c.report_data(&run_id, finished)?.filter(|data| {
            let counts = data.results.counts;
            counts.scored + counts.failed > 0
        });
        Ok((
            report,
            c.directory.published_at(&run_id)?,
            c.directory.latest_certificate(&run_id)?.is_some(),
        ))
    })
    .await??;
    let q = console::encode(&id);
    let mut downloads = Vec::new();
    if report.is_some() {
        for (format, zh, en) in [
            ("html", "报告（HTML）", "Report (HTML)"),
            ("md", "报告（Markdown）", "Report (Markdown)"),
            ("json", "报告（JSON）", "Report (JSON)"),
        ] {
            downloads.push(console::Download {
                href: format!("/api/v1/runs/{q}/report?format={format}&lang={lang}"),
                zh,
                en,
            });
        }
        downloads.push(console::Download {
            href: format!("/api/v1/runs/{q}/results"),
            zh: "结果（results.json）",
            en: "Results (results.json)",
        });
        downloads.push(console::Download {
            href: format!("/api/v1/runs/{q}/samples.jsonl"),
            zh: "样本（samples.jsonl）",
            en: "Samples (samples.jsonl)",
        });
    }
    if certified {
        downloads.push(console::Download {
            href: format!("/api/v1/runs/{q}/certificate"),
            zh: "证书",
            en: "Certificate",
        });
    }
    let review = if report.is_some() {
        let summary = ask(
            center,
            call,
            Action::ReviewsList,
            vec![id.clone()],
            Value::Null,
        )
        .await?;
        review_summary(&summary)
    } else {
        None
    };
    let view = console::RunView {
        samples: report
            .is_some()
            .then(|| format!("/console/runs/{q}/samples")),
        review,
        events: (!finished).then(|| format!("/api/v1/runs/{q}/events")),
        finished_at: data["finished_at"].as_str().map(str::to_string),
        error: data["error"].as_str().map(str::to_string),
        downloads,
        report: report
            .as_ref()
            .map(|r| touchstone_report::html_sections(r, lang)),
        can_cancel: !finished
            && policy::decide(call.principal.as_ref(), Action::RunsCancel).is_ok(),
        can_certify: row.status == "completed"
            && policy::decide(call.principal.as_ref(), Action::RunsCertify).is_ok(),
        published_at,
        row,
    };
    Ok(render(call, 200, |f| console::run(f, &view))?.on(format!("run:{id}")))
}

/// The reviews API's summary as the run page shows it; None when nothing was reviewed.
fn review_summary(summary: &Value) -> Option<console::ReviewSummary> {
    let current: Vec<console::Reviewed> = summary["current"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| console::Reviewed {
            item_id: c["item_id"].as_str().unwrap_or("").to_string(),
            scorer: c["scorer"].as_str().unwrap_or("").to_string(),
            automatic: c["automatic"].as_f64().unwrap_or(0.0),
            reviewed: c["reviewed"].as_f64().unwrap_or(0.0),
            reason: c["reason"].as_str().unwrap_or("").to_string(),
            reviewer: c["reviewer"].as_str().unwrap_or("").to_string(),
            reviews: c["reviews"].as_u64().unwrap_or(1),
        })
        .collect();
    if current.is_empty() {
        return None;
    }
    let agreement = &summary["agreement"];
    let ci = &agreement["kappa_ci95"];
    Some(console::ReviewSummary {
        current,
        changed: agreement["changed"].as_u64().unwrap_or(0),
        kappa: agreement["kappa"].as_f64(),
        kappa_ci: ci[0].as_f64().zip(ci[1].as_f64()),
        observed: agreement["observed"].as_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_send_the_browser_only_to_paths_of_this_center() {
        assert_eq!(local_path(Some("/console/runs/x"), "/"), "/console/runs/x");
        for bad in [
            "//evil.example/x",
            "https://evil.example",
            "/\\evil.example",
            "javascript:alert(1)",
            "",
        ] {
            assert_eq!(local_path(Some(bad), "/console"), "/console", "{bad}");
        }
        assert_eq!(local_path(None, "/"), "/");
    }
}
