//! What the HTML and Markdown renderers share: the words in both languages, fixed number
//! formatting, and the figures' data (trade-off points, heat-map cells, radar axes) taken from
//! the summary in a fixed order.

use std::collections::BTreeMap;

use touchstone_compliance::{Bilingual, VerdictKind};
use touchstone_engine::RunResults;
use touchstone_engine::summary::{MetricResult, TaskResult};
use touchstone_stats::CiMethod;

use crate::Lang;

/// Characters XML 1.0 does not allow (most C0 controls) become U+FFFD; the rest is unchanged.
pub(crate) fn clean(s: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| {
        (c < '\u{20}' && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{FFFE}' | '\u{FFFF}')
    };
    if s.chars().any(bad) {
        s.chars()
            .map(|c| if bad(c) { '\u{FFFD}' } else { c })
            .collect::<String>()
            .into()
    } else {
        s.into()
    }
}

/// Untrusted text for the page: cleaned, then escaped by maud.
pub(crate) struct Text<'a>(pub &'a str);

impl maud::Render for Text<'_> {
    fn render_to(&self, buffer: &mut String) {
        // `str`'s own rendering escapes `& < > "`.
        clean(self.0).as_ref().render_to(buffer);
    }
}

/// Untrusted text, cleaned and escaped when rendered.
pub(crate) fn x(s: &str) -> Text<'_> {
    Text(s)
}

/// The text in `lang`.
pub(crate) fn t(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

pub(crate) fn bi(lang: Lang, b: &Bilingual) -> &str {
    match lang {
        Lang::Zh => &b.zh,
        Lang::En => &b.en,
    }
}

/// Three decimals, always: the same value gives the same text on every platform.
pub(crate) fn num(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.3}")
    } else {
        "-".into()
    }
}

pub(crate) fn value(m: &MetricResult) -> String {
    if m.n == 0 { "-".into() } else { num(m.value) }
}

pub(crate) fn ci(m: &MetricResult) -> String {
    if m.n == 0 {
        "-".into()
    } else {
        format!("[{}, {}]", num(m.ci_low), num(m.ci_high))
    }
}

pub(crate) fn method(lang: Lang, m: CiMethod) -> &'static str {
    match m {
        CiMethod::Wilson => "Wilson",
        CiMethod::Bootstrap => t(lang, "自助法", "bootstrap"),
        CiMethod::Clustered => t(lang, "聚类", "clustered"),
        CiMethod::Macro => t(lang, "宏平均", "macro"),
        CiMethod::None => "-",
    }
}

pub(crate) fn verdict(lang: Lang, v: VerdictKind) -> &'static str {
    match lang {
        Lang::Zh => v.zh(),
        Lang::En => v.en(),
    }
}

/// A CSS class per verdict.
pub(crate) fn verdict_class(v: VerdictKind) -> &'static str {
    match v {
        VerdictKind::Conforms => "v-ok",
        VerdictKind::DoesNotConform => "v-bad",
        VerdictKind::NotApplicable => "v-na",
        VerdictKind::CannotDecide => "v-unk",
    }
}

pub(crate) fn status(lang: Lang, s: touchstone_store::RunStatus) -> &'static str {
    use touchstone_store::RunStatus::*;
    match s {
        Running => t(lang, "运行中", "running"),
        Interrupted => t(lang, "已中断", "interrupted"),
        Completed => t(lang, "已完成", "completed"),
        Failed => t(lang, "失败", "failed"),
    }
}

/// The name of a breakdown label.
pub(crate) fn label_name(lang: Lang, by: &str) -> String {
    let known = match by {
        "risk" => Some(t(lang, "风险", "risk")),
        "category" => Some(t(lang, "类别", "category")),
        "attack" => Some(t(lang, "攻击", "attack")),
        "lang" | "language" => Some(t(lang, "语言", "language")),
        "subject" => Some(t(lang, "科目", "subject")),
        _ => None,
    };
    known.map(str::to_string).unwrap_or_else(|| by.to_string())
}

/// Each model once, in the order the results first name it.
pub(crate) fn models(results: &RunResults) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for label in results
        .tasks
        .iter()
        .map(|t| t.model.as_str())
        .chain(results.verdicts.iter().map(|v| v.model.as_str()))
    {
        if !out.contains(&label) {
            out.push(label);
        }
    }
    out
}

/// Whether a smaller value of `metric` is better: the suite expects at most a value, the profile
/// sets a maximum, or the name says so.
pub(crate) fn lower_is_better(results: &RunResults, metric: &str) -> bool {
    let base = metric.strip_suffix("_macro").unwrap_or(metric);
    if let Some(p) = &results.config.profile
        && let Some(c) = p.checks.iter().find(|c| c.metric == base)
    {
        return c.threshold.max.is_some() && c.threshold.min.is_none();
    }
    let expected = results
        .config
        .suite
        .tasks
        .iter()
        .flat_map(|t| t.expect.iter())
        .find(|x| x.metric == base);
    if let Some(x) = expected {
        return x.max.is_some() && x.min.is_none();
    }
    [
        "over_refusal",
        "attack_success",
        "harm",
        "unsafe",
        "toxic",
        "error_rate",
    ]
    .iter()
    .any(|w| base.contains(w))
}

/// A risk or category code with its name from the run's profile, when it has one.
pub(crate) fn code_name(results: &RunResults, lang: Lang, code: &str) -> Option<String> {
    let p = results.config.profile.as_ref()?;
    for c in &p.categories {
        if c.code == code {
            return Some(bi(lang, &c.name).to_string());
        }
        if let Some(r) = c.risks.iter().find(|r| r.code == code) {
            return Some(bi(lang, &r.name).to_string());
        }
    }
    p.aspects
        .iter()
        .find(|a| a.code == code)
        .map(|a| bi(lang, &a.name).to_string())
}

/// The position of a risk code in the profile (for ordering), else after all of them.
fn profile_rank(results: &RunResults, code: &str) -> usize {
    let Some(p) = &results.config.profile else {
        return usize::MAX;
    };
    p.categories
        .iter()
        .flat_map(|c| c.risks.iter().map(|r| r.code.as_str()))
        .chain(p.aspects.iter().map(|a| a.code.as_str()))
        .position(|c| c == code)
        .unwrap_or(usize::MAX)
}

/// One model's refusal trade-off: harmful compliance (1 − refusal rate on should-refuse
/// questions) against over-refusal (refusal rate on should-answer questions), as the engine's
/// trade-off table has it.
pub(crate) struct TradeoffPoint<'a> {
    pub model: &'a str,
    pub refuse_task: &'a str,
    pub answer_task: &'a str,
    /// (value, ci_low, ci_high, n)
    pub harmful: (f64, f64, f64, usize),
    pub over: (f64, f64, f64, usize),
}

fn find_metric<'a>(
    results: &'a RunResults,
    model: &str,
    metric: &str,
) -> Option<(&'a TaskResult, &'a MetricResult)> {
    results
        .tasks
        .iter()
        .filter(|t| t.model == model)
        .find_map(|t| t.metrics.iter().find(|m| m.name == metric).map(|m| (t, m)))
}

pub(crate) fn tradeoff(results: &RunResults) -> Vec<TradeoffPoint<'_>> {
    let mut out = Vec::new();
    for model in models(results) {
        let (Some((rt, r)), Some((at, a))) = (
            find_metric(results, model, "refusal_rate"),
            find_metric(results, model, "over_refusal_rate"),
        ) else {
            continue;
        };
        if r.n == 0 || a.n == 0 {
            continue;
        }
        out.push(TradeoffPoint {
            model,
            refuse_task: &rt.name,
            answer_task: &at.name,
            harmful: (1.0 - r.value, 1.0 - r.ci_high, 1.0 - r.ci_low, r.n),
            over: (a.value, a.ci_low, a.ci_high, a.n),
        });
    }
    out
}

/// Risk × attack for one (model, task): the task's first metric per cell, from the engine's
/// `risk_attack` breakdown (keys `RISK|ATTACK`).
pub(crate) struct Heatmap<'a> {
    pub model: &'a str,
    pub task: &'a str,
    pub metric: &'a str,
    pub risks: Vec<&'a str>,
    pub attacks: Vec<&'a str>,
    /// `cells[risk][attack]`: (value, n), None when the pair was not measured.
    pub cells: Vec<Vec<Option<(f64, usize)>>>,
}

pub(crate) fn heatmaps(results: &RunResults) -> Vec<Heatmap<'_>> {
    let mut out = Vec::new();
    for t in &results.tasks {
        let Some(b) = t.breakdowns.iter().find(|b| b.by == "risk_attack") else {
            continue;
        };
        let Some(metric) = t.metrics.first().map(|m| m.name.as_str()) else {
            continue;
        };
        let mut cells: BTreeMap<(&str, &str), (f64, usize)> = BTreeMap::new();
        for g in &b.groups {
            let Some((risk, attack)) = g.key.rsplit_once('|') else {
                continue;
            };
            if let Some(m) = g.metrics.iter().find(|m| m.name == metric)
                && m.n > 0
            {
                cells.insert((risk, attack), (m.value, m.n));
            }
        }
        if cells.is_empty() {
            continue;
        }
        let mut risks: Vec<&str> = cells.keys().map(|(r, _)| *r).collect();
        risks.dedup();
        risks.sort_by(|a, b| {
            profile_rank(results, a)
                .cmp(&profile_rank(results, b))
                .then(a.cmp(b))
        });
        risks.dedup();
        // Attacks in the suite's order, the unattacked question first.
        let order: Vec<&str> = results
            .config
            .suite
            .tasks
            .iter()
            .find(|s| s.name == t.name)
            .map(|s| s.attacks.iter().map(String::as_str).collect())
            .unwrap_or_default();
        let rank = |a: &str| {
            if a == "none" {
                0
            } else {
                order
                    .iter()
                    .position(|x| *x == a)
                    .map(|p| p + 1)
                    .unwrap_or(usize::MAX)
            }
        };
        let mut attacks: Vec<&str> = cells.keys().map(|(_, a)| *a).collect();
        attacks.sort_by(|a, b| rank(a).cmp(&rank(b)).then(a.cmp(b)));
        attacks.dedup();
        let grid = risks
            .iter()
            .map(|r| {
                attacks
                    .iter()
                    .map(|a| cells.get(&(*r, *a)).copied())
                    .collect()
            })
            .collect();
        out.push(Heatmap {
            model: &t.model,
            task: &t.name,
            metric,
            risks,
            attacks,
            cells: grid,
        });
    }
    out
}

/// Capability areas: the tasks' first metrics when there are at least three tasks, else the
/// groups of the first `category` breakdown with at least three groups.
pub(crate) struct Radar {
    pub axes: Vec<String>,
    /// Per model: a value per axis (None: not measured).
    pub series: Vec<(String, Vec<Option<f64>>)>,
    /// Axes whose metric is better when lower.
    pub lower_better: Vec<bool>,
}

pub(crate) fn radar(results: &RunResults) -> Option<Radar> {
    let models = models(results);
    let mut task_names: Vec<&str> = Vec::new();
    for t in &results.tasks {
        if !task_names.contains(&t.name.as_str()) {
            task_names.push(&t.name);
        }
    }
    if task_names.len() >= 3 {
        let mut axes = Vec::new();
        let mut lower_better = Vec::new();
        for name in &task_names {
            let metric = results
                .tasks
                .iter()
                .find(|t| t.name == *name)
                .and_then(|t| t.metrics.first())
                .map(|m| m.name.as_str())
                .unwrap_or("");
            axes.push(format!("{name} · {metric}"));
            lower_better.push(lower_is_better(results, metric));
        }
        let series = models
            .iter()
            .map(|model| {
                let values = task_names
                    .iter()
                    .map(|name| {
                        results
                            .tasks
                            .iter()
                            .find(|t| t.model == *model && t.name == *name)
                            .and_then(|t| t.metrics.first())
                            .filter(|m| m.n > 0)
                            .map(|m| m.value)
                    })
                    .collect();
                (model.to_string(), values)
            })
            .collect();
        return Some(Radar {
            axes,
            series,
            lower_better,
        });
    }
    let first = results.tasks.iter().find(|t| {
        t.breakdowns
            .iter()
            .any(|b| b.by == "category" && b.groups.len() >= 3)
    })?;
    let b = first.breakdowns.iter().find(|b| b.by == "category")?;
    let metric = first.metrics.first()?.name.as_str();
    let keys: Vec<&str> = b.groups.iter().map(|g| g.key.as_str()).collect();
    let series = models
        .iter()
        .map(|model| {
            let task = results
                .tasks
                .iter()
                .find(|t| t.model == *model && t.name == first.name);
            let values = keys
                .iter()
                .map(|k| {
                    task.and_then(|t| t.breakdowns.iter().find(|b| b.by == "category"))
                        .and_then(|b| b.groups.iter().find(|g| g.key == *k))
                        .and_then(|g| g.metrics.iter().find(|m| m.name == metric))
                        .filter(|m| m.n > 0)
                        .map(|m| m.value)
                })
                .collect();
            (model.to_string(), values)
        })
        .collect();
    let lb = lower_is_better(results, metric);
    Some(Radar {
        axes: keys.iter().map(|k| format!("{} · {metric}", k)).collect(),
        series,
        lower_better: vec![lb; keys.len()],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_decimals() {
        assert_eq!(num(0.5), "0.500");
        assert_eq!(num(2.0 / 3.0), "0.667");
        assert_eq!(num(f64::NAN), "-");
    }
}
