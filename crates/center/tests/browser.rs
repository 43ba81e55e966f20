//! Acceptance 2 and 3 of issue 15: the console in a real browser. Debian's chromium, driven
//! through its WebDriver (chromedriver) over plain HTTP, walks the center's whole story: an
//! administrator creates an organisation and an applicant; the applicant signs in, registers
//! the mock model, starts the quick suite and watches the progress bar reach 100% live; a
//! reviewer overrides a score; an assessor certifies and publishes; an anonymous visitor finds
//! the model on the leaderboard and verifies the certificate by uploading it, then a copy with
//! one changed byte, which is rejected. Every main page is checked with axe-core (no serious or
//! critical violation) and photographed in 简体中文 and English.
//!
//! `scripts/test` installs chromium, chromium-driver and CJK fonts (`scripts/system-deps
//! --browser`), fetches axe-core through pip, and sets `TOUCHSTONE_REQUIRE_BROWSER=1`, so in CI
//! a missing piece fails the test. A developer's `cargo test` without chromium skips it, saying
//! so. Screenshots go to `TOUCHSTONE_SCREENSHOTS` (default `target/screenshots`);
//! `scripts/screenshots` runs this test alone for people to look at them.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use common::Harness;
use serde_json::{Value, json};
use touchstone_mock::MockConfig;

const ELEMENT: &str = "element-6066-11e4-a5c7-4b5b1ae6c3ef";
const PASSPHRASE: &str = "browser test passphrase";

/// A chromedriver process and one browser session on it.
struct Browser {
    driver: Child,
    http: reqwest::Client,
    session: String,
    base: String,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Browser {
    async fn start(chromium: &Path, driver: &Path) -> Browser {
        let port = free_port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = http.get(format!("{base}/status")).send().await
                && r.status().is_success()
            {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--window-size=1280,1000", "--hide-scrollbars", "--lang=zh-CN",
                    "--force-device-scale-factor=1",
                ],
            },
        } } });
        let r: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no browser session: {r}"))
            .to_string();
        let b = Browser {
            driver: child,
            http,
            session,
            base,
        };
        b.send(
            "POST",
            "timeouts",
            json!({ "script": 120_000, "pageLoad": 60_000 }),
        )
        .await;
        b
    }

    async fn try_send(&self, method: &str, path: &str, body: Value) -> Result<Value, Value> {
        let url = match path {
            "" => format!("{}/session/{}", self.base, self.session),
            _ => format!("{}/session/{}/{path}", self.base, self.session),
        };
        let req = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body),
        };
        let r = req.send().await.map_err(|e| json!(e.to_string()))?;
        let ok = r.status().is_success();
        let v: Value = r.json().await.map_err(|e| json!(e.to_string()))?;
        if ok { Ok(v["value"].clone()) } else { Err(v) }
    }

    async fn send(&self, method: &str, path: &str, body: Value) -> Value {
        self.try_send(method, path, body)
            .await
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"))
    }

    async fn go(&self, url: &str) {
        self.send("POST", "url", json!({ "url": url })).await;
    }

    async fn url(&self) -> String {
        self.send("GET", "url", Value::Null)
            .await
            .as_str()
            .unwrap()
            .to_string()
    }

    async fn find(&self, css: &str) -> String {
        let v = self
            .send(
                "POST",
                "element",
                json!({ "using": "css selector", "value": css }),
            )
            .await;
        // The W3C key, or (this chromedriver's) its one other key: the reference is the value.
        v[ELEMENT]
            .as_str()
            .or_else(|| v.as_object().and_then(|o| o.values().next()?.as_str()))
            .unwrap_or_else(|| panic!("{css}: {v}"))
            .to_string()
    }

    async fn count(&self, css: &str) -> usize {
        self.send(
            "POST",
            "elements",
            json!({ "using": "css selector", "value": css }),
        )
        .await
        .as_array()
        .map_or(0, Vec::len)
    }

    async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.send("POST", &format!("element/{e}/click"), json!({}))
            .await;
    }

    /// Clicks what submits a form or follows a link, and waits until the next page has loaded.
    async fn submit(&self, css: &str) {
        self.script("window.__touchstoneOldPage = true;", json!([]))
            .await;
        self.click(css).await;
        self.wait_for_new_page().await;
    }

    async fn wait_for_new_page(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let loaded = self
                .try_send(
                    "POST",
                    "execute/sync",
                    json!({ "script": "return !window.__touchstoneOldPage && document.readyState === 'complete'", "args": [] }),
                )
                .await;
            if loaded.ok().and_then(|v| v.as_bool()) == Some(true) {
                return;
            }
            assert!(Instant::now() < deadline, "the next page did not load");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    async fn fill(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.send("POST", &format!("element/{e}/clear"), json!({}))
            .await;
        self.send(
            "POST",
            &format!("element/{e}/value"),
            json!({ "text": text }),
        )
        .await;
    }

    async fn text(&self, css: &str) -> String {
        let e = self.find(css).await;
        self.send("GET", &format!("element/{e}/text"), Value::Null)
            .await
            .as_str()
            .unwrap()
            .to_string()
    }

    async fn page(&self) -> String {
        self.script("return document.documentElement.outerHTML", json!([]))
            .await
            .as_str()
            .unwrap()
            .to_string()
    }

    async fn script(&self, script: &str, args: Value) -> Value {
        self.send(
            "POST",
            "execute/sync",
            json!({ "script": script, "args": args }),
        )
        .await
    }

    /// Ends the session by forgetting its cookie (the language's stays).
    async fn sign_out(&self) {
        self.send("DELETE", "cookie/touchstone_session", Value::Null)
            .await;
    }

    async fn sign_in(&self, center: &str, name: &str, password: &str) {
        self.sign_out().await;
        self.go(&format!("{center}/login")).await;
        self.fill("#name", name).await;
        self.fill("#password", password).await;
        self.submit("form.card button[type=submit]").await;
    }

    async fn screenshot(&self, dir: &Path, name: &str) {
        let png = self.send("GET", "screenshot", Value::Null).await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap();
        std::fs::write(dir.join(format!("{name}.png")), bytes).unwrap();
    }

    /// axe-core's serious and critical violations on the page, one line each.
    async fn accessibility(&self, axe: &str) -> Vec<String> {
        let script = format!(
            "{axe}\n;const done = arguments[arguments.length - 1];
             axe.run(document, {{ resultTypes: ['violations'] }})
               .then(r => done(r.violations
                 .filter(v => v.impact === 'serious' || v.impact === 'critical')
                 .map(v => v.impact + ' ' + v.id + ': ' + v.help + ' at '
                   + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '))))
               .catch(e => done(['axe failed: ' + e]));"
        );
        let v = self
            .send(
                "POST",
                "execute/async",
                json!({ "script": script, "args": [] }),
            )
            .await;
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    }
}

/// Where a program is, if it is installed where Debian puts it.
fn installed(path: &str) -> Option<PathBuf> {
    let p = PathBuf::from(path);
    p.exists().then_some(p)
}

fn screenshots_dir() -> PathBuf {
    let dir = std::env::var_os("TOUCHSTONE_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_whole_story_in_a_real_browser() {
    let required = std::env::var_os("TOUCHSTONE_REQUIRE_BROWSER").is_some();
    let (chromium, driver) = match (
        installed("/usr/bin/chromium"),
        installed("/usr/bin/chromedriver"),
    ) {
        (Some(c), Some(d)) => (c, d),
        _ if required => panic!(
            "chromium and chromedriver are required (TOUCHSTONE_REQUIRE_BROWSER is set): \
             run scripts/system-deps --browser"
        ),
        _ => {
            eprintln!(
                "skipped: no /usr/bin/chromium or /usr/bin/chromedriver (scripts/system-deps --browser installs them; scripts/test runs this test)"
            );
            return;
        }
    };
    let axe = match std::env::var_os("TOUCHSTONE_AXE_JS") {
        Some(path) => Some(std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!("TOUCHSTONE_AXE_JS={}: {e}", PathBuf::from(&path).display())
        })),
        None if required => panic!("TOUCHSTONE_AXE_JS is required: scripts/test fetches axe-core"),
        None => {
            eprintln!("accessibility not checked: TOUCHSTONE_AXE_JS is not set");
            None
        }
    };
    let shots = screenshots_dir();
    // Each answer takes a moment, so that the progress bar has somewhere to move.
    let h = Harness::start_with(
        1,
        MockConfig {
            latency: Duration::from_millis(300),
            ..MockConfig::default()
        },
    )
    .await;
    let center = h.base.clone();
    let b = Browser::start(&chromium, &driver).await;
    let mut violations = Vec::new();
    let check = |page: &'static str, found: Vec<String>, into: &mut Vec<String>| {
        into.extend(found.into_iter().map(|v| format!("{page}: {v}")));
    };

    // The pages in Chinese first (the switch is remembered in a cookie, kept across sign-ins).
    b.go(&format!("{center}/lang/zh?next=/")).await;

    // The administrator: an organisation and an applicant, whose first password is shown once.
    b.sign_in(&center, "admin", &h.admin_password).await;
    b.go(&format!("{center}/console/admin")).await;
    b.fill("#org-name", "acme").await;
    b.fill("#org-display", "Acme 人工智能").await;
    b.submit("form[action='/console/admin/organisations'] button")
        .await;
    b.fill("#user-name", "alice").await;
    b.click("#user-role option[value='applicant']").await;
    b.click("#user-org option[value='acme']").await;
    b.submit("form[action='/console/admin/users'] button").await;
    let given = b.text("p.secret").await;
    assert!(given.len() >= 12, "a generated password: {given}");
    if let Some(axe) = &axe {
        check("admin", b.accessibility(axe).await, &mut violations);
    }

    // The applicant: signs in, must choose a password, registers the mock and starts the quick
    // suite after a preview of its size.
    b.sign_in(&center, "alice", &given).await;
    assert!(
        b.url().await.ends_with("/console/password"),
        "{}",
        b.url().await
    );
    b.fill("#current", &given).await;
    b.fill("#new", "alice-chose-this-password").await;
    b.submit("form.card button[type=submit]").await;
    b.go(&format!("{center}/console/models")).await;
    b.fill("#name", "mock").await;
    b.fill("#base_url", &h.mock.base_url()).await;
    b.submit("form[action='/console/models'] button").await;
    assert!(b.page().await.contains("已加密保存") || b.count("table.models tbody tr").await == 1);
    if let Some(axe) = &axe {
        check("models", b.accessibility(axe).await, &mut violations);
    }
    b.go(&format!("{center}/console/new-run")).await;
    b.click("input[name='models']").await;
    b.fill("#limit", "8").await;
    b.submit("button[value='preview']").await;
    let preview = b.text("section.preview").await;
    assert!(preview.contains("每个模型"), "{preview}");
    if let Some(axe) = &axe {
        check("new run", b.accessibility(axe).await, &mut violations);
    }
    b.submit("button[value='start']").await;
    let run_url = b.url().await;
    let run = run_url
        .rsplit('/')
        .next()
        .unwrap()
        .trim_end_matches('#')
        .to_string();
    assert!(run_url.contains("/console/runs/"), "{run_url}");

    // The progress bar moves while the run runs, and reaches 100% without a reload by us.
    let mut seen: Vec<f64> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let v = b
            .try_send(
                "POST",
                "execute/sync",
                json!({ "script": "const p = document.querySelector('div.progress progress'); \
                    const s = document.querySelector('span.status'); \
                    return [p ? p.value : -1, s ? s.className : ''];", "args": [] }),
            )
            .await;
        if let Ok(v) = v {
            let value = v[0].as_f64().unwrap_or(-1.0);
            if value >= 0.0 && seen.last() != Some(&value) {
                seen.push(value);
            }
            if value >= 100.0 && v[1].as_str().unwrap_or("").contains("completed") {
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the run did not finish: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        seen.first().is_some_and(|v| *v < 100.0) && seen.iter().any(|v| *v >= 100.0),
        "the bar started below 100% and reached it: {seen:?}"
    );
    assert!(seen.len() >= 3, "the bar moved in steps: {seen:?}");
    if let Some(axe) = &axe {
        check("run", b.accessibility(axe).await, &mut violations);
        b.go(&format!("{center}/console/compare")).await;
        check("compare", b.accessibility(axe).await, &mut violations);
    }

    // A reviewer overrides a score in the sample drawer.
    h.user("rev", "reviewer", None).await;
    b.sign_in(&center, "rev", "pw-rev-long-enough").await;
    b.go(&format!("{center}/console/runs/{run}/samples")).await;
    if let Some(axe) = &axe {
        check("samples", b.accessibility(axe).await, &mut violations);
    }
    b.submit("table.samples a.item").await;
    b.fill("#review-value", "0").await;
    b.fill("#review-reason", "答案不完整 / the answer is incomplete")
        .await;
    b.submit("aside.drawer form button[type=submit]").await;
    assert!(
        b.text("ul.reviews")
            .await
            .contains("the answer is incomplete"),
        "the review is shown"
    );
    if let Some(axe) = &axe {
        check("drawer", b.accessibility(axe).await, &mut violations);
    }
    b.go(&format!("{center}/console/runs/{run}/queue")).await;
    assert!(b.text("h1").await.contains("复核队列"));
    if let Some(axe) = &axe {
        check("review queue", b.accessibility(axe).await, &mut violations);
    }

    // An assessor certifies and publishes.
    h.user("asa", "assessor", None).await;
    h.keys(PASSPHRASE);
    b.sign_in(&center, "asa", "pw-asa-long-enough").await;
    b.go(&format!("{center}/console/runs/{run}")).await;
    b.fill("#passphrase", PASSPHRASE).await;
    b.submit("form[action$='/certificate'] button").await;
    b.submit("form[action$='/publish'] button").await;
    assert!(b.page().await.contains("公开于"), "published");
    let assessor = h.login("asa", "pw-asa-long-enough").await;
    let certificate = h
        .call(
            "GET",
            &format!("/api/v1/runs/{run}/certificate"),
            &assessor,
            None,
        )
        .await
        .text;
    if let Some(axe) = &axe {
        b.sign_in(&center, "admin", &h.admin_password).await;
        b.go(&format!("{center}/console/audit")).await;
        check("audit", b.accessibility(axe).await, &mut violations);
    }

    // An anonymous visitor: the model on the leaderboard, the certificate verified by upload,
    // and a copy with one changed byte rejected.
    b.sign_out().await;
    b.go(&format!("{center}/")).await;
    let board = b.text("main").await;
    assert!(board.contains("mock") && board.contains("acme"), "{board}");
    if let Some(axe) = &axe {
        check("leaderboard", b.accessibility(axe).await, &mut violations);
    }
    // The model's page from its link, and the transparency log from the footer.
    b.submit("section.board th a").await;
    assert!(b.text("h1").await.contains("mock"));
    if let Some(axe) = &axe {
        check("model", b.accessibility(axe).await, &mut violations);
    }
    b.submit("footer a[href='/log']").await;
    assert!(b.text("main").await.contains("SHA-256"));
    if let Some(axe) = &axe {
        check("log", b.accessibility(axe).await, &mut violations);
    }
    let files = tempfile::tempdir().unwrap();
    let good = files.path().join("run.cert.json");
    std::fs::write(&good, &certificate).unwrap();
    let changed = certificate.replacen(
        "Touchstone evaluation center",
        "Touchstone evaluation centor",
        1,
    );
    assert_eq!(
        changed
            .bytes()
            .zip(certificate.bytes())
            .filter(|(a, c)| a != c)
            .count(),
        1,
        "exactly one byte differs"
    );
    let bad = files.path().join("changed.cert.json");
    std::fs::write(&bad, &changed).unwrap();
    let upload = |file: PathBuf| {
        let (b, center) = (&b, &center);
        async move {
            b.go(&format!("{center}/verify")).await;
            let input = b.find("#certificate-file").await;
            b.send(
                "POST",
                &format!("element/{input}/value"),
                json!({ "text": file.display().to_string() }),
            )
            .await;
            // The console's script reads the chosen file into the form.
            let deadline = Instant::now() + Duration::from_secs(10);
            while b
                .script(
                    "return document.getElementById('certificate').value.length",
                    json!([]),
                )
                .await
                .as_u64()
                == Some(0)
            {
                assert!(Instant::now() < deadline, "the file was not read");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            b.submit("form[action='/verify'] button").await;
            b.text("p.verdict").await
        }
    };
    let verdict = upload(good.clone()).await;
    assert!(verdict.contains("证书有效"), "{verdict}");
    if let Some(axe) = &axe {
        check("verify", b.accessibility(axe).await, &mut violations);
    }
    let verdict = upload(bad).await;
    assert!(verdict.contains("证书无效"), "{verdict}");

    // Screenshots of the main pages in both languages.
    for lang in ["zh", "en"] {
        b.sign_out().await;
        b.go(&format!("{center}/lang/{lang}?next=/")).await;
        b.screenshot(&shots, &format!("leaderboard-{lang}")).await;
        upload(good.clone()).await;
        b.screenshot(&shots, &format!("verify-{lang}")).await;
        b.sign_in(&center, "asa", "pw-asa-long-enough").await;
        for (name, path) in [
            ("dashboard", "/console".to_string()),
            ("run", format!("/console/runs/{run}")),
            ("new-run", "/console/new-run".to_string()),
        ] {
            b.go(&format!("{center}{path}")).await;
            b.screenshot(&shots, &format!("{name}-{lang}")).await;
        }
        b.go(&format!("{center}/console/runs/{run}/samples")).await;
        b.submit("table.samples a.item").await;
        b.screenshot(&shots, &format!("sample-drawer-{lang}")).await;
    }
    for name in [
        "leaderboard",
        "verify",
        "dashboard",
        "run",
        "new-run",
        "sample-drawer",
    ] {
        for lang in ["zh", "en"] {
            let file = shots.join(format!("{name}-{lang}.png"));
            let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
            assert!(size > 10_000, "{}: {size} bytes", file.display());
        }
    }
    b.send("DELETE", "", Value::Null).await;
    assert!(
        violations.is_empty(),
        "accessibility (axe-core), serious or critical:\n{}",
        violations.join("\n")
    );
}
