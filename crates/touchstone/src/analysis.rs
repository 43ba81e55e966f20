//! `touchstone compare` and `touchstone plan`: reading runs side by side, and sizing banks
//! before spending. The numbers come from `touchstone-engine::compare` and `touchstone-stats`.

use std::path::Path;
use std::process::ExitCode;

use miette::IntoDiagnostic;

use crate::cli::{CompareArgs, PlanArgs};

pub fn compare(db: &Path, args: &CompareArgs) -> miette::Result<ExitCode> {
    let store = crate::open_recorded_store(db)?;
    let contestants = touchstone_engine::compare::contestants_of(store.as_ref(), &args.runs)
        .map_err(crate::engine_report)?;
    let comparison = touchstone_engine::compare::compare(store.as_ref(), &contestants, args.seed)
        .map_err(crate::engine_report)?;
    use crate::cli::CompareFormatArg;
    use touchstone_report::Format;
    let format = if args.json {
        CompareFormatArg::Json
    } else {
        args.format
    };
    let text = match format {
        CompareFormatArg::Text => touchstone_engine::render_comparison(&comparison),
        CompareFormatArg::Html => {
            touchstone_report::render_comparison(&comparison, Format::Html, lang(args.lang))
        }
        CompareFormatArg::Md => {
            touchstone_report::render_comparison(&comparison, Format::Markdown, lang(args.lang))
        }
        CompareFormatArg::Json => {
            touchstone_report::render_comparison(&comparison, Format::Json, lang(args.lang)) + "\n"
        }
    };
    write_or_print(args.out.as_deref(), &text)
}

fn lang(arg: crate::cli::LangArg) -> touchstone_report::Lang {
    match arg {
        crate::cli::LangArg::Zh => touchstone_report::Lang::Zh,
        crate::cli::LangArg::En => touchstone_report::Lang::En,
    }
}

fn write_or_print(out: Option<&Path>, text: &str) -> miette::Result<ExitCode> {
    match out {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| miette::miette!("cannot write {}: {e} / 无法写入", path.display()))?,
        None => out!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// What `plan` computes, also its JSON form.
#[derive(serde::Serialize)]
struct Plan {
    baseline: f64,
    effect: f64,
    alpha: f64,
    power: f64,
    /// Items to tell one model's rate from the baseline.
    one_model: u64,
    /// Items per model to tell two models apart on different items.
    two_models_independent: u64,
    /// Items to tell two models apart on the same items (McNemar).
    two_models_same_items: u64,
    /// The disagreement share assumed for the paired case.
    discordant: f64,
    /// Items for a 95% interval of ± effect around the baseline.
    interval_half_width: u64,
}

pub fn plan(args: &PlanArgs) -> miette::Result<ExitCode> {
    let p = args.baseline;
    let q = p + args.effect;
    let err = |e: touchstone_stats::StatsError| miette::miette!("{e}");
    if args.power <= args.alpha {
        return Err(miette::miette!(
            "--power {} is not above --alpha {}: a test that detects an effect no more often than it raises a false alarm plans nothing / 检验功效须大于显著性水平",
            args.power,
            args.alpha
        ));
    }
    if !(0.0..1.0).contains(&q) || q <= 0.0 {
        return Err(miette::miette!(
            "--baseline {} plus --effect {} is {q}, outside (0, 1): choose a smaller effect or baseline / 基线加效应量须在 0 与 1 之间",
            args.baseline,
            args.effect
        ));
    }
    // Independent errors: the models disagree when one is right and the other wrong. That share
    // is never below |q - p|, so only a given --discordant can be.
    let discordant = args.discordant.unwrap_or(p * (1.0 - q) + q * (1.0 - p));
    if discordant < args.effect.abs() {
        return Err(miette::miette!(
            "--discordant {discordant} is below the effect {}: two models cannot differ by more than the share of items they disagree on / 分歧率不能小于效应量",
            args.effect.abs()
        ));
    }
    let plan = Plan {
        baseline: p,
        effect: args.effect,
        alpha: args.alpha,
        power: args.power,
        one_model: touchstone_stats::power::one_proportion_n(p, q, args.alpha, args.power)
            .map_err(err)?,
        two_models_independent: touchstone_stats::power::two_proportions_n(
            p, q, args.alpha, args.power,
        )
        .map_err(err)?,
        two_models_same_items: touchstone_stats::power::paired_n(
            discordant,
            args.effect,
            args.alpha,
            args.power,
        )
        .map_err(err)?,
        discordant,
        interval_half_width: touchstone_stats::power::half_width_n(p, args.effect.abs(), 0.95)
            .map_err(err)?,
    };
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&plan).into_diagnostic()?);
        return Ok(ExitCode::SUCCESS);
    }
    outln!(
        "基线 baseline {:.3} · 效应 effect {:+.3} · α = {} (双侧 two-sided) · 功效 power = {}",
        plan.baseline,
        plan.effect,
        plan.alpha,
        plan.power
    );
    let rows = [
        (
            "区分单个模型与基线 one model vs the baseline rate",
            plan.one_model,
            "items".to_string(),
        ),
        (
            "两个模型、不同题目 two models, different items",
            plan.two_models_independent,
            "items per model".to_string(),
        ),
        (
            "两个模型、相同题目 two models, same items (McNemar)",
            plan.two_models_same_items,
            format!(
                "items (assumes {:.1}% disagreement / 假设分歧率)",
                plan.discordant * 100.0
            ),
        ),
        (
            "95% 区间 ± effect · 95% interval ± effect",
            plan.interval_half_width,
            "items".to_string(),
        ),
    ];
    // Pad by display width: a Chinese character takes two columns.
    let width = rows
        .iter()
        .map(|(what, _, _)| unicode_width::UnicodeWidthStr::width(*what))
        .max()
        .unwrap_or(0);
    for (what, n, unit) in rows {
        let pad = " ".repeat(width - unicode_width::UnicodeWidthStr::width(what));
        outln!("  {what}{pad} {n:>8}  {unit}");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn report(db: &Path, args: &crate::cli::ReportArgs) -> miette::Result<ExitCode> {
    use crate::cli::ReportFormatArg;
    use touchstone_report::Format;
    let store = crate::open_recorded_store(db)?;
    let data = touchstone_report::ReportData::from_store(store.as_ref(), &args.run)
        .map_err(|e| miette::miette!("{e}"))?;
    let format = match args.format {
        ReportFormatArg::Html => Format::Html,
        ReportFormatArg::Md => Format::Markdown,
        ReportFormatArg::Json => Format::Json,
    };
    let text = touchstone_report::render(&data, format, lang(args.lang));
    write_or_print(args.out.as_deref(), &text)
}
