//! The sample browser: a run's items, filtered, a page at a time (keyset: each page continues
//! after the last item of the one before, so page 2,000 of a large run costs what page 1 does),
//! with a drawer that shows one item whole — its answer, every score with the scorer's
//! explanation and the judge's agreement, its reviews — and, for reviewers, the review form.

use maud::{Markup, html};

use crate::Lang;
use crate::frame::{Frame, encode, page, query, t};

/// What the browser filters on, as typed (empty: any).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SampleFilter {
    pub task: String,
    pub model: String,
    /// `scored` or `failed`.
    pub status: String,
    /// `KEY:VALUE`, e.g. `risk:A.1`.
    pub label: String,
    pub score_min: String,
    pub score_max: String,
    /// Text the answer, the error or the sample id contains.
    pub text: String,
    /// Only items whose outcome differs from this run's (a baseline run id).
    pub baseline: String,
}

impl SampleFilter {
    /// The filter as a query string without `?` (only the fields set).
    pub fn query(&self) -> String {
        query(&[
            ("task", &self.task),
            ("model", &self.model),
            ("status", &self.status),
            ("label", &self.label),
            ("score_min", &self.score_min),
            ("score_max", &self.score_max),
            ("text", &self.text),
            ("baseline", &self.baseline),
        ])
    }
}

/// One item in the table.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleRow {
    pub item_id: String,
    pub sample_id: String,
    pub model: String,
    pub task: String,
    pub variant: String,
    pub status: String,
    /// The first score.
    pub score: Option<f64>,
    /// Its current reviewed value, where someone reviewed it.
    pub reviewed: Option<f64>,
    /// The answer's (or error's) first characters.
    pub excerpt: String,
}

/// One score of the drawer's item.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreLine {
    pub scorer: String,
    pub value: f64,
    pub extracted: Option<String>,
    pub explanation: Option<String>,
    /// The share of the judge's samples that agreed with its verdict.
    pub agreement: Option<f64>,
}

/// One review of the drawer's item, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewLine {
    pub scorer: String,
    pub automatic: f64,
    pub value: f64,
    pub reason: String,
    pub reviewer: String,
    pub created_at: String,
    /// A later review of the same score replaced it (both are kept).
    pub superseded: bool,
}

/// The item the drawer shows.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleDetail {
    pub item_id: String,
    pub sample_id: String,
    pub model: String,
    pub task: String,
    pub variant: String,
    pub epoch: u32,
    pub status: String,
    pub labels: Vec<(String, String)>,
    pub scores: Vec<ScoreLine>,
    pub answer: Option<String>,
    pub error: Option<String>,
    pub latency_ms: u64,
    pub attempts: u32,
    pub cached: bool,
    pub reviews: Vec<ReviewLine>,
    /// The viewer may review it (a reviewer or an assessor, on a scored item).
    pub can_review: bool,
    /// Who asked for it to be reviewed, and why.
    pub flags: Vec<FlagLine>,
    /// The viewer may flag it for review.
    pub can_flag: bool,
}

/// Someone's request that reviewers look at the item.
#[derive(Debug, Clone, PartialEq)]
pub struct FlagLine {
    pub by: String,
    pub reason: String,
    pub at: String,
}

/// A form of the drawer the API just refused, with why.
#[derive(Debug, Clone, PartialEq)]
pub enum Refused {
    Review(String),
    Flag(String),
}

/// The sample browser.
#[derive(Debug, Clone, PartialEq)]
pub struct SamplesView {
    pub run_id: String,
    pub tasks: Vec<String>,
    pub models: Vec<String>,
    /// The finished runs the viewer may pick as a baseline.
    pub baselines: Vec<String>,
    pub filter: SampleFilter,
    /// Where this page starts: after this item id ("" for the first page).
    pub after: String,
    pub rows: Vec<SampleRow>,
    /// Where the next page starts, where there is one.
    pub next: Option<String>,
    pub selected: Option<SampleDetail>,
    /// A review or a flag just refused, with why.
    pub refused: Option<Refused>,
}

fn score_text(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_string(), |v| format!("{v:.2}"))
}

impl SamplesView {
    /// This page's address with `item` selected (or none).
    fn link(&self, item: Option<&str>) -> String {
        let mut parts = Vec::new();
        let q = self.filter.query();
        if !q.is_empty() {
            parts.push(q);
        }
        if !self.after.is_empty() {
            parts.push(format!("after={}", encode(&self.after)));
        }
        if let Some(i) = item {
            parts.push(format!("item={}", encode(i)));
        }
        let base = format!("/console/runs/{}/samples", encode(&self.run_id));
        if parts.is_empty() {
            base
        } else {
            format!("{base}?{}", parts.join("&"))
        }
    }
}

fn choose(
    id: &str,
    name: &str,
    label: &str,
    options: &[String],
    chosen: &str,
    any: &str,
) -> Markup {
    html! {
        label for=(id) { (label) }
        select id=(id) name=(name) {
            option value="" { (any) }
            @for o in options { option value=(o) selected[o == chosen] { (o) } }
        }
    }
}

fn drawer(lang: Lang, view: &SamplesView, d: &SampleDetail) -> Markup {
    let back = view.link(None);
    html! {
        aside.drawer #drawer aria-labelledby="drawer-title" {
            div.drawer-head {
                h2 #drawer-title { (t(lang, "条目", "Item")) " " span.mono { (d.sample_id) } }
                a.close href=(back) aria-label=(t(lang, "关闭", "Close")) { "×" }
            }
            dl.facts {
                dt { (t(lang, "条目编号", "Item id")) } dd.mono { (d.item_id) }
                dt { (t(lang, "模型", "Model")) } dd { (d.model) }
                dt { (t(lang, "任务", "Task")) } dd { (d.task) }
                @if !d.variant.is_empty() { dt { (t(lang, "攻击变体", "Attack variant")) } dd.mono { (d.variant) } }
                dt { (t(lang, "轮次", "Epoch")) } dd { (d.epoch) }
                dt { (t(lang, "状态", "Status")) } dd { (d.status) }
                @for (k, v) in &d.labels { dt { (k) } dd { (v) } }
                dt { (t(lang, "耗时", "Latency")) } dd { (d.latency_ms) " ms · " (d.attempts) (t(lang, " 次尝试", " attempt(s)")) @if d.cached { (t(lang, " · 缓存", " · cached")) } }
            }
            @if let Some(a) = &d.answer {
                h3 { (t(lang, "模型回答", "The model's answer")) }
                pre.answer { (a) }
            }
            @if let Some(e) = &d.error {
                h3 { (t(lang, "错误", "Error")) }
                pre.answer.bad { (e) }
            }
            @if !d.scores.is_empty() {
                h3 { (t(lang, "评分", "Scores")) }
                table {
                    thead { tr {
                        th scope="col" { (t(lang, "评分器", "Scorer")) }
                        th.num scope="col" { (t(lang, "得分", "Value")) }
                        th scope="col" { (t(lang, "提取", "Extracted")) }
                        th.num scope="col" { (t(lang, "裁判一致率", "Judge agreement")) }
                    } }
                    tbody { @for s in &d.scores {
                        tr {
                            th scope="row" { (s.scorer) }
                            td.num { (format!("{:.2}", s.value)) }
                            td.mono { (s.extracted.as_deref().unwrap_or("—")) }
                            td.num { (s.agreement.map_or_else(|| "—".to_string(), |a| format!("{:.0}%", a * 100.0))) }
                        }
                        @if let Some(x) = &s.explanation {
                            tr { td colspan="4" { span.muted { (t(lang, "说明：", "Explanation: ")) } (x) } }
                        }
                    } }
                }
            }
            h3 { (t(lang, "人工复核", "Human review")) }
            @if d.reviews.is_empty() {
                p.empty { (t(lang, "尚无复核。", "Not reviewed yet.")) }
            } @else {
                ul.reviews { @for r in &d.reviews {
                    li class=(if r.superseded { "superseded" } else { "" }) {
                        strong { (r.scorer) ": " (format!("{:.2}", r.automatic)) " → " (format!("{:.2}", r.value)) }
                        " · " (r.reviewer) " · " span.muted { (r.created_at) }
                        @if r.superseded { " · " span.muted { (t(lang, "已被后续复核取代", "superseded by a later review")) } }
                        br; (r.reason)
                    }
                } }
            }
            @if d.can_review {
                form.card method="post" action=(format!("/console/runs/{}/reviews", encode(&view.run_id))) {
                    @if let Some(Refused::Review(e)) = &view.refused { p.error role="alert" { (e) } }
                    input type="hidden" name="item" value=(d.item_id);
                    input type="hidden" name="back" value=(view.link(Some(&d.item_id)));
                    @if d.scores.len() > 1 {
                        label for="review-scorer" { (t(lang, "复核哪个得分", "Which score")) }
                        select #review-scorer name="scorer" {
                            @for s in &d.scores { option value=(s.scorer) { (s.scorer) } }
                        }
                    }
                    label for="review-value" { (t(lang, "复核后的得分（0 至 1；1 为正确或符合期望）", "Reviewed value (0 to 1; 1 is correct / desired)")) }
                    input #review-value type="number" name="value" min="0" max="1" step="0.01" required
                        value=(d.scores.first().map_or(1.0, |s| 1.0 - s.value.round()));
                    label for="review-reason" { (t(lang, "理由（必填，记入审计日志）", "Reason (required; kept in the audit trail)")) }
                    textarea #review-reason name="reason" rows="3" maxlength="2000" required {}
                    button type="submit" { (t(lang, "提交复核", "Submit the review")) }
                }
            }
            @if !d.flags.is_empty() {
                h3 { (t(lang, "复核请求", "Flagged for review")) }
                ul.reviews { @for f in &d.flags {
                    li { strong { (f.by) } " · " span.muted { (f.at) } br; (f.reason) }
                } }
            }
            @if d.can_flag {
                details open[matches!(view.refused, Some(Refused::Flag(_)))] {
                    summary { (t(lang, "请人复核此条目", "Ask for this item to be reviewed")) }
                    form.card method="post" action=(format!("/console/runs/{}/flags", encode(&view.run_id))) {
                        @if let Some(Refused::Flag(e)) = &view.refused { p.error role="alert" { (e) } }
                        input type="hidden" name="item" value=(d.item_id);
                        input type="hidden" name="back" value=(view.link(Some(&d.item_id)));
                        label for="flag-reason" { (t(lang, "需要复核的原因（记入审计日志）", "What should be looked at (kept in the audit trail)")) }
                        textarea #flag-reason name="reason" rows="2" maxlength="2000" required {}
                        button type="submit" { (t(lang, "标记待复核", "Flag for review")) }
                    }
                }
            }
        }
    }
}

/// The browser: filters, the table, the pager and (with `?item=`) the drawer.
pub fn samples(frame: &Frame<'_>, view: &SamplesView) -> String {
    let lang = frame.lang;
    let f = &view.filter;
    let selected = view.selected.as_ref().map(|d| d.item_id.as_str());
    let any = t(lang, "全部", "any");
    let body = html! {
        p { a href=(format!("/console/runs/{}", encode(&view.run_id))) { "← " (t(lang, "返回运行", "Back to the run")) } " · " span.mono { (view.run_id) } }
        form.filters method="get" action=(format!("/console/runs/{}/samples", encode(&view.run_id))) {
            div { (choose("f-task", "task", t(lang, "任务", "Task"), &view.tasks, &f.task, any)) }
            div { (choose("f-model", "model", t(lang, "模型", "Model"), &view.models, &f.model, any)) }
            div {
                label for="f-status" { (t(lang, "状态", "Status")) }
                select #f-status name="status" {
                    option value="" { (any) }
                    option value="scored" selected[f.status == "scored"] { (t(lang, "已评分", "scored")) }
                    option value="failed" selected[f.status == "failed"] { (t(lang, "失败", "failed")) }
                }
            }
            div { label for="f-label" { (t(lang, "标签（键:值）", "Label (key:value)")) } input #f-label type="text" name="label" placeholder="risk:A.1" value=(f.label); }
            div { label for="f-min" { (t(lang, "得分不低于", "Score at least")) } input #f-min type="number" name="score_min" step="any" value=(f.score_min); }
            div { label for="f-max" { (t(lang, "得分不高于", "Score at most")) } input #f-max type="number" name="score_max" step="any" value=(f.score_max); }
            div { (choose("f-baseline", "baseline", t(lang, "结果不同于基线运行", "Differs from baseline run"), &view.baselines, &f.baseline, t(lang, "不比较", "none"))) }
            div.wide { label for="f-text" { (t(lang, "搜索回答、错误和样本编号", "Search answers, errors and sample ids")) } input #f-text type="search" name="text" value=(f.text); }
            div { button type="submit" { (t(lang, "筛选", "Filter")) } }
        }
        @if view.rows.is_empty() {
            p.empty { (t(lang, "没有符合条件的条目。", "No item matches.")) }
        } @else {
            p.muted.keys { (t(lang, "键盘：j / k 上下移动，Esc 关闭详情。", "Keyboard: j / k to move, Esc to close the details.")) }
            div.scroll { table.samples {
                thead { tr {
                    th scope="col" { (t(lang, "样本", "Sample")) }
                    th scope="col" { (t(lang, "任务", "Task")) }
                    th scope="col" { (t(lang, "模型", "Model")) }
                    th.num scope="col" { (t(lang, "得分", "Score")) }
                    th.num scope="col" { (t(lang, "复核", "Reviewed")) }
                    th scope="col" { (t(lang, "回答", "Answer")) }
                } }
                tbody { @for r in &view.rows {
                    tr class=(if Some(r.item_id.as_str()) == selected { "selected" } else { "" }) {
                        th scope="row" {
                            a.item href=(format!("{}#drawer", view.link(Some(&r.item_id)))) aria-current=[(Some(r.item_id.as_str()) == selected).then_some("true")] { (r.sample_id) }
                            @if !r.variant.is_empty() { br; span.muted.mono { (r.variant) } }
                        }
                        td { (r.task) }
                        td { (r.model) }
                        td.num class=(if r.status == "failed" { "bad" } else { "" }) { @if r.status == "failed" { (t(lang, "失败", "failed")) } @else { (score_text(r.score)) } }
                        td.num { (score_text(r.reviewed)) }
                        td.excerpt { (r.excerpt) }
                    }
                } }
            } }
        }
        nav.pager aria-label=(t(lang, "翻页", "Pages")) {
            @if !view.after.is_empty() {
                a href=(format!("/console/runs/{}/samples{}", encode(&view.run_id), { let q = f.query(); if q.is_empty() { String::new() } else { format!("?{q}") } })) { "⇤ " (t(lang, "第一页", "First page")) }
            }
            @if let Some(next) = &view.next {
                a rel="next" href=(format!("/console/runs/{}/samples?{}{}after={}", encode(&view.run_id), f.query(), if f.query().is_empty() { "" } else { "&" }, encode(next))) { (t(lang, "下一页", "Next page")) " →" }
            }
        }
        @if let Some(d) = &view.selected { (drawer(lang, view, d)) }
    };
    page(frame, t(lang, "样本浏览", "Samples"), body)
}

/// One item of the review queue.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueRow {
    pub item_id: String,
    pub task: String,
    pub model: String,
    pub sample_id: String,
    /// `disagree`, `low_agreement`, `flagged`.
    pub reasons: Vec<String>,
    pub lowest_agreement: Option<f64>,
    pub flags: Vec<FlagLine>,
    pub reviewed: bool,
}

/// A run's review queue.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueView {
    pub run_id: String,
    /// Items whose scorers disagree, whose judge wavered, flagged, not yet reviewed.
    pub counts: [u64; 4],
    pub rows: Vec<QueueRow>,
}

fn reason_text(lang: Lang, reason: &str, lowest: Option<f64>) -> String {
    match reason {
        "disagree" => t(lang, "评分器意见不一", "scorers disagree").to_string(),
        "low_agreement" => match lowest {
            Some(a) => format!(
                "{} {:.0}%",
                t(lang, "裁判一致率", "judge agreement"),
                a * 100.0
            ),
            None => t(lang, "裁判不一致", "judge wavered").to_string(),
        },
        "flagged" => t(lang, "有人标记", "flagged").to_string(),
        other => other.to_string(),
    }
}

/// The review queue: the items a person should look at, open ones first, each linked to its
/// drawer in the sample browser (where it is reviewed).
pub fn queue(frame: &Frame<'_>, view: &QueueView) -> String {
    let lang = frame.lang;
    let run = encode(&view.run_id);
    let [disagree, wavered, flagged, open] = view.counts;
    let body = html! {
        p { a href=(format!("/console/runs/{run}")) { "← " (t(lang, "返回运行", "Back to the run")) } " · " span.mono { (view.run_id) } }
        p.lead { (t(lang,
            "需要人看的条目：评分器对通过与否意见不一（如裁判模型与规则检测器），裁判模型的多次采样不完全一致，或有人标记。未复核的排在前面；点开条目即可复核。",
            "Items a person should look at: the scorers disagree on pass or fail (a judge against the rule detector, say), the judge's samples did not all agree, or someone flagged it. Open ones come first; open an item to review it.")) }
        dl.facts {
            dt { (t(lang, "待复核", "Open")) } dd.num { (open) }
            dt { (t(lang, "评分器意见不一", "Scorers disagree")) } dd.num { (disagree) }
            dt { (t(lang, "裁判不一致", "Judge wavered")) } dd.num { (wavered) }
            dt { (t(lang, "有人标记", "Flagged")) } dd.num { (flagged) }
        }
        @if view.rows.is_empty() {
            p.empty { (t(lang, "没有需要复核的条目。", "Nothing needs review.")) }
        } @else {
            div.scroll {
                table.samples {
                    thead { tr {
                        th scope="col" { (t(lang, "样本", "Sample")) }
                        th scope="col" { (t(lang, "任务", "Task")) }
                        th scope="col" { (t(lang, "模型", "Model")) }
                        th scope="col" { (t(lang, "原因", "Why")) }
                        th scope="col" { (t(lang, "复核", "Review")) }
                    } }
                    tbody { @for r in &view.rows {
                        tr {
                            th scope="row" {
                                a.item.mono href=(format!("/console/runs/{run}/samples?item={}#drawer", encode(&r.item_id))) { (r.sample_id) }
                            }
                            td { (r.task) }
                            td { (r.model) }
                            td {
                                (r.reasons.iter().map(|x| reason_text(lang, x, r.lowest_agreement)).collect::<Vec<_>>().join(" · "))
                                @for f in &r.flags { br; span.muted { (f.by) ": " (f.reason) } }
                            }
                            td { @if r.reviewed { span.good { (t(lang, "已复核", "reviewed")) } } @else { span.bad { (t(lang, "待复核", "open")) } } }
                        }
                    } }
                }
            }
        }
    };
    page(frame, t(lang, "复核队列", "Review queue"), body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Viewer;

    const HOSTILE: &str = "\"><img src=x onerror=alert(1)><script>alert(1)</script>javascript:x";

    #[test]
    fn the_browser_and_its_drawer_show_what_models_and_people_wrote_as_text() {
        let viewer = Viewer {
            name: "rev".into(),
            role: "reviewer".into(),
            organisation: None,
        };
        let frame = Frame {
            lang: Lang::En,
            viewer: Some(&viewer),
            nav: &[],
            here: "/console/runs/r/samples",
        };
        let row = SampleRow {
            item_id: HOSTILE.into(),
            sample_id: HOSTILE.into(),
            model: HOSTILE.into(),
            task: HOSTILE.into(),
            variant: HOSTILE.into(),
            status: "scored".into(),
            score: Some(1.0),
            reviewed: Some(0.0),
            excerpt: HOSTILE.into(),
        };
        let view = SamplesView {
            run_id: HOSTILE.into(),
            tasks: vec![HOSTILE.into()],
            models: vec![HOSTILE.into()],
            baselines: vec![HOSTILE.into()],
            filter: SampleFilter {
                text: HOSTILE.into(),
                label: HOSTILE.into(),
                ..SampleFilter::default()
            },
            after: HOSTILE.into(),
            rows: vec![row],
            next: Some(HOSTILE.into()),
            selected: Some(SampleDetail {
                item_id: HOSTILE.into(),
                sample_id: HOSTILE.into(),
                model: HOSTILE.into(),
                task: HOSTILE.into(),
                variant: HOSTILE.into(),
                epoch: 0,
                status: "scored".into(),
                labels: vec![(HOSTILE.into(), HOSTILE.into())],
                scores: vec![ScoreLine {
                    scorer: HOSTILE.into(),
                    value: 1.0,
                    extracted: Some(HOSTILE.into()),
                    explanation: Some(HOSTILE.into()),
                    agreement: Some(2.0 / 3.0),
                }],
                answer: Some(HOSTILE.into()),
                error: None,
                latency_ms: 5,
                attempts: 1,
                cached: false,
                reviews: vec![ReviewLine {
                    scorer: HOSTILE.into(),
                    automatic: 1.0,
                    value: 0.0,
                    reason: HOSTILE.into(),
                    reviewer: HOSTILE.into(),
                    created_at: HOSTILE.into(),
                    superseded: true,
                }],
                can_review: true,
                flags: vec![FlagLine {
                    by: HOSTILE.into(),
                    reason: HOSTILE.into(),
                    at: HOSTILE.into(),
                }],
                can_flag: true,
            }),
            refused: Some(Refused::Review(HOSTILE.into())),
        };
        let html = samples(&frame, &view);
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(!html.contains("<img src=x"), "{html}");
        assert!(!html.contains("href=\"javascript:"), "{html}");
        assert!(html.contains("67%"), "the judge's agreement");
        assert!(html.contains("name=\"reason\""), "the review form");
        assert!(html.contains("/flags\""), "the flag form");
        // Every link keeps the filter and the page, encoded as one value each.
        assert!(html.contains("text=%22%3E%3Cimg"), "{html}");
    }

    #[test]
    fn the_filter_writes_only_what_is_set() {
        let f = SampleFilter {
            task: "a b".into(),
            status: "failed".into(),
            ..SampleFilter::default()
        };
        assert_eq!(f.query(), "task=a%20b&status=failed");
    }
}
