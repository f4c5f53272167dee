//! The API request budget shared by every request pswatch makes.
//!
//! PlanetScale allows 600 requests a minute per organization's tokens, shared with the team's
//! other tools; pswatch keeps to a share of it. The budget is a sliding window: it remembers when
//! each of the last `limit` requests was sent and lets a new one go only if fewer than `limit`
//! went in the last `window`, so no 60-second window ever holds more than `limit` requests,
//! from the first minute on (a token bucket that starts full would allow two minutes' worth in
//! the first one).
//!
//! Requests of targets in motion go first: low-priority requests may not use the part of the
//! window reserved for the targets in motion (see [`Budget::reserve`]), so idle targets can
//! never spend the budget that the active ones will need. A 429 from the API pauses every request for its `Retry-After` (or 5 s) and
//! halves the budget for two minutes.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

/// Which requests go first when the budget is short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Priority {
    /// Targets with something in motion.
    High,
    /// Idle targets: stretched first when the budget cannot serve every interval.
    #[default]
    Low,
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// How long a 429 pauses everything when the API gives no `Retry-After`.
const DEFAULT_PAUSE: Duration = Duration::from_secs(5);
/// The longest a 429 pauses a token's requests, or one database's polls, whatever its
/// `Retry-After` says: PlanetScale's rate window is a minute, so a longer pause only blinds
/// pswatch.
pub const MAX_PAUSE: Duration = Duration::from_secs(60);
/// How long the budget stays halved after a 429.
const REDUCED_FOR: Duration = Duration::from_secs(120);

#[derive(Debug)]
struct Window {
    sent: VecDeque<Instant>,
    /// The high-priority ones among `sent`.
    sent_high: VecDeque<Instant>,
    paused_until: Option<Instant>,
    reduced_until: Option<Instant>,
}

/// A shared request budget: at most `limit` requests in any `window`.
#[derive(Debug)]
pub struct Budget {
    limit: AtomicU32,
    /// The window, in nanoseconds (changed in place by [`Budget::set_limit`]).
    window_nanos: std::sync::atomic::AtomicU64,
    state: Mutex<Window>,
    /// Requests per window kept for high-priority requests.
    reserved: AtomicU32,
    /// When polls last waited for room (see [`Budget::note_short`]).
    short_at: Mutex<Option<Instant>>,
}

/// A snapshot for status pages and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetUse {
    /// Requests sent in the last window.
    pub used: u32,
    /// The limit now (halved for a while after a 429).
    pub limit: u32,
    /// Whether a 429 paused or reduced the budget.
    pub throttled: bool,
    /// Requests a window kept for the targets in motion (see [`Budget::reserve`]).
    pub reserved: u32,
}

impl Budget {
    /// `requests_per_minute` requests in any 60 seconds as the API counts them. The window is a
    /// second longer than a minute: a request leaves when its permit is taken and arrives a
    /// little later, and that delay varies, so without the margin the API could count one
    /// request more in its minute than pswatch did in its own.
    pub fn per_minute(requests_per_minute: u32) -> Self {
        Self::new(requests_per_minute, Duration::from_secs(61))
    }

    /// `limit` requests in any `window` (a shorter window scales time down, for benchmarks).
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit: AtomicU32::new(limit.max(1)),
            window_nanos: std::sync::atomic::AtomicU64::new(nanos(window)),
            state: Mutex::new(Window {
                sent: VecDeque::new(),
                sent_high: VecDeque::new(),
                paused_until: None,
                reduced_until: None,
            }),
            reserved: AtomicU32::new(0),
            short_at: Mutex::new(None),
        }
    }

    /// Requests allowed per window (before any halving after a 429).
    pub fn limit(&self) -> u32 {
        self.limit.load(Ordering::Relaxed)
    }

    /// The window the limit applies to.
    pub fn window(&self) -> Duration {
        Duration::from_nanos(self.window_nanos.load(Ordering::Relaxed))
    }

    /// Changes the limit and the window in place (a reload of the configuration). The requests
    /// the window already holds still count: lowering the limit below them lets nothing through
    /// until enough of them have left the window.
    pub fn set_limit(&self, limit: u32, window: Duration) {
        // Under the lock, so that no request is admitted between the two changes.
        let _state = self.lock();
        self.limit.store(limit.max(1), Ordering::Relaxed);
        self.window_nanos.store(nanos(window), Ordering::Relaxed);
    }

    /// Keeps `requests` of every window for high-priority requests: what the targets in motion
    /// need. Low-priority requests always keep at least a tenth of the limit, so idle targets
    /// are stretched, never starved.
    pub fn reserve(&self, requests: u32) {
        self.reserved.store(requests, Ordering::Relaxed);
    }

    /// Says that polls wait for room in this budget now (the scheduler's view): work that can
    /// wait longer than a poll (the slower kinds) then keeps to its share.
    pub fn note_short(&self) {
        *self
            .short_at
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(Instant::now());
    }

    /// Whether polls waited for room within the last twelfth of the window (5 s of a minute):
    /// a budget that is spent stays short between two looks of the scheduler.
    pub fn is_short(&self) -> bool {
        let short_at = *self
            .short_at
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        short_at.is_some_and(|at| at.elapsed() < self.window() / 12)
    }

    fn lock(&self) -> MutexGuard<'_, Window> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn current_limit(&self, state: &Window, now: Instant) -> u32 {
        let limit = self.limit();
        match state.reduced_until {
            Some(until) if until > now => (limit / 2).max(1),
            _ => limit,
        }
    }

    /// Forgets the requests that left the window.
    fn expire(&self, state: &mut Window, now: Instant) {
        let window = self.window();
        for sent in [&mut state.sent, &mut state.sent_high] {
            while sent.front().is_some_and(|at| *at + window <= now) {
                sent.pop_front();
            }
        }
    }

    /// How many requests at `priority` may go now. A high-priority one may use the whole limit;
    /// a low-priority one may not use what is still reserved for the high-priority ones in this
    /// window, but always has a tenth of the limit for itself.
    fn allowance(&self, state: &Window, now: Instant, priority: Priority) -> u32 {
        if state.paused_until.is_some_and(|until| until > now) {
            return 0;
        }
        let limit = self.current_limit(state, now);
        let count = |sent: &VecDeque<Instant>| u32::try_from(sent.len()).unwrap_or(u32::MAX);
        let total = count(&state.sent);
        let free = limit.saturating_sub(total);
        if priority == Priority::High {
            return free;
        }
        let high = count(&state.sent_high);
        let outstanding = self.reserved.load(Ordering::Relaxed).saturating_sub(high);
        let beside_reserve = limit.saturating_sub(outstanding).saturating_sub(total);
        let own_tenth = (limit / 10).max(1).saturating_sub(total - high);
        beside_reserve.max(own_tenth).min(free)
    }

    /// Waits until a request may be sent, and counts it.
    pub async fn acquire(&self, priority: Priority) {
        loop {
            let wait = {
                let mut state = self.lock();
                let now = Instant::now();
                self.expire(&mut state, now);
                if self.allowance(&state, now, priority) > 0 {
                    state.sent.push_back(now);
                    if priority == Priority::High {
                        state.sent_high.push_back(now);
                    }
                    break;
                }
                // Nothing changes before the pause ends or the oldest request leaves the window.
                let pause = state
                    .paused_until
                    .filter(|until| *until > now)
                    .map(|until| until - now);
                let expiry = state
                    .sent
                    .front()
                    .map(|sent| (*sent + self.window()).saturating_duration_since(now));
                pause
                    .or(expiry)
                    .unwrap_or(Duration::from_millis(1))
                    .max(Duration::from_millis(1))
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// How many requests at `priority` the budget would let go right now.
    pub fn room(&self, priority: Priority) -> u32 {
        let mut state = self.lock();
        let now = Instant::now();
        self.expire(&mut state, now);
        self.allowance(&state, now, priority)
    }

    /// Counts `requests` sent now without waiting for room: for a budget that only keeps
    /// account of a share of another one's requests (the slower kinds' share of a token's).
    pub fn note_sent(&self, requests: u32) {
        let mut state = self.lock();
        let now = Instant::now();
        self.expire(&mut state, now);
        for _ in 0..requests {
            state.sent.push_back(now);
        }
    }

    /// The API answered 429: pause every request for `retry_after` (or 5 s, and at most
    /// five minutes) and halve the budget for a while.
    pub fn penalize(&self, retry_after: Option<Duration>) {
        let mut state = self.lock();
        let now = Instant::now();
        let pause = retry_after.unwrap_or(DEFAULT_PAUSE).min(MAX_PAUSE);
        let until = now.checked_add(pause).unwrap_or(now);
        state.paused_until = Some(state.paused_until.map_or(until, |paused| paused.max(until)));
        state.reduced_until = Some(now + REDUCED_FOR);
    }

    /// How much of the budget is in use.
    pub fn usage(&self) -> BudgetUse {
        let state = self.lock();
        let now = Instant::now();
        let used = state
            .sent
            .iter()
            .filter(|sent| **sent + self.window() > now)
            .count();
        BudgetUse {
            used: u32::try_from(used).unwrap_or(u32::MAX),
            limit: self.current_limit(&state, now),
            throttled: state.paused_until.is_some_and(|until| until > now)
                || state.reduced_until.is_some_and(|until| until > now),
            reserved: self.reserved.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_share_is_counted_without_waiting_and_shortness_lasts_a_twelfth_of_the_window() {
        let budget = Budget::new(10, Duration::from_secs(60));
        budget.note_sent(7);
        assert_eq!(budget.room(Priority::High), 3);
        // Beyond the limit it is counted all the same, and nothing waits.
        budget.note_sent(7);
        assert_eq!(budget.room(Priority::High), 0);
        tokio::time::advance(Duration::from_secs(60)).await;
        assert_eq!(budget.room(Priority::High), 10);
        assert!(!budget.is_short());
        budget.note_short();
        assert!(budget.is_short());
        tokio::time::advance(Duration::from_secs(4)).await;
        assert!(budget.is_short(), "still short between two looks");
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(!budget.is_short());
    }

    #[tokio::test(start_paused = true)]
    async fn no_window_ever_holds_more_than_the_limit() {
        let budget = Budget::new(10, Duration::from_secs(60));
        let start = Instant::now();
        let mut sent = Vec::new();
        for _ in 0..35 {
            budget.acquire(Priority::Low).await;
            sent.push(Instant::now() - start);
        }
        // The first ten go at once; each later one waits until the oldest leaves the window.
        for (index, at) in sent.iter().enumerate() {
            let in_window = sent
                .iter()
                .filter(|other| **other <= *at && *at - **other < Duration::from_secs(60))
                .count();
            assert!(
                in_window <= 10,
                "request {index} at {at:?} makes {in_window} in a minute"
            );
        }
        assert_eq!(sent[10], Duration::from_secs(60));
        assert_eq!(sent[34], Duration::from_secs(180));
    }

    /// A reload that lowers the limit keeps what the window holds: 43 requests sent, the limit
    /// now 30, and nothing goes until 14 of them have left the window.
    #[tokio::test(start_paused = true)]
    async fn a_changed_limit_keeps_the_requests_already_in_the_window() {
        let budget = Budget::new(60, Duration::from_secs(60));
        let start = Instant::now();
        for _ in 0..43 {
            budget.acquire(Priority::High).await;
            tokio::time::advance(Duration::from_millis(100)).await;
        }
        budget.set_limit(30, Duration::from_secs(60));
        assert_eq!((budget.limit(), budget.usage().used), (30, 43));
        assert_eq!(budget.room(Priority::High), 0);
        budget.acquire(Priority::High).await;
        // The 14th request left the window at 60 s + 13 × 100 ms after the start.
        assert_eq!(Instant::now() - start, Duration::from_millis(61_300));
        assert_eq!(budget.usage().used, 30);
        // Raising it gives room at once, with the same history.
        budget.set_limit(100, Duration::from_secs(60));
        assert_eq!(budget.room(Priority::High), 70);
        // A longer window keeps requests longer.
        budget.set_limit(30, Duration::from_secs(120));
        assert_eq!(budget.window(), Duration::from_secs(120));
        tokio::time::advance(Duration::from_secs(60)).await;
        assert_eq!(budget.usage().used, 30);
    }

    #[tokio::test(start_paused = true)]
    async fn one_enormous_retry_after_pauses_the_budget_for_max_pause_only() {
        let budget = Budget::new(10, Duration::from_secs(60));
        budget.penalize(Some(Duration::from_secs(999_999_999)));
        budget.penalize(Some(Duration::MAX));
        let start = Instant::now();
        budget.acquire(Priority::High).await;
        assert_eq!(Instant::now() - start, MAX_PAUSE);
        // PlanetScale's limit is per minute: no pause is longer.
        assert_eq!(MAX_PAUSE, Duration::from_secs(60));
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_pauses_then_halves() {
        let budget = Budget::new(10, Duration::from_secs(60));
        budget.penalize(Some(Duration::from_secs(5)));
        let start = Instant::now();
        budget.acquire(Priority::High).await;
        assert_eq!(Instant::now() - start, Duration::from_secs(5));
        let usage = budget.usage();
        assert_eq!((usage.used, usage.limit, usage.throttled), (1, 5, true));
        for _ in 0..4 {
            budget.acquire(Priority::High).await;
        }
        let before = Instant::now();
        budget.acquire(Priority::High).await;
        assert!(
            Instant::now() - before >= Duration::from_secs(55),
            "the halved limit holds"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn idle_requests_leave_the_reserve_alone() {
        let budget = Budget::new(10, Duration::from_secs(60));
        budget.reserve(6);
        let start = Instant::now();
        for _ in 0..4 {
            budget.acquire(Priority::Low).await;
        }
        assert_eq!(Instant::now(), start, "four fit beside the reserve");
        for _ in 0..6 {
            budget.acquire(Priority::High).await;
        }
        assert_eq!(
            Instant::now(),
            start,
            "the reserve is there for the targets in motion"
        );
        budget.reserve(100);
        budget.acquire(Priority::Low).await;
        assert_eq!(
            Instant::now() - start,
            Duration::from_secs(60),
            "a tenth stays for idle ones"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn targets_in_motion_go_first() {
        let budget = Budget::new(3, Duration::from_secs(10));
        budget.reserve(2);
        let start = Instant::now();
        budget.acquire(Priority::Low).await;
        budget.acquire(Priority::High).await;
        assert_eq!(Instant::now(), start, "room for both");
        budget.acquire(Priority::High).await;
        assert_eq!(
            Instant::now(),
            start,
            "the reserve serves the target in motion at once"
        );
        budget.acquire(Priority::Low).await;
        assert_eq!(
            Instant::now() - start,
            Duration::from_secs(10),
            "the idle one waits"
        );
    }
}
