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
//!
//! When `second_reading.jsonl` lies beside the labelled file, it also prints how far that
//! independent second reading agrees with the labels (precision, recall, F1, Cohen's kappa),
//! beside the detector on the same responses: the level a careful reader reaches.
//!
//! With `--judge SPEC` (`openai:NAME@URL`, `local:smollm2`, …) it measures a judge model the
//! same way: the `refusal` scorer with that judge labels the responses of `--split` (default
//! `test`) in `--lang` (default both), at most `--limit` of them, each judged with its request
//! read back from the public sets under `--data` (default `../shared/data`); `--k` asks the
//! judge k times per response (default 1), `--concurrency` requests at once (default 8),
//! `--max-tokens` caps each judge reply (default 128: a JSON verdict and one sentence) and
//! `--retries` how often a reply without a verdict is asked again (default 1).

use std::path::PathBuf;
use std::process::ExitCode;

use touchstone_bench::judge_check::{JudgeSettings, judge_labels, open_judge};
use touchstone_bench::labelled_requests::{resolve_requests, shared_data_dir};
use touchstone_scorers::refusal::{
    Confusion, LabelledResponse, Positive, RefusalLabel, classify, parse_labelled,
};

fn default_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scorers/data/refusal/labelled.jsonl")
}

const USAGE: &str = "usage: refusal [--file PATH] [--errors dev|test] [--judge SPEC [--data DIR] [--split dev|test|all] [--lang en|zh] [--limit N] [--k N] [--concurrency N] [--max-tokens N] [--retries N]]";

struct Args {
    file: PathBuf,
    errors: Option<String>,
    judge: Option<String>,
    data: PathBuf,
    split: String,
    lang: Option<String>,
    limit: Option<usize>,
    k: u32,
    concurrency: usize,
    max_tokens: u32,
    retries: u32,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        file: default_file(),
        errors: None,
        judge: None,
        data: shared_data_dir(),
        split: "test".into(),
        lang: None,
        limit: None,
        k: 1,
        concurrency: 8,
        max_tokens: 128,
        retries: 1,
    };
    fn number<T: std::str::FromStr>(flag: &str, value: Option<String>) -> Result<T, String> {
        let value = value.ok_or_else(|| format!("{flag} needs a number"))?;
        value
            .parse()
            .map_err(|_| format!("{flag}: `{value}` is not a whole number"))
    }
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
            "--judge" => args.judge = Some(it.next().ok_or("--judge needs a model spec")?),
            "--data" => {
                args.data = it
                    .next()
                    .ok_or("--data needs the folder of the public sets (../shared/data)")?
                    .into()
            }
            "--split" => {
                let split = it.next().ok_or("--split needs dev, test or all")?;
                if !["dev", "test", "all"].contains(&split.as_str()) {
                    return Err(format!(
                        "--split: expected dev, test or all, found `{split}`"
                    ));
                }
                args.split = split;
            }
            "--lang" => args.lang = Some(it.next().ok_or("--lang needs en or zh")?),
            "--limit" => args.limit = Some(number("--limit", it.next())?),
            "--k" => args.k = number("--k", it.next())?,
            "--concurrency" => args.concurrency = number("--concurrency", it.next())?,
            "--max-tokens" => args.max_tokens = number("--max-tokens", it.next())?,
            "--retries" => args.retries = number("--retries", it.next())?,
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument `{other}`; {USAGE}")),
        }
    }
    Ok(args)
}

/// How far a second, independent reading of some responses agrees with the labels: the level
/// a careful reader reaches, beside the detector's on the same responses.
fn print_second_reading(
    path: &std::path::Path,
    rows: &[LabelledResponse],
    predicted: &[RefusalLabel],
) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut second = std::collections::HashMap::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let at = |what: String| format!("{}: line {}: {what}", path.display(), n + 1);
        let v: serde_json::Value = serde_json::from_str(line).map_err(|e| at(e.to_string()))?;
        let field = |k: &str| {
            v[k].as_str()
                .ok_or_else(|| at(format!("no text field `{k}`")))
        };
        let label: RefusalLabel = field("label")?.parse().map_err(at)?;
        second.insert(field("id")?.to_string(), label);
    }
    let (mut reader, mut detector) = (Confusion::default(), Confusion::default());
    let (mut both_refuse, mut first_refuses, mut second_refuses, mut n) = (0, 0, 0, 0);
    for (row, p) in rows.iter().zip(predicted) {
        let Some(&label) = second.get(&row.id) else {
            continue;
        };
        reader.add(row.label, label);
        detector.add(row.label, *p);
        let (a, b) = (
            row.label == RefusalLabel::Refusal,
            label == RefusalLabel::Refusal,
        );
        both_refuse += usize::from(a && b);
        first_refuses += usize::from(a);
        second_refuses += usize::from(b);
        n += 1;
    }
    if n == 0 {
        return Err(format!(
            "{}: no id matches a labelled response",
            path.display()
        ));
    }
    // Cohen's kappa for refusal vs not.
    let nf = n as f64;
    let agree = (nf - (first_refuses + second_refuses - 2 * both_refuse) as f64) / nf;
    let (pa, pb) = (first_refuses as f64 / nf, second_refuses as f64 / nf);
    let chance = pa * pb + (1.0 - pa) * (1.0 - pb);
    let kappa = (agree - chance) / (1.0 - chance);
    println!(
        "\nsecond reading ({}): {n} responses labelled again by readers who saw neither the labels nor the detector",
        path.display()
    );
    println!(
        "{:<10} {:>9} {:>9} {:>9} {:>9}",
        "", "precision", "recall", "F1", "kappa"
    );
    println!(
        "{:<10} {:>9} {:>9} {:>9} {:>9.3}",
        "reader",
        pct(reader.precision(Positive::Refusal)),
        pct(reader.recall(Positive::Refusal)),
        pct(reader.f1(Positive::Refusal)),
        kappa
    );
    println!(
        "{:<10} {:>9} {:>9} {:>9}",
        "detector",
        pct(detector.precision(Positive::Refusal)),
        pct(detector.recall(Positive::Refusal)),
        pct(detector.f1(Positive::Refusal)),
    );
    Ok(())
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

    let second = args.file.with_file_name("second_reading.jsonl");
    if second.exists()
        && let Err(e) = print_second_reading(&second, &rows, &predicted)
    {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
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
    if let Some(spec) = &args.judge
        && let Err(e) = measure_judge(spec, &args, &rows, &predicted)
    {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// The judge's labels against people's on the chosen rows, beside the rule detector's on the
/// same rows.
fn measure_judge(
    spec: &str,
    args: &Args,
    rows: &[LabelledResponse],
    rule: &[RefusalLabel],
) -> Result<(), String> {
    let requests = resolve_requests(rows, &args.data).map_err(|e| {
        format!("{e} (the public sets are read from --data, default ../shared/data)")
    })?;
    let chosen: Vec<usize> = (0..rows.len())
        .filter(|&i| args.split == "all" || rows[i].split == args.split)
        .filter(|&i| args.lang.as_ref().is_none_or(|l| &rows[i].lang == l))
        .take(args.limit.unwrap_or(usize::MAX))
        .collect();
    let picked: Vec<&LabelledResponse> = chosen.iter().map(|&i| &rows[i]).collect();
    let asked: Vec<&str> = chosen.iter().map(|&i| requests[i].as_str()).collect();
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let started = std::time::Instant::now();
    let settings = JudgeSettings {
        concurrency: args.concurrency,
        k: args.k,
        max_tokens: args.max_tokens,
        retries: args.retries,
    };
    let judged = runtime.block_on(async {
        let judge = open_judge(spec, args.concurrency).await?;
        judge_labels(judge, &picked, &asked, settings).await
    })?;
    println!(
        "\njudge {spec} (k = {}) on {} responses (split {}, lang {}) in {:.0} s",
        args.k,
        chosen.len(),
        args.split,
        args.lang.as_deref().unwrap_or("both"),
        started.elapsed().as_secs_f64()
    );
    println!(
        "{:<5} {:>5} {:>8} {:>12} {:>9} {:>9} {:>9} {:>9} {:>12}",
        "lang",
        "n",
        "judged",
        "unjudgeable",
        "precision",
        "recall",
        "F1",
        "rules F1",
        "agree rules"
    );
    let mut langs: Vec<&str> = picked.iter().map(|r| r.lang.as_str()).collect();
    langs.sort_unstable();
    langs.dedup();
    for lang in langs {
        let (mut judge_c, mut rule_c) = (Confusion::default(), Confusion::default());
        let (mut n, mut failed, mut agree) = (0, 0, 0);
        for (k, &i) in chosen.iter().enumerate() {
            if rows[i].lang != lang {
                continue;
            }
            n += 1;
            match &judged[k] {
                Ok(label) => {
                    judge_c.add(rows[i].label, *label);
                    rule_c.add(rows[i].label, rule[i]);
                    agree += usize::from(
                        (*label == RefusalLabel::Refusal) == (rule[i] == RefusalLabel::Refusal),
                    );
                }
                Err(_) => failed += 1,
            }
        }
        let judged_n = n - failed;
        println!(
            "{:<5} {:>5} {:>8} {:>12} {:>9} {:>9} {:>9} {:>9} {:>12}",
            lang,
            n,
            judged_n,
            failed,
            pct(judge_c.precision(Positive::Refusal)),
            pct(judge_c.recall(Positive::Refusal)),
            pct(judge_c.f1(Positive::Refusal)),
            pct(rule_c.f1(Positive::Refusal)),
            pct((judged_n > 0).then(|| agree as f64 / judged_n as f64)),
        );
    }
    if let Some((k, e)) = judged
        .iter()
        .enumerate()
        .find_map(|(k, r)| r.as_ref().err().map(|e| (k, e)))
    {
        println!("first unjudgeable: {}: {e}", picked[k].id);
    }
    Ok(())
}
