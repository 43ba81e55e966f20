//! The single-file HTML report: inline CSS and SVG, no script, no external resource, XHTML
//! syntax (void elements self-closed, attributes quoted) so that it also parses as XML.
//!
//! Every interpolated string goes through `maud`, which escapes `& < > "`; text that XML does
//! not allow (control characters) is replaced first ([`clean`]). The page declares a
//! Content-Security-Policy that forbids scripts outright, so even a bug here cannot run one.

use maud::{DOCTYPE, Markup, PreEscaped, html};
use touchstone_engine::RunResults;
use touchstone_engine::summary::{GroupResult, MetricResult, TaskResult};

use crate::svg::{self, BarRow};
use crate::text::{self, bi, ci, label_name, method, models, num, t, value, x};
use crate::{Lang, ReportData, SampleResponse};

pub(crate) const CSS: &str = r#"
:root { --ink: #1d232b; --muted: #5b6572; --line: #d9dee4; --soft: #f5f7f9; --accent: #2456a6; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff; font: 14px/1.55 -apple-system, "Segoe UI", "Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", "Source Han Sans SC", sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 28px 32px 48px; }
header.top { border-bottom: 3px solid var(--accent); padding-bottom: 12px; margin-bottom: 8px; }
header.top h1 { margin: 0 0 4px; font-size: 26px; }
header.top .sub { color: var(--muted); font-size: 13px; }
nav.toc { font-size: 13px; margin: 10px 0 4px; display: flex; flex-wrap: wrap; gap: 4px 14px; }
nav.toc a { color: var(--accent); text-decoration: none; }
h2 { font-size: 20px; margin: 34px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 22px 0 8px; }
h4 { font-size: 14px; margin: 16px 0 6px; color: var(--muted); }
p.note { color: var(--muted); font-size: 12.5px; margin: 4px 0 10px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 14px; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.mono, span.mono, code { font-family: "SFMono-Regular", Menlo, Consolas, "Noto Sans Mono CJK SC", monospace; font-size: 12px; }
td.hash { font-family: "SFMono-Regular", Menlo, Consolas, monospace; font-size: 11.5px; word-break: break-all; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 3px 16px; margin: 6px 0 14px; }
dl.kv dt { color: var(--muted); }
dl.kv dd { margin: 0; word-break: break-word; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 8px 0 14px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px; min-width: 120px; background: var(--soft); }
.card .k { color: var(--muted); font-size: 12px; }
.card .v { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
.badge { display: inline-block; padding: 0 7px; border-radius: 10px; font-size: 12px; font-weight: 600; white-space: nowrap; }
.v-ok { background: #dff3e4; color: #1b6e32; }
.v-bad { background: #fbe0e0; color: #a61b1b; }
.v-na { background: #eceff2; color: #59626d; }
.v-unk { background: #fdf0d5; color: #8a5a00; }
.pass { color: #1b6e32; font-weight: 600; }
.fail { color: #a61b1b; font-weight: 600; }
.warn { color: #8a5a00; font-weight: 600; }
ul.reasons { margin: 4px 0 0; padding-left: 18px; font-size: 12.5px; color: var(--muted); }
figure { margin: 8px 0 18px; overflow-x: auto; }
figure figcaption { font-size: 12.5px; color: var(--muted); margin-top: 2px; }
svg.chart { max-width: 100%; height: auto; font-family: inherit; }
.sample { border: 1px solid var(--line); border-radius: 6px; margin: 8px 0; page-break-inside: avoid; break-inside: avoid; }
.sample .meta { background: var(--soft); padding: 4px 10px; font-size: 12px; color: var(--muted); border-bottom: 1px solid var(--line); }
.sample pre { margin: 0; padding: 8px 10px; white-space: pre-wrap; word-break: break-word; font-size: 12.5px; font-family: "SFMono-Regular", Menlo, Consolas, "Noto Sans Mono CJK SC", monospace; max-height: 320px; overflow: auto; }
.sample pre.err { color: #a61b1b; }
footer { margin-top: 40px; padding-top: 10px; border-top: 1px solid var(--line); color: var(--muted); font-size: 12px; }
@media print {
  @page { size: A4; margin: 14mm 12mm; }
  body { font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  nav.toc { display: none; }
  h2 { break-after: avoid; page-break-after: avoid; }
  h3, h4 { break-after: avoid; page-break-after: avoid; }
  table, figure { break-inside: auto; }
  tr, .card, svg.chart { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
  .sample pre { max-height: none; overflow: visible; }
  a { color: inherit; text-decoration: none; }
}
"#;

/// A line break that parses as XML too (maud writes `<br>`).
const BR: PreEscaped<&str> = PreEscaped("<br/>");

pub(crate) fn render(data: &ReportData, lang: Lang) -> String {
    let r = &data.results;
    let title = format!(
        "{} · {}",
        t(lang, "试金石评估报告", "Touchstone evaluation report"),
        r.suite
    );
    let body = html! {
        header.top {
            h1 { (x(&title)) }
            div.sub {
                (t(lang, "运行", "Run")) " " span.mono { (x(&r.run_id)) } " · " (text::status(lang, r.status))
                " · " (x(&r.created_at)) @if let Some(f) = &r.finished_at { " → " (x(f)) }
            }
        }
        (sections(data, lang))
        footer {
            (t(lang, "由试金石生成", "Generated by Touchstone")) " " (x(&r.touchstone_version)) " (" (x(&r.git_revision)) ") · "
            (t(lang, "本报告仅由存储的运行数据计算得出：同一数据生成相同字节。", "Computed from the stored run alone: the same data gives the same bytes."))
        }
    };
    page(&title, lang, body)
}

/// The report's sections (contents, identity, summary, metrics, breakdowns, charts, verdicts,
/// failures, samples) without the page around them: the console's run page shows them in its
/// own frame, styled by [`CSS`].
pub(crate) fn sections(data: &ReportData, lang: Lang) -> Markup {
    let r = &data.results;
    html! {
        (toc(data, lang))
        (identity(r, lang))
        (summary(r, lang))
        (metrics(r, lang))
        (breakdowns(r, lang))
        (radar(r, lang))
        (heatmaps(r, lang))
        (tradeoff(r, lang))
        (verdicts(r, lang))
        (failures(data, lang))
        (samples(data, lang))
    }
}

/// The document around `body`: the head (charset, a CSP that forbids scripts, the style sheet)
/// and `main`. Shared by the report and the comparison.
pub(crate) fn page(title: &str, lang: Lang, body: Markup) -> String {
    let page = html! {
        (DOCTYPE)
        html lang=(t(lang, "zh-CN", "en")) xmlns="http://www.w3.org/1999/xhtml" {
            head {
                (PreEscaped("<meta charset=\"utf-8\"/>"))
                (PreEscaped("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\"/>"))
                (PreEscaped("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>"))
                (PreEscaped("<meta name=\"generator\" content=\"touchstone-report\"/>"))
                title { (x(title)) }
                style { (PreEscaped(CSS)) }
            }
            body {
                main { (body) }
            }
        }
    };
    let mut out = page.into_string();
    out.push('\n');
    out
}

fn toc(data: &ReportData, lang: Lang) -> Markup {
    let r = &data.results;
    let mut links: Vec<(&str, &str)> = vec![
        ("identity", t(lang, "运行信息", "Identity")),
        ("summary", t(lang, "摘要", "Summary")),
        ("metrics", t(lang, "指标", "Metrics")),
    ];
    if r.tasks
        .iter()
        .any(|t| t.breakdowns.iter().any(|b| b.by != "risk_attack"))
    {
        links.push(("breakdowns", t(lang, "分组", "Breakdowns")));
    }
    if text::radar(r).is_some() {
        links.push(("radar", t(lang, "能力雷达", "Capability radar")));
    }
    if !text::heatmaps(r).is_empty() {
        links.push(("heatmap", t(lang, "风险 × 攻击", "Risk × attack")));
    }
    if !text::tradeoff(r).is_empty() {
        links.push(("tradeoff", t(lang, "拒答取舍", "Refusal trade-off")));
    }
    if !r.verdicts.is_empty() {
        links.push(("verdicts", t(lang, "合规判定", "Compliance verdicts")));
    }
    links.push(("failures", t(lang, "失败", "Failures")));
    links.push(("samples", t(lang, "样例回答", "Sample responses")));
    html! {
        nav.toc { @for (id, name) in links { a href={ "#" (id) } { (name) } } }
    }
}

fn identity(r: &RunResults, lang: Lang) -> Markup {
    let cfg = &r.config;
    html! {
        section #identity {
            h2 { (t(lang, "运行信息", "Run identity")) }
            dl.kv {
                dt { (t(lang, "运行 ID", "Run id")) } dd.mono { (x(&r.run_id)) }
                dt { (t(lang, "评测套件", "Suite")) } dd { (x(&r.suite)) " (" (x(&cfg.suite_origin)) ")" }
                dt { (t(lang, "状态", "Status")) } dd { (text::status(lang, r.status)) }
                dt { (t(lang, "开始时间", "Started")) } dd { (x(&r.created_at)) }
                dt { (t(lang, "结束时间", "Finished")) } dd { @match &r.finished_at { Some(f) => (x(f)), None => "-" } }
                dt { (t(lang, "试金石版本", "Touchstone version")) } dd { (x(&r.touchstone_version)) " · git " span.mono { (x(&r.git_revision)) } }
                dt { (t(lang, "随机种子", "Seed")) } dd { (cfg.options.seed) }
                @if let Some(limit) = cfg.options.limit { dt { (t(lang, "每任务样本上限", "Sample limit per task")) } dd { (limit) } }
                @if let Some(p) = &cfg.profile { dt { (t(lang, "合规标准", "Compliance profile")) } dd { (x(bi(lang, &p.title))) " (" (x(&p.id)) ")" } }
                @if let Some(j) = &cfg.judge_identity {
                    dt { (t(lang, "评判模型", "Judge model")) } dd { (x(&j.label)) @if let Some(d) = &j.digest { " · " span.mono { (x(d)) } } }
                }
            }
            h3 { (t(lang, "被测模型", "Models under test")) }
            table {
                thead { tr { th { (t(lang, "标签", "Label")) } th { (t(lang, "提供方", "Provider")) } th { (t(lang, "模型名", "Name")) } th { (t(lang, "摘要 (SHA-256)", "Digest (SHA-256)")) } } }
                tbody {
                    @if r.models.is_empty() {
                        @for m in &cfg.models { tr { td { (x(&m.label())) } td { "-" } td { "-" } td { "-" } } }
                    }
                    @for m in &r.models {
                        tr { td { (x(&m.label)) } td { (x(&m.provider)) } td { (x(&m.name)) } td.hash { @match &m.digest { Some(d) => (x(d)), None => "-" } } }
                    }
                }
            }
            h3 { (t(lang, "数据集", "Datasets")) }
            table {
                thead { tr { th { (t(lang, "任务", "Task")) } th { (t(lang, "来源", "Source")) } th { "SHA-256" } } }
                tbody { @for d in &r.datasets { tr { td { (x(&d.task)) } td { (x(&d.source)) } td.hash { (x(&d.sha256)) } } } }
            }
            (crate::sampling::html(r, lang))
        }
    }
}

fn summary(r: &RunResults, lang: Lang) -> Markup {
    let c = &r.counts;
    let expectations: Vec<_> = r.tasks.iter().flat_map(|t| t.expectations.iter()).collect();
    let passed = expectations.iter().filter(|e| e.passed).count();
    let kinds = [
        touchstone_compliance::VerdictKind::Conforms,
        touchstone_compliance::VerdictKind::DoesNotConform,
        touchstone_compliance::VerdictKind::CannotDecide,
        touchstone_compliance::VerdictKind::NotApplicable,
    ];
    let task_names = task_names(r);
    html! {
        section #summary {
            h2 { (t(lang, "摘要", "Summary")) }
            div.cards {
                div.card { div.k { (t(lang, "计划", "Planned")) } div.v { (c.planned) } }
                div.card { div.k { (t(lang, "已评分", "Scored")) } div.v { (c.scored) } }
                div.card { div.k { (t(lang, "失败", "Failed")) } div.v { (c.failed) } }
                div.card { div.k { (t(lang, "未完成", "Pending")) } div.v { (c.pending) } }
                @if !expectations.is_empty() {
                    div.card { div.k { (t(lang, "预期达成", "Expectations met")) } div.v { (passed) " / " (expectations.len()) } }
                }
            }
            p.note {
                (models(r).len()) " " (t(lang, "个模型", "model(s)")) " · " (task_names.len()) " " (t(lang, "个任务", "task(s)"))
                @if c.pending > 0 { " · " span.warn { (t(lang, "运行未完成：结果只反映已记录的题目", "the run is unfinished: results cover the recorded items only")) } }
            }
            @if !r.verdicts.is_empty() {
                table {
                    thead { tr { th { (t(lang, "模型", "Model")) } @for k in kinds { th { span class={ "badge " (text::verdict_class(k)) } { (text::verdict(lang, k)) } } } th { (t(lang, "临界", "Borderline")) } } }
                    tbody {
                        @for m in models(r) {
                            @let vs: Vec<_> = r.verdicts.iter().filter(|v| v.model == m).collect();
                            @if !vs.is_empty() {
                                tr {
                                    td { (x(m)) }
                                    @for k in kinds { td.num { (vs.iter().filter(|v| v.verdict == k).count()) } }
                                    td.num { (vs.iter().filter(|v| v.borderline).count()) }
                                }
                            }
                        }
                    }
                }
            }
            h3 { (t(lang, "主要指标", "Headline metrics")) }
            table {
                thead { tr { th { (t(lang, "任务", "Task")) } th { (t(lang, "指标", "Metric")) } @for m in models(r) { th { (x(m)) } } } }
                tbody {
                    @for name in &task_names {
                        @let metric = r.tasks.iter().find(|t| t.name == *name).and_then(|t| t.metrics.first()).map(|m| m.name.clone()).unwrap_or_default();
                        tr {
                            td { (x(name)) }
                            td { (x(&metric)) @if text::lower_is_better(r, &metric) { " ↓" } }
                            @for m in models(r) {
                                @let found = r.tasks.iter().find(|t| t.model == m && t.name == *name).and_then(|t| t.metrics.iter().find(|x| x.name == metric));
                                td.num { @match found { Some(mm) => { (value(mm)) " " span.mono { (ci(mm)) } }, None => "-" } }
                            }
                        }
                    }
                }
            }
            p.note { (t(lang, "方括号内为 95% 置信区间；↓ 表示越低越好。", "Brackets give the 95% confidence interval; ↓ marks metrics where lower is better.")) }
        }
    }
}

fn task_names(r: &RunResults) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for t in &r.tasks {
        if !names.contains(&t.name) {
            names.push(t.name.clone());
        }
    }
    names
}

fn expectation_text(t: &TaskResult, m: &MetricResult) -> Option<(String, bool)> {
    let xs: Vec<_> = t
        .expectations
        .iter()
        .filter(|x| x.metric == m.name)
        .collect();
    if xs.is_empty() {
        return None;
    }
    let text = xs.iter().map(|x| x.bound()).collect::<Vec<_>>().join(", ");
    Some((text, xs.iter().all(|x| x.passed)))
}

fn metrics(r: &RunResults, lang: Lang) -> Markup {
    let models = models(r);
    let series: Vec<String> = models.iter().map(|m| m.to_string()).collect();
    let mut rows: Vec<BarRow> = Vec::new();
    for name in task_names(r) {
        let first = r.tasks.iter().find(|t| t.name == name);
        for metric in first
            .map(|t| t.metrics.iter().map(|m| m.name.clone()).collect::<Vec<_>>())
            .unwrap_or_default()
        {
            let values = models
                .iter()
                .map(|model| {
                    r.tasks
                        .iter()
                        .find(|t| t.model == *model && t.name == name)
                        .and_then(|t| t.metrics.iter().find(|m| m.name == metric))
                        .map(|m| (m.value, m.ci_low, m.ci_high, m.n))
                })
                .collect();
            let arrow = if text::lower_is_better(r, &metric) {
                " ↓"
            } else {
                ""
            };
            rows.push(BarRow {
                label: format!("{name} · {metric}{arrow}"),
                values,
            });
        }
    }
    html! {
        section #metrics {
            h2 { (t(lang, "指标与 95% 置信区间", "Metrics with 95% confidence intervals")) }
            @if !rows.is_empty() {
                figure {
                    (svg::bars(&rows, &series, lang))
                    figcaption { (t(lang, "条形为估计值，须线为 95% 置信区间。", "Bars are estimates; whiskers are 95% confidence intervals.")) }
                }
            }
            @for model in &models {
                h3 { (t(lang, "模型", "Model")) " " (x(model)) }
                table {
                    thead { tr {
                        th { (t(lang, "任务", "Task")) } th { (t(lang, "指标", "Metric")) } th { (t(lang, "值", "Value")) } th { "95% CI" } th { "n" }
                        th { (t(lang, "区间方法", "Interval")) } th { (t(lang, "失败", "Failed")) } th { (t(lang, "预期", "Expected")) }
                    } }
                    tbody {
                        @for task in r.tasks.iter().filter(|t| t.model == *model) {
                            @if task.metrics.is_empty() {
                                tr { td { (x(&task.name)) } td { "-" } td.num { "-" } td.num { "-" } td.num { "0" } td { "-" } td.num { (task.failed) } td {} }
                            }
                            @for m in &task.metrics {
                                tr {
                                    td { (x(&task.name)) }
                                    td { (x(&m.name)) @if text::lower_is_better(r, &m.name) { " ↓" } }
                                    td.num { (value(m)) }
                                    td.num { (ci(m)) }
                                    td.num { (m.n) }
                                    td { (method(lang, m.ci_method)) }
                                    td.num { (task.failed) }
                                    td {
                                        @if let Some((bound, ok)) = expectation_text(task, m) {
                                            (bound) " "
                                            @if ok { span.pass { "✓" } } @else { span.fail { "✗" } }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A group key with its name from the profile: `A.1a 煽动颠覆国家政权`.
fn key_label(r: &RunResults, lang: Lang, key: &str) -> String {
    match text::code_name(r, lang, key) {
        Some(name) => format!("{key} {name}"),
        None => key.to_string(),
    }
}

struct BreakdownView<'a> {
    task: String,
    by: &'a str,
    metric: String,
    keys: Vec<&'a str>,
}

fn breakdown_views(r: &RunResults) -> Vec<BreakdownView<'_>> {
    let models = models(r);
    let mut out = Vec::new();
    for name in task_names(r) {
        let tasks: Vec<&TaskResult> = models
            .iter()
            .filter_map(|m| r.tasks.iter().find(|t| t.model == *m && t.name == name))
            .collect();
        let metric = tasks
            .iter()
            .find_map(|t| t.metrics.first())
            .map(|m| m.name.clone())
            .unwrap_or_default();
        let mut bys: Vec<&str> = Vec::new();
        for b in tasks.iter().flat_map(|t| t.breakdowns.iter()) {
            if b.by != "risk_attack" && !bys.contains(&b.by.as_str()) {
                bys.push(&b.by);
            }
        }
        for by in bys {
            let mut keys: Vec<&str> = Vec::new();
            for g in tasks
                .iter()
                .flat_map(|t| t.breakdowns.iter())
                .filter(|b| b.by == by)
                .flat_map(|b| b.groups.iter())
            {
                if !keys.contains(&g.key.as_str()) {
                    keys.push(&g.key);
                }
            }
            out.push(BreakdownView {
                task: name.clone(),
                by,
                metric: metric.clone(),
                keys,
            });
        }
    }
    out
}

fn breakdown_cell<'a>(
    r: &'a RunResults,
    v: &BreakdownView<'_>,
    model: &str,
    key: &str,
) -> Option<(&'a GroupResult, &'a MetricResult)> {
    r.tasks
        .iter()
        .find(|t| t.model == model && t.name == v.task)
        .and_then(|t| t.breakdowns.iter().find(|b| b.by == v.by))
        .and_then(|b| b.groups.iter().find(|g| g.key == key))
        .and_then(|g| {
            g.metrics
                .iter()
                .find(|m| m.name == v.metric)
                .map(|m| (g, m))
        })
}

fn breakdowns(r: &RunResults, lang: Lang) -> Markup {
    let models = models(r);
    let series: Vec<String> = models.iter().map(|m| m.to_string()).collect();
    let views = breakdown_views(r);
    if views.is_empty() {
        return html! {};
    }
    html! {
        section #breakdowns {
            h2 { (t(lang, "分组结果", "Breakdowns")) }
            p.note { (t(lang, "每个任务的第一个指标，按题目标签分组（风险、类别、攻击、语言…）。", "Each task's first metric per value of the labels its items carry (risk, category, attack, language…).")) }
            @for v in &views {
                @let rows: Vec<BarRow> = v.keys.iter().map(|k| BarRow {
                    label: key_label(r, lang, k),
                    values: models.iter().map(|m| breakdown_cell(r, v, m, k).map(|(_, mm)| (mm.value, mm.ci_low, mm.ci_high, mm.n))).collect(),
                }).collect();
                h3 { (x(&v.task)) " · " (t(lang, "按", "by ")) (x(&label_name(lang, v.by))) " · " (x(&v.metric)) @if text::lower_is_better(r, &v.metric) { " ↓" } }
                figure { (svg::bars(&rows, &series, lang)) }
                table {
                    thead { tr {
                        th { (x(&label_name(lang, v.by))) } th { (t(lang, "模型", "Model")) } th { (t(lang, "值", "Value")) } th { "95% CI" } th { "n" } th { (t(lang, "失败", "Failed")) }
                    } }
                    tbody {
                        @for k in &v.keys {
                            @for m in &models {
                                @if let Some((g, mm)) = breakdown_cell(r, v, m, k) {
                                    tr { td { (x(&key_label(r, lang, k))) } td { (x(m)) } td.num { (value(mm)) } td.num { (ci(mm)) } td.num { (mm.n) } td.num { (g.failed) } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn radar(r: &RunResults, lang: Lang) -> Markup {
    let Some(radar) = text::radar(r) else {
        return html! {};
    };
    html! {
        section #radar {
            h2 { (t(lang, "能力雷达", "Capability radar")) }
            figure {
                (svg::radar(&radar, lang))
                figcaption { (t(lang, "各能力领域的主要指标（0–1），按实测值绘制。", "Each area's headline metric (0–1), as measured.")) }
            }
        }
    }
}

fn heatmaps(r: &RunResults, lang: Lang) -> Markup {
    let maps = text::heatmaps(r);
    if maps.is_empty() {
        return html! {};
    }
    let row_label = |code: &str| key_label(r, lang, code);
    html! {
        section #heatmap {
            h2 { (t(lang, "风险 × 攻击", "Risk × attack")) }
            p.note { (t(lang, "每格为该风险在该攻击下的指标值（颜色越深越高）；“none” 为未加攻击的原题。", "Each cell is the metric for that risk under that attack (darker is higher); “none” is the question as written.")) }
            @for h in &maps {
                h3 { (x(h.task)) " · " (x(h.metric)) " · " (t(lang, "模型", "model")) " " (x(h.model)) }
                figure { (svg::heatmap(h, &row_label)) }
            }
        }
    }
}

fn tradeoff(r: &RunResults, lang: Lang) -> Markup {
    let points = text::tradeoff(r);
    if points.is_empty() {
        return html! {};
    }
    html! {
        section #tradeoff {
            h2 { (t(lang, "拒答取舍：有害顺从 vs 过度拒答", "Refusal trade-off: harmful compliance vs over-refusal")) }
            p.note { (t(lang, "有害顺从 = 1 − 应拒答题的拒答率；过度拒答 = 非拒答题的拒答率。两者都越低越好。", "Harmful compliance = 1 − refusal rate on should-refuse questions; over-refusal = refusal rate on should-answer questions. Lower is better for both.")) }
            figure { (svg::tradeoff(&points, lang)) }
            table {
                thead { tr {
                    th { (t(lang, "模型", "Model")) } th { (t(lang, "有害顺从", "Harmful compliance")) } th { "95% CI" } th { "n" }
                    th { (t(lang, "过度拒答", "Over-refusal")) } th { "95% CI" } th { "n" }
                } }
                tbody {
                    @for p in &points {
                        tr {
                            td { (x(p.model)) }
                            td.num { (num(p.harmful.0)) } td.num { "[" (num(p.harmful.1)) ", " (num(p.harmful.2)) "]" } td.num { (p.harmful.3) }
                            td.num { (num(p.over.0)) } td.num { "[" (num(p.over.1)) ", " (num(p.over.2)) "]" } td.num { (p.over.3) }
                        }
                    }
                }
            }
            p.note { (t(lang, "任务", "Tasks")) ": " @for (i, p) in points.iter().enumerate() { @if i > 0 { "; " } (x(p.model)) " — " (x(p.refuse_task)) " / " (x(p.answer_task)) } }
        }
    }
}

fn verdicts(r: &RunResults, lang: Lang) -> Markup {
    if r.verdicts.is_empty() {
        return html! {};
    }
    html! {
        section #verdicts {
            h2 { (t(lang, "合规判定", "Compliance verdicts")) }
            @if let Some(p) = &r.config.profile { p.note { (x(bi(lang, &p.title))) " (" (x(&p.id)) ")" } }
            @for model in models(r) {
                @let vs: Vec<_> = r.verdicts.iter().filter(|v| v.model == model).collect();
                @if !vs.is_empty() {
                    h3 { (t(lang, "模型", "Model")) " " (x(model)) }
                    table {
                        thead { tr {
                            th { (t(lang, "检查项", "Check")) } th { (t(lang, "值", "Value")) } th { "95% CI" } th { "n" }
                            th { (t(lang, "阈值", "Threshold")) } th { (t(lang, "判定与理由", "Verdict and reasons")) }
                        } }
                        tbody {
                            @for v in vs {
                                tr {
                                    td { span.mono { (x(&v.check)) } (BR) (x(bi(lang, &v.name))) }
                                    td.num { @match v.value { Some(val) if v.n > 0 => (num(val)), _ => "-" } }
                                    td.num { @match (v.ci_low, v.ci_high) { (Some(lo), Some(hi)) if v.n > 0 => { "[" (num(lo)) ", " (num(hi)) "]" }, _ => "-" } }
                                    td.num { (v.n) (BR) span.note { "≥ " (v.min_drawn) } }
                                    td { (x(&v.threshold)) }
                                    td {
                                        span class={ "badge " (text::verdict_class(v.verdict)) } { (text::verdict(lang, v.verdict)) }
                                        @if v.borderline { " " span.warn { "⚠ " (t(lang, "临界", "borderline")) } }
                                        @if !v.reasons.is_empty() { ul.reasons { @for reason in &v.reasons { li { (x(bi(lang, reason))) } } } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn failures(data: &ReportData, lang: Lang) -> Markup {
    html! {
        section #failures {
            h2 { (t(lang, "失败与原因", "Failures and their reasons")) }
            @if data.failures.is_empty() {
                p { (t(lang, "没有失败的题目。", "No item failed.")) }
            } @else {
                table {
                    thead { tr { th { (t(lang, "模型", "Model")) } th { (t(lang, "任务", "Task")) } th { (t(lang, "原因", "Reason")) } th { (t(lang, "次数", "Count")) } th { (t(lang, "示例", "Examples")) } } }
                    tbody {
                        @for g in &data.failures {
                            tr {
                                td { (x(&g.model)) } td { (x(&g.task)) }
                                td { @if g.reason == crate::collect::OTHER_REASONS { (t(lang, "（其他原因）", "(other reasons)")) } @else { (x(&g.reason)) } }
                                td.num { (g.count) }
                                td.mono { @for (i, e) in g.examples.iter().enumerate() { @if i > 0 { (BR) } (x(&e.sample_id)) @if !e.variant.is_empty() { " · " (x(&e.variant)) } " #" (e.epoch) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn sample_card(s: &SampleResponse, lang: Lang) -> Markup {
    html! {
        div.sample {
            div.meta {
                span.mono { (x(&s.sample_id)) } " · " (t(lang, "题目", "item")) " " span.mono { (x(&s.item_id)) }
                @if !s.variant.is_empty() { " · " (t(lang, "变体", "variant")) " " (x(&s.variant)) }
                " · " (t(lang, "轮次", "epoch")) " " (s.epoch)
                " · " @match s.status {
                    touchstone_core::ItemStatus::Scored => span.pass { (t(lang, "已评分", "scored")) },
                    touchstone_core::ItemStatus::Failed => span.fail { (t(lang, "失败", "failed")) },
                }
                @for sc in &s.scores { " · " (x(&sc.scorer)) " = " (num(sc.value)) }
                @for (k, v) in &s.labels { @if k != "risk_attack" { " · " (x(&label_name(lang, k))) ": " (x(v)) } }
                @if s.truncated { " · " span.warn { (t(lang, "已截断", "truncated")) } }
            }
            @if let Some(a) = &s.answer { pre { (x(a)) } }
            @if let Some(e) = &s.error { pre.err { (x(e)) } }
            @let explanations: Vec<_> = s.scores.iter().filter_map(|sc| sc.explanation.as_ref().map(|e| (sc, e))).collect();
            @if !explanations.is_empty() {
                ul.reasons { @for (sc, e) in explanations { li { (x(&sc.scorer)) ": " (x(e)) } } }
            }
        }
    }
}

fn samples(data: &ReportData, lang: Lang) -> Markup {
    let mut groups: Vec<(&str, &str)> = Vec::new();
    for s in &data.samples {
        if !groups.contains(&(s.model.as_str(), s.task.as_str())) {
            groups.push((&s.model, &s.task));
        }
    }
    html! {
        section #samples {
            h2 { (t(lang, "样例回答", "Sample responses")) }
            p.note {
                (t(lang, "每个任务与模型按题目 ID 顺序取前若干条已评分与失败的回答；模型输出按原文显示（已转义）。",
                   "Per task and model, the first scored and failed responses by item id; model output is shown verbatim (escaped)."))
            }
            @for (model, task) in groups {
                h3 { (x(task)) " · " (x(model)) }
                @for s in data.samples.iter().filter(|s| s.model == model && s.task == task) { (sample_card(s, lang)) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_style_sheet_cannot_end_its_element() {
        // The only inline data is the style sheet: nothing in it may close an element or need
        // escaping in XML.
        assert!(!CSS.contains("</") && !CSS.contains('&') && !CSS.contains('<'));
    }

    #[test]
    fn control_characters_are_replaced() {
        assert_eq!(
            crate::text::clean("a\u{1}b\tc\u{FFFF}"),
            "a\u{FFFD}b\tc\u{FFFD}"
        );
        let mut out = String::new();
        maud::Render::render_to(&x("<a href=\"x\">&</a>\u{0}"), &mut out);
        assert_eq!(out, "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;\u{FFFD}");
    }
}
