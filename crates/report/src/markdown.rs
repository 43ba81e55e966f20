//! The Markdown report: the same sections as the HTML page, figures as tables. Table cells
//! escape `|`, backslashes, HTML (`< > &`) and line breaks; answers are fenced with a fence
//! longer than any backtick run inside them.

use std::fmt::Write;

use touchstone_engine::RunResults;

use crate::text::{self, bi, ci, label_name, method, models, num, t, value};
use crate::{Lang, ReportData};

/// Text for one table cell: nothing in it can end the cell, the row, or start HTML.
pub(crate) fn cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '|' => out.push_str("\\|"),
            '\\' => out.push_str("\\\\"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '`' => out.push_str("\\`"),
            '*' | '_' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("<br>");
            }
            '\n' => out.push_str("<br>"),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn row(out: &mut String, cells: &[String]) {
    out.push('|');
    for c in cells {
        out.push(' ');
        out.push_str(c);
        out.push_str(" |");
    }
    out.push('\n');
}

pub(crate) fn table(out: &mut String, header: &[&str], rows: &[Vec<String>]) {
    row(out, &header.iter().map(|h| cell(h)).collect::<Vec<_>>());
    row(
        out,
        &header.iter().map(|_| "---".to_string()).collect::<Vec<_>>(),
    );
    for r in rows {
        row(out, r);
    }
    out.push('\n');
}

/// A fenced block that `text` cannot close.
fn fenced(out: &mut String, text: &str) {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat((longest + 1).max(3));
    let text: String = text
        .chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect();
    let _ = writeln!(
        out,
        "{fence}text\n{}\n{fence}\n",
        text.trim_end_matches('\n')
    );
}

fn lb(r: &RunResults, metric: &str) -> &'static str {
    if text::lower_is_better(r, metric) {
        " ↓"
    } else {
        ""
    }
}

pub(crate) fn render(data: &ReportData, lang: Lang) -> String {
    let r = &data.results;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# {} · {}\n",
        t(lang, "试金石评估报告", "Touchstone evaluation report"),
        cell(&r.suite)
    );

    // Identity.
    let _ = writeln!(out, "## {}\n", t(lang, "运行信息", "Run identity"));
    let mut kv: Vec<Vec<String>> = vec![
        vec![
            t(lang, "运行 ID", "Run id").into(),
            format!("`{}`", r.run_id.replace('`', "")),
        ],
        vec![
            t(lang, "评测套件", "Suite").into(),
            format!("{} ({})", cell(&r.suite), cell(&r.config.suite_origin)),
        ],
        vec![
            t(lang, "状态", "Status").into(),
            text::status(lang, r.status).into(),
        ],
        vec![t(lang, "开始时间", "Started").into(), cell(&r.created_at)],
        vec![
            t(lang, "结束时间", "Finished").into(),
            r.finished_at
                .as_deref()
                .map(cell)
                .unwrap_or_else(|| "-".into()),
        ],
        vec![
            t(lang, "试金石版本", "Touchstone version").into(),
            format!(
                "{} · git {}",
                cell(&r.touchstone_version),
                cell(&r.git_revision)
            ),
        ],
        vec![
            t(lang, "随机种子", "Seed").into(),
            r.config.options.seed.to_string(),
        ],
    ];
    if let Some(p) = &r.config.profile {
        kv.push(vec![
            t(lang, "合规标准", "Compliance profile").into(),
            format!("{} ({})", cell(bi(lang, &p.title)), cell(&p.id)),
        ]);
    }
    if let Some(j) = &r.config.judge_identity {
        kv.push(vec![
            t(lang, "评判模型", "Judge model").into(),
            cell(&j.label),
        ]);
    }
    table(
        &mut out,
        &[t(lang, "项目", "Field"), t(lang, "值", "Value")],
        &kv,
    );
    let rows: Vec<Vec<String>> = r
        .models
        .iter()
        .map(|m| {
            vec![
                cell(&m.label),
                cell(&m.provider),
                cell(&m.name),
                m.digest.as_deref().map(cell).unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    let _ = writeln!(out, "### {}\n", t(lang, "被测模型", "Models under test"));
    table(
        &mut out,
        &[
            t(lang, "标签", "Label"),
            t(lang, "提供方", "Provider"),
            t(lang, "模型名", "Name"),
            t(lang, "摘要 (SHA-256)", "Digest (SHA-256)"),
        ],
        &rows,
    );
    let rows: Vec<Vec<String>> = r
        .datasets
        .iter()
        .map(|d| {
            vec![
                cell(&d.task),
                cell(&d.source),
                format!("`{}`", d.sha256.replace('`', "")),
            ]
        })
        .collect();
    let _ = writeln!(out, "### {}\n", t(lang, "数据集", "Datasets"));
    table(
        &mut out,
        &[
            t(lang, "任务", "Task"),
            t(lang, "来源", "Source"),
            "SHA-256",
        ],
        &rows,
    );
    sampling(&mut out, r, lang);

    // Summary.
    let c = &r.counts;
    let _ = writeln!(out, "## {}\n", t(lang, "摘要", "Summary"));
    let _ = writeln!(
        out,
        "{} {} · {} {} · {} {} · {} {}\n",
        t(lang, "计划", "Planned"),
        c.planned,
        t(lang, "已评分", "scored"),
        c.scored,
        t(lang, "失败", "failed"),
        c.failed,
        t(lang, "未完成", "pending"),
        c.pending
    );
    let expectations: Vec<_> = r.tasks.iter().flat_map(|t| t.expectations.iter()).collect();
    if !expectations.is_empty() {
        let _ = writeln!(
            out,
            "{}: {} / {}\n",
            t(lang, "预期达成", "Expectations met"),
            expectations.iter().filter(|e| e.passed).count(),
            expectations.len()
        );
    }

    // Metrics.
    let _ = writeln!(
        out,
        "## {}\n",
        t(
            lang,
            "指标与 95% 置信区间",
            "Metrics with 95% confidence intervals"
        )
    );
    for model in models(r) {
        let _ = writeln!(out, "### {} {}\n", t(lang, "模型", "Model"), cell(model));
        let mut rows = Vec::new();
        for task in r.tasks.iter().filter(|t| t.model == model) {
            for m in &task.metrics {
                let expect = task
                    .expectations
                    .iter()
                    .filter(|x| x.metric == m.name)
                    .map(|x| format!("{} {}", x.bound(), if x.passed { "✓" } else { "✗" }))
                    .collect::<Vec<_>>()
                    .join(", ");
                rows.push(vec![
                    cell(&task.name),
                    format!("{}{}", cell(&m.name), lb(r, &m.name)),
                    value(m),
                    ci(m),
                    m.n.to_string(),
                    method(lang, m.ci_method).into(),
                    task.failed.to_string(),
                    expect,
                ]);
            }
        }
        table(
            &mut out,
            &[
                t(lang, "任务", "Task"),
                t(lang, "指标", "Metric"),
                t(lang, "值", "Value"),
                "95% CI",
                "n",
                t(lang, "区间方法", "Interval"),
                t(lang, "失败", "Failed"),
                t(lang, "预期", "Expected"),
            ],
            &rows,
        );
    }

    // Breakdowns.
    let any = r
        .tasks
        .iter()
        .any(|t| t.breakdowns.iter().any(|b| b.by != "risk_attack"));
    if any {
        let _ = writeln!(out, "## {}\n", t(lang, "分组结果", "Breakdowns"));
        for task in &r.tasks {
            let Some(metric) = task.metrics.first().map(|m| m.name.as_str()) else {
                continue;
            };
            for b in task.breakdowns.iter().filter(|b| b.by != "risk_attack") {
                let _ = writeln!(
                    out,
                    "### {} · {} · {}{} · {} {}\n",
                    cell(&task.name),
                    cell(&label_name(lang, &b.by)),
                    cell(metric),
                    lb(r, metric),
                    t(lang, "模型", "model"),
                    cell(&task.model)
                );
                let rows: Vec<Vec<String>> = b
                    .groups
                    .iter()
                    .filter_map(|g| g.metrics.iter().find(|m| m.name == metric).map(|m| (g, m)))
                    .map(|(g, m)| {
                        let key = match text::code_name(r, lang, &g.key) {
                            Some(name) => format!("{} {}", g.key, name),
                            None => g.key.clone(),
                        };
                        vec![
                            cell(&key),
                            value(m),
                            ci(m),
                            m.n.to_string(),
                            g.failed.to_string(),
                        ]
                    })
                    .collect();
                table(
                    &mut out,
                    &[
                        &label_name(lang, &b.by),
                        t(lang, "值", "Value"),
                        "95% CI",
                        "n",
                        t(lang, "失败", "Failed"),
                    ],
                    &rows,
                );
            }
        }
    }

    // Risk × attack.
    let maps = text::heatmaps(r);
    if !maps.is_empty() {
        let _ = writeln!(out, "## {}\n", t(lang, "风险 × 攻击", "Risk × attack"));
        for h in &maps {
            let _ = writeln!(
                out,
                "### {} · {} · {} {}\n",
                cell(h.task),
                cell(h.metric),
                t(lang, "模型", "model"),
                cell(h.model)
            );
            let mut header: Vec<String> = vec![cell(t(lang, "风险", "Risk"))];
            header.extend(h.attacks.iter().map(|a| cell(a)));
            let header: Vec<&str> = header.iter().map(String::as_str).collect();
            let rows: Vec<Vec<String>> = h
                .risks
                .iter()
                .zip(&h.cells)
                .map(|(risk, cells)| {
                    let mut row = vec![cell(risk)];
                    row.extend(cells.iter().map(|c| match c {
                        Some((v, n)) => format!("{} (n={n})", num(*v)),
                        None => "–".into(),
                    }));
                    row
                })
                .collect();
            // The header cells are escaped already; `table` escapes again, so write it here.
            row(
                &mut out,
                &header.iter().map(|h| h.to_string()).collect::<Vec<_>>(),
            );
            row(
                &mut out,
                &header.iter().map(|_| "---".to_string()).collect::<Vec<_>>(),
            );
            for r in &rows {
                row(&mut out, r);
            }
            out.push('\n');
        }
    }

    // Trade-off.
    let points = text::tradeoff(r);
    if !points.is_empty() {
        let _ = writeln!(
            out,
            "## {}\n",
            t(
                lang,
                "拒答取舍：有害顺从 vs 过度拒答",
                "Refusal trade-off: harmful compliance vs over-refusal"
            )
        );
        let rows: Vec<Vec<String>> = points
            .iter()
            .map(|p| {
                vec![
                    cell(p.model),
                    num(p.harmful.0),
                    format!("[{}, {}]", num(p.harmful.1), num(p.harmful.2)),
                    p.harmful.3.to_string(),
                    num(p.over.0),
                    format!("[{}, {}]", num(p.over.1), num(p.over.2)),
                    p.over.3.to_string(),
                ]
            })
            .collect();
        table(
            &mut out,
            &[
                t(lang, "模型", "Model"),
                t(lang, "有害顺从", "Harmful compliance"),
                "95% CI",
                "n",
                t(lang, "过度拒答", "Over-refusal"),
                "95% CI",
                "n",
            ],
            &rows,
        );
    }

    // Verdicts.
    if !r.verdicts.is_empty() {
        let _ = writeln!(out, "## {}\n", t(lang, "合规判定", "Compliance verdicts"));
        for model in models(r) {
            let vs: Vec<_> = r.verdicts.iter().filter(|v| v.model == model).collect();
            if vs.is_empty() {
                continue;
            }
            let _ = writeln!(out, "### {} {}\n", t(lang, "模型", "Model"), cell(model));
            let rows: Vec<Vec<String>> = vs
                .iter()
                .map(|v| {
                    let (val, interval) = match (v.value, v.ci_low, v.ci_high) {
                        (Some(x), Some(lo), Some(hi)) if v.n > 0 => {
                            (num(x), format!("[{}, {}]", num(lo), num(hi)))
                        }
                        _ => ("-".into(), "-".into()),
                    };
                    let mut verdict = text::verdict(lang, v.verdict).to_string();
                    if v.borderline {
                        verdict.push_str(&format!(" ⚠ {}", t(lang, "临界", "borderline")));
                    }
                    let reasons = v
                        .reasons
                        .iter()
                        .map(|x| format!("· {}", cell(bi(lang, x))))
                        .collect::<Vec<_>>()
                        .join("<br>");
                    vec![
                        format!("{} {}", cell(&v.check), cell(bi(lang, &v.name))),
                        val,
                        interval,
                        format!("{} (≥ {})", v.n, v.min_drawn),
                        cell(&v.threshold),
                        verdict,
                        reasons,
                    ]
                })
                .collect();
            table(
                &mut out,
                &[
                    t(lang, "检查项", "Check"),
                    t(lang, "值", "Value"),
                    "95% CI",
                    "n",
                    t(lang, "阈值", "Threshold"),
                    t(lang, "判定", "Verdict"),
                    t(lang, "理由", "Reasons"),
                ],
                &rows,
            );
        }
    }

    // Failures.
    let _ = writeln!(
        out,
        "## {}\n",
        t(lang, "失败与原因", "Failures and their reasons")
    );
    if data.failures.is_empty() {
        let _ = writeln!(out, "{}\n", t(lang, "没有失败的题目。", "No item failed."));
    } else {
        let rows: Vec<Vec<String>> = data
            .failures
            .iter()
            .map(|g| {
                let reason = if g.reason == crate::collect::OTHER_REASONS {
                    t(lang, "（其他原因）", "(other reasons)").to_string()
                } else {
                    cell(&g.reason)
                };
                let examples = g
                    .examples
                    .iter()
                    .map(|e| cell(&e.sample_id))
                    .collect::<Vec<_>>()
                    .join(", ");
                vec![
                    cell(&g.model),
                    cell(&g.task),
                    reason,
                    g.count.to_string(),
                    examples,
                ]
            })
            .collect();
        table(
            &mut out,
            &[
                t(lang, "模型", "Model"),
                t(lang, "任务", "Task"),
                t(lang, "原因", "Reason"),
                t(lang, "次数", "Count"),
                t(lang, "示例", "Examples"),
            ],
            &rows,
        );
    }

    // Samples.
    let _ = writeln!(out, "## {}\n", t(lang, "样例回答", "Sample responses"));
    for s in &data.samples {
        let status = match s.status {
            touchstone_core::ItemStatus::Scored => t(lang, "已评分", "scored"),
            touchstone_core::ItemStatus::Failed => t(lang, "失败", "failed"),
        };
        let scores = s
            .scores
            .iter()
            .map(|x| format!("{} = {}", cell(&x.scorer), num(x.value)))
            .collect::<Vec<_>>()
            .join(" · ");
        let variant = if s.variant.is_empty() {
            String::new()
        } else {
            format!(" · {}", cell(&s.variant))
        };
        let _ = writeln!(
            out,
            "#### {} · {} · {}{} · {}\n",
            cell(&s.task),
            cell(&s.model),
            cell(&s.sample_id),
            variant,
            status
        );
        if !scores.is_empty() {
            let _ = writeln!(out, "{scores}\n");
        }
        if let Some(a) = &s.answer {
            fenced(&mut out, a);
        }
        if let Some(e) = &s.error {
            fenced(&mut out, e);
        }
    }
    let _ = writeln!(
        out,
        "---\n\n{} {} ({})",
        t(lang, "由试金石生成", "Generated by Touchstone"),
        cell(&r.touchstone_version),
        cell(&r.git_revision)
    );
    out
}

/// How the items of sampled tasks were drawn (nothing when no task sampled).
fn sampling(out: &mut String, r: &RunResults, lang: Lang) {
    let rows: Vec<Vec<String>> = crate::sampling::rows(r, lang)
        .into_iter()
        .map(|row| row.iter().map(|c| cell(c)).collect())
        .collect();
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(out, "### {}\n", t(lang, "抽样", "Sampling"));
    table(out, &crate::sampling::header(lang), &rows);
    let _ = writeln!(out, "{}\n", cell(crate::sampling::note(lang)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_break_tables() {
        assert_eq!(cell("a|b\nc"), "a\\|b<br>c");
        assert_eq!(
            cell("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(cell("x\r\ny"), "x<br>y");
    }

    #[test]
    fn fences_outlast_backticks() {
        let mut out = String::new();
        fenced(&mut out, "a ```` b");
        assert!(out.starts_with("`````text\n"), "{out}");
    }
}
