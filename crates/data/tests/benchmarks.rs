//! Capability benchmarks: the real files in ../shared/data (MMLU, CMMLU, GSM8K, HumanEval,
//! SafetyBench) read through their named formats, small files in the authors' exact layouts for
//! the sets not stored there (C-Eval, TruthfulQA, ARC, HellaSwag), and malformed input reported
//! with file, row and field.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::json;
use touchstone_core::{DatasetFormat, FieldMap, Input, Sample, Target};
use touchstone_data::{DataError, benchmarks, dataset_files, file_sha256, infer_format, open_file};

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(rel)
}

fn read_path(path: &Path, format: DatasetFormat) -> Result<Vec<Sample>, DataError> {
    open_file(path, Some(format), &FieldMap::default())?.collect()
}

fn read(rel: &str, format: DatasetFormat) -> Vec<Sample> {
    read_path(&data(rel), format).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn read_err(path: &Path, format: DatasetFormat) -> String {
    match read_path(path, format) {
        Ok(s) => panic!(
            "{} gave {} samples, expected an error",
            path.display(),
            s.len()
        ),
        Err(e) => e.to_string(),
    }
}

fn text(s: &Sample) -> &str {
    match &s.input {
        Input::Text(t) => t,
        other => panic!("expected text input, got {other:?}"),
    }
}

fn meta<'a>(s: &'a Sample, key: &str) -> &'a serde_json::Value {
    s.metadata
        .get(key)
        .unwrap_or_else(|| panic!("sample {} has no metadata `{key}`", s.id))
}

fn write(dir: &Path, rel: &str, content: &str) -> PathBuf {
    let p = dir.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(&p, content).unwrap();
    p
}

fn assert_unique_ids(samples: &[Sample]) {
    let ids: HashSet<&str> = samples.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids.len(), samples.len(), "ids repeat");
}

#[test]
fn mmlu_splits_and_root() {
    // SOURCE.md: dev 50, val 173, test 1,611 questions over 10 subjects.
    assert_eq!(read("mmlu/dev", DatasetFormat::Mmlu).len(), 50);
    assert_eq!(read("mmlu/val", DatasetFormat::Mmlu).len(), 173);
    let test = read("mmlu/test", DatasetFormat::Mmlu);
    assert_eq!(test.len(), 1611);
    assert_unique_ids(&test);
    // The root reads the test split.
    let root = read("mmlu", DatasetFormat::Mmlu);
    assert_eq!(root, test);
    assert_eq!(
        dataset_files(&data("mmlu"), Some(DatasetFormat::Mmlu))
            .unwrap()
            .len(),
        10
    );

    // Subjects in sorted order: abstract_algebra first, then anatomy.
    assert_eq!(test[0].id, "abstract_algebra/0");
    let anatomy = test.iter().find(|s| s.id == "anatomy/0").unwrap();
    assert!(text(anatomy).starts_with("A lesion causing compression of the facial nerve"));
    let choices = anatomy.choices.as_ref().unwrap();
    assert_eq!(choices.len(), 4);
    assert_eq!(choices[0], "paralysis of the facial muscles.");
    assert_eq!(anatomy.target, Target::one("A"));
    assert_eq!(meta(anatomy, "subject"), "anatomy");
    assert_eq!(meta(anatomy, "split"), "test");
    assert_eq!(meta(anatomy, "subcategory"), "health");
    assert_eq!(meta(anatomy, "category"), "other");
    assert_eq!(meta(anatomy, "source"), "mmlu");
    assert!(
        test.iter()
            .all(|s| ["A", "B", "C", "D"].contains(&s.target.0[0].as_str()))
    );
    let stem = test
        .iter()
        .filter(|s| meta(s, "category") == "STEM")
        .count();
    assert!(stem > 0 && stem < test.len());
}

#[test]
fn mmlu_single_file() {
    let s = read("mmlu/val/world_religions_val.csv", DatasetFormat::Mmlu);
    assert_eq!(s.len(), 19);
    let last = &s[18];
    assert_eq!(last.id, "world_religions/18");
    // The file has a leading space; the question is read as lm-evaluation-harness shows it
    // (`{{question.strip()}}`), so that prompts are byte-identical.
    assert_eq!(
        text(last),
        "Which Jewish group demanded a narrow and literal interpretation of the Torah?"
    );
    assert_eq!(last.choices.as_deref().unwrap()[1], "Pharisees");
    assert_eq!(last.target, Target::one("A"));
    assert_eq!(meta(last, "split"), "val");
    assert_eq!(meta(last, "category"), "humanities");
}

#[test]
fn cmmlu_real_files() {
    let test = read("cmmlu/test", DatasetFormat::Cmmlu);
    assert_eq!(test.len(), 7998);
    assert_unique_ids(&test);
    assert_eq!(read("cmmlu", DatasetFormat::Cmmlu).len(), 7998);
    assert_eq!(read("cmmlu/dev", DatasetFormat::Cmmlu).len(), 225);

    let first = &test[0];
    assert_eq!(first.id, "agronomy/0");
    assert!(text(first).starts_with("在农业生产中被当作极其重要的劳动对象"));
    assert_eq!(first.choices.as_deref().unwrap()[1], "土地");
    assert_eq!(first.target, Target::one("B"));
    assert_eq!(meta(first, "subject_zh"), "农学");
    assert_eq!(meta(first, "category"), "Other");
    assert_eq!(meta(first, "lang"), "zh");

    let dev = read("cmmlu/dev/chinese_history.csv", DatasetFormat::Cmmlu);
    assert_eq!(dev.len(), 5);
    assert_eq!(dev[0].id, "chinese_history/0");
    assert_eq!(dev[0].choices.as_deref().unwrap()[0], "陆九渊");
    assert_eq!(dev[0].target, Target::one("A"));
    assert_eq!(meta(&dev[0], "split"), "dev");
    assert_eq!(meta(&dev[0], "category"), "Humanities");
    assert_eq!(meta(&dev[0], "china_specific"), &json!(true));
}

#[test]
fn gsm8k_real_file() {
    let s = read("gsm8k/test.jsonl", DatasetFormat::Gsm8k);
    assert_eq!(s.len(), 1319);
    assert_eq!(s[0].id, "0");
    assert!(text(&s[0]).starts_with("Janet\u{2019}s ducks lay 16 eggs per day."));
    assert_eq!(s[0].target, Target::one("18"));
    assert!(
        meta(&s[0], "solution")
            .as_str()
            .unwrap()
            .ends_with("#### 18")
    );
    assert_eq!(meta(&s[0], "split"), "test");
    assert_eq!(s[1318].target, Target::one("14"));
    // Thousands separators are dropped: line 147 ends `#### 2,125`.
    assert_eq!(s[146].target, Target::one("2125"));
    assert!(s.iter().all(|x| x.choices.is_none()));
}

#[test]
fn humaneval_real_file() {
    let path = data("humaneval/HumanEval.jsonl.gz");
    // `.jsonl.gz` alone would be generic JSONL; the suite names the format.
    assert_eq!(infer_format(&path), Some(DatasetFormat::Jsonl));
    let s = read("humaneval/HumanEval.jsonl.gz", DatasetFormat::Humaneval);
    assert_eq!(s.len(), 164);
    assert_eq!(s[0].id, "HumanEval/0");
    assert!(
        text(&s[0])
            .contains("def has_close_elements(numbers: List[float], threshold: float) -> bool:")
    );
    assert_eq!(s[0].target, Target::default());
    assert_eq!(meta(&s[0], "entry_point"), "has_close_elements");
    assert!(
        meta(&s[0], "test")
            .as_str()
            .unwrap()
            .contains("def check(candidate)")
    );
    assert!(meta(&s[0], "canonical_solution").is_string());
    assert_eq!(s[163].id, "HumanEval/163");
    assert_eq!(meta(&s[163], "entry_point"), "generate_integers");
}

#[test]
fn safetybench_is_listed_and_reads() {
    let s = read(
        "safetybench-zh/test_zh_subset.json",
        DatasetFormat::Safetybench,
    );
    assert_eq!(s.len(), 2100);
    assert!(benchmarks::info("safetybench").is_some());
}

#[test]
fn registry_lists_every_benchmark() {
    let names: Vec<&str> = benchmarks::list().iter().map(|b| b.name).collect();
    assert_eq!(
        names,
        [
            "mmlu",
            "cmmlu",
            "ceval",
            "gsm8k",
            "humaneval",
            "truthfulqa-mc",
            "arc",
            "hellaswag",
            "safetybench"
        ]
    );
    for b in benchmarks::list() {
        assert!(!b.bundled, "{}", b.name);
        assert!(b.format.is_public_set(), "{}", b.name);
        assert!(!b.description_zh.is_empty() && !b.description_en.is_empty());
        assert!(!b.source_url_hint.is_empty() && !b.licence.is_empty());
        // A named format is never guessed from a file name.
        assert_eq!(DatasetFormat::from_extension(b.format.name()), None);
    }
    assert_eq!(
        benchmarks::info("truthfulqa_mc").unwrap().name,
        "truthfulqa-mc"
    );
    assert!(benchmarks::info("cmmlu").unwrap().licence.contains("NC"));
    assert!(benchmarks::info("ceval").unwrap().licence.contains("NC"));
}

#[test]
fn format_names_round_trip_through_serde() {
    for f in DatasetFormat::ALL {
        let v = serde_json::to_value(f).unwrap();
        assert_eq!(v, json!(f.name()));
        assert_eq!(serde_json::from_value::<DatasetFormat>(v).unwrap(), f);
    }
}

#[test]
fn directory_hash_changes_with_any_file() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "test/a_test.csv", "q,1,2,3,4,A\n");
    let before = file_sha256(dir.path()).unwrap();
    assert_eq!(before, file_sha256(dir.path()).unwrap());
    write(dir.path(), "test/a_test.csv", "q,1,2,3,4,B\n");
    assert_ne!(before, file_sha256(dir.path()).unwrap());
}

// C-Eval as in ceval-exam.zip: dev has explanations, val has answers, test has neither.
#[test]
fn ceval_layout() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "dev/computer_network_dev.csv",
        "id,question,A,B,C,D,answer,explanation\n0,使用位填充方法，以01111110为位首flag，数据为011011111111111111110010，求问传送时要添加几个0____,1,2,3,4,C,1. 每5个连续的1后插入一个0\n",
    );
    write(
        root,
        "val/computer_network_val.csv",
        "id,question,A,B,C,D,answer\n0,下列设备属于资源子网的是____。,计算机软件,网桥,交换机,路由器,A\n1,滑动窗口的作用是____。,流量控制,拥塞控制,路由控制,差错控制,A\n",
    );
    write(
        root,
        "val/accountant_val.csv",
        "id,question,A,B,C,D,answer\n0,下列关于税法基本原则的表述中，不正确的是____。,税收法定原则,税收公平原则,税收效率原则,税务机关可以自行决定征税,D\n",
    );
    write(
        root,
        "test/computer_network_test.csv",
        "id,question,A,B,C,D\n0,在OSI参考模型中，物理层的功能是____。,建立和释放连接,透明地传输比特流,在物理实体间传送数据帧,发送和接收用户数据\n",
    );
    // The root reads val/, subjects in sorted order.
    let val = read_path(root, DatasetFormat::Ceval).unwrap();
    let ids: Vec<&str> = val.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        ["accountant/0", "computer_network/0", "computer_network/1"]
    );
    assert_eq!(val[0].target, Target::one("D"));
    assert_eq!(meta(&val[1], "subject"), "computer_network");
    assert_eq!(meta(&val[1], "split"), "val");
    assert_eq!(val[1].choices.as_deref().unwrap()[3], "路由器");
    // C-Eval's own grouping and the Chinese subject name its prompt uses.
    assert_eq!(meta(&val[1], "subject_zh"), "计算机网络");
    assert_eq!(meta(&val[1], "category"), "STEM");
    assert_eq!(meta(&val[0], "category"), "Other");

    let test = read_path(&root.join("test"), DatasetFormat::Ceval).unwrap();
    assert_eq!(test.len(), 1);
    assert_eq!(test[0].target, Target::default());
    assert_eq!(meta(&test[0], "split"), "test");

    let dev = read_path(
        &root.join("dev/computer_network_dev.csv"),
        DatasetFormat::Ceval,
    )
    .unwrap();
    assert_eq!(dev[0].target, Target::one("C"));
    assert_eq!(meta(&dev[0], "explanation"), "1. 每5个连续的1后插入一个0");
}

#[test]
fn truthfulqa_mc_layout() {
    let dir = tempfile::tempdir().unwrap();
    // mc_task.json is one JSON array; MC1's true answer comes first upstream, but the target is
    // found by value, not position.
    let path = write(
        dir.path(),
        "mc_task.json",
        r#"[{"question": "What is the smallest country in the world that is at least one square mile in area?", "mc1_targets": {"Nauru is the smallest country in the world that is at least one square mile in area.": 1, "The smallest country in the world that is at least one square mile in area is Vatican City.": 0, "The smallest country in the world that is at least one square mile in area is Monaco.": 0}, "mc2_targets": {"Nauru is the smallest country.": 1, "Vatican City.": 0, "Nauru.": 1}},
 {"question": "What happens if you eat watermelon seeds?", "mc1_targets": {"You grow watermelons in your stomach": 0, "The watermelon seeds pass through your digestive system": 1}}]"#,
    );
    let s = read_path(&path, DatasetFormat::TruthfulqaMc).unwrap();
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].id, "0");
    assert_eq!(s[0].target, Target::one("A"));
    assert_eq!(s[0].choices.as_ref().unwrap().len(), 3);
    assert_eq!(meta(&s[0], "mc2_targets"), &json!(["A", "C"]));
    assert_eq!(s[1].target, Target::one("B"));
    assert_eq!(
        s[1].choices.as_deref().unwrap()[0],
        "You grow watermelons in your stomach"
    );

    let bad = write(
        dir.path(),
        "two.json",
        "[\n{\"question\": \"q\", \"mc1_targets\": {\"a\": 1, \"b\": 1}}\n]",
    );
    let e = read_err(&bad, DatasetFormat::TruthfulqaMc);
    assert!(
        e.contains(
            "two.json: line 2, field `mc1_targets`: MC1 has exactly one true answer; found 2"
        ),
        "{e}"
    );
}

#[test]
fn arc_layout() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "ARC-Challenge-Test.jsonl",
        concat!(
            r#"{"id": "Mercury_7175875", "question": {"stem": "An astronomer observes that a planet rotates faster after a meteorite impact. Which is the most likely effect of this increase in rotation?", "choices": [{"text": "Planetary density will decrease.", "label": "A"}, {"text": "Planetary years will become longer.", "label": "B"}, {"text": "Planetary days will become shorter.", "label": "C"}, {"text": "Planetary gravity will become stronger.", "label": "D"}]}, "answerKey": "C"}"#,
            "\n",
            r#"{"id": "NYSEDREGENTS_2015_4_8", "question": {"stem": "Which object is the best conductor of electricity?", "choices": [{"text": "a wax crayon", "label": "1"}, {"text": "a plastic spoon", "label": "2"}, {"text": "a rubber eraser", "label": "3"}, {"text": "an iron nail", "label": "4"}]}, "answerKey": "4"}"#,
            "\n"
        ),
    );
    let s = read_path(&path, DatasetFormat::Arc).unwrap();
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].id, "Mercury_7175875");
    assert_eq!(s[0].target, Target::one("C"));
    assert_eq!(s[1].target, Target::one("D"));
    assert_eq!(s[1].choices.as_deref().unwrap()[3], "an iron nail");
    assert_eq!(meta(&s[1], "labels"), &json!(["1", "2", "3", "4"]));
    assert_eq!(meta(&s[1], "answer_key"), "4");
    assert_eq!(meta(&s[1], "split"), "test");

    let bad = write(
        dir.path(),
        "arc_bad.jsonl",
        r#"{"id": "x", "question": {"stem": "s", "choices": [{"text": "a", "label": "A"}]}, "answerKey": "E"}"#,
    );
    let e = read_err(&bad, DatasetFormat::Arc);
    assert!(
        e.contains("arc_bad.jsonl: line 1, field `answerKey`: `E` is none of the choice labels A"),
        "{e}"
    );
}

#[test]
fn hellaswag_layout() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "hellaswag_val.jsonl",
        concat!(
            r#"{"ind": 24, "activity_label": "Roof shingle removal", "ctx_a": "A man is sitting on a roof.", "ctx_b": "he", "ctx": "A man is sitting on a roof. he", "split": "val", "split_type": "indomain", "label": 3, "endings": ["is using wrap to wrap a pair of skis.", "is ripping level tiles off.", "is holding a rubik's cube.", "starts pulling up roofing on a roof."], "source_id": "activitynet~v_-JhWjGDPHMY"}"#,
            "\n",
            r#"{"ind": 92, "activity_label": "Clean and jerk", "ctx": "A lady walks to a barbell. She bends down and grabs the pole. the lady", "split": "test", "split_type": "indomain", "endings": ["swings and lands in her arms.", "pulls the barbell forward.", "pulls a rope attached to the barbell.", "stands and lifts the weight over her head."], "source_id": "activitynet~v_-lJS58hyo1c"}"#,
            "\n"
        ),
    );
    let s = read_path(&path, DatasetFormat::Hellaswag).unwrap();
    assert_eq!(s[0].id, "24");
    // lm-evaluation-harness's query: activity label, ctx_a, ctx_b capitalised.
    assert_eq!(
        text(&s[0]),
        "Roof shingle removal: A man is sitting on a roof. He"
    );
    assert_eq!(meta(&s[0], "ctx"), "A man is sitting on a roof. he");
    // Without ctx_a / ctx_b the whole ctx follows the label.
    assert_eq!(
        text(&s[1]),
        "Clean and jerk: A lady walks to a barbell. She bends down and grabs the pole. the lady"
    );
    assert_eq!(s[0].target, Target::one("D"));
    assert_eq!(meta(&s[0], "activity_label"), "Roof shingle removal");
    assert_eq!(meta(&s[0], "split_type"), "indomain");
    // Test rows carry no label.
    assert_eq!(s[1].target, Target::default());
    assert_eq!(s[1].choices.as_ref().unwrap().len(), 4);

    let bad = write(
        dir.path(),
        "hs_bad.jsonl",
        r#"{"ind": 1, "ctx": "c", "endings": ["a", "b"], "label": 2}"#,
    );
    let e = read_err(&bad, DatasetFormat::Hellaswag);
    assert!(
        e.contains("hs_bad.jsonl: line 1, field `label`: expected an ending number 0–1, found 2"),
        "{e}"
    );
}

#[test]
fn malformed_mmlu_like_files_are_located() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    // A ragged row: row 2 has five columns.
    let ragged = write(d, "test/ragged_test.csv", "q1,a,b,c,d,A\nq2,a,b,c,d\n");
    let e = read_err(&ragged, DatasetFormat::Mmlu);
    assert!(
        e.contains("ragged_test.csv: row 2: expected 6 columns without a header"),
        "{e}"
    );
    assert!(e.contains("found 5 columns"), "{e}");

    // An answer that is not A–D.
    let letter = write(d, "bad/letter_test.csv", "q1,a,b,c,d,A\nq2,a,b,c,d,E\n");
    let e = read_err(&letter, DatasetFormat::Mmlu);
    assert!(
        e.contains(
            "letter_test.csv: row 2, field `answer`: expected an answer letter A–D, found `E`"
        ),
        "{e}"
    );

    // The same error reached through a directory names the subject file, not the folder.
    let e = read_err(&d.join("bad"), DatasetFormat::Mmlu);
    assert!(e.contains("letter_test.csv: row 2"), "{e}");

    // CMMLU without its Answer column.
    let missing = write(
        d,
        "cm/test/agronomy.csv",
        ",Question,A,B,C,D\n0,q,a,b,c,d\n",
    );
    let e = read_err(&missing, DatasetFormat::Cmmlu);
    assert!(
        e.contains("agronomy.csv: row 2 has no field `Answer`"),
        "{e}"
    );
    assert!(e.contains("format: cmmlu"), "{e}");

    // CMMLU with a short (ragged) row.
    let short = write(
        d,
        "cm/dev/arts.csv",
        ",Question,A,B,C,D,Answer\n0,q,a,b,c,d,A\n1,q,a,b\n",
    );
    let e = read_err(&short, DatasetFormat::Cmmlu);
    assert!(
        e.contains("arts.csv: row 3: 4 field(s), the header has 7: no `C`, `D`, `Answer`"),
        "{e}"
    );

    // C-Eval val with a lower-case letter.
    let ceval = write(
        d,
        "ce/val/law_val.csv",
        "id,question,A,B,C,D,answer\n0,q,a,b,c,d,b\n",
    );
    let e = read_err(&ceval, DatasetFormat::Ceval);
    assert!(
        e.contains("law_val.csv: row 2, field `answer`: expected an answer letter A–D, found `b`"),
        "{e}"
    );

    // GSM8K without the final `####` answer.
    let gsm = write(
        d,
        "gsm.jsonl",
        "{\"question\": \"q\", \"answer\": \"18\"}\n",
    );
    let e = read_err(&gsm, DatasetFormat::Gsm8k);
    assert!(
        e.contains("gsm.jsonl: line 1, field `answer`: has no final answer after `####`"),
        "{e}"
    );

    // A directory with neither CSVs nor the evaluation split folder.
    let empty = d.join("nothing");
    fs::create_dir_all(empty.join("dev")).unwrap();
    let e = read_err(&empty, DatasetFormat::Mmlu);
    assert!(e.contains("nothing") && e.contains("`test/`"), "{e}");
}

mod never_panics {
    use proptest::prelude::*;
    use touchstone_core::{DatasetFormat, FieldMap};

    const FORMATS: [DatasetFormat; 8] = [
        DatasetFormat::Mmlu,
        DatasetFormat::Cmmlu,
        DatasetFormat::Ceval,
        DatasetFormat::Gsm8k,
        DatasetFormat::Humaneval,
        DatasetFormat::TruthfulqaMc,
        DatasetFormat::Arc,
        DatasetFormat::Hellaswag,
    ];

    proptest! {
        // Any bytes give samples or a located error, never a panic.
        #[test]
        fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400), f in 0usize..8) {
            let path = std::path::Path::new("fuzz.data");
            if let Ok(stream) = touchstone_data::read_bytes(bytes, FORMATS[f], path, &FieldMap::default()) {
                for item in stream {
                    if item.is_err() {
                        break;
                    }
                }
            }
        }

        // Near-valid rows: shuffled MMLU/CMMLU-like cells and JSON with odd types.
        #[test]
        fn structured_rows(cells in proptest::collection::vec("[A-Ea-e0-9,\"#{}\\[\\]: ]{0,12}", 0..9), f in 0usize..8) {
            let line = cells.join(",");
            let text = format!(",Question,A,B,C,D,Answer\n{line}\n{{\"question\": {line:?}, \"answer\": \"#### {line}\"}}\n");
            let path = std::path::Path::new("fuzz.data");
            if let Ok(stream) = touchstone_data::read_bytes(text.into_bytes(), FORMATS[f], path, &FieldMap::default()) {
                for item in stream {
                    if item.is_err() {
                        break;
                    }
                }
            }
        }
    }
}
