//! Placeholders in prompt texts: the engine fills `{input}`, `{choices}` and `{letters}` in a
//! template and `{subject}`, `{subject_zh}` in a description, turns `{{` and `}}` into literal
//! braces, and sends every other brace as written. So a `{word}` that is not one of those is a
//! typo sent to the model verbatim (write `{{word}}` to mean it); braces around anything else
//! (`{"answer": "A"}`, `{ x }`, `\d{3}`) are literal text.

use crate::locate;

/// Placeholders the engine fills in `prompt.template`.
pub const TEMPLATE: &[&str] = &["input", "choices", "letters"];
/// Placeholders the engine fills in `prompt.description`.
pub const DESCRIPTION: &[&str] = &["subject", "subject_zh"];

/// What is wrong with a placeholder; the word is without braces.
#[derive(Debug, PartialEq, Eq)]
pub enum Problem<'a> {
    /// `{word}` where no placeholder `word` exists.
    Unknown(&'a str),
    /// `{input` (end of text or a space next): the `}` is missing.
    Unclosed(&'a str),
    /// `input}`: the `{` is missing.
    Unopened(&'a str),
}

impl Problem<'_> {
    /// The text as written, to point at.
    pub fn written(&self) -> String {
        match self {
            Problem::Unknown(w) => format!("{{{w}}}"),
            Problem::Unclosed(w) => format!("{{{w}"),
            Problem::Unopened(w) => format!("{w}}}"),
        }
    }
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// A word that can name a placeholder: starts with a letter or `_` (so `\d{3}` is literal).
fn word_at_start(s: &str) -> &str {
    if !s.starts_with(|c: char| c.is_alphabetic() || c == '_') {
        return "";
    }
    let end = s.find(|c: char| !is_word(c)).unwrap_or(s.len());
    &s[..end]
}

/// The first placeholder problem in `text`, given the placeholders filled there.
pub fn check<'a>(text: &'a str, known: &[&str]) -> Option<Problem<'a>> {
    let near_known =
        |w: &str| known.contains(&w) || locate::suggest(w, known.iter().copied()).is_some();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        // `{{` and `}}` are escapes for a literal brace: no placeholder starts or ends there.
        if (c == '{' || c == '}') && chars.peek().is_some_and(|&(_, next)| next == c) {
            chars.next();
            continue;
        }
        if c == '{' {
            let rest = &text[i + 1..];
            let word = word_at_start(rest);
            if word.is_empty() {
                continue;
            }
            let after = &rest[word.len()..];
            if after.starts_with('}') {
                if !known.contains(&word) {
                    return Some(Problem::Unknown(word));
                }
            } else if (after.is_empty() || after.starts_with(char::is_whitespace))
                && near_known(word)
            {
                return Some(Problem::Unclosed(word));
            }
        } else if c == '}' {
            let before = &text[..i];
            let start = before
                .char_indices()
                .rev()
                .take_while(|(_, c)| is_word(*c))
                .last()
                .map_or(i, |(j, _)| j);
            let word = &before[start..];
            if !word.is_empty() && !before[..start].ends_with('{') && known.contains(&word) {
                return Some(Problem::Unopened(word));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_typos_and_unbalanced_braces() {
        assert_eq!(
            check("{inptu} {choices", TEMPLATE),
            Some(Problem::Unknown("inptu"))
        );
        assert_eq!(
            check("{input} {choices", TEMPLATE),
            Some(Problem::Unclosed("choices"))
        );
        assert_eq!(
            check("{input}\n{choice\nA:", TEMPLATE),
            Some(Problem::Unclosed("choice"))
        );
        assert_eq!(
            check("Q: input}", TEMPLATE),
            Some(Problem::Unopened("input"))
        );
        assert_eq!(
            check("{subject}", TEMPLATE),
            Some(Problem::Unknown("subject"))
        );
        assert_eq!(
            check("{input}", DESCRIPTION),
            Some(Problem::Unknown("input"))
        );
    }

    #[test]
    fn literal_braces_pass() {
        for ok in [
            "{input}\n\n{choices}\n\nAnswer ({letters}):",
            "Reply as JSON: {\"answer\": \"<letter>\"}\n{input}",
            "{ \"answer\": 1 }",
            "{ word } and {letter: A} and \\d{3} and {2,4}",
            "{{input}}",
            "{{answer}} is written literally, and so is }}",
            "Answer with a letter.",
            "以下是关于{subject_zh}的单项选择题",
            "",
        ] {
            let known = if ok.contains("subject") {
                DESCRIPTION
            } else {
                TEMPLATE
            };
            assert_eq!(check(ok, known), None, "{ok}");
        }
    }
}
