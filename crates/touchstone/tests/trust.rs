//! Acceptance (issue 5, points 1 and 3 end to end): keys → certify → verify through the binary;
//! a changed byte of the certificate or of a dataset file it names is caught and named; a wrong
//! passphrase is a clear error; the log's published tree head checks the certificate offline;
//! `report` renders a run whose answers hold HTML without letting it run.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use touchstone_mock::{MockConfig, spawn_background};

const PASSPHRASE: &str = "correct horse battery staple";
const CENTER: &str = "厦门 AI 评测中心";

fn run_with_passphrase(args: &[&str], passphrase: &str) -> std::process::Output {
    bin()
        .args(args)
        .env("TOUCHSTONE_KEY_PASSPHRASE", passphrase)
        .output()
        .unwrap()
}

/// A finished run over a small dataset file whose answers contain markup.
fn finished_run(dir: &Path) -> (String, PathBuf) {
    let data = dir.join("items.jsonl");
    let lines = [
        r#"{"id": "a", "input": "What is 2 + 3?", "target": "5"}"#,
        r#"{"id": "b", "input": "Say hi [[reply:<script>alert(1)</script> & </style>]]", "target": "hi"}"#,
        r#"{"id": "c", "input": "What is 7 * 6?", "target": "42"}"#,
    ];
    std::fs::write(&data, lines.join("\n") + "\n").unwrap();
    let mock = spawn_background(MockConfig::default()).unwrap();
    let out = dir.join("out");
    let o = run(&[
        "eval",
        "--dataset",
        data.to_str().unwrap(),
        "--scorer",
        "includes",
        "--model",
        &format!("openai:mock@{}", mock.base_url()),
        "--db",
        db(dir).to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    (
        read_json(&out.join("results.json"))["run_id"]
            .as_str()
            .unwrap()
            .to_string(),
        data,
    )
}

#[test]
fn certify_then_verify_and_catch_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let (run_id, data) = finished_run(dir.path());
    let dbp = db(dir.path());
    let db = dbp.to_str().unwrap();
    let keys = dir.path().join("keys");
    let o = run_with_passphrase(
        &["keys", "generate", "--out", keys.to_str().unwrap()],
        PASSPHRASE,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let private = std::fs::read_to_string(keys.join("private.json")).unwrap();
    assert!(
        !stdout(&o).contains(&private) && !stderr(&o).contains(&private),
        "private keys are never printed"
    );

    let cert = dir.path().join("cert.json");
    let o = run_with_passphrase(
        &[
            "certify",
            &run_id,
            "--key",
            keys.to_str().unwrap(),
            "--out",
            cert.to_str().unwrap(),
            "--db",
            db,
        ],
        "wrong passphrase",
    );
    assert_clean_failure(&o, &["passphrase"]);
    assert!(!cert.exists());
    assert!(
        !dir.path().join("cert.json.partial").exists(),
        "no half-written file is left behind"
    );
    let nokeys = dir.path().join("nokeys");
    let o = run_with_passphrase(
        &[
            "certify",
            &run_id,
            "--key",
            nokeys.to_str().unwrap(),
            "--out",
            cert.to_str().unwrap(),
            "--db",
            db,
        ],
        PASSPHRASE,
    );
    assert_clean_failure(&o, &["no key pair in", "make one with", "private.json"]);
    assert!(!cert.exists());

    let o = run_with_passphrase(
        &[
            "certify",
            &run_id,
            "--key",
            keys.to_str().unwrap(),
            "--out",
            cert.to_str().unwrap(),
            "--db",
            db,
            "--center",
            CENTER,
        ],
        PASSPHRASE,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&cert).unwrap();
    for named in [
        "SM2",
        "ML-DSA-65",
        "SM3",
        "SHA-256",
        "RFC 8785",
        CENTER,
        &run_id,
    ] {
        assert!(text.contains(named), "the certificate names {named}");
    }

    let public = keys.join("public.json");
    let o = run(&[
        "verify",
        cert.to_str().unwrap(),
        "--pubkey",
        public.to_str().unwrap(),
        "--check-files",
    ]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("有效") && stdout(&o).contains("valid"),
        "{}",
        stdout(&o)
    );

    // The published tree head checks the log entry offline.
    let head = dir.path().join("head.json");
    let o = run_with_passphrase(
        &[
            "log",
            "head",
            "--key",
            keys.to_str().unwrap(),
            "--out",
            head.to_str().unwrap(),
            "--db",
            db,
            "--center",
            CENTER,
        ],
        PASSPHRASE,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&[
        "verify",
        cert.to_str().unwrap(),
        "--pubkey",
        public.to_str().unwrap(),
        "--tree-head",
        head.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));

    // A second certificate grows the log; the first still verifies against the new head
    // with the consistency proof the head carries.
    let cert2 = dir.path().join("cert2.json");
    let o = run_with_passphrase(
        &[
            "certify",
            &run_id,
            "--key",
            keys.to_str().unwrap(),
            "--out",
            cert2.to_str().unwrap(),
            "--db",
            db,
            "--center",
            CENTER,
        ],
        PASSPHRASE,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let head2 = dir.path().join("head2.json");
    let o = run_with_passphrase(
        &[
            "log",
            "head",
            "--key",
            keys.to_str().unwrap(),
            "--since",
            "1",
            "--out",
            head2.to_str().unwrap(),
            "--db",
            db,
            "--center",
            CENTER,
        ],
        PASSPHRASE,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&[
        "verify",
        cert.to_str().unwrap(),
        "--pubkey",
        public.to_str().unwrap(),
        "--tree-head",
        head2.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));

    // A certificate is not replaced silently: the same --out again needs --force.
    let certify_again = |force: bool| {
        let mut args = vec![
            "certify",
            &run_id,
            "--key",
            keys.to_str().unwrap(),
            "--out",
            cert2.to_str().unwrap(),
            "--db",
            db,
        ];
        if force {
            args.push("--force");
        }
        run_with_passphrase(&args, PASSPHRASE)
    };
    let before = std::fs::read(&cert2).unwrap();
    assert_clean_failure(&certify_again(false), &["exists", "--force"]);
    assert_eq!(std::fs::read(&cert2).unwrap(), before);
    let o = certify_again(true);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_ne!(std::fs::read(&cert2).unwrap(), before);

    // A tree size the log never had is refused, not ignored.
    let o = run_with_passphrase(
        &[
            "log",
            "head",
            "--key",
            keys.to_str().unwrap(),
            "--since",
            "99",
            "--db",
            db,
        ],
        PASSPHRASE,
    );
    assert_clean_failure(&o, &["--since 99", "the log has 3 entries"]);

    // A certificate whose log proof was removed still has sound signatures, but Touchstone
    // issues none without one: it is not valid.
    let mut stripped: serde_json::Value = serde_json::from_str(&text).unwrap();
    stripped.as_object_mut().unwrap().remove("log").unwrap();
    let unlogged = dir.path().join("unlogged.json");
    let mut unlogged_bytes = serde_json::to_vec_pretty(&stripped).unwrap();
    unlogged_bytes.push(b'\n');
    std::fs::write(&unlogged, unlogged_bytes).unwrap();
    let o = run(&[
        "verify",
        unlogged.to_str().unwrap(),
        "--pubkey",
        public.to_str().unwrap(),
    ]);
    assert!(!o.status.success(), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("no transparency-log proof"),
        "{}",
        stdout(&o)
    );

    // One changed byte in the certificate.
    let mut bytes = std::fs::read(&cert).unwrap();
    let at = text.find("\"center\"").unwrap() + 12;
    bytes[at] ^= 0x01;
    let tampered = dir.path().join("tampered.json");
    std::fs::write(&tampered, &bytes).unwrap();
    let o = run(&[
        "verify",
        tampered.to_str().unwrap(),
        "--pubkey",
        public.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(
        stdout(&o).contains("无效") || stderr(&o).contains("无效"),
        "{}{}",
        stdout(&o),
        stderr(&o)
    );

    // Another center's key: the signatures are sound but not by the expected issuer.
    let other = dir.path().join("other-keys");
    assert!(
        run_with_passphrase(
            &["keys", "generate", "--out", other.to_str().unwrap()],
            PASSPHRASE
        )
        .status
        .success()
    );
    let o = run(&[
        "verify",
        cert.to_str().unwrap(),
        "--pubkey",
        other.join("public.json").to_str().unwrap(),
    ]);
    assert!(!o.status.success(), "{}", stdout(&o));

    // One changed byte in the dataset file the certificate names.
    let mut data_bytes = std::fs::read(&data).unwrap();
    data_bytes[10] ^= 0x01;
    std::fs::write(&data, &data_bytes).unwrap();
    let o = run(&[
        "verify",
        cert.to_str().unwrap(),
        "--pubkey",
        public.to_str().unwrap(),
        "--check-files",
    ]);
    assert!(!o.status.success());
    let said = format!("{}{}", stdout(&o), stderr(&o));
    assert!(
        said.contains("items.jsonl"),
        "the failure names the file: {said}"
    );
}

#[test]
fn report_escapes_markup_from_model_answers() {
    let dir = tempfile::tempdir().unwrap();
    let (run_id, _) = finished_run(dir.path());
    let dbp = db(dir.path());
    for (format, lang) in [("html", "zh"), ("html", "en"), ("md", "zh"), ("json", "en")] {
        let out = dir.path().join(format!("report-{lang}.{format}"));
        let o = run(&[
            "report",
            &run_id,
            "--format",
            format,
            "--lang",
            lang,
            "--out",
            out.to_str().unwrap(),
            "--db",
            dbp.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(text.contains(&run_id));
        if format == "html" {
            assert!(
                !text.contains("<script>alert(1)"),
                "the answer's script is escaped"
            );
            assert!(text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        }
    }
    // Rendering twice gives the same bytes.
    let render = || run(&["report", &run_id, "--db", dbp.to_str().unwrap()]).stdout;
    assert_eq!(render(), render());
}

#[test]
fn without_a_terminal_or_the_variable_there_is_no_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    let o = bin()
        .args(["keys", "generate", "--out", keys.to_str().unwrap()])
        .env_remove("TOUCHSTONE_KEY_PASSPHRASE")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_clean_failure(&o, &["TOUCHSTONE_KEY_PASSPHRASE"]);
    assert!(!keys.join("private.json").exists());
    // An empty passphrase would leave the private keys effectively unencrypted.
    let o = run_with_passphrase(&["keys", "generate", "--out", keys.to_str().unwrap()], "");
    assert_clean_failure(&o, &["passphrase"]);
}

/// A benchmark read from a folder (MMLU's subject CSVs, worked examples from dev/) is certified
/// file by file, and every one of those files is checked again by `verify --check-files`.
#[test]
fn a_benchmark_folder_is_certified_file_by_file() {
    let dir = tempfile::tempdir().unwrap();
    let shared = std::fs::canonicalize(
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
    )
    .unwrap();
    let mmlu = shared.join("mmlu");
    let mock = spawn_background(MockConfig::default()).unwrap();
    let dbp = db(dir.path());
    let out = dir.path().join("out");
    let o = run(&[
        "eval",
        "--benchmark",
        "mmlu",
        "--data-dir",
        mmlu.to_str().unwrap(),
        "--shots",
        "2",
        "--limit",
        "2",
        "--model",
        &format!("openai:mock@{}", mock.base_url()),
        "--db",
        dbp.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let run_id = read_json(&out.join("results.json"))["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    let keys = dir.path().join("keys");
    assert!(
        run_with_passphrase(
            &["keys", "generate", "--out", keys.to_str().unwrap()],
            PASSPHRASE
        )
        .status
        .success()
    );
    let cert = dir.path().join("cert.json");
    let o = run_with_passphrase(
        &[
            "certify",
            &run_id,
            "--key",
            keys.to_str().unwrap(),
            "--out",
            cert.to_str().unwrap(),
            "--db",
            dbp.to_str().unwrap(),
            "--files-root",
            shared.to_str().unwrap(),
        ],
        PASSPHRASE,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let c = read_json(&cert);
    let paths: Vec<&str> = c["body"]["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["path"].as_str())
        .collect();
    // Relative to --files-root: no folder of the issuer's machine above it is named.
    assert!(
        paths.contains(&"mmlu/test/abstract_algebra_test.csv"),
        "{paths:?}"
    );
    assert!(
        paths.contains(&"mmlu/dev/abstract_algebra_dev.csv"),
        "the worked examples' files too: {paths:?}"
    );
    assert!(paths.iter().all(|p| !p.starts_with('/')), "{paths:?}");
    let verify = |root: &Path| {
        run(&[
            "verify",
            cert.to_str().unwrap(),
            "--pubkey",
            keys.join("public.json").to_str().unwrap(),
            "--check-files",
            "--files-root",
            root.to_str().unwrap(),
        ])
    };
    let o = verify(&shared);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    // Another copy of the files, elsewhere, verifies the same; without them it does not.
    let copy = dir.path().join("copy");
    for p in &paths {
        let to = copy.join(p);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(shared.join(p), &to).unwrap();
    }
    let o = verify(&copy);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let o = verify(dir.path());
    assert!(!o.status.success(), "{}", stdout(&o));
}
