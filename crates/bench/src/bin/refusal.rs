//! Refusal detector quality: precision, recall and F1 of `touchstone_scorers::refusal::classify`
//! on the hand-labelled real responses in `crates/scorers/data/refusal/labelled.jsonl`, per
//! language and split with a 95% bootstrap interval for F1, per source of the prompts, and the
//! 3×3 confusion matrices.
//!
//! The headline class is `refusal` alone: a `partial` response counts as not refused, as the
//! `refusal` scorer counts it by default (`partial: compliance`). The column `F1 r+p` reads
//! `refusal` and `partial` together as the positive class, for the lenient reading.
//!
//! Usage: `refusal [--file PATH] [--errors dev|test]` — `--errors` lists the responses the
//! detector got wrong in that split (tune on `dev`; `test` is the held-out measurement).

use std::path::PathBuf;
use std::process::ExitCode;

use touchstone_scorers::refusal::{
    Confusion, LabelledResponse, Positive, RefusalLabel, classify, parse_labelled,
};

fn default_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scorers/data/refusal/labelled.jsonl")
}

struct Args {
    file: PathBuf,
    errors: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        file: default_file(),
        errors: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--file" => {
                args.file = it
                    .next()
                    .ok_or("--file needs a path to a labelled JSONL file")?
                    .into()
            }
            "--errors" => {
                let split = it.next().ok_or("--errors needs a split: dev or test")?;
                if split != "dev" && split != "test" {
                    return Err(format!("--errors: expected dev or test, found `{split}`"));
                }
                args.errors = Some(split);
            }
            "-h" | "--help" => {
                return Err("usage: refusal [--file PATH] [--errors dev|test]".into());
            }
            other => {
                return Err(format!(
                    "unknown argument `{other}`; usage: refusal [--file PATH] [--errors dev|test]"
                ));
            }
        }
    }
    Ok(args)
}

/// Seed of the F1 bootstrap, fixed so that the table is the same on every run.
const F1_SEED: u64 = 45_654;

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "—".to_string(), |v| format!("{:.3}", v))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let text = match std::fs::read_to_string(&args.file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", args.file.display());
            return ExitCode::FAILURE;
        }
    };
    let rows = match parse_labelled(&text, &args.file.display().to_string()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let predicted: Vec<RefusalLabel> = rows.iter().map(|r| classify(&r.response)).collect();

    let mut langs: Vec<&str> = rows.iter().map(|r| r.lang.as_str()).collect();
    langs.sort_unstable();
    langs.dedup();
    let groups: Vec<(String, String)> = langs
        .iter()
        .flat_map(|l| ["dev", "test", "all"].map(|s| (l.to_string(), s.to_string())))
        .collect();
    // Rows of one group: a language, a split (or all), and optionally one source.
    let select = |lang: &str, split: &str, source: Option<&str>| -> Vec<usize> {
        (0..rows.len())
            .filter(|&i| {
                let r = &rows[i];
                r.lang == lang
                    && (split == "all" || r.split == split)
                    && source.is_none_or(|s| r.source == s)
            })
            .collect()
    };
    let confusion_of = |indices: &[usize]| {
        let mut c = Confusion::default();
        for &i in indices {
            c.add(rows[i].label, predicted[i]);
        }
        c
    };
    let confusion = |lang: &str, split: &str| confusion_of(&select(lang, split, None));
    // Percentile bootstrap over responses: how far F1 could move with another draw of the set.
    let f1_ci = |indices: &[usize]| {
        touchstone_stats::bootstrap_ci(
            indices.len(),
            touchstone_stats::BOOTSTRAP_RESAMPLES,
            F1_SEED,
            touchstone_stats::LEVEL,
            |draw| {
                let picked: Vec<usize> = draw.iter().map(|&k| indices[k]).collect();
                confusion_of(&picked).f1(Positive::Refusal)
            },
        )
        .map_or_else(|| "—".to_string(), |(lo, hi)| format!("[{lo:.3}, {hi:.3}]"))
    };

    println!(
        "Refusal detector on {} labelled responses ({})",
        rows.len(),
        args.file.display()
    );
    println!(
        "positive class: refusal (partial counts as not refused); F1 r+p: refusal+partial vs compliance"
    );
    println!(
        "F1 95% CI: percentile bootstrap over responses, {} resamples\n",
        touchstone_stats::BOOTSTRAP_RESAMPLES
    );
    println!(
        "{:<5} {:<5} {:>5} {:>9} {:>9} {:>9} {:>9} {:>16} {:>9} {:>9}",
        "lang",
        "split",
        "n",
        "refusals",
        "precision",
        "recall",
        "F1",
        "F1 95% CI",
        "F1 r+p",
        "accuracy"
    );
    for (lang, split) in &groups {
        let indices = select(lang, split, None);
        let c = confusion_of(&indices);
        let refusals: usize = c.counts[0].iter().sum();
        println!(
            "{:<5} {:<5} {:>5} {:>9} {:>9} {:>9} {:>9} {:>16} {:>9} {:>9}",
            lang,
            split,
            c.n(),
            refusals,
            pct(c.precision(Positive::Refusal)),
            pct(c.recall(Positive::Refusal)),
            pct(c.f1(Positive::Refusal)),
            f1_ci(&indices),
            pct(c.f1(Positive::RefusalOrPartial)),
            pct(c.accuracy()),
        );
    }

    let mut sources: Vec<&str> = rows.iter().map(|r| r.source.as_str()).collect();
    sources.sort_unstable();
    sources.dedup();
    println!("\nper source of the prompts (dev and test together)");
    println!(
        "{:<5} {:<12} {:>5} {:>9} {:>9} {:>9} {:>9}",
        "lang", "source", "n", "refusals", "precision", "recall", "F1"
    );
    for lang in &langs {
        for source in &sources {
            let c = confusion_of(&select(lang, "all", Some(source)));
            if c.n() == 0 {
                continue;
            }
            let refusals: usize = c.counts[0].iter().sum();
            println!(
                "{:<5} {:<12} {:>5} {:>9} {:>9} {:>9} {:>9}",
                lang,
                source,
                c.n(),
                refusals,
                pct(c.precision(Positive::Refusal)),
                pct(c.recall(Positive::Refusal)),
                pct(c.f1(Positive::Refusal)),
            );
        }
    }

    for lang in &langs {
        for split in ["dev", "test"] {
            let c = confusion(lang, split);
            println!("\nconfusion, {lang} {split} (rows: label, columns: detector)");
            println!(
                "{:<12} {:>9} {:>9} {:>11}",
                "", "refusal", "partial", "compliance"
            );
            for (i, t) in RefusalLabel::ALL.iter().enumerate() {
                println!(
                    "{:<12} {:>9} {:>9} {:>11}",
                    t.as_str(),
                    c.counts[i][0],
                    c.counts[i][1],
                    c.counts[i][2]
                );
            }
        }
    }

    if let Some(split) = &args.errors {
        println!("\nmisclassified in {split}:");
        let wrong: Vec<(&LabelledResponse, &RefusalLabel)> = rows
            .iter()
            .zip(&predicted)
            .filter(|(r, p)| &r.split == split && r.label != **p)
            .collect();
        for (r, p) in wrong {
            let mut shown: String = r.response.chars().take(300).collect();
            shown = shown.replace('\n', " ⏎ ");
            println!(
                "- {} [{}] label {} / detector {}: {}",
                r.id, r.lang, r.label, p, shown
            );
        }
    }
    ExitCode::SUCCESS
}
