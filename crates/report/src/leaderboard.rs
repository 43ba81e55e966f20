//! `touchstone compare` as a document people read and publish: per task the leaderboard (models
//! ranked, in tiers of models that cannot be told apart, with 95% intervals) and every pair's
//! paired difference and test. HTML in the report's page style, Markdown, or canonical JSON.

use maud::html;
use touchstone_engine::compare::{Comparison, ContestantScore, PairComparison, PairTest};

use crate::html::page;
use crate::markdown::{cell, table};
use crate::text::{num, t, x};
use crate::{Format, Lang};

/// The comparison in `format`; JSON is its RFC 8785 form and does not depend on `lang`.
pub fn render_comparison(c: &Comparison, format: Format, lang: Lang) -> String {
    match format {
        Format::Html => html(c, lang),
        Format::Markdown => markdown(c, lang),
        Format::Json => String::from_utf8(
            touchstone_trust::canonical::of(c).expect("a comparison is plain JSON"),
        )
        .expect("RFC 8785 output is UTF-8"),
    }
}

fn title(lang: Lang) -> &'static str {
    t(
        lang,
        "试金石模型比较与排行榜",
        "Touchstone model comparison and leaderboard",
    )
}

fn note(lang: Lang) -> &'static str {
    t(
        lang,
        "同一题目上的配对比较：得分只计所有模型都已评分的题目；差值区间为配对自助法 95% 置信区间；对错型得分用 McNemar 精确检验，其余用配对 t 检验；p 值经 Holm 校正（α = 0.05）。与本梯队首位模型差异不显著的模型归入同一梯队。",
        "Paired comparison on the same items: scores count only items every model has scored; difference intervals are 95% paired-bootstrap intervals; right/wrong scores use McNemar's exact test, graded ones a paired t-test; p-values are Holm-corrected (α = 0.05). A model joins the tier of the tier's leader when it cannot be told apart from it.",
    )
}

fn who(c: &Comparison, i: usize) -> (String, &str, &str) {
    (
        format!("#{}", i + 1),
        c.contestants[i].model.as_str(),
        c.contestants[i].run_id.as_str(),
    )
}

fn ranked(scores: &[ContestantScore]) -> Vec<&ContestantScore> {
    let mut ranked: Vec<&ContestantScore> = scores.iter().collect();
    ranked.sort_by_key(|s| s.rank);
    ranked
}

fn test_name(lang: Lang, p: &PairComparison) -> String {
    match (p.test, p.discordant) {
        (PairTest::McnemarExact, Some((a, b))) => {
            format!("McNemar {} ({a} / {b})", t(lang, "精确检验", "exact"))
        }
        (PairTest::McnemarExact, None) => format!("McNemar {}", t(lang, "精确检验", "exact")),
        (PairTest::PairedT, _) => t(lang, "配对 t 检验", "paired t-test").to_string(),
    }
}

fn verdict(lang: Lang, p: &PairComparison) -> &'static str {
    if p.significant {
        t(lang, "显著", "significant")
    } else {
        t(lang, "不显著", "not significant")
    }
}

fn signed(v: f64) -> String {
    if v.is_finite() {
        format!("{v:+.3}")
    } else {
        "-".into()
    }
}

fn html(c: &Comparison, lang: Lang) -> String {
    let body = html! {
        header.top {
            h1 { (title(lang)) }
            div.sub { (c.contestants.len()) " " (t(lang, "个模型", "models")) " · " (c.tasks.len()) " " (t(lang, "个任务", "tasks")) }
        }
        p.note { (note(lang)) }
        h2 { (t(lang, "参与比较的模型", "Models compared")) }
        table {
            thead { tr { th { "#" } th { (t(lang, "模型", "Model")) } th { (t(lang, "运行", "Run")) } } }
            tbody {
                @for i in 0..c.contestants.len() {
                    @let (n, model, run) = who(c, i);
                    tr { td { (n) } td { (x(model)) } td.mono { (x(run)) } }
                }
            }
        }
        @for task in &c.tasks {
            h2 { (t(lang, "任务", "Task")) " " (x(&task.task)) }
            p.note {
                (t(lang, "评分器", "Scorer")) " " span.mono { (x(&task.scorer)) } " · "
                (t(lang, "共同题目", "common items")) " " (task.common_items)
            }
            h3 { (t(lang, "排行榜", "Leaderboard")) }
            table {
                thead { tr {
                    th { (t(lang, "名次", "Rank")) } th { (t(lang, "梯队", "Tier")) } th { (t(lang, "模型", "Model")) }
                    th { (t(lang, "得分", "Score")) } th { "95% CI" } th { "n" }
                } }
                tbody {
                    @for s in ranked(&task.scores) {
                        @let (n, model, _) = who(c, s.contestant);
                        tr {
                            td.num { (s.rank) } td.num { (s.tier + 1) } td { (n) " " (x(model)) }
                            td.num { (num(s.value)) } td.num { "[" (num(s.ci_low)) ", " (num(s.ci_high)) "]" } td.num { (s.n) }
                        }
                    }
                }
            }
            h3 { (t(lang, "两两比较", "Pairwise differences")) }
            table {
                thead { tr {
                    th { (t(lang, "差值", "Difference")) } th { "Δ" } th { "95% CI" } th { "n" }
                    th { (t(lang, "检验", "Test")) } th { "p" } th { "p (Holm)" } th { (t(lang, "结论", "Result")) }
                } }
                tbody {
                    @for p in &task.pairs {
                        tr {
                            td { (who(c, p.a).0) " − " (who(c, p.b).0) }
                            td.num { (signed(p.difference)) }
                            td.num { "[" (signed(p.ci_low)) ", " (signed(p.ci_high)) "]" }
                            td.num { (p.n) }
                            td { (test_name(lang, p)) }
                            td.num { (format!("{:.4}", p.p_value)) }
                            td.num { (format!("{:.4}", p.p_holm)) }
                            td class=(if p.significant { "pass" } else { "" }) { (verdict(lang, p)) }
                        }
                    }
                }
            }
        }
        footer { (t(lang, "由试金石生成；仅由存储的运行数据计算得出。", "Generated by Touchstone from the stored runs alone.")) }
    };
    page(title(lang), lang, body)
}

fn markdown(c: &Comparison, lang: Lang) -> String {
    let mut out = format!(
        "# {}\n\n{}\n\n## {}\n\n",
        title(lang),
        note(lang),
        t(lang, "参与比较的模型", "Models compared")
    );
    let rows: Vec<Vec<String>> = (0..c.contestants.len())
        .map(|i| {
            let (n, model, run) = who(c, i);
            vec![n, cell(model), cell(run)]
        })
        .collect();
    table(
        &mut out,
        &["#", t(lang, "模型", "Model"), t(lang, "运行", "Run")],
        &rows,
    );
    for task in &c.tasks {
        out.push_str(&format!(
            "## {} {}\n\n{} {} · {} {}\n\n",
            t(lang, "任务", "Task"),
            cell(&task.task),
            t(lang, "评分器", "Scorer"),
            cell(&task.scorer),
            t(lang, "共同题目", "common items"),
            task.common_items
        ));
        let rows: Vec<Vec<String>> = ranked(&task.scores)
            .into_iter()
            .map(|s| {
                let (n, model, _) = who(c, s.contestant);
                vec![
                    s.rank.to_string(),
                    (s.tier + 1).to_string(),
                    format!("{n} {}", cell(model)),
                    num(s.value),
                    format!("[{}, {}]", num(s.ci_low), num(s.ci_high)),
                    s.n.to_string(),
                ]
            })
            .collect();
        let header = [
            t(lang, "名次", "Rank"),
            t(lang, "梯队", "Tier"),
            t(lang, "模型", "Model"),
            t(lang, "得分", "Score"),
            "95% CI",
            "n",
        ];
        table(&mut out, &header, &rows);
        let rows: Vec<Vec<String>> = task
            .pairs
            .iter()
            .map(|p| {
                vec![
                    format!("{} − {}", who(c, p.a).0, who(c, p.b).0),
                    signed(p.difference),
                    format!("[{}, {}]", signed(p.ci_low), signed(p.ci_high)),
                    p.n.to_string(),
                    cell(&test_name(lang, p)),
                    format!("{:.4}", p.p_value),
                    format!("{:.4}", p.p_holm),
                    verdict(lang, p).to_string(),
                ]
            })
            .collect();
        let header = [
            t(lang, "差值", "Difference"),
            "Δ",
            "95% CI",
            "n",
            t(lang, "检验", "Test"),
            "p",
            "p (Holm)",
            t(lang, "结论", "Result"),
        ];
        table(&mut out, &header, &rows);
    }
    out
}
