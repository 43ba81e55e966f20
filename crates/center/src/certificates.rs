//! Certificates through the API: an assessor issues one for a finished run (with the key pair's
//! passphrase, which is used for that request and never stored), readers of the run download
//! it, and anyone verifies a certificate file against this center's public key and its
//! transparency log. The signing, proofs and checks are `touchstone-trust`'s and the engine's,
//! the same code as `touchstone certify` and `touchstone verify`.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Value, json};
use touchstone_engine::EngineError;
use touchstone_trust::certificate::{MAX_CERTIFICATE_BYTES, VerifyError};
use touchstone_trust::{Certificate, KeyError, KeyPair, PublicKeys, VerifyOptions, merkle};

use crate::directory::{IssuedCertificate, JobStatus};
use crate::error::ApiError;
use crate::exchange::{Call, Reply, on_directory};
use crate::objects::load_job;
use crate::policy::Action;
use crate::{Center, blocking};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IssueBody {
    /// The passphrase of the center's private key.
    passphrase: String,
}

fn keys_missing() -> ApiError {
    ApiError::new(
        409,
        "keys_missing",
        "this center has no certificate key pair: make one with `touchstone keys generate --out DIR` and start the center with `--keys DIR`",
        "评测中心尚无证书密钥：请用 `touchstone keys generate --out DIR` 生成，并以 `--keys DIR` 启动",
    )
}

/// `POST /api/v1/runs/{id}/certificate`: signs the run's results and evidence, appends the
/// certificate to the transparency log and keeps its file for download.
pub(crate) async fn issue(center: &Arc<Center>, call: Call) -> Result<Reply, ApiError> {
    let job = load_job(center, &call, Action::RunsCertify).await?;
    let body: IssueBody = call.json()?;
    if job.status != JobStatus::Completed {
        return Err(ApiError::conflict(
            format!(
                "the run is {}: only a completed run is certified",
                job.status.as_str()
            ),
            "运行尚未完成，不能签发证书",
        ));
    }
    let who = call.who()?.name.clone();
    let (c, run_id) = (center.clone(), job.run_id.clone());
    let issued = blocking(move || -> Result<IssuedCertificate, ApiError> {
        if !c.keys.join(touchstone_trust::keys::PRIVATE_FILE).exists() {
            return Err(keys_missing());
        }
        // The run and its evidence are checked before the key is opened. The center's runs
        // read built-in banks only, so no dataset path is relative to a folder.
        let draft =
            touchstone_engine::certify::draft(c.store.as_ref(), &run_id, std::path::Path::new("."))
                .map_err(engine_error)?;
        let keys = KeyPair::load_dir(&c.keys, &body.passphrase).map_err(|e| match e {
            KeyError::WrongPassphrase(_) | KeyError::EmptyPassphrase => ApiError::new(
                400,
                "bad_passphrase",
                "the passphrase does not open the center's private key",
                "口令无法打开评测中心的私钥",
            )
            .at("passphrase"),
            other => ApiError::internal(other),
        })?;
        let now = touchstone_store::now_rfc3339();
        let (cert, index) =
            touchstone_engine::certify::issue(c.store.as_ref(), draft, &c.issuer, &keys, &now)
                .map_err(engine_error)?;
        let issued = IssuedCertificate {
            leaf_index: index,
            run_id,
            issued_by: who,
            issued_at: now,
            certificate: cert.to_bytes(),
        };
        c.directory.save_certificate(&issued)?;
        Ok(issued)
    })
    .await??;
    let cert = Certificate::from_bytes(&issued.certificate).map_err(ApiError::internal)?;
    let log = cert
        .log
        .as_ref()
        .ok_or_else(|| ApiError::internal("an issued certificate carries no log proof"))?;
    Ok(Reply::json(
        201,
        json!({
            "run_id": issued.run_id,
            "issued_at": issued.issued_at,
            "issued_by": issued.issued_by,
            "center": cert.body.center,
            "key_fingerprint": cert.body.public_keys.fingerprint,
            "leaf_index": log.leaf_index,
            "tree_size": log.tree_head.tree_size,
            "root_hash": log.tree_head.root_hash,
            "download": format!("/api/v1/runs/{}/certificate", issued.run_id),
        }),
    )
    .on(format!("run:{}", issued.run_id)))
}

fn engine_error(e: EngineError) -> ApiError {
    match e {
        // The run cannot be certified as it is (not completed, a bank changed since it ran).
        EngineError::Config(message) => ApiError::conflict(message.clone(), message),
        other => ApiError::internal(other),
    }
}

/// `GET /api/v1/runs/{id}/certificate`: the run's latest certificate file.
pub(crate) async fn download(center: &Arc<Center>, call: Call) -> Result<Reply, ApiError> {
    let job = load_job(center, &call, Action::RunsCertificate).await?;
    let id = job.run_id.clone();
    let issued = on_directory(center, move |d| d.latest_certificate(&id))
        .await?
        .ok_or_else(|| {
            ApiError::new(
                404,
                "not_found",
                "this run has no certificate yet",
                "该运行尚无证书",
            )
        })?;
    Ok(Reply::file(
        "application/json",
        format!("touchstone-{}.cert.json", job.run_id),
        issued.certificate,
    )
    .on(format!("run:{}", job.run_id)))
}

/// One check of a verification, in words.
fn check(name: &str, passed: Option<bool>, en: String, zh: String) -> Value {
    json!({
        "check": name,
        // null: not reached, because an earlier check failed.
        "passed": passed,
        "message": en,
        "message_zh": zh,
    })
}

/// Which of the checks a verification error belongs to.
fn failed_check(e: &VerifyError) -> &'static str {
    match e {
        VerifyError::KeyMismatch { .. } => "issuer",
        VerifyError::InclusionProof { .. }
        | VerifyError::NoLogProof
        | VerifyError::LogIdMismatch { .. }
        | VerifyError::TreeHeadOlder { .. }
        | VerifyError::TreeHeadMismatch { .. }
        | VerifyError::MissingConsistency { .. }
        | VerifyError::ConsistencyProof { .. } => "log_proof",
        _ => "signatures",
    }
}

const CHECKS: [&str; 4] = ["signatures", "issuer", "log_proof", "in_log"];

/// `POST /api/v1/certificates/verify` (public): the body is a certificate file. Answers 200
/// with `valid` and each check passed or failed in words, for a file that verifies and for one
/// that does not; the same checks as `touchstone verify --pubkey`, plus this center's log.
pub(crate) async fn verify(center: &Arc<Center>, call: Call) -> Result<Reply, ApiError> {
    if call.body.len() as u64 > MAX_CERTIFICATE_BYTES {
        return Err(ApiError::new(
            413,
            "too_large",
            "larger than any certificate",
            "超过证书的大小上限",
        ));
    }
    let c = center.clone();
    let bytes = call.body.clone();
    let answer = blocking(move || -> Result<Value, ApiError> {
        let public = c.keys.join(touchstone_trust::keys::PUBLIC_FILE);
        let pubkey = if public.exists() {
            Some(PublicKeys::load(&public).map_err(ApiError::internal)?)
        } else {
            None
        };
        let options = VerifyOptions {
            pubkey: pubkey.clone(),
            tree_head: None,
            check_files: None,
        };
        let mut checks = Vec::new();
        let report = match touchstone_trust::verify(&bytes, &options) {
            Ok(report) => report,
            Err(e) => {
                let failed = failed_check(&e);
                let mut reached = true;
                for name in CHECKS {
                    if name == failed {
                        checks.push(check(name, Some(false), e.to_string(), e.to_string()));
                        reached = false;
                    } else if reached {
                        checks.push(check(
                            name,
                            Some(true),
                            "passed".into(),
                            "通过".into(),
                        ));
                    } else {
                        checks.push(check(
                            name,
                            None,
                            "not checked: an earlier check failed".into(),
                            "未检查：前面的检查未通过".into(),
                        ));
                    }
                }
                return Ok(json!({ "valid": false, "checks": checks, "offline": offline() }));
            }
        };
        checks.push(check(
            "signatures",
            Some(true),
            format!(
                "the file is intact: {} signatures verify",
                report.signatures.join(" + ")
            ),
            format!("文件未被改动：{} 签名验证通过", report.signatures.join(" + ")),
        ));
        checks.push(match &pubkey {
            Some(_) if report.key_anchored => check(
                "issuer",
                Some(true),
                format!(
                    "signed by this center's key (fingerprint {})",
                    report.key_fingerprint
                ),
                format!("由本中心的密钥签发（指纹 {}）", report.key_fingerprint),
            ),
            _ => check(
                "issuer",
                Some(false),
                "this center has no published key, so who signed it cannot be confirmed here".into(),
                "本中心尚未公布公钥，无法确认签发者".into(),
            ),
        });
        let Some(log) = &report.log else {
            checks.push(check(
                "log_proof",
                Some(false),
                "the certificate carries no transparency-log proof; every certificate Touchstone issues has one".into(),
                "证书缺少透明日志证明".into(),
            ));
            checks.push(check(
                "in_log",
                None,
                "not checked: an earlier check failed".into(),
                "未检查：前面的检查未通过".into(),
            ));
            return Ok(json!({ "valid": false, "checks": checks, "offline": offline() }));
        };
        checks.push(check(
            "log_proof",
            Some(true),
            format!(
                "the inclusion proof places it at leaf {} of the signed tree of size {}",
                log.leaf_index, log.tree_size
            ),
            format!(
                "包含证明表明它是规模为 {} 的签名日志树的第 {} 个叶子",
                log.tree_size, log.leaf_index
            ),
        ));
        let in_log = in_this_log(&c, &bytes, log.leaf_index, log.tree_size, &log.root_hash)?;
        checks.push(in_log);
        let valid = checks.iter().all(|c| c["passed"] == json!(true));
        Ok(json!({
            "valid": valid,
            "checks": checks,
            "certificate": {
                "center": report.center,
                "run_id": report.run_id,
                "issued_at": report.issued_at,
                "key_fingerprint": report.key_fingerprint,
                "subjects": report.subjects,
                "leaf_index": log.leaf_index,
                "tree_size": log.tree_size,
                "root_hash": log.root_hash,
            },
            "offline": offline(),
        }))
    })
    .await??;
    Ok(Reply::ok(answer))
}

/// Whether this center's log holds the certificate at its leaf, with the root its tree head
/// signed at that size: the log was neither rewritten nor forked since.
fn in_this_log(
    center: &Center,
    bytes: &[u8],
    index: u64,
    size: u64,
    root_hash: &str,
) -> Result<Value, ApiError> {
    // The leaf hashes in one read and this certificate's entry in another: a public request
    // does not check every entry of the log (`certify::log_leaves` does, before signing).
    let leaves =
        merkle::parse_hashes(&center.store.log_leaf_hashes()?).map_err(ApiError::internal)?;
    let cert = Certificate::from_bytes(bytes).map_err(ApiError::internal)?;
    let holds = (size as usize) <= leaves.len()
        && leaves.get(index as usize) == Some(&cert.leaf_hash())
        && center.store.log_entry(index)?.as_deref()
            == Some(touchstone_trust::transparency::entry(&cert).as_str())
        && touchstone_trust::hex::encode(&merkle::root(&leaves[..size as usize])) == root_hash;
    Ok(if holds {
        check(
            "in_log",
            Some(true),
            format!(
                "this center's log holds it at leaf {index}, and the log (now {} entries) still has the root the certificate names at size {size}",
                leaves.len()
            ),
            format!(
                "本中心的透明日志在第 {index} 个叶子处收录了它，日志（现有 {} 条）在规模 {size} 时的根哈希与证书一致",
                leaves.len()
            ),
        )
    } else {
        check(
            "in_log",
            Some(false),
            format!(
                "this center's log (now {} entries) does not hold this certificate at leaf {index} with the root it names: it was not issued here, or the log was rewritten",
                leaves.len()
            ),
            format!(
                "本中心的透明日志（现有 {} 条）未在第 {index} 个叶子处收录此证书：它并非本中心签发，或日志被改写",
                leaves.len()
            ),
        )
    })
}

/// How to check a certificate without trusting this server.
fn offline() -> Value {
    json!({
        "message": "To verify offline: `touchstone verify CERT --pubkey public.json --tree-head head.json` with this center's published key and tree head.",
        "message_zh": "离线验证：使用本中心公布的公钥与树头，运行 `touchstone verify CERT --pubkey public.json --tree-head head.json`。",
    })
}
