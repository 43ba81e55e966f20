//! Writes a demonstration report: a GB/T 45654-like run of two made-up models, stored in a
//! temporary SQLite database, rendered as HTML, Markdown and JSON.
//!
//! ```text
//! cargo run -p touchstone-report --example sample_report -- [OUT_DIR] [zh|en] [--nasty]
//! scripts/report-screenshot OUT_DIR/report.zh.html OUT_DIR/report.png
//! ```
//!
//! `--nasty` fills the answers with markup (`<script>`, `</style>`, quotes) to show that the
//! report escapes it.

#[path = "../tests/common/mod.rs"]
mod common;

use touchstone_report::{Format, Lang, ReportData, render};
use touchstone_store::SqliteStore;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let nasty = args.iter().any(|a| a == "--nasty");
    let positional: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let out = positional
        .first()
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| "target/report-demo".into());
    let langs: Vec<Lang> = match positional.get(1) {
        Some(l) => vec![l.parse()?],
        None => vec![Lang::Zh, Lang::En],
    };
    std::fs::create_dir_all(&out)?;
    let dir = tempfile::tempdir()?;
    let store = SqliteStore::open(&dir.path().join("demo.db"))?;
    let run_id = common::write_gbt_run(&store, nasty);
    let data = ReportData::from_store(&store, &run_id)?;
    for lang in langs {
        for format in [Format::Html, Format::Markdown] {
            let path = out.join(format!("report.{lang}.{}", format.extension()));
            std::fs::write(&path, render(&data, format, lang))?;
            println!("{}", path.display());
        }
    }
    let path = out.join("report.json");
    std::fs::write(&path, render(&data, Format::Json, Lang::Zh))?;
    println!("{}", path.display());
    Ok(())
}
