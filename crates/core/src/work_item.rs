//! Work items: one (model under test, task, sample, variant, epoch). The unit of execution,
//! of durability and of resume.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Hex SHA-256 (first 128 bits) of a work item's parts. Planning the same run twice gives the
/// same ids, which is what makes writes idempotent and resume possible.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WorkItemId(pub String);

impl fmt::Display for WorkItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkItem {
    pub id: WorkItemId,
    /// Label of the model under test (its spec string).
    pub model: String,
    pub task: String,
    pub sample_id: String,
    /// Attack variant or other transformation of the sample; "" for the sample as written.
    pub variant: String,
    pub epoch: u32,
}

impl WorkItem {
    pub fn new(model: &str, task: &str, sample_id: &str, variant: &str, epoch: u32) -> Self {
        WorkItem {
            id: WorkItem::id_of(model, task, sample_id, variant, epoch),
            model: model.to_string(),
            task: task.to_string(),
            sample_id: sample_id.to_string(),
            variant: variant.to_string(),
            epoch,
        }
    }

    /// The id of a work item. Parts are length-prefixed so that no two different tuples can
    /// produce the same byte string.
    pub fn id_of(
        model: &str,
        task: &str,
        sample_id: &str,
        variant: &str,
        epoch: u32,
    ) -> WorkItemId {
        let mut h = Sha256::new();
        for part in [model, task, sample_id, variant] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        h.update(epoch.to_le_bytes());
        let digest = h.finalize();
        WorkItemId(hex::encode(&digest[..16]))
    }
}

/// The terminal states of a work item (invariant 2: every planned item ends in exactly one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    Scored,
    Failed,
}

impl ItemStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemStatus::Scored => "scored",
            ItemStatus::Failed => "failed",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "scored" => Some(ItemStatus::Scored),
            "failed" => Some(ItemStatus::Failed),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_distinct() {
        let a = WorkItem::id_of("m", "t", "s1", "", 0);
        assert_eq!(a, WorkItem::id_of("m", "t", "s1", "", 0));
        assert_ne!(a, WorkItem::id_of("m", "t", "s1", "", 1));
        assert_ne!(a, WorkItem::id_of("m", "t", "s2", "", 0));
        // Length prefixes keep ("ab","c") and ("a","bc") apart.
        assert_ne!(
            WorkItem::id_of("ab", "c", "", "", 0),
            WorkItem::id_of("a", "bc", "", "", 0)
        );
        assert_eq!(a.0.len(), 32);
    }
}
