//! Helpers shared by the integration tests (included with `mod common;`).
#![allow(dead_code)]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use touchstone_core::{Sample, Target};

/// Runs a future that never waits on IO (the rule scorers complete on first poll) without a
/// runtime, so property tests can call async `score` cheaply.
pub fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

pub fn sample(target: &str) -> Sample {
    Sample::new("s1", "question", target)
}

pub fn sample_targets(targets: &[&str]) -> Sample {
    let mut s = Sample::new("s1", "question", "");
    s.target = Target(targets.iter().map(|t| t.to_string()).collect());
    s
}

pub fn mc_sample(target: &str, choices: &[&str]) -> Sample {
    let mut s = Sample::new("mc1", "question", target);
    s.choices = Some(choices.iter().map(|c| c.to_string()).collect());
    s
}
