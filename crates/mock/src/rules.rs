//! The deterministic answer rules (documented in the crate docs).

/// Answers the last user message according to the crate's rules, as the model named `model`
/// (the request's `model` field): `[[unknown-to:NAME,NAME…]]` makes the named models not know.
pub fn answer_as(model: &str, user_text: &str) -> String {
    if unknown_to(user_text).is_some_and(|names| names.split(',').any(|n| n.trim() == model)) {
        return "I don't know.".to_owned();
    }
    answer(user_text)
}

/// Answers the last user message according to the crate's rules.
pub fn answer(user_text: &str) -> String {
    if let Some(text) = reply_directive(user_text) {
        return text.to_owned();
    }
    if user_text.contains("[[echo]]") {
        return user_text.to_owned();
    }
    if let Some(n) = arithmetic(user_text) {
        return format!("The answer is {n}.");
    }
    "I don't know.".to_owned()
}

/// `[[replies:A||B]]`: the directive's text and its alternatives (never empty).
pub fn replies_directive(text: &str) -> Option<(&str, Vec<&str>)> {
    const OPEN: &str = "[[replies:";
    let start = text.find(OPEN)? + OPEN.len();
    let rest = &text[start..];
    let end = rest.find("]]")?;
    let body = &rest[..end];
    Some((body, body.split("||").collect()))
}

/// `[[unknown-to:a,b]]`: the comma-separated model names that do not know this question, so
/// two models served by one mock can differ by a known number of items.
fn unknown_to(text: &str) -> Option<&str> {
    const OPEN: &str = "[[unknown-to:";
    let start = text.find(OPEN)? + OPEN.len();
    let rest = &text[start..];
    let end = rest.find("]]")?;
    Some(&rest[..end])
}

/// `[[reply:TEXT]]`: TEXT runs to the next `]]`; without a closing `]]` it is no directive.
fn reply_directive(text: &str) -> Option<&str> {
    const OPEN: &str = "[[reply:";
    let start = text.find(OPEN)? + OPEN.len();
    let rest = &text[start..];
    let end = rest.find("]]")?;
    Some(&rest[..end])
}

#[derive(Clone, Copy)]
enum Op {
    Add,
    Sub,
    Mul,
}

/// The first "A op B" in the text with integer operands and op in `+ - * ×`.
/// Overflow gives `None` (the mock then does not know).
fn arithmetic(text: &str) -> Option<i128> {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if let Some((a, after_a)) = integer_at(&chars, i) {
            if let Some(result) = operation_after(&chars, a, after_a) {
                return Some(result);
            }
            // Skip the whole number so "123" is not re-read as "23".
            i = after_a;
        } else {
            i += 1;
        }
    }
    None
}

fn operation_after(chars: &[char], a: i128, after_a: usize) -> Option<i128> {
    let mut j = skip_spaces(chars, after_a);
    let op = match chars.get(j)? {
        '+' => Op::Add,
        '-' | '−' => Op::Sub,
        '*' | '×' => Op::Mul,
        _ => return None,
    };
    j = skip_spaces(chars, j + 1);
    let (b, _) = integer_at(chars, j)?;
    match op {
        Op::Add => a.checked_add(b),
        Op::Sub => a.checked_sub(b),
        Op::Mul => a.checked_mul(b),
    }
}

fn skip_spaces(chars: &[char], mut i: usize) -> usize {
    while chars.get(i).is_some_and(|c| c.is_whitespace()) {
        i += 1;
    }
    i
}

/// An integer starting exactly at `i` (optionally with a leading `-`), not part of a
/// longer number or a decimal. Returns the value and the index after it.
fn integer_at(chars: &[char], i: usize) -> Option<(i128, usize)> {
    let mut j = i;
    let negative = chars.get(j) == Some(&'-');
    if negative {
        j += 1;
    }
    let digits_start = j;
    while chars.get(j).is_some_and(|c| c.is_ascii_digit()) {
        j += 1;
    }
    if j == digits_start {
        return None;
    }
    if i > 0 && chars[i - 1].is_ascii_digit() {
        return None;
    }
    // "1.5" is not an integer operand.
    if i > 0
        && chars[i - 1] == '.'
        && chars
            .get(i.wrapping_sub(2))
            .is_some_and(|c| c.is_ascii_digit())
    {
        return None;
    }
    if chars.get(j) == Some(&'.') && chars.get(j + 1).is_some_and(|c| c.is_ascii_digit()) {
        return None;
    }
    let digits: String = chars[digits_start..j].iter().collect();
    let magnitude: i128 = digits.parse().ok()?;
    Some((if negative { -magnitude } else { magnitude }, j))
}

#[cfg(test)]
mod tests {
    use super::{answer, answer_as};

    #[test]
    fn reply_directive_wins() {
        assert_eq!(answer("What is 2+2? [[reply:B]]"), "B");
        assert_eq!(
            answer_as("weak", "What is 2+2? [[unknown-to:weak,other]]"),
            "I don't know."
        );
        assert_eq!(
            answer_as("other", "What is 2+2? [[unknown-to:weak, other]]"),
            "I don't know."
        );
        assert_eq!(
            answer_as("strong", "What is 2+2? [[unknown-to:weak]]"),
            "The answer is 4."
        );
        assert_eq!(answer("x [[reply:two words]] y ]] z"), "two words");
        assert_eq!(answer("[[reply:]]"), "");
    }

    #[test]
    fn unclosed_reply_is_not_a_directive() {
        assert_eq!(answer("[[reply:oops"), "I don't know.");
    }

    #[test]
    fn echo_returns_whole_text() {
        assert_eq!(
            answer("say this [[echo]] please"),
            "say this [[echo]] please"
        );
    }

    #[test]
    fn arithmetic_forms() {
        assert_eq!(answer("What is 3 + 4?"), "The answer is 7.");
        assert_eq!(answer("12*11"), "The answer is 132.");
        assert_eq!(answer("What is 10 - 25?"), "The answer is -15.");
        assert_eq!(answer("What is -4 × 3?"), "The answer is -12.");
        assert_eq!(answer("计算 100 + 23 等于多少？"), "The answer is 123.");
    }

    #[test]
    fn not_arithmetic() {
        assert_eq!(answer("What is 1.5 + 2?"), "I don't know.");
        assert_eq!(answer("Hello there"), "I don't know.");
        assert_eq!(answer("What is 5?"), "I don't know.");
        assert_eq!(
            answer(
                "99999999999999999999999999999999999999 * 99999999999999999999999999999999999999"
            ),
            "I don't know."
        );
    }
}
