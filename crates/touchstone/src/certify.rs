//! `touchstone keys generate`, `certify`, `verify` and `log head`: the steps of issuing and
//! checking certificates. The cryptography and the proofs live in `touchstone-trust`, the
//! evidence of a run in `touchstone-engine::evidence`, the log in the store.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use miette::IntoDiagnostic;
use touchstone_trust::{KeyPair, PublicKeys, PublishedTreeHead, VerifyOptions};

use crate::cli::{CertifyArgs, VerifyArgs};

const PASSPHRASE_ENV: &str = "TOUCHSTONE_KEY_PASSPHRASE";

/// The passphrase from the environment (automation) or the terminal; never echoed or logged.
fn passphrase(confirm: bool) -> miette::Result<String> {
    if let Ok(p) = std::env::var(PASSPHRASE_ENV) {
        return Ok(p);
    }
    if !std::io::stdin().is_terminal() {
        return Err(miette::miette!(
            "no passphrase: set {PASSPHRASE_ENV} or run in a terminal to be asked / 未提供口令：请设置 {PASSPHRASE_ENV} 或在终端中运行"
        ));
    }
    let first = rpassword::prompt_password("口令 Passphrase: ").into_diagnostic()?;
    if confirm {
        let again = rpassword::prompt_password("再次输入 Again: ").into_diagnostic()?;
        if again != first {
            return Err(miette::miette!(
                "the passphrases differ / 两次输入的口令不一致"
            ));
        }
    }
    Ok(first)
}

fn trust_error(e: impl std::fmt::Display) -> miette::Report {
    miette::miette!("{e}")
}

pub fn keys_generate(out: &Path) -> miette::Result<ExitCode> {
    let passphrase = passphrase(true)?;
    let keys = KeyPair::generate().map_err(trust_error)?;
    keys.write_dir(out, &passphrase).map_err(trust_error)?;
    outln!("已生成密钥 Keys generated in {}", out.display());
    outln!(
        "  公钥 public keys (publish this): {}",
        out.join("public.json").display()
    );
    outln!(
        "  私钥 private keys (encrypted):   {}",
        out.join("private.json").display()
    );
    outln!("  指纹 fingerprint: {}", keys.fingerprint());
    Ok(ExitCode::SUCCESS)
}

pub fn certify(db: &Path, args: &CertifyArgs) -> miette::Result<ExitCode> {
    let store = crate::open_recorded_store(db)?;
    let draft = touchstone_engine::certify::draft(store.as_ref(), &args.run, &args.files_root)
        .map_err(crate::engine_report)?;
    refuse_overwrite(&args.out, args.force)?;
    let keys = load_keys(&args.key, || passphrase(false))?;
    // Refuse an unwritable destination before anything is appended to the log.
    let tmp = TempFile(temp_path(&args.out));
    std::fs::write(&tmp.0, b"")
        .map_err(|e| miette::miette!("cannot write {}: {e} / 无法写入", args.out.display()))?;

    let now = touchstone_store::now_rfc3339();
    let run_id = draft.run_id.clone();
    let (cert, index) =
        touchstone_engine::certify::issue(store.as_ref(), draft, &args.center, &keys, &now)
            .map_err(crate::engine_report)?;
    crate::audit::record(
        store.as_ref(),
        "certificate.issue",
        &format!("run:{run_id}"),
        &format!("ok: transparency log leaf {index}"),
    );
    std::fs::write(&tmp.0, cert.to_bytes()).and_then(|()| std::fs::rename(&tmp.0, &args.out)).map_err(|e| {
        miette::miette!(
            "cannot write {}: {e}; the certificate is in the transparency log at index {index} / 无法写入证书文件（已记入透明日志）",
            args.out.display()
        )
    })?;
    let log = cert.log.as_ref().expect("issue attaches the log proof");
    outln!("已签发证书 Certificate issued: {}", args.out.display());
    outln!("  运行 run: {} · 签发方 center: {}", run_id, args.center);
    outln!(
        "  签名 signatures: SM2-with-SM3 + ML-DSA-65 · 指纹 key fingerprint: {}",
        keys.fingerprint()
    );
    outln!(
        "  透明日志 log: leaf {} of tree size {} · root {}",
        log.leaf_index,
        log.tree_head.tree_size,
        log.tree_head.root_hash
    );
    Ok(ExitCode::SUCCESS)
}

/// The center's key pair, asking for its passphrase only when there is one; a folder without
/// one is told how to make it.
fn load_keys(
    dir: &Path,
    passphrase: impl FnOnce() -> miette::Result<String>,
) -> miette::Result<KeyPair> {
    if !dir.join("private.json").exists() {
        return Err(miette::miette!(
            "no key pair in {}: make one with `touchstone keys generate --out {}` (or name the folder that holds private.json with --key) / 该目录中没有密钥",
            dir.display(),
            dir.display()
        ));
    }
    KeyPair::load_dir(dir, &passphrase()?).map_err(trust_error)
}

/// A certificate or a tree head is a published artefact: writing over one that exists needs
/// `--force`.
fn refuse_overwrite(out: &Path, force: bool) -> miette::Result<()> {
    if out.exists() && !force {
        return Err(miette::miette!(
            "{} exists; a published certificate or tree head is not replaced silently: choose another --out, or pass --force to replace it / 文件已存在，如需覆盖请加 --force",
            out.display()
        ));
    }
    Ok(())
}

/// The `.partial` file a certificate is written to first; removed on every way out (after the
/// rename it no longer exists).
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn temp_path(out: &Path) -> PathBuf {
    let mut name = out
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".partial");
    out.with_file_name(name)
}

pub fn verify(args: &VerifyArgs) -> miette::Result<ExitCode> {
    let bytes = touchstone_input::read(
        &args.certificate,
        touchstone_trust::certificate::MAX_CERTIFICATE_BYTES,
    )
    .map_err(|e| {
        miette::miette!(
            "cannot read {}: {e} / 无法读取证书",
            args.certificate.display()
        )
    })?;
    let pubkey = match &args.pubkey {
        Some(path) => Some(PublicKeys::load(path).map_err(trust_error)?),
        None => None,
    };
    let tree_head = match &args.tree_head {
        Some(path) => {
            let text = touchstone_input::read(path, touchstone_input::MIB)
                .map_err(|e| miette::miette!("cannot read {}: {e}", path.display()))?;
            Some(PublishedTreeHead::from_json(&text).map_err(|e| {
                miette::miette!(
                    "{} is not a published tree head: {e} / 不是有效的树头文件",
                    path.display()
                )
            })?)
        }
        None => None,
    };
    let check_files = args.check_files.then(|| {
        args.files_root
            .clone()
            .unwrap_or_else(|| PathBuf::from("."))
    });
    let options = VerifyOptions {
        pubkey,
        tree_head,
        check_files,
    };
    let mut out = std::io::stdout().lock();
    match touchstone_trust::verify(&bytes, &options) {
        // The library verifies what a certificate carries; Touchstone's policy is that every
        // certificate it issues is logged, so one without its proof had it removed.
        Ok(report) if report.log.is_none() => {
            writeln!(
                out,
                "无效 invalid: {}: the certificate carries no transparency-log proof; every certificate `touchstone certify` issues has one, so this one was removed or it was not issued by Touchstone / 证书缺少透明日志证明",
                args.certificate.display()
            )
            .into_diagnostic()?;
            Ok(ExitCode::FAILURE)
        }
        Ok(report) => {
            writeln!(out, "有效 valid: {}", args.certificate.display()).into_diagnostic()?;
            writeln!(
                out,
                "  签发方 center: {} · 时间 issued: {} · 运行 run: {}",
                report.center, report.issued_at, report.run_id
            )
            .into_diagnostic()?;
            writeln!(
                out,
                "  签名 signatures: {} · 指纹 key: {}",
                report.signatures.join(" + "),
                report.key_fingerprint
            )
            .into_diagnostic()?;
            if !report.key_anchored {
                writeln!(
                    out,
                    "  注意 note: no --pubkey given: the signatures match the keys the certificate carries, which proves it is \
                     intact but not who issued it / 未指定公钥：仅证明证书未被改动，不能证明签发者"
                )
                .into_diagnostic()?;
            }
            if let Some(log) = &report.log {
                writeln!(
                    out,
                    "  透明日志 log: leaf {} of {} · root {}",
                    log.leaf_index, log.tree_size, log.root_hash
                )
                .into_diagnostic()?;
                if let Some(head) = &log.published_head {
                    let how = if head.consistency_checked {
                        "consistency proof checked / 一致性证明已验证"
                    } else {
                        "same tree / 同一棵树"
                    };
                    writeln!(
                        out,
                        "  公布的树头 published head: size {} · {how}",
                        head.tree_size
                    )
                    .into_diagnostic()?;
                }
            }
            if !report.files_checked.is_empty() {
                writeln!(
                    out,
                    "  文件 files checked ({}): {}",
                    report.files_checked.len(),
                    report.files_checked.join(", ")
                )
                .into_diagnostic()?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            writeln!(out, "无效 invalid: {}: {e}", args.certificate.display()).into_diagnostic()?;
            Ok(ExitCode::FAILURE)
        }
    }
}

pub fn log_head(
    db: &Path,
    key: &Path,
    since: &[u64],
    out: Option<&Path>,
    force: bool,
    center: &str,
) -> miette::Result<ExitCode> {
    let store = crate::open_recorded_store(db)?;
    // The log and the sizes are checked before the passphrase is asked for.
    touchstone_engine::certify::check_since(store.as_ref(), since).map_err(crate::engine_report)?;
    if let Some(path) = out {
        refuse_overwrite(path, force)?;
    }
    let keys = load_keys(key, || passphrase(false))?;
    let head = touchstone_engine::certify::tree_head(
        store.as_ref(),
        &keys,
        center,
        &touchstone_store::now_rfc3339(),
        since,
    )
    .map_err(crate::engine_report)?;
    match out {
        Some(path) => {
            std::fs::write(path, head.to_bytes())
                .map_err(|e| miette::miette!("cannot write {}: {e}", path.display()))?;
            outln!(
                "树头 tree head: size {} · root {} → {}",
                head.head.tree_size,
                head.head.root_hash,
                path.display()
            );
        }
        None => std::io::stdout()
            .write_all(&head.to_bytes())
            .into_diagnostic()?,
    }
    Ok(ExitCode::SUCCESS)
}
