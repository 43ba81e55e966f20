//! The comparison as a document: escaped, well-formed, deterministic, in both languages.

use touchstone_engine::compare::{
    Comparison, Contestant, ContestantScore, PairComparison, PairTest, TaskComparison,
};
use touchstone_report::{Format, Lang, render_comparison};

fn comparison() -> Comparison {
    let contestants = vec![
        Contestant {
            run_id: "20261129-000001-aaaaaa".into(),
            model: "openai:<script>alert(1)</script>@http://x/v1".into(),
        },
        Contestant {
            run_id: "20261129-000002-bbbbbb".into(),
            model: "openai:weak|model@http://x/v1".into(),
        },
    ];
    let score = |contestant, value: f64, tier, rank| ContestantScore {
        contestant,
        value,
        ci_low: value - 0.02,
        ci_high: value + 0.02,
        n: 1000,
        tier,
        rank,
    };
    let pair = PairComparison {
        a: 0,
        b: 1,
        n: 1000,
        mean_a: 0.9,
        mean_b: 0.8,
        difference: 0.1,
        ci_low: 0.081,
        ci_high: 0.119,
        test: PairTest::McnemarExact,
        discordant: Some((100, 0)),
        p_value: 1.6e-30,
        p_holm: 1.6e-30,
        significant: true,
    };
    Comparison {
        contestants,
        tasks: vec![TaskComparison {
            task: "items".into(),
            scorer: "numeric".into(),
            common_items: 1000,
            scores: vec![score(0, 0.9, 0, 1), score(1, 0.8, 1, 2)],
            pairs: vec![pair],
        }],
    }
}

#[test]
fn html_is_escaped_well_formed_and_deterministic() {
    let c = comparison();
    for lang in [Lang::Zh, Lang::En] {
        let html = render_comparison(&c, Format::Html, lang);
        assert!(!html.contains("<script>alert"), "model names are escaped");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        let xml = html.replace("<!DOCTYPE html>", "");
        let doc = roxmltree::Document::parse(&xml).expect("well-formed");
        assert!(!doc.descendants().any(|n| n.has_tag_name("script")));
        assert_eq!(
            html,
            render_comparison(&c, Format::Html, lang),
            "same input, same bytes"
        );
    }
    let en = render_comparison(&c, Format::Html, Lang::En);
    assert!(
        en.contains("Leaderboard")
            && en.contains("McNemar exact (100 / 0)")
            && en.contains("significant"),
        "{en}"
    );
    let zh = render_comparison(&c, Format::Html, Lang::Zh);
    assert!(zh.contains("排行榜") && zh.contains("显著"), "{zh}");
}

#[test]
fn markdown_escapes_cells_and_json_is_canonical() {
    let c = comparison();
    let md = render_comparison(&c, Format::Markdown, Lang::En);
    assert!(
        md.contains("weak\\|model"),
        "a pipe in a model name cannot split a cell: {md}"
    );
    assert!(md.contains("| 1 | 1 | #1 "), "{md}");
    let json = render_comparison(&c, Format::Json, Lang::En);
    let back: Comparison = serde_json::from_str(&json).unwrap();
    assert_eq!(back, c);
    assert_eq!(
        touchstone_trust::canonical::to_string(&serde_json::from_str(&json).unwrap()),
        json
    );
}
