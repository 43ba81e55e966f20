//! The labelled set the refusal detector is measured on (`crates/scorers/data/refusal/`), and
//! the confusion matrix that measures it.

use serde_json::Value;

use super::detector::RefusalLabel;

/// One line of a labelled set of responses (`crates/scorers/data/refusal/labelled.jsonl`).
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledResponse {
    pub id: String,
    /// Where the prompt came from (`xstest`, `advbench`, …), for per-source figures.
    pub source: String,
    /// `en` or `zh`: the language of the response.
    pub lang: String,
    /// `dev` or `test`.
    pub split: String,
    pub label: RefusalLabel,
    pub response: String,
    /// The public set's id of the prompt, when the prompt is public (its text is not copied).
    pub prompt_id: Option<String>,
    /// The prompt's text, for prompts written for the set itself.
    pub prompt: Option<String>,
}

/// Reads a labelled set (JSONL: `id`, `source`, `lang`, `split`, `label`, `response`, optional
/// `prompt_id` and `prompt`; other fields ignored). `origin` names the file in errors, which
/// give the line and the field.
pub fn parse_labelled(text: &str, origin: &str) -> Result<Vec<LabelledResponse>, String> {
    let mut out = Vec::new();
    let mut ids = std::collections::HashSet::new();
    for (i, line) in text.lines().enumerate() {
        let at = format!("{origin}:{}", i + 1);
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line).map_err(|e| {
            format!("{at}: not a JSON object: {e}; each line must be one JSON object")
        })?;
        let field = |name: &str| -> Result<String, String> {
            match v.get(name) {
                Some(Value::String(s)) => Ok(s.clone()),
                Some(other) => Err(format!(
                    "{at}: field `{name}` must be a string, found {other}"
                )),
                None => Err(format!("{at}: field `{name}` is missing")),
            }
        };
        let optional = |name: &str| -> Result<Option<String>, String> {
            match v.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(_) => field(name).map(Some),
            }
        };
        let id = field("id")?;
        if !ids.insert(id.clone()) {
            return Err(format!("{at}: id `{id}` appears twice; ids must be unique"));
        }
        let label = field("label")?
            .parse::<RefusalLabel>()
            .map_err(|e| format!("{at}: field `label`: {e}"))?;
        let split = field("split")?;
        if split != "dev" && split != "test" {
            return Err(format!(
                "{at}: field `split` must be `dev` or `test`, found `{split}`"
            ));
        }
        out.push(LabelledResponse {
            id,
            source: field("source")?,
            lang: field("lang")?,
            split,
            label,
            response: field("response")?,
            prompt_id: optional("prompt_id")?,
            prompt: optional("prompt")?,
        });
    }
    Ok(out)
}

/// The split a labelled line belongs to, from its id: FNV-1a (64-bit) of the id's bytes,
/// `test` when the hash mod 10 is below 3 (about 30%), else `dev`.
pub fn split_of(id: &str) -> &'static str {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    if h % 10 < 3 { "test" } else { "dev" }
}

/// A 3×3 confusion matrix of labels: `counts[truth][predicted]`, in [`RefusalLabel::ALL`] order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Confusion {
    pub counts: [[usize; 3]; 3],
}

/// Which labels count as the positive class in a binary measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Positive {
    /// Only `refusal` is positive; `partial` counts with `compliance` (the scorer's default).
    Refusal,
    /// `refusal` and `partial` are positive.
    RefusalOrPartial,
}

impl Positive {
    fn contains(self, label: RefusalLabel) -> bool {
        match self {
            Positive::Refusal => label == RefusalLabel::Refusal,
            Positive::RefusalOrPartial => label != RefusalLabel::Compliance,
        }
    }
}

fn index(label: RefusalLabel) -> usize {
    match label {
        RefusalLabel::Refusal => 0,
        RefusalLabel::Partial => 1,
        RefusalLabel::Compliance => 2,
    }
}

impl Confusion {
    pub fn add(&mut self, truth: RefusalLabel, predicted: RefusalLabel) {
        self.counts[index(truth)][index(predicted)] += 1;
    }

    pub fn n(&self) -> usize {
        self.counts.iter().flatten().sum()
    }

    /// True positives, false positives, false negatives for a binary reading.
    fn binary(&self, positive: Positive) -> (usize, usize, usize) {
        let (mut tp, mut fp, mut fne) = (0, 0, 0);
        for t in RefusalLabel::ALL {
            for p in RefusalLabel::ALL {
                let c = self.counts[index(t)][index(p)];
                match (positive.contains(t), positive.contains(p)) {
                    (true, true) => tp += c,
                    (false, true) => fp += c,
                    (true, false) => fne += c,
                    (false, false) => {}
                }
            }
        }
        (tp, fp, fne)
    }

    /// Precision of the positive class; `None` when nothing was predicted positive.
    pub fn precision(&self, positive: Positive) -> Option<f64> {
        let (tp, fp, _) = self.binary(positive);
        (tp + fp > 0).then(|| tp as f64 / (tp + fp) as f64)
    }

    /// Recall of the positive class; `None` when there is no positive example.
    pub fn recall(&self, positive: Positive) -> Option<f64> {
        let (tp, _, fne) = self.binary(positive);
        (tp + fne > 0).then(|| tp as f64 / (tp + fne) as f64)
    }

    /// F1 of the positive class; `None` when there are no positives, predicted or true.
    pub fn f1(&self, positive: Positive) -> Option<f64> {
        let (tp, fp, fne) = self.binary(positive);
        (tp + fp + fne > 0).then(|| 2.0 * tp as f64 / (2 * tp + fp + fne) as f64)
    }

    /// The fraction of exact three-way agreements.
    pub fn accuracy(&self) -> Option<f64> {
        let n = self.n();
        (n > 0).then(|| (0..3).map(|i| self.counts[i][i]).sum::<usize>() as f64 / n as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RefusalLabel::*;

    #[test]
    fn confusion_scores_the_positive_class() {
        let mut c = Confusion::default();
        c.add(Refusal, Refusal);
        c.add(Refusal, Refusal);
        c.add(Refusal, Compliance);
        c.add(Partial, Refusal);
        c.add(Compliance, Compliance);
        assert_eq!(c.n(), 5);
        assert_eq!(c.precision(Positive::Refusal), Some(2.0 / 3.0));
        assert_eq!(c.recall(Positive::Refusal), Some(2.0 / 3.0));
        assert_eq!(c.f1(Positive::Refusal), Some(2.0 / 3.0));
        assert_eq!(c.precision(Positive::RefusalOrPartial), Some(1.0));
        assert_eq!(c.recall(Positive::RefusalOrPartial), Some(0.75));
        assert_eq!(c.accuracy(), Some(0.6));
        assert_eq!(Confusion::default().f1(Positive::Refusal), None);
    }

    #[test]
    fn labelled_lines_parse_with_located_errors() {
        let ok = r#"{"id":"a","lang":"en","split":"dev","label":"refusal","response":"No.","source":"x"}"#;
        let got = parse_labelled(ok, "f.jsonl").unwrap();
        assert_eq!(got[0].label, Refusal);
        let bad_label = ok
            .replace("\"refusal\"", "\"nope\"")
            .replace("\"a\"", "\"b\"");
        let e = parse_labelled(&format!("{ok}\n\n{bad_label}"), "f.jsonl").unwrap_err();
        assert!(e.starts_with("f.jsonl:3: field `label`"), "{e}");
        let e = parse_labelled(&format!("{ok}\n{ok}"), "f.jsonl").unwrap_err();
        assert!(e.contains("f.jsonl:2: id `a` appears twice"), "{e}");
        let e = parse_labelled(r#"{"id":"a"}"#, "f.jsonl").unwrap_err();
        assert!(e.contains("field `label` is missing"), "{e}");
        let e = parse_labelled("[1", "f.jsonl").unwrap_err();
        assert!(e.starts_with("f.jsonl:1: not a JSON object"), "{e}");
    }

    #[test]
    fn split_is_a_fixed_hash_of_the_id() {
        // FNV-1a of "" is the offset basis, 14695981039346656037 ≡ 7 (mod 10).
        assert_eq!(split_of(""), "dev");
        let test = (0..1000)
            .filter(|i| split_of(&format!("id-{i}")) == "test")
            .count();
        assert!((250..350).contains(&test), "{test} of 1000 in test");
    }
}
