//! Generates the static tables of this crate into `$OUT_DIR/tables.rs`:
//! - traditional → simplified, from fast2s (see Cargo.toml for why), as a dense array;
//! - simplified → traditional, its inverse, with `data/s2t_preferred.txt` choosing among forms;
//! - the curated 拆字 and homophone tables, validated with line numbers.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

#[allow(dead_code)]
#[path = "src/data.rs"]
mod data;

use pinyin::ToPinyinMulti;

fn fail(file: &str, e: impl std::fmt::Display) -> ! {
    // A build script reports by panicking; the message is what cargo shows.
    panic!("\n\ncrates/zh/data/{file}: {e}\n(fix the data file and rebuild)\n");
}

fn read(file: &str) -> String {
    println!("cargo:rerun-if-changed=data/{file}");
    std::fs::read_to_string(Path::new("data").join(file))
        .unwrap_or_else(|e| fail(file, format!("cannot read: {e}")))
}

fn readings(c: char) -> BTreeSet<&'static str> {
    c.to_pinyin_multi()
        .map(|m| m.into_iter().map(|p| p.plain()).collect())
        .unwrap_or_default()
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/data.rs");
    let mut out = String::new();

    // Traditional → simplified. fast2s maps only three-byte (BMP) characters; ask it about each.
    let mut t2s: BTreeMap<u32, u32> = BTreeMap::new();
    for u in 0x0800u32..=0xFFFF {
        let Some(c) = char::from_u32(u) else { continue };
        let s = fast2s::convert(&c.to_string());
        let mut it = s.chars();
        if let (Some(d), None) = (it.next(), it.next())
            && d != c
        {
            t2s.insert(u, d as u32);
        }
    }
    // Resolve chains (a → b → c) so that to_simplified is idempotent.
    let keys: Vec<u32> = t2s.keys().copied().collect();
    for k in keys {
        let mut v = t2s[&k];
        let mut steps = 0;
        while let Some(&next) = t2s.get(&v) {
            v = next;
            steps += 1;
            assert!(steps < 8, "cycle in the t2s table at U+{k:04X}");
        }
        t2s.insert(k, v);
    }
    let start = *t2s.keys().next().expect("fast2s gave an empty table");
    let end = *t2s.keys().next_back().unwrap();
    let len = (end - start + 1) as usize;
    writeln!(out, "const T2S_START: u32 = {start};").unwrap();
    writeln!(out, "const T2S_LEN: u32 = {len};").unwrap();
    writeln!(
        out,
        "/// 0 = unchanged, else the simplified code point (all in the BMP)."
    )
    .unwrap();
    write!(out, "static T2S: [u16; {len}] = [").unwrap();
    for u in start..=end {
        let v = t2s.get(&u).copied().unwrap_or(0);
        write!(out, "{v},").unwrap();
    }
    writeln!(out, "];").unwrap();

    // Simplified → traditional.
    let mut candidates: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for (&t, &s) in &t2s {
        candidates.entry(s).or_default().push(t);
    }
    let preferred = data::parse_preferred(&read("s2t_preferred.txt"))
        .unwrap_or_else(|e| fail("s2t_preferred.txt", e));
    let mut chosen: BTreeMap<u32, u32> = BTreeMap::new();
    for (&s, ts) in &candidates {
        chosen.insert(s, ts[0]); // lowest code point unless the preferred file says otherwise
    }
    for (s, t, line) in preferred {
        let (s, t) = (s as u32, t as u32);
        let Some(ts) = candidates.get(&s) else {
            fail(
                "s2t_preferred.txt",
                format!(
                    "line {line}: `{}` has no traditional form in the table; remove the line",
                    char::from_u32(s).unwrap()
                ),
            );
        };
        if t == s {
            chosen.remove(&s);
        } else if ts.contains(&t) {
            chosen.insert(s, t);
        } else {
            fail(
                "s2t_preferred.txt",
                format!(
                    "line {line}: `{}` is not a traditional form of `{}`; choose one of {}",
                    char::from_u32(t).unwrap(),
                    char::from_u32(s).unwrap(),
                    ts.iter()
                        .map(|&t| char::from_u32(t).unwrap())
                        .collect::<String>()
                ),
            );
        }
    }
    write!(out, "static S2T: [(u16, u16); {}] = [", chosen.len()).unwrap();
    for (s, t) in &chosen {
        write!(out, "({s},{t}),").unwrap();
    }
    writeln!(out, "];").unwrap();

    // 拆字.
    let split = data::parse_split(&read("split.txt")).unwrap_or_else(|e| fail("split.txt", e));
    let mut split: Vec<(char, String)> = split;
    split.sort();
    write!(out, "static SPLIT: [(char, &str); {}] = [", split.len()).unwrap();
    for (c, parts) in &split {
        write!(out, "({c:?},{parts:?}),").unwrap();
    }
    writeln!(out, "];").unwrap();

    // Homophones: each must share a toneless reading with its character.
    let text = read("homophones.txt");
    let homophones = data::parse_homophones(&text).unwrap_or_else(|e| fail("homophones.txt", e));
    let lines: BTreeMap<char, usize> = text
        .lines()
        .enumerate()
        .filter_map(|(i, l)| l.chars().next().map(|c| (c, i + 1)))
        .collect();
    let mut homophones = homophones;
    homophones.sort();
    write!(
        out,
        "static HOMOPHONES: [(char, &[char]); {}] = [",
        homophones.len()
    )
    .unwrap();
    for (c, list) in &homophones {
        let mine = readings(*c);
        for h in list {
            if readings(*h).is_disjoint(&mine) {
                fail(
                    "homophones.txt",
                    format!(
                        "line {}: `{h}` ({:?}) does not sound like `{c}` ({:?}); list only characters with the same toneless pinyin",
                        lines.get(c).copied().unwrap_or(0),
                        readings(*h),
                        mine
                    ),
                );
            }
        }
        write!(out, "({c:?},&{list:?}),").unwrap();
    }
    writeln!(out, "];").unwrap();

    let dest = Path::new(&std::env::var_os("OUT_DIR").unwrap()).join("tables.rs");
    std::fs::write(dest, out).unwrap();
}
