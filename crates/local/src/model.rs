//! [`LocalModel`]: a GGUF file behind the [`Model`] trait.

use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::token::LlamaToken;
use llama_cpp_2::{LogOptions, send_logs_to_tracing};
use tokio::sync::oneshot;
use touchstone_core::{
    Completion, FinishReason, GenerateParams, GenerateRequest, MAX_TOP_LOGPROBS, Message,
    RawCompletion, RawRequest, TokenLogprob, Usage,
};
use touchstone_models::{Loglikelihood, LoglikelihoodRequest, Model, ModelError, ModelIdentity};

use crate::template::ChatTemplate;
use crate::worker::{
    self, GenerateJob, Job, LocalStats, RawJob, RawOutput, Sampling, ScoreJob, ScoredToken, Stats,
    WorkerConfig,
};
use crate::{LocalError, catalogue, gguf};

/// Completion length when a request sets no `max_tokens`.
pub const DEFAULT_MAX_TOKENS: u32 = 256;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalOptions {
    /// CPU threads for llama.cpp.
    pub threads: usize,
    /// Context (prompt + completion tokens) available to each sequence. The KV cache holds
    /// `n_ctx * max_batch_sequences` tokens; for SmolLM2 that is about 22 KB per token.
    pub n_ctx: u32,
    /// Requests decoded together, each as its own sequence.
    pub max_batch_sequences: usize,
    /// Seed for sampled (temperature > 0) requests that carry no seed of their own.
    pub seed: u64,
}

impl Default for LocalOptions {
    fn default() -> Self {
        LocalOptions {
            threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            n_ctx: 2048,
            max_batch_sequences: 32,
            seed: 0,
        }
    }
}

/// A GGUF model run in-process by llama.cpp on one dedicated thread.
pub struct LocalModel {
    identity: ModelIdentity,
    path: PathBuf,
    model: Arc<LlamaModel>,
    template: Result<ChatTemplate, String>,
    jobs: Sender<Job>,
    stats: Arc<Stats>,
    n_ctx_seq: u32,
    seed: u64,
}

impl std::fmt::Debug for LocalModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalModel")
            .field("identity", &self.identity)
            .field("n_ctx_seq", &self.n_ctx_seq)
            .finish()
    }
}

/// llama.cpp's process-wide backend. Its logs go to `tracing` only when `TOUCHSTONE_LLAMA_LOG`
/// is set (to anything but `0`); otherwise they are dropped.
fn backend() -> Result<&'static LlamaBackend, LocalError> {
    static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            let enabled =
                std::env::var_os("TOUCHSTONE_LLAMA_LOG").is_some_and(|v| !v.is_empty() && v != "0");
            send_logs_to_tracing(LogOptions::default().with_logs_enabled(enabled));
            LlamaBackend::init().map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| LocalError::Backend(e.clone()))
}

impl LocalModel {
    /// Load a GGUF file. The label defaults to `local:PATH`; see [`LocalModel::with_label`].
    pub fn load(path: &Path, opts: LocalOptions) -> Result<LocalModel, LocalError> {
        if !path.is_file() {
            return Err(LocalError::NotFound {
                path: path.to_path_buf(),
                known: format!("known models: {}", catalogue::known_names()),
            });
        }
        gguf::check(path)?;
        let digest = catalogue::sha256_file(path)?;
        let backend = backend()?;
        let model = LlamaModel::load_from_file(backend, path, &LlamaModelParams::default()).map_err(|e| {
            LocalError::Load {
                path: path.to_path_buf(),
                detail: format!(
                    "{e}: the file is damaged or its architecture is unknown to this llama.cpp (set TOUCHSTONE_LLAMA_LOG=1 and RUST_LOG=debug to see llama.cpp's reason)"
                ),
            }
        })?;
        let template = chat_template(&model);
        let model = Arc::new(model);
        let stats = Arc::new(Stats::default());
        let cfg = WorkerConfig {
            threads: opts.threads,
            n_ctx_per_sequence: opts.n_ctx,
            sequences: opts.max_batch_sequences,
        };
        let (jobs, n_ctx_seq) = worker::spawn(backend, Arc::clone(&model), cfg, Arc::clone(&stats))
            .map_err(|detail| LocalError::Load {
                path: path.to_path_buf(),
                detail,
            })?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(LocalModel {
            identity: ModelIdentity {
                label: format!("local:{}", path.display()),
                provider: "local".into(),
                name,
                digest: Some(digest),
            },
            path: path.to_path_buf(),
            model,
            template,
            jobs,
            stats,
            n_ctx_seq,
            seed: opts.seed,
        })
    }

    /// Resolve a catalogue name or path (fetching the model if needed) and load it, labelled
    /// `local:SOURCE`.
    pub fn open(source: &str, opts: LocalOptions) -> Result<LocalModel, LocalError> {
        let path = catalogue::resolve(source)?;
        Ok(LocalModel::load(&path, opts)?.with_label(format!("local:{source}")))
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.identity.label = label.into();
        self
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Tokens (prompt + completion) each sequence may hold.
    pub fn context_per_sequence(&self) -> u32 {
        self.n_ctx_seq
    }

    pub fn stats(&self) -> LocalStats {
        self.stats.snapshot()
    }

    /// The prompt text the model sees for `messages` (the GGUF's chat template, rendered).
    pub fn render_prompt(&self, messages: &[Message]) -> Result<String, ModelError> {
        let template = self
            .template
            .as_ref()
            .map_err(|e| ModelError::Local(e.clone()))?;
        template.render(messages).map_err(|e| {
            ModelError::Local(format!("chat template of {}: {e}", self.path.display()))
        })
    }

    /// Token count of `text` as a prompt (special tokens such as `<|im_start|>` parsed).
    pub fn count_tokens(&self, text: &str) -> usize {
        self.tokenize(text, true).len()
    }

    fn tokenize(&self, text: &str, add_bos: bool) -> Vec<LlamaToken> {
        self.model.vocab().tokenize(text.as_bytes(), add_bos, true)
    }

    fn sampling(&self, params: &GenerateParams) -> Sampling {
        match params.temperature {
            Some(t) if t > 0.0 => Sampling::Random {
                temperature: t,
                top_p: params
                    .top_p
                    .filter(|p| *p > 0.0 && *p <= 1.0)
                    .unwrap_or(1.0),
                seed: fold_seed(params.seed.unwrap_or(self.seed)),
            },
            _ => Sampling::Greedy,
        }
    }

    fn send(&self, job: Job) -> Result<(), ModelError> {
        self.jobs.send(job).map_err(|_| worker_gone())
    }
}

fn worker_gone() -> ModelError {
    ModelError::Local("the local inference thread has stopped".into())
}

/// The GGUF's `tokenizer.chat_template`, compiled; an error is kept and reported on use.
fn chat_template(model: &LlamaModel) -> Result<ChatTemplate, String> {
    let source = model.meta_val_str("tokenizer.chat_template").map_err(|_| {
        "the model file has no chat template (tokenizer.chat_template); it cannot chat".to_string()
    })?;
    let vocab = model.vocab();
    let text = |t: LlamaToken| {
        if t.0 < 0 {
            String::new()
        } else {
            vocab
                .text(t)
                .map(|c| c.to_string_lossy().into_owned())
                .unwrap_or_default()
        }
    };
    ChatTemplate::new(&source, &text(vocab.bos()), &text(vocab.eos()))
        .map_err(|e| format!("chat template: {e}"))
}

/// A 32-bit sampler seed from a 64-bit one, keeping the high bits' entropy.
fn fold_seed(seed: u64) -> u32 {
    (seed ^ (seed >> 32)) as u32
}

#[async_trait]
impl Model for LocalModel {
    fn identity(&self) -> &ModelIdentity {
        &self.identity
    }

    async fn generate(&self, request: &GenerateRequest) -> Result<Completion, ModelError> {
        let prompt = self.render_prompt(&request.messages)?;
        let template_has_bos = self
            .template
            .as_ref()
            .is_ok_and(|t| !t.bos_token().is_empty() && prompt.starts_with(t.bos_token()));
        let tokens = self.tokenize(&prompt, !template_has_bos);
        let n_prompt = tokens.len();
        if n_prompt == 0 {
            return Err(ModelError::Local("the prompt is empty".into()));
        }
        if n_prompt >= self.n_ctx_seq as usize {
            return Err(ModelError::Local(format!(
                "the prompt has {n_prompt} tokens but each sequence holds {} (prompt + completion); raise n_ctx",
                self.n_ctx_seq
            )));
        }
        let params = &request.params;
        let max_tokens = params.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS);
        if max_tokens == 0 {
            return Ok(Completion {
                text: String::new(),
                finish_reason: FinishReason::Length,
                usage: Usage {
                    prompt_tokens: n_prompt as u32,
                    completion_tokens: 0,
                },
                cached: false,
            });
        }
        let sampling = self.sampling(params);
        let stop = params
            .stop
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| s.as_bytes().to_vec())
            .collect();
        let (reply, answer) = oneshot::channel();
        self.send(Job::Generate(GenerateJob {
            tokens,
            max_tokens,
            stop,
            sampling,
            reply,
        }))?;
        answer.await.map_err(|_| worker_gone())?
    }

    async fn loglikelihood(
        &self,
        request: &LoglikelihoodRequest,
    ) -> Result<Vec<Loglikelihood>, ModelError> {
        let mut context = self.tokenize(&request.context, true);
        if context.is_empty() {
            // Something must be conditioned on: use the beginning-of-sequence token.
            let bos = self.model.vocab().bos();
            if bos.0 < 0 {
                return Err(ModelError::Local(
                    "empty context and the model has no BOS token".into(),
                ));
            }
            context.push(bos);
        }
        let n_context = context.len();
        let mut answers = Vec::with_capacity(request.continuations.len());
        for continuation in &request.continuations {
            let whole = self.tokenize(&format!("{}{continuation}", request.context), true);
            // The continuation's tokens are what the joint tokenisation adds after the
            // context's; when a token straddles the boundary, tokenise the continuation alone.
            let tokens = if whole.len() > n_context && whole.starts_with(&context) {
                whole
            } else {
                let mut t = context.clone();
                t.extend(self.tokenize(continuation, false));
                t
            };
            if tokens.len() == n_context {
                answers.push(None);
                continue;
            }
            if tokens.len() > self.n_ctx_seq as usize {
                return Err(ModelError::Local(format!(
                    "context + continuation have {} tokens but each sequence holds {}; raise n_ctx",
                    tokens.len(),
                    self.n_ctx_seq
                )));
            }
            let (reply, answer) = oneshot::channel();
            self.send(Job::Score(ScoreJob {
                tokens,
                n_context,
                reply,
            }))?;
            answers.push(Some(answer));
        }
        let mut out = Vec::with_capacity(answers.len());
        for answer in answers {
            out.push(match answer {
                Some(rx) => rx.await.map_err(|_| worker_gone())??,
                None => Loglikelihood {
                    logprob: 0.0,
                    is_greedy: true,
                    tokens: 0,
                },
            });
        }
        Ok(out)
    }

    /// The prompt is tokenised as given, with special tokens parsed and a BOS added only where
    /// the GGUF's tokenizer asks for one (`tokenizer.ggml.add_bos_token`; SmolLM2 does not):
    /// the same tokenisation as [`Model::loglikelihood`], so the two agree. An added BOS is
    /// conditioned on but not reported, its text not being part of the prompt; the first
    /// reported token then has a real log-probability instead of None.
    async fn complete_raw(&self, request: &RawRequest) -> Result<RawCompletion, ModelError> {
        let vocab = self.model.vocab();
        let mut tokens = self.tokenize(&request.prompt, true);
        let mut n_hidden =
            usize::from(vocab.should_add_bos() && tokens.first() == Some(&vocab.bos()));
        let max_tokens = request.params.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS);
        if tokens.is_empty() && max_tokens > 0 {
            // Generating from nothing: condition on the beginning-of-sequence token.
            let bos = vocab.bos();
            if bos.0 < 0 {
                return Err(ModelError::Local(
                    "empty prompt and the model has no BOS token".into(),
                ));
            }
            tokens.push(bos);
            n_hidden = 1;
        }
        let n_prompt = tokens.len();
        if n_prompt + usize::from(max_tokens > 0) > self.n_ctx_seq as usize {
            return Err(ModelError::Local(format!(
                "the prompt has {n_prompt} tokens but each sequence holds {} (prompt + completion); raise n_ctx",
                self.n_ctx_seq
            )));
        }
        let logprobs = request.logprobs.map(|n| n.min(MAX_TOP_LOGPROBS) as usize);
        let score_prompt = request.echo && logprobs.is_some();
        // Nothing to decode (no generation, and no prompt token with anything before it).
        let output = if max_tokens == 0 && !(score_prompt && n_prompt >= 2) {
            RawOutput {
                prompt: if score_prompt {
                    unscored(&tokens[n_hidden..], |t| self.piece(t))
                } else {
                    Vec::new()
                },
                generated: Vec::new(),
                finish_reason: FinishReason::Length,
                usage: Usage {
                    prompt_tokens: u32::try_from(n_prompt).unwrap_or(u32::MAX),
                    completion_tokens: 0,
                },
            }
        } else {
            let (reply, answer) = oneshot::channel();
            self.send(Job::Raw(RawJob {
                tokens,
                n_hidden,
                max_tokens,
                stop: request
                    .params
                    .stop
                    .iter()
                    .filter(|s| !s.is_empty())
                    .map(|s| s.as_bytes().to_vec())
                    .collect(),
                sampling: self.sampling(&request.params),
                score_prompt,
                logprobs,
                reply,
            }))?;
            answer.await.map_err(|_| worker_gone())??
        };
        Ok(raw_completion(output, logprobs.is_some()))
    }
}

impl LocalModel {
    fn piece(&self, token: LlamaToken) -> Vec<u8> {
        self.model.vocab().token_to_piece(token, true, None)
    }
}

fn unscored(tokens: &[LlamaToken], piece: impl Fn(LlamaToken) -> Vec<u8>) -> Vec<ScoredToken> {
    tokens
        .iter()
        .map(|&t| ScoredToken {
            piece: piece(t),
            logprob: None,
            top: Vec::new(),
        })
        .collect()
}

fn raw_completion(output: RawOutput, with_logprobs: bool) -> RawCompletion {
    let text_bytes: Vec<u8> = output
        .generated
        .iter()
        .flat_map(|t| t.piece.iter().copied())
        .collect();
    let logprobs = with_logprobs.then(|| {
        let mut entries = token_texts(output.prompt);
        entries.extend(token_texts(output.generated));
        entries
    });
    RawCompletion {
        text: String::from_utf8_lossy(&text_bytes).into_owned(),
        finish_reason: output.finish_reason,
        usage: output.usage,
        logprobs,
    }
}

/// Token pieces as text. A piece that ends inside a multi-byte character hands its incomplete
/// bytes to the next piece, so the texts still concatenate to the whole (a byte-level BPE splits
/// CJK characters and emoji across tokens); bytes that can never be valid become U+FFFD.
fn token_texts(tokens: Vec<ScoredToken>) -> Vec<TokenLogprob> {
    let mut carry: Vec<u8> = Vec::new();
    let mut out: Vec<TokenLogprob> = Vec::with_capacity(tokens.len());
    for t in tokens {
        carry.extend_from_slice(&t.piece);
        let mut text = String::new();
        loop {
            match std::str::from_utf8(&carry) {
                Ok(valid) => {
                    text.push_str(valid);
                    carry.clear();
                    break;
                }
                Err(e) => {
                    let (valid, rest) = carry.split_at(e.valid_up_to());
                    text.push_str(&String::from_utf8_lossy(valid));
                    match e.error_len() {
                        // Incomplete at the end: wait for the next piece.
                        None => {
                            carry = rest.to_vec();
                            break;
                        }
                        Some(n) => {
                            text.push(char::REPLACEMENT_CHARACTER);
                            carry = rest[n..].to_vec();
                        }
                    }
                }
            }
        }
        let top = t
            .top
            .into_iter()
            .map(|(p, lp)| (String::from_utf8_lossy(&p).into_owned(), lp))
            .collect();
        out.push(TokenLogprob {
            text,
            logprob: t.logprob,
            top,
        });
    }
    if !carry.is_empty()
        && let Some(last) = out.last_mut()
    {
        last.text.push_str(&String::from_utf8_lossy(&carry));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scored(piece: &[u8]) -> ScoredToken {
        ScoredToken {
            piece: piece.to_vec(),
            logprob: Some(-0.5),
            top: Vec::new(),
        }
    }

    #[test]
    fn split_characters_are_carried_to_the_next_piece() {
        let bytes = "答x".as_bytes();
        let texts: Vec<String> = token_texts(vec![
            scored(&bytes[..1]),
            scored(&bytes[1..3]),
            scored(&bytes[3..]),
        ])
        .into_iter()
        .map(|t| t.text)
        .collect();
        assert_eq!(texts, ["", "答", "x"]);
        // A truncated character at the very end is kept (lossily) rather than dropped.
        let texts: Vec<String> = token_texts(vec![scored(b"a"), scored(&bytes[..2])])
            .into_iter()
            .map(|t| t.text)
            .collect();
        assert_eq!(texts, ["a", "\u{FFFD}"]);
        // Invalid bytes become U+FFFD without swallowing what follows.
        let texts: Vec<String> = token_texts(vec![scored(b"\xffok")])
            .into_iter()
            .map(|t| t.text)
            .collect();
        assert_eq!(texts, ["\u{FFFD}ok"]);
    }
}
