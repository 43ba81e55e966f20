//! The console's pages over HTTP: a visitor signs in with the form, switches the language, sees
//! the runs and a run's report; an assessor publishes a run and the public leaderboard shows it;
//! anyone verifies its certificate. Everything a model or a suite wrote — answers and sample ids
//! holding markup — renders as text on every page, and the pages allow no inline script.

mod common;

use common::{Auth, Harness, session_of};
use serde_json::{Value, json};

const HOSTILE: [&str; 3] = [
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
    "javascript:alert(1)",
];

/// No hostile string got into the page as markup.
fn assert_inert(page: &str, what: &str) {
    assert!(!page.contains("<script>alert"), "{what}: {page}");
    assert!(!page.contains("<img src=x"), "{what}: {page}");
    assert!(!page.contains("href=\"javascript:"), "{what}: {page}");
    assert!(
        page.matches("<script").count() <= 1,
        "{what}: only the console's own script"
    );
}

async fn post_form(
    h: &Harness,
    path: &str,
    auth: &Auth,
    form: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut req = h.http.post(format!("{}{path}", h.base)).form(form);
    if let Auth::Cookie(c) = auth {
        req = req.header("cookie", format!("touchstone_session={c}"));
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pages_show_runs_reports_and_the_leaderboard_with_hostile_text_inert() {
    let h = Harness::start(1).await;
    h.create_org("acme").await;
    h.user("alice", "applicant", Some("acme")).await;
    let assessor = h.user("asa", "assessor", None).await;

    // Signing in through the form: a wrong password is a page that says so, the right one a
    // redirect back to where the visitor was going, with a session.
    let (status, _, page) = post_form(
        &h,
        "/login",
        &Auth::None,
        &[
            ("name", "alice"),
            ("password", "wrong password!"),
            ("next", "/console"),
        ],
    )
    .await;
    assert_eq!(status, 401, "{page}");
    assert!(page.contains("用户名或密码错误"), "{page}");
    let (status, headers, _) = post_form(
        &h,
        "/login",
        &Auth::None,
        &[
            ("name", "alice"),
            ("password", "pw-alice-long-enough"),
            ("next", "//evil.example/"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(
        headers["location"], "/console",
        "an open redirect is refused"
    );
    let alice = Auth::Cookie(session_of(&headers).expect("a session"));

    // A suite whose sample ids and answers hold markup.
    let items: String = HOSTILE
        .iter()
        .map(|s| {
            json!({ "id": s, "input": format!("[[reply:{s}]]"), "target": "x" }).to_string() + "\n"
        })
        .collect();
    let r = h
        .call(
            "POST",
            "/api/v1/suites",
            &alice,
            Some(json!({
                "name": "hostile",
                "suite": "name: hostile\ntasks:\n  - name: t\n    dataset: {path: items.jsonl}\n    scorers: [exact]\n",
                "files": [{ "path": "items.jsonl", "text": items }],
            })),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let upload = r.body["id"].as_str().unwrap().to_string();
    let model = h.model(&alice, "acme").await;
    let r = h
        .call(
            "POST",
            "/api/v1/runs",
            &alice,
            Some(json!({ "upload": upload, "models": [model] })),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let run = r.body["run_id"].as_str().unwrap().to_string();
    let done = h.wait_finished(&alice, &run, 120).await;
    assert_eq!(done["status"], "completed", "{done}");

    // The dashboard and the run page, in 中文 (the default) and then in English.
    let dash = h.call("GET", "/console", &alice, None).await;
    assert_eq!(dash.status, 200);
    assert!(
        dash.text.contains(&run) && dash.text.contains("已完成"),
        "{}",
        dash.text
    );
    assert_inert(&dash.text, "dashboard");
    let page = h
        .call("GET", &format!("/console/runs/{run}"), &alice, None)
        .await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert_inert(&page.text, "run page");
    assert!(
        page.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "the answer is shown, as text: {}",
        page.text
    );
    assert!(
        page.text
            .contains(&format!("/api/v1/runs/{run}/report?format=html"))
    );
    // samples.jsonl as `eval --out` writes it: one item a line, the answers as they were.
    let file = h
        .call(
            "GET",
            &format!("/api/v1/runs/{run}/samples.jsonl"),
            &alice,
            None,
        )
        .await;
    assert_eq!(file.status, 200, "{}", file.text);
    assert!(
        page.text
            .contains(&format!("/api/v1/runs/{run}/samples.jsonl"))
    );
    let lines: Vec<Value> = file
        .text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), HOSTILE.len(), "{}", file.text);
    for hostile in HOSTILE {
        assert!(
            lines
                .iter()
                .any(|l| l["sample_id"] == hostile && l["answer"] == hostile),
            "{}",
            file.text
        );
    }
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe"),
        "{csp}"
    );
    let switch = h
        .call(
            "GET",
            &format!("/lang/en?next=/console/runs/{run}"),
            &alice,
            None,
        )
        .await;
    assert_eq!(switch.status, 303);
    let lang_cookie = switch.headers["set-cookie"].to_str().unwrap().to_string();
    assert!(
        lang_cookie.starts_with("touchstone_lang=en;"),
        "{lang_cookie}"
    );
    let Auth::Cookie(session) = &alice else {
        unreachable!()
    };
    let english = h
        .http
        .get(format!("{}/console/runs/{run}", h.base))
        .header(
            "cookie",
            format!("touchstone_session={session}; touchstone_lang=en"),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        english.contains("lang=\"en\"") && english.contains("Downloads"),
        "{english}"
    );
    assert_inert(&english, "run page (en)");

    // Nothing is public until an assessor publishes it.
    let home = h.call("GET", "/", &Auth::None, None).await;
    assert_eq!(home.status, 200);
    assert!(!home.text.contains(&run));
    let r = h
        .call(
            "POST",
            &format!("/api/v1/runs/{run}/publish"),
            &assessor,
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let home = h.call("GET", "/", &Auth::None, None).await;
    assert!(home.text.contains("hostile"), "{}", home.text);
    assert!(
        home.text.contains("t · "),
        "the task's column: {}",
        home.text
    );
    // The public sees the model's name, never its endpoint.
    assert!(!home.text.contains(&h.mock.base_url()), "{}", home.text);
    assert_inert(&home.text, "leaderboard");
    let published: Value = h
        .call("GET", "/api/v1/published", &Auth::None, None)
        .await
        .body;
    assert_eq!(published["suites"][0]["runs"][0]["run_id"], json!(run));

    // A signed-out visitor asking for a console page is sent to sign in, and back.
    let r = h
        .call("GET", &format!("/console/runs/{run}"), &Auth::None, None)
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(
        r.headers["location"],
        format!("/login?next=/console/runs/{run}")
    );
    // Static files are served from the binary; nothing else is.
    let css = h
        .call("GET", "/static/console.css", &Auth::None, None)
        .await;
    assert_eq!(css.status, 200);
    assert!(
        css.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    let r = h
        .call("GET", "/static/..%2FCargo.toml", &Auth::None, None)
        .await;
    assert_eq!(r.status, 404);
    let r = h.call("GET", "/no/such/page", &Auth::None, None).await;
    assert_eq!(r.status, 404);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn anyone_verifies_a_certificate_on_the_page_and_a_changed_byte_fails() {
    let h = Harness::start(1).await;
    h.create_org("acme").await;
    let alice = h.user("alice", "applicant", Some("acme")).await;
    let assessor = h.user("asa", "assessor", None).await;
    let model = h.model(&alice, "acme").await;
    let run = h.finished_run(&alice, &model, 2).await;
    h.keys("page passphrase");
    let r = h
        .call(
            "POST",
            &format!("/api/v1/runs/{run}/certificate"),
            &assessor,
            Some(json!({ "passphrase": "page passphrase" })),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let file = h
        .call(
            "GET",
            &format!("/api/v1/runs/{run}/certificate"),
            &alice,
            None,
        )
        .await
        .text;

    let (status, _, page) = post_form(&h, "/verify", &Auth::None, &[("certificate", &file)]).await;
    assert_eq!(status, 200);
    assert!(page.contains("证书有效"), "{page}");
    assert!(
        page.contains("signatures") && page.contains("in_log"),
        "{page}"
    );
    assert!(
        page.contains("touchstone verify"),
        "how to verify offline: {page}"
    );

    // One changed byte inside a signed value.
    let changed = file.replacen(
        "\"center\": \"Touchstone evaluation center\"",
        "\"center\": \"Touchstone evaluation centre\"",
        1,
    );
    assert!(changed != file && changed.len() == file.len());
    let (status, _, page) =
        post_form(&h, "/verify", &Auth::None, &[("certificate", &changed)]).await;
    assert_eq!(status, 200);
    assert!(page.contains("证书无效"), "{page}");
    assert!(!page.contains("证书有效"), "{page}");

    // Not JSON at all: said so, in words.
    let (status, _, page) = post_form(
        &h,
        "/verify",
        &Auth::None,
        &[("certificate", "<script>alert(1)</script>")],
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        page.contains("证书无效") && page.contains("不是有效的"),
        "{page}"
    );
    assert_inert(&page, "verify");

    // A published run's certificate is verified by its link; an unpublished one is not public.
    let r = h
        .call("GET", &format!("/verify?run={run}"), &Auth::None, None)
        .await;
    assert_eq!(r.status, 404);
    let r = h
        .call(
            "POST",
            &format!("/api/v1/runs/{run}/publish"),
            &assessor,
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    let r = h
        .call("GET", &format!("/verify?run={run}"), &Auth::None, None)
        .await;
    assert_eq!(r.status, 200);
    assert!(r.text.contains("证书有效"), "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_given_password_is_changed_in_the_page_and_an_assessor_certifies_and_publishes() {
    let h = Harness::start(1).await;
    h.create_org("acme").await;
    let alice = h.user("alice", "applicant", Some("acme")).await;
    let model = h.model(&alice, "acme").await;
    let run = h.finished_run(&alice, &model, 2).await;
    // An administrator gives an assessor a password: the first thing the page asks is a new one.
    let r = h
        .call(
            "POST",
            "/api/v1/users",
            &h.admin,
            Some(json!({ "name": "asa", "role": "assessor", "password": "given-by-the-admin" })),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let (status, headers, _) = post_form(
        &h,
        "/login",
        &Auth::None,
        &[("name", "asa"), ("password", "given-by-the-admin")],
    )
    .await;
    assert_eq!(status, 303);
    let first = Auth::Cookie(session_of(&headers).unwrap());
    let r = h
        .call("GET", &format!("/console/runs/{run}"), &first, None)
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(r.headers["location"], "/console/password");
    let page = h.call("GET", "/console/password", &first, None).await;
    assert!(page.text.contains("当前密码由他人设置"), "{}", page.text);
    // A wrong current password is said in the form; the right one renews the session.
    let (status, _, page) = post_form(
        &h,
        "/console/password",
        &first,
        &[
            ("current", "not it at all"),
            ("new", "the-assessor-chose-this"),
        ],
    )
    .await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("role=\"alert\""), "{page}");
    let (status, headers, _) = post_form(
        &h,
        "/console/password",
        &first,
        &[
            ("current", "given-by-the-admin"),
            ("new", "the-assessor-chose-this"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let asa = Auth::Cookie(session_of(&headers).expect("a renewed session"));

    // The run page offers the assessor the certificate and publication; the applicant not.
    let page = h
        .call("GET", &format!("/console/runs/{run}"), &asa, None)
        .await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("name=\"passphrase\""), "{}", page.text);
    let mine = h
        .call("GET", &format!("/console/runs/{run}"), &alice, None)
        .await;
    assert!(!mine.text.contains("name=\"passphrase\""));
    h.keys("the center's passphrase");
    let (status, _, page) = post_form(
        &h,
        &format!("/console/runs/{run}/certificate"),
        &asa,
        &[("passphrase", "not the passphrase")],
    )
    .await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("口令无法打开"), "{page}");
    let (status, headers, _) = post_form(
        &h,
        &format!("/console/runs/{run}/certificate"),
        &asa,
        &[("passphrase", "the center's passphrase")],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(headers["location"], format!("/console/runs/{run}"));
    let (status, _, _) = post_form(&h, &format!("/console/runs/{run}/publish"), &asa, &[]).await;
    assert_eq!(status, 303);
    let page = h
        .call("GET", &format!("/console/runs/{run}"), &asa, None)
        .await;
    assert!(
        page.text
            .contains(&format!("/api/v1/runs/{run}/certificate")),
        "{}",
        page.text
    );
    let verified = h
        .call("GET", &format!("/verify?run={run}"), &Auth::None, None)
        .await;
    assert!(verified.text.contains("证书有效"), "{}", verified.text);
    // The passphrase is nowhere in the audit trail.
    let audit = h.call("GET", "/api/v1/audit", &h.admin, None).await;
    assert!(!audit.text.contains("the center's passphrase"));
}

/// The text of the first `<p class="mono secret">` of a page: what is shown once.
fn shown_once(page: &str) -> String {
    let start = page
        .find("class=\"mono secret\">")
        .expect("a secret shown once")
        + 20;
    let end = start + page[start..].find("</p>").unwrap();
    page[start..end].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_admin_sets_up_an_applicant_who_registers_a_model_and_starts_a_run_in_the_pages() {
    let h = Harness::start(1).await;
    let admin = h.admin.clone();

    // The administrator creates an organisation and an applicant; bad fields are said in the
    // form, and the generated first password is shown once.
    let (status, _, page) = post_form(
        &h,
        "/console/admin/organisations",
        &admin,
        &[
            ("name", "acme"),
            ("display_name", HOSTILE[1]),
            ("max_running", "lots"),
        ],
    )
    .await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("`max_running` 须为非负整数"), "{page}");
    let (status, headers, _) = post_form(
        &h,
        "/console/admin/organisations",
        &admin,
        &[
            ("name", "acme"),
            ("display_name", HOSTILE[1]),
            ("max_running", "2"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(headers["location"], "/console/admin");
    let (status, _, page) = post_form(
        &h,
        "/console/admin/users",
        &admin,
        &[
            ("name", "alice"),
            ("role", "applicant"),
            ("organisation", ""),
        ],
    )
    .await;
    assert_eq!(status, 400, "{page}");
    assert!(
        page.contains("(organisation)"),
        "the field is named: {page}"
    );
    let (status, _, page) = post_form(
        &h,
        "/console/admin/users",
        &admin,
        &[
            ("name", "alice"),
            ("role", "applicant"),
            ("organisation", "acme"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let given = shown_once(&page);
    assert!(given.len() >= 12, "{given}");
    assert_inert(&page, "admin page");
    let page = h.call("GET", "/console/admin", &admin, None).await.text;
    assert!(
        page.contains("alice") && page.contains("待本人修改"),
        "{page}"
    );
    assert!(!page.contains(&given), "the password is shown once only");

    // The applicant signs in with it, chooses a password, and registers the mock.
    let (status, headers, _) = post_form(
        &h,
        "/login",
        &Auth::None,
        &[("name", "alice"), ("password", &given)],
    )
    .await;
    assert_eq!(status, 303);
    let first = Auth::Cookie(session_of(&headers).unwrap());
    let (status, headers, _) = post_form(
        &h,
        "/console/password",
        &first,
        &[("current", &given), ("new", "alice-chose-this-one")],
    )
    .await;
    assert_eq!(status, 303);
    let alice = Auth::Cookie(session_of(&headers).unwrap());
    let page = h.call("GET", "/console/models", &alice, None).await.text;
    assert!(page.contains("尚未登记模型"), "{page}");
    assert!(
        !page.contains("name=\"organisation\""),
        "an applicant registers for their own organisation"
    );
    let mock = h.mock.base_url();
    let (status, _, _) = post_form(
        &h,
        "/console/models",
        &alice,
        &[
            ("name", "mock"),
            ("base_url", &mock),
            ("api_key", "sk-page-secret"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let (status, _, page) = post_form(
        &h,
        "/console/models",
        &alice,
        &[
            ("name", HOSTILE[1]),
            ("base_url", "not a url"),
            ("api_key", ""),
        ],
    )
    .await;
    assert_eq!(status, 400, "{page}");
    assert_inert(&page, "models form");
    let models = h.call("GET", "/api/v1/models", &alice, None).await.body;
    let model = models["models"][0]["id"].as_str().unwrap().to_string();
    let page = h.call("GET", "/console/models", &alice, None).await.text;
    assert!(
        page.contains(&model) && page.contains("已加密保存"),
        "{page}"
    );
    assert!(!page.contains("sk-page-secret"), "a key is never shown");
    let (status, _, page) =
        post_form(&h, &format!("/console/models/{model}/test"), &alice, &[]).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("端点可用"), "{page}");

    // The new-run form previews the size (nothing is started) and then starts the run.
    let page = h.call("GET", "/console/new-run", &alice, None).await.text;
    assert!(page.contains("value=\"suite:quick\""), "{page}");
    assert!(page.contains(&format!("value=\"{model}\"")), "{page}");
    let form = |limit: &'static str, what: &'static str| {
        vec![
            ("evaluates", "suite:quick".to_string()),
            ("models", model.clone()),
            ("limit", limit.to_string()),
            ("epochs", String::new()),
            ("seed", "0".to_string()),
            ("do", what.to_string()),
        ]
    };
    let send = |f: Vec<(&'static str, String)>| {
        let (h, alice) = (&h, &alice);
        async move {
            let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            post_form(h, "/console/runs", alice, &pairs).await
        }
    };
    let (status, _, page) = send(form("many", "preview")).await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("`limit` 须为非负整数"), "{page}");
    let (status, _, page) = send(form("3", "preview")).await;
    assert_eq!(status, 200, "{page}");
    let suites = h.call("GET", "/api/v1/suites", &alice, None).await.body;
    let quick = suites["builtin"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "quick")
        .unwrap()
        .clone();
    for task in quick["tasks"].as_array().unwrap() {
        assert!(page.contains(task.as_str().unwrap()), "{task}: {page}");
    }
    assert!(page.contains("置信区间半宽"), "{page}");
    let runs = h.call("GET", "/api/v1/runs", &alice, None).await.body;
    assert_eq!(
        runs["runs"].as_array().unwrap().len(),
        0,
        "a preview starts nothing"
    );
    let (status, headers, _) = send(form("3", "start")).await;
    assert_eq!(status, 303);
    let location = headers["location"].to_str().unwrap().to_string();
    let run = location.strip_prefix("/console/runs/").unwrap().to_string();
    let done = h.wait_finished(&alice, &run, 120).await;
    assert_eq!(done["status"], "completed", "{done}");

    // An API token, its secret shown once, works until it is revoked in the page.
    let (status, _, page) = post_form(
        &h,
        "/console/tokens",
        &alice,
        &[
            ("name", "ci"),
            ("scopes", "read"),
            ("expires_in_days", "30"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let secret = shown_once(&page);
    assert!(secret.starts_with("tst_"), "{secret}");
    let bearer = Auth::Bearer(secret.clone());
    assert_eq!(
        h.call("GET", "/api/v1/runs", &bearer, None).await.status,
        200
    );
    let tokens = h.call("GET", "/api/v1/tokens", &alice, None).await.body;
    let id = tokens["tokens"][0]["id"].as_str().unwrap().to_string();
    let (status, _, _) = post_form(&h, &format!("/console/tokens/{id}/revoke"), &alice, &[]).await;
    assert_eq!(status, 303);
    assert_eq!(
        h.call("GET", "/api/v1/runs", &bearer, None).await.status,
        401
    );
    let page = h.call("GET", "/console/tokens", &alice, None).await.text;
    assert!(page.contains("已吊销") && !page.contains(&secret), "{page}");

    // The auditor sees all of it in the trail, filters it and exports what the filter selects.
    let audrey = h.user("audrey", "auditor", None).await;
    let page = h.call("GET", "/console/audit", &audrey, None).await.text;
    assert!(page.contains("审计链完整"), "{page}");
    assert!(
        page.contains("PageRunCreate") && page.contains(&format!("run:{run}")),
        "{page}"
    );
    let r = h
        .call(
            "GET",
            "/console/audit?action=PageModels&actor=alice&format=ndjson",
            &audrey,
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    let lines: Vec<Value> = r
        .text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() >= 3, "{}", r.text);
    for l in &lines {
        assert!(l["action"].as_str().unwrap().contains("PageModels"), "{l}");
        assert_eq!(l["actor"], "alice", "{l}");
    }
    // The form's refusals are in the trail as refusals, with their codes.
    let page = h
        .call("GET", "/console/audit?outcome=refused", &audrey, None)
        .await
        .text;
    assert!(!page.contains(">ok<"), "only refusals: {page}");
    assert!(page.contains("refused:bad_request"), "{page}");

    // A trail edited behind the center's back: the page says so in a banner.
    drop(h.call("GET", "/console", &alice, None).await);
    let conn = rusqlite::Connection::open(h.db()).unwrap();
    conn.execute_batch("DROP TRIGGER IF EXISTS audit_log_no_update;")
        .unwrap();
    conn.execute(
        "UPDATE audit_log SET event = replace(event, 'alice', 'mallory')
         WHERE seq = (SELECT min(seq) FROM audit_log WHERE event LIKE '%\"alice\"%')",
        [],
    )
    .unwrap();
    let page = h.call("GET", "/console/audit", &audrey, None).await.text;
    assert!(page.contains("审计链校验失败"), "{page}");
    assert!(page.contains("class=\"banner bad\""), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reviewer_browses_the_samples_and_reviews_a_score_in_the_drawer() {
    let h = Harness::start(1).await;
    h.create_org("acme").await;
    let alice = h.user("alice", "applicant", Some("acme")).await;
    let rev = h.user("rev", "reviewer", None).await;
    let model = h.model(&alice, "acme").await;
    let run = h.finished_run(&alice, &model, 3).await;
    let all = h
        .call("GET", &format!("/api/v1/runs/{run}/samples"), &alice, None)
        .await
        .body;
    let items = all["samples"].as_array().unwrap().clone();
    assert!(items.len() >= 3);
    let first = &items[0];
    let item = first["item_id"].as_str().unwrap().to_string();
    let sample = first["sample_id"].as_str().unwrap().to_string();

    // The table: every item of the first page, and filters that narrow it.
    let base = format!("/console/runs/{run}/samples");
    let page = h.call("GET", &base, &rev, None).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert_eq!(
        page.text.matches("class=\"item\"").count(),
        items.len().min(50),
        "{}",
        page.text
    );
    let task = first["task"].as_str().unwrap();
    let page = h
        .call(
            "GET",
            &format!("{base}?task={task}&status=failed"),
            &rev,
            None,
        )
        .await
        .text;
    assert!(page.contains("没有符合条件的条目"), "{page}");
    let page = h
        .call(
            "GET",
            &format!("{base}?text={}", console_encode(&sample)),
            &rev,
            None,
        )
        .await
        .text;
    assert!(page.contains(&sample), "{page}");
    let page = h
        .call("GET", &format!("{base}?score_min=lots"), &rev, None)
        .await;
    assert_eq!(page.status, 400, "a bad filter is said: {}", page.text);

    // The drawer: the item whole, and the review form for the reviewer only.
    let drawer = format!("{base}?item={}", console_encode(&item));
    let page = h.call("GET", &drawer, &rev, None).await.text;
    assert!(page.contains("aside class=\"drawer\""), "{page}");
    assert!(
        page.contains(&item) && page.contains("name=\"reason\""),
        "{page}"
    );
    // The applicant may ask for a review (flag), not give one.
    let page = h.call("GET", &drawer, &alice, None).await.text;
    assert!(page.contains("aside class=\"drawer\"") && !page.contains("/reviews\""));
    assert!(page.contains("/flags\""), "{page}");
    let missing = h
        .call("GET", &format!("{base}?item=no-such-item"), &rev, None)
        .await;
    assert_eq!(missing.status, 404);

    // A review without a reason, or with a value that is not one, comes back in the drawer.
    let review = |value: &'static str, reason: &'static str| {
        let (h, rev, run, item, drawer) = (&h, &rev, &run, &item, &drawer);
        async move {
            post_form(
                h,
                &format!("/console/runs/{run}/reviews"),
                rev,
                &[
                    ("item", item.as_str()),
                    ("value", value),
                    ("reason", reason),
                    ("back", drawer.as_str()),
                ],
            )
            .await
        }
    };
    let (status, _, page) = review("0", "  ").await;
    assert_eq!(status, 400, "{page}");
    assert!(
        page.contains("请填写复核理由") && page.contains("aside class=\"drawer\""),
        "{page}"
    );
    let (status, _, page) = review("wrong", "because").await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("复核值须为 0 至 1 之间的数"), "{page}");
    let (status, headers, _) = review("0", HOSTILE[0]).await;
    assert_eq!(status, 303);
    assert_eq!(headers["location"], format!("{drawer}#drawer"));
    let (status, _, _) = review("1", "on a second look, right").await;
    assert_eq!(status, 303);
    let page = h.call("GET", &drawer, &rev, None).await.text;
    assert_inert(&page, "drawer with reviews");
    assert!(
        page.contains("已被后续复核取代"),
        "both reviews kept: {page}"
    );
    assert!(page.contains("on a second look, right"), "{page}");

    // The run page: automatic and reviewed side by side, with κ.
    let page = h
        .call("GET", &format!("/console/runs/{run}"), &alice, None)
        .await
        .text;
    assert!(
        page.contains("人工复核") && page.contains("Cohen"),
        "{page}"
    );
    assert!(page.contains("(2 次)"), "two reviews of the score: {page}");
    assert!(
        page.contains(&format!("/console/runs/{run}/samples")),
        "{page}"
    );
}

/// Percent-encoding as the pages write query values.
fn console_encode(s: &str) -> String {
    touchstone_console::encode(s)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_public_sees_tiers_a_model_page_and_the_log_and_staff_compare_models() {
    let h = Harness::start(1).await;
    h.create_org("acme").await;
    h.create_org("other").await;
    let alice = h.user("alice", "applicant", Some("acme")).await;
    let oscar = h.user("oscar", "applicant", Some("other")).await;
    let assessor = h.user("asa", "assessor", None).await;
    // Two models, one of them named with markup, in one run of the quick suite.
    let plain = h.model(&alice, "acme").await;
    let r = h
        .call(
            "POST",
            "/api/v1/models",
            &alice,
            Some(json!({ "organisation": "acme", "name": HOSTILE[1], "base_url": h.mock.base_url(), "api_key": "sk-test-secret-key" })),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let hostile = r.body["id"].as_str().unwrap().to_string();
    let r = h
        .call(
            "POST",
            "/api/v1/runs",
            &alice,
            Some(json!({ "suite": "quick", "models": [plain, hostile], "limit": 4 })),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let run = r.body["run_id"].as_str().unwrap().to_string();
    let done = h.wait_finished(&alice, &run, 120).await;
    assert_eq!(done["status"], "completed", "{done}");

    // Staff and the run's organisation compare its models in the page.
    let picker = h.call("GET", "/console/compare", &alice, None).await;
    assert_eq!(picker.status, 200, "{}", picker.text);
    assert!(
        picker.text.contains(&format!("value=\"{run}\"")),
        "{}",
        picker.text
    );
    assert_inert(&picker.text, "compare picker");
    let compared = h
        .call("GET", &format!("/console/compare?run={run}"), &alice, None)
        .await;
    assert_eq!(compared.status, 200, "{}", compared.text);
    assert!(
        compared.text.contains("两两比较") && compared.text.contains("梯队"),
        "{}",
        compared.text
    );
    assert!(
        compared.text.contains("&quot;&gt;&lt;img"),
        "the model's name, as text: {}",
        compared.text
    );
    assert_inert(&compared.text, "comparison");
    // Another organisation is told the run does not exist; a run of one model has nothing
    // to compare and the page says so.
    let theirs = h
        .call("GET", &format!("/console/compare?run={run}"), &oscar, None)
        .await;
    assert_eq!(theirs.status, 404, "{}", theirs.text);
    let single = h.finished_run(&alice, &plain, 1).await;
    let one = h
        .call(
            "GET",
            &format!("/console/compare?run={single}"),
            &alice,
            None,
        )
        .await;
    assert_eq!(one.status, 422, "{}", one.text);
    assert!(
        one.text.contains("role=\"alert\"") && one.text.contains("比较至少需要两个模型"),
        "{}",
        one.text
    );

    // Published, the leaderboard places each model in a tier, without its endpoint.
    let r = h
        .call(
            "POST",
            &format!("/api/v1/runs/{run}/publish"),
            &assessor,
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let published = h.call("GET", "/api/v1/published", &Auth::None, None).await;
    let rows = published.body["suites"][0]["runs"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(rows.len(), 2, "{}", published.text);
    for row in &rows {
        let tiers = row["tiers"].as_object().expect("tiers");
        assert!(!tiers.is_empty(), "{row}");
        assert!(tiers.values().all(|t| t.as_u64() >= Some(1)), "{row}");
    }
    assert!(!published.text.contains("model_spec"), "{}", published.text);
    assert!(
        !published.text.contains(&h.mock.base_url()),
        "{}",
        published.text
    );
    let home = h.call("GET", "/", &Auth::None, None).await;
    assert!(home.text.contains("梯队 1"), "{}", home.text);
    assert!(
        home.text
            .contains(&format!("/model?name={}", console_encode(HOSTILE[1]))),
        "{}",
        home.text
    );
    assert_inert(&home.text, "leaderboard with tiers");

    // The model's public page: its rows only.
    let page = h
        .call(
            "GET",
            &format!("/model?name={}", console_encode(HOSTILE[1])),
            &Auth::None,
            None,
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("&quot;&gt;&lt;img"), "{}", page.text);
    assert!(!page.text.contains(">mock<"), "{}", page.text);
    assert_inert(&page.text, "model page");
    let none = h.call("GET", "/model?name=nobody", &Auth::None, None).await;
    assert_eq!(none.status, 404, "{}", none.text);

    // The transparency log's page: empty, then the certificate's entry.
    let log = h.call("GET", "/log", &Auth::None, None).await;
    assert_eq!(log.status, 200, "{}", log.text);
    h.keys("log passphrase");
    let r = h
        .call(
            "POST",
            &format!("/api/v1/runs/{run}/certificate"),
            &assessor,
            Some(json!({ "passphrase": "log passphrase" })),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let head = h.call("GET", "/api/v1/log/head", &Auth::None, None).await;
    assert_eq!(head.body["tree_size"], 1, "{}", head.text);
    let leaf = head.body["recent"][0]["leaf_hash"].as_str().unwrap();
    let log = h.call("GET", "/log", &Auth::None, None).await;
    assert!(
        log.text.contains(leaf) && log.text.contains(head.body["root_hash"].as_str().unwrap()),
        "{}",
        log.text
    );
}

/// A run of task `t` whose items `s0`, `s1`, … make the mock reply as given (target "2").
async fn replies_run(h: &Harness, who: &Auth, model: &str, name: &str, replies: &[&str]) -> String {
    let ids: Vec<String> = (0..replies.len()).map(|i| format!("s{i}")).collect();
    let items: Vec<(&str, &str)> = ids
        .iter()
        .map(String::as_str)
        .zip(replies.iter().copied())
        .collect();
    h.replies_run(who, model, name, "[exact]", &items).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_sample_browser_shows_what_differs_from_a_baseline_run() {
    let h = Harness::start(1).await;
    h.create_org("acme").await;
    h.create_org("other").await;
    let alice = h.user("alice", "applicant", Some("acme")).await;
    let oscar = h.user("oscar", "applicant", Some("other")).await;
    let model = h.model(&alice, "acme").await;
    // The same questions; the new run gets s1 wrong and s3 right where the baseline did not.
    let baseline = replies_run(&h, &alice, &model, "before", &["2", "2", "2", "9"]).await;
    let run = replies_run(&h, &alice, &model, "after", &["2", "5", "2", "2"]).await;
    let samples = format!("/api/v1/runs/{run}/samples?baseline={baseline}");
    let r = h.call("GET", &samples, &alice, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut ids: Vec<&str> = r.body["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sample_id"].as_str().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, ["s1", "s3"], "{}", r.text);
    // With another filter and in pages of one, still only those.
    let r = h
        .call(
            "GET",
            &format!("{samples}&score_max=0&limit=1"),
            &alice,
            None,
        )
        .await;
    assert_eq!(r.body["samples"][0]["sample_id"], "s1", "{}", r.text);
    // The page offers the baseline and shows the two.
    let page = h
        .call(
            "GET",
            &format!("/console/runs/{run}/samples?baseline={baseline}"),
            &alice,
            None,
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(
        page.text
            .contains(&format!("<option value=\"{baseline}\" selected>")),
        "{}",
        page.text
    );
    assert!(
        page.text.contains(">s1<") && page.text.contains(">s3<") && !page.text.contains(">s0<"),
        "{}",
        page.text
    );
    // A baseline the caller may not read is not found; the run itself is refused with why.
    let theirs = replies_run(
        &h,
        &oscar,
        &h.model(&oscar, "other").await,
        "theirs",
        &["2"],
    )
    .await;
    let r = h
        .call(
            "GET",
            &format!("/api/v1/runs/{run}/samples?baseline={theirs}"),
            &alice,
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.body["error"]["location"].as_str()),
        (404, Some("query:baseline")),
        "{}",
        r.text
    );
    let r = h
        .call(
            "GET",
            &format!("/api/v1/runs/{run}/samples?baseline={run}"),
            &alice,
            None,
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert!(r.text.contains("基线不能是运行本身"), "{}", r.text);
}
