//! The scanner: one Aho-Corasick automaton over the normalised forms of every keyword, variant
//! and generated obfuscation (leetspeak, optionally 拆字), run over normalised text.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, Input, MatchKind};

use crate::normalize::{Normalized, is_word_char, normalize, normalize_into, normalize_text_into};
use crate::{KeywordError, KeywordLibrary};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanOptions {
    /// Also match Chinese keywords written as their characters' parts (拆字: `炸弹` as
    /// `火乍弓单`), using `touchstone_zh::components`.
    pub expand_split: bool,
}

/// A keyword found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeywordMatch {
    /// The library's canonical keyword (also when a variant or obfuscation matched).
    pub keyword: String,
    pub risk: String,
    /// Byte range of the match in the original (not normalised) text.
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, Copy)]
struct Pattern {
    entry: u32,
    /// The pattern begins / ends with a Latin letter or digit: then the original text must not
    /// continue the word there, so `kill` does not match inside `skill`.
    word_start: bool,
    word_end: bool,
}

/// Searches text for a library's keywords; build once, share freely (`Send + Sync`).
#[derive(Debug, Clone)]
pub struct Scanner {
    automaton: AhoCorasick,
    patterns: Vec<Pattern>,
    /// (keyword, risk) per library entry.
    entries: Vec<(String, String)>,
}

/// Leetspeak substitutions: letter → its replacements, most common first.
const LEET: &[(u8, &[u8])] = &[
    (b'a', b"4@"),
    (b'e', b"3"),
    (b'i', b"1"),
    (b'o', b"0"),
    (b's', b"5$"),
    (b't', b"7"),
];

impl Scanner {
    pub fn new(library: &KeywordLibrary, options: ScanOptions) -> Result<Scanner, KeywordError> {
        let mut seen: HashMap<String, u32> = HashMap::new();
        let mut texts: Vec<String> = Vec::new();
        let mut patterns: Vec<Pattern> = Vec::new();
        let mut entries = Vec::with_capacity(library.len());
        for (i, e) in library.entries().iter().enumerate() {
            let index = u32::try_from(i)
                .map_err(|_| KeywordError::Build("more than 2^32 keywords".into()))?;
            entries.push((e.keyword.clone(), e.risk.clone()));
            for form in std::iter::once(&e.keyword).chain(&e.variants) {
                let base = normalize(form).text;
                for p in expand(&base, options) {
                    if p.is_empty() || seen.contains_key(&p) {
                        continue; // the first entry to claim a pattern keeps it
                    }
                    let first = p
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '@' || c == '$');
                    let last = p
                        .chars()
                        .next_back()
                        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '@' || c == '$');
                    seen.insert(p.clone(), index);
                    patterns.push(Pattern {
                        entry: index,
                        word_start: first,
                        word_end: last,
                    });
                    texts.push(p);
                }
            }
        }
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            // No explicit kind: aho-corasick builds a DFA for small libraries and a contiguous NFA
            // for large ones. Measured on 10,000 keywords (bench/keywords), the DFA took 217 MB and
            // scanned slower (cache misses) than the 6 MB contiguous NFA.
            .build(&texts)
            .map_err(|e| KeywordError::Build(e.to_string()))?;
        Ok(Scanner {
            automaton,
            patterns,
            entries,
        })
    }

    /// Heap bytes used by the automaton.
    pub fn memory_usage(&self) -> usize {
        self.automaton.memory_usage()
    }

    /// The automaton's kind (`"dfa"`, `"contiguous-nfa"`, …), for benchmarks.
    pub fn automaton_kind(&self) -> String {
        format!("{:?}", self.automaton.kind())
    }

    /// The number of distinct normalised patterns, after variants and expansion.
    pub fn pattern_count(&self) -> usize {
        self.patterns.len()
    }

    /// Every keyword in `text`: non-overlapping, leftmost-longest, in text order.
    pub fn find(&self, text: &str) -> Vec<KeywordMatch> {
        let mut norm = Normalized::default();
        normalize_into(text, &mut norm);
        let mut out = Vec::new();
        self.each(text, &norm, |m| {
            out.push(m);
            true
        });
        out
    }

    /// Whether `text` contains any keyword; cheaper than [`Scanner::find`] when it does not.
    pub fn is_match(&self, text: &str) -> bool {
        let mut normalized = String::new();
        normalize_text_into(text, &mut normalized);
        if !self.automaton.is_match(&normalized) {
            return false;
        }
        // A candidate: confirm with word boundaries, which need the offsets.
        let norm = normalize(text);
        let mut found = false;
        self.each(text, &norm, |_| {
            found = true;
            false
        });
        found
    }

    /// Calls `visit` with each accepted match until it returns false.
    fn each(&self, text: &str, norm: &Normalized, mut visit: impl FnMut(KeywordMatch) -> bool) {
        let hay = norm.text.as_bytes();
        let mut pos = 0;
        while pos < hay.len() {
            let Some(m) = self.automaton.find(Input::new(hay).span(pos..hay.len())) else {
                break;
            };
            let p = self.patterns[m.pattern().as_usize()];
            let (start, end) = norm.original_range(text, m.start(), m.end());
            let inside_word = (p.word_start
                && text[..start].chars().next_back().is_some_and(is_word_char))
                || (p.word_end && continues_word(&text[end..]));
            if inside_word {
                // Try again from the next character: a shorter keyword may still start here.
                pos = m.start()
                    + norm.text[m.start()..]
                        .chars()
                        .next()
                        .map_or(1, char::len_utf8);
                continue;
            }
            let (keyword, risk) = &self.entries[p.entry as usize];
            let accepted = KeywordMatch {
                keyword: keyword.clone(),
                risk: risk.clone(),
                start,
                end,
            };
            if !visit(accepted) {
                return;
            }
            pos = m.end();
        }
    }
}

/// The text after a Latin match continues the word, other than with a plural `s`/`es`.
fn continues_word(rest: &str) -> bool {
    let mut chars = rest.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    if !is_word_char(first) {
        return false;
    }
    let plural = |suffix: &str| {
        rest.strip_prefix(suffix)
            .is_some_and(|after| !after.chars().next().is_some_and(is_word_char))
    };
    !(plural("s") || plural("es"))
}

/// The normalised patterns one normalised form stands for: itself, leetspeak forms (Latin),
/// 拆字 forms (Chinese, when asked). Linear in the form's length, never exponential.
fn expand(base: &str, options: ScanOptions) -> Vec<String> {
    let mut out = vec![base.to_string()];
    if base.bytes().all(|b| b.is_ascii_alphanumeric()) {
        let present: Vec<&(u8, &[u8])> = LEET
            .iter()
            .filter(|(l, _)| base.as_bytes().contains(l))
            .collect();
        if !present.is_empty() {
            // Every letter substituted, with the first and with the second replacement.
            for choice in 0..2 {
                let all: String = base
                    .bytes()
                    .map(|b| match LEET.iter().find(|(l, _)| *l == b) {
                        Some((_, subs)) => subs[choice.min(subs.len() - 1)] as char,
                        None => b as char,
                    })
                    .collect();
                out.push(all);
            }
            // One kind of letter substituted at a time (`b0mb`, `h4ck3r` stays covered by all).
            for (letter, subs) in present {
                out.push(
                    base.bytes()
                        .map(|b| {
                            if b == *letter {
                                subs[0] as char
                            } else {
                                b as char
                            }
                        })
                        .collect(),
                );
            }
        }
    } else if options.expand_split {
        let chars: Vec<char> = base.chars().collect();
        let split: Vec<Option<&str>> = chars
            .iter()
            .map(|&c| touchstone_zh::components(c))
            .collect();
        if split.iter().any(Option::is_some) {
            let render = |only: Option<usize>| -> String {
                let mut s = String::new();
                for (i, &c) in chars.iter().enumerate() {
                    match split[i] {
                        Some(parts) if only.is_none_or(|o| o == i) => s.push_str(parts),
                        _ => s.push(c),
                    }
                }
                normalize(&s).text
            };
            out.push(render(None));
            for i in (0..chars.len()).filter(|&i| split[i].is_some()) {
                out.push(render(Some(i)));
            }
        }
    }
    // A leet form whose symbols were dropped by the normaliser (`$ex` → `ex`) is not the keyword.
    out.retain(|p| normalize(p).text == *p);
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expansion_is_bounded() {
        let forms = expand("assassinate", ScanOptions::default());
        assert!(forms.len() <= 2 + LEET.len() + 1, "{forms:?}");
        assert!(forms.contains(&"4554551n473".to_string()), "{forms:?}");
        assert!(forms.contains(&"a55a55inate".to_string()), "{forms:?}");
        // `@` at the start would be dropped by the normaliser, so that form is not kept.
        assert!(!forms.iter().any(|f| f.starts_with('@')), "{forms:?}");
        assert!(expand("hacker", ScanOptions::default()).contains(&"h@ck3r".to_string()));
        let split = expand("炸弹", ScanOptions { expand_split: true });
        assert_eq!(split, ["炸弹", "火乍弓单", "火乍弹", "炸弓单"]);
        assert_eq!(expand("炸弹", ScanOptions::default()), ["炸弹"]);
    }
}
