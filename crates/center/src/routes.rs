//! The API's routes: one table, read by the router, the OpenAPI document and the authorisation
//! matrix test. A route is a method, a path pattern (`{id}` matches one segment) and the
//! [`Action`] that decides who may call it.

use crate::policy::Action;

/// The largest request body, except an upload's.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// The largest upload: a suite with its datasets, as JSON (base64 adds a third to binary files).
pub const MAX_UPLOAD_BYTES: usize = 64 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub action: Action,
    pub summary: &'static str,
    pub summary_zh: &'static str,
    /// Whether the request carries a JSON body.
    pub body: bool,
    /// The largest body taken.
    pub max_body: usize,
    /// The media types of a successful answer.
    pub produces: &'static [&'static str],
    /// A page of the console (HTML for browsers; forms for bodies) rather than the API.
    pub page: bool,
}

/// Whether `path` is a page of the console: anything outside `/api/` (a const fn: the table is
/// built at compile time). The HTTP layer asks it too, for paths no route matches.
pub const fn is_page(path: &str) -> bool {
    let p = path.as_bytes();
    let api = b"/api/";
    if p.len() < api.len() {
        return true;
    }
    let mut i = 0;
    while i < api.len() {
        if p[i] != api[i] {
            return true;
        }
        i += 1;
    }
    false
}

const fn route(
    method: &'static str,
    path: &'static str,
    action: Action,
    summary: &'static str,
    summary_zh: &'static str,
) -> Route {
    Route {
        method,
        path,
        action,
        summary,
        summary_zh,
        body: matches!(method.as_bytes(), b"POST"),
        max_body: match action {
            Action::SuitesUpload => MAX_UPLOAD_BYTES,
            _ => MAX_BODY_BYTES,
        },
        page: is_page(path),
        produces: match action {
            _ if is_page(path) => &["text/html"],
            Action::RunsEvents => &["text/event-stream"],
            Action::AuditList | Action::RunsSamplesFile => &["application/x-ndjson"],
            Action::RunsReport | Action::Compare => {
                &["text/html", "text/markdown", "application/json"]
            }
            _ => &["application/json"],
        },
    }
}

/// Every route the API has.
pub const ROUTES: &[Route] = {
    use Action::*;
    &[
        route(
            "GET",
            "/api/v1/health",
            Health,
            "The service is up",
            "服务状态",
        ),
        route(
            "GET",
            "/api/v1/openapi.json",
            OpenApi,
            "This API's OpenAPI document",
            "OpenAPI 文档",
        ),
        route(
            "GET",
            "/api/v1/log/head",
            LogHead,
            "The transparency log's size and root",
            "透明日志头",
        ),
        route(
            "POST",
            "/api/v1/login",
            Login,
            "Sign in with a name and password: a session cookie",
            "登录",
        ),
        route(
            "POST",
            "/api/v1/logout",
            Logout,
            "End this session",
            "退出登录",
        ),
        route("GET", "/api/v1/me", Me, "Who is calling", "当前用户"),
        route(
            "POST",
            "/api/v1/me/password",
            PasswordChange,
            "Change your password (required first when someone else set it): every session ends, this one is renewed",
            "修改密码（由他人设置的密码须先修改）：其他会话全部结束",
        ),
        route("GET", "/api/v1/users", UsersList, "Accounts", "用户列表"),
        route(
            "POST",
            "/api/v1/users",
            UsersCreate,
            "Create an account",
            "创建用户",
        ),
        route(
            "GET",
            "/api/v1/organisations",
            OrgsList,
            "Organisations",
            "组织列表",
        ),
        route(
            "POST",
            "/api/v1/organisations",
            OrgsCreate,
            "Create an organisation",
            "创建组织",
        ),
        route(
            "GET",
            "/api/v1/tokens",
            TokensList,
            "Your API tokens",
            "API 令牌列表",
        ),
        route(
            "POST",
            "/api/v1/tokens",
            TokensCreate,
            "Create an API token (shown once)",
            "创建 API 令牌",
        ),
        route(
            "DELETE",
            "/api/v1/tokens/{id}",
            TokensRevoke,
            "Revoke one of your API tokens",
            "吊销 API 令牌",
        ),
        route(
            "GET",
            "/api/v1/models",
            ModelsList,
            "Registered models",
            "模型列表",
        ),
        route(
            "POST",
            "/api/v1/models",
            ModelsCreate,
            "Register an OpenAI-compatible endpoint and its key",
            "登记模型",
        ),
        route(
            "GET",
            "/api/v1/models/{id}",
            ModelsGet,
            "One model",
            "模型详情",
        ),
        route(
            "DELETE",
            "/api/v1/models/{id}",
            ModelsDelete,
            "Remove a model and its key",
            "删除模型",
        ),
        route(
            "POST",
            "/api/v1/models/{id}/test",
            ModelsTest,
            "Test the connection (the endpoint's /models)",
            "测试连接",
        ),
        route(
            "GET",
            "/api/v1/suites",
            SuitesList,
            "What a run can evaluate: built-in suites, the benchmarks of the center's data folder, your uploaded suites",
            "可评测的套件：内置套件、数据目录中的基准、已上传的套件",
        ),
        route(
            "POST",
            "/api/v1/suites",
            SuitesUpload,
            "Upload a suite with its datasets (stored by content hash; at most 64 MiB)",
            "上传套件及其数据集（按内容哈希存储，至多 64 MiB）",
        ),
        route("GET", "/api/v1/runs", RunsList, "Runs", "运行列表"),
        route(
            "POST",
            "/api/v1/runs",
            RunsCreate,
            "Request a run: queued, 202",
            "提交评估运行",
        ),
        route(
            "GET",
            "/api/v1/runs/{id}",
            RunsGet,
            "One run: status and progress",
            "运行详情",
        ),
        route(
            "GET",
            "/api/v1/runs/{id}/results",
            RunsResults,
            "A run's results with intervals and verdicts",
            "运行结果",
        ),
        route(
            "GET",
            "/api/v1/runs/{id}/samples",
            RunsSamples,
            "A run's items, a page at a time (?after=ID&limit=N; filters status, task, model, label=KEY:VALUE, score_min, score_max, text, and baseline=RUN: only items whose outcome differs from that run's)",
            "运行样本（分页、筛选）",
        ),
        route(
            "GET",
            "/api/v1/runs/{id}/samples.jsonl",
            RunsSamplesFile,
            "Every item recorded so far, as the samples.jsonl file `eval --out` writes",
            "全部样本（samples.jsonl）",
        ),
        route(
            "GET",
            "/api/v1/runs/{id}/events",
            RunsEvents,
            "Live progress as Server-Sent Events (planned, progress with rate and ETA, task, done); Last-Event-ID or ?after=N resumes",
            "实时进度（SSE：计划、进度与速率/预计剩余时间、任务完成、运行结束），可断点续传",
        ),
        route(
            "GET",
            "/api/v1/runs/{id}/report",
            RunsReport,
            "A run's report (?format=html|md|json, lang=zh|en)",
            "运行报告（HTML、Markdown、JSON）",
        ),
        route(
            "GET",
            "/api/v1/compare",
            Compare,
            "Runs side by side with paired tests (?runs=A,B[,…]&format=json|md|html&lang=zh|en&seed=N)",
            "运行对比（配对检验）",
        ),
        route(
            "POST",
            "/api/v1/runs/{id}/cancel",
            RunsCancel,
            "Cancel a run",
            "取消运行",
        ),
        route(
            "POST",
            "/api/v1/runs/{id}/certificate",
            RunsCertify,
            "Issue a certificate for a completed run (body: the key pair's passphrase, used once and never stored); appended to the transparency log",
            "签发证书（口令仅用于本次请求，不保存），并记入透明日志",
        ),
        route(
            "GET",
            "/api/v1/runs/{id}/certificate",
            RunsCertificate,
            "Download the run's latest certificate",
            "下载证书",
        ),
        route(
            "GET",
            "/api/v1/runs/{id}/reviews",
            ReviewsList,
            "Human reviews of the run's scores (superseded ones kept), the current reviewed value of each reviewed score, and the agreement between reviewers and the automatic scorers (Cohen's kappa with a 95% CI)",
            "人工复核记录（保留被取代的记录）、各得分当前复核值，以及复核与自动评分的一致性（Cohen's κ 及 95% 置信区间）",
        ),
        route(
            "POST",
            "/api/v1/runs/{id}/reviews",
            ReviewsCreate,
            "Review one score of one item: a value in [0, 1] with a reason; a later review supersedes, both are kept",
            "复核某条目的一项得分：给出 0 至 1 的值及理由；后一次复核取代前一次，两者均保留",
        ),
        route(
            "GET",
            "/api/v1/runs/{id}/queue",
            ReviewQueue,
            "The review queue: items whose scorers disagree, whose judge wavered, or that were flagged; open ones first",
            "复核队列",
        ),
        route(
            "POST",
            "/api/v1/runs/{id}/flags",
            FlagsCreate,
            "Flag an item for review (body: item, reason); appended, never edited",
            "标记条目待复核",
        ),
        route(
            "POST",
            "/api/v1/runs/{id}/publish",
            RunsPublish,
            "Publish a completed run: the public leaderboard shows it",
            "公开已完成的运行：公开排行榜将显示它",
        ),
        route(
            "GET",
            "/api/v1/published",
            PublishedList,
            "The leaderboard: each suite's published runs, every model's headline metric per task with its 95% CI, the verdicts, whether a certificate can be checked",
            "公开排行榜：各套件已公开运行的各任务主要指标（含 95% 置信区间）、判定及证书",
        ),
        route(
            "POST",
            "/api/v1/certificates/verify",
            CertificatesVerify,
            "Verify a certificate file (the body) against this center's key and transparency log: each check passed or failed, in words",
            "验证证书（请求体为证书文件）：逐项给出通过与否",
        ),
        route(
            "GET",
            "/api/v1/audit",
            AuditList,
            "Audit events (看管监用), JSON lines",
            "审计记录",
        ),
        // The console's pages.
        route(
            "GET",
            "/static/{name}",
            Static,
            "The console's style sheets and script",
            "控制台样式与脚本",
        ),
        route(
            "GET",
            "/",
            PageHome,
            "Public: the leaderboard",
            "公开：排行榜",
        ),
        route(
            "GET",
            "/about",
            PageAbout,
            "Public: what the assessment checks",
            "公开：评估说明",
        ),
        route(
            "GET",
            "/verify",
            PageVerify,
            "Public: certificate verification",
            "公开：验证证书",
        ),
        route(
            "POST",
            "/verify",
            PageVerifyCheck,
            "Public: verify a certificate",
            "公开：验证证书",
        ),
        route(
            "GET",
            "/model",
            PageModel,
            "Public: a model's published results (query: name)",
            "公开：模型的公开结果",
        ),
        route(
            "GET",
            "/log",
            PageLog,
            "Public: the transparency log's head and newest entries",
            "公开：透明日志",
        ),
        route(
            "GET",
            "/lang/{code}",
            PageLang,
            "Switch the language (remembered)",
            "切换语言",
        ),
        route("GET", "/login", PageLogin, "Sign-in form", "登录页"),
        route("POST", "/login", PageLoginSubmit, "Sign in", "登录"),
        route("POST", "/logout", PageLogout, "Sign out", "退出"),
        route(
            "GET",
            "/console",
            PageDashboard,
            "Dashboard: runs and their progress",
            "控制台：运行与进度",
        ),
        route(
            "GET",
            "/console/runs/{id}",
            PageRun,
            "A run: progress, files and report",
            "运行详情",
        ),
        route(
            "GET",
            "/console/runs/{id}/samples",
            PageSamples,
            "A run's items: filters, pages and the item drawer",
            "样本浏览",
        ),
        route(
            "POST",
            "/console/runs/{id}/reviews",
            PageReviewCreate,
            "Review a score (a reason is required)",
            "复核得分",
        ),
        route(
            "POST",
            "/console/runs/{id}/cancel",
            PageRunCancel,
            "Cancel a run",
            "取消运行",
        ),
        route(
            "POST",
            "/console/runs/{id}/certificate",
            PageRunCertify,
            "Issue the run's certificate (the passphrase is asked in the page and never stored)",
            "签发证书（口令在页面输入，不保存）",
        ),
        route(
            "POST",
            "/console/runs/{id}/publish",
            PageRunPublish,
            "Publish the run on the leaderboard",
            "在排行榜公开运行",
        ),
        route(
            "GET",
            "/console/password",
            PagePassword,
            "Password change form",
            "修改密码页",
        ),
        route(
            "POST",
            "/console/password",
            PagePasswordSubmit,
            "Change one's own password",
            "修改密码",
        ),
        route(
            "GET",
            "/console/models",
            PageModels,
            "Registered models and the form to register one",
            "模型列表与登记",
        ),
        route(
            "POST",
            "/console/models",
            PageModelsCreate,
            "Register a model",
            "登记模型",
        ),
        route(
            "POST",
            "/console/models/{id}/test",
            PageModelTest,
            "Test a model's endpoint",
            "测试模型端点",
        ),
        route(
            "POST",
            "/console/models/{id}/delete",
            PageModelDelete,
            "Remove a model",
            "删除模型",
        ),
        route(
            "GET",
            "/console/new-run",
            PageRunNew,
            "The form to start a run",
            "新建运行页",
        ),
        route(
            "POST",
            "/console/runs",
            PageRunCreate,
            "Preview a run's size, or start it",
            "预览或开始运行",
        ),
        route(
            "GET",
            "/console/admin",
            PageAdmin,
            "Accounts and organisations",
            "用户与机构管理",
        ),
        route(
            "POST",
            "/console/admin/users",
            PageUserCreate,
            "Create an account (its first password shown once)",
            "创建用户",
        ),
        route(
            "POST",
            "/console/admin/organisations",
            PageOrgCreate,
            "Create an organisation",
            "创建机构",
        ),
        route(
            "GET",
            "/console/tokens",
            PageTokens,
            "Your API tokens",
            "API 令牌",
        ),
        route(
            "POST",
            "/console/tokens",
            PageTokenCreate,
            "Create an API token (shown once)",
            "创建 API 令牌",
        ),
        route(
            "POST",
            "/console/tokens/{id}/revoke",
            PageTokenRevoke,
            "Revoke one of your API tokens",
            "吊销 API 令牌",
        ),
        route(
            "GET",
            "/console/audit",
            PageAudit,
            "The audit trail, filtered, verified and exported",
            "审计日志（筛选、校验、导出）",
        ),
        route(
            "GET",
            "/console/compare",
            PageCompare,
            "Compare runs and models: paired differences, McNemar, tiers (query: run, repeated)",
            "比较运行与模型",
        ),
        route(
            "GET",
            "/console/runs/{id}/queue",
            PageQueue,
            "A run's review queue",
            "复核队列",
        ),
        route(
            "POST",
            "/console/runs/{id}/flags",
            PageFlagCreate,
            "Flag an item for review",
            "标记条目待复核",
        ),
    ]
};

/// Why no route answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Miss {
    NotFound,
    /// The path exists with other methods.
    MethodNotAllowed,
}

/// The route for `method` and `path`, with the values of its `{…}` segments.
pub fn find(method: &str, path: &str) -> Result<(&'static Route, Vec<String>), Miss> {
    let mut path_matched = false;
    for route in ROUTES {
        if let Some(params) = matches(route.path, path) {
            if route.method == method {
                return Ok((route, params));
            }
            path_matched = true;
        }
    }
    Err(if path_matched {
        Miss::MethodNotAllowed
    } else {
        Miss::NotFound
    })
}

fn matches(pattern: &str, path: &str) -> Option<Vec<String>> {
    let mut want = pattern.split('/');
    let mut got = path.split('/');
    let mut params = Vec::new();
    loop {
        match (want.next(), got.next()) {
            (None, None) => return Some(params),
            (Some(w), Some(g)) if w.starts_with('{') => {
                if g.is_empty() {
                    return None;
                }
                params.push(g.to_string());
            }
            (Some(w), Some(g)) if w == g => {}
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_with_their_parameters() {
        let (r, p) = find("GET", "/api/v1/runs/abc/results").unwrap();
        assert_eq!(r.action, Action::RunsResults);
        assert_eq!(p, vec!["abc"]);
        assert_eq!(find("PUT", "/api/v1/runs"), Err(Miss::MethodNotAllowed));
        assert_eq!(find("GET", "/api/v1/runs//results"), Err(Miss::NotFound));
        assert_eq!(find("GET", "/api/v1/runs/a/b/c"), Err(Miss::NotFound));
        assert_eq!(find("GET", "/api/v1"), Err(Miss::NotFound));
    }

    #[test]
    fn every_route_is_unique_and_every_action_has_one_route() {
        for (i, a) in ROUTES.iter().enumerate() {
            for b in &ROUTES[i + 1..] {
                assert!(
                    !(a.method == b.method && a.path == b.path),
                    "{} {} twice",
                    a.method,
                    a.path
                );
                assert_ne!(a.action, b.action, "two routes for {:?}", a.action);
            }
        }
        for action in crate::policy::ALL_ACTIONS {
            assert!(
                ROUTES.iter().any(|r| r.action == *action),
                "{action:?} has no route"
            );
        }
    }
}
