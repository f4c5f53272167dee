//! What the receiver admits: a delivery acted on once ([`Replays`], claimed and then received
//! or released), signed deliveries and unsigned refusals each at their own rate ([`Bucket`]),
//! and refusals logged once a minute ([`RefusalLog`]).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use axum::http::StatusCode;
use governor::Quota;
use sha2::{Digest as _, Sha256};
use tokio::time::Instant;

use super::{lock, REMEMBERED, REMEMBER_FOR};

/// The digest that names a delivery: the SHA-256 of its body.
pub(crate) fn digest(body: &[u8]) -> store::Digest {
    Sha256::digest(body).into()
}

/// Whether a delivery is new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Claim {
    /// Never received: act on it, then say [`Replays::received`] or [`Replays::release`].
    New,
    /// Acted on already.
    Received,
    /// Being acted on by another request right now.
    InFlight,
}

/// The deliveries acted on lately (by the digest of their body), against replays. A delivery
/// counts as received only once what it owes is written: one that could not be recorded is
/// released, and acted on when PlanetScale sends it again.
#[derive(Debug, Default)]
pub(crate) struct Replays {
    seen: HashMap<store::Digest, i64>,
    order: VecDeque<(store::Digest, i64)>,
    in_flight: HashSet<store::Digest>,
}

impl Replays {
    /// Claims the delivery named `digest` for acting on it. Forgets what the timestamp check
    /// refuses anyway, and the oldest past [`REMEMBERED`].
    pub(crate) fn claim(&mut self, digest: store::Digest, now: i64) -> Claim {
        while let Some((oldest, at)) = self.order.front().copied() {
            if now - at <= REMEMBER_FOR && self.order.len() < REMEMBERED {
                break;
            }
            self.order.pop_front();
            if self.seen.get(&oldest) == Some(&at) {
                self.seen.remove(&oldest);
            }
        }
        if self.seen.contains_key(&digest) {
            Claim::Received
        } else if !self.in_flight.insert(digest) {
            Claim::InFlight
        } else {
            Claim::New
        }
    }

    /// The claimed delivery is acted on, what it owes written.
    pub(crate) fn received(&mut self, digest: store::Digest, now: i64) {
        self.in_flight.remove(&digest);
        self.remember(digest, now);
    }

    /// The claimed delivery could not be acted on: the next one like it is new.
    pub(crate) fn release(&mut self, digest: store::Digest) {
        self.in_flight.remove(&digest);
    }

    /// Notes a delivery received at `at` (read back from the store at start).
    pub(crate) fn remember(&mut self, digest: store::Digest, at: i64) {
        if self.seen.insert(digest, at).is_none() {
            self.order.push_back((digest, at));
        }
    }
}

/// A delivery claimed for acting on: released when dropped (the answer failed, or the request
/// was abandoned half way when its client went away) unless it was received.
pub(super) struct Claimed<'a> {
    pub(super) replays: &'a Mutex<Replays>,
    pub(super) digest: store::Digest,
    pub(super) received: bool,
}

impl Claimed<'_> {
    pub(super) fn received(mut self, now: i64) {
        self.received = true;
        lock(self.replays).received(self.digest, now);
    }
}

impl Drop for Claimed<'_> {
    fn drop(&mut self) {
        if !self.received {
            lock(self.replays).release(self.digest);
        }
    }
}

/// A token bucket: `rate` requests a second on average, `burst` at once.
pub(super) type Bucket = governor::DefaultDirectRateLimiter;

/// A bucket of `rate` a second with bursts of `burst`.
pub(super) fn bucket(rate: NonZeroU32, burst: NonZeroU32) -> Bucket {
    Bucket::direct(Quota::per_second(rate).allow_burst(burst))
}

/// Refusals logged at most once a [`REFUSALS_LOGGED_EVERY`]: the first of a period with its
/// reason, the others counted and summed up at the next one, so a flood writes a line a minute.
#[derive(Debug, Default)]
pub(super) struct RefusalLog {
    since: Option<Instant>,
    held_back: BTreeMap<u16, u64>,
}

const REFUSALS_LOGGED_EVERY: Duration = Duration::from_secs(60);

impl RefusalLog {
    pub(super) fn note(&mut self, status: StatusCode, reason: &str, now: Instant) {
        let due = self
            .since
            .is_none_or(|since| now.saturating_duration_since(since) >= REFUSALS_LOGGED_EVERY);
        if !due {
            *self.held_back.entry(status.as_u16()).or_default() += 1;
            return;
        }
        self.since = Some(now);
        let held_back = std::mem::take(&mut self.held_back);
        if held_back.is_empty() {
            tracing::warn!(
                status = status.as_u16(),
                reason,
                "a webhook delivery was refused"
            );
        } else {
            let others = held_back
                .iter()
                .map(|(status, count)| format!("{count} × {status}"))
                .collect::<Vec<_>>()
                .join(", ");
            tracing::warn!(status = status.as_u16(), reason, refused_since = %others,
                "a webhook delivery was refused (refusals are logged once a minute; the others since the last line are counted)");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::receiver::{BURST, MAX_SKEW, RATE};

    #[test]
    fn a_delivery_is_acted_on_once_and_the_memory_is_bounded() {
        let mut replays = Replays::default();
        let (one, two) = (digest(b"one"), digest(b"two"));
        assert_eq!(replays.claim(one, 1_000), Claim::New);
        assert_eq!(replays.claim(one, 1_000), Claim::InFlight);
        replays.received(one, 1_000);
        assert_eq!(replays.claim(one, 1_001), Claim::Received);
        // One that could not be recorded is new when it comes again.
        assert_eq!(replays.claim(two, 1_001), Claim::New);
        replays.release(two);
        assert_eq!(replays.claim(two, 1_002), Claim::New);
        replays.received(two, 1_002);
        // Long after, the memory has let it go (the timestamp check refuses it by then).
        assert_eq!(replays.claim(one, 1_000 + MAX_SKEW * 3), Claim::New);
        for index in 0..(REMEMBERED + 10) {
            let each = digest(index.to_string().as_bytes());
            replays.claim(each, 5_000);
            replays.received(each, 5_000);
        }
        assert!(
            replays.seen.len() <= REMEMBERED + 1,
            "{}",
            replays.seen.len()
        );
    }

    #[test]
    fn a_claim_abandoned_half_way_is_released() {
        let replays = Mutex::new(Replays::default());
        let digest = digest(b"one");
        assert_eq!(lock(&replays).claim(digest, 1_000), Claim::New);
        // The request is dropped (its client went away) before it was received.
        drop(Claimed {
            replays: &replays,
            digest,
            received: false,
        });
        assert_eq!(lock(&replays).claim(digest, 1_001), Claim::New);
        Claimed {
            replays: &replays,
            digest,
            received: false,
        }
        .received(1_001);
        assert_eq!(lock(&replays).claim(digest, 1_002), Claim::Received);
    }

    #[test]
    fn the_rate_is_bounded() {
        let clock = governor::clock::FakeRelativeClock::default();
        let bucket = governor::RateLimiter::direct_with_clock(
            Quota::per_second(RATE).allow_burst(BURST),
            clock.clone(),
        );
        let taken = (0..200).filter(|_| bucket.check().is_ok()).count();
        assert_eq!(taken, BURST.get() as usize);
        assert!(bucket.check().is_err());
        clock.advance(Duration::from_millis(60));
        assert!(bucket.check().is_ok());
    }
}
