//! Turning "somewhere in the text" into line, column and a byte span for diagnostics.

use miette::SourceSpan;

/// Byte span of the token at 1-based (line, column); zero-length at the start when unknown.
pub fn span_at(text: &str, line: usize, column: usize) -> SourceSpan {
    if line == 0 {
        return (0, 0).into();
    }
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let col_bytes: usize = l
                .chars()
                .take(column.saturating_sub(1))
                .map(char::len_utf8)
                .sum();
            let start = offset + col_bytes.min(l.len());
            let rest = &text[start..];
            let len = rest
                .find(|c: char| c.is_whitespace())
                .unwrap_or(rest.len())
                .max(1)
                .min(rest.len());
            return (start, len).into();
        }
        offset += l.len();
    }
    (text.len(), 0).into()
}

/// 1-based line and column of the first occurrence of `needle`.
pub fn find(text: &str, needle: &str) -> Option<(usize, usize)> {
    if needle.is_empty() {
        return None;
    }
    let at = text.find(needle)?;
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = text[line_start..at].chars().count() + 1;
    Some((line, column))
}

/// The closest known name, if it is close enough to be a likely typo.
pub fn suggest<'a>(name: &str, known: impl Iterator<Item = &'a str>) -> Option<String> {
    known
        .map(|k| (strsim::jaro_winkler(name, k), k))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_line_and_column() {
        let t = "a: 1\nbb: choise\n";
        assert_eq!(find(t, "choise"), Some((2, 5)));
        let s = span_at(t, 2, 5);
        assert_eq!(s.offset(), 9);
        assert_eq!(s.len(), 6);
    }

    #[test]
    fn suggests_close_names() {
        assert_eq!(
            suggest("quik", ["quick", "safety"].into_iter()),
            Some("quick".into())
        );
        assert_eq!(suggest("zzz", ["quick"].into_iter()), None);
    }
}
