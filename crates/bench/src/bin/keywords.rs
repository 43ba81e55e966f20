//! bench/keywords: keyword scanning throughput on one core.
//!
//! Builds a deterministic 10,000-keyword library (half Chinese, half English, a third with a
//! variant), generates ~64 MB of mixed Chinese/English text in 4 KiB documents with some
//! (partly obfuscated) keywords planted, and prints a table: library size, patterns after
//! expansion, build time, and MB/s for normalise + find, `is_match`, and find with 拆字
//! expansion.
//!
//! Usage: keywords [--quick]   (--quick: 8 MB of text instead of 64 MB)

use std::hint::black_box;
use std::time::{Duration, Instant};

use touchstone_keywords::{
    KeywordEntry, KeywordLibrary, Normalized, ScanOptions, Scanner, normalize_into,
};

const KEYWORDS: usize = 10_000;
const DOC_BYTES: usize = 4096;

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Common-looking Chinese characters: the first 3,500 code points of the unified block.
fn han(rng: &mut Rng) -> char {
    char::from_u32(0x4E00 + rng.below(3500) as u32).unwrap_or('中')
}

/// The English of the documents: ordinary words, so that keywords (made of `SYLLABLES`) occur
/// where they are planted, and by chance only as often as real text would make them.
const WORDS: &[&str] = &[
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "you",
    "that",
    "it",
    "he",
    "was",
    "for",
    "on",
    "are",
    "as",
    "with",
    "his",
    "they",
    "at",
    "be",
    "this",
    "have",
    "from",
    "or",
    "one",
    "had",
    "by",
    "word",
    "but",
    "not",
    "what",
    "all",
    "were",
    "we",
    "when",
    "your",
    "can",
    "said",
    "there",
    "use",
    "an",
    "each",
    "which",
    "she",
    "do",
    "how",
    "their",
    "if",
    "will",
    "up",
    "other",
    "about",
    "out",
    "many",
    "then",
    "them",
    "these",
    "so",
    "some",
    "her",
    "would",
    "make",
    "like",
    "him",
    "into",
    "time",
    "has",
    "look",
    "two",
    "more",
    "write",
    "go",
    "see",
    "number",
    "no",
    "way",
    "could",
    "people",
    "my",
    "than",
    "first",
    "water",
    "been",
    "call",
    "who",
    "oil",
    "its",
    "now",
    "find",
    "long",
    "down",
    "day",
    "did",
    "get",
    "come",
    "made",
    "may",
    "part",
    "model",
    "answer",
    "question",
    "safety",
    "data",
    "system",
    "result",
    "because",
    "should",
    "here",
    "example",
    "please",
    "help",
    "information",
    "also",
    "however",
    "important",
    "consider",
];

const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ter", "son", "bra", "vex", "qui", "dor", "pha", "zen", "rul", "tox", "gri",
    "pol", "nim",
];

fn word(rng: &mut Rng, syllables: usize) -> String {
    (0..syllables)
        .map(|_| SYLLABLES[rng.below(SYLLABLES.len())])
        .collect()
}

fn library(rng: &mut Rng) -> KeywordLibrary {
    let mut entries = Vec::with_capacity(KEYWORDS);
    for i in 0..KEYWORDS {
        let risk = format!("A.{}{}", 1 + i % 5, (b'a' + (i % 8) as u8) as char);
        let keyword = if i % 2 == 0 {
            (0..2 + rng.below(3)).map(|_| han(rng)).collect()
        } else {
            // Two or three "words" of 2–3 syllables: long enough not to be everywhere.
            (0..2 + rng.below(2))
                .map(|_| {
                    let n = 2 + rng.below(2);
                    word(rng, n)
                })
                .collect::<Vec<_>>()
                .join(" ")
        };
        let mut e = KeywordEntry::new(keyword.clone(), risk);
        if i % 3 == 0 {
            let variant = if i % 2 == 0 {
                format!("{keyword}{}", han(rng))
            } else {
                format!("{keyword} {}", word(rng, 2))
            };
            e.variants.push(variant);
        }
        entries.push(e);
    }
    KeywordLibrary::from_entries(entries)
}

/// ~`total` bytes of documents: Chinese runs, English words, punctuation, and now and then a
/// keyword, obfuscated one time in two (spaces between characters, upper case, traditional).
fn corpus(rng: &mut Rng, lib: &KeywordLibrary, total: usize) -> (Vec<String>, usize) {
    let mut docs = Vec::new();
    let mut planted = 0;
    let mut size = 0;
    while size < total {
        let mut doc = String::with_capacity(DOC_BYTES + 64);
        while doc.len() < DOC_BYTES {
            match rng.below(100) {
                // About one planted keyword per four documents: most scanned text is clean.
                0 if rng.below(30) == 0 => {
                    let e = &lib.entries()[rng.below(lib.len())];
                    planted += 1;
                    if rng.below(2) == 0 {
                        doc.push_str(&e.keyword);
                    } else {
                        let spaced: Vec<String> = e
                            .keyword
                            .chars()
                            .map(|c| c.to_uppercase().collect())
                            .collect();
                        doc.push_str(&spaced.join(" "));
                    }
                    doc.push(' ');
                }
                0..=54 => {
                    for _ in 0..4 + rng.below(20) {
                        doc.push(han(rng));
                    }
                    doc.push(['，', '。', '、', '！'][rng.below(4)]);
                }
                _ => {
                    for _ in 0..3 + rng.below(10) {
                        doc.push_str(WORDS[rng.below(WORDS.len())]);
                        doc.push(' ');
                    }
                    doc.push_str([". ", ", ", "? ", "\n"][rng.below(4)]);
                }
            }
        }
        size += doc.len();
        docs.push(doc);
    }
    (docs, planted)
}

fn mb_per_s(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / 1e6 / d.as_secs_f64()
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let v = f();
    (v, t.elapsed())
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let total = if quick { 8 << 20 } else { 64 << 20 };
    let mut rng = Rng(0x5EED_0F70_0C45_u64);
    let lib = library(&mut rng);
    let (docs, planted) = corpus(&mut rng, &lib, total);
    let bytes: usize = docs.iter().map(String::len).sum();

    let (plain, build_plain) = timed(|| Scanner::new(&lib, ScanOptions::default()));
    let (split, build_split) = timed(|| Scanner::new(&lib, ScanOptions { expand_split: true }));
    let (plain, split) = match (plain, split) {
        (Ok(p), Ok(s)) => (p, s),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("keywords: {e}");
            std::process::exit(1);
        }
    };

    let mut buf = Normalized::default();
    let (_, t_norm) = timed(|| {
        for d in &docs {
            normalize_into(d, &mut buf);
            black_box(&buf);
        }
    });
    let (found, t_find) = timed(|| docs.iter().map(|d| plain.find(d).len()).sum::<usize>());
    let (hits, t_is) = timed(|| docs.iter().filter(|d| plain.is_match(d)).count());
    let (found_split, t_split) = timed(|| docs.iter().map(|d| split.find(d).len()).sum::<usize>());

    println!(
        "keyword scan, one core: {} documents, {:.1} MB of text, {planted} keywords planted",
        docs.len(),
        bytes as f64 / 1e6
    );
    println!();
    println!("| library | keywords | patterns | build ms | automaton | memory MB |");
    println!("|---|---:|---:|---:|---|---:|");
    for (name, s, t) in [
        ("plain (variants + leetspeak)", &plain, build_plain),
        ("expand_split (+ 拆字)", &split, build_split),
    ] {
        println!(
            "| {name} | {} | {} | {:.0} | {} | {:.1} |",
            lib.len(),
            s.pattern_count(),
            t.as_secs_f64() * 1e3,
            s.automaton_kind(),
            s.memory_usage() as f64 / 1e6
        );
    }
    println!();
    println!("| pass | MB/s | result |");
    println!("|---|---:|---|");
    println!("| normalise only | {:.0} | |", mb_per_s(bytes, t_norm));
    println!(
        "| (a) normalise + find | {:.0} | {found} matches |",
        mb_per_s(bytes, t_find)
    );
    println!(
        "| (b) is_match | {:.0} | {hits} of {} documents match |",
        mb_per_s(bytes, t_is),
        docs.len()
    );
    println!(
        "| (c) find, expand_split | {:.0} | {found_split} matches |",
        mb_per_s(bytes, t_split)
    );
    println!();
    let target = 100.0;
    let got = mb_per_s(bytes, t_find);
    println!(
        "target: normalise + find ≥ {target:.0} MB/s: {}",
        if got >= target { "met" } else { "MISSED" }
    );
}
