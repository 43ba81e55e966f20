//! Login throttling: after a few failed passwords for one account, or many from one address,
//! further attempts are refused (even with the right password) for a time that doubles with
//! each further failure, up to fifteen minutes. A success clears the account's count.
//!
//! Kept in memory: a restart forgives, which an attacker cannot cause, and the argon2id cost
//! already bounds guesses per core.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed per account before it is locked.
const PER_ACCOUNT: u32 = 5;
/// Failures allowed per source address (across accounts) before it is locked.
const PER_ADDRESS: u32 = 20;
const FIRST_LOCK: Duration = Duration::from_secs(2);
const LONGEST_LOCK: Duration = Duration::from_secs(15 * 60);
/// A count with no failure for this long starts again.
const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);

#[derive(Default)]
pub struct Throttle {
    state: Mutex<HashMap<String, Entry>>,
}

struct Entry {
    failures: u32,
    last: Instant,
    locked_until: Option<Instant>,
}

impl Throttle {
    /// Seconds to wait before `account` may try again from `address`, if it must wait.
    pub fn wait(&self, account: &str, address: &str, now: Instant) -> Option<u64> {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        [key_account(account), key_address(address)]
            .iter()
            .filter_map(|k| state.get(k)?.locked_until)
            .filter(|until| *until > now)
            .map(|until| (until - now).as_secs_f64().ceil() as u64)
            .max()
    }

    pub fn failed(&self, account: &str, address: &str, now: Instant) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.retain(|_, e| now.duration_since(e.last) < FORGET_AFTER);
        for (key, allowed) in [
            (key_account(account), PER_ACCOUNT),
            (key_address(address), PER_ADDRESS),
        ] {
            let entry = state.entry(key).or_insert(Entry {
                failures: 0,
                last: now,
                locked_until: None,
            });
            entry.failures += 1;
            entry.last = now;
            if entry.failures >= allowed {
                let doublings = (entry.failures - allowed).min(16);
                let lock = (FIRST_LOCK * 2u32.pow(doublings)).min(LONGEST_LOCK);
                entry.locked_until = Some(now + lock);
            }
        }
    }

    pub fn succeeded(&self, account: &str) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.remove(&key_account(account));
    }
}

fn key_account(account: &str) -> String {
    format!("account:{}", account.to_lowercase())
}

fn key_address(address: &str) -> String {
    format!("address:{address}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_locks_after_five_failures_for_a_doubling_time() {
        let t = Throttle::default();
        let now = Instant::now();
        for _ in 0..4 {
            t.failed("alice", "1.2.3.4", now);
        }
        assert_eq!(t.wait("alice", "1.2.3.4", now), None);
        t.failed("alice", "1.2.3.4", now);
        assert_eq!(t.wait("alice", "9.9.9.9", now), Some(2));
        assert_eq!(t.wait("bob", "9.9.9.9", now), None);
        t.failed("alice", "1.2.3.4", now);
        assert_eq!(t.wait("ALICE", "9.9.9.9", now), Some(4));
        assert_eq!(
            t.wait("alice", "9.9.9.9", now + Duration::from_secs(5)),
            None
        );
        t.succeeded("alice");
        assert_eq!(t.wait("alice", "9.9.9.9", now), None);
    }

    #[test]
    fn an_address_guessing_many_accounts_locks_too() {
        let t = Throttle::default();
        let now = Instant::now();
        for i in 0..20 {
            t.failed(&format!("user{i}"), "6.6.6.6", now);
        }
        assert!(t.wait("someone-else", "6.6.6.6", now).is_some());
        assert_eq!(t.wait("someone-else", "7.7.7.7", now), None);
    }
}
