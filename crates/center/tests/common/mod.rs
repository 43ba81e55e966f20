//! A center in the test process, on a free port, with a mock model and helpers to call it as
//! each kind of caller.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use serde_json::{Value, json};
use touchstone_center::{Center, CenterConfig, ProviderFactory, Server};
use touchstone_mock::{BackgroundMock, MockConfig, spawn_background};
use touchstone_store::{SqliteStore, Store};

/// The administrator's password once the one-time one is changed.
pub const ADMIN_PASSWORD: &str = "the-administrator-chose-this";

/// How a request authenticates.
#[derive(Debug, Clone)]
pub enum Auth {
    None,
    Cookie(String),
    Bearer(String),
}

pub struct Harness {
    pub dir: tempfile::TempDir,
    pub server: Option<Server>,
    pub addr: SocketAddr,
    pub base: String,
    pub http: reqwest::Client,
    pub admin: Auth,
    pub admin_password: String,
    pub mock: BackgroundMock,
    pub center: Arc<Center>,
}

pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Harness {
    pub async fn start(workers: usize) -> Harness {
        Harness::start_with(workers, MockConfig::default()).await
    }

    pub async fn start_with(workers: usize, mock: MockConfig) -> Harness {
        Harness::start_full(workers, mock, None).await
    }

    /// A center offering the benchmarks in `data_dir`.
    pub async fn start_with_data(workers: usize, data_dir: std::path::PathBuf) -> Harness {
        Harness::start_full(workers, MockConfig::default(), Some(data_dir)).await
    }

    async fn start_full(
        workers: usize,
        mock: MockConfig,
        data_dir: Option<std::path::PathBuf>,
    ) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let paths = CenterConfig {
            data_dir,
            ..CenterConfig::in_dir(dir.path())
        };
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&paths.db).unwrap());
        let providers: ProviderFactory = Arc::new(touchstone_providers::Keyed::shared);
        let center = Center::open(store, &paths, providers).unwrap();
        let admin_password = center.bootstrap_admin("admin").unwrap().unwrap();
        let server = Server::start(center.clone(), "127.0.0.1:0".parse().unwrap(), workers)
            .await
            .unwrap();
        let addr = server.local_addr();
        let mock = spawn_background(mock).unwrap();
        let mut h = Harness {
            dir,
            server: Some(server),
            addr,
            base: format!("http://{addr}"),
            http: reqwest::Client::builder()
                .no_proxy()
                // A page's redirect is an answer to check, not to follow.
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            admin: Auth::None,
            admin_password: admin_password.clone(),
            mock,
            center,
        };
        // The printed password is one-time: the administrator replaces it first.
        let one_time = h.login("admin", &admin_password).await;
        h.admin_password = ADMIN_PASSWORD.to_string();
        h.admin = h
            .change_password(&one_time, &admin_password, ADMIN_PASSWORD)
            .await;
        h
    }

    pub async fn call(&self, method: &str, path: &str, auth: &Auth, body: Option<Value>) -> Reply {
        let mut req = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.base));
        req = match auth {
            Auth::None => req,
            Auth::Cookie(c) => req.header("cookie", format!("touchstone_session={c}")),
            Auth::Bearer(t) => req.bearer_auth(t),
        };
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            body,
            headers,
            text,
        }
    }

    /// A run's live progress read to its end: (id, event, data) of each event after
    /// `last_event_id`.
    pub async fn events(
        &self,
        who: &Auth,
        run: &str,
        last_event_id: Option<&str>,
    ) -> (u16, Vec<(u64, String, Value)>) {
        let mut req = self
            .http
            .get(format!("{}/api/v1/runs/{run}/events", self.base));
        req = match who {
            Auth::None => req,
            Auth::Cookie(c) => req.header("cookie", format!("touchstone_session={c}")),
            Auth::Bearer(t) => req.bearer_auth(t),
        };
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = tokio::time::timeout(std::time::Duration::from_secs(120), resp.text())
            .await
            .expect("the event stream ends when the run is done")
            .unwrap();
        if status != 200 {
            return (status, Vec::new());
        }
        (status, parse_events(&text))
    }

    /// Signs in; the session secret from the cookie.
    pub async fn login(&self, name: &str, password: &str) -> Auth {
        let r = self
            .call(
                "POST",
                "/api/v1/login",
                &Auth::None,
                Some(json!({ "name": name, "password": password })),
            )
            .await;
        assert_eq!(r.status, 200, "login {name}: {}", r.text);
        Auth::Cookie(session_of(&r.headers).expect("a session cookie"))
    }

    /// Changes the password of `who`'s account; the renewed session.
    pub async fn change_password(&self, who: &Auth, current: &str, new: &str) -> Auth {
        let r = self
            .call(
                "POST",
                "/api/v1/me/password",
                who,
                Some(json!({ "current": current, "new": new })),
            )
            .await;
        assert_eq!(r.status, 200, "password change: {}", r.text);
        Auth::Cookie(session_of(&r.headers).expect("a renewed session"))
    }

    pub async fn create_org(&self, name: &str) {
        let r = self
            .call(
                "POST",
                "/api/v1/organisations",
                &self.admin,
                Some(json!({ "name": name })),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }

    /// Creates an account and signs it in, its password (`pw-NAME-long-enough`) changed from
    /// the one the administrator gave.
    pub async fn user(&self, name: &str, role: &str, org: Option<&str>) -> Auth {
        let given = format!("pw-{name}-given-by-admin");
        let mut body = json!({ "name": name, "role": role, "password": given });
        if let Some(o) = org {
            body["organisation"] = json!(o);
        }
        let r = self
            .call("POST", "/api/v1/users", &self.admin, Some(body))
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let first = self.login(name, &given).await;
        self.change_password(&first, &given, &format!("pw-{name}-long-enough"))
            .await
    }

    pub async fn token(&self, who: &Auth, scopes: &[&str]) -> (String, String) {
        let r = self
            .call(
                "POST",
                "/api/v1/tokens",
                who,
                Some(json!({ "name": "test", "scopes": scopes })),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        (
            r.body["id"].as_str().unwrap().to_string(),
            r.body["token"].as_str().unwrap().to_string(),
        )
    }

    /// Registers the mock as a model of `org`.
    pub async fn model(&self, who: &Auth, org: &str) -> String {
        let r = self
            .call(
                "POST",
                "/api/v1/models",
                who,
                Some(json!({ "organisation": org, "name": "mock", "base_url": self.mock.base_url(), "api_key": "sk-test-secret-key" })),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        r.body["id"].as_str().unwrap().to_string()
    }

    pub fn db(&self) -> std::path::PathBuf {
        CenterConfig::in_dir(self.dir.path()).db
    }

    /// Gives the center a certificate key pair (fast key derivation: a test's) locked with
    /// `passphrase`; returns its public keys.
    pub fn keys(&self, passphrase: &str) -> touchstone_trust::PublicKeys {
        let keys = touchstone_trust::KeyPair::generate().unwrap();
        keys.write_dir_with(
            &CenterConfig::in_dir(self.dir.path()).keys,
            passphrase,
            &touchstone_trust::keys::KdfParams::INSECURE_FOR_TESTS,
        )
        .unwrap();
        keys.public().clone()
    }

    /// Starts run `suite` of `org`'s model as `who` and waits until it is finished.
    pub async fn finished_run(&self, who: &Auth, model: &str, limit: usize) -> String {
        let r = self
            .call(
                "POST",
                "/api/v1/runs",
                who,
                Some(json!({ "suite": "quick", "models": [model], "limit": limit })),
            )
            .await;
        assert_eq!(r.status, 202, "{}", r.text);
        let run = r.body["run_id"].as_str().unwrap().to_string();
        let done = self.wait_finished(who, &run, 120).await;
        assert_eq!(done["status"], "completed", "{done}");
        run
    }

    /// Uploads suite `name` of one task `t` (target "2", scored by `scorers`, e.g. `[exact]`)
    /// whose items, by id, make the mock reply as given; runs it on `model`; returns the
    /// completed run's id.
    pub async fn replies_run(
        &self,
        who: &Auth,
        model: &str,
        name: &str,
        scorers: &str,
        replies: &[(&str, &str)],
    ) -> String {
        let items: String = replies
            .iter()
            .map(|(id, reply)| {
                json!({ "id": id, "input": format!("[[reply:{reply}]]"), "target": "2" })
                    .to_string()
                    + "\n"
            })
            .collect();
        let suite = format!(
            "name: {name}\ntasks:\n  - name: t\n    dataset: {{path: items.jsonl}}\n    scorers: {scorers}\n"
        );
        let r = self
            .call(
                "POST",
                "/api/v1/suites",
                who,
                Some(json!({
                    "name": name,
                    "suite": suite,
                    "files": [{ "path": "items.jsonl", "text": items }],
                })),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let upload = r.body["id"].as_str().unwrap().to_string();
        let r = self
            .call(
                "POST",
                "/api/v1/runs",
                who,
                Some(json!({ "upload": upload, "models": [model] })),
            )
            .await;
        assert_eq!(r.status, 202, "{}", r.text);
        let run = r.body["run_id"].as_str().unwrap().to_string();
        let done = self.wait_finished(who, &run, 120).await;
        assert_eq!(done["status"], "completed", "{done}");
        run
    }

    /// Waits until run `id` is finished (as the API says), for at most `secs`.
    pub async fn wait_finished(&self, who: &Auth, id: &str, secs: u64) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            let r = self
                .call("GET", &format!("/api/v1/runs/{id}"), who, None)
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
            let status = r.body["status"].as_str().unwrap_or("").to_string();
            if matches!(status.as_str(), "completed" | "failed" | "cancelled") {
                return r.body;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "run {id} did not finish: {}",
                r.text
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}

/// A file of the public datasets beside the repository (`../shared/data`).
pub fn shared_data(rel: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(rel)
}

pub fn session_of(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            let first = v.split(';').next()?;
            let (k, val) = first.split_once('=')?;
            (k == "touchstone_session" && !val.is_empty()).then(|| val.to_string())
        })
}

/// Server-Sent Events as (id, event, data); comments skipped.
pub fn parse_events(text: &str) -> Vec<(u64, String, Value)> {
    text.split("\n\n")
        .filter_map(|block| {
            let (mut id, mut event, mut data) = (None, None, None);
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("id: ") {
                    id = v.parse::<u64>().ok();
                } else if let Some(v) = line.strip_prefix("event: ") {
                    event = Some(v.to_string());
                } else if let Some(v) = line.strip_prefix("data: ") {
                    data = Some(serde_json::from_str(v).expect("event data is JSON"));
                }
            }
            Some((id?, event?, data?))
        })
        .collect()
}
