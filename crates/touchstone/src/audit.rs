//! `audit verify` and `audit export`, and the events the command line itself records.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use miette::IntoDiagnostic;
use touchstone_audit::{AuditError, Event, Head};
use touchstone_store::Store;

use crate::open_recorded_store;

/// `audit verify`: the head to keep, or the first bad event (exit 1).
pub fn verify(db: &Path, head: Option<&Head>) -> miette::Result<ExitCode> {
    let store = open_recorded_store(db)?;
    match touchstone_audit::verify(store.as_ref(), head) {
        Ok(Some(found)) => {
            outln!(
                "有效 intact: {} audit event(s); head {found} (keep it: `audit verify --head {found}` later also catches removed or rewritten events) / 审计记录完整",
                found.seq
            );
            Ok(ExitCode::SUCCESS)
        }
        Ok(None) => {
            outln!("the audit trail is empty / 审计记录为空");
            Ok(ExitCode::SUCCESS)
        }
        Err(AuditError::Broken { seq, reason }) => {
            outln!("无效 broken: audit event {seq}: {reason} / 审计记录被篡改");
            Ok(ExitCode::FAILURE)
        }
        Err(e) => Err(miette::miette!("{e}")),
    }
}

/// `audit export`: JSON lines to a file (written whole, then renamed) or standard output.
pub fn export(db: &Path, out: Option<&Path>) -> miette::Result<ExitCode> {
    let store = open_recorded_store(db)?;
    match out {
        None => {
            let mut stdout = std::io::stdout().lock();
            touchstone_audit::export(store.as_ref(), &mut stdout)
                .map_err(|e| miette::miette!("{e}"))?;
            stdout.flush().into_diagnostic()?;
        }
        Some(path) => {
            let mut partial = path.as_os_str().to_os_string();
            partial.push(".partial");
            let mut file = std::io::BufWriter::new(
                std::fs::File::create(&partial)
                    .map_err(|e| miette::miette!("cannot write {}: {e}", path.display()))?,
            );
            let n = touchstone_audit::export(store.as_ref(), &mut file)
                .map_err(|e| miette::miette!("{e}"))?;
            file.flush().into_diagnostic()?;
            std::fs::rename(&partial, path).into_diagnostic()?;
            errln!("· wrote {n} audit event(s) to {}", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Records something the command line changed, as the operating-system user who ran it. A
/// trail that cannot be written is reported, not fatal: the change itself is already made.
pub fn record(store: &dyn Store, action: &str, object: &str, outcome: &str) {
    let actor = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into());
    let event = Event {
        actor,
        role: "operator".into(),
        organisation: None,
        action: action.into(),
        object: object.into(),
        source: "cli".into(),
        outcome: outcome.into(),
    };
    if let Err(e) = touchstone_audit::append(store, &event) {
        errln!("warning: the audit trail was not written: {e} / 审计记录写入失败");
    }
}
