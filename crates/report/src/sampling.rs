//! How the items of sampled tasks were drawn (`sample:`, `eval --sample`): one row per task, in
//! the run identity section of both documents.

use maud::{Markup, html};
use touchstone_engine::RunResults;
use touchstone_engine::sample::{Method, Sampling};

use crate::Lang;
use crate::text::{t, x};

/// Each sampled task once, in the order of the results.
fn sampled(r: &RunResults) -> Vec<(&str, &Sampling)> {
    let mut out: Vec<(&str, &Sampling)> = Vec::new();
    for task in &r.tasks {
        if let Some(s) = &task.sampling
            && !out.iter().any(|(name, _)| *name == task.name)
        {
            out.push((&task.name, s));
        }
    }
    out
}

fn how(lang: Lang, s: &Sampling) -> String {
    match (s.method, &s.by, lang) {
        (Method::Stratified, Some(by), Lang::Zh) => format!("分层随机抽样（按 {by}）"),
        (Method::Stratified, Some(by), Lang::En) => format!("stratified random (by {by})"),
        (_, _, Lang::Zh) => "简单随机抽样".into(),
        (_, _, Lang::En) => "simple random".into(),
    }
}

fn drawn(lang: Lang, s: &Sampling) -> String {
    match (s.took_all(), lang) {
        (true, Lang::Zh) => format!(
            "全部 {} / {}（要求 {}，题库不足）",
            s.drawn, s.from, s.requested
        ),
        (true, Lang::En) => format!(
            "all {} of {} (asked for {}, the bank is smaller)",
            s.drawn, s.from, s.requested
        ),
        (false, _) => format!("{} / {}", s.drawn, s.from),
    }
}

fn minimum(lang: Lang, s: &Sampling) -> String {
    match (&s.min_per_stratum, lang) {
        (Some(m), Lang::Zh) => format!("每层至少 {}（{}）", m.value, m.source),
        (Some(m), Lang::En) => format!("at least {} per stratum ({})", m.value, m.source),
        (None, _) => "-".into(),
    }
}

fn strata(s: &Sampling) -> String {
    if s.strata.is_empty() {
        return "-".into();
    }
    s.strata
        .iter()
        .map(|k| format!("{} {}/{}", k.key, k.drawn, k.from))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn header(lang: Lang) -> [&'static str; 6] {
    [
        t(lang, "任务", "Task"),
        t(lang, "抽样方法", "Method"),
        t(lang, "种子", "Seed"),
        t(lang, "抽取 / 题库", "Drawn / bank"),
        t(lang, "每层下限", "Minimum"),
        t(lang, "各层 抽取/题库", "Per stratum drawn/bank"),
    ]
}

pub(crate) fn note(lang: Lang) -> &'static str {
    t(
        lang,
        "每题的键为 SHA-256(\"种子:样本 ID\") 的前 8 字节，每层取键最小的题目；各层按题量比例分配（最大余数法），同一种子与同一题库总是抽到相同的题目。",
        "Each item's key is the first 8 bytes of SHA-256(\"seed:sample id\"), and each stratum takes the items with the smallest keys; strata get shares in proportion to their size (largest remainder), so the same seed and bank always draw the same items.",
    )
}

/// One row per sampled task, as plain text: each document escapes it its own way.
pub(crate) fn rows(r: &RunResults, lang: Lang) -> Vec<[String; 6]> {
    sampled(r)
        .into_iter()
        .map(|(task, s)| {
            [
                task.to_string(),
                how(lang, s),
                s.seed.to_string(),
                drawn(lang, s),
                minimum(lang, s),
                strata(s),
            ]
        })
        .collect()
}

pub(crate) fn html(r: &RunResults, lang: Lang) -> Markup {
    let rows = rows(r, lang);
    if rows.is_empty() {
        return html! {};
    }
    html! {
        h3 { (t(lang, "抽样", "Sampling")) }
        table {
            thead { tr { @for h in header(lang) { th { (h) } } } }
            tbody {
                @for [task, how, seed, drawn, minimum, strata] in &rows {
                    tr {
                        td { (x(task)) }
                        td { (x(how)) }
                        td.num { (x(seed)) }
                        td.num { (x(drawn)) }
                        td { (x(minimum)) }
                        td { (x(strata)) }
                    }
                }
            }
        }
        p.note { (note(lang)) }
    }
}
