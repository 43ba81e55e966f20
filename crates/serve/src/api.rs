//! Request parsing and response building for the OpenAI wire format.
//!
//! Bodies are read as `serde_json::Value` and checked field by field rather than derived, so
//! that every rejection names the field at fault (`messages[2].role`, `max_tokens`), as the
//! OpenAI API does in its `param`.

use serde_json::{Map, Value, json};
use touchstone_core::{
    Completion, FinishReason, GenerateParams, MAX_TOP_LOGPROBS, Message, RawCompletion, Role,
    TokenLogprob,
};

use crate::error::ApiError;

/// OpenAI's default `max_tokens` for `/v1/completions`.
const COMPLETIONS_DEFAULT_MAX_TOKENS: u32 = 16;

/// The top-level JSON object of a request body.
pub fn parse_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(ApiError::invalid(
            "body",
            format!(
                "the request body must be a JSON object, not {}",
                type_name(&other)
            ),
        )),
        Err(e) => Err(ApiError::invalid(
            "body",
            format!("the request body is not valid JSON: {e}"),
        )),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Typed access to the fields of a request object; `null` counts as absent, as clients send
/// `null` for "unset".
struct Fields<'a>(&'a Map<String, Value>);

impl<'a> Fields<'a> {
    fn get(&self, key: &str) -> Option<&'a Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    fn bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(v) => Err(ApiError::invalid(
                key,
                format!("`{key}` must be a boolean, not {}", type_name(v)),
            )),
        }
    }

    fn uint(&self, key: &str, max: u64) -> Result<Option<u64>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => match v.as_u64() {
                Some(n) if n <= max => Ok(Some(n)),
                Some(n) => Err(ApiError::invalid(
                    key,
                    format!("`{key}` must be at most {max}, not {n}"),
                )),
                None => Err(ApiError::invalid(
                    key,
                    format!(
                        "`{key}` must be a non-negative integer, not {}",
                        describe(v)
                    ),
                )),
            },
        }
    }

    fn number(&self, key: &str, min: f64, max: f64) -> Result<Option<f32>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => match v.as_f64() {
                Some(x) if (min..=max).contains(&x) => Ok(Some(x as f32)),
                Some(x) => Err(ApiError::invalid(
                    key,
                    format!("`{key}` must be between {min} and {max}, not {x}"),
                )),
                None => Err(ApiError::invalid(
                    key,
                    format!("`{key}` must be a number, not {}", type_name(v)),
                )),
            },
        }
    }

    fn string(&self, key: &str) -> Result<Option<&'a str>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(v) => Err(ApiError::invalid(
                key,
                format!("`{key}` must be a string, not {}", type_name(v)),
            )),
        }
    }

    /// `stop`: a string or an array of strings.
    fn stop(&self) -> Result<Vec<String>, ApiError> {
        match self.get("stop") {
            None => Ok(Vec::new()),
            Some(Value::String(s)) => Ok(vec![s.clone()]),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(ApiError::invalid(
                        format!("stop[{i}]"),
                        format!("`stop[{i}]` must be a string, not {}", type_name(other)),
                    )),
                })
                .collect(),
            Some(v) => Err(ApiError::invalid(
                "stop",
                format!(
                    "`stop` must be a string or an array of strings, not {}",
                    type_name(v)
                ),
            )),
        }
    }

    /// Refusals shared by both endpoints: streaming and several choices per prompt.
    fn reject_unsupported(&self) -> Result<(), ApiError> {
        if self.bool("stream")? == Some(true) {
            return Err(ApiError::unsupported(
                "stream",
                "streaming is not supported by this server; send `stream: false`",
            ));
        }
        // One answer per prompt: `n > 1` would need as many independent samples.
        if let Some(n) = self.uint("n", u64::MAX)?
            && n != 1
        {
            return Err(ApiError::unsupported(
                "n",
                format!("only `n: 1` is supported, not {n}"),
            ));
        }
        Ok(())
    }

    /// `model` is optional and any name is accepted (the server serves one model), but it must
    /// be a string if given.
    fn check_model(&self) -> Result<(), ApiError> {
        self.string("model").map(|_| ())
    }

    fn sampling(&self, max_tokens: Option<u32>) -> Result<GenerateParams, ApiError> {
        Ok(GenerateParams {
            max_tokens,
            temperature: self.number("temperature", 0.0, 2.0)?,
            top_p: self.number("top_p", 0.0, 1.0)?,
            stop: self.stop()?,
            seed: self.uint("seed", u64::MAX)?,
        })
    }
}

/// Numbers are described by value (`-3`, `1.5`), other values by type.
fn describe(v: &Value) -> String {
    match v {
        Value::Number(n) => n.to_string(),
        other => type_name(other).to_string(),
    }
}

/// A parsed `POST /v1/chat/completions`.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    pub messages: Vec<Message>,
    pub params: GenerateParams,
}

pub fn parse_chat(body: &Map<String, Value>) -> Result<ChatRequest, ApiError> {
    let f = Fields(body);
    f.reject_unsupported()?;
    f.check_model()?;
    if f.bool("logprobs")? == Some(true) {
        return Err(ApiError::unsupported(
            "logprobs",
            "chat completions cannot return log-probabilities: the model exposes only generated text",
        ));
    }
    let messages = match body.get("messages") {
        None | Some(Value::Null) => {
            return Err(ApiError::invalid("messages", "`messages` is required"));
        }
        Some(Value::Array(items)) if items.is_empty() => {
            return Err(ApiError::invalid(
                "messages",
                "`messages` must hold at least one message",
            ));
        }
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, m)| parse_message(i, m))
            .collect::<Result<Vec<_>, _>>()?,
        Some(v) => {
            return Err(ApiError::invalid(
                "messages",
                format!("`messages` must be an array, not {}", type_name(v)),
            ));
        }
    };
    // `max_completion_tokens` is the newer name; when both are given it wins, as in OpenAI's API.
    let max_tokens = match f.uint("max_completion_tokens", u32::MAX as u64)? {
        Some(n) => Some(n),
        None => f.uint("max_tokens", u32::MAX as u64)?,
    }
    .map(|n| n as u32);
    Ok(ChatRequest {
        messages,
        params: f.sampling(max_tokens)?,
    })
}

fn parse_message(i: usize, m: &Value) -> Result<Message, ApiError> {
    let at = |field: &str| format!("messages[{i}].{field}");
    let Value::Object(obj) = m else {
        return Err(ApiError::invalid(
            format!("messages[{i}]"),
            format!("`messages[{i}]` must be an object, not {}", type_name(m)),
        ));
    };
    let role = match obj.get("role") {
        Some(Value::String(r)) => match r.as_str() {
            // `developer` is OpenAI's newer name for the system role.
            "system" | "developer" => Role::System,
            "user" => Role::User,
            "assistant" => Role::Assistant,
            other => {
                return Err(ApiError::unsupported(
                    at("role"),
                    format!("role `{other}` is not supported; use system, user or assistant"),
                ));
            }
        },
        None | Some(Value::Null) => {
            return Err(ApiError::invalid(
                at("role"),
                format!("`{}` is required", at("role")),
            ));
        }
        Some(v) => {
            return Err(ApiError::invalid(
                at("role"),
                format!("`{}` must be a string, not {}", at("role"), type_name(v)),
            ));
        }
    };
    let content = match obj.get("content") {
        Some(Value::String(s)) => s.clone(),
        // Content parts: only text parts, joined, as OpenAI does for text-only models.
        Some(Value::Array(parts)) => {
            let mut text = String::new();
            for (j, part) in parts.iter().enumerate() {
                let part_at = format!("messages[{i}].content[{j}]");
                match (
                    part.get("type").and_then(Value::as_str),
                    part.get("text").and_then(Value::as_str),
                ) {
                    (Some("text"), Some(t)) => text.push_str(t),
                    (Some("text"), None) => {
                        return Err(ApiError::invalid(
                            format!("{part_at}.text"),
                            format!("`{part_at}.text` must be a string"),
                        ));
                    }
                    _ => {
                        return Err(ApiError::unsupported(
                            format!("{part_at}.type"),
                            format!("only text content parts are supported (`{part_at}`)"),
                        ));
                    }
                }
            }
            text
        }
        // An assistant turn may carry `content: null`.
        Some(Value::Null) if role == Role::Assistant => String::new(),
        None | Some(Value::Null) => {
            return Err(ApiError::invalid(
                at("content"),
                format!("`{}` is required", at("content")),
            ));
        }
        Some(v) => {
            return Err(ApiError::invalid(
                at("content"),
                format!(
                    "`{}` must be a string or an array of content parts, not {}",
                    at("content"),
                    type_name(v)
                ),
            ));
        }
    };
    Ok(Message { role, content })
}

/// A parsed `POST /v1/completions`.
#[derive(Debug, Clone, PartialEq)]
pub struct CompletionsRequest {
    /// One entry per prompt; each becomes one choice, in order.
    pub prompts: Vec<String>,
    pub params: GenerateParams,
    pub echo: bool,
    /// `logprobs: N`: the N most likely alternatives per token (0 = only the chosen token's).
    pub logprobs: Option<u32>,
}

pub fn parse_completions(body: &Map<String, Value>) -> Result<CompletionsRequest, ApiError> {
    let f = Fields(body);
    f.reject_unsupported()?;
    f.check_model()?;
    let prompts = match body.get("prompt") {
        None | Some(Value::Null) => {
            return Err(ApiError::invalid("prompt", "`prompt` is required"));
        }
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) if items.is_empty() => {
            return Err(ApiError::invalid(
                "prompt",
                "`prompt` must not be an empty array",
            ));
        }
        Some(Value::Array(items)) => {
            let mut prompts = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::String(s) => prompts.push(s.clone()),
                    // Token ids (lm-eval's `tokenized_requests=True`) mean the server must share
                    // the client's tokenizer; the model trait does not expose one.
                    Value::Number(_) | Value::Array(_) => {
                        return Err(ApiError::unsupported(
                            "prompt",
                            "token-id prompts are not supported: send text prompts \
                             (lm-eval: `tokenized_requests=False`)",
                        ));
                    }
                    other => {
                        return Err(ApiError::invalid(
                            format!("prompt[{i}]"),
                            format!("`prompt[{i}]` must be a string, not {}", type_name(other)),
                        ));
                    }
                }
            }
            prompts
        }
        Some(v) => {
            return Err(ApiError::invalid(
                "prompt",
                format!(
                    "`prompt` must be a string or an array of strings, not {}",
                    type_name(v)
                ),
            ));
        }
    };
    if f.get("suffix").is_some() {
        return Err(ApiError::unsupported(
            "suffix",
            "`suffix` (insertion) is not supported",
        ));
    }
    let max_tokens = f
        .uint("max_tokens", u32::MAX as u64)?
        .map(|n| n as u32)
        .unwrap_or(COMPLETIONS_DEFAULT_MAX_TOKENS);
    Ok(CompletionsRequest {
        prompts,
        params: f.sampling(Some(max_tokens))?,
        echo: f.bool("echo")?.unwrap_or(false),
        logprobs: f
            .uint("logprobs", u64::from(MAX_TOP_LOGPROBS))?
            .map(|n| n as u32),
    })
}

pub fn finish_reason(r: FinishReason) -> &'static str {
    match r {
        FinishReason::Length => "length",
        FinishReason::ContentFilter => "content_filter",
        // `Other` has no OpenAI name; clients know only the standard values.
        FinishReason::Stop | FinishReason::Other => "stop",
    }
}

pub fn chat_response(id: &str, created: u64, model: &str, c: &Completion) -> Value {
    json!({
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": c.text},
            "logprobs": null,
            "finish_reason": finish_reason(c.finish_reason),
        }],
        "usage": usage(c.usage.prompt_tokens, c.usage.completion_tokens),
    })
}

fn usage(prompt: u32, completion: u32) -> Value {
    json!({"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt as u64 + completion as u64})
}

/// One `choices[i]` of a completions response. With `echo`, `text` is the prompt followed by the
/// generated text, and the log-probabilities cover the prompt's tokens too.
pub fn completion_choice(
    index: usize,
    prompt: &str,
    echo: bool,
    want_logprobs: bool,
    c: &RawCompletion,
) -> Value {
    let text = if echo {
        format!("{prompt}{}", c.text)
    } else {
        c.text.clone()
    };
    let logprobs = match (&c.logprobs, want_logprobs) {
        (Some(tokens), true) => logprobs_object(tokens),
        _ => Value::Null,
    };
    json!({"index": index, "text": text, "logprobs": logprobs, "finish_reason": finish_reason(c.finish_reason)})
}

/// OpenAI's legacy `logprobs` object: parallel arrays. `text_offset` counts characters from the
/// start of the choice's `text` (the prompt's start when echoing), as OpenAI and vLLM do.
fn logprobs_object(tokens: &[TokenLogprob]) -> Value {
    let mut offset = 0usize;
    let mut text_offset = Vec::with_capacity(tokens.len());
    for t in tokens {
        text_offset.push(offset);
        offset += t.text.chars().count();
    }
    let top: Vec<Value> = tokens
        .iter()
        .map(|t| {
            if t.logprob.is_none() {
                // The first prompt token has no probability (nothing precedes it).
                Value::Null
            } else {
                Value::Object(t.top.iter().map(|(s, lp)| (s.clone(), json!(lp))).collect())
            }
        })
        .collect();
    json!({
        "tokens": tokens.iter().map(|t| t.text.as_str()).collect::<Vec<_>>(),
        "token_logprobs": tokens.iter().map(|t| t.logprob).collect::<Vec<_>>(),
        "top_logprobs": top,
        "text_offset": text_offset,
    })
}

pub fn completions_response(
    id: &str,
    created: u64,
    model: &str,
    choices: Vec<Value>,
    prompt_tokens: u32,
    completion_tokens: u32,
) -> Value {
    json!({
        "id": id,
        "object": "text_completion",
        "created": created,
        "model": model,
        "choices": choices,
        "usage": usage(prompt_tokens, completion_tokens),
    })
}

pub fn models_response(id: &str) -> Value {
    json!({"object": "list", "data": [{"id": id, "object": "model", "created": 0, "owned_by": "touchstone"}]})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!("test bodies are objects"),
        }
    }

    fn param_of(e: ApiError) -> String {
        e.param.unwrap_or_default()
    }

    #[test]
    fn chat_reads_every_field() {
        let r = parse_chat(&obj(json!({
            "model": "x",
            "messages": [
                {"role": "developer", "content": "be brief"},
                {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
                {"role": "assistant", "content": null},
            ],
            "max_tokens": 5, "max_completion_tokens": 7, "temperature": 0.5, "top_p": 0.9, "seed": 3,
            "stop": "\n", "stream": false, "n": 1, "user": "ignored",
        })))
        .unwrap();
        assert_eq!(
            r.messages,
            vec![
                Message::system("be brief"),
                Message::user("ab"),
                Message::assistant("")
            ]
        );
        assert_eq!(
            r.params,
            GenerateParams {
                max_tokens: Some(7),
                temperature: Some(0.5),
                top_p: Some(0.9),
                stop: vec!["\n".into()],
                seed: Some(3)
            }
        );
    }

    #[test]
    fn chat_names_the_bad_field() {
        let cases = [
            (json!({}), "messages"),
            (json!({"messages": "hi"}), "messages"),
            (json!({"messages": []}), "messages"),
            (json!({"messages": [1]}), "messages[0]"),
            (
                json!({"messages": [{"role": "user", "content": "a"}, {"content": "b"}]}),
                "messages[1].role",
            ),
            (
                json!({"messages": [{"role": "tool", "content": "a"}]}),
                "messages[0].role",
            ),
            (
                json!({"messages": [{"role": "user"}]}),
                "messages[0].content",
            ),
            (
                json!({"messages": [{"role": "user", "content": 5}]}),
                "messages[0].content",
            ),
            (
                json!({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}),
                "messages[0].content[0].type",
            ),
            (
                json!({"messages": [{"role": "user", "content": "a"}], "max_tokens": -1}),
                "max_tokens",
            ),
            (
                json!({"messages": [{"role": "user", "content": "a"}], "max_tokens": "5"}),
                "max_tokens",
            ),
            (
                json!({"messages": [{"role": "user", "content": "a"}], "temperature": 3}),
                "temperature",
            ),
            (
                json!({"messages": [{"role": "user", "content": "a"}], "stop": [1]}),
                "stop[0]",
            ),
            (
                json!({"messages": [{"role": "user", "content": "a"}], "stream": true}),
                "stream",
            ),
            (
                json!({"messages": [{"role": "user", "content": "a"}], "n": 2}),
                "n",
            ),
            (
                json!({"messages": [{"role": "user", "content": "a"}], "model": 1}),
                "model",
            ),
            (
                json!({"messages": [{"role": "user", "content": "a"}], "logprobs": true}),
                "logprobs",
            ),
        ];
        for (body, param) in cases {
            let e = parse_chat(&obj(body.clone())).unwrap_err();
            assert_eq!(e.status, hyper::StatusCode::BAD_REQUEST, "{body}");
            assert_eq!(param_of(e), param, "{body}");
        }
    }

    #[test]
    fn completions_reads_prompts_and_defaults() {
        let r = parse_completions(&obj(
            json!({"prompt": ["a", "b"], "echo": true, "logprobs": 1, "max_tokens": 0}),
        ))
        .unwrap();
        assert_eq!(r.prompts, vec!["a", "b"]);
        assert!(r.echo);
        assert_eq!(r.logprobs, Some(1));
        assert_eq!(r.params.max_tokens, Some(0));
        let r = parse_completions(&obj(json!({"prompt": "a"}))).unwrap();
        assert_eq!(r.params.max_tokens, Some(16));
        assert!(!r.echo);
        assert_eq!(r.logprobs, None);
        for (body, param) in [
            (json!({}), "prompt"),
            (json!({"prompt": 3}), "prompt"),
            (json!({"prompt": []}), "prompt"),
            (json!({"prompt": [[1, 2]]}), "prompt"),
            (json!({"prompt": ["a", {}]}), "prompt[1]"),
            (json!({"prompt": "a", "logprobs": 6}), "logprobs"),
            (json!({"prompt": "a", "echo": "yes"}), "echo"),
            (json!({"prompt": "a", "suffix": "z"}), "suffix"),
        ] {
            assert_eq!(
                param_of(parse_completions(&obj(body.clone())).unwrap_err()),
                param,
                "{body}"
            );
        }
    }

    #[test]
    fn body_must_be_a_json_object() {
        assert_eq!(param_of(parse_object(b"not json").unwrap_err()), "body");
        assert_eq!(param_of(parse_object(b"[1]").unwrap_err()), "body");
        assert!(parse_object(br#"{"a":1}"#).is_ok());
    }

    #[test]
    fn logprobs_offsets_count_characters() {
        let tokens = vec![
            TokenLogprob {
                text: "重".into(),
                logprob: None,
                top: vec![],
            },
            TokenLogprob {
                text: "要 A".into(),
                logprob: Some(-1.5),
                top: vec![("要 A".into(), -1.5)],
            },
        ];
        let v = logprobs_object(&tokens);
        assert_eq!(v["text_offset"], json!([0, 1]));
        assert_eq!(v["token_logprobs"], json!([null, -1.5]));
        assert_eq!(v["top_logprobs"], json!([null, {"要 A": -1.5}]));
        assert_eq!(v["tokens"], json!(["重", "要 A"]));
    }
}
