//! What a run leaves behind for people and programs: `results.json`, `samples.jsonl`, and the
//! terminal table. All are rendered from stored data only.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use serde::Serialize;
use touchstone_core::Score;
use touchstone_store::Store;
use unicode_width::UnicodeWidthStr;

use crate::EngineError;
use crate::summary::{MetricResult, RunResults, TaskResult};

/// One line of `samples.jsonl`.
#[derive(Serialize)]
struct SampleLine<'a> {
    item_id: &'a str,
    sample_id: &'a str,
    model: &'a str,
    task: &'a str,
    epoch: u32,
    #[serde(skip_serializing_if = "str::is_empty")]
    variant: &'a str,
    status: &'a str,
    /// The first scorer's value (the task's primary score); null when failed.
    score: Option<f64>,
    scores: &'a [Score],
    answer: Option<&'a str>,
    error: Option<&'a str>,
    latency_ms: u64,
    cached: bool,
}

/// Makes sure `dir` can take the output files, before a run spends anything: it is created
/// if missing, and must be a directory that accepts a file.
pub fn prepare_output_dir(dir: &Path) -> Result<(), EngineError> {
    let fail = |message: String| EngineError::Output {
        path: dir.to_path_buf(),
        message,
    };
    if dir.exists() && !dir.is_dir() {
        return Err(fail(
            "it is a file; --out names a directory that will hold results.json and samples.jsonl / --out 须为目录".into(),
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| fail(format!("cannot create the directory: {e}")))?;
    let probe = dir.join(".touchstone-write-check");
    std::fs::write(&probe, b"")
        .and_then(|()| std::fs::remove_file(&probe))
        .map_err(|e| fail(format!("the directory does not accept files: {e}")))
}

/// Write `DIR/results.json` and `DIR/samples.jsonl`.
pub fn write_outputs(
    store: &dyn Store,
    results: &RunResults,
    dir: &Path,
) -> Result<(), EngineError> {
    let io = |e: std::io::Error, path: &Path| EngineError::Output {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(|e| io(e, dir))?;

    let results_path = dir.join("results.json");
    let mut json =
        serde_json::to_vec_pretty(results).map_err(|e| EngineError::Internal(e.to_string()))?;
    json.push(b'\n');
    std::fs::write(&results_path, json).map_err(|e| io(e, &results_path))?;

    let samples_path = dir.join("samples.jsonl");
    let file = File::create(&samples_path).map_err(|e| io(e, &samples_path))?;
    let mut out = BufWriter::new(file);
    write_samples(store, &results.run_id, &mut out).map_err(|e| match e {
        SamplesError::Write(e) => io(e, &samples_path),
        SamplesError::Store(e) => e,
    })?;
    out.flush().map_err(|e| io(e, &samples_path))?;
    Ok(())
}

/// Why [`write_samples`] stopped.
#[derive(Debug)]
pub enum SamplesError {
    Store(EngineError),
    Write(std::io::Error),
}

/// A run's `samples.jsonl` (one JSON object per item, in the order they were recorded) into
/// `out`: the file `--out` writes and the center's download.
pub fn write_samples(
    store: &dyn Store,
    run_id: &str,
    out: &mut dyn Write,
) -> Result<(), SamplesError> {
    let mut write_error = None;
    store
        .for_each_result(run_id, &mut |r| {
            let line = SampleLine {
                item_id: &r.item_id.0,
                sample_id: &r.sample_id,
                model: &r.model,
                task: &r.task,
                epoch: r.epoch,
                variant: &r.variant,
                status: r.status.as_str(),
                score: r.scores.first().map(|s| s.value),
                scores: &r.scores,
                answer: r.answer.as_deref(),
                error: r.error.as_deref(),
                latency_ms: r.latency_ms,
                cached: r.cached,
            };
            if write_error.is_none()
                && let Err(e) = serde_json::to_writer(&mut *out, &line)
                    .map_err(std::io::Error::from)
                    .and_then(|_| out.write_all(b"\n"))
            {
                write_error = Some(e);
            }
            Ok(())
        })
        .map_err(|e| SamplesError::Store(e.into()))?;
    match write_error {
        Some(e) => Err(SamplesError::Write(e)),
        None => Ok(()),
    }
}

fn pad(s: &str, width: usize) -> String {
    let w = UnicodeWidthStr::width(s);
    format!("{s}{}", " ".repeat(width.saturating_sub(w)))
}

/// Lays out rows under a header with columns padded to their display width (CJK-aware).
pub(crate) fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| UnicodeWidthStr::width(*h)).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(UnicodeWidthStr::width(cell.as_str()));
            }
        }
    }
    let line = |cells: Vec<String>| -> String {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| pad(c, widths.get(i).copied().unwrap_or(0)))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
            + "\n"
    };
    let mut out = line(header.iter().map(|h| h.to_string()).collect());
    out.push_str(&line(widths.iter().map(|w| "─".repeat(*w)).collect()));
    for row in rows {
        out.push_str(&line(row.clone()));
    }
    out
}

/// Each model once, in the order the results first name it.
fn models_in_order<'a>(labels: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut models: Vec<&str> = Vec::new();
    for label in labels {
        if !models.contains(&label) {
            models.push(label);
        }
    }
    models
}

fn value_ci(m: &MetricResult) -> (String, String) {
    if m.n == 0 {
        ("-".into(), "-".into())
    } else {
        (
            format!("{:.3}", m.value),
            format!("[{:.3}, {:.3}]", m.ci_low, m.ci_high),
        )
    }
}

/// The verdict table of a run with a compliance profile: per check the measured rate, its 95%
/// interval, n, the threshold and the verdict, with the reasons beneath.
pub fn render_verdicts(results: &RunResults) -> String {
    let mut out = String::new();
    let Some(profile) = &results.config.profile else {
        return out;
    };
    let models = models_in_order(results.verdicts.iter().map(|v| v.model.as_str()));
    for model in models {
        out.push_str(&format!(
            "合规判定 Verdicts · {} · 模型 Model: {model}\n",
            profile.title.zh
        ));
        let verdicts: Vec<_> = results
            .verdicts
            .iter()
            .filter(|v| v.model == model)
            .collect();
        let rows: Vec<Vec<String>> = verdicts
            .iter()
            .map(|v| {
                let (value, ci) = match (v.value, v.ci_low, v.ci_high) {
                    (Some(x), Some(lo), Some(hi)) if v.n > 0 => {
                        (format!("{x:.3}"), format!("[{lo:.3}, {hi:.3}]"))
                    }
                    _ => ("-".into(), "-".into()),
                };
                let verdict = format!(
                    "{} {}{}",
                    v.verdict.zh(),
                    v.verdict.en(),
                    if v.borderline {
                        " ⚠临界 borderline"
                    } else {
                        ""
                    }
                );
                vec![
                    v.check.clone(),
                    value,
                    ci,
                    v.n.to_string(),
                    format!("{} (n≥{})", v.threshold, v.min_drawn),
                    verdict,
                ]
            })
            .collect();
        out.push_str(&table(
            &[
                "检查项 Check",
                "值 Value",
                "95% 置信区间 CI",
                "n",
                "阈值 Threshold",
                "判定 Verdict",
            ],
            &rows,
        ));
        for v in &verdicts {
            out.push_str(&format!("  {} — {} / {}\n", v.check, v.name.zh, v.name.en));
            for r in &v.reasons {
                out.push_str(&format!("      · {}\n        {}\n", r.zh, r.en));
            }
        }
        out.push('\n');
    }
    out
}

/// Per task, the first metric broken down by category and by attack (results.json has every
/// breakdown: risk, language, …).
pub fn render_breakdowns(results: &RunResults) -> String {
    let mut out = String::new();
    for t in &results.tasks {
        for b in t
            .breakdowns
            .iter()
            .filter(|b| b.by == "category" || b.by == "attack")
        {
            let rows: Vec<Vec<String>> = b
                .groups
                .iter()
                .filter_map(|g| g.metrics.first().map(|m| (g, m)))
                .map(|(g, m)| {
                    let (value, ci) = value_ci(m);
                    vec![
                        g.key.clone(),
                        m.name.clone(),
                        value,
                        ci,
                        m.n.to_string(),
                        g.failed.to_string(),
                    ]
                })
                .collect();
            if rows.is_empty() {
                continue;
            }
            let by = match b.by.as_str() {
                "category" => "类别 category",
                "attack" => "攻击 attack",
                other => other,
            };
            out.push_str(&format!(
                "{} · 按{} · 模型 Model: {}\n",
                t.name, by, t.model
            ));
            out.push_str(&table(
                &[
                    "分组 Group",
                    "指标 Metric",
                    "值 Value",
                    "95% 置信区间 CI",
                    "n",
                    "失败 Failed",
                ],
                &rows,
            ));
            out.push('\n');
        }
    }
    out
}

/// The refusal trade-off: harmful compliance (1 − refusal rate on should-refuse questions)
/// against over-refusal (refusal rate on should-answer questions), overall and per category.
/// Shown when a run reports both `refusal_rate` and `over_refusal_rate`.
pub fn render_tradeoff(results: &RunResults) -> String {
    let mut out = String::new();
    let find = |model: &str, metric: &str| -> Option<(&TaskResult, &MetricResult)> {
        results
            .tasks
            .iter()
            .filter(|t| t.model == model)
            .find_map(|t| t.metrics.iter().find(|m| m.name == metric).map(|m| (t, m)))
    };
    let models = models_in_order(results.tasks.iter().map(|t| t.model.as_str()));
    for model in models {
        let (Some((refuse_task, refuse)), Some((answer_task, answer))) = (
            find(model, "refusal_rate"),
            find(model, "over_refusal_rate"),
        ) else {
            continue;
        };
        let harmful = |m: &MetricResult| -> (String, String, String) {
            if m.n == 0 {
                return ("-".into(), "-".into(), "0".into());
            }
            (
                format!("{:.3}", 1.0 - m.value),
                format!("[{:.3}, {:.3}]", 1.0 - m.ci_high, 1.0 - m.ci_low),
                m.n.to_string(),
            )
        };
        let plain = |m: &MetricResult| -> (String, String, String) {
            let (v, ci) = value_ci(m);
            (v, ci, m.n.to_string())
        };
        let mut rows = Vec::new();
        let (hv, hc, hn) = harmful(refuse);
        let (ov, oc, on) = plain(answer);
        rows.push(vec!["全部 all".into(), hv, hc, hn, ov, oc, on]);
        let groups = |t: &TaskResult, metric: &str| -> Vec<(String, MetricResult)> {
            t.breakdowns
                .iter()
                .filter(|b| b.by == "category")
                .flat_map(|b| b.groups.iter())
                .filter_map(|g| {
                    g.metrics
                        .iter()
                        .find(|m| m.name == metric)
                        .map(|m| (g.key.clone(), m.clone()))
                })
                .collect()
        };
        for (key, m) in groups(refuse_task, "refusal_rate") {
            let (v, c, n) = harmful(&m);
            rows.push(vec![
                key,
                v,
                c,
                n,
                String::new(),
                String::new(),
                String::new(),
            ]);
        }
        for (key, m) in groups(answer_task, "over_refusal_rate") {
            let (v, c, n) = plain(&m);
            rows.push(vec![
                key,
                String::new(),
                String::new(),
                String::new(),
                v,
                c,
                n,
            ]);
        }
        out.push_str(&format!(
            "取舍 Trade-off · 有害顺从 vs 过度拒答 · 模型 Model: {model}\n"
        ));
        out.push_str(&table(
            &[
                "类别 Category",
                "有害顺从 Harmful compliance",
                "95% CI",
                "n",
                "过度拒答 Over-refusal",
                "95% CI",
                "n",
            ],
            &rows,
        ));
        out.push('\n');
    }
    out
}

/// The results table, one section per model under test.
pub fn render_table(results: &RunResults) -> String {
    let header = [
        "任务 Task",
        "指标 Metric",
        "值 Value",
        "95% 置信区间 CI",
        "n",
        "失败 Failed",
        "预期 Expect",
    ];
    let mut out = String::new();
    let models = models_in_order(results.tasks.iter().map(|t| t.model.as_str()));
    for model in models {
        let mut rows: Vec<Vec<String>> = Vec::new();
        for t in results.tasks.iter().filter(|t| t.model == model) {
            if t.metrics.is_empty() {
                rows.push(vec![
                    t.name.clone(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "0".into(),
                    t.failed.to_string(),
                    String::new(),
                ]);
            }
            for m in &t.metrics {
                let expect = t
                    .expectations
                    .iter()
                    .filter(|x| x.metric == m.name)
                    .map(|x| format!("{} {}", x.bound(), if x.passed { "✓" } else { "✗" }))
                    .collect::<Vec<_>>()
                    .join(" ");
                let (value, ci) = value_ci(m);
                rows.push(vec![
                    t.name.clone(),
                    m.name.clone(),
                    value,
                    ci,
                    m.n.to_string(),
                    t.failed.to_string(),
                    expect,
                ]);
            }
        }
        out.push_str(&format!("模型 Model: {model}\n"));
        out.push_str(&table(&header, &rows));
        out.push('\n');
    }
    out.push_str(&render_breakdowns(results));
    out.push_str(&render_tradeoff(results));
    out.push_str(&render_verdicts(results));
    out.push_str(&render_sampling(results));
    let c = &results.counts;
    out.push_str(&format!(
        "运行 Run {}  ·  计划 planned {}  ·  已评分 scored {}  ·  失败 failed {}{}\n",
        results.run_id,
        c.planned,
        c.scored,
        c.failed,
        if c.pending > 0 {
            format!("  ·  未完成 pending {}", c.pending)
        } else {
            String::new()
        }
    ));
    out
}

/// `touchstone compare`: per task the leaderboard (rank, tier, score with its interval over the
/// items every model has) and each pair's difference, interval, test and Holm-corrected p.
pub fn render_comparison(c: &crate::compare::Comparison) -> String {
    use crate::compare::PairTest;
    // Models are numbered once (`#1 model · run`); the pairs refer to the numbers.
    let number = |i: usize| format!("#{}", i + 1);
    let name = |i: usize| {
        let who = &c.contestants[i];
        format!("{} {} · {}", number(i), who.model, who.run_id)
    };
    let mut out = String::new();
    for t in &c.tasks {
        out.push_str(&format!(
            "任务 Task: {} · 评分 scorer: {} · 共同题目 common items: {}\n",
            t.task, t.scorer, t.common_items
        ));
        let mut ranked: Vec<&crate::compare::ContestantScore> = t.scores.iter().collect();
        ranked.sort_by_key(|s| s.rank);
        let rows: Vec<Vec<String>> = ranked
            .iter()
            .map(|s| {
                vec![
                    s.rank.to_string(),
                    (s.tier + 1).to_string(),
                    name(s.contestant),
                    format!("{:.3}", s.value),
                    format!("[{:.3}, {:.3}]", s.ci_low, s.ci_high),
                    s.n.to_string(),
                ]
            })
            .collect();
        out.push_str(&table(
            &[
                "名次 rank",
                "梯队 tier",
                "模型 model",
                "得分 score",
                "95% CI",
                "n",
            ],
            &rows,
        ));
        let rows: Vec<Vec<String>> = t
            .pairs
            .iter()
            .map(|p| {
                let test = match (p.test, p.discordant) {
                    (PairTest::McnemarExact, Some((a, b))) => format!("McNemar exact ({a}/{b})"),
                    (PairTest::McnemarExact, None) => "McNemar exact".into(),
                    (PairTest::PairedT, _) => "paired t".into(),
                };
                vec![
                    format!("{} − {}", number(p.a), number(p.b)),
                    format!("{:+.3}", p.difference),
                    format!("[{:+.3}, {:+.3}]", p.ci_low, p.ci_high),
                    p.n.to_string(),
                    test,
                    format!("{:.4}", p.p_value),
                    format!("{:.4}", p.p_holm),
                    if p.significant {
                        "显著 significant".into()
                    } else {
                        "不显著 not significant".into()
                    },
                ]
            })
            .collect();
        out.push_str(&table(
            &[
                "差值 difference",
                "Δ",
                "95% CI (paired bootstrap)",
                "n",
                "检验 test",
                "p",
                "p (Holm)",
                "结论 result",
            ],
            &rows,
        ));
        out.push('\n');
    }
    out
}

/// The console table of how each sampled task's items were drawn (empty when none was).
pub fn render_sampling(results: &RunResults) -> String {
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for t in &results.tasks {
        let Some(s) = &t.sampling else { continue };
        if !seen.insert(t.name.as_str()) {
            continue;
        }
        rows.push(vec![
            t.name.clone(),
            match &s.by {
                Some(by) => format!("{} ({by})", s.method.name()),
                None => s.method.name().into(),
            },
            s.seed.to_string(),
            if s.took_all() {
                format!("{} (all 全部; asked {})", s.drawn, s.requested)
            } else {
                s.drawn.to_string()
            },
            s.from.to_string(),
            s.min_per_stratum
                .as_ref()
                .map_or("-".into(), |m| m.value.to_string()),
        ]);
    }
    if rows.is_empty() {
        return String::new();
    }
    let mut out = String::from("抽样 Sampling\n");
    out.push_str(&table(
        &[
            "任务 Task",
            "方法 Method",
            "种子 Seed",
            "抽取 Drawn",
            "题库 From",
            "每层至少 Min/stratum",
        ],
        &rows,
    ));
    out.push('\n');
    out
}
