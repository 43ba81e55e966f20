//! Certificates: the canonical results of a run, digests of everything it depended on, and two
//! signatures (SM2 and ML-DSA-65) that must both verify.
//!
//! On disk a certificate is [`Certificate::to_bytes`]: the RFC 8785 rules (sorted members,
//! minimal escapes, ECMAScript numbers) pretty-printed with two-space indentation and a final
//! newline. It is the only accepted spelling: [`Certificate::from_bytes`] re-serializes what it
//! parsed and refuses any file that differs by a single byte, so whitespace, escapes, number
//! spellings, key order or hex case cannot be changed without detection. The signatures cover
//! the RFC 8785 (compact) form of `body`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::digest::Digests;
use crate::hex;
use crate::keys::{KeyPair, PublicKeys, Verifiers};
use crate::merkle::{self, Hash, LogProof, PublishedTreeHead, SignedTreeHead};
use crate::sign::{SigFailure, sign_both, verify_both};
use crate::{canonical, names};

pub use crate::sign::SignatureEntry;

pub const CERTIFICATE_FORMAT: &str = "touchstone-certificate/1";
/// The kinds of [`Subject`].
pub const SUBJECT_KINDS: [&str; 4] = ["suite", "dataset", "model", "build"];

/// Something the results depend on, identified by both digests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subject {
    /// `suite`, `dataset`, `model` or `build`.
    pub kind: String,
    pub name: String,
    /// A file the digests are of, relative to the directory given to `--check-files` (or
    /// absolute). Subjects without a path (a model's identity, the build) are checked only
    /// through the signatures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Lowercase hex.
    pub sha256: String,
    /// Lowercase hex.
    pub sm3: String,
}

impl Subject {
    pub fn new(kind: &str, name: &str, path: Option<&str>, digests: Digests) -> Subject {
        Subject {
            kind: kind.to_string(),
            name: name.to_string(),
            path: path.map(str::to_string),
            sha256: digests.sha256,
            sm3: digests.sm3,
        }
    }

    /// A subject for the file at `file`, recorded under `path` (as `--check-files` will find it).
    pub fn of_file(kind: &str, name: &str, path: &str, file: &Path) -> std::io::Result<Subject> {
        Ok(Subject::new(
            kind,
            name,
            Some(path),
            Digests::of_file(file)?,
        ))
    }

    /// A subject for an identity string (a model's name and endpoint, a build id): the digests
    /// are of its UTF-8 bytes.
    pub fn of_text(kind: &str, name: &str, text: &str) -> Subject {
        Subject::new(kind, name, None, Digests::of_bytes(text.as_bytes()))
    }
}

/// The algorithms a certificate uses, named in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Algorithms {
    /// `["SM2-with-SM3", "ML-DSA-65"]`: both required.
    pub signature: Vec<String>,
    /// `["SHA-256", "SM3"]`.
    pub digest: Vec<String>,
    /// `RFC 8785`.
    pub canonicalization: String,
    /// `RFC 9162 SHA-256`.
    pub transparency_log: String,
}

impl Default for Algorithms {
    fn default() -> Self {
        Algorithms {
            signature: vec![names::SM2.into(), names::ML_DSA.into()],
            digest: vec![names::SHA256.into(), names::SM3.into()],
            canonicalization: names::CANONICALIZATION.into(),
            transparency_log: names::LOG_HASH.into(),
        }
    }
}

/// What the signatures cover.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateBody {
    /// `touchstone-certificate/1`.
    pub format: String,
    /// The issuing center's name.
    pub center: String,
    /// RFC 3339 UTC.
    pub issued_at: String,
    pub run_id: String,
    /// The canonical results (any JSON).
    pub results: Value,
    pub subjects: Vec<Subject>,
    pub algorithms: Algorithms,
    pub public_keys: PublicKeys,
}

impl CertificateBody {
    /// A body with the current format and algorithms.
    pub fn new(
        center: &str,
        issued_at: &str,
        run_id: &str,
        results: Value,
        subjects: Vec<Subject>,
        public_keys: PublicKeys,
    ) -> CertificateBody {
        CertificateBody {
            format: CERTIFICATE_FORMAT.to_string(),
            center: center.to_string(),
            issued_at: issued_at.to_string(),
            run_id: run_id.to_string(),
            results,
            subjects,
            algorithms: Algorithms::default(),
            public_keys,
        }
    }

    /// RFC 8785 bytes of the body: what both signatures sign.
    pub fn signed_bytes(&self) -> Vec<u8> {
        canonical::of(self).expect("a certificate body is plain JSON")
    }
}

/// A signed certificate, optionally with its transparency-log proof.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Certificate {
    pub body: CertificateBody,
    /// `[SM2, ML-DSA-65]`, both over [`CertificateBody::signed_bytes`].
    pub signatures: Vec<SignatureEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<LogProof>,
}

/// Signs `body` with both keys. The body's `public_keys` are set to `keys`' public keys.
pub fn issue(mut body: CertificateBody, keys: &KeyPair) -> Certificate {
    body.public_keys = keys.public().clone();
    let signatures = sign_both(keys, &body.signed_bytes());
    Certificate {
        body,
        signatures,
        log: None,
    }
}

impl Certificate {
    /// The one accepted serialization: canonical rules, pretty-printed, final newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = canonical::to_pretty_vec(&serde_json::to_value(self).expect("plain JSON"));
        out.push(b'\n');
        out
    }

    /// Parses a certificate and requires `bytes` to be exactly its [`Certificate::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Certificate, VerifyError> {
        let cert: Certificate =
            serde_json::from_slice(bytes).map_err(|e| VerifyError::Malformed(e.to_string()))?;
        let canonical = cert.to_bytes();
        if canonical != bytes {
            let offset = canonical
                .iter()
                .zip(bytes)
                .position(|(a, b)| a != b)
                .unwrap_or(canonical.len().min(bytes.len()));
            return Err(VerifyError::NotCanonical { offset });
        }
        Ok(cert)
    }

    /// The log entry: RFC 8785 bytes of the certificate without its `log` field.
    pub fn log_entry(&self) -> Vec<u8> {
        #[derive(Serialize)]
        struct Unlogged<'a> {
            body: &'a CertificateBody,
            signatures: &'a [SignatureEntry],
        }
        canonical::of(&Unlogged {
            body: &self.body,
            signatures: &self.signatures,
        })
        .expect("plain JSON")
    }

    /// The log's leaf hash of [`Certificate::log_entry`].
    pub fn leaf_hash(&self) -> Hash {
        merkle::leaf_hash(&self.log_entry())
    }
}

/// What `verify` is asked to check beyond the certificate itself.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// `--pubkey`: the keys the certificate must be signed with. Without it the certificate's own
    /// keys are used and the report says the key was not anchored.
    pub pubkey: Option<PublicKeys>,
    /// `--tree-head`: a published tree head the certificate's log proof must be consistent with.
    pub tree_head: Option<PublishedTreeHead>,
    /// `--check-files`: the directory subject paths are relative to; every subject with a path
    /// is read and both digests compared.
    pub check_files: Option<PathBuf>,
}

/// Which signed object a signature error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signed {
    Certificate,
    TreeHead,
    PublishedTreeHead,
}

impl Signed {
    pub fn en(self) -> &'static str {
        match self {
            Signed::Certificate => "certificate",
            Signed::TreeHead => "log tree head",
            Signed::PublishedTreeHead => "published tree head",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Signed::Certificate => "证书",
            Signed::TreeHead => "日志树头",
            Signed::PublishedTreeHead => "公布的树头",
        }
    }
}

/// Why a certificate does not verify. Each message is in English and 简体中文.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("not a Touchstone certificate: {0} / 不是有效的 Touchstone 证书：{0}")]
    Malformed(String),
    #[error(
        "the certificate is not in canonical form (first difference at byte {offset}); it was altered \
         / 证书不是规范形式（第 {offset} 字节起不同），已被改动"
    )]
    NotCanonical { offset: usize },
    #[error("unsupported certificate format '{0}' / 不支持的证书格式 '{0}'")]
    UnsupportedFormat(String),
    #[error("unsupported algorithms: {0} / 不支持的算法：{0}")]
    UnsupportedAlgorithms(String),
    #[error("field {field} is invalid: {detail} / 字段 {field} 无效：{detail}")]
    InvalidField { field: String, detail: String },
    #[error("the certificate's public keys are invalid: {0} / 证书中的公钥无效：{0}")]
    InvalidPublicKeys(String),
    #[error(
        "the certificate was signed by key {found}, not by the --pubkey key {expected} \
         / 证书的签名密钥 {found} 与 --pubkey 指定的密钥 {expected} 不符"
    )]
    KeyMismatch { expected: String, found: String },
    #[error("{} has no {algorithm} signature / {}缺少 {algorithm} 签名", .what.en(), .what.zh())]
    MissingSignature { what: Signed, algorithm: String },
    #[error(
        "{} has an unexpected or misplaced signature '{algorithm}' (expected exactly SM2-with-SM3, then ML-DSA-65) \
         / {}含有多余或次序错误的签名 '{algorithm}'", .what.en(), .what.zh()
    )]
    UnexpectedSignature { what: Signed, algorithm: String },
    #[error(
        "the {} {algorithm} signature names another key / {} {algorithm} 签名所指的密钥不是证书中的公钥",
        .what.en(), .what.zh()
    )]
    SignatureKeyMismatch { what: Signed, algorithm: String },
    #[error("{} SM2 signature does not verify / {} SM2 签名验证失败", .0.en(), .0.zh())]
    Sm2Signature(Signed),
    #[error("{} ML-DSA-65 signature does not verify / {} ML-DSA-65 签名验证失败", .0.en(), .0.zh())]
    MlDsaSignature(Signed),
    #[error("the {} belongs to log '{found}', not to the issuing center '{expected}' / {}属于日志 '{found}'，而非签发中心 '{expected}'", .what.en(), .what.zh())]
    LogIdMismatch {
        what: Signed,
        expected: String,
        found: String,
    },
    #[error(
        "the transparency-log inclusion proof is invalid: the certificate is not leaf {index} of the logged tree of size {size} \
         / 透明日志包含证明无效：证书不是规模为 {size} 的日志树的第 {index} 个叶子"
    )]
    InclusionProof { index: u64, size: u64 },
    #[error(
        "the certificate carries no transparency-log proof, so it cannot be checked against a tree head \
         / 证书没有透明日志证明，无法与树头比对"
    )]
    NoLogProof,
    #[error(
        "the published tree head (size {published}) is older than the certificate's (size {certificate}) \
         / 公布的树头（规模 {published}）早于证书中的树头（规模 {certificate}）"
    )]
    TreeHeadOlder { published: u64, certificate: u64 },
    #[error(
        "the published tree head does not match the certificate's: same size {size}, different root hash \
         / 公布的树头与证书中的树头不一致：规模同为 {size}，根哈希不同"
    )]
    TreeHeadMismatch { size: u64 },
    #[error(
        "the published tree head (size {to}) carries no consistency proof from size {from} \
         / 公布的树头（规模 {to}）缺少自规模 {from} 的一致性证明"
    )]
    MissingConsistency { from: u64, to: u64 },
    #[error(
        "the consistency proof from size {from} to {to} is invalid: the log was rewritten or forked \
         / 自规模 {from} 至 {to} 的一致性证明无效：日志被改写或分叉"
    )]
    ConsistencyProof { from: u64, to: u64 },
    #[error(
        "file {path} is missing or unreadable: {detail} / 文件 {path} 缺失或无法读取：{detail}"
    )]
    FileMissing { path: String, detail: String },
    #[error("file {path}: {algorithm} digest mismatch / 文件 {path} 的 {algorithm} 摘要不符")]
    FileDigest { path: String, algorithm: String },
}

fn sig_error(what: Signed, f: SigFailure) -> VerifyError {
    match f {
        SigFailure::Missing(a) => VerifyError::MissingSignature {
            what,
            algorithm: a.to_string(),
        },
        SigFailure::Unexpected(a) => VerifyError::UnexpectedSignature { what, algorithm: a },
        SigFailure::WrongKey(a) => VerifyError::SignatureKeyMismatch {
            what,
            algorithm: a.to_string(),
        },
        SigFailure::Invalid(a) if a == names::SM2 => VerifyError::Sm2Signature(what),
        SigFailure::Invalid(_) => VerifyError::MlDsaSignature(what),
    }
}

/// What a successful verification checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub center: String,
    pub run_id: String,
    pub issued_at: String,
    pub key_fingerprint: String,
    /// True when `--pubkey` was given and matched; false when only the certificate's own keys
    /// were used (the certificate is then self-consistent, not attributed).
    pub key_anchored: bool,
    /// The certificate signatures that verified, by algorithm.
    pub signatures: Vec<String>,
    pub subjects: usize,
    pub log: Option<LogReport>,
    /// Subject paths whose files were read and matched both digests.
    pub files_checked: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogReport {
    pub leaf_index: u64,
    pub tree_size: u64,
    pub root_hash: String,
    pub tree_head_timestamp: String,
    pub published_head: Option<PublishedHeadReport>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishedHeadReport {
    pub tree_size: u64,
    pub root_hash: String,
    pub timestamp: String,
    /// True when the published head is larger and a consistency proof was checked.
    pub consistency_checked: bool,
}

fn lower_hex_digest(field: String, value: &str) -> Result<(), VerifyError> {
    hex::decode_array::<32>(value)
        .map(|_| ())
        .map_err(|e| VerifyError::InvalidField {
            field,
            detail: e.to_string(),
        })
}

fn check_tree_head(
    head: &SignedTreeHead,
    what: Signed,
    v: &Verifiers,
    fingerprint: &str,
    center: &str,
    field: &str,
) -> Result<Hash, VerifyError> {
    if head.format != merkle::TREE_HEAD_FORMAT {
        return Err(VerifyError::InvalidField {
            field: format!("{field}.format"),
            detail: format!("'{}', expected '{}'", head.format, merkle::TREE_HEAD_FORMAT),
        });
    }
    if head.hash_algorithm != names::LOG_HASH {
        return Err(VerifyError::UnsupportedAlgorithms(format!(
            "{field}.hash_algorithm '{}'",
            head.hash_algorithm
        )));
    }
    let root = merkle::parse_hash(&head.root_hash).map_err(|e| VerifyError::InvalidField {
        field: format!("{field}.root_hash"),
        detail: e.to_string(),
    })?;
    verify_both(v, fingerprint, &head.signed_bytes(), &head.signatures)
        .map_err(|f| sig_error(what, f))?;
    if head.log_id != center {
        return Err(VerifyError::LogIdMismatch {
            what,
            expected: center.to_string(),
            found: head.log_id.clone(),
        });
    }
    Ok(root)
}

/// The largest certificate file read: one holds a manifest of digests, two signatures and a log
/// proof (kilobytes); verifiers refuse anything larger before reading it.
pub const MAX_CERTIFICATE_BYTES: u64 = 4 * touchstone_input::MIB;

/// Verifies a certificate file's bytes: canonical form, format and algorithm names, public keys
/// and fingerprint, both signatures, the log proof and its signed tree head, and what `options`
/// ask for. Fails with the first thing that does not hold.
pub fn verify(cert_bytes: &[u8], options: &VerifyOptions) -> Result<VerifyReport, VerifyError> {
    if cert_bytes.len() as u64 > MAX_CERTIFICATE_BYTES {
        return Err(VerifyError::Malformed(format!(
            "{} bytes, more than a certificate's {MAX_CERTIFICATE_BYTES} / 超过证书的大小上限",
            cert_bytes.len()
        )));
    }
    let cert = Certificate::from_bytes(cert_bytes)?;
    let body = &cert.body;
    if body.format != CERTIFICATE_FORMAT {
        return Err(VerifyError::UnsupportedFormat(body.format.clone()));
    }
    if body.algorithms != Algorithms::default() {
        return Err(VerifyError::UnsupportedAlgorithms(
            String::from_utf8_lossy(&canonical::of(&body.algorithms).expect("plain JSON"))
                .into_owned(),
        ));
    }
    for (i, s) in body.subjects.iter().enumerate() {
        if !SUBJECT_KINDS.contains(&s.kind.as_str()) {
            return Err(VerifyError::InvalidField {
                field: format!("body.subjects[{i}].kind"),
                detail: format!("'{}', expected one of {}", s.kind, SUBJECT_KINDS.join(", ")),
            });
        }
        lower_hex_digest(format!("body.subjects[{i}].sha256"), &s.sha256)?;
        lower_hex_digest(format!("body.subjects[{i}].sm3"), &s.sm3)?;
    }
    let verifiers = body
        .public_keys
        .verifiers()
        .map_err(VerifyError::InvalidPublicKeys)?;
    let fingerprint = body.public_keys.fingerprint.as_str();
    let key_anchored = match &options.pubkey {
        Some(anchor) => {
            if *anchor != body.public_keys {
                return Err(VerifyError::KeyMismatch {
                    expected: anchor.fingerprint.clone(),
                    found: body.public_keys.fingerprint.clone(),
                });
            }
            true
        }
        None => false,
    };

    verify_both(
        &verifiers,
        fingerprint,
        &body.signed_bytes(),
        &cert.signatures,
    )
    .map_err(|f| sig_error(Signed::Certificate, f))?;

    let log = match &cert.log {
        None => {
            if options.tree_head.is_some() {
                return Err(VerifyError::NoLogProof);
            }
            None
        }
        Some(proof) => {
            let head = &proof.tree_head;
            let root = check_tree_head(
                head,
                Signed::TreeHead,
                &verifiers,
                fingerprint,
                &body.center,
                "log.tree_head",
            )?;
            let path = proof
                .inclusion_proof
                .iter()
                .enumerate()
                .map(|(i, h)| {
                    merkle::parse_hash(h).map_err(|e| VerifyError::InvalidField {
                        field: format!("log.inclusion_proof[{i}]"),
                        detail: e.to_string(),
                    })
                })
                .collect::<Result<Vec<Hash>, _>>()?;
            if !merkle::verify_inclusion(
                &cert.leaf_hash(),
                proof.leaf_index,
                head.tree_size,
                &path,
                &root,
            ) {
                return Err(VerifyError::InclusionProof {
                    index: proof.leaf_index,
                    size: head.tree_size,
                });
            }
            let published_head = match &options.tree_head {
                None => None,
                Some(published) => {
                    let p = &published.head;
                    let p_root = check_tree_head(
                        p,
                        Signed::PublishedTreeHead,
                        &verifiers,
                        fingerprint,
                        &body.center,
                        "tree_head.head",
                    )?;
                    let consistency_checked = if p.tree_size < head.tree_size {
                        return Err(VerifyError::TreeHeadOlder {
                            published: p.tree_size,
                            certificate: head.tree_size,
                        });
                    } else if p.tree_size == head.tree_size {
                        if p_root != root {
                            return Err(VerifyError::TreeHeadMismatch { size: p.tree_size });
                        }
                        false
                    } else {
                        let (from, to) = (head.tree_size, p.tree_size);
                        let c = published
                            .consistency
                            .iter()
                            .find(|c| c.old_size == from)
                            .ok_or(VerifyError::MissingConsistency { from, to })?;
                        let hashes = c
                            .proof
                            .iter()
                            .map(|h| merkle::parse_hash(h))
                            .collect::<Result<Vec<Hash>, _>>()
                            .map_err(|_| VerifyError::ConsistencyProof { from, to })?;
                        if !merkle::verify_consistency(from, to, &root, &p_root, &hashes) {
                            return Err(VerifyError::ConsistencyProof { from, to });
                        }
                        true
                    };
                    Some(PublishedHeadReport {
                        tree_size: p.tree_size,
                        root_hash: p.root_hash.clone(),
                        timestamp: p.timestamp.clone(),
                        consistency_checked,
                    })
                }
            };
            Some(LogReport {
                leaf_index: proof.leaf_index,
                tree_size: head.tree_size,
                root_hash: head.root_hash.clone(),
                tree_head_timestamp: head.timestamp.clone(),
                published_head,
            })
        }
    };

    let mut files_checked = Vec::new();
    if let Some(base) = &options.check_files {
        for s in &body.subjects {
            let Some(path) = &s.path else { continue };
            let full = base.join(path);
            let d = Digests::of_file(&full).map_err(|e| VerifyError::FileMissing {
                path: path.clone(),
                detail: e.to_string(),
            })?;
            if d.sha256 != s.sha256 {
                return Err(VerifyError::FileDigest {
                    path: path.clone(),
                    algorithm: names::SHA256.to_string(),
                });
            }
            if d.sm3 != s.sm3 {
                return Err(VerifyError::FileDigest {
                    path: path.clone(),
                    algorithm: names::SM3.to_string(),
                });
            }
            files_checked.push(path.clone());
        }
    }

    Ok(VerifyReport {
        center: body.center.clone(),
        run_id: body.run_id.clone(),
        issued_at: body.issued_at.clone(),
        key_fingerprint: fingerprint.to_string(),
        key_anchored,
        signatures: cert
            .signatures
            .iter()
            .map(|s| s.algorithm.clone())
            .collect(),
        subjects: body.subjects.len(),
        log,
        files_checked,
    })
}
