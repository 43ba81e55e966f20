//! The acceptance sweep: change any single byte of a certificate and verification fails.
//!
//! For every byte position of a sample certificate (with two file subjects and a log proof in a
//! tree of five leaves) the byte is replaced by `b ^ 0x01`, and additionally by the other
//! whitespace character for spaces and newlines, by `b ^ 0x20` for ASCII letters (case), and by
//! a neighbouring hex digit for hex digits. Every variant must be rejected.

mod common;

use std::collections::BTreeMap;
use std::time::Instant;

use touchstone_trust::{VerifyError, VerifyOptions, verify};

fn variants(b: u8) -> Vec<u8> {
    let mut v = vec![b ^ 0x01];
    match b {
        b' ' => v.push(b'\n'),
        b'\n' => v.push(b' '),
        _ => {}
    }
    if b.is_ascii_alphabetic() {
        v.push(b ^ 0x20);
    }
    if b.is_ascii_hexdigit() {
        v.push(match b {
            b'9' => b'a',
            b'f' => b'0',
            _ => b + 1,
        });
    }
    v.sort_unstable();
    v.dedup();
    v.retain(|x| *x != b);
    v
}

/// One thread's share: the changes it did not detect, and how the others were rejected.
type Tally = (Vec<(usize, u8)>, BTreeMap<String, usize>);

fn kind(e: &VerifyError) -> String {
    let s = format!("{e:?}");
    s.split(['(', ' ', '{']).next().unwrap_or("").to_string()
}

#[test]
fn every_single_byte_change_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, _) = common::sample(dir.path());
    let options = VerifyOptions {
        pubkey: None,
        tree_head: None,
        check_files: Some(dir.path().to_path_buf()),
    };
    verify(&bytes, &options).expect("the untouched certificate verifies");

    let jobs: Vec<(usize, u8)> = bytes
        .iter()
        .enumerate()
        .flat_map(|(i, &b)| variants(b).into_iter().map(move |v| (i, v)))
        .collect();
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(16);
    let started = Instant::now();
    let results: Vec<Tally> = std::thread::scope(|s| {
        let handles: Vec<_> = jobs
            .chunks(jobs.len().div_ceil(threads))
            .map(|chunk| {
                let bytes = &bytes;
                let options = &options;
                s.spawn(move || {
                    let mut undetected = Vec::new();
                    let mut kinds = BTreeMap::new();
                    let mut copy = bytes.clone();
                    for &(i, v) in chunk {
                        let orig = copy[i];
                        copy[i] = v;
                        match verify(&copy, options) {
                            Ok(_) => undetected.push((i, v)),
                            Err(e) => *kinds.entry(kind(&e)).or_insert(0) += 1,
                        }
                        copy[i] = orig;
                    }
                    (undetected, kinds)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut undetected = Vec::new();
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for (u, k) in results {
        undetected.extend(u);
        for (name, n) in k {
            *kinds.entry(name).or_insert(0) += n;
        }
    }
    eprintln!(
        "tamper sweep: {} bytes, {} variants, {} threads, {:?}; rejected as {kinds:?}",
        bytes.len(),
        jobs.len(),
        threads,
        started.elapsed()
    );
    let show: Vec<String> = undetected
        .iter()
        .take(20)
        .map(|(i, v)| {
            let from = bytes[*i] as char;
            let context =
                String::from_utf8_lossy(&bytes[i.saturating_sub(30)..(*i + 10).min(bytes.len())])
                    .into_owned();
            format!("byte {i}: {from:?} -> {:?} in …{context}…", *v as char)
        })
        .collect();
    assert!(
        undetected.is_empty(),
        "{} of {} changes were not detected:\n{}",
        undetected.len(),
        jobs.len(),
        show.join("\n")
    );
    // Every position was covered.
    assert_eq!(
        jobs.iter()
            .map(|j| j.0)
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        bytes.len()
    );
}
