//! Reports of a GB/T 45654-like run stored in SQLite: escaping of hostile answers, XML
//! well-formedness, determinism, both languages, Markdown tables and canonical JSON.

mod common;

use touchstone_report::{Format, Lang, ReportData, render};
use touchstone_store::SqliteStore;
use touchstone_trust::canonical;

fn data(nasty: bool) -> (tempfile::TempDir, ReportData) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("r.db")).unwrap();
    let run = common::write_gbt_run(&store, nasty);
    let data = ReportData::from_store(&store, &run[..12]).unwrap();
    (dir, data)
}

#[test]
fn from_store_collects_failures_and_bounded_samples() {
    let (_dir, d) = data(true);
    assert_eq!(
        d.results.counts.scored + d.results.counts.failed,
        d.results.counts.planned
    );
    assert!(d.results.counts.failed > 0);
    let failed: u64 = d.failures.iter().map(|g| g.count).sum();
    assert_eq!(
        failed, d.results.counts.failed,
        "every failure is counted in one group"
    );
    for g in &d.failures {
        assert!(!g.examples.is_empty() && g.examples.len() <= touchstone_report::FAILURE_EXAMPLES);
    }
    // 2 models × 4 tasks, at most 5 scored + 3 failed each, in item-id order within a task.
    for model in [
        "openai:guarded-7b@http://127.0.0.1:8001/v1",
        "openai:open-chat-14b@http://127.0.0.1:8002/v1",
    ] {
        for task in ["content", "should-refuse", "should-answer", "attacks"] {
            let scored: Vec<_> = d
                .samples
                .iter()
                .filter(|s| s.model == model && s.task == task && s.answer.is_some())
                .collect();
            assert_eq!(
                scored.len(),
                touchstone_report::SCORED_SAMPLES_PER_TASK,
                "{model} {task}"
            );
            assert!(scored.windows(2).all(|w| w[0].item_id < w[1].item_id));
        }
    }
    assert!(
        d.samples.len()
            <= 8 * (touchstone_report::SCORED_SAMPLES_PER_TASK
                + touchstone_report::FAILED_SAMPLES_PER_TASK)
    );
    assert!(!d.results.verdicts.is_empty());
}

/// The text of every `<script` in `html` that is not part of an escaped string.
fn assert_no_markup_from_answers(html: &str) {
    let lower = html.to_ascii_lowercase();
    assert!(!lower.contains("<script"), "a script element in the report");
    assert!(!lower.contains("<img"), "an img element in the report");
    // `onerror=` appears only as text (`&lt;img … onerror=…&gt;`); the XML test checks that no
    // element has an event-handler attribute.
    assert!(
        !lower.contains("<b>bold"),
        "markup from an answer in the report"
    );
    // `</style>` appears exactly once: the end of the page's own style sheet.
    assert_eq!(lower.matches("</style>").count(), 1);
}

#[test]
fn html_escapes_what_models_write() {
    let (_dir, d) = data(true);
    for lang in [Lang::Zh, Lang::En] {
        let html = render(&d, Format::Html, lang);
        assert_no_markup_from_answers(&html);
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "the answer is shown, escaped"
        );
        assert!(html.contains("&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"));
        assert!(html.contains("&lt;/style&gt;&lt;b&gt;bold&lt;/b&gt;"));
        assert!(
            html.contains("Tom &amp; Jerry ]]&gt; 'single' &quot;double&quot; &amp;amp; &amp;lt;")
        );
        assert!(html.contains("中文回答：这是一个测试。| 表格 | 竖线"));
        assert!(
            html.contains("upstream said &lt;script&gt;alert(3)&lt;/script&gt;"),
            "errors are escaped too"
        );
        assert!(html.contains("Content-Security-Policy"));
        assert!(
            !html.contains(" src=\"") && !html.contains("href=\"http"),
            "nothing is fetched"
        );
    }
}

#[test]
fn html_is_well_formed_xml() {
    let (_dir, d) = data(true);
    for lang in [Lang::Zh, Lang::En] {
        let html = render(&d, Format::Html, lang);
        assert!(html.starts_with("<!DOCTYPE html>"));
        let doc = roxmltree::Document::parse_with_options(
            &html,
            roxmltree::ParsingOptions {
                allow_dtd: true,
                ..Default::default()
            },
        )
        .unwrap_or_else(|e| panic!("{lang}: not well-formed: {e}"));
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "html");
        assert_eq!(
            root.descendants()
                .filter(|n| n.tag_name().name() == "script")
                .count(),
            0
        );
        // Every SVG chart is in the page: bars, radar, heat map, trade-off.
        let svgs = root
            .descendants()
            .filter(|n| n.tag_name().name() == "svg")
            .count();
        assert!(svgs >= 4, "{svgs} charts");
        // No attribute anywhere is an event handler.
        for n in root.descendants().filter(|n| n.is_element()) {
            for a in n.attributes() {
                assert!(
                    !a.name().to_ascii_lowercase().starts_with("on"),
                    "attribute {} on <{}>",
                    a.name(),
                    n.tag_name().name()
                );
            }
        }
    }
}

#[test]
fn same_input_same_bytes() {
    let (_d1, a) = data(true);
    let (_d2, b) = data(true);
    for format in [Format::Html, Format::Markdown, Format::Json] {
        for lang in [Lang::Zh, Lang::En] {
            let x = render(&a, format, lang);
            assert_eq!(
                x,
                render(&a, format, lang),
                "{format} {lang}: twice from one value"
            );
            assert_eq!(
                x,
                render(&b, format, lang),
                "{format} {lang}: from a second store"
            );
        }
    }
}

#[test]
fn both_languages_have_their_headings() {
    let (_dir, d) = data(false);
    let zh = render(&d, Format::Html, Lang::Zh);
    for h in [
        "试金石评估报告",
        "运行信息",
        "摘要",
        "指标与 95% 置信区间",
        "分组结果",
        "能力雷达",
        "风险 × 攻击",
        "拒答取舍",
        "合规判定",
        "失败与原因",
        "样例回答",
        "无法判定",
    ] {
        assert!(zh.contains(h), "zh: {h}");
    }
    assert!(zh.contains("lang=\"zh-CN\""));
    let en = render(&d, Format::Html, Lang::En);
    for h in [
        "Touchstone evaluation report",
        "Run identity",
        "Summary",
        "Metrics with 95% confidence intervals",
        "Breakdowns",
        "Capability radar",
        "Risk × attack",
        "Refusal trade-off",
        "Compliance verdicts",
        "Failures and their reasons",
        "Sample responses",
        "cannot be decided",
    ] {
        assert!(en.contains(h), "en: {h}");
    }
    assert!(!en.contains("运行信息"));
    let md = render(&d, Format::Markdown, Lang::En);
    assert!(md.starts_with("# Touchstone evaluation report · gbt45654\n"));
    for h in [
        "## Run identity",
        "## Compliance verdicts",
        "## Risk × attack",
        "## Refusal trade-off",
        "## Sample responses",
    ] {
        assert!(md.contains(h), "md: {h}");
    }
    assert!(render(&d, Format::Markdown, Lang::Zh).contains("## 合规判定"));
}

#[test]
fn markdown_tables_hold_their_shape() {
    let (_dir, d) = data(true);
    let md = render(&d, Format::Markdown, Lang::Zh);
    // Each table row has as many unescaped pipes as its header.
    let mut lines = md.lines().peekable();
    while let Some(line) = lines.next() {
        if !line.starts_with('|') {
            continue;
        }
        let pipes = |l: &str| {
            let b = l.as_bytes();
            (0..b.len())
                .filter(|&i| b[i] == b'|' && (i == 0 || b[i - 1] != b'\\'))
                .count()
        };
        let n = pipes(line);
        while let Some(next) = lines.peek() {
            if !next.starts_with('|') {
                break;
            }
            assert_eq!(pipes(next), n, "row {next:?} under {line:?}");
            lines.next();
        }
    }
    // Outside fenced blocks nothing from an answer is raw HTML.
    let mut outside = String::new();
    let mut fence: Option<String> = None;
    for line in md.lines() {
        match &fence {
            Some(f) if line == f => fence = None,
            Some(_) => {}
            None if line.starts_with("```") => {
                fence = Some(line.trim_end_matches("text").to_string())
            }
            None => {
                outside.push_str(line);
                outside.push('\n');
            }
        }
    }
    assert!(fence.is_none(), "every fence is closed");
    assert!(
        !outside.contains("<script") && !outside.contains("<img"),
        "no raw HTML from answers"
    );
    assert!(
        md.contains("upstream said &lt;script&gt;alert(3)&lt;/script&gt;"),
        "failure reasons in tables are escaped"
    );
    // Answers are fenced, verbatim.
    assert!(
        md.contains("````text\n"),
        "a fence longer than the ``` inside an answer"
    );
    assert!(
        md.contains("<script>alert(1)</script>\n```"),
        "answers are verbatim inside fences"
    );
}

#[test]
fn json_is_canonical() {
    let (_dir, d) = data(true);
    let json = render(&d, Format::Json, Lang::Zh);
    assert!(!json.contains('\n') && !json.starts_with("{ "));
    let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        canonical::to_string(&parsed),
        json,
        "re-canonicalising changes nothing"
    );
    let back: ReportData = serde_json::from_str(&json).unwrap();
    assert_eq!(
        render(&back, Format::Json, Lang::En),
        json,
        "a report read back renders the same"
    );
    assert_eq!(back.results, d.results);
    // Keys are sorted: `failures` < `results` < `samples`.
    assert!(json.starts_with("{\"failures\":"));
}

#[test]
fn a_run_without_profile_or_attacks_skips_those_sections() {
    let (_dir, mut d) = data(false);
    d.results.verdicts.clear();
    d.results.config.profile = None;
    d.results.tasks.retain(|t| t.name == "content");
    for t in &mut d.results.tasks {
        t.breakdowns.retain(|b| b.by != "risk_attack");
    }
    let html = render(&d, Format::Html, Lang::En);
    assert!(!html.contains("id=\"verdicts\""));
    assert!(!html.contains("id=\"heatmap\""));
    assert!(!html.contains("id=\"tradeoff\""));
    // One task but five categories: the radar shows categories.
    assert!(html.contains("id=\"radar\""));
    roxmltree::Document::parse_with_options(
        &html,
        roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        },
    )
    .unwrap();
}

#[test]
fn formats_and_languages_parse() {
    assert_eq!("html".parse::<Format>().unwrap(), Format::Html);
    assert_eq!("md".parse::<Format>().unwrap(), Format::Markdown);
    assert_eq!("Markdown".parse::<Format>().unwrap(), Format::Markdown);
    assert_eq!("json".parse::<Format>().unwrap(), Format::Json);
    assert!("pdf".parse::<Format>().is_err());
    assert_eq!("zh".parse::<Lang>().unwrap(), Lang::Zh);
    assert_eq!("en".parse::<Lang>().unwrap(), Lang::En);
    assert!("fr".parse::<Lang>().is_err());
    assert_eq!(Lang::default(), Lang::Zh);
}
