//! Chinese character tables: traditional ↔ simplified, decomposition (拆字), homophones (谐音),
//! toneless pinyin.
//!
//! Pure functions over static tables generated at build time (see `build.rs`): no IO and no
//! allocation at run time. [`to_simplified`] is on the keyword scanner's per-character path, so it
//! is one bounds check and one array index.

pub mod data;

include!(concat!(env!("OUT_DIR"), "/tables.rs"));

/// Whether `c` is a CJK ideograph (a Chinese character, also written in Japanese and Korean):
/// a character of the CJK Unified Ideographs or CJK Compatibility Ideographs blocks, as of
/// Unicode 17:
///
/// | range | block |
/// |---|---|
/// | U+3400–U+4DBF | Extension A |
/// | U+4E00–U+9FFF | CJK Unified Ideographs |
/// | U+F900–U+FAFF | CJK Compatibility Ideographs |
/// | U+20000–U+2A6DF | Extension B |
/// | U+2A700–U+2EE5F | Extensions C, D, E, F and I |
/// | U+2F800–U+2FA1F | CJK Compatibility Ideographs Supplement |
/// | U+30000–U+3347F | Extensions G, H and J |
///
/// Not CJK ideographs: kana, hangul, bopomofo, CJK punctuation (`。`, `、`, U+3000–U+303F),
/// full-width forms (`，`, `Ａ`, U+FF00–U+FFEF), radicals and strokes (U+2E80–U+2FDF,
/// U+31C0–U+31EF), and `〇` (U+3007, in the CJK Symbols and Punctuation block).
#[inline]
pub fn is_cjk(c: char) -> bool {
    matches!(
        c as u32,
        0x3400..=0x4DBF
            | 0x4E00..=0x9FFF
            | 0xF900..=0xFAFF
            | 0x2_0000..=0x2_A6DF
            | 0x2_A700..=0x2_EE5F
            | 0x2_F800..=0x2_FA1F
            | 0x3_0000..=0x3_347F
    )
}

/// The simplified form of a traditional character; any other character is returned unchanged.
/// Idempotent: `to_simplified(to_simplified(c)) == to_simplified(c)`.
#[inline]
pub fn to_simplified(c: char) -> char {
    let i = (c as u32).wrapping_sub(T2S_START);
    if i < T2S_LEN {
        let s = T2S[i as usize];
        if s != 0 {
            // The table holds only valid BMP scalar values; the fallback is never taken.
            return char::from_u32(u32::from(s)).unwrap_or(c);
        }
    }
    c
}

/// The most common traditional form of a simplified character (`data/s2t_preferred.txt` decides
/// where there are several); any other character is returned unchanged. For every `c` that is
/// not itself a traditional-only form (`to_simplified(c) == c`),
/// `to_simplified(to_traditional(c)) == c`.
pub fn to_traditional(c: char) -> char {
    let Ok(u) = u16::try_from(c as u32) else {
        return c;
    };
    match S2T.binary_search_by_key(&u, |&(s, _)| s) {
        Ok(i) => char::from_u32(u32::from(S2T[i].1)).unwrap_or(c),
        Err(_) => c,
    }
}

/// The written parts of a character (拆字), e.g. `好` → `"女子"`, `炸` → `"火乍"`, from the
/// curated `data/split.txt`; `None` for characters not in it. Traditional characters are looked up
/// by their simplified form.
pub fn components(c: char) -> Option<&'static str> {
    let find = |c: char| {
        SPLIT
            .binary_search_by_key(&c, |&(k, _)| k)
            .ok()
            .map(|i| SPLIT[i].1)
    };
    find(c).or_else(|| {
        let s = to_simplified(c);
        if s != c { find(s) } else { None }
    })
}

/// Characters with the same toneless pinyin that are commonly written instead of `c` to evade
/// filters (谐音), e.g. `炸` → `['榨', '咋']`, from the curated `data/homophones.txt`; empty for
/// characters not in it.
pub fn homophones(c: char) -> &'static [char] {
    let c = to_simplified(c);
    match HOMOPHONES.binary_search_by_key(&c, |&(k, _)| k) {
        Ok(i) => HOMOPHONES[i].1,
        Err(_) => &[],
    }
}

/// The toneless pinyin of a character's most common reading, e.g. `中` → `"zhong"`, `绿` →
/// `"lü"` (ü is kept); `None` for characters without a reading.
pub fn pinyin(c: char) -> Option<&'static str> {
    use pinyin::ToPinyin;
    c.to_pinyin().map(|p| p.plain())
}

/// Every toneless reading of a character (several for 多音字 such as `咋`: za, ze, zha), most
/// common first, without repeats.
pub fn pinyin_all(c: char) -> Vec<&'static str> {
    use pinyin::ToPinyinMulti;
    let mut out: Vec<&'static str> = Vec::new();
    if let Some(m) = c.to_pinyin_multi() {
        for p in m {
            if !out.contains(&p.plain()) {
                out.push(p.plain());
            }
        }
    }
    out
}

/// The number of entries in each table, for reports and tests: (traditional→simplified pairs,
/// 拆字 entries, homophone entries).
pub fn table_sizes() -> (usize, usize, usize) {
    let t2s = T2S.iter().filter(|&&s| s != 0).count();
    (t2s, SPLIT.len(), HOMOPHONES.len())
}

/// Every character `components` knows, in code-point order.
pub fn split_chars() -> impl Iterator<Item = char> {
    SPLIT.iter().map(|&(c, _)| c)
}

/// Every character `homophones` knows, in code-point order.
pub fn homophone_chars() -> impl Iterator<Item = char> {
    HOMOPHONES.iter().map(|&(c, _)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_cjk_is_the_ideograph_blocks() {
        // Each block's first and last code point, and its neighbours outside it.
        for (first, last) in [
            (0x3400, 0x4DBF),
            (0x4E00, 0x9FFF),
            (0xF900, 0xFAFF),
            (0x2_0000, 0x2_A6DF),
            (0x2_A700, 0x2_EE5F),
            (0x2_F800, 0x2_FA1F),
            (0x3_0000, 0x3_347F),
        ] {
            for inside in [first, last] {
                let c = char::from_u32(inside).unwrap();
                assert!(is_cjk(c), "U+{inside:04X}");
            }
            for outside in [first - 1, last + 1] {
                let c = char::from_u32(outside).unwrap();
                assert!(!is_cjk(c), "U+{outside:04X}");
            }
        }
        for c in ['中', '國', '㐀', '𠀀', '𪜀', '丽', '炸'] {
            assert!(is_cjk(c), "{c}");
        }
        // Kana, hangul, bopomofo, CJK and full-width punctuation, full-width letters, radicals,
        // strokes, the ideographic zero, Latin, digits, emoji.
        for c in [
            'あ', 'ア', '한', 'ㄅ', '。', '、', '「', '，', '！', 'Ａ', '⺀', '⼀', '㇀', '〇',
            'a', '1', ' ', '😀', 'é',
        ] {
            assert!(!is_cjk(c), "{c} (U+{:04X})", c as u32);
        }
    }

    #[test]
    fn every_table_character_is_cjk() {
        for c in split_chars().chain(homophone_chars()) {
            assert!(is_cjk(c), "{c} (U+{:04X})", c as u32);
            assert!(homophones(c).iter().all(|&h| is_cjk(h)), "{c}");
        }
        for c in all_chars().filter(|&c| to_simplified(c) != c) {
            assert!(is_cjk(c) && is_cjk(to_simplified(c)), "{c}");
        }
    }

    fn all_chars() -> impl Iterator<Item = char> {
        (0..=0x3_FFFFu32).filter_map(char::from_u32)
    }

    #[test]
    fn simplifies_traditional_characters() {
        for (t, s) in [
            ('彈', '弹'),
            ('槍', '枪'),
            ('殺', '杀'),
            ('襲', '袭'),
            ('賭', '赌'),
            ('詐', '诈'),
            ('騙', '骗'),
            ('錢', '钱'),
            ('後', '后'),
            ('發', '发'),
            ('髮', '发'),
            ('乾', '干'),
        ] {
            assert_eq!(to_simplified(t), s, "{t}");
        }
        for c in ['炸', '毒', 'a', 'Z', '1', ' ', '😀', '中'] {
            assert_eq!(to_simplified(c), c);
        }
    }

    #[test]
    fn simplification_is_idempotent() {
        for c in all_chars() {
            let s = to_simplified(c);
            assert_eq!(to_simplified(s), s, "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn traditional_round_trips_for_every_non_traditional_character() {
        let mut converted = 0;
        for c in all_chars().filter(|&c| to_simplified(c) == c) {
            let t = to_traditional(c);
            assert_eq!(to_simplified(t), c, "{c} → {t}");
            converted += usize::from(t != c);
        }
        assert!(
            converted > 2000,
            "only {converted} characters have a traditional form"
        );
    }

    #[test]
    fn traditional_prefers_the_common_form() {
        for (s, t) in [
            ('弹', '彈'),
            ('发', '發'),
            ('后', '後'),
            ('干', '幹'),
            ('台', '臺'),
            ('钟', '鐘'),
            ('面', '面'),
            ('炸', '炸'),
        ] {
            assert_eq!(to_traditional(s), t, "{s}");
        }
        // Already traditional: unchanged.
        assert_eq!(to_traditional('彈'), '彈');
    }

    #[test]
    fn components_split_characters() {
        assert_eq!(components('好'), Some("女子"));
        assert_eq!(components('炸'), Some("火乍"));
        assert_eq!(components('枪'), Some("木仓"));
        assert_eq!(components('明'), Some("日月"));
        assert_eq!(
            components('槍'),
            Some("木仓"),
            "traditional looks up its simplified form"
        );
        assert_eq!(components('一'), None);
        assert_eq!(components('a'), None);
    }

    #[test]
    fn split_table_is_large_and_covers_sensitive_characters() {
        assert!(split_chars().count() >= 200);
        for c in "炸弹枪毒杀恐袭爆贩赌博情独裂邪教诈骗洗钱".chars() {
            assert!(components(c).is_some(), "{c} has no split");
        }
        for c in split_chars() {
            let parts = components(c).unwrap();
            assert!(parts.chars().count() >= 2 && !parts.contains(c), "{c}");
        }
    }

    #[test]
    fn homophones_sound_the_same() {
        assert!(homophones('炸').contains(&'榨'));
        assert!(homophones('毒').contains(&'独'));
        assert!(homophones('枪').contains(&'抢'));
        assert!(homophones('赌').contains(&'堵'));
        assert!(homophones('杀').contains(&'沙'));
        assert_eq!(
            homophones('彈'),
            homophones('弹'),
            "traditional looks up its simplified form"
        );
        assert!(homophones('a').is_empty());
        let chars: Vec<char> = homophone_chars().collect();
        assert!(chars.len() >= 100);
        for c in chars {
            let mine = pinyin_all(c);
            for &h in homophones(c) {
                assert!(pinyin_all(h).iter().any(|p| mine.contains(p)), "{c} {h}");
            }
        }
    }

    #[test]
    fn toneless_pinyin() {
        assert_eq!(pinyin('中'), Some("zhong"));
        assert_eq!(pinyin('炸'), Some("zha"));
        assert_eq!(pinyin('绿'), Some("lü"));
        assert_eq!(pinyin('a'), None);
        assert_eq!(pinyin_all('咋'), ["za", "ze", "zha"]);
    }

    #[test]
    fn data_errors_name_the_line() {
        let e = data::parse_split("# c\n好\t女子\n炸 火乍\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("tab"), "{e}");
        let e = data::parse_split("好\t女\n").unwrap_err();
        assert_eq!(
            (e.line, e.to_string().contains("two parts")),
            (1, true),
            "{e}"
        );
        let e = data::parse_split("好\t女子\n\n好\t女子\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("first on line 1"), "{e}");
        let e = data::parse_split("好好\t女子\n").unwrap_err();
        assert!(e.message.contains("exactly one character"), "{e}");
        let e = data::parse_split("好\tab\n").unwrap_err();
        assert!(e.message.contains("not a Han"), "{e}");
        let e = data::parse_homophones("炸\t榨榨\n").unwrap_err();
        assert!(e.message.contains("twice"), "{e}");
        let e = data::parse_homophones("炸\t\n").unwrap_err();
        assert!(e.message.contains("empty"), "{e}");
        let e = data::parse_preferred("发\t發髮\n").unwrap_err();
        assert!(e.message.contains("exactly one"), "{e}");
    }

    #[test]
    fn shipped_data_files_parse() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
        let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
        assert_eq!(
            data::parse_split(&read("split.txt")).unwrap().len(),
            split_chars().count()
        );
        assert_eq!(
            data::parse_homophones(&read("homophones.txt"))
                .unwrap()
                .len(),
            homophone_chars().count()
        );
        assert!(data::parse_preferred(&read("s2t_preferred.txt")).is_ok());
    }
}
