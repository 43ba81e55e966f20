//! Certificates of evaluation results that anyone can check offline.
//!
//! * [`canonical`]: RFC 8785 (JCS) canonical JSON, and the same rules pretty-printed.
//! * [`digest`]: SHA-256 and SM3 digests of bytes and files.
//! * [`keys`]: an SM2 key pair and an ML-DSA-65 key pair, private keys encrypted with a
//!   passphrase (argon2id + ChaCha20-Poly1305).
//! * [`certificate`]: issue and verify certificates; both signatures are required.
//! * [`merkle`]: the RFC 9162 Merkle tree of the transparency log, signed tree heads, proofs.
//! * [`transparency`]: the steps that tie a certificate to the log, without knowing where the log
//!   is stored (the binary keeps it in the store).
//!
//! Libraries take the time as a parameter: nothing here reads a clock.

pub mod canonical;
pub mod certificate;
pub mod digest;
pub mod hex;
pub mod keys;
pub mod merkle;
pub mod transparency;

mod sign;

pub use certificate::{
    Algorithms, Certificate, CertificateBody, SignatureEntry, Subject, VerifyError, VerifyOptions,
    VerifyReport, issue, verify,
};
pub use digest::Digests;
pub use keys::{KeyError, KeyPair, PublicKeys};
pub use merkle::{ConsistencyProof, LogProof, PublishedTreeHead, SignedTreeHead};

/// The JSON Schema (draft 2020-12) of a certificate file.
pub const CERTIFICATE_SCHEMA: &str = include_str!("../schema/certificate.schema.json");

/// Algorithm names, as written in every artifact.
pub mod names {
    /// SM2 signature (GB/T 32918.2) with SM3 and the distinguishing identifier below.
    pub const SM2: &str = "SM2-with-SM3";
    /// FIPS 204 ML-DSA-65, pure mode, empty context, deterministic signing.
    pub const ML_DSA: &str = "ML-DSA-65";
    pub const SHA256: &str = "SHA-256";
    pub const SM3: &str = "SM3";
    pub const CANONICALIZATION: &str = "RFC 8785";
    /// The default distinguishing identifier of GB/T 32918.2 / GM/T 0009.
    pub const SM2_DISTINGUISHING_ID: &str = "1234567812345678";
    pub const KDF: &str = "argon2id";
    pub const CIPHER: &str = "ChaCha20-Poly1305";
    /// RFC 9162 §2.1 Merkle tree hash with SHA-256.
    pub const LOG_HASH: &str = "RFC 9162 SHA-256";
}
