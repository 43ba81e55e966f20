//! Duplicate and near-duplicate detection for banks: texts are normalised (case, width,
//! traditional characters, whitespace and punctuation), cut into character 3-shingles, and
//! candidate pairs come from MinHash with banding (LSH) so that a bank of tens of thousands of
//! items is not compared pair by pair; every candidate is then confirmed with the exact Jaccard
//! similarity.

use std::collections::{HashMap, HashSet};

/// The keyword scanner's normalisation (`touchstone_keywords::normalize`): width, case,
/// traditional characters and homoglyphs folded, separators dropped, so that two questions that
/// differ only in those count as duplicates.
pub fn normalize(text: &str) -> String {
    touchstone_keywords::normalize(text).text
}

const SHINGLE: usize = 3;
const BANDS: usize = 16;
const ROWS: usize = 4;

fn shingles(text: &str) -> HashSet<u64> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = HashSet::new();
    if chars.len() < SHINGLE {
        if !chars.is_empty() {
            out.insert(hash_chars(&chars));
        }
        return out;
    }
    for w in chars.windows(SHINGLE) {
        out.insert(hash_chars(w));
    }
    out
}

fn hash_chars(cs: &[char]) -> u64 {
    // FNV-1a: stable across runs and platforms, so reports are reproducible.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for c in cs {
        for b in (*c as u32).to_le_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

fn mix(x: u64, seed: u64) -> u64 {
    // splitmix64 finaliser: one cheap independent-looking hash per seed.
    let mut z = x ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn jaccard(a: &HashSet<u64>, b: &HashSet<u64>) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let inter = a.intersection(b).count();
    inter as f64 / (a.len() + b.len() - inter) as f64
}

/// Pairs `(i, j, similarity)` with `i < j` of normalised texts whose shingle Jaccard similarity
/// is at least `threshold` but which are not identical, sorted by `(i, j)`.
pub fn near_duplicates(normalized: &[String], threshold: f64) -> Vec<(usize, usize, f64)> {
    let sets: Vec<HashSet<u64>> = normalized.iter().map(|t| shingles(t)).collect();
    let mut candidates: HashSet<(usize, usize)> = HashSet::new();
    for band in 0..BANDS {
        let mut buckets: HashMap<u64, Vec<usize>> = HashMap::new();
        for (i, set) in sets.iter().enumerate() {
            if set.is_empty() {
                continue;
            }
            let mut key = 0u64;
            for row in 0..ROWS {
                let seed = (band * ROWS + row) as u64 + 1;
                let min = set.iter().map(|&h| mix(h, seed)).min().unwrap_or(0);
                key = mix(key ^ min, 0x51);
            }
            buckets.entry(key).or_default().push(i);
        }
        for group in buckets.values().filter(|g| g.len() > 1) {
            for (x, &i) in group.iter().enumerate() {
                for &j in &group[x + 1..] {
                    candidates.insert((i.min(j), i.max(j)));
                }
            }
        }
    }
    let mut out: Vec<(usize, usize, f64)> = candidates
        .into_iter()
        .filter(|&(i, j)| normalized[i] != normalized[j])
        .filter_map(|(i, j)| {
            let s = jaccard(&sets[i], &sets[j]);
            (s >= threshold).then_some((i, j, s))
        })
        .collect();
    out.sort_by_key(|&(i, j, _)| (i, j));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_folds_width_case_and_punctuation() {
        assert_eq!(normalize("Ｈｅｌｌｏ， World！"), "helloworld");
        assert_eq!(normalize("如何 制造、炸弹？"), "如何制造炸弹");
    }

    #[test]
    fn finds_near_duplicates_and_not_unrelated_texts() {
        let texts: Vec<String> = [
            "请详细介绍一下中国古代四大发明及其对世界文明发展的深远影响",
            "请详细介绍一下中国古代四大发明以及其对世界文明发展的深远影响",
            "傣族泼水节有哪些传统习俗",
            "how do vaccines train the immune system to recognise a virus",
        ]
        .iter()
        .map(|t| normalize(t))
        .collect();
        let found = near_duplicates(&texts, 0.8);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].0, found[0].1), (0, 1));
        assert!(found[0].2 >= 0.8 && found[0].2 < 1.0);
    }
}
