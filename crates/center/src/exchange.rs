//! What passes between the HTTP layer and the handlers: the request as a handler sees it
//! ([`Call`]), its answer ([`Reply`]), the session cookie's form, and the blocking bridge to the
//! directory. Below both `http` and `handlers`, so neither imports the other's caller.

use std::net::IpAddr;
use std::sync::Arc;

use bytes::Bytes;
use serde_json::Value;

use crate::error::ApiError;
use crate::policy::{self, Principal};
use crate::{Center, blocking, secrets};

pub const SESSION_COOKIE: &str = "touchstone_session";

/// One request as a handler sees it.
pub(crate) struct Call {
    pub principal: Option<Principal>,
    pub params: Vec<String>,
    pub query: String,
    pub body: Bytes,
    pub peer: IpAddr,
    /// The session cookie presented, if any (login replaces it, logout ends it).
    pub session_secret: Option<String>,
    /// An event stream's reconnecting client: the last event it received.
    pub last_event_id: Option<String>,
    /// The language a page is shown in (the remembered choice, else the browser's).
    pub lang: touchstone_console::Lang,
    /// The request's path, for pages that link back to themselves.
    pub path: String,
}

impl Call {
    /// The body as `T`, refusing unknown fields, with the JSON path of the first problem.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, ApiError> {
        let mut de = serde_json::Deserializer::from_slice(&self.body);
        let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            ApiError::new(
                400,
                "bad_json",
                format!("the request body is not what this route takes: {inner}"),
                format!("请求体格式错误：{inner}"),
            )
            .at(if path == "." { "body".into() } else { path })
        })?;
        de.end().map_err(|e| {
            ApiError::new(
                400,
                "bad_json",
                format!("trailing data after the JSON body: {e}"),
                "请求体末尾有多余内容",
            )
            .at("body")
        })?;
        Ok(value)
    }

    pub fn param(&self, i: usize) -> &str {
        self.params.get(i).map(String::as_str).unwrap_or("")
    }

    /// The value of query parameter `name`, percent-decoded.
    pub fn query(&self, name: &str) -> Option<String> {
        self.query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k == name).then(|| percent_decode(v))
        })
    }

    /// Every value of query parameter `name` (a form's checkboxes repeat it), percent-decoded.
    pub fn queries(&self, name: &str) -> Vec<String> {
        self.query
            .split('&')
            .filter_map(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                (k == name).then(|| percent_decode(v))
            })
            .collect()
    }

    pub fn who(&self) -> Result<&Principal, ApiError> {
        self.principal
            .as_ref()
            .ok_or_else(|| policy::Refusal::SignIn.into())
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What a handler answers.
pub(crate) struct Reply {
    pub status: u16,
    pub body: Body,
    pub set_cookies: Vec<String>,
    /// The object the audit event names (`run:ID`); the path when None.
    pub object: Option<String>,
    /// Where a redirect (303) sends the browser.
    pub location: Option<String>,
    /// The error's code where a page answers a refusal itself (a form shown again with what
    /// was wrong): the audit trail records it as refused, not as done.
    pub refused: Option<&'static str>,
}

pub(crate) enum Body {
    Json(Value),
    Text {
        content_type: &'static str,
        text: String,
    },
    /// Server-Sent Events, written as they come.
    Events(crate::feed::EventStream),
    /// A file to save (`Content-Disposition: attachment`).
    File {
        content_type: &'static str,
        name: String,
        bytes: Vec<u8>,
    },
}

impl Reply {
    pub fn json(status: u16, value: Value) -> Reply {
        Reply {
            status,
            body: Body::Json(value),
            set_cookies: Vec::new(),
            object: None,
            location: None,
            refused: None,
        }
    }

    pub fn ok(value: Value) -> Reply {
        Reply::json(200, value)
    }

    pub fn text(content_type: &'static str, text: String) -> Reply {
        Reply {
            status: 200,
            body: Body::Text { content_type, text },
            set_cookies: Vec::new(),
            object: None,
            location: None,
            refused: None,
        }
    }

    /// A download named `name` (letters, digits, `.`, `_`, `-`: it goes into a header).
    pub fn file(content_type: &'static str, name: String, bytes: Vec<u8>) -> Reply {
        Reply {
            status: 200,
            body: Body::File {
                content_type,
                name,
                bytes,
            },
            set_cookies: Vec::new(),
            object: None,
            location: None,
            refused: None,
        }
    }

    /// A page.
    pub fn html(status: u16, text: String) -> Reply {
        Reply {
            status,
            ..Reply::text("text/html; charset=utf-8", text)
        }
    }

    /// "See other": the browser fetches `to` (a path of this center) with GET.
    pub fn redirect(to: String) -> Reply {
        Reply {
            status: 303,
            location: Some(to),
            refused: None,
            ..Reply::text("text/plain; charset=utf-8", String::new())
        }
    }

    pub fn on(mut self, object: impl Into<String>) -> Reply {
        self.object = Some(object.into());
        self
    }

    /// The page answers the refusal `code` itself (see [`Reply::refused`]).
    pub fn refusing(mut self, code: &'static str) -> Reply {
        self.refused = Some(code);
        self
    }
}

/// The session cookie: HttpOnly (no script reads it), SameSite=Strict, Secure under TLS.
pub(crate) fn session_cookie_header(secret: &str, max_age_secs: u64, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{}",
        if secure { "; Secure" } else { "" }
    )
}

pub(crate) fn clear_cookie(secure: bool) -> String {
    session_cookie_header("", 0, secure)
}

/// A new random secret and its digest, for a session.
pub(crate) fn new_session() -> Result<(String, String), ApiError> {
    let secret = secrets::new_secret().map_err(ApiError::internal)?;
    let digest = secrets::digest(&secret);
    Ok((secret, digest))
}

/// Used by handlers that must run blocking directory calls.
pub(crate) async fn on_directory<T: Send + 'static>(
    center: &Arc<Center>,
    f: impl FnOnce(&crate::directory::Directory) -> Result<T, crate::directory::DirectoryError>
    + Send
    + 'static,
) -> Result<T, ApiError> {
    let c = center.clone();
    blocking(move || f(&c.directory))
        .await?
        .map_err(ApiError::from)
}
