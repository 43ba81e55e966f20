//! Issuing a certificate for a run and publishing the transparency log's head: the flow from
//! the store through `touchstone-trust` and back into the log. The host supplies the keys
//! (asking for a passphrase is its business) and writes the files.

use std::path::Path;

use touchstone_store::{RunStatus, Store};
use touchstone_trust::merkle::{self, Hash};
use touchstone_trust::{Certificate, CertificateBody, KeyPair, PublishedTreeHead, transparency};

use crate::{EngineError, evidence, summarize};

/// The issuing center's name when none is given.
pub const DEFAULT_ISSUER: &str = "Touchstone evaluation center";

/// The log's leaf hashes, each checked against its entry: the store's triggers stop ordinary
/// edits, and this stops a signature over an edit that went around them.
pub fn log_leaves(store: &dyn Store) -> Result<Vec<Hash>, EngineError> {
    let hex = store.log_leaf_hashes()?;
    let leaves = merkle::parse_hashes(&hex).map_err(|e| {
        EngineError::Trust(format!(
            "the transparency log in the store is corrupt: {e} / 透明日志已损坏"
        ))
    })?;
    let entries = (0..leaves.len() as u64)
        .map(|i| store.log_entry(i))
        .collect::<Result<Vec<_>, _>>()?;
    transparency::check_entries(&leaves, &entries)
        .map_err(|e| EngineError::Trust(e.to_string()))?;
    Ok(leaves)
}

/// What a certificate will say of a run, gathered before any key is asked for: the run must be
/// completed, and every file it read must still be what it read (relative to `files_root`).
pub struct Draft {
    pub run_id: String,
    results: serde_json::Value,
    subjects: Vec<touchstone_trust::Subject>,
}

pub fn draft(store: &dyn Store, run: &str, files_root: &Path) -> Result<Draft, EngineError> {
    let run = store.resolve_run(run)?;
    if run.status != RunStatus::Completed {
        return Err(EngineError::Config(format!(
            "run {} is {}: finish it with `touchstone eval --resume {}` before certifying / 运行尚未完成，不能签发证书",
            run.id,
            run.status.as_str(),
            run.id
        )));
    }
    let results = summarize(store, &run.id)?;
    let subjects = evidence::subjects(&results.config, files_root)?;
    let results =
        serde_json::to_value(&results).map_err(|e| EngineError::Internal(e.to_string()))?;
    Ok(Draft {
        run_id: run.id,
        results,
        subjects,
    })
}

/// Signs `draft` with `keys` as `center` at `now` (RFC 3339 UTC), appends it to the store's
/// transparency log, and embeds the inclusion proof and a signed tree head. Returns the
/// certificate and its leaf index.
pub fn issue(
    store: &dyn Store,
    draft: Draft,
    center: &str,
    keys: &KeyPair,
    now: &str,
) -> Result<(Certificate, u64), EngineError> {
    let body = CertificateBody::new(
        center,
        now,
        &draft.run_id,
        draft.results,
        draft.subjects,
        keys.public().clone(),
    );
    let cert = touchstone_trust::issue(body, keys);
    let index = store.log_append(
        &transparency::entry(&cert),
        &transparency::leaf_hash_hex(&cert),
    )?;
    // Every entry, the new one included, is checked against its leaf before the head is signed.
    let cert = transparency::attach_proof(cert, index, &log_leaves(store)?, keys, now)
        .map_err(|e| EngineError::Trust(e.to_string()))?;
    Ok((cert, index))
}

/// Whether a tree head can be published with consistency proofs from `since`: the log has
/// entries, each checked, and each size is from 1 to the log's size.
pub fn check_since(store: &dyn Store, since: &[u64]) -> Result<Vec<Hash>, EngineError> {
    let leaves = log_leaves(store)?;
    if leaves.is_empty() {
        return Err(EngineError::Config(
            "the transparency log is empty: nothing has been certified yet / 透明日志为空".into(),
        ));
    }
    let size = leaves.len() as u64;
    if let Some(bad) = since.iter().find(|&&s| s == 0 || s > size) {
        return Err(EngineError::Config(format!(
            "--since {bad}: the log has {size} entr{}; give a tree size from 1 to {size}, as a certificate's `log.tree_head.tree_size` says / 树规模须在 1 与 {size} 之间",
            if size == 1 { "y" } else { "ies" }
        )));
    }
    Ok(leaves)
}

/// The log's head, signed with `keys` as `center`, with consistency proofs from each of the
/// tree sizes in `since` (each from 1 to the log's size).
pub fn tree_head(
    store: &dyn Store,
    keys: &KeyPair,
    center: &str,
    now: &str,
    since: &[u64],
) -> Result<PublishedTreeHead, EngineError> {
    let leaves = check_since(store, since)?;
    Ok(PublishedTreeHead::publish(
        &leaves, keys, center, now, since,
    ))
}
