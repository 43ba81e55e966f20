//! `choice`: which option letter a reply chose, in English and Chinese.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;
use touchstone_core::{Sample, Score, choice_letter};

use crate::normalize::{fold_width, normalize, strip_reasoning};
use crate::options::Options;
use crate::{Scorer, ScorerError, targets};

pub(crate) const OPTIONS: &[&str] = &[];

const NO_LETTER: &str = "no option letter found in the answer / 回答中未找到选项字母";

/// Multiple choice: the letter extracted from the reply (see [`extract_choice`]) is one of the
/// target letters. A target is a letter (`B`, `(B)`, `b.`) or the text of one of the options.
#[derive(Debug, Clone, Default)]
pub struct ChoiceScorer;

impl ChoiceScorer {
    pub fn new() -> Self {
        ChoiceScorer
    }

    pub fn from_options(options: &BTreeMap<String, Value>) -> Result<Self, ScorerError> {
        Options::new("choice", options, OPTIONS)?;
        Ok(ChoiceScorer)
    }
}

#[async_trait::async_trait]
impl Scorer for ChoiceScorer {
    fn name(&self) -> &str {
        "choice"
    }

    async fn score(&self, sample: &Sample, answer: &str) -> Result<Score, ScorerError> {
        let choices = sample.choices.as_deref();
        let expected = expected_letters(sample, choices)?;
        let mut score = match extract_choice(answer, choices) {
            Some(letter) => Score::binary(
                "choice",
                expected.contains(&letter),
                Some(letter.to_string()),
            ),
            None => Score::binary("choice", false, None),
        };
        if score.extracted.is_none() {
            score.explanation = Some(NO_LETTER.to_string());
        }
        Ok(score)
    }
}

/// How many letters are valid: one per known option, else the whole alphabet.
fn letter_count(choices: Option<&[String]>) -> usize {
    match choices {
        Some(c) if !c.is_empty() => c.len().min(26),
        _ => 26,
    }
}

fn is_valid(letter: char, count: usize) -> bool {
    letter.is_ascii_uppercase() && ((letter as u8 - b'A') as usize) < count
}

/// The letters the sample's targets stand for.
fn expected_letters(sample: &Sample, choices: Option<&[String]>) -> Result<Vec<char>, ScorerError> {
    let count = letter_count(choices);
    let mut letters = Vec::new();
    let mut problems = Vec::new();
    for t in targets("choice", sample)? {
        match target_letter(t, choices, count) {
            Ok(l) => letters.push(l),
            Err(p) => problems.push(p),
        }
    }
    if letters.is_empty() {
        return Err(ScorerError::BadTarget {
            scorer: "choice".into(),
            sample_id: sample.id.clone(),
            message: problems.join("; "),
        });
    }
    Ok(letters)
}

fn target_letter(target: &str, choices: Option<&[String]>, count: usize) -> Result<char, String> {
    let folded = fold_width(target);
    let bare = folded
        .trim()
        .trim_start_matches(['(', '[', '【'])
        .trim_end_matches([')', ']', '】', '.', ':', '。'])
        .trim();
    let mut chars = bare.chars();
    if let (Some(c), None) = (chars.next(), chars.next())
        && c.is_ascii_alphabetic()
        && is_valid(c.to_ascii_uppercase(), count)
    {
        return Ok(c.to_ascii_uppercase());
    }
    if let Some(choices) = choices {
        let want = normalize(target, true);
        if let Some(i) = choices.iter().position(|c| normalize(c, true) == want) {
            return Ok(choice_letter(i));
        }
        return Err(format!(
            "target `{target}` is neither a letter A..{} nor the text of one of the {} choices",
            choice_letter(count.saturating_sub(1)),
            choices.len()
        ));
    }
    Err(format!(
        "target `{target}` is not a letter A..Z, and the sample has no choices to match its text against"
    ))
}

/// A pattern that states the answer explicitly; group 1 is the letter.
struct Explicit {
    re: Regex,
    /// Whether a lower-case `a`/`i` (or `I`) right after the pattern may be the English word
    /// ("the answer is a lot harder") rather than a letter. Patterns whose tail already makes
    /// the letter certain ("option a is correct") skip the check.
    check_word: bool,
}

static EXPLICIT: LazyLock<Vec<Explicit>> = LazyLock::new(|| {
    let p = |re: &str, check_word: bool| Explicit {
        re: Regex::new(re).expect("static choice pattern"),
        check_word,
    };
    vec![
        // The answer is B / Answer: (B) / final answer = option C / answer - b
        p(
            r"(?i)\banswer\s*(?:(?:is|was|would\s+be|should\s+be|must\s+be|will\s+be|:|=|-)\s*)+(?:(?:option|choice|letter)\s*)?[(\[{]?\s*([a-z])",
            true,
        ),
        // The correct option is B
        p(
            r"(?i)\b(?:correct|right|best|final)\s+(?:option|choice)\s*(?:(?:is|would\s+be|should\s+be|:|=)\s*)+[(\[{]?\s*([a-z])",
            true,
        ),
        // Option B is correct
        p(
            r"(?i)\b(?:option|choice)\s*[(\[{]?\s*([a-z])\s*[)\]}]?\s+is\s+(?:the\s+)?(?:correct|right|best)\b",
            false,
        ),
        // B is correct / B is the right answer
        p(
            r"\b([A-Z])\s*[)\]]?\s+(?i:is\s+(?:the\s+)?(?:correct|right)\b)",
            false,
        ),
        // \boxed{B}, \boxed{\text{B}}
        p(r"\\boxed\{\s*(?:\\text(?:bf)?\{\s*)?([A-Za-z])", true),
        // 答案是B / 答案：B / 正确答案是 C / 答案应该选 B / 答案为（B）
        p(
            r"答案\s*(?:应该|应当|应|就|则|一定)?\s*(?:是|为|选|选择)?\s*[:=]?\s*(?:选项|选)?\s*[(\[【]?\s*([A-Za-z])",
            true,
        ),
        // 选B / 选择 C / 应选（D）— not 选项A, which only names an option.
        p(r"选(?:择)?\s*[(\[【]?\s*([A-Za-z])", true),
        // 正确的选项是B / 最佳选项为 C
        p(
            r"(?:正确|最佳|最合适)的?选项\s*(?:应该|应)?\s*(?:是|为)?\s*[:=]?\s*[(\[【]?\s*([A-Za-z])",
            true,
        ),
        // B正确 / B项是正确的 / B选项正确 (but not B不正确)
        p(
            r"([A-Z])\s*(?:项|选项)?\s*(?:是|为)?\s*(?:正确|对的)",
            false,
        ),
    ]
});

/// The option letter a reply chose, or `None`. `choices` (the option texts, when known) limits
/// the valid letters and lets a reply that is only an option's text count.
///
/// In order of preference: an explicit statement ("the answer is B", "答案是B", "选B", "B is
/// correct"; the last one wins, as reasoning comes before the conclusion); a reply that is only a
/// letter ("b", "(B)"); a reply that is an option's text ("8*7", "b>c"); a letter at the very
/// start ("B.", "B) Paris"); the last standalone valid capital letter; the one option whose text
/// the reply contains. Full-width letters and
/// punctuation are folded, Markdown emphasis and a `<think>` section are ignored, and the
/// article "a" ("a lot") and pronoun "I" are not taken for letters.
pub fn extract_choice(answer: &str, choices: Option<&[String]>) -> Option<char> {
    let raw = fold_width(strip_reasoning(answer));
    // Markdown emphasis hides letters ("**B**"), but `*` is also multiplication in option texts
    // ("8*7"), so option texts are compared with the raw reply first.
    let text: String = raw.chars().filter(|&c| c != '*' && c != '`').collect();
    let count = letter_count(choices);
    explicit_letter(&text, count)
        .or_else(|| lone_letter(&text, count))
        .or_else(|| choices.and_then(|c| whole_text_choice(raw.trim().trim_matches(['*', '`']), c)))
        .or_else(|| leading_letter(&text, count))
        .or_else(|| last_standalone_letter(&text, count))
        .or_else(|| choices.and_then(|c| contained_choice(&raw, c)))
}

/// A reply that is nothing but a letter ("b", "(B)", "Ｂ。"): the letter, even when some option's
/// text is that letter too.
fn lone_letter(text: &str, count: usize) -> Option<char> {
    let bare = text
        .trim()
        .trim_start_matches(['(', '[', '【'])
        .trim_end_matches(|c: char| {
            matches!(
                c,
                ')' | ']' | '】' | '.' | ':' | '。' | ',' | '，' | '!' | '！'
            ) || c.is_whitespace()
        })
        .trim_start();
    let mut chars = bare.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if c.is_ascii_alphabetic() && is_valid(c.to_ascii_uppercase(), count) => {
            Some(c.to_ascii_uppercase())
        }
        _ => None,
    }
}

fn explicit_letter(text: &str, count: usize) -> Option<char> {
    let mut best: Option<(usize, char)> = None;
    for pattern in EXPLICIT.iter() {
        for caps in pattern.re.captures_iter(text) {
            let Some(m) = caps.get(1) else { continue };
            if let Some(letter) = accept(text, m.start(), m.end(), pattern.check_word, count)
                && best.is_none_or(|(pos, _)| m.start() > pos)
            {
                best = Some((m.start(), letter));
            }
        }
    }
    best.map(|(_, l)| l)
}

/// Whether the single ASCII letter at `text[start..end]` stands alone and is a valid option.
fn accept(text: &str, start: usize, end: usize, check_word: bool, count: usize) -> Option<char> {
    let c = text[start..end].chars().next()?;
    if text[..start]
        .chars()
        .next_back()
        .is_some_and(|p| p.is_ascii_alphanumeric())
    {
        return None;
    }
    let rest = &text[end..];
    if rest
        .chars()
        .next()
        .is_some_and(|n| n.is_ascii_alphanumeric() || n == '\'' || n == '’')
    {
        return None;
    }
    if check_word && matches!(c, 'a' | 'i' | 'I') && followed_by_word(rest) {
        return None;
    }
    let upper = c.to_ascii_uppercase();
    is_valid(upper, count).then_some(upper)
}

/// `rest` continues with whitespace and then a lower-case word: the letter before it is an
/// English word ("a lot", "I think"), not an option.
fn followed_by_word(rest: &str) -> bool {
    let trimmed = rest.trim_start();
    trimmed.len() < rest.len()
        && trimmed
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase())
}

/// Words that may come before a letter at the start of a reply: "Option B", "选项B".
const LEAD_WORDS: &[&str] = &["option", "choice", "选项", "选择", "选"];

fn leading_letter(text: &str, count: usize) -> Option<char> {
    let mut t = text.trim_start_matches(|c: char| {
        c.is_whitespace() || matches!(c, '"' | '\'' | '“' | '‘' | '#' | '>')
    });
    for w in LEAD_WORDS {
        if t.len() >= w.len() && t.is_char_boundary(w.len()) && t[..w.len()].eq_ignore_ascii_case(w)
        {
            let after = &t[w.len()..];
            // "Options are…" is not a lead word: require a separator or a letter right after.
            if w.is_ascii()
                && after
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic())
            {
                continue;
            }
            t = after.trim_start();
            break;
        }
    }
    let bracketed = t.starts_with(['(', '[', '【']);
    if bracketed {
        t = t[t.chars().next().map_or(0, char::len_utf8)..].trim_start();
    }
    let c = t.chars().next().filter(char::is_ascii_alphabetic)?;
    let rest = &t[1..];
    let mut after = rest.chars();
    match after.next() {
        None => {}
        Some(n) if n.is_ascii_alphanumeric() || n == '\'' || n == '’' => return None,
        // "A.I." / "U.S." are abbreviations, not options.
        Some('.') if after.next().is_some_and(|n| n.is_ascii_alphabetic()) => return None,
        // "A lot of…", "I think…": an article or pronoun, unless bracketed like "(A) lot".
        Some(_) if !bracketed && matches!(c, 'a' | 'A' | 'i' | 'I') && followed_by_word(rest) => {
            return None;
        }
        Some(_) => {}
    }
    let upper = c.to_ascii_uppercase();
    is_valid(upper, count).then_some(upper)
}

fn whole_text_choice(text: &str, choices: &[String]) -> Option<char> {
    let reply = normalize(text, true);
    if reply.is_empty() {
        return None;
    }
    let mut hits = choices
        .iter()
        .enumerate()
        .filter(|(_, c)| normalize(c, true) == reply);
    match (hits.next(), hits.next()) {
        (Some((i, _)), None) if i < 26 => Some(choice_letter(i)),
        _ => None,
    }
}

fn last_standalone_letter(text: &str, count: usize) -> Option<char> {
    let bytes = text.as_bytes();
    let mut found = None;
    for (i, c) in text.char_indices() {
        if !c.is_ascii_uppercase() || !is_valid(c, count) {
            continue;
        }
        let prev = text[..i].chars().next_back();
        let rest = &text[i + 1..];
        let next = rest.chars().next();
        if prev.is_some_and(|p| p.is_ascii_alphanumeric() || p == '\'' || p == '’')
            || next.is_some_and(|n| n.is_ascii_alphanumeric() || n == '\'' || n == '’')
        {
            continue;
        }
        // Abbreviations: the U and S of "U.S.", the A and I of "A.I.".
        let dotted_after =
            next == Some('.') && bytes.get(i + 2).is_some_and(u8::is_ascii_uppercase);
        let dotted_before = prev == Some('.') && i >= 2 && bytes[i - 2].is_ascii_uppercase();
        if dotted_after || dotted_before {
            continue;
        }
        if matches!(c, 'A' | 'I') && followed_by_word(rest) {
            continue;
        }
        found = Some(c);
    }
    found
}

/// The single option whose text occurs in the reply (bounded by non-alphanumerics), when only
/// one does. Options that are numbers or one character long are too easily found by accident.
fn contained_choice(text: &str, choices: &[String]) -> Option<char> {
    let reply = normalize(text, true);
    let mut found: Vec<(usize, String)> = Vec::new();
    for (i, choice) in choices.iter().enumerate().take(26) {
        let needle = normalize(choice, true);
        if needle.chars().count() < 2 || !needle.chars().any(char::is_alphabetic) {
            continue;
        }
        let bounded = reply.match_indices(needle.as_str()).any(|(at, m)| {
            let before = reply[..at].chars().next_back();
            let after = reply[at + m.len()..].chars().next();
            !before.is_some_and(|c| c.is_ascii_alphanumeric())
                && !after.is_some_and(|c| c.is_ascii_alphanumeric())
        });
        if bounded {
            found.push((i, needle));
        }
    }
    // "Paris" inside "Paris, Texas": the longer option is the one meant.
    let kept: Vec<usize> = found
        .iter()
        .filter(|(i, t)| {
            !found
                .iter()
                .any(|(j, u)| j != i && u.len() > t.len() && u.contains(t.as_str()))
        })
        .map(|(i, _)| *i)
        .collect();
    match kept.as_slice() {
        [i] => Some(choice_letter(*i)),
        _ => None,
    }
}
