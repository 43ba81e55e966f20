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
    find_path(text, 0, &[needle])
}

/// 1-based line and column of the byte offset `at`.
fn position(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = text[line_start..at].chars().count() + 1;
    (line, column)
}

/// 1-based line and column of the last of `path`, each needle found after the one before,
/// starting at byte offset `from`: `["generate:", "top_p:"]` finds the `top_p` of a `generate`.
pub fn find_path(text: &str, from: usize, path: &[&str]) -> Option<(usize, usize)> {
    let mut at = from.min(text.len());
    let mut found = None;
    for needle in path {
        if needle.is_empty() {
            return None;
        }
        let i = at + text.get(at..)?.find(needle)?;
        found = Some(i);
        at = i + needle.len();
    }
    found.map(|i| position(text, i))
}

/// Byte offset of the top-level key `key` (at the start of a line), e.g. the suite's `generate:`.
pub fn top_level_key(text: &str, key: &str) -> Option<usize> {
    let needle = format!("{key}:");
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.starts_with(&needle) {
            return Some(offset);
        }
        offset += line.len();
    }
    None
}

/// Byte offset of the `name:` key of the task named `name` (after the suite's `tasks:`), so
/// that a task's fields are looked for in that task and not in an earlier one. A key that
/// starts a list item (`- name: a`) is preferred over other `name:` keys (scorers, metrics).
pub fn task_offset(text: &str, name: &str) -> Option<usize> {
    let start = top_level_key(text, "tasks").unwrap_or(0);
    let mut matches = Vec::new();
    for written in [
        format!("name: {name}"),
        format!("name: \"{name}\""),
        format!("name: '{name}'"),
    ] {
        let mut from = start;
        while let Some(i) = text[from..].find(&written) {
            let at = from + i;
            from = at + written.len();
            let ends = text[from..]
                .chars()
                .next()
                .is_none_or(|c| matches!(c, '\n' | '\r' | ' ' | '\t' | ',' | '}' | '#'));
            if !ends {
                continue;
            }
            let line_start = text[..at].rfind('\n').map_or(0, |j| j + 1);
            let prefix = text[line_start..at].trim();
            let item = prefix == "-" || prefix.ends_with("- {") || prefix.ends_with("-{");
            matches.push((!item, at));
        }
    }
    matches.into_iter().min().map(|(_, at)| at)
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
    fn finds_a_tasks_own_fields() {
        let t = "name: a\ngenerate: {top_p: 2}\ntasks:\n  - name: a\n    scorers: [{name: b}]\n  - name: b\n    generate: {top_p: 3}\n";
        let b = task_offset(t, "b").unwrap();
        assert_eq!(find_path(t, b, &["generate:", "top_p:"]), Some((7, 16)));
        let a = task_offset(t, "a").unwrap();
        assert_eq!(find_path(t, a, &["scorers:"]), Some((5, 5)));
        let top = top_level_key(t, "generate").unwrap();
        assert_eq!(find_path(t, top, &["top_p:"]), Some((2, 12)));
        assert_eq!(task_offset(t, "c"), None);
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
