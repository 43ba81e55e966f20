//! The pages. Each takes its data as plain values and returns the whole document.

use maud::{Markup, html};

use crate::Lang;
use crate::frame::{Frame, encode, page, t};

/// A metric with its 95% interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cell {
    pub value: f64,
    pub low: f64,
    pub high: f64,
    /// Its tier among the suite's published models (1 is the top); None where not compared.
    pub tier: Option<usize>,
}

/// One published run on a suite's leaderboard.
#[derive(Debug, Clone, PartialEq)]
pub struct BoardRow {
    pub run_id: String,
    pub models: String,
    pub organisation: String,
    pub published_at: String,
    /// One per column of the board; None where the run has no such metric.
    pub cells: Vec<Option<Cell>>,
    /// Verdicts: 符合, 不符合, 不适用, 无法判定.
    pub verdicts: [usize; 4],
    /// Whether the center issued it a certificate (linked for verification).
    pub certificate: bool,
}

/// The leaderboard of one suite: its columns (task · metric) and its published runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Board {
    pub suite: String,
    pub columns: Vec<String>,
    pub rows: Vec<BoardRow>,
}

/// A run in the dashboard.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRow {
    pub id: String,
    pub organisation: String,
    /// What it evaluates (suite, benchmark or upload).
    pub evaluates: String,
    pub models: String,
    /// `queued`, `running`, `completed`, `failed` or `cancelled`.
    pub status: String,
    pub planned: Option<u64>,
    pub done: u64,
    pub created_at: String,
}

/// A file the run page offers.
#[derive(Debug, Clone, PartialEq)]
pub struct Download {
    pub href: String,
    pub zh: &'static str,
    pub en: &'static str,
}

/// Everything the run page shows.
#[derive(Debug, Clone)]
pub struct RunView {
    pub row: RunRow,
    pub finished_at: Option<String>,
    pub error: Option<String>,
    /// The live progress stream, while the run is not finished.
    pub events: Option<String>,
    pub downloads: Vec<Download>,
    /// The report's sections, once there are results.
    pub report: Option<Markup>,
    pub can_cancel: bool,
    /// The viewer may issue its certificate and publish it (an assessor, on a completed run).
    pub can_certify: bool,
    /// When it was published on the leaderboard.
    pub published_at: Option<String>,
    /// The sample browser, once the run has items.
    pub samples: Option<String>,
    /// The human reviews of its scores, where there are any.
    pub review: Option<ReviewSummary>,
}

/// A reviewed score: the automatic value beside the current reviewed one.
#[derive(Debug, Clone, PartialEq)]
pub struct Reviewed {
    pub item_id: String,
    pub scorer: String,
    pub automatic: f64,
    pub reviewed: f64,
    pub reason: String,
    pub reviewer: String,
    /// Reviews of this score in all (the earlier ones superseded, all kept).
    pub reviews: u64,
}

/// Human review of a run: each reviewed score, and how far reviewers agree with the scorers.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewSummary {
    pub current: Vec<Reviewed>,
    /// Reviewed scores whose pass / fail the review changed.
    pub changed: u64,
    /// Cohen's κ between the scorers and the reviews, with its 95% interval (None: undefined).
    pub kappa: Option<f64>,
    pub kappa_ci: Option<(f64, f64)>,
    pub observed: Option<f64>,
}

/// One check of a certificate's verification.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckLine {
    pub name: String,
    /// None: not reached (an earlier check failed).
    pub passed: Option<bool>,
    pub message: String,
}

/// The outcome of verifying a certificate.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifyView {
    pub valid: bool,
    pub checks: Vec<CheckLine>,
    /// What the certificate vouches for, as (label, value).
    pub facts: Vec<(String, String)>,
    /// How to verify it offline.
    pub offline: Option<String>,
    /// Why it could not be read at all.
    pub error: Option<String>,
}

fn status_text(lang: Lang, status: &str) -> String {
    let (zh, en) = match status {
        "queued" => ("排队中", "queued"),
        "running" => ("运行中", "running"),
        "completed" => ("已完成", "completed"),
        "failed" => ("失败", "failed"),
        "cancelled" => ("已取消", "cancelled"),
        other => return other.to_string(),
    };
    t(lang, zh, en).to_string()
}

fn progress(lang: Lang, row: &RunRow, events: Option<&str>) -> Markup {
    let planned = row.planned.unwrap_or(0);
    let pct = if planned > 0 {
        (row.done as f64 / planned as f64 * 100.0).min(100.0)
    } else if row.status == "completed" {
        100.0
    } else {
        0.0
    };
    html! {
        div.progress data-events=[events] data-planned=(planned) data-done=(row.done) {
            progress max="100" value=(format!("{pct:.0}")) aria-label=(t(lang, "进度", "Progress")) {}
            span.count {
                span.pct { (format!("{pct:.0}%")) } " · "
                span.done { (row.done) } " / " span.planned { (planned) }
                " " (t(lang, "条", "items"))
            }
            span.eta {}
        }
    }
}

fn cell(lang: Lang, c: &Option<Cell>) -> Markup {
    html! {
        @match c {
            Some(c) => td.num {
                (format!("{:.3}", c.value)) br; span.ci { "[" (format!("{:.3}", c.low)) ", " (format!("{:.3}", c.high)) "]" }
                @if let Some(tier) = c.tier { br; span.tier { (t(lang, "梯队 ", "tier ")) (tier) } }
            },
            None => td.num { "—" },
        }
    }
}

/// A suite's leaderboard table; `linked`: the model names link to their pages.
fn board_table(lang: Lang, board: &Board, linked: bool) -> Markup {
    let tiered = board
        .rows
        .iter()
        .any(|r| r.cells.iter().flatten().any(|c| c.tier.is_some()));
    html! {
        section.board {
            h2 { (t(lang, "评测套件", "Suite")) " " span.mono { (board.suite) } }
            div.scroll {
                table {
                    thead { tr {
                        th scope="col" { (t(lang, "模型", "Model")) }
                        th scope="col" { (t(lang, "机构", "Organisation")) }
                        @for c in &board.columns { th scope="col" { (c) } }
                        th scope="col" { (t(lang, "判定（符合/不符合/不适用/无法判定）", "Verdicts (pass / fail / n.a. / undetermined)")) }
                        th scope="col" { (t(lang, "公开日期", "Published")) }
                        th scope="col" { (t(lang, "证书", "Certificate")) }
                    } }
                    tbody {
                        @for row in &board.rows {
                            tr {
                                th scope="row" {
                                    @if linked {
                                        a href=(format!("/model?name={}", encode(&row.models))) { (row.models) }
                                    } @else { (row.models) }
                                }
                                td { (row.organisation) }
                                @for c in &row.cells { (cell(lang, c)) }
                                td.num { (row.verdicts[0]) " / " (row.verdicts[1]) " / " (row.verdicts[2]) " / " (row.verdicts[3]) }
                                td { (row.published_at) }
                                td {
                                    @if row.certificate {
                                        a href=(format!("/verify?run={}", encode(&row.run_id))) { (t(lang, "验证", "Verify")) }
                                    } @else { "—" }
                                }
                            }
                        }
                    }
                }
            }
            @if tiered {
                p.note { (t(lang,
                    "梯队：在所有公开模型都已评分的题目上做配对检验（对错型用 McNemar 精确检验，p 值经 Holm 校正）；与本梯队首位差异不显著的模型同属一个梯队。",
                    "Tiers: a paired test on the items every published model was scored on (McNemar's exact test for right/wrong scores, Holm-corrected p-values); a model that cannot be told apart from its tier's leader shares its tier.")) }
            }
        }
    }
}

/// The public home: the leaderboard of each suite's published runs.
pub fn home(frame: &Frame<'_>, boards: &[Board]) -> String {
    let lang = frame.lang;
    let body = html! {
        p.lead {
            (t(lang, "以下为本中心评估并公开的结果。每个数值后为 95% 置信区间；区间越窄，结论越确定。证书可在",
                "Results this center assessed and published. Each value comes with its 95% confidence interval: the narrower, the surer. Certificates can be checked on the"))
            " " a href="/verify" { (t(lang, "验证页面", "verification page")) } " "
            (t(lang, "核验。", "."))
        }
        @if boards.is_empty() {
            p.empty { (t(lang, "尚无公开结果。", "Nothing has been published yet.")) }
        }
        @for board in boards { (board_table(lang, board, true)) }
    };
    page(
        frame,
        t(lang, "公开评估结果", "Published assessment results"),
        body,
    )
}

/// A model's public page: its published results in every suite, each with its tier among the
/// suite's models and its certificate.
pub fn model(frame: &Frame<'_>, name: &str, boards: &[Board]) -> String {
    let lang = frame.lang;
    let body = html! {
        p.lead {
            (t(lang, "本中心对该模型评估并公开的全部结果。每个数值后为 95% 置信区间；梯队为该模型在同一套件公开模型中的位置。",
                "Every result this center assessed and published for this model. Each value comes with its 95% confidence interval; the tier places it among the suite's published models."))
        }
        @for board in boards { (board_table(lang, board, false)) }
        p { a href="/" { (t(lang, "返回公开结果", "Back to the published results")) } }
    };
    page(frame, &format!("{} {name}", t(lang, "模型", "Model")), body)
}

/// The transparency log's head as the public sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct LogView {
    pub tree_size: u64,
    pub root_hash: String,
    /// The newest entries: (leaf index, leaf hash), newest first.
    pub recent: Vec<(u64, String)>,
}

/// The transparency log: its size and root, its newest entries, and how to check a certificate
/// against it.
pub fn log(frame: &Frame<'_>, view: &LogView) -> String {
    let lang = frame.lang;
    let body = html! {
        p.lead { (t(lang,
            "本中心签发的每份证书都追加到一个只增不改的 Merkle 树（RFC 6962 / 9162 的结构）。任何人可记下这里的树大小与根哈希；以后看到的树若不包含今天的树，说明日志被改写过。",
            "Every certificate this center issues is appended to an append-only Merkle tree (the structure of RFC 6962 / 9162). Anyone may note the size and root below: a later tree that does not contain today's shows the log was rewritten.")) }
        dl.facts {
            dt { (t(lang, "树大小（证书数）", "Tree size (certificates)")) } dd.num { (view.tree_size) }
            dt { (t(lang, "根哈希（SHA-256）", "Root hash (SHA-256)")) } dd.mono { (view.root_hash) }
        }
        p { a href="/api/v1/log/head" { (t(lang, "以 JSON 获取", "As JSON")) } }
        @if !view.recent.is_empty() {
            h2 { (t(lang, "最新条目", "Newest entries")) }
            div.scroll {
                table {
                    thead { tr {
                        th scope="col" { (t(lang, "序号", "Index")) }
                        th scope="col" { (t(lang, "条目哈希", "Leaf hash")) }
                    } }
                    tbody {
                        @for (index, hash) in &view.recent {
                            tr { td.num { (index) } td.mono { (hash) } }
                        }
                    }
                }
            }
        }
        h2 { (t(lang, "如何核验", "How to check")) }
        p { (t(lang,
            "每份证书带有签发时的树头与包含证明。在验证页面上传证书，服务器会检查其条目是否在当前日志中；离线核验请用本中心公布的公钥与签名树头：",
            "Each certificate carries the tree head it was issued at and its inclusion proof. Upload it on the verification page and the server checks its entry against the log as it is now; offline, use the center's published key and signed tree head:")) }
        pre { code { "touchstone verify CERT --pubkey public.json --tree-head head.json" } }
        p { a href="/verify" { (t(lang, "验证证书", "Verify a certificate")) } }
    };
    page(frame, t(lang, "透明日志", "Transparency log"), body)
}

/// What the assessment checks and how to read its numbers.
pub fn about(frame: &Frame<'_>) -> String {
    let lang = frame.lang;
    let body = match lang {
        Lang::Zh => html! {
            p { "本中心依据 GB/T 45654-2025《网络安全技术 生成式人工智能服务安全基本要求》等标准，对大语言模型的安全性与能力进行评估。" }
            h2 { "评估检查什么" }
            ul {
                li { "生成内容安全：模型对涉及各类安全风险的问题给出的回答中，不合格回答所占比例。" }
                li { "应拒答题：模型对应当拒绝回答的问题是否拒绝；非拒答题：对正常问题是否不过度拒答。" }
                li { "对抗攻击：在越狱、诱导等攻击下，上述比例是否仍满足要求。" }
                li { "能力：在公开基准上的表现，用于比较与参照。" }
            }
            h2 { "如何阅读区间" }
            p { "每个数值都来自有限的题目样本，因此给出 95% 置信区间：若多次用同样方法抽样评估，约 95% 的区间会包含真实值。区间跨过判定阈值时，结论标为“临界”，需要更多题目才能确定。" }
            p { "两个模型的区间重叠，并不代表二者没有差异；比较模型时，本中心使用配对检验（McNemar 检验）。" }
            h2 { "如何核验结论" }
            p { "每份证书由本中心以 SM2 与 ML-DSA 双重签名，并记入公开的透明日志。任何人都可以在验证页面上传证书，或用 " code { "touchstone verify" } " 离线核验。" }
        },
        Lang::En => html! {
            p { "This center assesses large language models for safety and capability against standards including GB/T 45654-2025, Basic security requirements for generative artificial intelligence service." }
            h2 { "What the assessment checks" }
            ul {
                li { "Generated-content safety: the share of unacceptable answers to questions across the standard's risk categories." }
                li { "Should-refuse questions: whether the model refuses them; should-answer questions: whether it answers ordinary ones without over-refusing." }
                li { "Adversarial attacks: whether those shares still hold under jailbreaks and manipulation." }
                li { "Capability: performance on public benchmarks, for comparison and reference." }
            }
            h2 { "How to read an interval" }
            p { "Every value comes from a finite sample of questions, so it is given with a 95% confidence interval: were the assessment repeated with fresh samples, about 95% of such intervals would contain the true value. Where an interval straddles a threshold, the verdict is marked borderline: more questions would be needed to decide." }
            p { "Overlapping intervals do not mean two models are the same; to compare models the center uses a paired test (McNemar's)." }
            h2 { "How to check a conclusion" }
            p { "Every certificate is signed by the center with SM2 and ML-DSA and appended to a public transparency log. Anyone can upload a certificate on the verification page, or verify it offline with " code { "touchstone verify" } "." }
        },
    };
    page(frame, t(lang, "评估说明", "About the assessment"), body)
}

/// The sign-in form; `error` says why the last try failed.
pub fn login(frame: &Frame<'_>, next: &str, name: &str, error: Option<&str>) -> String {
    let lang = frame.lang;
    let body = html! {
        form.card method="post" action="/login" {
            @if let Some(e) = error { p.error role="alert" { (e) } }
            input type="hidden" name="next" value=(next);
            label for="name" { (t(lang, "用户名", "User name")) }
            input #name type="text" name="name" value=(name) autocomplete="username" required autofocus;
            label for="password" { (t(lang, "密码", "Password")) }
            input #password type="password" name="password" autocomplete="current-password" required;
            button type="submit" { (t(lang, "登录", "Sign in")) }
        }
    };
    page(frame, t(lang, "登录", "Sign in"), body)
}

/// The runs the viewer may see, newest first, with their progress.
pub fn dashboard(frame: &Frame<'_>, runs: &[RunRow]) -> String {
    let lang = frame.lang;
    let body = html! {
        @if runs.is_empty() {
            p.empty { (t(lang, "尚无运行。", "No runs yet.")) }
        } @else {
            div.scroll {
                table.runs {
                    thead { tr {
                        th scope="col" { (t(lang, "运行", "Run")) }
                        th scope="col" { (t(lang, "机构", "Organisation")) }
                        th scope="col" { (t(lang, "评测内容", "Evaluates")) }
                        th scope="col" { (t(lang, "模型", "Models")) }
                        th scope="col" { (t(lang, "状态", "Status")) }
                        th scope="col" { (t(lang, "进度", "Progress")) }
                        th scope="col" { (t(lang, "提交时间", "Submitted")) }
                    } }
                    tbody {
                        @for r in runs {
                            tr {
                                th scope="row" { a.mono href=(format!("/console/runs/{}", encode(&r.id))) { (r.id) } }
                                td { (r.organisation) }
                                td { (r.evaluates) }
                                td { (r.models) }
                                td { span class=(format!("status {}", r.status)) { (status_text(lang, &r.status)) } }
                                td { (progress(lang, r, None)) }
                                td { (r.created_at) }
                            }
                        }
                    }
                }
            }
        }
    };
    page(frame, t(lang, "运行", "Runs"), body)
}

/// A run: its state and live progress, its files, and its report once there are results.
pub fn run(frame: &Frame<'_>, view: &RunView) -> String {
    let lang = frame.lang;
    let r = &view.row;
    let body = html! {
        dl.facts {
            dt { (t(lang, "运行", "Run")) } dd.mono { (r.id) }
            dt { (t(lang, "机构", "Organisation")) } dd { (r.organisation) }
            dt { (t(lang, "评测内容", "Evaluates")) } dd { (r.evaluates) }
            dt { (t(lang, "模型", "Models")) } dd { (r.models) }
            dt { (t(lang, "状态", "Status")) } dd { span class=(format!("status {}", r.status)) { (status_text(lang, &r.status)) } }
            dt { (t(lang, "提交时间", "Submitted")) } dd { (r.created_at) }
            @if let Some(f) = &view.finished_at { dt { (t(lang, "结束时间", "Finished")) } dd { (f) } }
            @if let Some(p) = &view.published_at { dt { (t(lang, "公开于", "Published")) } dd { (p) } }
            @if let Some(e) = &view.error { dt { (t(lang, "错误", "Error")) } dd.error { (e) } }
        }
        (progress(lang, r, view.events.as_deref()))
        @if view.can_cancel {
            form.inline method="post" action=(format!("/console/runs/{}/cancel", encode(&r.id))) {
                button.danger type="submit" { (t(lang, "取消运行", "Cancel the run")) }
            }
        }
        @if view.can_certify {
            section.actions {
                h2 { (t(lang, "证书与公开", "Certificate and publication")) }
                form.card method="post" action=(format!("/console/runs/{}/certificate", encode(&r.id))) {
                    label for="passphrase" { (t(lang, "评测中心私钥口令（仅用于本次签发，不保存）", "The center's key passphrase (used for this certificate only, never stored)")) }
                    input #passphrase type="password" name="passphrase" autocomplete="off" required;
                    button type="submit" { (t(lang, "签发证书", "Issue the certificate")) }
                }
                @if view.published_at.is_none() {
                    form.inline method="post" action=(format!("/console/runs/{}/publish", encode(&r.id))) {
                        button type="submit" { (t(lang, "在排行榜公开", "Publish on the leaderboard")) }
                    }
                }
            }
        }
        @if let Some(href) = &view.samples {
            p {
                a.button href=(href) { (t(lang, "浏览样本与复核 →", "Browse the samples and review →")) } " "
                a href=(format!("/console/runs/{}/queue", encode(&r.id))) { (t(lang, "复核队列", "Review queue")) }
            }
        }
        @if r.status == "completed" {
            p { a href=(format!("/console/compare?run={}", encode(&r.id))) { (t(lang, "与其他运行比较", "Compare with other runs")) } }
        }
        @if let Some(rv) = &view.review { (review_summary(lang, &r.id, rv)) }
        @if !view.downloads.is_empty() {
            h2 { (t(lang, "下载", "Downloads")) }
            ul.downloads {
                @for d in &view.downloads { li { a href=(d.href) { (t(lang, d.zh, d.en)) } } }
            }
        }
        @match &view.report {
            Some(report) => { div.report { (report) } }
            None => { p.empty { (t(lang, "运行产生结果后，此处显示报告。", "The report appears here once the run has results.")) } }
        }
    };
    page(frame, t(lang, "运行详情", "Run"), body)
}

fn review_summary(lang: Lang, run: &str, rv: &ReviewSummary) -> Markup {
    html! {
        section.review {
            h2 { (t(lang, "人工复核", "Human review")) }
            p {
                (t(lang, "已复核得分 ", "Reviewed scores: ")) strong { (rv.current.len()) }
                (t(lang, "；其中改变通过与否的 ", "; pass / fail changed by review: ")) strong { (rv.changed) }
                @if let Some(o) = rv.observed { (t(lang, "；一致率 ", "; observed agreement ")) (format!("{:.0}%", o * 100.0)) }
                (t(lang, "。", "."))
            }
            p {
                "Cohen's κ "
                @match (rv.kappa, rv.kappa_ci) {
                    (Some(k), Some((lo, hi))) => { strong { (format!("{k:.2}")) } " " span.ci { "[" (format!("{lo:.2}")) ", " (format!("{hi:.2}")) "] 95% CI" } },
                    (Some(k), None) => { strong { (format!("{k:.2}")) } },
                    _ => { span.muted { (t(lang, "无法计算（复核太少，或双方结果恒定）", "undefined (too few reviews, or both sides constant)")) } },
                }
            }
            div.scroll { table {
                thead { tr {
                    th scope="col" { (t(lang, "条目", "Item")) }
                    th scope="col" { (t(lang, "评分器", "Scorer")) }
                    th.num scope="col" { (t(lang, "自动", "Automatic")) }
                    th.num scope="col" { (t(lang, "复核", "Reviewed")) }
                    th scope="col" { (t(lang, "理由", "Reason")) }
                    th scope="col" { (t(lang, "复核人", "Reviewer")) }
                } }
                tbody { @for c in &rv.current { tr {
                    th scope="row" { a.mono href=(format!("/console/runs/{}/samples?item={}#drawer", encode(run), encode(&c.item_id))) { (c.item_id) } }
                    td { (c.scorer) }
                    td.num { (format!("{:.2}", c.automatic)) }
                    td.num { strong { (format!("{:.2}", c.reviewed)) } }
                    td { (c.reason) }
                    td { (c.reviewer) @if c.reviews > 1 { " " span.muted { "(" (c.reviews) (t(lang, " 次", " reviews")) ")" } } }
                } } }
            } }
        }
    }
}

/// The password change: the current password and a new one; `forced` when someone else set the
/// current one (nothing else is open until it is changed).
pub fn password(frame: &Frame<'_>, forced: bool, error: Option<&str>) -> String {
    let lang = frame.lang;
    let body = html! {
        @if forced {
            p.lead { (t(lang, "当前密码由他人设置，请先修改密码，然后才能使用其他功能。", "Your password was set by someone else: change it before anything else.")) }
        }
        form.card method="post" action="/console/password" {
            @if let Some(e) = error { p.error role="alert" { (e) } }
            label for="current" { (t(lang, "当前密码", "Current password")) }
            input #current type="password" name="current" autocomplete="current-password" required;
            label for="new" { (t(lang, "新密码（至少 12 个字符）", "New password (12 characters or more)")) }
            input #new type="password" name="new" autocomplete="new-password" minlength="12" required;
            button type="submit" { (t(lang, "修改密码", "Change the password")) }
        }
    };
    page(frame, t(lang, "修改密码", "Change your password"), body)
}

/// Certificate verification: the form, and the outcome of the last check.
pub fn verify(frame: &Frame<'_>, pasted: &str, outcome: Option<&VerifyView>) -> String {
    let lang = frame.lang;
    let body = html! {
        p.lead { (t(lang, "上传或粘贴证书文件（.cert.json）。服务器用与 touchstone verify 相同的代码，对照本中心的公钥和透明日志逐项核验。",
            "Upload or paste a certificate file (.cert.json). The server checks it with the same code as touchstone verify, against this center's public key and transparency log, check by check.")) }
        @if let Some(o) = outcome {
            section.outcome aria-live="polite" {
                @if let Some(e) = &o.error {
                    p.verdict.bad role="alert" { (t(lang, "无法读取证书：", "The certificate cannot be read: ")) (e) }
                } @else if o.valid {
                    p.verdict.good { "✓ " (t(lang, "证书有效", "The certificate is valid")) }
                } @else {
                    p.verdict.bad role="alert" { "✗ " (t(lang, "证书无效", "The certificate is NOT valid")) }
                }
                @if !o.checks.is_empty() {
                    table {
                        thead { tr { th scope="col" { (t(lang, "检查", "Check")) } th scope="col" { (t(lang, "结果", "Result")) } th scope="col" { (t(lang, "说明", "Details")) } } }
                        tbody {
                            @for c in &o.checks {
                                tr {
                                    th scope="row" { (c.name) }
                                    @match c.passed {
                                        Some(true) => td.good { (t(lang, "通过", "passed")) },
                                        Some(false) => td.bad { (t(lang, "未通过", "failed")) },
                                        None => td.muted { (t(lang, "未检查", "not reached")) },
                                    }
                                    td { (c.message) }
                                }
                            }
                        }
                    }
                }
                @if !o.facts.is_empty() {
                    h2 { (t(lang, "证书所证明的内容", "What it vouches for")) }
                    dl.facts { @for (k, v) in &o.facts { dt { (k) } dd { (v) } } }
                }
                @if let Some(off) = &o.offline { p.note { (off) } }
            }
        }
        form.card method="post" action="/verify" {
            label for="certificate-file" { (t(lang, "选择证书文件", "Choose a certificate file")) }
            input #certificate-file type="file" accept=".json,application/json";
            label for="certificate" { (t(lang, "或粘贴证书内容", "or paste its content")) }
            textarea #certificate name="certificate" rows="8" spellcheck="false" required { (pasted) }
            button type="submit" { (t(lang, "验证", "Verify")) }
        }
    };
    page(frame, t(lang, "验证证书", "Verify a certificate"), body)
}

/// An error page: the status and what to do, in the page's language.
pub fn error(frame: &Frame<'_>, status: u16, message: &str) -> String {
    let lang = frame.lang;
    let body = html! {
        p.error role="alert" { (message) }
        p { a href="/" { (t(lang, "返回首页", "Back to the start page")) } }
    };
    page(
        frame,
        &format!("{} {status}", t(lang, "错误", "Error")),
        body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: [&str; 3] = [
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(1)>",
        "javascript:alert(1)",
    ];

    fn frame() -> Frame<'static> {
        Frame {
            lang: Lang::En,
            viewer: None,
            nav: &[],
            here: "/",
        }
    }

    fn assert_inert(html: &str) {
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(!html.contains("<img src=x"), "{html}");
        assert!(!html.contains("href=\"javascript:"), "{html}");
        assert_eq!(
            html.matches("<script").count(),
            1,
            "only the console's script"
        );
    }

    #[test]
    fn hostile_names_render_as_text_on_every_page() {
        for s in HOSTILE {
            let row = RunRow {
                id: s.into(),
                organisation: s.into(),
                evaluates: s.into(),
                models: s.into(),
                status: s.into(),
                planned: Some(3),
                done: 1,
                created_at: s.into(),
            };
            assert_inert(&dashboard(&frame(), std::slice::from_ref(&row)));
            let view = RunView {
                row: row.clone(),
                finished_at: Some(s.into()),
                error: Some(s.into()),
                events: Some(format!("/api/v1/runs/{s}/events")),
                downloads: vec![],
                report: None,
                can_cancel: true,
                can_certify: true,
                published_at: None,
                samples: Some(format!("/console/runs/{}/samples", encode(s))),
                review: Some(ReviewSummary {
                    current: vec![Reviewed {
                        item_id: s.into(),
                        scorer: s.into(),
                        automatic: 1.0,
                        reviewed: 0.0,
                        reason: s.into(),
                        reviewer: s.into(),
                        reviews: 2,
                    }],
                    changed: 1,
                    kappa: Some(0.4),
                    kappa_ci: Some((-0.2, 1.0)),
                    observed: Some(0.5),
                }),
            };
            assert_inert(&run(&frame(), &view));
            let board = Board {
                suite: s.into(),
                columns: vec![s.into()],
                rows: vec![BoardRow {
                    run_id: s.into(),
                    models: s.into(),
                    organisation: s.into(),
                    published_at: s.into(),
                    cells: vec![None],
                    verdicts: [1, 0, 0, 0],
                    certificate: true,
                }],
            };
            assert_inert(&home(&frame(), &[board]));
            let outcome = VerifyView {
                valid: false,
                checks: vec![CheckLine {
                    name: s.into(),
                    passed: Some(false),
                    message: s.into(),
                }],
                facts: vec![(s.into(), s.into())],
                offline: Some(s.into()),
                error: None,
            };
            assert_inert(&verify(&frame(), s, Some(&outcome)));
            assert_inert(&login(&frame(), s, s, Some(s)));
            assert_inert(&password(&frame(), true, Some(s)));
            assert_inert(&error(&frame(), 404, s));
        }
    }

    #[test]
    fn progress_shows_the_share_done() {
        let row = RunRow {
            id: "r".into(),
            organisation: "o".into(),
            evaluates: "quick".into(),
            models: "m".into(),
            status: "running".into(),
            planned: Some(8),
            done: 2,
            created_at: "t".into(),
        };
        let html = dashboard(&frame(), &[row]);
        assert!(html.contains("value=\"25\""), "{html}");
        assert!(html.contains("25%"));
    }

    #[test]
    fn pages_speak_the_chosen_language() {
        let zh = Frame {
            lang: Lang::Zh,
            ..frame()
        };
        assert!(about(&zh).contains("如何阅读区间"));
        assert!(about(&zh).contains("lang=\"zh-CN\""));
        assert!(about(&frame()).contains("How to read an interval"));
    }
}
