//! The transparency log's Merkle tree (RFC 9162 §2.1), signed tree heads and proofs.
//!
//! Leaves are stored as their leaf hashes `SHA-256(0x00 ‖ entry)`; interior nodes are
//! `SHA-256(0x01 ‖ left ‖ right)`; the tree of `n` leaves splits at the largest power of two
//! below `n`. Every function here works on leaf hashes, so the log can be kept anywhere.

use serde::{Deserialize, Serialize};

use crate::hex::{self, HexError};
use crate::keys::KeyPair;
use crate::sign::{SignatureEntry, sign_both};
use crate::{canonical, names};

pub type Hash = [u8; 32];

pub const TREE_HEAD_FORMAT: &str = "touchstone-tree-head/1";

/// `SHA-256(0x00 ‖ data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The hash of the empty tree, `SHA-256("")`.
pub fn empty_root() -> Hash {
    crate::digest::sha256(b"")
}

/// Largest power of two strictly below `n` (n ≥ 2).
fn split(n: usize) -> usize {
    debug_assert!(n >= 2);
    1 << (usize::BITS - 1 - (n - 1).leading_zeros())
}

/// `MTH(D[n])` from leaf hashes. Iterative: O(n) time, O(log n) memory.
pub fn root(leaves: &[Hash]) -> Hash {
    if leaves.is_empty() {
        return empty_root();
    }
    // A stack of (subtree size, hash) of perfect subtrees, merged as in a binary counter; the
    // remaining stack is folded right to left, which is exactly RFC 9162's split rule.
    let mut stack: Vec<(usize, Hash)> = Vec::new();
    for leaf in leaves {
        let mut cur = (1usize, *leaf);
        while let Some(&(size, h)) = stack.last() {
            if size != cur.0 {
                break;
            }
            stack.pop();
            cur = (size * 2, node_hash(&h, &cur.1));
        }
        stack.push(cur);
    }
    let mut acc = stack.pop().expect("non-empty").1;
    while let Some((_, h)) = stack.pop() {
        acc = node_hash(&h, &acc);
    }
    acc
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MerkleError {
    #[error("leaf index {index} is outside a tree of {size} leaves")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("a consistency proof needs 0 < old size ({old}) ≤ new size ({new})")]
    BadSizes { old: u64, new: u64 },
}

/// `PATH(m, D[n])` of RFC 9162 §2.1.3.1: the inclusion proof of leaf `index`.
pub fn inclusion_proof(index: u64, leaves: &[Hash]) -> Result<Vec<Hash>, MerkleError> {
    let size = leaves.len() as u64;
    if index >= size {
        return Err(MerkleError::IndexOutOfRange { index, size });
    }
    fn path(m: usize, d: &[Hash], out: &mut Vec<Hash>) {
        if d.len() <= 1 {
            return;
        }
        let k = split(d.len());
        if m < k {
            path(m, &d[..k], out);
            out.push(root(&d[k..]));
        } else {
            path(m - k, &d[k..], out);
            out.push(root(&d[..k]));
        }
    }
    let mut out = Vec::new();
    path(index as usize, leaves, &mut out);
    Ok(out)
}

/// RFC 9162 §2.1.3.2: does `proof` show `leaf_hash` at `index` in the tree of `size` leaves
/// with root `root`?
pub fn verify_inclusion(
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> bool {
    if index >= size {
        return false;
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf_hash;
    for p in proof {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    snode == 0 && r == *root
}

/// `PROOF(m, D[n])` of RFC 9162 §2.1.4.1: the consistency proof from the first `old_size`
/// leaves to all of `leaves`. Empty when the sizes are equal.
pub fn consistency_proof(old_size: u64, leaves: &[Hash]) -> Result<Vec<Hash>, MerkleError> {
    let new = leaves.len() as u64;
    if old_size == 0 || old_size > new {
        return Err(MerkleError::BadSizes { old: old_size, new });
    }
    fn subproof(m: usize, d: &[Hash], complete: bool, out: &mut Vec<Hash>) {
        let n = d.len();
        if m == n {
            if !complete {
                out.push(root(d));
            }
            return;
        }
        let k = split(n);
        if m <= k {
            subproof(m, &d[..k], complete, out);
            out.push(root(&d[k..]));
        } else {
            subproof(m - k, &d[k..], false, out);
            out.push(root(&d[..k]));
        }
    }
    let mut out = Vec::new();
    subproof(old_size as usize, leaves, true, &mut out);
    Ok(out)
}

/// RFC 9162 §2.1.4.2: does `proof` show the tree of `old_size` leaves with root `old_root` to be
/// a prefix of the tree of `new_size` leaves with root `new_root`?
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> bool {
    if old_size == 0 || old_size > new_size {
        return false;
    }
    if old_size == new_size {
        return proof.is_empty() && old_root == new_root;
    }
    if proof.is_empty() {
        return false;
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old_size.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let (mut fnode, mut snode) = (old_size - 1, new_size - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    fr == *old_root && sr == *new_root && snode == 0
}

/// Strict lowercase hex of a 32-byte hash.
pub fn parse_hash(s: &str) -> Result<Hash, HexError> {
    hex::decode_array::<32>(s)
}

/// Parses stored leaf hashes (as the store returns them).
pub fn parse_hashes(items: &[String]) -> Result<Vec<Hash>, HexError> {
    items.iter().map(|s| parse_hash(s)).collect()
}

/// A tree head signed with both of the center's keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedTreeHead {
    /// `touchstone-tree-head/1`.
    pub format: String,
    /// The log's name: the issuing center.
    pub log_id: String,
    /// `RFC 9162 SHA-256`.
    pub hash_algorithm: String,
    pub tree_size: u64,
    /// Lowercase hex.
    pub root_hash: String,
    /// RFC 3339 UTC.
    pub timestamp: String,
    /// SM2 and ML-DSA-65 over the RFC 8785 form of every other field.
    pub signatures: Vec<SignatureEntry>,
}

#[derive(Serialize)]
struct TreeHeadBody<'a> {
    format: &'a str,
    log_id: &'a str,
    hash_algorithm: &'a str,
    tree_size: u64,
    root_hash: &'a str,
    timestamp: &'a str,
}

impl SignedTreeHead {
    /// The bytes both signatures cover.
    pub fn signed_bytes(&self) -> Vec<u8> {
        canonical::of(&TreeHeadBody {
            format: &self.format,
            log_id: &self.log_id,
            hash_algorithm: &self.hash_algorithm,
            tree_size: self.tree_size,
            root_hash: &self.root_hash,
            timestamp: &self.timestamp,
        })
        .expect("plain JSON")
    }

    /// Signs the head of the tree of `leaves`.
    pub fn sign(leaves: &[Hash], keys: &KeyPair, log_id: &str, timestamp: &str) -> SignedTreeHead {
        let mut head = SignedTreeHead {
            format: TREE_HEAD_FORMAT.to_string(),
            log_id: log_id.to_string(),
            hash_algorithm: names::LOG_HASH.to_string(),
            tree_size: leaves.len() as u64,
            root_hash: hex::encode(&root(leaves)),
            timestamp: timestamp.to_string(),
            signatures: Vec::new(),
        };
        head.signatures = sign_both(keys, &head.signed_bytes());
        head
    }
}

/// Where a certificate sits in the log: embedded in the certificate as `log`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogProof {
    pub leaf_index: u64,
    pub tree_head: SignedTreeHead,
    /// RFC 9162 inclusion proof, lowercase hex hashes.
    pub inclusion_proof: Vec<String>,
}

/// A consistency proof from an older tree size to the head it accompanies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyProof {
    pub old_size: u64,
    /// RFC 9162 consistency proof, lowercase hex hashes.
    pub proof: Vec<String>,
}

/// A tree head as the center publishes it (`verify --tree-head FILE`): the signed head, and
/// consistency proofs from older tree sizes, so that a certificate logged when the tree was
/// smaller can be checked against it offline. A certificate whose tree size equals the
/// published size needs no proof (the roots must be equal); one from an older size needs the
/// entry for its size in `consistency`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishedTreeHead {
    pub head: SignedTreeHead,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consistency: Vec<ConsistencyProof>,
}

impl PublishedTreeHead {
    /// Signs the head of `leaves` and adds consistency proofs from each of `from_sizes`
    /// (sizes that are 0, equal to or larger than the tree are skipped).
    pub fn publish(
        leaves: &[Hash],
        keys: &KeyPair,
        log_id: &str,
        timestamp: &str,
        from_sizes: &[u64],
    ) -> Self {
        let head = SignedTreeHead::sign(leaves, keys, log_id, timestamp);
        let mut sizes: Vec<u64> = from_sizes
            .iter()
            .copied()
            .filter(|s| *s > 0 && *s < leaves.len() as u64)
            .collect();
        sizes.sort_unstable();
        sizes.dedup();
        let consistency = sizes
            .into_iter()
            .map(|old_size| ConsistencyProof {
                old_size,
                proof: consistency_proof(old_size, leaves)
                    .expect("sizes checked above")
                    .iter()
                    .map(|h| hex::encode(h))
                    .collect(),
            })
            .collect();
        PublishedTreeHead { head, consistency }
    }

    /// Parses a published head; a bare [`SignedTreeHead`] is accepted too.
    pub fn from_json(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        match serde_json::from_slice::<PublishedTreeHead>(bytes) {
            Ok(p) => Ok(p),
            Err(e) => match serde_json::from_slice::<SignedTreeHead>(bytes) {
                Ok(head) => Ok(PublishedTreeHead {
                    head,
                    consistency: Vec::new(),
                }),
                Err(_) => Err(e),
            },
        }
    }

    /// Canonical JSON rules, pretty-printed, with a final newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = canonical::to_pretty_vec(&serde_json::to_value(self).expect("plain JSON"));
        out.push(b'\n');
        out
    }
}

impl From<SignedTreeHead> for PublishedTreeHead {
    fn from(head: SignedTreeHead) -> Self {
        PublishedTreeHead {
            head,
            consistency: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(format!("entry {i}").as_bytes()))
            .collect()
    }

    /// MTH straight from the RFC's recursive definition.
    fn naive_root(d: &[Hash]) -> Hash {
        match d.len() {
            0 => empty_root(),
            1 => d[0],
            n => {
                let mut k = 1;
                while k * 2 < n {
                    k *= 2;
                }
                node_hash(&naive_root(&d[..k]), &naive_root(&d[k..]))
            }
        }
    }

    #[test]
    fn known_hashes() {
        // SHA-256 of the empty string (RFC 9162 §2.1.1).
        assert_eq!(
            hex::encode(&empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        // Leaf hash of the empty entry: SHA-256(0x00).
        assert_eq!(
            hex::encode(&leaf_hash(b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
    }

    #[test]
    fn root_matches_the_definition() {
        for n in 0..70 {
            let l = leaves(n);
            assert_eq!(root(&l), naive_root(&l), "n = {n}");
        }
    }

    #[test]
    fn every_inclusion_proof_verifies_and_wrong_ones_do_not() {
        for n in 1..40u64 {
            let l = leaves(n as usize);
            let r = root(&l);
            for m in 0..n {
                let p = inclusion_proof(m, &l).unwrap();
                assert!(
                    verify_inclusion(&l[m as usize], m, n, &p, &r),
                    "n {n} m {m}"
                );
                // (A proof alone does not always pin the tree size — RFC 9162 leaves that to the
                // signed tree head, which binds size and root together.)
                assert!(!verify_inclusion(&l[m as usize], m, n, &p, &empty_root()));
                if n > 1 {
                    assert!(
                        !verify_inclusion(&l[m as usize], (m + 1) % n, n, &p, &r),
                        "n {n} m {m}"
                    );
                    let mut bad = p.clone();
                    bad[0][0] ^= 1;
                    assert!(!verify_inclusion(&l[m as usize], m, n, &bad, &r));
                    assert!(!verify_inclusion(
                        &l[m as usize],
                        m,
                        n,
                        &p[..p.len() - 1],
                        &r
                    ));
                }
                let mut longer = p.clone();
                longer.push([0u8; 32]);
                assert!(!verify_inclusion(&l[m as usize], m, n, &longer, &r));
            }
            assert!(inclusion_proof(n, &l).is_err());
        }
    }

    #[test]
    fn every_consistency_proof_verifies_and_wrong_ones_do_not() {
        for n in 1..40u64 {
            let l = leaves(n as usize);
            let new_root = root(&l);
            for m in 1..=n {
                let old_root = root(&l[..m as usize]);
                let p = consistency_proof(m, &l).unwrap();
                assert!(
                    verify_consistency(m, n, &old_root, &new_root, &p),
                    "m {m} n {n}"
                );
                if m < n {
                    let mut bad = p.clone();
                    let last = bad.len() - 1;
                    bad[last][5] ^= 0x80;
                    assert!(
                        !verify_consistency(m, n, &old_root, &new_root, &bad),
                        "m {m} n {n}"
                    );
                    assert!(!verify_consistency(m, n, &new_root, &new_root, &p));
                    assert!(!verify_consistency(
                        m,
                        n,
                        &old_root,
                        &new_root,
                        &p[..p.len() - 1]
                    ));
                }
            }
        }
        assert!(consistency_proof(0, &leaves(3)).is_err());
        assert!(consistency_proof(4, &leaves(3)).is_err());
    }

    proptest! {
        #[test]
        fn proofs_against_the_naive_tree(n in 1usize..200, a in any::<prop::sample::Index>(), b in any::<prop::sample::Index>()) {
            let l = leaves(n);
            let r = naive_root(&l);
            prop_assert_eq!(root(&l), r);
            let m = a.index(n) as u64;
            let p = inclusion_proof(m, &l).unwrap();
            prop_assert!(verify_inclusion(&l[m as usize], m, n as u64, &p, &r));
            let old = b.index(n) as u64 + 1;
            let old_root = naive_root(&l[..old as usize]);
            let c = consistency_proof(old, &l).unwrap();
            prop_assert!(verify_consistency(old, n as u64, &old_root, &r, &c));
            // A different leaf at the same place never verifies.
            let other = leaf_hash(b"not in the tree");
            prop_assert!(!verify_inclusion(&other, m, n as u64, &p, &r));
        }
    }
}
