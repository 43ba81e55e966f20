//! Comparing runs and models (`touchstone compare` in the page): pick completed runs, see per
//! task each model's score with its interval and tier, and every pair's paired difference with
//! its test.

use maud::{Markup, html};

use crate::frame::{Frame, encode, page, t};

/// A completed run the viewer may pick.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareChoice {
    pub id: String,
    /// What it evaluates, its models and when it was submitted, as one line.
    pub label: String,
    pub checked: bool,
}

/// The compare page: the choices, and the comparison of those chosen.
#[derive(Debug, Clone)]
pub struct CompareView {
    pub choices: Vec<CompareChoice>,
    /// The runs compared, in order (for the downloads).
    pub chosen: Vec<String>,
    /// The comparison's sections (the report's rendering, escaped there).
    pub comparison: Option<Markup>,
    /// Why the chosen runs could not be compared.
    pub error: Option<String>,
}

pub fn compare(frame: &Frame<'_>, view: &CompareView) -> String {
    let lang = frame.lang;
    let runs = view
        .chosen
        .iter()
        .map(|r| encode(r))
        .collect::<Vec<_>>()
        .join(",");
    let body = html! {
        p.lead { (t(lang,
            "选择已完成的运行：同一套件的多个运行，或一个含多个模型的运行。比较只用各模型都已评分的同一批题目。",
            "Pick completed runs: several runs of one suite, or one run of several models. The comparison uses only the items every model was scored on.")) }
        @if view.choices.is_empty() {
            p.empty { (t(lang, "尚无已完成的运行。", "No completed run yet.")) }
        } @else {
            form.card method="get" action="/console/compare" {
                fieldset {
                    legend { (t(lang, "运行（至多 8 个）", "Runs (8 at most)")) }
                    @for c in &view.choices {
                        label.check {
                            input type="checkbox" name="run" value=(c.id) checked[c.checked];
                            " " span.mono { (c.id) } " " (c.label)
                        }
                    }
                }
                button type="submit" { (t(lang, "比较", "Compare")) }
            }
        }
        @if let Some(e) = &view.error { p.error role="alert" { (e) } }
        @if let Some(c) = &view.comparison {
            div.report {
                p {
                    (t(lang, "下载：", "Download: "))
                    @for (format, name) in [("html", "HTML"), ("md", "Markdown"), ("json", "JSON")] {
                        a href=(format!("/api/v1/compare?runs={runs}&format={format}&lang={lang}")) { (name) } " "
                    }
                }
                (c)
            }
        }
    };
    page(
        frame,
        t(lang, "比较运行与模型", "Compare runs and models"),
        body,
    )
}
