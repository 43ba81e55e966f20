//! Progress on the terminal: a bar while items run (hidden when stderr is not a terminal or with
//! --quiet), short notes otherwise.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use touchstone_core::ItemStatus;
use touchstone_engine::Events;

pub struct Progress {
    bar: ProgressBar,
    quiet: bool,
    failed: AtomicU64,
}

impl Progress {
    pub fn new(quiet: bool) -> Self {
        let bar = ProgressBar::hidden();
        if !quiet && std::io::stderr().is_terminal() {
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} items · {per_sec} · ETA {eta} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Progress {
            bar,
            quiet,
            failed: AtomicU64::new(0),
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Events for Progress {
    fn note(&self, message: &str) {
        if !self.quiet {
            self.bar.suspend(|| errln!("· {message}"));
        }
    }

    fn started(&self, run_id: &str, planned: u64, recorded: u64) {
        if !self.quiet {
            self.bar.suspend(|| {
                errln!("· run {run_id}: {planned} items planned, {recorded} already recorded / 运行 {run_id}：计划 {planned} 项，已记录 {recorded} 项")
            });
        }
        self.bar.set_length(planned);
        self.bar.set_position(recorded);
    }

    fn item_finished(&self, status: ItemStatus) {
        if status == ItemStatus::Failed {
            let n = self.failed.fetch_add(1, Ordering::Relaxed) + 1;
            self.bar.set_message(format!("· {n} failed"));
        }
        self.bar.inc(1);
    }
}
