//! Shared fixtures: a deterministic key pair and a sample logged certificate.
#![allow(dead_code)]

use std::path::Path;

use touchstone_trust::merkle::{self, Hash};
use touchstone_trust::{Certificate, CertificateBody, KeyPair, Subject, issue, transparency};

pub const CENTER: &str = "Touchstone Test Center";
pub const NOW: &str = "2026-11-29T10:00:00Z";

pub fn keys() -> KeyPair {
    KeyPair::from_secrets(&[0x11; 32], &[0x22; 32]).unwrap()
}

pub fn other_keys() -> KeyPair {
    KeyPair::from_secrets(&[0x33; 32], &[0x44; 32]).unwrap()
}

/// Writes the sample's two files under `dir`.
pub fn write_files(dir: &Path) {
    std::fs::write(dir.join("suite.yaml"), "name: quick\ntasks: [xstest]\n").unwrap();
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(
        dir.join("data/xstest.jsonl"),
        "{\"id\":1,\"prompt\":\"你好\"}\n{\"id\":2,\"prompt\":\"hi\"}\n",
    )
    .unwrap();
}

pub fn body(dir: &Path, keys: &KeyPair) -> CertificateBody {
    let results = serde_json::json!({
        "suite": "quick",
        "models": ["mock/echo"],
        "metrics": {"xstest": {"refusal_rate": 0.125, "n": 2, "ci95": [0.01, 0.5]}},
        "note": "安全评测 \"quoted\"\n"
    });
    let subjects = vec![
        Subject::of_file("suite", "quick", "suite.yaml", &dir.join("suite.yaml")).unwrap(),
        Subject::of_file(
            "dataset",
            "xstest",
            "data/xstest.jsonl",
            &dir.join("data/xstest.jsonl"),
        )
        .unwrap(),
    ];
    CertificateBody::new(
        CENTER,
        NOW,
        "run-20261129-0001",
        results,
        subjects,
        keys.public().clone(),
    )
}

/// Three earlier leaves, the certificate at index 3, and one later leaf.
pub fn logged(cert: Certificate, keys: &KeyPair) -> (Certificate, Vec<Hash>) {
    let mut leaves: Vec<Hash> = (0..3)
        .map(|i| merkle::leaf_hash(format!("earlier {i}").as_bytes()))
        .collect();
    leaves.push(transparency::leaf_hash(&cert));
    leaves.push(merkle::leaf_hash(b"later"));
    let cert = transparency::attach_proof(cert, 3, &leaves, keys, NOW).unwrap();
    (cert, leaves)
}

/// A sample certificate with a log proof, its bytes, and the log's leaves.
pub fn sample(dir: &Path) -> (Vec<u8>, Vec<Hash>) {
    write_files(dir);
    let keys = keys();
    let cert = issue(body(dir, &keys), &keys);
    let (cert, leaves) = logged(cert, &keys);
    (cert.to_bytes(), leaves)
}
