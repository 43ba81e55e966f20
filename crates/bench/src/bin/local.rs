//! Local inference throughput: prompt and generation tokens/s for SmolLM2 with one sequence at a
//! time and with 8 and 32 sequences decoded together, on the same 32 requests.
//!
//! Usage: `local [--threads N] [--max-tokens N] [--only BATCH]` (defaults: 2 threads, 64 tokens, greedy).

use std::process::ExitCode;
use std::time::Instant;

use touchstone_core::{GenerateParams, GenerateRequest, Message};
use touchstone_local::{LocalModel, LocalOptions};
use touchstone_models::Model;

const QUESTIONS: [&str; 32] = [
    "What is the capital of France?",
    "Name three colours of the rainbow.",
    "What is 12 plus 7?",
    "Write a haiku about rain.",
    "Who wrote Romeo and Juliet?",
    "What is the boiling point of water in Celsius?",
    "Translate 'good morning' into Spanish.",
    "Give one tip for sleeping well.",
    "Explain what a noun is.",
    "Why is the sky blue?",
    "List two planets in the solar system.",
    "What do bees make?",
    "Describe a cat in one sentence.",
    "What is the opposite of hot?",
    "How many days are in a week?",
    "Suggest a name for a dog.",
    "What is photosynthesis?",
    "Tell me a fun fact about octopuses.",
    "What language is spoken in Brazil?",
    "How do you make a cup of tea?",
    "What is the largest ocean?",
    "Write a short greeting for a birthday card.",
    "What is 9 times 8?",
    "Name a famous painter.",
    "What does a thermometer measure?",
    "Give an example of a fruit that is red.",
    "What is the freezing point of water?",
    "Why do we need sleep?",
    "What is the main ingredient of bread?",
    "Explain what a computer is to a child.",
    "What season comes after winter?",
    "Recommend a book for a long journey.",
];

struct Row {
    batch: usize,
    prompt_tps: f64,
    gen_tps: f64,
    wall: f64,
    generated: u64,
    calls: u64,
}

fn arg(args: &[String], name: &str, default: usize) -> Result<usize, String> {
    match args.iter().position(|a| a == name) {
        None => Ok(default),
        Some(i) => args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("{name} needs a positive whole number")),
    }
}

async fn run(threads: usize, max_tokens: u32, batch: usize) -> Result<Row, String> {
    let opts = LocalOptions {
        threads,
        n_ctx: 512,
        max_batch_sequences: batch,
        seed: 0,
    };
    let model = LocalModel::open("smollm2", opts).map_err(|e| e.to_string())?;
    let requests: Vec<GenerateRequest> = QUESTIONS
        .iter()
        .map(|q| GenerateRequest {
            messages: vec![Message::user(*q)],
            params: GenerateParams {
                max_tokens: Some(max_tokens),
                temperature: Some(0.0),
                ..Default::default()
            },
        })
        .collect();
    let started = Instant::now();
    let answers = futures::future::join_all(requests.iter().map(|r| model.generate(r))).await;
    let wall = started.elapsed().as_secs_f64();
    for a in &answers {
        if let Err(e) = a {
            return Err(format!("a request failed: {e}"));
        }
    }
    let s = model.stats();
    Ok(Row {
        batch,
        prompt_tps: s.prompt_tokens as f64 / s.prompt_seconds.max(1e-9),
        gen_tps: s.generated_tokens as f64 / s.generation_seconds.max(1e-9),
        wall,
        generated: answers
            .iter()
            .flatten()
            .map(|c| u64::from(c.usage.completion_tokens))
            .sum(),
        calls: s.decode_calls,
    })
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (threads, max_tokens) = match (arg(&args, "--threads", 2), arg(&args, "--max-tokens", 64)) {
        (Ok(t), Ok(m)) if t > 0 && m > 0 => (t, m as u32),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
        _ => {
            eprintln!("error: --threads and --max-tokens must be positive");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "SmolLM2-135M-Instruct Q4_1 · {threads} threads · {} requests · max_tokens {max_tokens} · greedy",
        QUESTIONS.len()
    );
    println!(
        "{:>6}  {:>13}  {:>10}  {:>8}  {:>10}  {:>12}",
        "batch", "prompt tok/s", "gen tok/s", "wall s", "gen tokens", "decode calls"
    );
    let mut rows = Vec::new();
    // `--only N` runs a single configuration (for quick checks); the comparison needs all three.
    let batches: Vec<usize> = match arg(&args, "--only", 0) {
        Ok(0) => vec![1, 8, 32],
        Ok(n) => vec![n],
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    for batch in batches {
        match rt.block_on(run(threads, max_tokens, batch)) {
            Ok(r) => {
                println!(
                    "{:>6}  {:>13.1}  {:>10.1}  {:>8.2}  {:>10}  {:>12}",
                    r.batch, r.prompt_tps, r.gen_tps, r.wall, r.generated, r.calls
                );
                rows.push(r);
            }
            Err(e) => {
                eprintln!("error: batch {batch}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    if rows.len() < 3 {
        return ExitCode::SUCCESS;
    }
    let single = &rows[0];
    for r in &rows[1..] {
        println!(
            "batch {:>2} vs 1 sequence: generation {:.2}×, end-to-end {:.2}×",
            r.batch,
            r.gen_tps / single.gen_tps,
            single.wall / r.wall
        );
    }
    let ratio = rows[2].gen_tps / single.gen_tps;
    println!(
        "target: batch 32 generation ≥ 3× one sequence: {}",
        if ratio >= 3.0 { "met" } else { "NOT met" }
    );
    ExitCode::SUCCESS
}
