//! Benchmarks that print tables, and what they share.

pub mod judge_check;
pub mod labelled_requests;
pub mod processes;
