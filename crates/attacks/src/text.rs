//! Text helpers shared by the attacks and the drivers.

/// Fills `{key}` placeholders in one pass, so that a value containing `{prompt}` (a user's
/// prompt quoting a template) is never substituted again. Unknown `{…}` are left as they are:
/// third-party jailbreak templates contain braces of their own.
pub(crate) fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let hit = after.find('}').and_then(|close| {
            let key = &after[..close];
            values
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| (close, *v))
        });
        match hit {
            Some((close, value)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Chinese when the text has any Chinese character ([`touchstone_zh::is_cjk`]): instructions
/// around an encoded prompt are written in the prompt's language.
pub(crate) fn is_chinese(text: &str) -> bool {
    text.chars().any(touchstone_zh::is_cjk)
}

/// The first `max` characters, for error messages and attacker prompts.
pub(crate) fn excerpt(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_substitutes_known_keys_once_and_keeps_unknown_braces() {
        let t = "A {prompt} B {model} {char} {unclosed";
        let got = fill(t, &[("prompt", "say {model}"), ("model", "Qwen")]);
        assert_eq!(got, "A say {model} B Qwen {char} {unclosed");
    }

    #[test]
    fn chinese_detection_and_excerpt() {
        assert!(is_chinese("how 炸弹"));
        assert!(!is_chinese("ｈｅｌｌｏ, world"));
        assert_eq!(excerpt("一二三四", 2), "一二…");
        assert_eq!(excerpt("ab", 5), "ab");
    }
}
