//! The pages where people change things: models, a new run, accounts and organisations, API
//! tokens, and the audit trail. Each form posts to the center, which answers with a redirect or
//! with the same page and what went wrong.

use maud::{Markup, html};

use crate::Lang;
use crate::frame::{Frame, ROLES, encode, page, query, role_name, t};

/// A registered model as the pages list it (never its API key).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelRow {
    pub id: String,
    pub organisation: String,
    pub name: String,
    pub base_url: String,
    pub has_key: bool,
    pub created_by: String,
    pub created_at: String,
}

/// The outcome of testing a model's endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Tested {
    pub model_id: String,
    pub ok: bool,
    /// The models the endpoint offers, or why it did not answer.
    pub detail: String,
}

/// The models page.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelsView {
    pub models: Vec<ModelRow>,
    /// The organisations the viewer registers for (staff choose one); empty for an applicant,
    /// who registers for their own.
    pub organisations: Vec<String>,
    /// The viewer may register, test and remove models.
    pub can_change: bool,
    pub tested: Option<Tested>,
    pub error: Option<String>,
}

fn organisation_field(lang: Lang, organisations: &[String], chosen: &str) -> Markup {
    html! {
        @if !organisations.is_empty() {
            label for="organisation" { (t(lang, "机构", "Organisation")) }
            select #organisation name="organisation" required {
                @for o in organisations { option value=(o) selected[o == chosen] { (o) } }
            }
        }
    }
}

/// Registered models, a form to register one, and a test of each endpoint.
pub fn models(frame: &Frame<'_>, view: &ModelsView) -> String {
    let lang = frame.lang;
    let body = html! {
        @if let Some(e) = &view.error { p.error role="alert" { (e) } }
        @if let Some(tested) = &view.tested {
            @if tested.ok {
                p.good role="status" { "✓ " (t(lang, "端点可用，提供：", "The endpoint answers; it offers: ")) (tested.detail) }
            } @else {
                p.error role="alert" { "✗ " (t(lang, "端点不可用：", "The endpoint does not answer: ")) (tested.detail) }
            }
        }
        @if view.models.is_empty() {
            p.empty { (t(lang, "尚未登记模型。", "No model is registered yet.")) }
        } @else {
            div.scroll { table.models {
                thead { tr {
                    th scope="col" { (t(lang, "模型", "Model")) }
                    th scope="col" { (t(lang, "机构", "Organisation")) }
                    th scope="col" { (t(lang, "端点", "Endpoint")) }
                    th scope="col" { (t(lang, "密钥", "Key")) }
                    th scope="col" { (t(lang, "登记", "Registered")) }
                    @if view.can_change { th scope="col" { (t(lang, "操作", "Actions")) } }
                } }
                tbody { @for m in &view.models {
                    tr id=(format!("model-{}", m.id)) {
                        th scope="row" { (m.name) br; span.mono.muted { (m.id) } }
                        td { (m.organisation) }
                        td.mono { (m.base_url) }
                        td { @if m.has_key { (t(lang, "已加密保存", "stored encrypted")) } @else { "—" } }
                        td { (m.created_by) br; span.muted { (m.created_at) } }
                        @if view.can_change {
                            td {
                                form.inline method="post" action=(format!("/console/models/{}/test", encode(&m.id))) {
                                    button type="submit" aria-label=(format!("{} {}", t(lang, "测试", "Test"), m.name)) { (t(lang, "测试", "Test")) }
                                }
                                " "
                                form.inline method="post" action=(format!("/console/models/{}/delete", encode(&m.id))) {
                                    button.danger type="submit" aria-label=(format!("{} {}", t(lang, "删除", "Remove"), m.name)) { (t(lang, "删除", "Remove")) }
                                }
                            }
                        }
                    }
                } }
            } }
        }
        @if view.can_change {
            h2 { (t(lang, "登记模型", "Register a model")) }
            form.card method="post" action="/console/models" {
                (organisation_field(lang, &view.organisations, ""))
                label for="name" { (t(lang, "端点上的模型名称", "The model's name at the endpoint")) }
                input #name type="text" name="name" required maxlength="200";
                label for="base_url" { (t(lang, "OpenAI 兼容端点地址", "OpenAI-compatible endpoint URL")) }
                input #base_url type="url" name="base_url" placeholder="https://api.example.com/v1" required;
                label for="api_key" { (t(lang, "API 密钥（可选，加密保存，不再显示）", "API key (optional; stored encrypted, never shown again)")) }
                input #api_key type="password" name="api_key" autocomplete="off";
                button type="submit" { (t(lang, "登记", "Register")) }
            }
        }
    };
    page(frame, t(lang, "模型", "Models"), body)
}

/// A choice of a select: its value and what it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// What the new-run form holds (as typed, so a refused form comes back as it was).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunForm {
    /// `suite:NAME`, `benchmark:NAME` or `upload:ID`.
    pub evaluates: String,
    pub organisation: String,
    pub models: Vec<String>,
    pub limit: String,
    pub epochs: String,
    pub seed: String,
}

/// The size of a run before it starts, and what its numbers will be able to tell.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    /// Items per model, by task.
    pub tasks: Vec<(String, u64)>,
    pub models: usize,
    /// Requests in all (items × models).
    pub total: u64,
    /// Half-width of a 95% interval for a rate on the smallest task, at its widest (rate 0.5).
    pub half_width: Option<f64>,
    /// The smallest difference between two models' rates the smallest task detects with 80%
    /// power at α = 0.05 (rates near 0.5); None where no difference is detectable.
    pub detectable: Option<f64>,
}

/// The new-run form.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRunView {
    pub evaluates: Vec<Choice>,
    pub models: Vec<ModelRow>,
    /// As for [`ModelsView::organisations`].
    pub organisations: Vec<String>,
    pub form: RunForm,
    pub preview: Option<Preview>,
    pub error: Option<String>,
}

/// Start a run: what it evaluates, on which models, how many items; a preview counts its items
/// and says what they can tell before anything is sent.
pub fn new_run(frame: &Frame<'_>, view: &NewRunView) -> String {
    let lang = frame.lang;
    let f = &view.form;
    let body = html! {
        @if let Some(e) = &view.error { p.error role="alert" { (e) } }
        @if let Some(p) = &view.preview {
            section.preview aria-live="polite" {
                h2 { (t(lang, "预览", "Preview")) }
                p {
                    (t(lang, "每个模型 ", "Per model: ")) strong { (p.tasks.iter().map(|(_, n)| n).sum::<u64>()) }
                    (t(lang, " 条；共 ", " items; in all ")) strong { (p.total) }
                    (t(lang, " 次请求（", " requests (")) (p.models) (t(lang, " 个模型）。", if p.models == 1 { " model)." } else { " models)." }))
                }
                table {
                    thead { tr { th scope="col" { (t(lang, "任务", "Task")) } th.num scope="col" { (t(lang, "每模型条数", "Items per model")) } } }
                    tbody { @for (task, n) in &p.tasks { tr { th scope="row" { (task) } td.num { (n) } } } }
                }
                @if let Some(h) = p.half_width {
                    p { (t(lang, "最小任务上，比率的 95% 置信区间半宽至多为 ", "On the smallest task a rate's 95% interval is at most ± ")) strong { (format!("{h:.3}")) } (t(lang, "。", ".")) }
                }
                @match p.detectable {
                    Some(d) => p { (t(lang, "两个模型的比率相差至少 ", "Two models whose rates differ by ")) strong { (format!("{d:.3}")) } (t(lang, " 时，有 80% 的把握在 α = 0.05 下检出（比率接近 0.5 时）。", " or more are told apart with 80% power at α = 0.05 (rates near 0.5).")) },
                    None => p.muted { (t(lang, "条数太少，无法可靠区分两个模型。", "Too few items to tell two models apart reliably.")) },
                }
            }
        }
        form.card method="post" action="/console/runs" {
            label for="evaluates" { (t(lang, "评测内容", "What to evaluate")) }
            select #evaluates name="evaluates" required {
                @for c in &view.evaluates { option value=(c.value) selected[c.value == f.evaluates] { (c.label) } }
            }
            (organisation_field(lang, &view.organisations, &f.organisation))
            fieldset {
                legend { (t(lang, "模型", "Models")) }
                @if view.models.is_empty() {
                    p.empty { (t(lang, "请先登记模型。", "Register a model first.")) " " a href="/console/models" { (t(lang, "模型", "Models")) } }
                }
                @for m in &view.models {
                    label.check {
                        input type="checkbox" name="models" value=(m.id) checked[f.models.contains(&m.id)];
                        " " (m.name) " " span.muted { "(" (m.organisation) ")" }
                    }
                }
            }
            label for="limit" { (t(lang, "每个任务的条数上限（可选）", "Items per task at most (optional)")) }
            input #limit type="number" name="limit" min="1" value=(f.limit);
            label for="epochs" { (t(lang, "每条重复次数（可选）", "Epochs per item (optional)")) }
            input #epochs type="number" name="epochs" min="1" value=(f.epochs);
            label for="seed" { (t(lang, "随机种子", "Seed")) }
            input #seed type="number" name="seed" min="0" value=(f.seed);
            div.buttons {
                button.secondary type="submit" name="do" value="preview" { (t(lang, "预览条数", "Preview the size")) }
                " "
                button type="submit" name="do" value="start" { (t(lang, "开始运行", "Start the run")) }
            }
        }
    };
    page(frame, t(lang, "新建运行", "New run"), body)
}

/// An account as the admin page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub name: String,
    pub role: String,
    pub organisation: Option<String>,
    pub must_change_password: bool,
}

/// An organisation as the admin page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgRow {
    pub name: String,
    pub display_name: String,
    pub max_running: u32,
    pub created_at: String,
}

/// The administration page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminView {
    pub users: Vec<UserRow>,
    pub orgs: Vec<OrgRow>,
    /// An account just created with a generated password: (name, password), shown this once.
    pub created: Option<(String, String)>,
    pub error: Option<String>,
}

/// Accounts and organisations, and forms to create each.
pub fn admin(frame: &Frame<'_>, view: &AdminView) -> String {
    let lang = frame.lang;
    let body = html! {
        @if let Some(e) = &view.error { p.error role="alert" { (e) } }
        @if let Some((name, password)) = &view.created {
            div.notice role="status" {
                p { (t(lang, "已创建用户 ", "Created the account ")) strong { (name) } (t(lang, "。初始密码只显示这一次，请安全地交给本人；首次登录时须修改：", ". Its first password is shown this once; hand it over safely — it must be changed at first sign-in:")) }
                p.mono.secret { (password) }
            }
        }
        h2 { (t(lang, "机构", "Organisations")) }
        @if view.orgs.is_empty() {
            p.empty { (t(lang, "尚无机构。", "No organisation yet.")) }
        } @else {
            div.scroll { table {
                thead { tr {
                    th scope="col" { (t(lang, "标识", "Name")) }
                    th scope="col" { (t(lang, "名称", "Display name")) }
                    th.num scope="col" { (t(lang, "同时运行上限", "Runs at once")) }
                    th scope="col" { (t(lang, "创建", "Created")) }
                } }
                tbody { @for o in &view.orgs { tr {
                    th scope="row" { (o.name) } td { (o.display_name) } td.num { (o.max_running) } td { (o.created_at) }
                } } }
            } }
        }
        form.card method="post" action="/console/admin/organisations" {
            label for="org-name" { (t(lang, "机构标识（字母、数字、- 和 _）", "Organisation name (letters, digits, - and _)")) }
            input #org-name type="text" name="name" required maxlength="64";
            label for="org-display" { (t(lang, "显示名称", "Display name")) }
            input #org-display type="text" name="display_name" maxlength="200";
            label for="org-max" { (t(lang, "同时运行上限（1–64）", "Runs at once (1–64)")) }
            input #org-max type="number" name="max_running" min="1" max="64" value="2";
            button type="submit" { (t(lang, "创建机构", "Create the organisation")) }
        }
        h2 { (t(lang, "用户", "Accounts")) }
        div.scroll { table {
            thead { tr {
                th scope="col" { (t(lang, "用户名", "Name")) }
                th scope="col" { (t(lang, "角色", "Role")) }
                th scope="col" { (t(lang, "机构", "Organisation")) }
                th scope="col" { (t(lang, "密码", "Password")) }
            } }
            tbody { @for u in &view.users { tr {
                th scope="row" { (u.name) }
                td { (role_name(lang, &u.role)) }
                td { (u.organisation.as_deref().unwrap_or("—")) }
                td { @if u.must_change_password { (t(lang, "待本人修改", "to be changed by its owner")) } @else { (t(lang, "本人已设置", "set by its owner")) } }
            } } }
        } }
        form.card method="post" action="/console/admin/users" {
            label for="user-name" { (t(lang, "用户名", "Name")) }
            input #user-name type="text" name="name" required maxlength="64" autocomplete="off";
            label for="user-role" { (t(lang, "角色", "Role")) }
            select #user-role name="role" {
                @for (value, zh, en) in ROLES { option value=(value) { (t(lang, zh, en)) } }
            }
            label for="user-org" { (t(lang, "机构（仅申请方）", "Organisation (applicants only)")) }
            select #user-org name="organisation" {
                option value="" { "—" }
                @for o in &view.orgs { option value=(o.name) { (o.name) } }
            }
            p.muted { (t(lang, "初始密码由系统生成，只显示一次。", "A first password is generated and shown once.")) }
            button type="submit" { (t(lang, "创建用户", "Create the account")) }
        }
    };
    page(frame, t(lang, "管理", "Administration"), body)
}

/// An API token as its owner sees it (never its secret, which is shown once at creation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    pub id: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub created_at: String,
    pub expires_at: String,
    pub revoked: bool,
    pub last_used_at: Option<String>,
}

/// The viewer's API tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokensView {
    pub tokens: Vec<TokenRow>,
    /// The scopes the viewer's role can give.
    pub scopes: Vec<String>,
    /// A token just created: (name, secret), shown this once.
    pub created: Option<(String, String)>,
    pub error: Option<String>,
}

/// API tokens for scripts and CI: list, create (the secret shown once), revoke.
pub fn tokens(frame: &Frame<'_>, view: &TokensView) -> String {
    let lang = frame.lang;
    let body = html! {
        @if let Some(e) = &view.error { p.error role="alert" { (e) } }
        @if let Some((name, secret)) = &view.created {
            div.notice role="status" {
                p { (t(lang, "令牌 ", "The token ")) strong { (name) } (t(lang, " 已创建。它只显示这一次：", " was created. It is shown this once:")) }
                p.mono.secret { (secret) }
                p.muted { "Authorization: Bearer …" }
            }
        }
        @if view.tokens.is_empty() {
            p.empty { (t(lang, "尚无令牌。", "No token yet.")) }
        } @else {
            div.scroll { table {
                thead { tr {
                    th scope="col" { (t(lang, "名称", "Name")) }
                    th scope="col" { (t(lang, "权限范围", "Scopes")) }
                    th scope="col" { (t(lang, "创建", "Created")) }
                    th scope="col" { (t(lang, "到期", "Expires")) }
                    th scope="col" { (t(lang, "最近使用", "Last used")) }
                    th scope="col" { (t(lang, "状态", "State")) }
                } }
                tbody { @for tk in &view.tokens { tr {
                    th scope="row" { (tk.name) br; span.mono.muted { (tk.id) } }
                    td { (tk.scopes.join(", ")) }
                    td { (tk.created_at) }
                    td { (tk.expires_at) }
                    td { (tk.last_used_at.as_deref().unwrap_or("—")) }
                    td {
                        @if tk.revoked { span.bad { (t(lang, "已吊销", "revoked")) } } @else {
                            form.inline method="post" action=(format!("/console/tokens/{}/revoke", encode(&tk.id))) {
                                button.danger type="submit" aria-label=(format!("{} {}", t(lang, "吊销", "Revoke"), tk.name)) { (t(lang, "吊销", "Revoke")) }
                            }
                        }
                    }
                } } }
            } }
        }
        form.card method="post" action="/console/tokens" {
            label for="token-name" { (t(lang, "名称（用途）", "Name (what uses it)")) }
            input #token-name type="text" name="name" required maxlength="100";
            fieldset {
                legend { (t(lang, "权限范围", "Scopes")) }
                @for s in &view.scopes {
                    label.check { input type="checkbox" name="scopes" value=(s) checked[s == "read"]; " " (s) }
                }
            }
            label for="token-days" { (t(lang, "有效天数（1–366）", "Days valid (1–366)")) }
            input #token-days type="number" name="expires_in_days" min="1" max="366" value="90";
            button type="submit" { (t(lang, "创建令牌", "Create the token")) }
        }
    };
    page(frame, t(lang, "API 令牌", "API tokens"), body)
}

/// One event of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub seq: u64,
    pub at: String,
    pub actor: String,
    pub role: String,
    pub organisation: Option<String>,
    pub action: String,
    pub object: String,
    pub source: String,
    pub outcome: String,
}

/// What the audit page filters on: each a part of the field's text (empty: any).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub actor: String,
    pub action: String,
    pub object: String,
    pub outcome: String,
}

impl AuditFilter {
    /// The filter as a query string (without `?`).
    pub fn query(&self) -> String {
        query(&[
            ("actor", &self.actor),
            ("action", &self.action),
            ("object", &self.object),
            ("outcome", &self.outcome),
        ])
    }
}

/// The audit page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditView {
    pub events: Vec<AuditRow>,
    pub filter: AuditFilter,
    /// The sequence number to continue after, where there are more.
    pub next: Option<u64>,
    /// Why the chain does not verify (edited, removed or moved events), if it does not.
    pub broken: Option<String>,
    /// The verified head: (sequence number, hash).
    pub head: Option<(u64, String)>,
}

/// The audit trail, filtered, with its verification and an export of what the filter selects.
pub fn audit(frame: &Frame<'_>, view: &AuditView) -> String {
    let lang = frame.lang;
    let f = &view.filter;
    let query = f.query();
    let export = if query.is_empty() {
        "/console/audit?format=ndjson".to_string()
    } else {
        format!("/console/audit?{query}&format=ndjson")
    };
    let body = html! {
        @match &view.broken {
            Some(why) => div.banner.bad role="alert" {
                strong { (t(lang, "审计链校验失败：", "The audit trail does not verify: ")) }
                (why) " " (t(lang, "（有事件被改动、删除或移动；请立即保全数据库并报告。）", "(events were edited, removed or moved; secure the database and report it now.)"))
            },
            None => p.good role="status" {
                "✓ " (t(lang, "审计链完整", "The audit trail verifies"))
                @if let Some((seq, hash)) = &view.head { " · " (t(lang, "链头 ", "head ")) (seq) " · " span.mono { (hash) } }
            },
        }
        form.card.filter method="get" action="/console/audit" {
            label for="actor" { (t(lang, "操作者", "Actor")) }
            input #actor type="text" name="actor" value=(f.actor);
            label for="action" { (t(lang, "操作（如 run.create）", "Action (e.g. run.create)")) }
            input #action type="text" name="action" value=(f.action);
            label for="object" { (t(lang, "对象（如 run:…）", "Object (e.g. run:…)")) }
            input #object type="text" name="object" value=(f.object);
            label for="outcome" { (t(lang, "结果（ok、denied、error）", "Outcome (ok, denied, error)")) }
            input #outcome type="text" name="outcome" value=(f.outcome);
            button type="submit" { (t(lang, "筛选", "Filter")) }
        }
        p { a href=(export) download="audit.ndjson" { (t(lang, "导出筛选结果（NDJSON）", "Export what the filter selects (NDJSON)")) } }
        @if view.events.is_empty() {
            p.empty { (t(lang, "没有符合条件的事件。", "No event matches.")) }
        } @else {
            div.scroll { table.audit {
                thead { tr {
                    th.num scope="col" { "#" }
                    th scope="col" { (t(lang, "时间", "Time")) }
                    th scope="col" { (t(lang, "操作者", "Actor")) }
                    th scope="col" { (t(lang, "操作", "Action")) }
                    th scope="col" { (t(lang, "对象", "Object")) }
                    th scope="col" { (t(lang, "来源", "Source")) }
                    th scope="col" { (t(lang, "结果", "Outcome")) }
                } }
                tbody { @for e in &view.events { tr {
                    td.num { (e.seq) }
                    td { (e.at) }
                    td { (e.actor) br; span.muted { (role_name(lang, &e.role)) @if let Some(o) = &e.organisation { " · " (o) } } }
                    td.mono { (e.action) }
                    td.mono { (e.object) }
                    td.mono { (e.source) }
                    td class=(outcome_class(&e.outcome)) { (e.outcome) }
                } } }
            } }
        }
        @if let Some(next) = view.next {
            p { a rel="next" href=(format!("/console/audit?after={next}{}{}", if query.is_empty() { "" } else { "&" }, query)) { (t(lang, "更多 →", "More →")) } }
        }
    };
    page(frame, t(lang, "审计日志", "Audit trail"), body)
}

/// How an outcome is coloured: done, refused or failed, or neither (a run's end state).
fn outcome_class(outcome: &str) -> &'static str {
    match outcome {
        "ok" | "completed" => "good",
        o if o.starts_with("refused") || o.starts_with("error") || o == "failed" => "bad",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Viewer;

    const HOSTILE: &str = "\"><img src=x onerror=alert(1)><script>alert(1)</script>";

    fn frame(viewer: &Viewer) -> Frame<'_> {
        Frame {
            lang: Lang::Zh,
            viewer: Some(viewer),
            nav: &[],
            here: "/console",
        }
    }

    fn viewer() -> Viewer {
        Viewer {
            name: HOSTILE.into(),
            role: "admin".into(),
            organisation: None,
        }
    }

    #[test]
    fn what_people_wrote_is_text_on_every_management_page() {
        let v = viewer();
        let model = ModelRow {
            id: HOSTILE.into(),
            organisation: HOSTILE.into(),
            name: HOSTILE.into(),
            base_url: format!("javascript:{HOSTILE}"),
            has_key: true,
            created_by: HOSTILE.into(),
            created_at: HOSTILE.into(),
        };
        let pages = [
            models(
                &frame(&v),
                &ModelsView {
                    models: vec![model.clone()],
                    organisations: vec![HOSTILE.into()],
                    can_change: true,
                    tested: Some(Tested {
                        model_id: HOSTILE.into(),
                        ok: false,
                        detail: HOSTILE.into(),
                    }),
                    error: Some(HOSTILE.into()),
                },
            ),
            new_run(
                &frame(&v),
                &NewRunView {
                    evaluates: vec![Choice {
                        value: HOSTILE.into(),
                        label: HOSTILE.into(),
                    }],
                    models: vec![model],
                    organisations: vec![HOSTILE.into()],
                    form: RunForm {
                        evaluates: HOSTILE.into(),
                        limit: HOSTILE.into(),
                        ..RunForm::default()
                    },
                    preview: Some(Preview {
                        tasks: vec![(HOSTILE.into(), 3)],
                        models: 1,
                        total: 3,
                        half_width: Some(0.4),
                        detectable: None,
                    }),
                    error: None,
                },
            ),
            admin(
                &frame(&v),
                &AdminView {
                    users: vec![UserRow {
                        name: HOSTILE.into(),
                        role: HOSTILE.into(),
                        organisation: Some(HOSTILE.into()),
                        must_change_password: true,
                    }],
                    orgs: vec![OrgRow {
                        name: HOSTILE.into(),
                        display_name: HOSTILE.into(),
                        max_running: 2,
                        created_at: HOSTILE.into(),
                    }],
                    created: Some((HOSTILE.into(), HOSTILE.into())),
                    error: None,
                },
            ),
            tokens(
                &frame(&v),
                &TokensView {
                    tokens: vec![TokenRow {
                        id: HOSTILE.into(),
                        name: HOSTILE.into(),
                        scopes: vec![HOSTILE.into()],
                        created_at: HOSTILE.into(),
                        expires_at: HOSTILE.into(),
                        revoked: false,
                        last_used_at: None,
                    }],
                    scopes: vec![HOSTILE.into()],
                    created: None,
                    error: None,
                },
            ),
            audit(
                &frame(&v),
                &AuditView {
                    events: vec![AuditRow {
                        seq: 1,
                        at: HOSTILE.into(),
                        actor: HOSTILE.into(),
                        role: HOSTILE.into(),
                        organisation: Some(HOSTILE.into()),
                        action: HOSTILE.into(),
                        object: HOSTILE.into(),
                        source: HOSTILE.into(),
                        outcome: HOSTILE.into(),
                    }],
                    filter: AuditFilter {
                        actor: HOSTILE.into(),
                        ..AuditFilter::default()
                    },
                    next: Some(1),
                    broken: Some(HOSTILE.into()),
                    head: None,
                },
            ),
        ];
        for html in pages {
            assert!(!html.contains("<script>alert"), "{html}");
            assert!(!html.contains("<img src=x"), "{html}");
            assert!(!html.contains("href=\"javascript:"), "{html}");
            assert!(
                html.contains("&lt;img src=x onerror=alert(1)&gt;"),
                "{html}"
            );
        }
    }

    #[test]
    fn the_audit_filter_round_trips_through_the_export_link() {
        let f = AuditFilter {
            actor: "a b&c".into(),
            outcome: "denied".into(),
            ..AuditFilter::default()
        };
        assert_eq!(f.query(), "actor=a%20b%26c&outcome=denied");
        assert_eq!(AuditFilter::default().query(), "");
    }
}
