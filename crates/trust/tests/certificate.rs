//! Issue → verify round trips, key files, --check-files, --pubkey and --tree-head.

mod common;

use common::*;
use touchstone_trust::keys::{KdfParams, KeyError};
use touchstone_trust::merkle::{self, PublishedTreeHead};
use touchstone_trust::{
    Certificate, KeyPair, PublicKeys, VerifyError, VerifyOptions, issue, transparency, verify,
};

#[test]
fn issue_then_verify_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, leaves) = sample(dir.path());
    let report = verify(&bytes, &VerifyOptions::default()).unwrap();
    assert_eq!(report.center, CENTER);
    assert_eq!(report.signatures, vec!["SM2-with-SM3", "ML-DSA-65"]);
    assert!(!report.key_anchored);
    let log = report.log.unwrap();
    assert_eq!((log.leaf_index, log.tree_size), (3, 5));
    assert_eq!(
        log.root_hash,
        touchstone_trust::hex::encode(&merkle::root(&leaves))
    );
    assert!(report.files_checked.is_empty());

    // Deterministic: the same inputs give the same bytes.
    assert_eq!(sample(dir.path()).0, bytes);
    // The bytes are what to_bytes writes, pretty-printed, with the algorithms named.
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.ends_with("}\n") && text.contains("\n  \"body\": {"));
    for name in [
        "SM2-with-SM3",
        "ML-DSA-65",
        "SHA-256",
        "SM3",
        "RFC 8785",
        "RFC 9162 SHA-256",
        "1234567812345678",
    ] {
        assert!(text.contains(name), "{name} is not named");
    }
    let cert = Certificate::from_bytes(&bytes).unwrap();
    assert_eq!(cert.to_bytes(), bytes);
}

#[test]
fn certificate_without_log_verifies_but_not_against_a_tree_head() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path());
    let keys = keys();
    let cert = issue(body(dir.path(), &keys), &keys);
    let report = verify(&cert.to_bytes(), &VerifyOptions::default()).unwrap();
    assert!(report.log.is_none());
    let head = PublishedTreeHead::publish(&[cert.leaf_hash()], &keys, CENTER, NOW, &[]);
    let err = verify(
        &cert.to_bytes(),
        &VerifyOptions {
            tree_head: Some(head),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(err, VerifyError::NoLogProof);
}

#[test]
fn pubkey_anchors_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, _) = sample(dir.path());
    let ok = verify(
        &bytes,
        &VerifyOptions {
            pubkey: Some(keys().public().clone()),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(ok.key_anchored);
    let err = verify(
        &bytes,
        &VerifyOptions {
            pubkey: Some(other_keys().public().clone()),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(matches!(err, VerifyError::KeyMismatch { .. }), "{err}");
    assert!(err.to_string().contains("--pubkey"), "{err}");
}

#[test]
fn a_certificate_re_signed_by_another_key_is_not_anchored() {
    // Someone replaces the results and re-signs with their own keys: self-consistent, so it
    // verifies without --pubkey, but --pubkey catches it.
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path());
    let mallory = other_keys();
    let mut b = body(dir.path(), &mallory);
    b.results = serde_json::json!({"suite": "quick", "metrics": {"xstest": {"refusal_rate": 0.0}}});
    let forged = issue(b, &mallory).to_bytes();
    assert!(
        !verify(&forged, &VerifyOptions::default())
            .unwrap()
            .key_anchored
    );
    let err = verify(
        &forged,
        &VerifyOptions {
            pubkey: Some(keys().public().clone()),
            ..Default::default()
        },
    );
    assert!(matches!(err, Err(VerifyError::KeyMismatch { .. })));
}

#[test]
fn check_files_names_the_changed_file() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, _) = sample(dir.path());
    let opts = VerifyOptions {
        check_files: Some(dir.path().to_path_buf()),
        ..Default::default()
    };
    let report = verify(&bytes, &opts).unwrap();
    assert_eq!(
        report.files_checked,
        vec!["suite.yaml", "data/xstest.jsonl"]
    );

    let path = dir.path().join("data/xstest.jsonl");
    let mut data = std::fs::read(&path).unwrap();
    data[10] ^= 0x01;
    std::fs::write(&path, &data).unwrap();
    let err = verify(&bytes, &opts).unwrap_err();
    assert_eq!(
        err,
        VerifyError::FileDigest {
            path: "data/xstest.jsonl".into(),
            algorithm: "SHA-256".into()
        }
    );
    assert!(
        err.to_string().contains("data/xstest.jsonl") && err.to_string().contains("摘要不符"),
        "{err}"
    );

    std::fs::remove_file(&path).unwrap();
    let err = verify(&bytes, &opts).unwrap_err();
    assert!(
        matches!(&err, VerifyError::FileMissing { path, .. } if path == "data/xstest.jsonl"),
        "{err}"
    );
}

#[test]
fn tree_head_same_size_larger_with_consistency_and_forks() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, mut leaves) = sample(dir.path());
    let keys = keys();
    let later = "2026-11-30T00:00:00Z";
    let opts = |head: PublishedTreeHead| VerifyOptions {
        tree_head: Some(head),
        ..Default::default()
    };

    // Same size: roots must match.
    let same = PublishedTreeHead::publish(&leaves, &keys, CENTER, later, &[]);
    let r = verify(&bytes, &opts(same)).unwrap();
    let p = r.log.unwrap().published_head.unwrap();
    assert_eq!((p.tree_size, p.consistency_checked), (5, false));

    // Larger: needs a consistency proof from size 5.
    leaves.extend((0..4).map(|i| merkle::leaf_hash(format!("next {i}").as_bytes())));
    let with = PublishedTreeHead::publish(&leaves, &keys, CENTER, later, &[2, 5]);
    let r = verify(&bytes, &opts(with.clone())).unwrap();
    assert!(r.log.unwrap().published_head.unwrap().consistency_checked);
    // Through its file form.
    let parsed = PublishedTreeHead::from_json(&with.to_bytes()).unwrap();
    assert_eq!(parsed, with);

    let without = PublishedTreeHead::publish(&leaves, &keys, CENTER, later, &[2]);
    assert_eq!(
        verify(&bytes, &opts(without)).unwrap_err(),
        VerifyError::MissingConsistency { from: 5, to: 9 }
    );

    // A forked log: leaf 1 rewritten. Same size → mismatch; larger → consistency fails.
    let mut forked = leaves[..5].to_vec();
    forked[1] = merkle::leaf_hash(b"rewritten");
    let fork_same = PublishedTreeHead::publish(&forked, &keys, CENTER, later, &[]);
    assert_eq!(
        verify(&bytes, &opts(fork_same)).unwrap_err(),
        VerifyError::TreeHeadMismatch { size: 5 }
    );
    forked.extend_from_slice(&leaves[5..]);
    let fork_larger = PublishedTreeHead::publish(&forked, &keys, CENTER, later, &[5]);
    assert_eq!(
        verify(&bytes, &opts(fork_larger)).unwrap_err(),
        VerifyError::ConsistencyProof { from: 5, to: 9 }
    );

    // Older head.
    let older = PublishedTreeHead::publish(&leaves[..4], &keys, CENTER, later, &[]);
    assert_eq!(
        verify(&bytes, &opts(older)).unwrap_err(),
        VerifyError::TreeHeadOlder {
            published: 4,
            certificate: 5
        }
    );

    // A head signed by someone else.
    let foreign = PublishedTreeHead::publish(&leaves, &other_keys(), CENTER, later, &[5]);
    let err = verify(&bytes, &opts(foreign)).unwrap_err();
    assert!(
        matches!(err, VerifyError::SignatureKeyMismatch { .. }),
        "{err}"
    );

    // A head whose signature was tampered with.
    let mut tampered = PublishedTreeHead::publish(&leaves, &keys, CENTER, later, &[5]);
    tampered.head.timestamp = "2026-12-01T00:00:00Z".into();
    let err = verify(&bytes, &opts(tampered)).unwrap_err();
    assert!(
        err.to_string()
            .contains("published tree head SM2 signature does not verify"),
        "{err}"
    );
}

#[test]
fn attach_proof_checks_the_leaf() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path());
    let keys = keys();
    let cert = issue(body(dir.path(), &keys), &keys);
    let leaves = vec![merkle::leaf_hash(b"a"), merkle::leaf_hash(b"b")];
    assert!(transparency::attach_proof(cert.clone(), 1, &leaves, &keys, NOW).is_err());
    assert!(transparency::attach_proof(cert.clone(), 2, &leaves, &keys, NOW).is_err());
    // The log entry and leaf hash do not depend on the log field.
    let (logged, _) = logged(cert.clone(), &keys);
    assert_eq!(transparency::entry(&logged), transparency::entry(&cert));
    assert_eq!(
        transparency::leaf_hash_hex(&logged),
        transparency::leaf_hash_hex(&cert)
    );
}

#[test]
fn key_files_round_trip_and_refuse_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let kdir = dir.path().join("keys");
    let keys = KeyPair::generate().unwrap();
    keys.write_dir_with(&kdir, "correct horse", &KdfParams::INSECURE_FOR_TESTS)
        .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(kdir.join("private.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let private = std::fs::read_to_string(kdir.join("private.json")).unwrap();
    for name in ["argon2id", "ChaCha20-Poly1305", "memory_kib"] {
        assert!(private.contains(name), "{name} not named in private.json");
    }

    let loaded = KeyPair::load_dir(&kdir, "correct horse").unwrap();
    assert_eq!(loaded.public(), keys.public());
    let public = PublicKeys::load(&kdir.join("public.json")).unwrap();
    assert_eq!(&public, keys.public());

    let err = KeyPair::load_dir(&kdir, "wrong horse").unwrap_err();
    assert!(matches!(err, KeyError::WrongPassphrase(_)), "{err}");
    assert!(err.to_string().contains("wrong passphrase"), "{err}");

    let err = keys
        .write_dir_with(&kdir, "x", &KdfParams::INSECURE_FOR_TESTS)
        .unwrap_err();
    assert!(matches!(err, KeyError::Exists(_)), "{err}");
    assert!(matches!(
        keys.write_dir_with(&dir.path().join("k2"), "", &KdfParams::INSECURE_FOR_TESTS),
        Err(KeyError::EmptyPassphrase)
    ));

    // Altering the stored KDF parameters (authenticated) is caught like a wrong passphrase.
    let altered = private.replace("\"iterations\": 1", "\"iterations\": 2");
    assert_ne!(altered, private);
    std::fs::write(kdir.join("private.json"), altered).unwrap();
    assert!(matches!(
        KeyPair::load_dir(&kdir, "correct horse"),
        Err(KeyError::WrongPassphrase(_))
    ));

    // A certificate signed with loaded keys verifies against public.json.
    let files = tempfile::tempdir().unwrap();
    write_files(files.path());
    let cert = issue(body(files.path(), &loaded), &loaded);
    verify(
        &cert.to_bytes(),
        &VerifyOptions {
            pubkey: Some(public),
            ..Default::default()
        },
    )
    .unwrap();
}

#[test]
fn default_kdf_parameters_work() {
    // The real cost (64 MiB, 3 passes): one write and one load.
    let dir = tempfile::tempdir().unwrap();
    let keys = keys();
    let t = std::time::Instant::now();
    keys.write_dir(dir.path(), "pass phrase").unwrap();
    let loaded = KeyPair::load_dir(dir.path(), "pass phrase").unwrap();
    assert_eq!(loaded.fingerprint(), keys.fingerprint());
    eprintln!(
        "argon2id default parameters: write + load in {:?}",
        t.elapsed()
    );
}

#[test]
fn errors_are_bilingual() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, _) = sample(dir.path());
    let mut cert = Certificate::from_bytes(&bytes).unwrap();
    cert.signatures[0].value = cert.signatures[0].value.replace('a', "b");
    let err = verify(&cert.to_bytes(), &VerifyOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "certificate SM2 signature does not verify / 证书 SM2 签名验证失败"
    );

    let mut cert = Certificate::from_bytes(&bytes).unwrap();
    cert.signatures.pop();
    let err = verify(&cert.to_bytes(), &VerifyOptions::default()).unwrap_err();
    assert!(matches!(err, VerifyError::MissingSignature { .. }), "{err}");
    assert!(err.to_string().contains("ML-DSA-65"), "{err}");

    let mut spaced = bytes.clone();
    spaced.insert(1, b' ');
    let err = verify(&spaced, &VerifyOptions::default()).unwrap_err();
    assert_eq!(err, VerifyError::NotCanonical { offset: 1 });
}
