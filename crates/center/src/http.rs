//! The HTTP layer: accept connections, find the route, establish who is calling, refuse
//! cross-origin writes, ask the policy, read a bounded JSON body, call the handler, record the
//! audit event and write the answer with its security headers. Handlers see a [`Call`] and
//! return a [`Reply`]; none of them parses headers or decides access on its own.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, Limited, StreamBody};
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use hyper::{Request, Response, StatusCode};
use tokio::net::TcpListener;

use crate::error::ApiError;
use crate::exchange::{Body, Call, Reply, SESSION_COOKIE, clear_cookie};
use crate::policy::{self, Action, Principal};
use crate::{Center, routes};

/// Serves the API until `shutdown` (the accept loop is `touchstone-serve`'s).
pub(crate) async fn serve(
    listener: TcpListener,
    center: Arc<Center>,
    tls: Option<crate::tls::Acceptor>,
    shutdown: impl Future<Output = ()>,
) {
    let answer = move |req, peer| {
        let center = center.clone();
        async move { handle(&center, req, peer).await }
    };
    match tls {
        None => touchstone_serve::accept_until(listener, answer, shutdown).await,
        #[cfg(not(feature = "tls"))]
        Some(acceptor) => match acceptor {},
        #[cfg(feature = "tls")]
        Some(acceptor) => {
            let handshake = move |stream| {
                let acceptor = acceptor.clone();
                async move { acceptor.accept(stream).await }
            };
            touchstone_serve::accept_wrapped_until(listener, handshake, answer, shutdown).await;
        }
    }
}

/// What the server answers with: a whole body, or an event stream.
pub(crate) type ReplyBody = UnsyncBoxBody<Bytes, std::convert::Infallible>;

async fn handle(
    center: &Arc<Center>,
    req: Request<Incoming>,
    peer: SocketAddr,
) -> Response<ReplyBody> {
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    // A page's errors are pages too, a missing page's included.
    let page = routes::is_page(&path);
    let lang = page_lang(req.headers());
    let here = if query.is_empty() {
        path.clone()
    } else {
        format!("{path}?{query}")
    };
    let mut seen = Seen::default();
    let (reply, cookies_clear) =
        match prepare(center, req, peer, &method, &path, query, &mut seen).await {
            Ok((action, call)) => {
                let principal = call.principal.clone();
                let result = if page {
                    crate::pages::dispatch(center, action, call).await
                } else {
                    crate::handlers::dispatch(center, action, call).await
                };
                if let Some(a) = seen.audit.as_mut() {
                    let (outcome, object) = match &result {
                        Ok(r) => match r.refused {
                            Some(code) => (format!("refused:{code}"), r.object.clone()),
                            None => ("ok".to_string(), r.object.clone()),
                        },
                        Err(e) => (format!("refused:{}", e.code), None),
                    };
                    *a = AuditNote {
                        principal,
                        object,
                        outcome,
                        ..a.clone()
                    };
                }
                (result, false)
            }
            Err((e, clear)) => (Err(e), clear),
        };
    if let Some(note) = seen.audit {
        note.record(center).await;
    }
    let mut response = match reply {
        Ok(reply) => render(reply),
        Err(e) if page => render(crate::pages::error_page(
            &e,
            lang,
            seen.caller.as_ref(),
            &here,
        )),
        Err(e) => error_response(&e),
    };
    if cookies_clear {
        response.headers_mut().append(
            hyper::header::SET_COOKIE,
            HeaderValue::from_str(&clear_cookie(center.secure_cookies())).expect("ascii cookie"),
        );
    }
    security_headers(response.headers_mut(), page);
    response
}

/// What `prepare` learned before it answered or refused: the audit event to record, and who
/// is calling (an error page still shows them signed in).
#[derive(Default)]
struct Seen {
    audit: Option<AuditNote>,
    caller: Option<Principal>,
}

/// An event to record once the request is answered.
#[derive(Clone)]
struct AuditNote {
    principal: Option<Principal>,
    action: Action,
    method: String,
    path: String,
    object: Option<String>,
    peer: IpAddr,
    outcome: String,
}

impl AuditNote {
    async fn record(self, center: &Arc<Center>) {
        // The anonymous public's refused calls are not events (anyone could flood the trail
        // with them); its logins are recorded by the login handler itself.
        let Some(p) = self.principal else { return };
        let event = touchstone_audit::Event {
            actor: p.name.clone(),
            role: p.role.as_str().into(),
            organisation: p.organisation.clone(),
            action: format!("{:?}", self.action),
            object: self
                .object
                .unwrap_or_else(|| format!("{} {}", self.method, self.path)),
            source: self.peer.to_string(),
            outcome: self.outcome,
        };
        center.audit(event).await;
    }
}

/// Everything before the handler. Errors carry whether to clear a stale session cookie.
async fn prepare(
    center: &Arc<Center>,
    req: Request<Incoming>,
    peer: SocketAddr,
    method: &str,
    path: &str,
    query: String,
    seen: &mut Seen,
) -> Result<(Action, Call), (ApiError, bool)> {
    let Seen { audit, caller } = seen;
    let plain = |e: ApiError| (e, false);
    let (route, params) = routes::find(method, path).map_err(|miss| {
        plain(match miss {
            routes::Miss::NotFound => {
                ApiError::new(404, "not_found", format!("no route {path}"), "没有该路径")
            }
            routes::Miss::MethodNotAllowed => ApiError::new(
                405,
                "method_not_allowed",
                format!("{path} does not take {method}"),
                "该路径不支持此方法",
            ),
        })
    })?;
    let headers = req.headers().clone();
    let unsafe_method = !matches!(method, "GET" | "HEAD" | "OPTIONS");
    // A write from a page of another site is refused whatever credential it carries: the
    // browser sends `Origin` (and `Sec-Fetch-Site`) with it, and SameSite=Strict alone is not
    // relied on.
    if unsafe_method && cross_origin(&headers) {
        return Err(plain(ApiError::new(
            403,
            "cross_origin",
            "a write from another origin is refused (CSRF protection)",
            "拒绝跨站请求（CSRF 防护）",
        )));
    }
    let (principal, session_secret, stale) = authenticate(center, &headers).await.map_err(plain)?;
    caller.clone_from(&principal);
    let peer_ip = peer.ip();
    // Public routes are not events (a login records its own outcome); everything a signed-in
    // caller does elsewhere is.
    if principal.is_some() && !policy::is_public(route.action) {
        *audit = Some(AuditNote {
            principal: principal.clone(),
            action: route.action,
            method: method.to_string(),
            path: path.to_string(),
            object: None,
            peer: peer_ip,
            outcome: String::new(),
        });
    }
    if let Err(refusal) = policy::decide(principal.as_ref(), route.action) {
        if let Some(a) = audit.as_mut() {
            a.outcome = format!("refused:{}", ApiError::from(refusal).code);
        }
        return Err((refusal.into(), stale));
    }
    let body = if route.body {
        read_body(req, route.max_body, route.page)
            .await
            .map_err(|e| {
                if let Some(a) = audit.as_mut() {
                    a.outcome = format!("refused:{}", e.code);
                }
                plain(e)
            })?
    } else {
        Bytes::new()
    };
    Ok((
        route.action,
        Call {
            principal,
            params,
            query,
            body,
            peer: peer_ip,
            session_secret,
            last_event_id: headers
                .get("last-event-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            lang: page_lang(&headers),
            path: path.to_string(),
        },
    ))
}

fn cross_origin(headers: &HeaderMap) -> bool {
    // A browser's own word, which no page's script can set, decides where it is given. It
    // must: pages are served with `Referrer-Policy: no-referrer`, under which a browser sends
    // `Origin: null` with its forms' posts, same-origin ones included (found by the browser
    // test).
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return !matches!(site, "same-origin" | "none");
    }
    let Some(origin) = headers.get(hyper::header::ORIGIN) else {
        return false;
    };
    let host = headers
        .get(hyper::header::HOST)
        .and_then(|v| v.to_str().ok());
    let origin = origin.to_str().unwrap_or("");
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    match (origin_host, host) {
        (Some(o), Some(h)) => !o.eq_ignore_ascii_case(h),
        _ => true,
    }
}

/// Who is calling: a bearer token (which must be valid if given), else a session cookie
/// (a stale one makes the caller anonymous and is cleared).
async fn authenticate(
    center: &Arc<Center>,
    headers: &HeaderMap,
) -> Result<(Option<Principal>, Option<String>, bool), ApiError> {
    if let Some(auth) = headers.get(hyper::header::AUTHORIZATION) {
        let token = auth
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(|| {
                ApiError::new(
                    401,
                    "bad_credentials",
                    "the Authorization header must be `Bearer TOKEN`",
                    "Authorization 头应为 `Bearer 令牌`",
                )
                .at("header:authorization")
            })?;
        return center
            .token_principal(token)
            .await
            .map(|p| (Some(p), None, false));
    }
    let Some(secret) = session_cookie(headers) else {
        return Ok((None, None, false));
    };
    let principal = center.session_principal(&secret).await?;
    let stale = principal.is_none();
    Ok((principal, Some(secret), stale))
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(hyper::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == name && !v.is_empty()).then(|| v.to_string())
        })
}

fn session_cookie(headers: &HeaderMap) -> Option<String> {
    cookie(headers, SESSION_COOKIE)
}

/// A page's language: the visitor's remembered choice, else English where the browser asks
/// for English before Chinese, else 中文.
fn page_lang(headers: &HeaderMap) -> touchstone_console::Lang {
    use touchstone_console::Lang;
    if let Some(lang) = cookie(headers, crate::pages::LANG_COOKIE).and_then(|v| v.parse().ok()) {
        return lang;
    }
    let accept = headers
        .get(hyper::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let first = accept
        .split(',')
        .map(|l| l.trim())
        .find(|l| l.starts_with("en") || l.starts_with("zh"));
    match first {
        Some(l) if l.starts_with("en") => Lang::En,
        _ => Lang::Zh,
    }
}

/// A form's fields as a JSON object of strings (a repeated field as an array of them), so
/// that pages read forms as the API reads JSON: typed, unknown fields refused.
fn form_to_json(bytes: &[u8]) -> Result<Bytes, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes).map_err(|e| {
        ApiError::new(
            400,
            "bad_json",
            format!("the form cannot be read: {e}"),
            "表单无法解析",
        )
        .at("body")
    })?;
    let mut object = serde_json::Map::new();
    for (k, v) in pairs {
        match object.get_mut(&k) {
            None => {
                object.insert(k, serde_json::Value::String(v));
            }
            Some(serde_json::Value::Array(list)) => list.push(serde_json::Value::String(v)),
            Some(first) => {
                let earlier = first.take();
                *first = serde_json::Value::Array(vec![earlier, serde_json::Value::String(v)]);
            }
        }
    }
    Ok(Bytes::from(serde_json::Value::Object(object).to_string()))
}

async fn read_body(req: Request<Incoming>, max: usize, page: bool) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            413,
            "too_large",
            format!("the body is over {} KiB", max / 1024),
            format!("请求体超过 {} KiB", max / 1024),
        )
    };
    if let Some(len) = req
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && len > max as u64
    {
        return Err(too_large());
    }
    let content_type = req
        .headers()
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let has_body = req.headers().contains_key(hyper::header::CONTENT_LENGTH)
        || req.headers().contains_key(hyper::header::TRANSFER_ENCODING);
    let form = page && content_type.starts_with("application/x-www-form-urlencoded");
    if has_body && !form && !content_type.starts_with("application/json") {
        return Err(ApiError::new(
            415,
            "unsupported_media_type",
            "send the body as application/json",
            "请求体须为 application/json",
        )
        .at("header:content-type"));
    }
    let collected = Limited::new(req.into_body(), max)
        .collect()
        .await
        .map_err(|e| {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                too_large()
            } else {
                ApiError::bad_request("the body could not be read", "无法读取请求体")
            }
        })?;
    let bytes = collected.to_bytes();
    if form {
        return form_to_json(&bytes);
    }
    Ok(if bytes.is_empty() {
        Bytes::from_static(b"{}")
    } else {
        bytes
    })
}

fn render(reply: Reply) -> Response<ReplyBody> {
    let whole = |bytes: Bytes| Full::new(bytes).boxed_unsync();
    let mut attachment = None;
    let (content_type, body) = match reply.body {
        Body::Json(v) => ("application/json", whole(Bytes::from(v.to_string()))),
        Body::Text { content_type, text } => (content_type, whole(Bytes::from(text))),
        Body::Events(stream) => (
            "text/event-stream; charset=utf-8",
            StreamBody::new(stream.map(|b| Ok(hyper::body::Frame::data(b)))).boxed_unsync(),
        ),
        Body::File {
            content_type,
            name,
            bytes,
        } => {
            attachment = Some(name);
            (content_type, whole(Bytes::from(bytes)))
        }
    };
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
    let headers = response.headers_mut();
    headers.insert(
        hyper::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    if let Some(name) = attachment {
        // Only a plain name goes into the header; anything else downloads unnamed.
        let plain = name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        let value = if plain {
            format!("attachment; filename=\"{name}\"")
        } else {
            "attachment".to_string()
        };
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(hyper::header::CONTENT_DISPOSITION, v);
        }
    }
    if let Some(to) = reply.location
        && let Ok(v) = HeaderValue::from_str(&to)
    {
        headers.insert(hyper::header::LOCATION, v);
    }
    for cookie in reply.set_cookies {
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            headers.append(hyper::header::SET_COOKIE, v);
        }
    }
    response
}

pub(crate) fn error_response(e: &ApiError) -> Response<ReplyBody> {
    let mut response =
        Response::new(Full::new(Bytes::from(e.to_json().to_string())).boxed_unsync());
    *response.status_mut() =
        StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(
        hyper::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(secs) = e.retry_after {
        headers.insert(hyper::header::RETRY_AFTER, HeaderValue::from(secs));
    }
    if e.status == 401 {
        headers.insert(
            hyper::header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"touchstone\""),
        );
    }
    response
}

fn security_headers(headers: &mut HeaderMap, page: bool) {
    // HTML (reports) carries its style sheet inline and its charts as data: images; no answer
    // may run a script or be framed.
    let html = headers
        .get(hyper::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    // The console's pages load their style and script from this center and run nothing
    // inline; the API's HTML (reports) runs no script at all.
    let csp = if page {
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    } else if html {
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"
    } else {
        "default-src 'none'; frame-ancestors 'none'"
    };
    for (name, value) in [
        ("cache-control", "no-store"),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("content-security-policy", csp),
    ] {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
}
