//! Ties a certificate to the transparency log, wherever the log is kept.
//!
//! The binary's `certify` does:
//!
//! ```text
//! let cert  = trust::issue(body, &keys);
//! let index = store.log_append(&transparency::entry(&cert), &transparency::leaf_hash_hex(&cert))?;
//! let leaves = trust::merkle::parse_hashes(&store.log_leaf_hashes()?)?;
//! let cert  = transparency::attach_proof(cert, index, &leaves, &keys, &now)?;
//! std::fs::write(out, cert.to_bytes())?;
//! ```
//!
//! and publishing a tree head is `PublishedTreeHead::publish(&leaves, &keys, center, &now, &sizes)`.

use crate::certificate::Certificate;
use crate::hex;
use crate::keys::KeyPair;
use crate::merkle::{self, Hash, LogProof, SignedTreeHead};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransparencyError {
    #[error("log leaf {index} does not exist: the log has {size} leaves")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("log leaf {index} is not this certificate (leaf hash differs)")]
    LeafMismatch { index: u64 },
    #[error(
        "log entry {index} does not hash to its recorded leaf hash: the entry was altered after it \
         was logged; nothing is signed over an altered log / 透明日志第 {index} 条已被改动"
    )]
    EntryAltered { index: u64 },
}

/// Checks that every logged entry still hashes to its leaf hash, so that no tree head is
/// signed over entries that were edited in the store; `entries[i]` is the i-th entry, `None`
/// where the store has none.
pub fn check_entries(leaves: &[Hash], entries: &[Option<String>]) -> Result<(), TransparencyError> {
    for (index, leaf) in leaves.iter().enumerate() {
        match entries.get(index) {
            Some(Some(text)) if merkle::leaf_hash(text.as_bytes()) == *leaf => {}
            _ => {
                return Err(TransparencyError::EntryAltered {
                    index: index as u64,
                });
            }
        }
    }
    Ok(())
}

/// The log entry text: the RFC 8785 form of the certificate without its `log` field.
pub fn entry(cert: &Certificate) -> String {
    String::from_utf8(cert.log_entry()).expect("JCS output is UTF-8")
}

/// `SHA-256(0x00 ‖ entry)`.
pub fn leaf_hash(cert: &Certificate) -> Hash {
    cert.leaf_hash()
}

/// [`leaf_hash`] as lowercase hex, as the store keeps it.
pub fn leaf_hash_hex(cert: &Certificate) -> String {
    hex::encode(&cert.leaf_hash())
}

/// Signs the head of the tree of `leaves` (which must hold `cert` at `leaf_index`) and embeds the
/// head and the inclusion proof in `cert` as `log`. The log id is the certificate's center.
pub fn attach_proof(
    mut cert: Certificate,
    leaf_index: u64,
    leaves: &[Hash],
    keys: &KeyPair,
    timestamp: &str,
) -> Result<Certificate, TransparencyError> {
    let size = leaves.len() as u64;
    let Some(stored) = usize::try_from(leaf_index).ok().and_then(|i| leaves.get(i)) else {
        return Err(TransparencyError::IndexOutOfRange {
            index: leaf_index,
            size,
        });
    };
    if *stored != cert.leaf_hash() {
        return Err(TransparencyError::LeafMismatch { index: leaf_index });
    }
    let tree_head = SignedTreeHead::sign(leaves, keys, &cert.body.center, timestamp);
    let inclusion_proof = merkle::inclusion_proof(leaf_index, leaves)
        .expect("index checked above")
        .iter()
        .map(|h| hex::encode(h))
        .collect();
    cert.log = Some(LogProof {
        leaf_index,
        tree_head,
        inclusion_proof,
    });
    Ok(cert)
}

#[cfg(test)]
mod entry_tests {
    use super::*;

    #[test]
    fn an_altered_entry_is_named_and_an_intact_log_passes() {
        let entries = ["{\"a\":1}", "{\"b\":2}", "{\"c\":3}"].map(|e| Some(e.to_string()));
        let leaves: Vec<Hash> = entries
            .iter()
            .flatten()
            .map(|e| merkle::leaf_hash(e.as_bytes()))
            .collect();
        assert_eq!(check_entries(&leaves, &entries), Ok(()));
        let mut altered = entries.clone();
        altered[1] = Some("{\"b\":3}".into());
        assert_eq!(
            check_entries(&leaves, &altered),
            Err(TransparencyError::EntryAltered { index: 1 })
        );
        // A missing entry is no better than an altered one.
        let mut missing = entries.clone();
        missing[2] = None;
        assert_eq!(
            check_entries(&leaves, &missing),
            Err(TransparencyError::EntryAltered { index: 2 })
        );
    }
}
