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
use crate::summary::RunResults;

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

/// Write `DIR/results.json` and `DIR/samples.jsonl`.
pub fn write_outputs(store: &dyn Store, results: &RunResults, dir: &Path) -> Result<(), EngineError> {
    let io = |e: std::io::Error, path: &Path| EngineError::Output { path: path.to_path_buf(), message: e.to_string() };
    std::fs::create_dir_all(dir).map_err(|e| io(e, dir))?;

    let results_path = dir.join("results.json");
    let mut json = serde_json::to_vec_pretty(results).map_err(|e| EngineError::Internal(e.to_string()))?;
    json.push(b'\n');
    std::fs::write(&results_path, json).map_err(|e| io(e, &results_path))?;

    let samples_path = dir.join("samples.jsonl");
    let file = File::create(&samples_path).map_err(|e| io(e, &samples_path))?;
    let mut out = BufWriter::new(file);
    let mut write_error = None;
    store.for_each_result(&results.run_id, &mut |r| {
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
            && let Err(e) = serde_json::to_writer(&mut out, &line).map_err(std::io::Error::from).and_then(|_| out.write_all(b"\n"))
        {
            write_error = Some(e);
        }
        Ok(())
    })?;
    if let Some(e) = write_error {
        return Err(io(e, &samples_path));
    }
    out.flush().map_err(|e| io(e, &samples_path))?;
    Ok(())
}

fn pad(s: &str, width: usize) -> String {
    let w = UnicodeWidthStr::width(s);
    format!("{s}{}", " ".repeat(width.saturating_sub(w)))
}

/// The results table, one section per model under test.
pub fn render_table(results: &RunResults) -> String {
    let header = ["任务 Task", "指标 Metric", "值 Value", "95% 置信区间 CI", "n", "失败 Failed", "预期 Expect"];
    let mut out = String::new();
    let mut models: Vec<&str> = Vec::new();
    for t in &results.tasks {
        if !models.contains(&t.model.as_str()) {
            models.push(&t.model);
        }
    }
    for model in models {
        let mut rows: Vec<[String; 7]> = Vec::new();
        for t in results.tasks.iter().filter(|t| t.model == model) {
            if t.metrics.is_empty() {
                rows.push([t.name.clone(), "-".into(), "-".into(), "-".into(), "0".into(), t.failed.to_string(), String::new()]);
            }
            for m in &t.metrics {
                let expect = t
                    .expectations
                    .iter()
                    .filter(|x| x.metric == m.name)
                    .map(|x| {
                        let bound = match (x.min, x.max) {
                            (Some(lo), Some(hi)) => format!("{lo}–{hi}"),
                            (Some(lo), None) => format!("≥{lo}"),
                            (None, Some(hi)) => format!("≤{hi}"),
                            (None, None) => String::new(),
                        };
                        format!("{bound} {}", if x.passed { "✓" } else { "✗" })
                    })
                    .collect::<Vec<_>>()
                    .join(" ");
                let (value, ci) = if m.n == 0 {
                    ("-".to_string(), "-".to_string())
                } else {
                    (format!("{:.3}", m.value), format!("[{:.3}, {:.3}]", m.ci_low, m.ci_high))
                };
                rows.push([t.name.clone(), m.name.clone(), value, ci, m.n.to_string(), t.failed.to_string(), expect]);
            }
        }
        let mut widths: Vec<usize> = header.iter().map(|h| UnicodeWidthStr::width(*h)).collect();
        for row in &rows {
            for (i, cell) in row.iter().enumerate() {
                widths[i] = widths[i].max(UnicodeWidthStr::width(cell.as_str()));
            }
        }
        out.push_str(&format!("模型 Model: {model}\n"));
        let line = |cells: Vec<String>| -> String {
            cells.iter().enumerate().map(|(i, c)| pad(c, widths[i])).collect::<Vec<_>>().join("  ").trim_end().to_string() + "\n"
        };
        out.push_str(&line(header.iter().map(|h| h.to_string()).collect()));
        out.push_str(&line(widths.iter().map(|w| "─".repeat(*w)).collect()));
        for row in rows {
            out.push_str(&line(row.to_vec()));
        }
        out.push('\n');
    }
    let c = &results.counts;
    out.push_str(&format!(
        "运行 Run {}  ·  计划 planned {}  ·  已评分 scored {}  ·  失败 failed {}{}\n",
        results.run_id,
        c.planned,
        c.scored,
        c.failed,
        if c.pending > 0 { format!("  ·  未完成 pending {}", c.pending) } else { String::new() }
    ));
    out
}
