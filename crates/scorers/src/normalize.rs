//! Text normalisation shared by the scorers.

/// Folds full-width ASCII (U+FF01..U+FF5E, as typed by Chinese input methods: `Ｂ`, `（`, `：`,
/// `１２`) to its half-width form and the ideographic space U+3000 to a plain space. This is the
/// part of NFKC that matters for answers, without a Unicode-tables dependency.
pub fn fold_width(s: &str) -> String {
    s.chars().map(fold_char).collect()
}

pub(crate) fn fold_char(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// Punctuation stripped from the end of an answer before comparing: ASCII and the Chinese marks
/// (full-width forms are folded before this is consulted, 。、｡… are not in the folded range).
fn is_trailing_punct(c: char) -> bool {
    matches!(
        c,
        '.' | ','
            | '!'
            | '?'
            | ';'
            | ':'
            | '。'
            | '、'
            | '｡'
            | '…'
            | '，'
            | '！'
            | '？'
            | '；'
            | '：'
    )
}

/// Normalises an answer or a target for comparison: full-width folding, optional case folding,
/// whitespace collapsed to single spaces, trimmed, trailing punctuation removed.
pub fn normalize(s: &str, ignore_case: bool) -> String {
    let folded = fold_width(s);
    let cased = if ignore_case {
        folded.to_lowercase()
    } else {
        folded
    };
    let mut out = String::with_capacity(cased.len());
    for word in cased.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    let trimmed = out.trim_end_matches(|c: char| is_trailing_punct(c) || c.is_whitespace());
    trimmed.to_string()
}

/// The part of a reply after the last `</think>`: reasoning models (DeepSeek-R1, Qwen3) put their
/// chain of thought first, and letters or numbers in it are not the answer.
pub fn strip_reasoning(answer: &str) -> &str {
    match answer.rfind("</think>") {
        Some(i) => &answer[i + "</think>".len()..],
        None => answer,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_full_width_ascii() {
        assert_eq!(fold_width("Ｂ（Ａ）：１２，ｘ！～"), "B(A):12,x!~");
        assert_eq!(fold_width("a\u{3000}b"), "a b");
        assert_eq!(fold_width("中文。"), "中文。");
    }

    #[test]
    fn normalizes() {
        assert_eq!(normalize("  Paris.  ", true), "paris");
        assert_eq!(normalize("New\n  York\tCity!!", true), "new york city");
        assert_eq!(normalize("北京。", true), "北京");
        assert_eq!(normalize("北京！", true), "北京");
        assert_eq!(normalize("是，", true), "是");
        assert_eq!(normalize("ＰＡＲＩＳ", true), "paris");
        assert_eq!(normalize("Paris", false), "Paris");
        assert_eq!(normalize("...", true), "");
        assert_eq!(normalize("3.14", true), "3.14");
    }

    #[test]
    fn strips_reasoning() {
        assert_eq!(strip_reasoning("<think>maybe A</think>B"), "B");
        assert_eq!(strip_reasoning("plain"), "plain");
    }
}
