use std::path::{Path, PathBuf};

use touchstone_keywords::{KeywordError, KeywordLibrary};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn err(name: &str, bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), name, bytes);
    let e = KeywordLibrary::from_path(&p).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains(name), "message names the file: {msg}");
    msg
}

#[test]
fn reads_jsonl_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    let j = write(dir.path(), "k.jsonl", "\u{feff}{\"keyword\": \"炸弹\", \"risk\": \"A.1d\", \"variants\": [\"炸药\"], \"lang\": \"zh\"}\n\n{\"keyword\": \"bomb\", \"risk\": \"A.1d\"}\n{\"keyword\": \"毒品\", \"risk\": \"A.1e\", \"variants\": null}\n".as_bytes());
    let lib = KeywordLibrary::from_path(&j).unwrap();
    assert_eq!(lib.len(), 3);
    assert_eq!(lib.entries()[0].variants, ["炸药"]);
    assert_eq!(
        lib.count_by_risk().into_iter().collect::<Vec<_>>(),
        [("A.1d".to_string(), 2), ("A.1e".to_string(), 1)]
    );

    let c = write(
        dir.path(),
        "k.csv",
        "risk,keyword,variants,source\nA.1d,炸弹,炸药|自制炸弹,ours\nA.1e,\"毒品\",,ours\n"
            .as_bytes(),
    );
    let lib = KeywordLibrary::from_path(&c).unwrap();
    assert_eq!(lib.len(), 2);
    assert_eq!(lib.entries()[0].keyword, "炸弹");
    assert_eq!(lib.entries()[0].variants, ["炸药", "自制炸弹"]);
    assert!(lib.entries()[1].variants.is_empty());
}

#[test]
fn jsonl_errors_name_line_and_field() {
    let m = err(
        "a.jsonl",
        b"{\"keyword\": \"x\", \"risk\": \"A.1a\"}\n{\"risk\": \"A.1a\"}\n",
    );
    assert!(
        m.contains("a.jsonl:2") && m.contains("`keyword`") && m.contains("missing"),
        "{m}"
    );
    let m = err("b.jsonl", b"{\"keyword\": \"  \", \"risk\": \"A.1a\"}\n");
    assert!(
        m.contains("b.jsonl:1") && m.contains("`keyword`") && m.contains("empty"),
        "{m}"
    );
    let m = err("c.jsonl", b"\n\n{\"keyword\": \"x\", \"risk\": \"A.1a\"\n");
    assert!(m.contains("c.jsonl:3") && m.contains("invalid JSON"), "{m}");
    let m = err(
        "d.jsonl",
        b"{\"keyword\": \"x\", \"risk\": \"A.1a\"}\n{\"keyword\": \"\xff\", \"risk\": \"A.1a\"}\n",
    );
    assert!(m.contains("d.jsonl:2") && m.contains("UTF-8"), "{m}");
    let m = err("e.jsonl", b"{\"keyword\": \"x\"}\n");
    assert!(m.contains("e.jsonl:1") && m.contains("`risk`"), "{m}");
    let m = err(
        "f.jsonl",
        b"{\"keyword\": \"x\", \"risk\": \"A.1a\", \"variants\": \"y\"}\n",
    );
    assert!(
        m.contains("f.jsonl:1") && m.contains("`variants`") && m.contains("list of strings"),
        "{m}"
    );
    let m = err("g.jsonl", b"{\"keyword\": \"...\", \"risk\": \"A.1a\"}\n");
    assert!(
        m.contains("g.jsonl:1") && m.contains("can never match"),
        "{m}"
    );
    let m = err("h.jsonl", b"[\"keyword\"]\n");
    assert!(m.contains("h.jsonl:1") && m.contains("object"), "{m}");
    let m = err("i.jsonl", b"{\"keyword\": 5, \"risk\": \"A.1a\"}\n");
    assert!(
        m.contains("i.jsonl:1") && m.contains("expected a string"),
        "{m}"
    );
    let m = err("empty.jsonl", b"\n\n");
    assert!(m.contains("no keywords"), "{m}");
}

#[test]
fn csv_errors_name_line_and_field() {
    let m = err("a.csv", "keyword,risk\n炸弹,A.1d\n,A.1d\n".as_bytes());
    assert!(
        m.contains("a.csv:3") && m.contains("`keyword`") && m.contains("empty"),
        "{m}"
    );
    let m = err("b.csv", b"word,risk\nx,A.1d\n");
    assert!(
        m.contains("b.csv:1") && m.contains("`keyword`") && m.contains("missing"),
        "{m}"
    );
    let m = err("c.csv", b"keyword,risk\nx,A.1d\ny,A.1d,extra\n");
    assert!(m.contains("c.csv:3") && m.contains("invalid CSV"), "{m}");
    let m = err("d.csv", b"keyword,risk\nx,A.1d\n\xff\xfe,A.1d\n");
    assert!(m.contains("d.csv:3") && m.contains("UTF-8"), "{m}");
    let m = err("e.csv", b"keyword,risk,variants\nx,A.1d,a||...\n");
    assert!(m.contains("e.csv:2") && m.contains("`variants`"), "{m}");
    // An empty part of a variant list is a mistake, as `""` is in JSONL; an empty cell is none.
    for (name, list) in [("f.csv", "a||b"), ("g.csv", "a|"), ("h.csv", "|a")] {
        let m = err(
            name,
            format!("keyword,risk,variants\nx,A.1d,{list}\n").as_bytes(),
        );
        assert!(
            m.contains(&format!("{name}:2")) && m.contains("a variant is empty"),
            "{m}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let ok = write(
        dir.path(),
        "ok.csv",
        b"keyword,risk,variants\nx,A.1d,\ny,A.1d, \n",
    );
    let lib = KeywordLibrary::from_path(&ok).unwrap();
    assert!(lib.entries().iter().all(|e| e.variants.is_empty()));
}

#[test]
fn unknown_extension_and_missing_file() {
    let m = err("k.txt", b"keyword,risk\n");
    assert!(m.contains(".jsonl") && m.contains(".csv"), "{m}");
    let e = KeywordLibrary::from_path(Path::new("/nonexistent/k.jsonl")).unwrap_err();
    assert!(
        matches!(e, KeywordError::Io { .. }) && e.to_string().contains("/nonexistent/k.jsonl"),
        "{e}"
    );
}

#[test]
fn builtin_libraries_parse() {
    assert_eq!(KeywordLibrary::builtin_names(), ["gbt45654-starter"]);
    for name in KeywordLibrary::builtin_names() {
        let text = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("libraries/{name}.jsonl")),
        )
        .unwrap();
        // Parse directly so that a broken file fails here with its location.
        let direct = KeywordLibrary::from_jsonl(&text, name).unwrap();
        assert_eq!(KeywordLibrary::builtin(name), Some(direct));
    }
    assert!(KeywordLibrary::builtin("nope").is_none());
}
