//! `POST /v1/completions`: the fake tokenizer, the "copy model" log-probabilities and the
//! response body (rules documented in the crate docs).

use serde::Serialize;
use serde_json::{Map, Value};

/// The top alternative at a position whose token is new: the model would rather stop.
pub const END_OF_TEXT: &str = "<|endoftext|>";
/// Log-probability of a token that copies an earlier one (it is then the top-1 alternative).
pub const COPY_LOGPROB: f64 = -0.5;
/// Log-probability of [`END_OF_TEXT`] where it is the top-1 alternative.
pub const END_OF_TEXT_LOGPROB: f64 = -1.0;

/// The parts of a completions request the mock uses.
pub(crate) struct CompletionRequest {
    pub prompt: String,
    pub echo: bool,
    /// `None`: no log-probabilities asked for.
    pub logprobs: Option<u64>,
    pub max_tokens: Option<u64>,
}

pub(crate) fn parse_completion_request(body: &[u8]) -> Result<CompletionRequest, String> {
    let object = crate::request_object(body)?;
    // One prompt: a string, or an array holding exactly one string.
    let prompt = match object.get("prompt") {
        Some(Value::String(p)) => p.clone(),
        Some(Value::Array(items)) if items.len() == 1 && items[0].is_string() => {
            items[0].as_str().unwrap_or_default().to_owned()
        }
        _ => {
            return Err("'prompt' must be a string (or an array of exactly one string)".to_owned());
        }
    };
    let echo = match object.get("echo") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err("'echo' must be a boolean".to_owned()),
    };
    let count = |field: &str| match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| format!("'{field}' must be a non-negative integer")),
    };
    Ok(CompletionRequest {
        prompt,
        echo,
        logprobs: count("logprobs")?,
        max_tokens: count("max_tokens")?,
    })
}

/// Whether `c` is a token of its own: a CJK ideograph ([`touchstone_zh::is_cjk`]), or CJK
/// punctuation, kana, hangul or a full-width form, as CJK tokenizers split them.
fn own_token(c: char) -> bool {
    touchstone_zh::is_cjk(c)
        || matches!(c as u32,
            0x3000..=0x303F     // CJK punctuation
            | 0x3040..=0x30FF   // kana
            | 0xAC00..=0xD7AF   // hangul
            | 0xFF00..=0xFFEF   // full-width forms
        )
}

/// The fake tokenizer: a token starts at the first character, at every CJK character, after
/// every CJK character, and at whitespace that follows non-whitespace. So a word keeps its
/// leading whitespace (`"a  b"` → `"a"`, `"  b"`) and each CJK character (an ideograph, CJK
/// punctuation, kana, hangul, a full-width form) is a token.
pub fn tokenize(text: &str) -> Vec<&str> {
    let mut tokens = Vec::new();
    let mut start = 0;
    let mut prev: Option<char> = None;
    for (i, c) in text.char_indices() {
        if let Some(p) = prev {
            let boundary =
                own_token(c) || own_token(p) || (c.is_whitespace() && !p.is_whitespace());
            if boundary {
                tokens.push(&text[start..i]);
                start = i;
            }
        }
        prev = Some(c);
    }
    if start < text.len() {
        tokens.push(&text[start..]);
    }
    tokens
}

/// The mock's log-probability of `tokens[i]` given the tokens before it, and its top-1
/// alternative with that alternative's log-probability (`""`: the token itself). A token
/// copies an earlier one when their texts are equal once leading whitespace is removed. `None` for the first token, which
/// has nothing to be conditioned on.
pub fn token_logprob(tokens: &[&str], i: usize) -> Option<(f64, &'static str, f64)> {
    if i == 0 || i >= tokens.len() {
        return None;
    }
    let word = tokens[i].trim_start();
    if tokens[..i].iter().any(|t| t.trim_start() == word) {
        // A copy: the likeliest token here, so it is its own top-1 alternative.
        Some((COPY_LOGPROB, "", COPY_LOGPROB))
    } else {
        let chars = word.chars().count() as f64;
        Some((-(1.0 + 0.5 * chars), END_OF_TEXT, END_OF_TEXT_LOGPROB))
    }
}

#[derive(Serialize)]
struct Logprobs {
    tokens: Vec<String>,
    token_logprobs: Vec<Option<f64>>,
    top_logprobs: Vec<Option<Map<String, Value>>>,
    text_offset: Vec<u64>,
}

/// The `choices[0]` body parts: (text, finish_reason, logprobs, completion token count).
pub(crate) fn complete(
    request: &CompletionRequest,
    answer: &str,
) -> (String, &'static str, Value, u64) {
    let prompt_tokens = tokenize(&request.prompt);
    let mut generated = tokenize(answer);
    let mut finish_reason = "stop";
    if let Some(max) = request.max_tokens {
        let max = usize::try_from(max).unwrap_or(usize::MAX);
        if generated.len() > max {
            generated.truncate(max);
            finish_reason = "length";
        }
    }
    let generated_text: String = generated.concat();
    let text = if request.echo {
        format!("{}{generated_text}", request.prompt)
    } else {
        generated_text
    };
    let all: Vec<&str> = prompt_tokens
        .iter()
        .chain(generated.iter())
        .copied()
        .collect();
    let logprobs = match request.logprobs {
        None => Value::Null,
        Some(_) => {
            let first = if request.echo { 0 } else { prompt_tokens.len() };
            let mut lp = Logprobs {
                tokens: Vec::new(),
                token_logprobs: Vec::new(),
                top_logprobs: Vec::new(),
                text_offset: Vec::new(),
            };
            // Offsets count characters from the start of the prompt, as OpenAI and vLLM do.
            let mut offset = 0u64;
            for (i, token) in all.iter().enumerate() {
                if i >= first {
                    lp.tokens.push((*token).to_owned());
                    lp.text_offset.push(offset);
                    match token_logprob(&all, i) {
                        None => {
                            lp.token_logprobs.push(None);
                            lp.top_logprobs.push(None);
                        }
                        Some((logprob, top, top_logprob)) => {
                            lp.token_logprobs.push(Some(logprob));
                            let mut alternatives = Map::new();
                            if !top.is_empty() {
                                alternatives.insert(top.to_owned(), Value::from(top_logprob));
                            }
                            // Like vLLM: the actual token is listed too when it is not the top-1.
                            alternatives.insert((*token).to_owned(), Value::from(logprob));
                            lp.top_logprobs.push(Some(alternatives));
                        }
                    }
                }
                offset += token.chars().count() as u64;
            }
            serde_json::to_value(lp).unwrap_or(Value::Null)
        }
    };
    (text, finish_reason, logprobs, generated.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizer_keeps_leading_space_and_splits_cjk() {
        assert_eq!(tokenize("Answer: A"), vec!["Answer:", " A"]);
        assert_eq!(tokenize("a  b "), vec!["a", "  b", " "]);
        assert_eq!(
            tokenize("答案是 北京。"),
            vec!["答", "案", "是", " ", "北", "京", "。"]
        );
        assert_eq!(tokenize("x北y"), vec!["x", "北", "y"]);
        assert!(tokenize("").is_empty());
    }

    #[test]
    fn copies_are_likely_and_new_tokens_cost_by_length() {
        let tokens = tokenize("The sky is blue. The");
        assert_eq!(token_logprob(&tokens, 0), None);
        assert_eq!(token_logprob(&tokens, 1), Some((-2.5, END_OF_TEXT, -1.0)));
        assert_eq!(
            token_logprob(&tokens, 4),
            Some((-0.5, "", -0.5)),
            "{tokens:?}"
        );
        assert_eq!(token_logprob(&tokens, 9), None);
    }

    #[test]
    fn echo_with_logprobs_offsets_in_characters() {
        let request = CompletionRequest {
            prompt: "问题 答案".into(),
            echo: true,
            logprobs: Some(1),
            max_tokens: Some(1),
        };
        let (text, finish, logprobs, n) = complete(&request, "I don't know.");
        assert_eq!(text, "问题 答案I");
        assert_eq!((finish, n), ("length", 1));
        assert_eq!(
            logprobs["tokens"],
            serde_json::json!(["问", "题", " ", "答", "案", "I"])
        );
        assert_eq!(
            logprobs["text_offset"],
            serde_json::json!([0, 1, 2, 3, 4, 5])
        );
        assert_eq!(logprobs["token_logprobs"][0], Value::Null);
        assert_eq!(logprobs["token_logprobs"][1], serde_json::json!(-1.5));
        assert_eq!(
            logprobs["top_logprobs"][1][END_OF_TEXT],
            serde_json::json!(-1.0)
        );
    }

    #[test]
    fn malformed_completion_requests_are_explained() {
        let err = |body: &[u8]| parse_completion_request(body).err().unwrap_or_default();
        assert!(err(b"{").contains("not valid JSON"));
        assert!(err(br#"{"prompt":3}"#).contains("'prompt'"));
        assert!(err(br#"{"prompt":"x","echo":"yes"}"#).contains("'echo'"));
        assert!(err(br#"{"prompt":"x","logprobs":-1}"#).contains("'logprobs'"));
        assert!(err(br#"{"prompt":"x","stream":true}"#).contains("stream"));
        assert!(
            parse_completion_request(br#"{"prompt":["x"],"max_tokens":0}"#)
                .is_ok_and(|r| r.max_tokens == Some(0))
        );
    }
}
