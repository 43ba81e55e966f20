//! The normaliser: folds the ways a keyword can be disguised into one form, and remembers where
//! each normalised byte came from so that matches point into the original text.
//!
//! Applied identically to keywords and to scanned text:
//! - full-width ASCII (U+FF01–FF5E) → ASCII; Latin lower case;
//! - traditional → simplified Chinese (`touchstone_zh::to_simplified`);
//! - Cyrillic and Greek look-alikes of Latin letters → the Latin letter (`а` → `a`);
//! - dropped: whitespace, punctuation and symbols of every script, zero-width and format
//!   characters, emoji — anything that is not a letter or digit — so that characters inserted
//!   between a keyword's characters do not break the match. `@` and `$` between two ASCII letters
//!   or digits are kept, for leetspeak (`h@ck`); elsewhere they are separators too.
//!
//! Digits are not mapped to letters here: leetspeak is handled by expanding keywords (see
//! `Scanner`), which keeps `2024` from reading as `zoz4`.

/// Normalised text and, for each of its bytes, the byte offset in the original text of the
/// character it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Normalized {
    pub text: String,
    pub offsets: Vec<usize>,
}

impl Normalized {
    /// The byte range in `original` (the text this was normalised from) covered by the
    /// normalised byte range `start..end` (`start < end`, both within `self.text`).
    pub fn original_range(&self, original: &str, start: usize, end: usize) -> (usize, usize) {
        let (Some(&s), Some(&last)) = (
            self.offsets.get(start),
            self.offsets.get(end.wrapping_sub(1)),
        ) else {
            return (0, 0);
        };
        let len = original
            .get(last..)
            .and_then(|t| t.chars().next())
            .map_or(0, char::len_utf8);
        (s, last + len)
    }
}

/// Normalises `text` (see the module docs).
pub fn normalize(text: &str) -> Normalized {
    let mut out = Normalized::default();
    normalize_into(text, &mut out);
    out
}

/// [`normalize`] into reused buffers (cleared first).
pub fn normalize_into(text: &str, out: &mut Normalized) {
    out.text.clear();
    out.offsets.clear();
    out.text.reserve(text.len());
    out.offsets.reserve(text.len());
    let Normalized { text: t, offsets } = out;
    run(text, |c, at| {
        let before = t.len();
        t.push(c);
        offsets.extend(std::iter::repeat_n(at, t.len() - before));
    });
}

/// The normalised text alone, into a reused buffer (the `is_match` fast path).
pub(crate) fn normalize_text_into(text: &str, out: &mut String) {
    out.clear();
    out.reserve(text.len());
    run(text, |c, _| out.push(c));
}

/// ASCII byte → its normal form, 0 = dropped. `@` and `$` are resolved by context in `run`.
static ASCII: [u8; 128] = {
    let mut t = [0u8; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        t[b] = match c {
            b'a'..=b'z' | b'0'..=b'9' | b'@' | b'$' => c,
            b'A'..=b'Z' => c + 32,
            _ => 0,
        };
        b += 1;
    }
    t
};

#[inline]
fn run(text: &str, mut emit: impl FnMut(char, usize)) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 {
            let m = ASCII[b as usize];
            if m != 0 {
                if (m == b'@' || m == b'$') && !leet_context(bytes, i) {
                    i += 1;
                    continue;
                }
                emit(m as char, i);
            }
            i += 1;
            continue;
        }
        // A multi-byte character; `i` is on a char boundary because we step by whole chars.
        let Some(c) = text[i..].chars().next() else {
            break;
        };
        let len = c.len_utf8();
        map_non_ascii(c, |m| emit(m, i));
        i += len;
    }
}

/// `@`/`$` at `i` stands for a letter when both neighbours are ASCII letters or digits.
fn leet_context(bytes: &[u8], i: usize) -> bool {
    let alnum = |j: Option<&u8>| j.is_some_and(|b| b.is_ascii_alphanumeric());
    i > 0 && alnum(bytes.get(i - 1)) && alnum(bytes.get(i + 1))
}

#[inline]
fn map_non_ascii(c: char, mut emit: impl FnMut(char)) {
    let u = c as u32;
    match u {
        // The hot path for Chinese text: CJK ideographs (unified and compatibility).
        0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0xF900..=0xFAFF => {
            emit(touchstone_zh::to_simplified(c))
        }
        0x20000..=0x3FFFF => emit(c),
        // Full-width ASCII → ASCII, then as ASCII (punctuation dropped, letters lower-cased).
        0xFF01..=0xFF5E => {
            let m = ASCII[(u - 0xFEE0) as usize];
            if m != 0 && m != b'@' && m != b'$' {
                emit(m as char);
            }
        }
        0x0370..=0x052F => match homoglyph(c) {
            Some(l) => emit(l),
            None => fold_other(c, emit),
        },
        _ => fold_other(c, emit),
    }
}

/// Letters and digits are kept (lower-cased); everything else is a separator.
#[inline]
fn fold_other(c: char, mut emit: impl FnMut(char)) {
    if c.is_alphanumeric() {
        for l in c.to_lowercase() {
            emit(l);
        }
    }
}

/// Cyrillic and Greek letters that look like Latin ones (both cases).
fn homoglyph(c: char) -> Option<char> {
    Some(match c {
        // Cyrillic
        'а' | 'А' => 'a',
        'в' | 'В' => 'b',
        'с' | 'С' => 'c',
        'ԁ' => 'd',
        'е' | 'Е' | 'ё' | 'Ё' => 'e',
        'һ' | 'Һ' | 'Н' => 'h',
        'і' | 'І' | 'ї' | 'Ї' => 'i',
        'ј' | 'Ј' => 'j',
        'к' | 'К' => 'k',
        'м' | 'М' => 'm',
        'о' | 'О' => 'o',
        'р' | 'Р' => 'p',
        'ԛ' | 'Ԛ' => 'q',
        'ѕ' | 'Ѕ' => 's',
        'т' | 'Т' => 't',
        'ԝ' | 'Ԝ' => 'w',
        'х' | 'Х' => 'x',
        'у' | 'У' | 'ү' | 'Ү' => 'y',
        // Greek
        'α' | 'Α' => 'a',
        'β' | 'Β' => 'b',
        'ε' | 'Ε' => 'e',
        'η' | 'Η' => 'h',
        'ι' | 'Ι' => 'i',
        'κ' | 'Κ' => 'k',
        'Μ' => 'm',
        'ν' | 'Ν' => 'n',
        'ο' | 'Ο' => 'o',
        'ρ' | 'Ρ' => 'p',
        'τ' | 'Τ' => 't',
        'υ' | 'Υ' => 'u',
        'χ' | 'Χ' => 'x',
        'Ζ' => 'z',
        _ => return None,
    })
}

/// A character that continues a Latin word (so a Latin keyword must not start or end next to
/// it): ASCII letters and digits, their full-width forms, and Latin/Greek/Cyrillic letters.
pub(crate) fn is_word_char(c: char) -> bool {
    let u = c as u32;
    c.is_ascii_alphanumeric()
        || matches!(u, 0xFF10..=0xFF19 | 0xFF21..=0xFF3A | 0xFF41..=0xFF5A)
        || ((0xC0..=0x52F).contains(&u) && c.is_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> String {
        normalize(s).text
    }

    #[test]
    fn folds_width_case_script_and_homoglyphs() {
        assert_eq!(n("ＢＯＭＢ"), "bomb");
        assert_eq!(n("BoMb"), "bomb");
        assert_eq!(n("炸彈"), "炸弹");
        assert_eq!(n("bоmb"), "bomb", "Cyrillic о");
        assert_eq!(n("ΒΟΜΒ"), "bomb", "Greek capitals");
        assert_eq!(n("Ünïcode"), "ünïcode");
    }

    #[test]
    fn drops_inserted_separators() {
        for s in [
            "炸 弹",
            "炸*弹",
            "炸，弹",
            "炸、弹",
            "炸·弹",
            "炸・弹",
            "炸😀弹",
            "炸\u{200B}弹",
            "炸\u{FEFF}弹",
            "炸\u{3000}弹",
            "炸｜弹",
            "炸👍🏽弹",
            "炸❤️弹",
        ] {
            assert_eq!(n(s), "炸弹", "{s:?}");
        }
        assert_eq!(n("b.o.m.b"), "bomb");
        assert_eq!(n("b-o_m/b|"), "bomb");
    }

    #[test]
    fn keeps_digits_and_contextual_leet_symbols() {
        assert_eq!(n("b0mb 2024"), "b0mb2024");
        assert_eq!(n("h@ck"), "h@ck");
        assert_eq!(n("@user $5 a$"), "user5a");
        assert_eq!(n("炸$弹"), "炸弹");
    }

    #[test]
    fn offsets_point_into_the_original() {
        let text = "我要 炸-彈 now";
        let norm = normalize(text);
        assert_eq!(norm.text, "我要炸弹now");
        assert_eq!(norm.offsets.len(), norm.text.len());
        let start = norm.text.find("炸弹").unwrap();
        let (s, e) = norm.original_range(text, start, start + "炸弹".len());
        assert_eq!(&text[s..e], "炸-彈");
        let start = norm.text.find("now").unwrap();
        let (s, e) = norm.original_range(text, start, start + 3);
        assert_eq!(&text[s..e], "now");
    }

    #[test]
    fn reused_buffers_give_the_same_result() {
        let mut buf = Normalized::default();
        normalize_into("ＡＢＣ 炸彈", &mut buf);
        normalize_into("x y", &mut buf);
        assert_eq!(buf, normalize("x y"));
        let mut s = String::from("junk");
        normalize_text_into("炸 彈", &mut s);
        assert_eq!(s, "炸弹");
    }
}
