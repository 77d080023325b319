//! A short-lived cache of the callers behind API bearer tokens, so a busy API client does not pay
//! for reading its token, person, roles and unit scope on every request.
//!
//! Correctness: an entry lives at most [`TTL`] (real time) and never past its token's expiry (by
//! the App clock, checked on every hit). Every use case on this node that changes what a cached
//! caller holds — revoking a token, roles, clearance, disabling a person, any unit edit (scope
//! and led units) — calls [`CallerCache::forget_all`] after its commit, and an entry loaded while
//! such a change was committing is not kept (the generation check), so on one node a change
//! applies to the very next request. **With several nodes on one PostgreSQL, the other nodes
//! see such a change only when their entry expires: up to [`TTL`] (5 seconds) later.** Sessions
//! (cookies) are not cached.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::Caller;

/// How long a resolved token is reused without asking the database: the longest delay with which
/// another node's revocation or role change takes effect here.
pub const TTL: Duration = Duration::from_secs(5);

/// Most tokens kept; beyond it, stale entries are dropped, and if none is stale, all of them.
const CAPACITY: usize = 1024;

/// `last_used_at` of a token is written at most once a minute.
pub const TOUCH_EVERY_MS: i64 = 60_000;

struct Entry {
    caller: Caller,
    token_id: i64,
    expires_at: Option<i64>,
    last_used_at: Option<i64>,
    loaded: Instant,
    generation: u64,
}

/// A cache hit: the caller (without request origin) and, when the token's `last_used_at` is due
/// for its once-a-minute write, the token id to touch.
pub struct Hit {
    pub caller: Caller,
    pub touch: Option<i64>,
}

/// Callers by token digest (see the module documentation for when an entry is trusted).
#[derive(Default)]
pub struct CallerCache {
    generation: AtomicU64,
    entries: Mutex<HashMap<String, Entry>>,
}

impl CallerCache {
    /// The generation to pass to [`CallerCache::keep`]: read it *before* reading the database.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The cached caller of token `digest`, if fresh, of the current generation and not expired
    /// at `now_ms`. A due `last_used_at` write is handed out once (the entry records `now_ms`).
    pub fn find(&self, digest: &str, now_ms: i64) -> Option<Hit> {
        let generation = self.generation();
        let mut map = self.entries.lock().ok()?;
        let e = map.get_mut(digest)?;
        if e.generation != generation
            || e.loaded.elapsed() > TTL
            || e.expires_at.is_some_and(|x| x <= now_ms)
        {
            map.remove(digest);
            return None;
        }
        let touch = e
            .last_used_at
            .is_none_or(|u| now_ms - u > TOUCH_EVERY_MS)
            .then_some(e.token_id);
        if touch.is_some() {
            e.last_used_at = Some(now_ms);
        }
        Some(Hit {
            caller: e.caller.clone(),
            touch,
        })
    }

    /// Keep a caller just read from the database, unless a change was committed since
    /// `generation` was read (the read may predate it).
    pub fn keep(
        &self,
        digest: String,
        generation: u64,
        caller: &Caller,
        token_id: i64,
        expires_at: Option<i64>,
        last_used_at: Option<i64>,
    ) {
        let Ok(mut map) = self.entries.lock() else {
            return;
        };
        if generation != self.generation() {
            return;
        }
        if map.len() >= CAPACITY {
            map.retain(|_, e| e.generation == generation && e.loaded.elapsed() <= TTL);
            if map.len() >= CAPACITY {
                map.clear();
            }
        }
        let mut caller = caller.clone();
        caller.source_ip.clear();
        caller.request_id.clear();
        map.insert(
            digest,
            Entry {
                caller,
                token_id,
                expires_at,
                last_used_at,
                loaded: Instant::now(),
                generation,
            },
        );
    }

    /// Forget every cached caller (after a committed change to tokens, people, roles or units).
    pub fn forget_all(&self) {
        // Bump under the lock, so no `keep` of an older generation can slip in after the clear.
        if let Ok(mut map) = self.entries.lock() {
            self.generation.fetch_add(1, Ordering::AcqRel);
            map.clear();
        } else {
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// Number of cached callers (tests, metrics).
    pub fn len(&self) -> usize {
        self.entries.lock().map(|m| m.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn caller() -> Caller {
        let mut c = Caller::system("t");
        c.person_id = Some(7);
        c.source_ip = "10.0.0.1".into();
        c.request_id = "abc".into();
        c
    }

    #[test]
    fn a_kept_caller_is_found_without_its_request_origin() {
        let cache = CallerCache::default();
        let g = cache.generation();
        cache.keep("d".into(), g, &caller(), 3, None, Some(1_000));
        let hit = cache.find("d", 2_000).unwrap();
        assert_eq!(hit.caller.person_id, Some(7));
        assert!(hit.caller.source_ip.is_empty() && hit.caller.request_id.is_empty());
        assert_eq!(hit.touch, None);
    }

    #[test]
    fn forgetting_drops_entries_and_refuses_reads_begun_before() {
        let cache = CallerCache::default();
        let g = cache.generation();
        cache.keep("d".into(), g, &caller(), 3, None, None);
        cache.forget_all();
        assert!(cache.find("d", 0).is_none());
        // A read that started before the change is not kept.
        cache.keep("d".into(), g, &caller(), 3, None, None);
        assert!(cache.is_empty());
    }

    #[test]
    fn an_expired_token_is_not_served_from_the_cache() {
        let cache = CallerCache::default();
        let g = cache.generation();
        cache.keep("d".into(), g, &caller(), 3, Some(5_000), None);
        assert!(cache.find("d", 4_999).is_some());
        assert!(cache.find("d", 5_000).is_none());
    }

    #[test]
    fn the_last_used_write_is_handed_out_once_a_minute() {
        let cache = CallerCache::default();
        let g = cache.generation();
        cache.keep("d".into(), g, &caller(), 3, None, Some(0));
        assert_eq!(cache.find("d", 60_001).unwrap().touch, Some(3));
        assert_eq!(cache.find("d", 60_002).unwrap().touch, None);
    }
}
