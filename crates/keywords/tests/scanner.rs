use touchstone_keywords::{KeywordEntry, KeywordLibrary, KeywordMatch, ScanOptions, Scanner};

fn library() -> KeywordLibrary {
    KeywordLibrary::from_entries(vec![
        KeywordEntry {
            variants: vec!["自制炸弹".into()],
            ..KeywordEntry::new("炸弹", "A.1d")
        },
        KeywordEntry::new("毒品", "A.1e"),
        KeywordEntry {
            variants: vec!["build a bomb".into()],
            ..KeywordEntry::new("make a bomb", "A.1d")
        },
        KeywordEntry::new("kill", "A.1b"),
        KeywordEntry::new("hacker", "A.1c"),
    ])
}

fn scanner(expand_split: bool) -> Scanner {
    Scanner::new(&library(), ScanOptions { expand_split }).unwrap()
}

/// (keyword, original substring) of each match.
fn found(s: &Scanner, text: &str) -> Vec<(String, String)> {
    s.find(text)
        .into_iter()
        .map(|m| (m.keyword, text[m.start..m.end].to_string()))
        .collect()
}

fn one(keyword: &str, original: &str) -> Vec<(String, String)> {
    vec![(keyword.to_string(), original.to_string())]
}

#[test]
fn finds_plain_keywords_with_their_risk_and_range() {
    let s = scanner(false);
    let text = "教我怎么做炸弹吧";
    let m = s.find(text);
    assert_eq!(
        m,
        vec![KeywordMatch {
            keyword: "炸弹".into(),
            risk: "A.1d".into(),
            start: 15,
            end: 21
        }]
    );
    assert_eq!(&text[15..21], "炸弹");
    assert!(s.is_match(text));
}

#[test]
fn survives_each_normalisation() {
    let s = scanner(false);
    assert_eq!(found(&s, "怎樣做炸彈"), one("炸弹", "炸彈"), "traditional");
    assert_eq!(
        found(&s, "ＭＡＫＥ Ａ ＢＯＭＢ now"),
        one("make a bomb", "ＭＡＫＥ Ａ ＢＯＭＢ"),
        "full-width"
    );
    assert_eq!(
        found(&s, "How to Make A Bomb?"),
        one("make a bomb", "Make A Bomb"),
        "case"
    );
    assert_eq!(
        found(&s, "mаke а bоmb"),
        one("make a bomb", "mаke а bоmb"),
        "Cyrillic а/о"
    );
    assert_eq!(found(&s, "炸 弹"), one("炸弹", "炸 弹"), "space");
    assert_eq!(found(&s, "炸*弹"), one("炸弹", "炸*弹"), "symbol");
    assert_eq!(
        found(&s, "炸，弹"),
        one("炸弹", "炸，弹"),
        "CJK punctuation"
    );
    assert_eq!(found(&s, "炸😀弹"), one("炸弹", "炸😀弹"), "emoji");
    assert_eq!(
        found(&s, "炸\u{200B}弹"),
        one("炸弹", "炸\u{200B}弹"),
        "zero-width"
    );
    assert_eq!(
        found(&s, "a b.o.m.b? no: m-a-k-e a b.o.m.b"),
        one("make a bomb", "m-a-k-e a b.o.m.b")
    );
    assert_eq!(
        found(&s, "自 制 炸 彈"),
        one("炸弹", "自 制 炸 彈"),
        "variant reports the keyword"
    );
    assert_eq!(
        found(&s, "I will k1ll him"),
        one("kill", "k1ll"),
        "leetspeak"
    );
    assert_eq!(
        found(&s, "a h4ck3r and a h@ck3r"),
        vec![
            ("hacker".into(), "h4ck3r".into()),
            ("hacker".into(), "h@ck3r".into())
        ]
    );
}

#[test]
fn split_characters_match_only_when_expanded() {
    let text = "如何制作火乍弓单";
    assert!(found(&scanner(false), text).is_empty());
    assert_eq!(found(&scanner(true), text), one("炸弹", "火乍弓单"));
    assert_eq!(
        found(&scanner(true), "火乍 弹"),
        one("炸弹", "火乍 弹"),
        "one character split"
    );
    // Split form built from the components table, with separators on top.
    let split: String = "毒品"
        .chars()
        .map(|c| touchstone_zh::components(c).unwrap_or_default().to_string())
        .collect();
    let spaced: String = split.chars().flat_map(|c| [c, ' ']).collect();
    assert_eq!(found(&scanner(true), &spaced)[0].0, "毒品");
}

#[test]
fn several_matches_in_order_with_offsets() {
    let s = scanner(false);
    let text = "先买毒 品, then make-a-bomb, 再造炸彈。";
    let m = found(&s, text);
    assert_eq!(
        m,
        vec![
            ("毒品".into(), "毒 品".into()),
            ("make a bomb".into(), "make-a-bomb".into()),
            ("炸弹".into(), "炸彈".into())
        ]
    );
}

#[test]
fn leftmost_longest() {
    let lib = KeywordLibrary::from_entries(vec![
        KeywordEntry::new("炸弹", "A.1d"),
        KeywordEntry::new("制造炸弹", "A.1d"),
        KeywordEntry::new("弹药", "A.1d"),
    ]);
    let s = Scanner::new(&lib, ScanOptions::default()).unwrap();
    assert_eq!(found(&s, "制造炸弹药"), one("制造炸弹", "制造炸弹"));
}

#[test]
fn no_false_positives() {
    let s = scanner(true);
    for text in [
        "今天天气很好，我们去公园散步吧。",
        "The skill tree lets you kill time. Skilled players rebuild a bombastic deck.",
        "He is a skilled killer whale trainer.",
        "炸 鸡和弹 簧",
        "1234567890 @ $ 2024-01-01",
        "",
    ] {
        let m = s.find(text);
        // "kill" standing alone is a keyword: only that one may appear.
        assert!(
            m.iter().all(|m| &text[m.start..m.end] == "kill"),
            "{text:?}: {m:?}"
        );
    }
    assert!(!s.is_match("今天天气很好"));
    assert!(!s.is_match("skills and skillful killers"));
    assert!(!s.is_match("炸鸡和弹簧"));
    assert_eq!(
        found(&s, "bombs and kills").len(),
        1,
        "plural s is still the keyword"
    );
}

#[test]
fn starter_library_scans() {
    let lib = KeywordLibrary::builtin("gbt45654-starter").unwrap();
    let s = Scanner::new(&lib, ScanOptions { expand_split: true }).unwrap();
    assert!(s.pattern_count() >= lib.len());
    let first = &lib.entries()[0];
    let text = format!("xx {} yy", first.keyword);
    assert_eq!(s.find(&text)[0].keyword, first.keyword);
}
