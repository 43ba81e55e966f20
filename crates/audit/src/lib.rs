//! The audit trail (看管监用: see, manage, monitor, use): every state change, and every read of
//! something not public, as an event saying who (actor, role, organisation), did what (action)
//! to which object, when, from where (source) and with what outcome.
//!
//! Events are append-only and **hash-chained**: each stored event is canonical JSON that holds
//! its sequence number and the SHA-256 of the event before it, and is stored with its own
//! SHA-256. [`verify`] walks the chain and names the first event that was edited, removed or
//! moved. What a chain alone cannot show is the loss of its newest events, or a chain rewritten
//! from some event on by someone who recomputed every hash after it: for that, compare against
//! a head (sequence number and hash) kept elsewhere — printed by `touchstone audit verify`,
//! signed into reports, or copied by an auditor — with [`verify`]'s `expected_head`.
//!
//! The store keeps the rows and makes appends atomic (`Store::audit_append`); this crate owns
//! the format, so every backend chains alike.

use std::io::Write;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use touchstone_store::{Store, StoreError, now_rfc3339};

/// The `prev` of the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Events read per store call while verifying or exporting: memory stays bounded.
const PAGE: usize = 1024;

/// What happened, as the caller knows it; [`append`] adds the time, number and chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The account, token or process that acted (`anonymous` for the public).
    pub actor: String,
    /// The role it acted in (`admin`, `assessor`, …; `operator` on the command line).
    pub role: String,
    /// The organisation it acted for, where it has one.
    pub organisation: Option<String>,
    /// What was done, `noun.verb`: `run.create`, `certificate.issue`, `sample.read`.
    pub action: String,
    /// What it was done to, `kind:id`: `run:20261207-1203-ab12`.
    pub object: String,
    /// Where the request came from: an address, or `cli`.
    pub source: String,
    /// `ok`, `denied`, or `error: CODE`.
    pub outcome: String,
}

/// An event as stored: the caller's fields with its number, time and link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sealed {
    pub seq: u64,
    /// RFC 3339, UTC.
    pub at: String,
    #[serde(flatten)]
    pub event: Event,
    /// Lowercase hex SHA-256 of the previous stored event ([`GENESIS`] for the first).
    pub prev: String,
}

/// The newest event of a verified chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub seq: u64,
    pub hash: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("audit event {seq}: {reason} / 审计事件 {seq} 被改动、删除或移动")]
    Broken { seq: u64, reason: String },
    #[error("cannot write the audit export: {0}")]
    Write(#[from] std::io::Error),
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Appends `event` to the trail and returns its sequence number.
pub fn append(store: &dyn Store, event: &Event) -> Result<u64, AuditError> {
    let at = now_rfc3339();
    let seq = store.audit_append(&mut |seq, prev| seal(seq, &at, event, prev))?;
    Ok(seq)
}

/// Appends `events` in order, in one transaction; the first one's sequence number.
pub fn append_all(store: &dyn Store, events: &[Event]) -> Result<u64, AuditError> {
    let at = now_rfc3339();
    let mut next = events.iter();
    let first = store.audit_append_many(events.len(), &mut |seq, prev| {
        let event = next.next().expect("the store asks once per event");
        seal(seq, &at, event, prev)
    })?;
    Ok(first)
}

/// An event's stored text and its hash.
fn seal(seq: u64, at: &str, event: &Event, prev: Option<&str>) -> (String, String) {
    let sealed = Sealed {
        seq,
        at: at.to_owned(),
        event: event.clone(),
        prev: prev.unwrap_or(GENESIS).to_owned(),
    };
    // Field order is the struct's; serde_json writes it compactly and deterministically.
    let text = serde_json::to_string(&sealed).expect("plain strings and numbers serialize");
    let hash = sha256_hex(text.as_bytes());
    (text, hash)
}

/// Checks the whole chain: numbers 1, 2, 3, … with none missing, every event's hash over its
/// stored text, every link to the event before, and the text's own number. With
/// `expected_head` (from an earlier verification), also that the chain still holds that event
/// unchanged. Returns the head, or the first event that does not hold.
pub fn verify(store: &dyn Store, expected_head: Option<&Head>) -> Result<Option<Head>, AuditError> {
    let broken = |seq: u64, reason: String| AuditError::Broken { seq, reason };
    let mut head: Option<Head> = None;
    loop {
        let after = head.as_ref().map_or(0, |h| h.seq);
        let rows = store.audit_events(after, PAGE)?;
        if rows.is_empty() {
            break;
        }
        for row in rows {
            let expected_seq = head.as_ref().map_or(1, |h| h.seq + 1);
            if row.seq != expected_seq {
                return Err(broken(
                    expected_seq,
                    format!(
                        "missing: the trail goes from event {} to event {}",
                        expected_seq - 1,
                        row.seq
                    ),
                ));
            }
            if sha256_hex(row.event.as_bytes()) != row.hash {
                return Err(broken(
                    row.seq,
                    "edited: its content does not match its hash".into(),
                ));
            }
            let sealed: Sealed = serde_json::from_str(&row.event)
                .map_err(|e| broken(row.seq, format!("edited: not an audit event ({e})")))?;
            if sealed.seq != row.seq {
                return Err(broken(
                    row.seq,
                    format!("moved: the event stored here is event {}", sealed.seq),
                ));
            }
            let prev = head.as_ref().map_or(GENESIS, |h| h.hash.as_str());
            if sealed.prev != prev {
                // Both hashes hold, so the one before was edited and re-hashed (or this one's
                // link was, with its hash): name the earlier, the likelier.
                let (seq, reason) = if row.seq > 1 {
                    (
                        row.seq - 1,
                        format!(
                            "edited and re-hashed: event {}'s link to it no longer holds",
                            row.seq
                        ),
                    )
                } else {
                    (
                        row.seq,
                        "edited: the first event does not start the chain".into(),
                    )
                };
                return Err(broken(seq, reason));
            }
            if let Some(expected) = expected_head
                && expected.seq == row.seq
                && expected.hash != row.hash
            {
                return Err(broken(
                    row.seq,
                    "differs from the head recorded earlier: the trail was rewritten from here or before".into(),
                ));
            }
            head = Some(Head {
                seq: row.seq,
                hash: row.hash,
            });
        }
    }
    // A chain that reached the recorded head was checked against it above.
    let reached = head.as_ref().map_or(0, |h| h.seq);
    if let Some(expected) = expected_head
        && expected.seq > reached
    {
        return Err(broken(
            expected.seq,
            format!(
                "missing: the trail ends at event {reached} but held event {} before",
                expected.seq
            ),
        ));
    }
    Ok(head)
}

/// Writes every event as one JSON line (the stored event with its `hash`), in order.
pub fn export(store: &dyn Store, out: &mut dyn Write) -> Result<u64, AuditError> {
    let mut after = 0;
    loop {
        let rows = store.audit_events(after, PAGE)?;
        let Some(last) = rows.last() else {
            return Ok(after);
        };
        after = last.seq;
        for row in &rows {
            // The stored text is JSON; the hash is appended as one more field.
            let line = match row.event.strip_suffix('}') {
                Some(body) => format!("{body},\"hash\":\"{}\"}}", row.hash),
                None => row.event.clone(),
            };
            writeln!(out, "{line}")?;
        }
    }
}

impl std::str::FromStr for Head {
    type Err = String;
    /// `SEQ:HASH`, as `touchstone audit verify` prints it.
    fn from_str(s: &str) -> Result<Head, String> {
        let (seq, hash) = s
            .split_once(':')
            .ok_or_else(|| format!("expected SEQ:HASH, found `{s}`"))?;
        let seq = seq
            .parse()
            .map_err(|_| format!("`{seq}` is not an event number"))?;
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("`{hash}` is not a SHA-256 in hex"));
        }
        Ok(Head {
            seq,
            hash: hash.to_ascii_lowercase(),
        })
    }
}

impl std::fmt::Display for Head {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}
