//! The one thread that owns the llama.cpp context and does continuous batched decoding.
//!
//! Every admitted request is a sequence with its own id (and, with llama.cpp's default
//! non-unified KV cache, its own slice of `n_ctx / n_seq_max` cells). Each `llama_decode` call
//! carries one token for every generating sequence plus as many prompt tokens of newly admitted
//! sequences as fit, ordered by sequence id: the non-unified cache splits a batch into
//! micro-batches of consecutive sequence ids, so keeping ids dense keeps micro-batches large.
//! A finished sequence frees its cells, and the next pending request takes its id.

use std::collections::VecDeque;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, TryRecvError};
use std::time::Instant;

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use tokio::sync::oneshot;
use touchstone_core::{Completion, FinishReason, Usage};
use touchstone_models::{Loglikelihood, ModelError};

/// Most tokens handed to one `llama_decode` call.
const MAX_BATCH_TOKENS: u32 = 2048;
const MAX_UBATCH_TOKENS: u32 = 512;

pub(crate) enum Job {
    Generate(GenerateJob),
    Score(ScoreJob),
    Raw(RawJob),
}

pub(crate) struct GenerateJob {
    pub tokens: Vec<LlamaToken>,
    pub max_tokens: u32,
    pub stop: Vec<Vec<u8>>,
    pub sampling: Sampling,
    pub reply: oneshot::Sender<Result<Completion, ModelError>>,
}

pub(crate) struct ScoreJob {
    /// Context followed by continuation.
    pub tokens: Vec<LlamaToken>,
    /// How many of `tokens` are context (at least 1).
    pub n_context: usize,
    pub reply: oneshot::Sender<Result<Loglikelihood, ModelError>>,
}

/// A raw completion: optionally score every prompt token, then generate, keeping each token's
/// piece (and log-probability) so that the caller can report them one by one.
pub(crate) struct RawJob {
    pub tokens: Vec<LlamaToken>,
    /// Leading tokens fed as conditioning only and not reported (a BOS the tokenizer added,
    /// whose text is not part of the prompt).
    pub n_hidden: usize,
    pub max_tokens: u32,
    pub stop: Vec<Vec<u8>>,
    pub sampling: Sampling,
    /// Whether the prompt's tokens get log-probabilities too (`echo` with `logprobs`).
    pub score_prompt: bool,
    /// `Some(n)`: log-probabilities with the `n` best alternatives per position.
    pub logprobs: Option<usize>,
    pub reply: oneshot::Sender<Result<RawOutput, ModelError>>,
}

/// One token of a raw completion, as bytes: a piece may end inside a UTF-8 character.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ScoredToken {
    pub piece: Vec<u8>,
    pub logprob: Option<f64>,
    pub top: Vec<(Vec<u8>, f64)>,
}

#[derive(Debug)]
pub(crate) struct RawOutput {
    /// The reported prompt tokens (all but the hidden ones), when `score_prompt`; else empty.
    pub prompt: Vec<ScoredToken>,
    /// The generated tokens; their pieces concatenated are the completion's text (cut at a
    /// stop string).
    pub generated: Vec<ScoredToken>,
    pub finish_reason: FinishReason,
    pub usage: Usage,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Sampling {
    Greedy,
    Random {
        temperature: f32,
        top_p: f32,
        seed: u32,
    },
}

/// Counters the worker keeps; read through [`crate::LocalModel::stats`].
#[derive(Debug, Default)]
pub(crate) struct Stats {
    prompt_tokens: AtomicU64,
    prompt_ns: AtomicU64,
    generated_tokens: AtomicU64,
    generation_ns: AtomicU64,
    decode_calls: AtomicU64,
}

/// Work done so far by a local model's decoding thread.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LocalStats {
    /// Prompt (and scored) tokens evaluated, and the seconds spent on them.
    pub prompt_tokens: u64,
    pub prompt_seconds: f64,
    /// Generated tokens fed back for the next step, and the seconds spent on them. The time of
    /// a `llama_decode` call that mixes both kinds is split in proportion to the token counts.
    pub generated_tokens: u64,
    pub generation_seconds: f64,
    pub decode_calls: u64,
}

impl Stats {
    pub(crate) fn snapshot(&self) -> LocalStats {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        LocalStats {
            prompt_tokens: get(&self.prompt_tokens),
            prompt_seconds: get(&self.prompt_ns) as f64 / 1e9,
            generated_tokens: get(&self.generated_tokens),
            generation_seconds: get(&self.generation_ns) as f64 / 1e9,
            decode_calls: get(&self.decode_calls),
        }
    }

    fn record(&self, prompt: u64, generated: u64, ns: u64) {
        let total = (prompt + generated).max(1);
        let prompt_ns = ns * prompt / total;
        self.prompt_tokens.fetch_add(prompt, Ordering::Relaxed);
        self.generated_tokens
            .fetch_add(generated, Ordering::Relaxed);
        self.prompt_ns.fetch_add(prompt_ns, Ordering::Relaxed);
        self.generation_ns
            .fetch_add(ns - prompt_ns, Ordering::Relaxed);
        self.decode_calls.fetch_add(1, Ordering::Relaxed);
    }
}

pub(crate) struct WorkerConfig {
    pub threads: usize,
    pub n_ctx_per_sequence: u32,
    pub sequences: usize,
}

/// Start the decoding thread; returns the job sender and the context size per sequence that
/// llama.cpp actually gave (it rounds up to a multiple of 256).
pub(crate) fn spawn(
    backend: &'static LlamaBackend,
    model: Arc<LlamaModel>,
    cfg: WorkerConfig,
    stats: Arc<Stats>,
) -> Result<(Sender<Job>, u32), String> {
    let (job_tx, job_rx) = std::sync::mpsc::channel::<Job>();
    let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel::<Result<u32, String>>(1);
    std::thread::Builder::new()
        .name("touchstone-llama".into())
        .spawn(move || run(backend, &model, &cfg, &stats, job_rx, ready_tx))
        .map_err(|e| format!("cannot start the inference thread: {e}"))?;
    match ready_rx.recv() {
        Ok(Ok(n_ctx_seq)) => Ok((job_tx, n_ctx_seq)),
        Ok(Err(e)) => Err(e),
        Err(_) => Err("the inference thread stopped while creating the llama.cpp context".into()),
    }
}

fn run(
    backend: &'static LlamaBackend,
    model: &LlamaModel,
    cfg: &WorkerConfig,
    stats: &Stats,
    rx: Receiver<Job>,
    ready: std::sync::mpsc::SyncSender<Result<u32, String>>,
) {
    let sequences = cfg.sequences.clamp(1, 256) as u32;
    // llama.cpp gives each sequence n_ctx / n_seq_max cells, rounded up to a multiple of 256.
    let per_seq = cfg.n_ctx_per_sequence.max(1).div_ceil(256) * 256;
    let n_ctx = per_seq.saturating_mul(sequences);
    let threads = i32::try_from(cfg.threads.max(1)).unwrap_or(i32::MAX);
    let n_batch = MAX_BATCH_TOKENS.min(n_ctx);
    let params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(n_ctx))
        .with_n_seq_max(sequences)
        .with_n_batch(n_batch)
        .with_n_ubatch(MAX_UBATCH_TOKENS.min(n_batch))
        .with_n_threads(threads)
        .with_n_threads_batch(threads);
    let mut ctx = match model.new_context(backend, params) {
        Ok(ctx) => ctx,
        Err(e) => {
            let _ = ready.send(Err(format!(
                "cannot create a context of {n_ctx} tokens for {sequences} sequences ({e}); lower n_ctx or max_batch_sequences"
            )));
            return;
        }
    };
    let n_ctx_seq = ctx.n_ctx() / sequences;
    if ready.send(Ok(n_ctx_seq)).is_err() {
        return;
    }
    let mut w = Worker {
        model,
        slots: (0..sequences).map(|_| None).collect(),
        pending: VecDeque::new(),
        batch: LlamaBatch::new(n_batch as usize, 1),
        n_batch: n_batch as usize,
        n_ctx_seq: n_ctx_seq as usize,
        stats,
    };
    w.run(&mut ctx, &rx);
}

struct Slot {
    seq: i32,
    tokens: Vec<LlamaToken>,
    /// Tokens already in the KV cache.
    fed: usize,
    n_prompt: usize,
    kind: Kind,
}

enum Kind {
    Generate {
        sampler: LlamaSampler,
        max_tokens: u32,
        stop: Vec<Vec<u8>>,
        text: Vec<u8>,
        reply: oneshot::Sender<Result<Completion, ModelError>>,
    },
    Score {
        n_context: usize,
        logprob: f64,
        greedy: bool,
        reply: oneshot::Sender<Result<Loglikelihood, ModelError>>,
    },
    Raw {
        sampler: LlamaSampler,
        n_hidden: usize,
        max_tokens: u32,
        stop: Vec<Vec<u8>>,
        score_prompt: bool,
        logprobs: Option<usize>,
        prompt: Vec<ScoredToken>,
        generated: Vec<ScoredToken>,
        text: Vec<u8>,
        reply: oneshot::Sender<Result<RawOutput, ModelError>>,
    },
}

fn sampler(sampling: Sampling) -> LlamaSampler {
    match sampling {
        Sampling::Greedy => LlamaSampler::greedy(),
        Sampling::Random {
            temperature,
            top_p,
            seed,
        } => LlamaSampler::chain_simple([
            LlamaSampler::top_p(top_p, 1),
            LlamaSampler::temp(temperature),
            LlamaSampler::dist(seed),
        ]),
    }
}

enum Done {
    Completion(FinishReason),
    Failed(String),
}

impl Slot {
    fn new(seq: i32, job: Job, model: &LlamaModel) -> Slot {
        match job {
            Job::Generate(j) => {
                let sampler = sampler(j.sampling);
                Slot {
                    seq,
                    n_prompt: j.tokens.len(),
                    tokens: j.tokens,
                    fed: 0,
                    kind: Kind::Generate {
                        sampler,
                        max_tokens: j.max_tokens,
                        stop: j.stop,
                        text: Vec::new(),
                        reply: j.reply,
                    },
                }
            }
            Job::Score(j) => Slot {
                seq,
                n_prompt: j.tokens.len(),
                tokens: j.tokens,
                fed: 0,
                kind: Kind::Score {
                    n_context: j.n_context,
                    logprob: 0.0,
                    greedy: true,
                    reply: j.reply,
                },
            },
            Job::Raw(j) => {
                let n_hidden = j.n_hidden.min(j.tokens.len());
                // Scores are filled in as the prompt's logits arrive; the first token keeps None
                // unless a hidden BOS precedes it.
                let prompt = if j.score_prompt {
                    j.tokens[n_hidden..]
                        .iter()
                        .map(|&t| ScoredToken {
                            piece: piece(model, t),
                            logprob: None,
                            top: Vec::new(),
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                Slot {
                    seq,
                    n_prompt: j.tokens.len(),
                    tokens: j.tokens,
                    fed: 0,
                    kind: Kind::Raw {
                        sampler: sampler(j.sampling),
                        n_hidden,
                        max_tokens: j.max_tokens,
                        stop: j.stop,
                        score_prompt: j.score_prompt,
                        logprobs: j.logprobs,
                        prompt,
                        generated: Vec::new(),
                        text: Vec::new(),
                        reply: j.reply,
                    },
                }
            }
        }
    }

    fn cancelled(&self) -> bool {
        match &self.kind {
            Kind::Generate { reply, .. } => reply.is_closed(),
            Kind::Score { reply, .. } => reply.is_closed(),
            Kind::Raw { reply, .. } => reply.is_closed(),
        }
    }

    /// Whether every fed token has been dealt with and no generation is asked for.
    fn scoring_done(&self) -> bool {
        self.fed == self.tokens.len()
            && match &self.kind {
                Kind::Score { .. } => true,
                Kind::Raw { max_tokens, .. } => *max_tokens == 0,
                Kind::Generate { .. } => false,
            }
    }

    /// Whether llama.cpp must keep the logits after token `i`.
    fn wants_logits(&self, i: usize) -> bool {
        match &self.kind {
            Kind::Generate { .. } => i + 1 == self.tokens.len(),
            Kind::Score { n_context, .. } => i + 1 >= *n_context && i + 1 < self.tokens.len(),
            Kind::Raw {
                n_hidden,
                max_tokens,
                score_prompt,
                ..
            } => {
                // Logits at i score token i + 1 (the first token has nothing before it).
                let scores_prompt =
                    *score_prompt && i + 1 >= (*n_hidden).max(1) && i + 1 < self.n_prompt;
                scores_prompt || (*max_tokens > 0 && i + 1 == self.tokens.len())
            }
        }
    }

    fn finish(self, done: Done) {
        match self.kind {
            Kind::Generate { text, reply, .. } => {
                let result = match done {
                    Done::Completion(finish_reason) => Ok(Completion {
                        text: String::from_utf8_lossy(&text).into_owned(),
                        finish_reason,
                        usage: Usage {
                            prompt_tokens: u32::try_from(self.n_prompt).unwrap_or(u32::MAX),
                            completion_tokens: u32::try_from(self.tokens.len() - self.n_prompt)
                                .unwrap_or(u32::MAX),
                        },
                        cached: false,
                    }),
                    Done::Failed(e) => Err(ModelError::Local(e)),
                };
                let _ = reply.send(result);
            }
            Kind::Score {
                n_context,
                logprob,
                greedy,
                reply,
            } => {
                let result = match done {
                    Done::Completion(_) => Ok(Loglikelihood {
                        logprob,
                        is_greedy: greedy,
                        tokens: u32::try_from(self.tokens.len() - n_context).unwrap_or(u32::MAX),
                    }),
                    Done::Failed(e) => Err(ModelError::Local(e)),
                };
                let _ = reply.send(result);
            }
            Kind::Raw {
                prompt,
                generated,
                reply,
                ..
            } => {
                let result = match done {
                    Done::Completion(finish_reason) => Ok(RawOutput {
                        prompt,
                        generated,
                        finish_reason,
                        usage: Usage {
                            prompt_tokens: u32::try_from(self.n_prompt).unwrap_or(u32::MAX),
                            completion_tokens: u32::try_from(self.tokens.len() - self.n_prompt)
                                .unwrap_or(u32::MAX),
                        },
                    }),
                    Done::Failed(e) => Err(ModelError::Local(e)),
                };
                let _ = reply.send(result);
            }
        }
    }
}

/// A token's bytes, special tokens rendered, so that a raw prompt's pieces give it back whole.
fn piece(model: &LlamaModel, token: LlamaToken) -> Vec<u8> {
    model.vocab().token_to_piece(token, true, None)
}

struct Worker<'m> {
    model: &'m LlamaModel,
    slots: Vec<Option<Slot>>,
    pending: VecDeque<Job>,
    batch: LlamaBatch<'static>,
    n_batch: usize,
    n_ctx_seq: usize,
    stats: &'m Stats,
}

impl Worker<'_> {
    fn run(&mut self, ctx: &mut LlamaContext<'_>, rx: &Receiver<Job>) {
        let mut disconnected = false;
        loop {
            if self.slots.iter().all(Option::is_none) && self.pending.is_empty() {
                if disconnected {
                    return;
                }
                match rx.recv() {
                    Ok(job) => self.pending.push_back(job),
                    Err(_) => return,
                }
            }
            loop {
                match rx.try_recv() {
                    Ok(job) => self.pending.push_back(job),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        disconnected = true;
                        break;
                    }
                }
            }
            self.step(ctx);
        }
    }

    fn release(&mut self, ctx: &mut LlamaContext<'_>, index: usize, done: Done) {
        if let Some(slot) = self.slots[index].take() {
            let _ = ctx.clear_kv_cache_seq(Some(slot.seq as u32), None, None);
            slot.finish(done);
        }
    }

    fn step(&mut self, ctx: &mut LlamaContext<'_>) {
        // Callers that stopped waiting free their sequence at once.
        for i in 0..self.slots.len() {
            if self.slots[i].as_ref().is_some_and(Slot::cancelled)
                && let Some(slot) = self.slots[i].take()
            {
                let _ = ctx.clear_kv_cache_seq(Some(slot.seq as u32), None, None);
            }
        }
        // Admit pending requests into the lowest free sequence ids.
        for i in 0..self.slots.len() {
            if self.slots[i].is_none() {
                match self.pending.pop_front() {
                    Some(job) => self.slots[i] = Some(Slot::new(i as i32, job, self.model)),
                    None => break,
                }
            }
        }

        // Plan: one token for each generating sequence first, then prompt chunks in id order.
        let mut chunk = vec![0usize; self.slots.len()];
        let mut room = self.n_batch;
        for (i, slot) in self.slots.iter().enumerate() {
            if let Some(s) = slot
                && s.tokens.len() - s.fed == 1
                && room > 0
            {
                chunk[i] = 1;
                room -= 1;
            }
        }
        for (i, slot) in self.slots.iter().enumerate() {
            if let Some(s) = slot
                && chunk[i] == 0
            {
                let n = (s.tokens.len() - s.fed).min(room);
                chunk[i] = n;
                room -= n;
            }
        }

        self.batch.clear();
        // (slot index, token index, row in the batch) of every kept logit.
        let mut rows: Vec<(usize, usize, i32)> = Vec::new();
        let (mut n_prompt, mut n_generated) = (0u64, 0u64);
        let mut failed: Vec<(usize, String)> = Vec::new();
        for (i, slot) in self.slots.iter().enumerate() {
            let Some(s) = slot else { continue };
            for k in s.fed..s.fed + chunk[i] {
                let logits = s.wants_logits(k);
                if let Err(e) = self.batch.add(s.tokens[k], k as i32, &[s.seq], logits) {
                    failed.push((i, format!("batch: {e}")));
                    break;
                }
                if logits {
                    rows.push((i, k, self.batch.n_tokens() - 1));
                }
                if k >= s.n_prompt {
                    n_generated += 1;
                } else {
                    n_prompt += 1;
                }
            }
        }
        if !failed.is_empty() {
            for (i, e) in failed {
                self.release(ctx, i, Done::Failed(e));
            }
            return;
        }
        if self.batch.n_tokens() == 0 {
            return;
        }

        let started = Instant::now();
        if let Err(e) = ctx.decode(&mut self.batch) {
            for (i, n) in chunk.iter().enumerate() {
                if *n > 0 {
                    self.release(ctx, i, Done::Failed(format!("llama_decode failed: {e}")));
                }
            }
            return;
        }
        self.stats
            .record(n_prompt, n_generated, started.elapsed().as_nanos() as u64);

        for (i, n) in chunk.iter().enumerate() {
            if let Some(s) = self.slots[i].as_mut() {
                s.fed += n;
            }
        }
        let mut finished: Vec<(usize, Done)> = Vec::new();
        for (i, k, row) in rows {
            let Some(s) = self.slots[i].as_mut() else {
                continue;
            };
            match &mut s.kind {
                Kind::Score {
                    logprob, greedy, ..
                } => {
                    let target = s.tokens[k + 1];
                    let (lp, is_max) = log_softmax_at(ctx.get_logits_ith(row), target);
                    *logprob += lp;
                    *greedy &= is_max;
                }
                Kind::Generate {
                    sampler,
                    max_tokens,
                    stop,
                    text,
                    ..
                } => {
                    let token = sampler.sample(ctx, row);
                    let vocab = self.model.vocab();
                    if vocab.is_eog(token) {
                        finished.push((i, Done::Completion(FinishReason::Stop)));
                        continue;
                    }
                    s.tokens.push(token);
                    let before = text.len();
                    text.extend_from_slice(&vocab.token_to_piece(token, false, None));
                    let generated = s.tokens.len() - s.n_prompt;
                    if let Some(cut) = find_stop(text, before, stop) {
                        text.truncate(cut);
                        finished.push((i, Done::Completion(FinishReason::Stop)));
                    } else if generated >= *max_tokens as usize || s.tokens.len() >= self.n_ctx_seq
                    {
                        finished.push((i, Done::Completion(FinishReason::Length)));
                    }
                }
                Kind::Raw {
                    sampler,
                    n_hidden,
                    max_tokens,
                    stop,
                    logprobs,
                    prompt,
                    generated,
                    text,
                    ..
                } => {
                    let top_n = logprobs.unwrap_or(0);
                    if k + 1 < s.n_prompt {
                        // A prompt token's score; `wants_logits` asks for these only when echoing.
                        let (lp, top) =
                            logprob_and_top(ctx.get_logits_ith(row), s.tokens[k + 1], top_n);
                        if let Some(entry) = (k + 1)
                            .checked_sub(*n_hidden)
                            .and_then(|j| prompt.get_mut(j))
                        {
                            entry.logprob = Some(lp);
                            entry.top = top
                                .into_iter()
                                .map(|(t, lp)| (piece(self.model, t), lp))
                                .collect();
                        }
                        continue;
                    }
                    let token = sampler.sample(ctx, row);
                    if self.model.vocab().is_eog(token) {
                        finished.push((i, Done::Completion(FinishReason::Stop)));
                        continue;
                    }
                    let (lp, top) = match logprobs {
                        Some(_) => {
                            let (lp, top) = logprob_and_top(ctx.get_logits_ith(row), token, top_n);
                            (
                                Some(lp),
                                top.into_iter()
                                    .map(|(t, lp)| (piece(self.model, t), lp))
                                    .collect(),
                            )
                        }
                        None => (None, Vec::new()),
                    };
                    s.tokens.push(token);
                    let bytes = piece(self.model, token);
                    let before = text.len();
                    text.extend_from_slice(&bytes);
                    generated.push(ScoredToken {
                        piece: bytes,
                        logprob: lp,
                        top,
                    });
                    let count = s.tokens.len() - s.n_prompt;
                    if let Some(cut) = find_stop(text, before, stop) {
                        truncate_pieces(generated, cut);
                        finished.push((i, Done::Completion(FinishReason::Stop)));
                    } else if count >= *max_tokens as usize || s.tokens.len() >= self.n_ctx_seq {
                        finished.push((i, Done::Completion(FinishReason::Length)));
                    }
                }
            }
        }
        for (i, s) in self.slots.iter().enumerate() {
            if let Some(s) = s
                && s.scoring_done()
            {
                finished.push((i, Done::Completion(FinishReason::Stop)));
            }
        }
        for (i, done) in finished {
            self.release(ctx, i, done);
        }
    }
}

/// Log-probability of `target` under `logits`, and whether it is the most likely token.
fn log_softmax_at(logits: &[f32], target: LlamaToken) -> (f64, bool) {
    let t = usize::try_from(target.0).unwrap_or(usize::MAX);
    let Some(&at) = logits.get(t) else {
        return (f64::NEG_INFINITY, false);
    };
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f64 = logits.iter().map(|&l| f64::from(l - max).exp()).sum();
    let argmax = logits.iter().position(|&l| l == max);
    (f64::from(at - max) - sum.ln(), argmax == Some(t))
}

/// Log-probability of `target` under `logits` and the `n` most likely tokens with theirs, best
/// first. Same arithmetic as [`log_softmax_at`], so raw scores and log-likelihoods agree.
fn logprob_and_top(logits: &[f32], target: LlamaToken, n: usize) -> (f64, Vec<(LlamaToken, f64)>) {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let log_sum = logits
        .iter()
        .map(|&l| f64::from(l - max).exp())
        .sum::<f64>()
        .ln();
    let lp = |l: f32| f64::from(l - max) - log_sum;
    let at = usize::try_from(target.0)
        .ok()
        .and_then(|t| logits.get(t))
        .map_or(f64::NEG_INFINITY, |&l| lp(l));
    // One pass keeping the n best (n ≤ 5): cheaper than sorting the whole vocabulary.
    let mut best: Vec<(usize, f32)> = Vec::with_capacity(n + 1);
    for (i, &l) in logits.iter().enumerate() {
        if n > 0 && (best.len() < n || best.last().is_some_and(|&(_, b)| l > b)) {
            let pos = best.partition_point(|&(_, b)| b >= l);
            best.insert(pos, (i, l));
            best.truncate(n);
        }
    }
    let top = best
        .into_iter()
        .filter_map(|(i, l)| Some((LlamaToken(i32::try_from(i).ok()?), lp(l))))
        .collect();
    (at, top)
}

/// Drop or shorten trailing pieces so that together they are `len` bytes long (a stop string
/// cut the text there).
fn truncate_pieces(tokens: &mut Vec<ScoredToken>, len: usize) {
    let mut total = 0usize;
    let mut keep = 0usize;
    for t in tokens.iter_mut() {
        if total >= len {
            break;
        }
        let room = len - total;
        t.piece.truncate(room);
        total += t.piece.len();
        keep += 1;
    }
    tokens.truncate(keep);
}

/// Earliest stop string that ends in the bytes added after `before`; returns where it starts.
fn find_stop(text: &[u8], before: usize, stops: &[Vec<u8>]) -> Option<usize> {
    stops
        .iter()
        .filter(|s| !s.is_empty())
        .filter_map(|s| {
            let from = before.saturating_sub(s.len() - 1);
            text[from..]
                .windows(s.len())
                .position(|w| w == s.as_slice())
                .map(|p| from + p)
        })
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_strings_across_pieces() {
        let stops = vec![b"\n\n".to_vec(), b"END".to_vec()];
        assert_eq!(find_stop(b"abc\n", 3, &stops), None);
        assert_eq!(find_stop(b"abc\n\nx", 4, &stops), Some(3));
        assert_eq!(find_stop(b"xxEN", 3, &stops), None);
        assert_eq!(find_stop(b"xxEND and more", 4, &stops), Some(2));
        assert_eq!(find_stop(b"abc", 0, &[Vec::new()]), None);
    }

    #[test]
    fn top_alternatives_are_the_best_in_order() {
        let logits = [1.0f32, 4.0, 3.0, 0.5, 3.5];
        let (lp, top) = logprob_and_top(&logits, LlamaToken(2), 3);
        assert_eq!(lp, log_softmax_at(&logits, LlamaToken(2)).0);
        let ids: Vec<i32> = top.iter().map(|(t, _)| t.0).collect();
        assert_eq!(ids, [1, 4, 2]);
        assert_eq!(top[2].1, lp);
        assert!(logprob_and_top(&logits, LlamaToken(0), 0).1.is_empty());
        assert_eq!(
            logprob_and_top(&logits, LlamaToken(9), 1).0,
            f64::NEG_INFINITY
        );
    }

    #[test]
    fn pieces_are_cut_where_the_stop_string_starts() {
        let t = |s: &str| ScoredToken {
            piece: s.as_bytes().to_vec(),
            logprob: Some(-1.0),
            top: Vec::new(),
        };
        let mut tokens = vec![t("ab"), t("c\n"), t("\nx")];
        truncate_pieces(&mut tokens, 3);
        assert_eq!(tokens, vec![t("ab"), t("c")]);
        let mut tokens = vec![t("ab"), t("\n\n")];
        truncate_pieces(&mut tokens, 2);
        assert_eq!(tokens, vec![t("ab")]);
    }

    #[test]
    fn log_softmax_matches_hand_computation() {
        let logits = [1.0f32, 2.0, 3.0];
        let z = (1f64.exp() + 2f64.exp() + 3f64.exp()).ln();
        let (lp, greedy) = log_softmax_at(&logits, LlamaToken(1));
        assert!((lp - (2.0 - z)).abs() < 1e-9);
        assert!(!greedy);
        let (lp, greedy) = log_softmax_at(&logits, LlamaToken(2));
        assert!((lp - (3.0 - z)).abs() < 1e-9);
        assert!(greedy);
        assert_eq!(log_softmax_at(&logits, LlamaToken(7)).0, f64::NEG_INFINITY);
    }
}
