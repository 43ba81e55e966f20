//! The console's forms: models, a new run, accounts and organisations, API tokens, and the
//! audit trail. Like every page, each asks the API's handlers for what it shows and changes; a
//! refusal the person can fix (a bad field, a name taken) comes back in the same form.

use std::sync::Arc;

use bytes::Bytes;
use serde_json::{Value, json};
use touchstone_console::{self as console, Lang};

use super::{Shown, api, ask, field, in_form, list, optional, render, text, without_nulls};
use crate::catalogue::RunRequest;
use crate::error::ApiError;
use crate::exchange::{Call, Reply};
use crate::policy::{self, Action};
use crate::{Center, blocking};

/// Every value the form sent for `name` (checkboxes send one per ticked box, or none).
fn fields(form: &Value, name: &str) -> Vec<String> {
    match &form[name] {
        Value::String(s) => vec![s.clone()],
        Value::Array(list) => list
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// A number field's value, or null when left empty; a located error when it is not a number.
fn number(form: &Value, name: &str, lang: Lang) -> Result<Value, String> {
    match field(form, name).trim() {
        "" => Ok(Value::Null),
        s => s.parse::<u64>().map(|n| json!(n)).map_err(|_| match lang {
            Lang::Zh => format!("`{name}` 须为非负整数，而不是 “{s}”"),
            Lang::En => format!("`{name}` is a whole number, not “{s}”"),
        }),
    }
}

/// The organisations the caller acts for by choice (staff); empty for an applicant.
async fn organisations(center: &Arc<Center>, call: &Call) -> Result<Vec<String>, ApiError> {
    if policy::visible_organisation(call.who()?).is_some() {
        return Ok(Vec::new());
    }
    let orgs = ask(center, call, Action::OrgsList, vec![], Value::Null).await?;
    Ok(list(&orgs, "organisations")
        .iter()
        .map(|o| text(&o["name"]))
        .collect())
}

async fn model_rows(center: &Arc<Center>, call: &Call) -> Result<Vec<console::ModelRow>, ApiError> {
    let models = ask(center, call, Action::ModelsList, vec![], Value::Null).await?;
    Ok(list(&models, "models")
        .iter()
        .map(|m| console::ModelRow {
            id: text(&m["id"]),
            organisation: text(&m["organisation"]),
            name: text(&m["name"]),
            base_url: text(&m["base_url"]),
            has_key: m["has_key"].as_bool().unwrap_or(false),
            created_by: text(&m["created_by"]),
            created_at: text(&m["created_at"]),
        })
        .collect())
}

pub(super) async fn dispatch(
    center: &Arc<Center>,
    action: Action,
    call: Call,
) -> Result<Reply, ApiError> {
    use Action::*;
    let lang = call.lang;
    match action {
        PageModels => models_page(center, &call, 200, None, None).await,
        PageModelsCreate => {
            let form: Value = call.json()?;
            let body = json!({
                "organisation": optional(&form, "organisation"),
                "name": field(&form, "name"),
                "base_url": field(&form, "base_url").trim(),
                "api_key": optional(&form, "api_key"),
            });
            match ask(center, &call, ModelsCreate, vec![], body).await {
                Ok(model) => Ok(Reply::redirect("/console/models".into())
                    .on(format!("model:{}", text(&model["id"])))),
                Err(e) => {
                    let r = in_form(e, lang)?;
                    Ok(models_page(center, &call, r.status, None, Some(r.message))
                        .await?
                        .refusing(r.code))
                }
            }
        }
        PageModelTest => {
            let id = call.param(0).to_string();
            let answer = ask(center, &call, ModelsTest, vec![id.clone()], Value::Null).await?;
            let ok = answer["ok"].as_bool().unwrap_or(false);
            let detail = if ok {
                list(&answer, "models")
                    .iter()
                    .map(text)
                    .collect::<Vec<_>>()
                    .join(", ")
            } else {
                text(&answer["error"])
            };
            let tested = console::Tested {
                model_id: id,
                ok,
                detail,
            };
            let object = format!("model:{}", tested.model_id);
            Ok(models_page(center, &call, 200, Some(tested), None)
                .await?
                .on(object))
        }
        PageModelDelete => {
            let id = call.param(0).to_string();
            ask(center, &call, ModelsDelete, vec![id.clone()], Value::Null).await?;
            Ok(Reply::redirect("/console/models".into()).on(format!("model:{id}")))
        }
        PageRunNew => {
            let form = console::RunForm {
                evaluates: "suite:quick".into(),
                seed: "0".into(),
                ..console::RunForm::default()
            };
            new_run_page(center, &call, 200, form, None, None).await
        }
        PageRunCreate => run_create(center, &call).await,
        PageAdmin => admin_page(center, &call, 200, None, None).await,
        PageUserCreate => {
            let form: Value = call.json()?;
            let body = json!({
                "name": field(&form, "name").trim(),
                "role": field(&form, "role"),
                "organisation": optional(&form, "organisation"),
            });
            match ask(center, &call, UsersCreate, vec![], body).await {
                Ok(user) => {
                    let created = (text(&user["name"]), text(&user["password"]));
                    let object = format!("user:{}", created.0);
                    Ok(admin_page(center, &call, 200, Some(created), None)
                        .await?
                        .on(object))
                }
                Err(e) => {
                    let r = in_form(e, lang)?;
                    Ok(admin_page(center, &call, r.status, None, Some(r.message))
                        .await?
                        .refusing(r.code))
                }
            }
        }
        PageOrgCreate => {
            let form: Value = call.json()?;
            let body = number(&form, "max_running", lang).map(|max| {
                json!({
                    "name": field(&form, "name").trim(),
                    "display_name": optional(&form, "display_name"),
                    "max_running": max,
                })
            });
            let outcome = match body {
                Ok(body) => match ask(center, &call, OrgsCreate, vec![], body).await {
                    Ok(org) => Ok(org),
                    Err(e) => Err(in_form(e, lang)?),
                },
                Err(message) => Err(Shown::field(message)),
            };
            match outcome {
                Ok(org) => Ok(Reply::redirect("/console/admin".into())
                    .on(format!("organisation:{}", text(&org["name"])))),
                Err(r) => Ok(admin_page(center, &call, r.status, None, Some(r.message))
                    .await?
                    .refusing(r.code)),
            }
        }
        PageTokens => tokens_page(center, &call, 200, None, None).await,
        PageTokenCreate => {
            let form: Value = call.json()?;
            let body = number(&form, "expires_in_days", lang).map(|days| {
                json!({
                    "name": field(&form, "name"),
                    "scopes": fields(&form, "scopes"),
                    "expires_in_days": days,
                })
            });
            let outcome = match body {
                Ok(body) => match ask(center, &call, TokensCreate, vec![], body).await {
                    Ok(token) => Ok(token),
                    Err(e) => Err(in_form(e, lang)?),
                },
                Err(message) => Err(Shown::field(message)),
            };
            match outcome {
                Ok(token) => {
                    let object = format!("token:{}", text(&token["id"]));
                    let created = (text(&token["name"]), text(&token["token"]));
                    Ok(tokens_page(center, &call, 200, Some(created), None)
                        .await?
                        .on(object))
                }
                Err(r) => Ok(tokens_page(center, &call, r.status, None, Some(r.message))
                    .await?
                    .refusing(r.code)),
            }
        }
        PageTokenRevoke => {
            let id = call.param(0).to_string();
            ask(center, &call, TokensRevoke, vec![id.clone()], Value::Null).await?;
            Ok(Reply::redirect("/console/tokens".into()).on(format!("token:{id}")))
        }
        PageAudit => audit_page(center, &call).await,
        _ => Err(ApiError::not_found()),
    }
}

async fn models_page(
    center: &Arc<Center>,
    call: &Call,
    status: u16,
    tested: Option<console::Tested>,
    error: Option<String>,
) -> Result<Reply, ApiError> {
    let can_change = policy::decide(call.principal.as_ref(), Action::PageModelsCreate).is_ok();
    let view = console::ModelsView {
        models: model_rows(center, call).await?,
        organisations: if can_change {
            organisations(center, call).await?
        } else {
            Vec::new()
        },
        can_change,
        tested,
        error,
    };
    render(call, status, |f| console::models(f, &view))
}

/// What a run can evaluate, as the caller may choose it.
async fn evaluates(center: &Arc<Center>, call: &Call) -> Result<Vec<console::Choice>, ApiError> {
    let offered = ask(center, call, Action::SuitesList, vec![], Value::Null).await?;
    let lang = call.lang;
    let mut choices = Vec::new();
    for s in list(&offered, "builtin") {
        let name = text(&s["name"]);
        let description = text(&s["description"]);
        let first = description.lines().next().unwrap_or("").to_string();
        choices.push(console::Choice {
            value: format!("suite:{name}"),
            label: if first.is_empty() {
                name
            } else {
                format!("{name} — {first}")
            },
        });
    }
    for b in list(&offered, "benchmarks") {
        if b["available"].as_bool() == Some(true) {
            let name = text(&b["name"]);
            choices.push(console::Choice {
                value: format!("benchmark:{name}"),
                label: format!("{name} ({})", console::t(lang, "基准", "benchmark")),
            });
        }
    }
    for u in list(&offered, "uploads") {
        choices.push(console::Choice {
            value: format!("upload:{}", text(&u["id"])),
            label: format!(
                "{} ({} · {})",
                text(&u["name"]),
                console::t(lang, "上传的套件", "uploaded suite"),
                text(&u["organisation"])
            ),
        });
    }
    Ok(choices)
}

async fn new_run_page(
    center: &Arc<Center>,
    call: &Call,
    status: u16,
    form: console::RunForm,
    preview: Option<console::Preview>,
    error: Option<String>,
) -> Result<Reply, ApiError> {
    let view = console::NewRunView {
        evaluates: evaluates(center, call).await?,
        models: model_rows(center, call).await?,
        organisations: organisations(center, call).await?,
        form,
        preview,
        error,
    };
    render(call, status, |f| console::new_run(f, &view))
}

/// The API's run request for what the form holds, or what is wrong with it.
fn run_request(form: &console::RunForm, lang: Lang) -> Result<Value, String> {
    let mut body = json!({
        "models": form.models,
        "seed": number(&json!({ "seed": form.seed }), "seed", lang)?,
        "limit": number(&json!({ "limit": form.limit }), "limit", lang)?,
        "epochs": number(&json!({ "epochs": form.epochs }), "epochs", lang)?,
    });
    if body["seed"].is_null() {
        body["seed"] = json!(0);
    }
    if !form.organisation.is_empty() {
        body["organisation"] = json!(form.organisation);
    }
    match form.evaluates.split_once(':') {
        Some((kind @ ("suite" | "benchmark" | "upload"), name)) if !name.is_empty() => {
            body[kind] = json!(name);
            Ok(without_nulls(body))
        }
        _ => Err(console::t(lang, "请选择评测内容。", "Choose what to evaluate.").to_string()),
    }
}

async fn run_create(center: &Arc<Center>, call: &Call) -> Result<Reply, ApiError> {
    let lang = call.lang;
    let posted: Value = call.json()?;
    let form = console::RunForm {
        evaluates: field(&posted, "evaluates"),
        organisation: field(&posted, "organisation"),
        models: fields(&posted, "models"),
        limit: field(&posted, "limit"),
        epochs: field(&posted, "epochs"),
        seed: field(&posted, "seed"),
    };
    let request = match run_request(&form, lang) {
        Ok(r) => r,
        Err(message) => {
            return Ok(new_run_page(center, call, 400, form, None, Some(message))
                .await?
                .refusing("bad_request"));
        }
    };
    let outcome = if field(&posted, "do") == "preview" {
        preview(center, call, &request)
            .await
            .map(|p| (None, Some(p)))
    } else {
        ask(center, call, Action::RunsCreate, vec![], request)
            .await
            .map(|created| (Some(text(&created["run_id"])), None))
    };
    match outcome {
        Ok((Some(run), _)) => Ok(Reply::redirect(format!(
            "/console/runs/{}",
            console::encode(&run)
        ))
        .on(format!("run:{run}"))),
        Ok((None, preview)) => new_run_page(center, call, 200, form, preview, None).await,
        Err(e) => {
            let r = in_form(e, lang)?;
            Ok(
                new_run_page(center, call, r.status, form, None, Some(r.message))
                    .await?
                    .refusing(r.code),
            )
        }
    }
}

/// Counts a run's items as the engine will plan them, and what they can tell: nothing is sent.
async fn preview(
    center: &Arc<Center>,
    call: &Call,
    request: &Value,
) -> Result<console::Preview, ApiError> {
    let mut request: RunRequest = serde_json::from_value(request.clone())
        .map_err(|e| ApiError::bad_request(e.to_string(), "运行请求无效").at("body"))?;
    let who = call.who()?;
    request.organisation =
        Some(crate::objects::acting_organisation(center, who, request.organisation.take()).await?);
    let models = request.models.len().max(1);
    let c = center.clone();
    let tasks = blocking(move || -> Result<Vec<(String, u64)>, ApiError> {
        let suite = crate::catalogue::load(&c, &request)?;
        touchstone_engine::planned_items(&suite, &request.options()).map_err(|e| {
            ApiError::bad_request(e.to_string(), "无法读取该评测内容的数据").at("evaluates")
        })
    })
    .await??;
    let per_model: u64 = tasks.iter().map(|(_, n)| n).sum();
    let smallest = tasks.iter().map(|(_, n)| *n).filter(|n| *n > 0).min();
    Ok(console::Preview {
        total: per_model * models as u64,
        models,
        half_width: smallest.map(|n| touchstone_stats::power::wilson_half_width(0.5, n, 0.95)),
        detectable: smallest.and_then(|n| {
            touchstone_stats::power::minimum_detectable_effect(0.5, n, 0.05, 0.8).ok()
        }),
        tasks,
    })
}

async fn admin_page(
    center: &Arc<Center>,
    call: &Call,
    status: u16,
    created: Option<(String, String)>,
    error: Option<String>,
) -> Result<Reply, ApiError> {
    let users = ask(center, call, Action::UsersList, vec![], Value::Null).await?;
    let orgs = ask(center, call, Action::OrgsList, vec![], Value::Null).await?;
    let view = console::AdminView {
        users: list(&users, "users")
            .iter()
            .map(|u| console::UserRow {
                name: text(&u["name"]),
                role: text(&u["role"]),
                organisation: u["organisation"].as_str().map(str::to_string),
                must_change_password: u["must_change_password"].as_bool().unwrap_or(false),
            })
            .collect(),
        orgs: list(&orgs, "organisations")
            .iter()
            .map(|o| console::OrgRow {
                name: text(&o["name"]),
                display_name: text(&o["display_name"]),
                max_running: o["max_running"].as_u64().unwrap_or(0) as u32,
                created_at: text(&o["created_at"]),
            })
            .collect(),
        created,
        error,
    };
    render(call, status, |f| console::admin(f, &view))
}

async fn tokens_page(
    center: &Arc<Center>,
    call: &Call,
    status: u16,
    created: Option<(String, String)>,
    error: Option<String>,
) -> Result<Reply, ApiError> {
    let tokens = ask(center, call, Action::TokensList, vec![], Value::Null).await?;
    let view = console::TokensView {
        tokens: list(&tokens, "tokens")
            .iter()
            .map(|t| console::TokenRow {
                id: text(&t["id"]),
                name: text(&t["name"]),
                scopes: list(t, "scopes").iter().map(text).collect(),
                created_at: text(&t["created_at"]),
                expires_at: t["expires_at_ms"].as_i64().map_or_else(String::new, |ms| {
                    touchstone_store::format_rfc3339(ms / 1000)
                }),
                revoked: !t["revoked_at"].is_null(),
                last_used_at: t["last_used_at"].as_str().map(str::to_string),
            })
            .collect(),
        scopes: policy::scopes_of(call.who()?.role)
            .iter()
            .map(|s| s.as_str().to_string())
            .collect(),
        created,
        error,
    };
    render(call, status, |f| console::tokens(f, &view))
}

/// Events shown on one audit page at most.
const AUDIT_PAGE: usize = 200;

/// The audit trail through the API's export, filtered here; with `format=ndjson`, the events
/// the filter selects as a file.
async fn audit_page(center: &Arc<Center>, call: &Call) -> Result<Reply, ApiError> {
    let filter = console::AuditFilter {
        actor: call.query("actor").unwrap_or_default(),
        action: call.query("action").unwrap_or_default(),
        object: call.query("object").unwrap_or_default(),
        outcome: call.query("outcome").unwrap_or_default(),
    };
    let export = call.query("format").as_deref() == Some("ndjson");
    let mut after: u64 = match call.query("after") {
        None => 0,
        Some(v) => v.parse().map_err(|_| {
            ApiError::bad_request("`after` is a whole number", "`after` 须为整数").at("query:after")
        })?,
    };
    let mut events = Vec::new();
    let mut lines = String::new();
    let mut next = None;
    'pages: loop {
        let query = format!("after={after}&limit=1000");
        let reply = api(
            center,
            call,
            Action::AuditList,
            vec![],
            &query,
            Bytes::new(),
        )
        .await?;
        let body = match reply.body {
            crate::exchange::Body::Text { text, .. } => text,
            _ => return Err(ApiError::internal("the audit export is text")),
        };
        if body.is_empty() {
            break;
        }
        for line in body.lines() {
            let sealed: touchstone_audit::Sealed =
                serde_json::from_str(line).map_err(ApiError::internal)?;
            after = sealed.seq;
            let e = &sealed.event;
            let contains = |value: &str, part: &str| part.is_empty() || value.contains(part);
            if !(contains(&e.actor, &filter.actor)
                && contains(&e.action, &filter.action)
                && contains(&e.object, &filter.object)
                && contains(&e.outcome, &filter.outcome))
            {
                continue;
            }
            if export {
                lines.push_str(line);
                lines.push('\n');
                continue;
            }
            if events.len() == AUDIT_PAGE {
                next = events.last().map(|r: &console::AuditRow| r.seq);
                break 'pages;
            }
            events.push(console::AuditRow {
                seq: sealed.seq,
                at: sealed.at.clone(),
                actor: e.actor.clone(),
                role: e.role.clone(),
                organisation: e.organisation.clone(),
                action: e.action.clone(),
                object: e.object.clone(),
                source: e.source.clone(),
                outcome: e.outcome.clone(),
            });
        }
    }
    if export {
        let mut reply = Reply::ok(Value::Null);
        reply.body = crate::exchange::Body::File {
            content_type: "application/x-ndjson",
            name: "audit.ndjson".into(),
            bytes: lines.into_bytes(),
        };
        return Ok(reply);
    }
    let store = center.store.clone();
    let verified = blocking(move || touchstone_audit::verify(store.as_ref(), None)).await?;
    let (broken, head) = match verified {
        Ok(head) => (None, head.map(|h| (h.seq, h.hash))),
        Err(e) => (Some(e.to_string()), None),
    };
    let view = console::AuditView {
        events,
        filter,
        next,
        broken,
        head,
    };
    render(call, 200, |f| console::audit(f, &view))
}
