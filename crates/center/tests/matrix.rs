//! Acceptance 1 of issue 14: the authorisation matrix. Every route × every kind of caller, with
//! the status each must get, written out by hand (not derived from the policy it checks). A
//! route added to the API without a row here fails `every_route_has_a_row`.

mod common;

use std::collections::HashMap;

use common::{Auth, Harness};
use serde_json::{Value, json};
use touchstone_center::routes::ROUTES;

/// The passphrase of the center's certificate key pair.
const PASSPHRASE: &str = "matrix passphrase";

/// The callers, in the order of each row's statuses.
const CALLERS: [&str; 10] = [
    "admin",
    "assessor",
    "reviewer",
    "own",
    "other",
    "auditor",
    "anonymous",
    "expired",
    "revoked",
    "unscoped",
];

/// (method, path, the token that lacks the route's scope as `owner:-scope`, statuses in the
/// order of [`CALLERS`]). `own` is an applicant of the organisation that owns the objects,
/// `other` an applicant of another; the staff and applicants use sessions; `expired`,
/// `revoked` and `unscoped` are API tokens of the owning applicant (or of the admin, where
/// only staff may act).
const MATRIX: &[(&str, &str, &str, &str)] = &[
    (
        "GET",
        "/api/v1/health",
        "alice:-read",
        "200 200 200 200 200 200 200 401 401 200",
    ),
    (
        "GET",
        "/api/v1/openapi.json",
        "alice:-read",
        "200 200 200 200 200 200 200 401 401 200",
    ),
    (
        "GET",
        "/api/v1/log/head",
        "alice:-read",
        "200 200 200 200 200 200 200 401 401 200",
    ),
    (
        "POST",
        "/api/v1/login",
        "alice:-read",
        "200 200 200 200 200 200 200 401 401 200",
    ),
    (
        "POST",
        "/api/v1/logout",
        "alice:-read",
        "200 200 200 200 200 200 401 401 401 200",
    ),
    (
        "GET",
        "/api/v1/me",
        "alice:-read",
        "200 200 200 200 200 200 401 401 401 200",
    ),
    (
        "GET",
        "/api/v1/users",
        "admin:-admin",
        "200 403 403 403 403 403 401 401 401 403",
    ),
    (
        "POST",
        "/api/v1/users",
        "admin:-admin",
        "201 403 403 403 403 403 401 401 401 403",
    ),
    (
        "GET",
        "/api/v1/organisations",
        "admin:-read",
        "200 200 403 403 403 200 401 401 401 403",
    ),
    (
        "POST",
        "/api/v1/organisations",
        "admin:-admin",
        "201 403 403 403 403 403 401 401 401 403",
    ),
    (
        "GET",
        "/api/v1/tokens",
        "alice:-read",
        "200 200 200 200 200 200 401 401 401 403",
    ),
    (
        "POST",
        "/api/v1/tokens",
        "alice:-read",
        "201 201 201 201 201 201 401 401 401 403",
    ),
    (
        "DELETE",
        "/api/v1/tokens/{id}",
        "alice:-read",
        "200 200 200 200 200 200 401 401 401 403",
    ),
    (
        "GET",
        "/api/v1/models",
        "alice:-read",
        "200 200 403 200 200 200 401 401 401 403",
    ),
    (
        "POST",
        "/api/v1/models",
        "alice:-models",
        "201 201 403 201 404 403 401 401 401 403",
    ),
    (
        "GET",
        "/api/v1/models/{id}",
        "alice:-read",
        "200 200 403 200 404 200 401 401 401 403",
    ),
    (
        "DELETE",
        "/api/v1/models/{id}",
        "alice:-models",
        "200 200 403 200 404 403 401 401 401 403",
    ),
    (
        "POST",
        "/api/v1/models/{id}/test",
        "alice:-models",
        "200 200 403 200 404 403 401 401 401 403",
    ),
    (
        "GET",
        "/api/v1/suites",
        "alice:-read",
        "200 200 200 200 200 200 401 401 401 403",
    ),
    (
        "POST",
        "/api/v1/suites",
        "alice:-runs",
        "403 201 403 201 404 403 401 401 401 403",
    ),
    (
        "GET",
        "/api/v1/runs",
        "alice:-read",
        "200 200 200 200 200 200 401 401 401 403",
    ),
    (
        "POST",
        "/api/v1/runs",
        "alice:-runs",
        "403 202 403 202 404 403 401 401 401 403",
    ),
    (
        "GET",
        "/api/v1/runs/{id}",
        "alice:-read",
        "200 200 200 200 404 200 401 401 401 403",
    ),
    (
        "GET",
        "/api/v1/runs/{id}/results",
        "alice:-read",
        "200 200 200 200 404 200 401 401 401 403",
    ),
    (
        "GET",
        "/api/v1/runs/{id}/samples",
        "alice:-read",
        "200 200 200 200 404 200 401 401 401 403",
    ),
    (
        "GET",
        "/api/v1/runs/{id}/events",
        "alice:-read",
        "200 200 200 200 404 200 401 401 401 403",
    ),
    (
        "GET",
        "/api/v1/runs/{id}/report",
        "alice:-read",
        "200 200 200 200 404 200 401 401 401 403",
    ),
    (
        "GET",
        "/api/v1/compare",
        "alice:-read",
        "200 200 200 200 404 200 401 401 401 403",
    ),
    (
        "POST",
        "/api/v1/runs/{id}/cancel",
        "alice:-runs",
        "403 202 403 202 404 403 401 401 401 403",
    ),
    (
        "POST",
        "/api/v1/runs/{id}/certificate",
        "asa:-certify",
        "403 201 403 403 403 403 401 401 401 403",
    ),
    (
        "GET",
        "/api/v1/runs/{id}/certificate",
        "alice:-read",
        "200 200 200 200 404 200 401 401 401 403",
    ),
    (
        "GET",
        "/api/v1/runs/{id}/reviews",
        "alice:-read",
        "200 200 200 200 404 200 401 401 401 403",
    ),
    (
        "POST",
        "/api/v1/runs/{id}/reviews",
        "rev:-review",
        "403 201 201 403 403 403 401 401 401 403",
    ),
    (
        "GET",
        "/api/v1/runs/{id}/samples.jsonl",
        "alice:-read",
        "200 200 200 200 404 200 401 401 401 403",
    ),
    (
        "GET",
        "/api/v1/runs/{id}/queue",
        "alice:-read",
        "200 200 200 200 404 200 401 401 401 403",
    ),
    (
        "POST",
        "/api/v1/runs/{id}/flags",
        "alice:-review",
        "201 201 201 201 404 403 401 401 401 403",
    ),
    (
        "POST",
        "/api/v1/certificates/verify",
        "alice:-read",
        "200 200 200 200 200 200 200 401 401 200",
    ),
    (
        "GET",
        "/api/v1/audit",
        "admin:-read",
        "200 403 403 403 403 200 401 401 401 403",
    ),
    (
        "POST",
        "/api/v1/runs/{id}/publish",
        "asa:-certify",
        "403 200 403 403 403 403 401 401 401 403",
    ),
    (
        "GET",
        "/api/v1/published",
        "alice:-read",
        "200 200 200 200 200 200 200 401 401 200",
    ),
    // The console's pages: a page's refusals are pages, and an anonymous visitor is sent to
    // the sign-in form (303) where the API would answer 401.
    (
        "GET",
        "/static/{name}",
        "alice:-read",
        "200 200 200 200 200 200 200 401 401 200",
    ),
    (
        "GET",
        "/",
        "alice:-read",
        "200 200 200 200 200 200 200 401 401 200",
    ),
    (
        "GET",
        "/about",
        "alice:-read",
        "200 200 200 200 200 200 200 401 401 200",
    ),
    (
        "GET",
        "/log",
        "alice:-read",
        "200 200 200 200 200 200 200 401 401 200",
    ),
    (
        "GET",
        "/verify",
        "alice:-read",
        "200 200 200 200 200 200 200 401 401 200",
    ),
    (
        "POST",
        "/verify",
        "alice:-read",
        "200 200 200 200 200 200 200 401 401 200",
    ),
    (
        "GET",
        "/lang/{code}",
        "alice:-read",
        "303 303 303 303 303 303 303 401 401 303",
    ),
    (
        "GET",
        "/login",
        "alice:-read",
        "200 200 200 200 200 200 200 401 401 200",
    ),
    (
        "POST",
        "/login",
        "alice:-read",
        "303 303 303 303 303 303 303 401 401 303",
    ),
    (
        "POST",
        "/logout",
        "alice:-read",
        "303 303 303 303 303 303 303 401 401 303",
    ),
    (
        "GET",
        "/console",
        "alice:-read",
        "200 200 200 200 200 200 303 401 401 403",
    ),
    (
        "GET",
        "/console/runs/{id}",
        "alice:-read",
        "200 200 200 200 404 200 303 401 401 403",
    ),
    (
        "GET",
        "/console/runs/{id}/samples",
        "alice:-read",
        "200 200 200 200 404 200 303 401 401 403",
    ),
    (
        "POST",
        "/console/runs/{id}/reviews",
        "rev:-review",
        "403 303 303 403 403 403 303 401 401 403",
    ),
    (
        "GET",
        "/console/runs/{id}/queue",
        "alice:-read",
        "200 200 200 200 404 200 303 401 401 403",
    ),
    (
        "POST",
        "/console/runs/{id}/flags",
        "alice:-review",
        "303 303 303 303 404 403 303 401 401 403",
    ),
    (
        "POST",
        "/console/runs/{id}/cancel",
        "alice:-runs",
        "403 303 403 303 404 403 303 401 401 403",
    ),
    (
        "POST",
        "/console/runs/{id}/certificate",
        "asa:-certify",
        "403 303 403 403 403 403 303 401 401 403",
    ),
    (
        "POST",
        "/console/runs/{id}/publish",
        "asa:-certify",
        "403 303 403 403 403 403 303 401 401 403",
    ),
    (
        "GET",
        "/console/password",
        "alice:-read",
        "200 200 200 200 200 200 303 401 401 403",
    ),
    // With a wrong current password: the form says so, and no session ends.
    (
        "POST",
        "/console/password",
        "alice:-read",
        "400 400 400 400 400 400 303 401 401 403",
    ),
    (
        "GET",
        "/console/models",
        "alice:-read",
        "200 200 403 200 200 200 303 401 401 403",
    ),
    // Another organisation's applicant names acme: the form answers 404 with the reason.
    (
        "POST",
        "/console/models",
        "alice:-models",
        "303 303 403 303 404 403 303 401 401 403",
    ),
    (
        "POST",
        "/console/models/{id}/test",
        "alice:-models",
        "200 200 403 200 404 403 303 401 401 403",
    ),
    (
        "POST",
        "/console/models/{id}/delete",
        "alice:-models",
        "303 303 403 303 404 403 303 401 401 403",
    ),
    (
        "GET",
        "/console/new-run",
        "alice:-runs",
        "403 200 403 200 200 403 303 401 401 403",
    ),
    (
        "POST",
        "/console/runs",
        "alice:-runs",
        "403 303 403 303 404 403 303 401 401 403",
    ),
    (
        "GET",
        "/console/admin",
        "admin:-admin",
        "200 403 403 403 403 403 303 401 401 403",
    ),
    (
        "POST",
        "/console/admin/users",
        "admin:-admin",
        "200 403 403 403 403 403 303 401 401 403",
    ),
    (
        "POST",
        "/console/admin/organisations",
        "admin:-admin",
        "303 403 403 403 403 403 303 401 401 403",
    ),
    (
        "GET",
        "/console/tokens",
        "alice:-read",
        "200 200 200 200 200 200 303 401 401 403",
    ),
    (
        "POST",
        "/console/tokens",
        "alice:-read",
        "200 200 200 200 200 200 303 401 401 403",
    ),
    (
        "POST",
        "/console/tokens/{id}/revoke",
        "alice:-read",
        "303 303 303 303 303 303 303 401 401 403",
    ),
    (
        "GET",
        "/console/audit",
        "admin:-read",
        "200 403 403 403 403 200 303 401 401 403",
    ),
    (
        "GET",
        "/console/compare",
        "alice:-read",
        "200 200 200 200 404 200 303 401 401 403",
    ),
    // After the publish rows above: the model's page exists once a run of it is public.
    (
        "GET",
        "/model",
        "alice:-read",
        "200 200 200 200 200 200 200 401 401 200",
    ),
    // Last: a session caller's password changes, which ends that caller's sessions.
    (
        "POST",
        "/api/v1/me/password",
        "alice:-read",
        "200 200 200 200 200 200 401 401 401 403",
    ),
];

#[test]
fn every_route_has_a_row() {
    for r in ROUTES {
        assert!(
            MATRIX
                .iter()
                .any(|(m, p, _, _)| *m == r.method && *p == r.path),
            "{} {} has no row in the authorisation matrix: add one",
            r.method,
            r.path
        );
    }
    for (m, p, _, statuses) in MATRIX {
        assert!(
            ROUTES.iter().any(|r| r.method == *m && r.path == *p),
            "the matrix names {m} {p}, which is not a route"
        );
        assert_eq!(statuses.split(' ').count(), CALLERS.len(), "{m} {p}");
    }
}

struct World {
    h: Harness,
    sessions: HashMap<&'static str, Auth>,
    passwords: HashMap<&'static str, String>,
    names: HashMap<&'static str, &'static str>,
    tokens: HashMap<&'static str, String>,
    model: String,
    run: String,
    run2: String,
    /// A certificate of `run`, as its JSON.
    certificate: Value,
    /// A scored item of `run`, to review.
    item: String,
    counter: std::sync::atomic::AtomicU32,
}

impl World {
    async fn build() -> World {
        let h = Harness::start(1).await;
        h.create_org("acme").await;
        h.create_org("other").await;
        let mut sessions = HashMap::new();
        let mut passwords = HashMap::new();
        let mut names = HashMap::new();
        sessions.insert("admin", h.admin.clone());
        passwords.insert("admin", h.admin_password.clone());
        names.insert("admin", "admin");
        for (caller, name, role, org) in [
            ("assessor", "asa", "assessor", None),
            ("reviewer", "rev", "reviewer", None),
            ("own", "alice", "applicant", Some("acme")),
            ("other", "oscar", "applicant", Some("other")),
            ("auditor", "aud", "auditor", None),
        ] {
            sessions.insert(caller, h.user(name, role, org).await);
            passwords.insert(caller, format!("pw-{name}-long-enough"));
            names.insert(caller, name);
        }
        h.user("probe", "reviewer", None).await;
        let alice = sessions["own"].clone();
        let mut tokens = HashMap::new();
        let (expired_id, expired) = h.token(&alice, &["read", "runs", "models"]).await;
        let conn = rusqlite::Connection::open(h.db()).unwrap();
        conn.execute(
            "UPDATE center_tokens SET expires_at_ms = 1 WHERE id = ?1",
            [&expired_id],
        )
        .unwrap();
        tokens.insert("expired", expired);
        let (revoked_id, revoked) = h.token(&alice, &["read", "runs", "models"]).await;
        let r = h
            .call(
                "DELETE",
                &format!("/api/v1/tokens/{revoked_id}"),
                &alice,
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        tokens.insert("revoked", revoked);
        for (key, who, scopes) in [
            ("alice:-read", &alice, &["runs", "models"][..]),
            ("alice:-runs", &alice, &["read", "models"][..]),
            ("alice:-models", &alice, &["read", "runs"][..]),
            ("alice:-review", &alice, &["read", "runs", "models"][..]),
            ("admin:-read", &h.admin, &["models", "admin"][..]),
            ("admin:-admin", &h.admin, &["read", "models"][..]),
            ("asa:-certify", &sessions["assessor"], &["read", "runs"][..]),
            ("rev:-review", &sessions["reviewer"], &["read"][..]),
        ] {
            tokens.insert(key, h.token(who, scopes).await.1);
        }
        let model = h.model(&h.admin, "acme").await;
        // Two finished runs of acme (a comparison takes two).
        let mut runs = Vec::new();
        for seed in [1, 2] {
            let r = h
                .call(
                    "POST",
                    "/api/v1/runs",
                    &alice,
                    Some(json!({ "suite": "quick", "models": [model], "limit": 1, "seed": seed })),
                )
                .await;
            assert_eq!(r.status, 202, "{}", r.text);
            let run = r.body["run_id"].as_str().unwrap().to_string();
            let done = h.wait_finished(&alice, &run, 120).await;
            assert_eq!(done["status"], "completed", "{done}");
            runs.push(run);
        }
        let (run, run2) = (runs[0].clone(), runs[1].clone());
        // A certificate for the first, to download and to verify.
        h.keys(PASSPHRASE);
        let r = h
            .call(
                "POST",
                &format!("/api/v1/runs/{run}/certificate"),
                &sessions["assessor"],
                Some(json!({ "passphrase": PASSPHRASE })),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let r = h
            .call(
                "GET",
                &format!("/api/v1/runs/{run}/certificate"),
                &alice,
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let certificate = r.body;
        let r = h
            .call(
                "GET",
                &format!("/api/v1/runs/{run}/samples?status=scored&limit=1"),
                &alice,
                None,
            )
            .await;
        let item = r.body["samples"][0]["item_id"]
            .as_str()
            .unwrap_or_else(|| panic!("a scored item: {}", r.text))
            .to_string();
        World {
            h,
            sessions,
            passwords,
            names,
            tokens,
            model,
            run,
            run2,
            certificate,
            item,
            counter: Default::default(),
        }
    }

    fn unique(&self, prefix: &str) -> String {
        let n = self
            .counter
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("{prefix}{n}")
    }

    /// How `caller` authenticates for a row whose scope-less token is `unscoped`.
    fn auth(&self, caller: &str, unscoped: &str) -> Auth {
        match caller {
            "anonymous" => Auth::None,
            "expired" | "revoked" => Auth::Bearer(self.tokens[caller].clone()),
            "unscoped" => Auth::Bearer(self.tokens[unscoped].clone()),
            role => self.sessions[role].clone(),
        }
    }

    /// The path and body a row sends as `caller`, with fresh objects where the call consumes
    /// one (a model to delete, a token to revoke, a session to end).
    async fn request(
        &self,
        method: &str,
        path: &str,
        caller: &str,
        auth: &Auth,
    ) -> (String, Option<Value>, Auth) {
        let session = matches!(auth, Auth::Cookie(_));
        let mut auth = auth.clone();
        let path_with = |id: &str| path.replace("{id}", id);
        let (p, body) = match (method, path) {
            ("POST", "/api/v1/login") => {
                // Signing in ends the session presented (no fixation): a session of its own.
                if session {
                    auth = self
                        .h
                        .login(self.names[caller], &self.passwords[caller])
                        .await;
                }
                (
                    path.to_string(),
                    Some(json!({ "name": "probe", "password": "pw-probe-long-enough" })),
                )
            }
            ("POST", "/login") => {
                if session {
                    auth = self
                        .h
                        .login(self.names[caller], &self.passwords[caller])
                        .await;
                }
                (
                    path.to_string(),
                    Some(json!({ "name": "probe", "password": "pw-probe-long-enough" })),
                )
            }
            ("POST", "/api/v1/logout" | "/logout") if session => {
                // A session of its own, so the caller's stays for the rows after.
                auth = self
                    .h
                    .login(self.names[caller], &self.passwords[caller])
                    .await;
                (path.to_string(), None)
            }
            ("POST", "/api/v1/users") => (
                path.to_string(),
                Some(
                    json!({ "name": self.unique("user"), "role": "reviewer", "password": "a-long-password-1" }),
                ),
            ),
            ("POST", "/api/v1/organisations") => (
                path.to_string(),
                Some(json!({ "name": self.unique("org") })),
            ),
            ("POST", "/api/v1/tokens") => (
                path.to_string(),
                Some(json!({ "name": "t", "scopes": ["read"] })),
            ),
            ("DELETE", "/api/v1/tokens/{id}") if session => {
                let (id, _) = self.h.token(&auth, &["read"]).await;
                (path_with(&id), None)
            }
            ("DELETE", "/api/v1/tokens/{id}") => (path_with("t_0000000000000000"), None),
            ("POST", "/api/v1/models") => (
                path.to_string(),
                Some(
                    json!({ "organisation": "acme", "name": "m", "base_url": "http://127.0.0.1:9/v1" }),
                ),
            ),
            ("DELETE", "/api/v1/models/{id}") => {
                let id = self.h.model(&self.h.admin, "acme").await;
                (path_with(&id), None)
            }
            ("POST", "/api/v1/runs") => (
                path.to_string(),
                Some(
                    json!({ "organisation": "acme", "suite": "quick", "models": [self.model], "limit": 1 }),
                ),
            ),
            ("POST", "/api/v1/runs/{id}/certificate") => (
                path_with(&self.run),
                Some(json!({ "passphrase": PASSPHRASE })),
            ),
            ("POST", "/console/runs/{id}/reviews") => (
                path_with(&self.run),
                Some(json!({ "item": self.item, "value": "1", "reason": "matrix", "back": "" })),
            ),
            ("POST", "/console/runs/{id}/flags") => (
                path_with(&self.run),
                Some(json!({ "item": self.item, "reason": "matrix", "back": "" })),
            ),
            ("POST", "/api/v1/runs/{id}/flags") => (
                path_with(&self.run),
                Some(json!({ "item": self.item, "reason": "matrix" })),
            ),
            ("POST", "/api/v1/runs/{id}/reviews") => (
                path_with(&self.run),
                Some(json!({ "item": self.item, "value": 1, "reason": "matrix" })),
            ),
            ("POST", "/console/runs/{id}/certificate") => (
                path_with(&self.run),
                Some(json!({ "passphrase": PASSPHRASE })),
            ),
            ("POST", "/console/models") => (
                path.to_string(),
                Some(
                    json!({ "organisation": "acme", "name": "m", "base_url": "http://127.0.0.1:9/v1", "api_key": "" }),
                ),
            ),
            ("POST", "/console/models/{id}/delete") => {
                let id = self.h.model(&self.h.admin, "acme").await;
                (path_with(&id), None)
            }
            ("POST", "/console/runs") => (
                path.to_string(),
                Some(json!({
                    "organisation": "acme", "evaluates": "suite:quick", "models": self.model,
                    "limit": "1", "seed": "", "do": "start",
                })),
            ),
            ("POST", "/console/admin/users") => (
                path.to_string(),
                Some(
                    json!({ "name": self.unique("user"), "role": "reviewer", "organisation": "" }),
                ),
            ),
            ("POST", "/console/admin/organisations") => (
                path.to_string(),
                Some(json!({ "name": self.unique("org"), "display_name": "", "max_running": "2" })),
            ),
            ("POST", "/console/tokens") => (
                path.to_string(),
                Some(json!({ "name": "t", "scopes": "read", "expires_in_days": "30" })),
            ),
            ("POST", "/console/tokens/{id}/revoke") if session => {
                let (id, _) = self.h.token(&auth, &["read"]).await;
                (path_with(&id), None)
            }
            ("POST", "/console/tokens/{id}/revoke") => (path_with("t_0000000000000000"), None),
            ("POST", "/console/password") => (
                path.to_string(),
                Some(json!({ "current": "not the password", "new": "a-new-password-long-enough" })),
            ),
            ("GET", "/static/{name}") => (path.replace("{name}", "console.css"), None),
            ("GET", "/lang/{code}") => (path.replace("{code}", "en") + "?next=/", None),
            ("POST", "/verify") => (
                path.to_string(),
                Some(json!({ "certificate": self.certificate.to_string() })),
            ),
            ("POST", "/api/v1/certificates/verify") => {
                (path.to_string(), Some(self.certificate.clone()))
            }
            ("POST", "/api/v1/me/password") => (
                path.to_string(),
                Some(match self.passwords.get(caller) {
                    Some(current) => {
                        json!({ "current": current, "new": format!("{current}-and-more") })
                    }
                    None => json!({ "current": "x", "new": "y" }),
                }),
            ),
            ("POST", "/api/v1/suites") => (
                path.to_string(),
                Some(json!({
                    "organisation": "acme",
                    "name": "uploaded",
                    "suite": "name: uploaded\ntasks:\n  - name: t\n    dataset: {path: items.jsonl}\n    scorers: [exact]\n",
                    "files": [{ "path": "items.jsonl", "text": "{\"input\": \"1+1\", \"target\": \"2\"}\n" }],
                })),
            ),
            ("GET", "/console/compare") => {
                (format!("{path}?run={}&run={}", self.run, self.run2), None)
            }
            ("GET", "/model") => (format!("{path}?name=mock"), None),
            ("GET", "/api/v1/compare") => (
                format!("{path}?runs={},{}&format=json", self.run, self.run2),
                None,
            ),
            (_, p) if p.starts_with("/api/v1/models/") || p.starts_with("/console/models/") => {
                (path_with(&self.model), None)
            }
            (_, p) if p.starts_with("/api/v1/runs/") || p.starts_with("/console/runs/") => {
                (path_with(&self.run), None)
            }
            _ => (path.to_string(), None),
        };
        (p, body, auth)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_route_answers_every_caller_as_the_matrix_says() {
    let w = World::build().await;
    let mut wrong = Vec::new();
    for (method, path, unscoped, statuses) in MATRIX {
        for (caller, expected) in CALLERS.iter().zip(statuses.split(' ')) {
            let auth = w.auth(caller, unscoped);
            let (p, body, auth) = w.request(method, path, caller, &auth).await;
            let r = w.h.call(method, &p, &auth, body).await;
            if r.status.to_string() != expected {
                wrong.push(format!(
                    "{method} {path} as {caller}: {} (expected {expected}): {}",
                    r.status,
                    r.text.chars().take(200).collect::<String>()
                ));
            }
            let page = !path.starts_with("/api/");
            if page && r.status >= 400 {
                // A page's refusal is a page that says why.
                let html = r
                    .headers
                    .get("content-type")
                    .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
                if !html || !r.text.contains("role=\"alert\"") {
                    wrong.push(format!(
                        "{method} {path} as {caller}: not an error page: {}",
                        r.text.chars().take(200).collect::<String>()
                    ));
                }
            } else if r.status >= 400 {
                // Every refusal is a JSON error with a stable code in both languages.
                let e = &r.body["error"];
                assert!(
                    e["code"].is_string()
                        && e["message"].is_string()
                        && e["message_zh"].is_string(),
                    "{method} {path} as {caller}: {}",
                    r.text
                );
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} cells differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
