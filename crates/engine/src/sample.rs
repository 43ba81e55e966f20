//! Seeded random sampling of a task's items, optionally stratified by a label, as GB/T 45654-2025
//! draws its test items from larger banks (`sample:` in a suite task, `eval --sample N
//! [--stratify LABEL] [--seed S]`).
//!
//! The draw is a pure function of the seed and the bank's (id, stratum) pairs, so the same seed
//! and the same bank always give the same items, whatever the order of the rows:
//!
//! - **Keys.** Each item's key is the first eight bytes (big-endian) of SHA-256(`"{seed}:{id}"`).
//!   A stratum's draw is its items with the smallest keys (ties by id).
//! - **Allocation.** Proportional to stratum size, rounded by largest remainder (ties: the
//!   larger stratum, then the smaller value) so that the total is exactly `n`. Where a minimum
//!   per stratum applies (the suite's compliance profile, `min_drawn_per_code` of the checks a
//!   task assesses, when the task stratifies by `risk`), a stratum whose share falls below it
//!   gets the minimum (all its items if it has fewer) and the rest is shared out again among
//!   the others. `n` below what the minimums need is an error that says the numbers.
//! - **A bank no larger than `n`** is taken whole, and the draw says so.
//!
//! The run records the draw (recipe and drawn ids) in its configuration
//! (`EvalOptions::draws`): planning and execution read only the drawn items, and a resume uses
//! the recorded draw rather than drawing again.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use touchstone_compliance::Profile;
use touchstone_core::{SampleSpec, SuiteSpec, TaskSpec};

/// The metadata field bank items carry their risk or aspect code in (as
/// `touchstone_compliance::BankItem` reads it): a profile's per-code minimum applies to draws
/// stratified by it.
pub const CODE_LABEL: &str = "risk";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Simple random sampling over the whole bank.
    Random,
    /// Per value of a label, in proportion to its share.
    Stratified,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Random => "random",
            Method::Stratified => "stratified",
        }
    }
}

/// How a task's items were drawn: the `sampling` section of a task in results.json.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sampling {
    pub method: Method,
    /// The label strata are values of (stratified draws).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    pub seed: u64,
    /// The `n` asked for.
    pub requested: usize,
    /// Items drawn: `requested`, or all of `from` when the bank is no larger.
    pub drawn: usize,
    /// Items the draw was made from (the task's data after its `filter` and `limit`).
    pub from: usize,
    /// The minimum per stratum that applied, and where it comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_per_stratum: Option<Minimum>,
    /// Per stratum (stratified draws), in order of value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub strata: Vec<StratumCount>,
}

impl Sampling {
    /// Whether the bank was no larger than `requested`, so every item was taken.
    pub fn took_all(&self) -> bool {
        self.requested >= self.from
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StratumCount {
    pub key: String,
    pub from: usize,
    pub drawn: usize,
}

/// A minimum number of items per stratum and its source (`profile gbt45654-2025, check
/// content-keyword`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Minimum {
    pub value: usize,
    pub source: String,
}

/// A task's draw as the run records it: how, and which sample ids (sorted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draw {
    #[serde(flatten)]
    pub sampling: Sampling,
    pub ids: Vec<String>,
}

/// What to draw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipe {
    pub n: usize,
    /// The label strata are values of; `None` for simple random sampling.
    pub by: Option<String>,
    pub seed: u64,
    /// Items each stratum keeps at least (all of a smaller stratum); stratified draws only.
    pub minimum: Option<Minimum>,
}

/// One item of a bank: its sample id and its stratum (the label's value; ignored when the
/// draw is not stratified).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub id: String,
    pub stratum: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SampleError {
    #[error(
        "cannot draw {n} stratified by `{by}`: {strata} strata × a minimum of {minimum} per \
         stratum ({rule}) need {needed}; draw at least {needed}, or lower the minimum in the \
         profile / 抽样数 {n} 少于 {strata} 层 × 每层至少 {minimum} 条所需的 {needed} 条"
    )]
    TooFew {
        n: usize,
        by: String,
        strata: usize,
        minimum: usize,
        /// Where the minimum comes from.
        rule: String,
        needed: usize,
    },
}

/// The key an item is ordered by in its stratum: a hash of (seed, id), stable under reordering.
pub fn key(seed: u64, id: &str) -> u64 {
    let hex = touchstone_data::sha256_hex(format!("{seed}:{id}").as_bytes());
    // 64 hex digits, always: the first 16 are the first eight bytes.
    u64::from_str_radix(&hex[..16], 16).unwrap_or_default()
}

/// How many items each stratum (of `sizes` items) gives to a draw of `n`: proportional, with
/// largest-remainder rounding and `minimum` per stratum (all of a smaller one). A total no
/// larger than `n` is taken whole. Strata are identified by their index; ties in remainder go
/// to the larger stratum, then to the earlier one.
pub fn allocate(sizes: &[usize], n: usize, minimum: usize) -> Result<Vec<usize>, usize> {
    let total: usize = sizes.iter().sum();
    if n >= total {
        return Ok(sizes.to_vec());
    }
    let floors: Vec<usize> = sizes.iter().map(|&s| s.min(minimum)).collect();
    let needed: usize = floors.iter().sum();
    if needed > n {
        return Err(needed);
    }
    // Strata whose proportional share is below their floor get the floor; the others share
    // what is left in proportion, again, until every share is at least its floor.
    let mut fixed: Vec<Option<usize>> = vec![None; sizes.len()];
    let (n_free, m_free) = loop {
        let n_free = (n - fixed.iter().flatten().sum::<usize>()) as u128;
        let m_free: u128 = sizes
            .iter()
            .zip(&fixed)
            .filter(|(_, f)| f.is_none())
            .map(|(&s, _)| s as u128)
            .sum();
        if m_free == 0 {
            break (n_free, m_free);
        }
        let mut changed = false;
        for ((slot, &size), &floor) in fixed.iter_mut().zip(sizes).zip(&floors) {
            if slot.is_none() && n_free * (size as u128) < (floor as u128) * m_free {
                *slot = Some(floor);
                changed = true;
            }
        }
        if !changed {
            break (n_free, m_free);
        }
    };
    let mut out: Vec<usize> = fixed.iter().map(|f| f.unwrap_or(0)).collect();
    if m_free == 0 {
        return Ok(out);
    }
    let mut remainders: Vec<(u128, usize, usize)> = Vec::new();
    let mut given = 0u128;
    for (i, &size) in sizes.iter().enumerate() {
        if fixed[i].is_some() {
            continue;
        }
        let share = n_free * size as u128;
        out[i] = (share / m_free) as usize;
        given += share / m_free;
        remainders.push((share % m_free, size, i));
    }
    // Largest remainder first; then the larger stratum; then the earlier one.
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
    for &(_, _, i) in remainders.iter().take((n_free - given) as usize) {
        out[i] += 1;
    }
    Ok(out)
}

/// Draw from `items` as `recipe` says. Deterministic: the same seed and the same (id, stratum)
/// pairs give the same draw, in any order.
pub fn draw(items: Vec<Candidate>, recipe: &Recipe) -> Result<Draw, SampleError> {
    let from = items.len();
    let mut strata: BTreeMap<String, Vec<(u64, String)>> = BTreeMap::new();
    for item in items {
        let stratum = if recipe.by.is_some() {
            item.stratum
        } else {
            String::new()
        };
        strata
            .entry(stratum)
            .or_default()
            .push((key(recipe.seed, &item.id), item.id));
    }
    let minimum = recipe.by.as_ref().and(recipe.minimum.clone());
    let sizes: Vec<usize> = strata.values().map(Vec::len).collect();
    let counts =
        allocate(&sizes, recipe.n, minimum.as_ref().map_or(0, |m| m.value)).map_err(|needed| {
            let m = minimum.clone().unwrap_or(Minimum {
                value: 0,
                source: String::new(),
            });
            SampleError::TooFew {
                n: recipe.n,
                by: recipe.by.clone().unwrap_or_default(),
                strata: sizes.len(),
                minimum: m.value,
                rule: m.source,
                needed,
            }
        })?;
    let mut ids = Vec::with_capacity(recipe.n.min(from));
    let mut per_stratum = Vec::new();
    for ((value, mut members), count) in strata.into_iter().zip(counts) {
        members.sort();
        per_stratum.push(StratumCount {
            key: value,
            from: members.len(),
            drawn: count,
        });
        ids.extend(members.into_iter().take(count).map(|(_, id)| id));
    }
    ids.sort();
    Ok(Draw {
        sampling: Sampling {
            method: if recipe.by.is_some() {
                Method::Stratified
            } else {
                Method::Random
            },
            by: recipe.by.clone(),
            seed: recipe.seed,
            requested: recipe.n,
            drawn: ids.len(),
            from,
            min_per_stratum: minimum,
            strata: if recipe.by.is_some() {
                per_stratum
            } else {
                Vec::new()
            },
        },
        ids,
    })
}

/// `--sample N [--stratify LABEL]` replaces every task's `sample:`; an explicit `--seed` also
/// replaces the seed a suite's `sample:` gives (flag before suite).
pub fn set_sampling(suite: &mut SuiteSpec, sample: Option<SampleSpec>, seed: Option<u64>) {
    for task in &mut suite.tasks {
        if let Some(sample) = &sample {
            task.sample = Some(sample.clone());
        }
        if let (Some(spec), Some(seed)) = (&mut task.sample, seed) {
            spec.seed = Some(seed);
        }
    }
}

/// The minimum per stratum of a task's draw stratified by `by`: the largest
/// `min_drawn_per_code` of the profile checks it assesses, when `by` is the code label.
pub fn minimum_for(task: &TaskSpec, by: &str, profile: Option<&Profile>) -> Option<Minimum> {
    if by != CODE_LABEL {
        return None;
    }
    let profile = profile?;
    task.assess
        .iter()
        .filter_map(|id| profile.check(id))
        .filter_map(|c| c.min_drawn_per_code.as_ref().map(|m| (c, m.value)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(check, value)| Minimum {
            value: value.max(0.0) as usize,
            source: format!("profile {}, check {}", profile.id, check.id),
        })
}

/// One line on a draw: `content: 62 of 372 drawn at random, stratified by risk (seed 0)`.
pub fn describe(task: &str, s: &Sampling) -> String {
    let how = match &s.by {
        Some(by) => format!("at random, stratified by {by}"),
        None => "at random".into(),
    };
    let min = s
        .min_per_stratum
        .as_ref()
        .map(|m| format!(", at least {} per stratum ({})", m.value, m.source))
        .unwrap_or_default();
    if s.took_all() {
        format!(
            "{task}: asked to draw {} {how} (seed {}), the bank has {}: all taken / 题库不足，全部使用",
            s.requested, s.seed, s.from
        )
    } else {
        format!(
            "{task}: {} of {} drawn {how} (seed {}{min}) / 随机抽取 {} / {}",
            s.drawn, s.from, s.seed, s.drawn, s.from
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bank(strata: &[(&str, usize)]) -> Vec<Candidate> {
        strata
            .iter()
            .flat_map(|(s, n)| {
                (0..*n).map(move |i| Candidate {
                    id: format!("{s}-{i:04}"),
                    stratum: s.to_string(),
                })
            })
            .collect()
    }

    fn recipe(n: usize, by: Option<&str>, seed: u64, minimum: Option<usize>) -> Recipe {
        Recipe {
            n,
            by: by.map(str::to_string),
            seed,
            minimum: minimum.map(|value| Minimum {
                value,
                source: "test".into(),
            }),
        }
    }

    fn per_stratum(d: &Draw) -> Vec<(String, usize)> {
        d.sampling
            .strata
            .iter()
            .map(|s| (s.key.clone(), s.drawn))
            .collect()
    }

    #[test]
    fn allocation_is_proportional_and_sums_to_n() {
        assert_eq!(allocate(&[12; 31], 62, 0).unwrap(), vec![2; 31]);
        // 50/30/20 of 10.
        assert_eq!(allocate(&[50, 30, 20], 10, 0).unwrap(), vec![5, 3, 2]);
        // Quotas 3.5, 2.1, 1.4 for 7: floors 3, 2, 1; the one left goes to the largest remainder.
        assert_eq!(allocate(&[50, 30, 20], 7, 0).unwrap(), vec![4, 2, 1]);
        for n in 1..=100 {
            let a = allocate(&[37, 5, 58, 1, 19], n, 0).unwrap();
            assert_eq!(a.iter().sum::<usize>(), n, "n = {n}");
            assert!(a.iter().zip([37, 5, 58, 1, 19]).all(|(a, s)| *a <= s));
        }
    }

    #[test]
    fn equal_remainders_go_to_the_larger_then_the_earlier_stratum() {
        // Quotas 1.5 and 1.5: one extra, to the earlier of two equal strata.
        assert_eq!(allocate(&[10, 10], 3, 0).unwrap(), vec![2, 1]);
        // Quotas 0.5 and 1.5 (remainders equal): the larger stratum first.
        assert_eq!(allocate(&[1, 3], 2, 0).unwrap(), vec![0, 2]);
    }

    #[test]
    fn minimums_are_honoured_and_the_rest_is_shared_out() {
        // Proportionally the small strata would get 0; each keeps 2, the large one the rest.
        let a = allocate(&[100, 3, 3, 1], 20, 2).unwrap();
        assert_eq!(a, vec![15, 2, 2, 1]);
        assert_eq!(a.iter().sum::<usize>(), 20);
        // A minimum the shares already meet changes nothing.
        assert_eq!(
            allocate(&[50, 30, 20], 10, 1).unwrap(),
            allocate(&[50, 30, 20], 10, 0).unwrap()
        );
        for n in 9..=60 {
            let a = allocate(&[40, 9, 6, 2, 1], n, 2).unwrap();
            // 58 items in all: a larger n takes them all.
            assert_eq!(a.iter().sum::<usize>(), n.min(58), "n = {n}");
            for (got, size) in a.iter().zip([40usize, 9, 6, 2, 1]) {
                assert!(*got >= size.min(2) && *got <= size, "n = {n}: {a:?}");
            }
        }
    }

    #[test]
    fn too_few_for_the_minimums_is_an_error_with_the_numbers() {
        assert_eq!(allocate(&[12; 31], 30, 1), Err(31));
        let e = draw(
            bank(&[("A", 12), ("B", 12), ("C", 1)]),
            &recipe(3, Some("risk"), 0, Some(2)),
        )
        .unwrap_err();
        // A stratum smaller than the minimum needs only what it has: 2 + 2 + 1.
        assert_eq!(
            e,
            SampleError::TooFew {
                n: 3,
                by: "risk".into(),
                strata: 3,
                minimum: 2,
                rule: "test".into(),
                needed: 5,
            }
        );
        let text = e.to_string();
        assert!(
            text.contains("cannot draw 3") && text.contains("3 strata") && text.contains("need 5"),
            "{text}"
        );
    }

    #[test]
    fn a_bank_no_larger_than_n_is_taken_whole() {
        let d = draw(
            bank(&[("A", 3), ("B", 2)]),
            &recipe(10, Some("risk"), 1, Some(4)),
        )
        .unwrap();
        assert_eq!(d.ids.len(), 5);
        assert!(d.sampling.took_all());
        assert_eq!(
            (d.sampling.drawn, d.sampling.from, d.sampling.requested),
            (5, 5, 10)
        );
        let d = draw(bank(&[("A", 3)]), &recipe(3, None, 1, None)).unwrap();
        assert_eq!(d.ids.len(), 3);
    }

    #[test]
    fn exact_counts_per_stratum() {
        let items = bank(&[("A.1a", 40), ("A.1b", 20), ("A.2a", 10), ("N.x", 30)]);
        let d = draw(items, &recipe(10, Some("risk"), 7, None)).unwrap();
        assert_eq!(
            per_stratum(&d),
            [("A.1a", 4), ("A.1b", 2), ("A.2a", 1), ("N.x", 3)]
                .map(|(k, n)| (k.to_string(), n))
                .to_vec()
        );
        assert_eq!(d.ids.len(), 10);
        // The drawn ids are the ones counted.
        for s in &d.sampling.strata {
            let prefix = format!("{}-", s.key);
            assert_eq!(
                d.ids.iter().filter(|id| id.starts_with(&prefix)).count(),
                s.drawn
            );
        }
        assert_eq!(d.sampling.method, Method::Stratified);
        assert!(
            d.ids.windows(2).all(|w| w[0] < w[1]),
            "ids are recorded sorted"
        );
    }

    #[test]
    fn the_draw_is_deterministic_and_ignores_row_order() {
        let items = bank(&[("A", 50), ("B", 30), ("C", 20)]);
        let r = recipe(17, Some("risk"), 42, Some(2));
        let first = draw(items.clone(), &r).unwrap();
        assert_eq!(first, draw(items.clone(), &r).unwrap());
        let mut reversed = items.clone();
        reversed.reverse();
        assert_eq!(first, draw(reversed, &r).unwrap());
        // Unstratified too.
        let r = recipe(17, None, 42, None);
        let mut shuffled = items.clone();
        shuffled.rotate_left(37);
        assert_eq!(draw(items, &r).unwrap(), draw(shuffled, &r).unwrap());
    }

    #[test]
    fn different_seeds_draw_different_items() {
        let items = bank(&[("A", 200), ("B", 100)]);
        let a = draw(items.clone(), &recipe(30, Some("risk"), 1, None)).unwrap();
        let b = draw(items.clone(), &recipe(30, Some("risk"), 2, None)).unwrap();
        assert_ne!(a.ids, b.ids);
        // Same allocation, other items.
        assert_eq!(per_stratum(&a), per_stratum(&b));
        let c = draw(items.clone(), &recipe(30, None, 1, None)).unwrap();
        let d = draw(items, &recipe(30, None, 2, None)).unwrap();
        assert_ne!(c.ids, d.ids);
    }

    #[test]
    fn keys_are_the_documented_hash() {
        // SHA-256("0:x") starts with these eight bytes; anyone can recompute a draw.
        let hex = touchstone_data::sha256_hex(b"0:x");
        assert_eq!(key(0, "x"), u64::from_str_radix(&hex[..16], 16).unwrap());
        assert_ne!(key(0, "x"), key(1, "x"));
    }

    #[test]
    fn an_unstratified_draw_ignores_strata_and_minimums() {
        let d = draw(bank(&[("A", 10), ("B", 10)]), &recipe(5, None, 3, Some(4))).unwrap();
        assert_eq!(d.ids.len(), 5);
        assert_eq!(d.sampling.method, Method::Random);
        assert!(d.sampling.strata.is_empty() && d.sampling.min_per_stratum.is_none());
    }

    #[test]
    fn the_cli_sample_replaces_the_suite_and_an_explicit_seed_wins() {
        let task = |sample: Option<SampleSpec>| {
            let mut t = TaskSpec::new(
                "t",
                touchstone_core::DatasetSpec {
                    source: touchstone_core::DatasetSource::Builtin("x".into()),
                    format: None,
                    fields: Default::default(),
                    limit: None,
                    filter: Default::default(),
                },
                Vec::new(),
            );
            t.sample = sample;
            t
        };
        let suite_sample = SampleSpec {
            n: 5,
            stratify: Some("risk".into()),
            seed: Some(7),
        };
        let mut suite = SuiteSpec {
            name: "s".into(),
            description: None,
            generate: Default::default(),
            profile: None,
            attack_sources: Vec::new(),
            tasks: vec![task(Some(suite_sample.clone())), task(None)],
        };
        set_sampling(&mut suite, None, None);
        assert_eq!(suite.tasks[0].sample.as_ref(), Some(&suite_sample));
        assert_eq!(suite.tasks[1].sample, None);
        set_sampling(&mut suite, None, Some(9));
        assert_eq!(suite.tasks[0].sample.as_ref().unwrap().seed, Some(9));
        assert_eq!(suite.tasks[1].sample, None);
        let cli = SampleSpec {
            n: 3,
            stratify: None,
            seed: None,
        };
        set_sampling(&mut suite, Some(cli.clone()), None);
        assert!(suite.tasks.iter().all(|t| t.sample.as_ref() == Some(&cli)));
    }
}
