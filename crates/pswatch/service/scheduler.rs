//! The scheduler: which targets to poll, and when, given the time and the budget's room.
//!
//! A plain state machine: it reads no clock (the time is passed in), does no I/O and never
//! waits. The service asks it what is [`Scheduler::due`], starts those polls, and tells it when
//! each has [`Scheduler::finished`]; discovery and reloads [`Scheduler::reconcile`] its targets.

use std::collections::HashMap;
use std::time::Duration;

use diff_engine::{Motion, Target};
use poller::Priority;
use tokio::time::Instant;

use crate::config::Poll;

/// How many polls of each class (active; waiting and idle together) run at once. Requests
/// still pass the shared budget one by one.
pub(crate) const CONCURRENT_POLLS: usize = 4;
/// The longest wait between two polls of a failing target.
const MAX_POLL_BACKOFF: Duration = Duration::from_secs(600);

/// The scheduler's record of one target.
#[derive(Debug, Clone)]
struct Slot {
    next_due: Instant,
    motion: Motion,
    in_flight: bool,
    /// Failed polls in a row.
    failures: u32,
    /// API requests of the last poll (2 until one is known: workflows and deploy requests).
    requests: u64,
    /// PlanetScale pushed a change: poll soon, ahead of idle targets.
    pushed: bool,
}

impl Slot {
    fn is_active(&self) -> bool {
        self.motion == Motion::Active
    }

    /// How urgent its next poll is: a pushed one at least as urgent as a waiting one.
    fn urgency(&self) -> (Motion, bool) {
        let motion = if self.pushed {
            self.motion.max(Motion::Waiting)
        } else {
            self.motion
        };
        (motion, self.pushed)
    }
}

/// How a poll ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Outcome {
    /// It committed; the target is now in `motion`, and the poll took `requests` requests.
    Polled { motion: Motion, requests: u64 },
    /// It failed; the API may have asked to wait `retry_after`.
    Failed { retry_after: Option<Duration> },
    /// Its task panicked. Counted as a failure: the target is polled again after its backoff.
    Panicked,
}

/// What to start now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Due {
    /// Targets to poll, in the order to start them, with the priority of their requests.
    pub(crate) start: Vec<(Target, Priority)>,
    /// Some waiting or idle target is due but the budget has no room for it now.
    pub(crate) blocked: bool,
    /// The budgets (by share) that had no room for a due target.
    pub(crate) short: std::collections::BTreeSet<usize>,
}

/// What a reconciliation changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Reconciled {
    pub(crate) added: Vec<Target>,
    pub(crate) removed: Vec<Target>,
}

/// The targets and their schedules.
#[derive(Debug)]
pub(crate) struct Scheduler {
    slots: HashMap<Target, Slot>,
    poll: Poll,
}

impl Scheduler {
    pub(crate) fn new(poll: Poll) -> Self {
        Self {
            slots: HashMap::new(),
            poll,
        }
    }

    /// New intervals (a reload). Every target keeps its next poll and its backoff; the new
    /// intervals apply from its next poll on.
    pub(crate) fn set_intervals(&mut self, poll: Poll) {
        self.poll = poll;
    }

    /// Makes the scheduled targets the `listed` ones: a new one is added (one remembered as
    /// active due at once, the others spread over one interval, so they do not all fire at
    /// start), and one no longer listed is removed unless `keep` says so (its organization could
    /// not be listed this time). A kept target keeps its schedule and backoff; one removed
    /// while its poll runs is forgotten when the poll ends.
    pub(crate) fn reconcile(
        &mut self,
        listed: &[Target],
        keep: impl Fn(&Target) -> bool,
        motion_of: impl Fn(&Target) -> Motion,
        now: Instant,
    ) -> Reconciled {
        let mut reconciled = Reconciled::default();
        let new: Vec<&Target> = listed
            .iter()
            .filter(|target| !self.slots.contains_key(*target))
            .collect();
        let spacing = self.poll.interval / u32::try_from(new.len().max(1)).unwrap_or(u32::MAX);
        for (index, target) in new.into_iter().enumerate() {
            let motion = motion_of(target);
            let delay = if motion == Motion::Active {
                Duration::ZERO
            } else {
                spacing.saturating_mul(u32::try_from(index).unwrap_or(u32::MAX))
            };
            self.slots.insert(
                target.clone(),
                Slot {
                    next_due: now + delay,
                    motion,
                    in_flight: false,
                    failures: 0,
                    requests: 2,
                    pushed: false,
                },
            );
            reconciled.added.push(target.clone());
        }
        self.slots.retain(|target, _| {
            let kept = listed.contains(target) || keep(target);
            if !kept {
                reconciled.removed.push(target.clone());
            }
            kept
        });
        reconciled.added.sort();
        reconciled.removed.sort();
        reconciled
    }

    /// [`Scheduler::due_shared`] with one budget.
    #[cfg(test)]
    pub(crate) fn due(&mut self, now: Instant, room: u64) -> Due {
        self.due_shared(now, &mut [room], |_| 0)
    }

    /// The targets to poll now, marked in flight: those due, active ones first (each class at
    /// most [`CONCURRENT_POLLS`] in flight), then waiting ones, then idle ones, each longest due
    /// first. A waiting or idle one starts only while the room of its budget (`rooms`, by the
    /// index `share` gives a target: the requests each service token's budget would let
    /// low-priority polls send now) covers what its last poll took; the budget keeps the rest
    /// for the active ones. A budget that is spent holds up only its own targets.
    pub(crate) fn due_shared(
        &mut self,
        now: Instant,
        rooms: &mut [u64],
        share: impl Fn(&Target) -> usize,
    ) -> Due {
        let mut due: Vec<(&Target, &Slot)> = self
            .slots
            .iter()
            .filter(|(_, slot)| !slot.in_flight && slot.next_due <= now)
            .collect();
        due.sort_by(|(a_target, a), (b_target, b)| {
            (std::cmp::Reverse(a.urgency()), a.next_due, *a_target).cmp(&(
                std::cmp::Reverse(b.urgency()),
                b.next_due,
                *b_target,
            ))
        });
        let in_flight = |active: bool| {
            self.slots
                .values()
                .filter(|slot| slot.in_flight && slot.is_active() == active)
                .count()
        };
        let (mut active_in_flight, mut other_in_flight) = (in_flight(true), in_flight(false));
        let mut start = Vec::new();
        let mut blocked = false;
        let mut short = std::collections::BTreeSet::new();
        for (target, slot) in due {
            if slot.is_active() {
                if active_in_flight < CONCURRENT_POLLS {
                    active_in_flight += 1;
                    start.push((target.clone(), Priority::High));
                }
            } else {
                let index = share(target);
                match rooms.get_mut(index) {
                    Some(room) if *room < slot.requests => {
                        short.insert(index);
                        blocked = true;
                    }
                    Some(room) if other_in_flight < CONCURRENT_POLLS => {
                        other_in_flight += 1;
                        *room -= slot.requests;
                        start.push((target.clone(), Priority::Low));
                    }
                    _ => blocked = true,
                }
            }
        }
        for (target, _) in &start {
            if let Some(slot) = self.slots.get_mut(target) {
                slot.in_flight = true;
                slot.pushed = false;
            }
        }
        Due {
            start,
            blocked,
            short,
        }
    }

    /// Records how the poll of `target` ended and schedules its next one; returns the delay
    /// until then, or `None` when the target is no longer scheduled.
    pub(crate) fn finished(
        &mut self,
        target: &Target,
        outcome: Outcome,
        now: Instant,
    ) -> Option<Duration> {
        let slot = self.slots.get_mut(target)?;
        slot.in_flight = false;
        let delay = match outcome {
            Outcome::Polled { motion, requests } => {
                slot.failures = 0;
                slot.motion = motion;
                slot.requests = requests.max(1);
                self.poll.interval_for(motion)
            }
            Outcome::Failed { retry_after } => {
                slot.failures = slot.failures.saturating_add(1);
                let backoff = backoff(self.poll.interval, slot.failures);
                // PlanetScale's limit is per minute: a longer Retry-After is read as a minute.
                retry_after.map_or(backoff, |retry_after| {
                    retry_after.min(poller::MAX_PAUSE).max(backoff)
                })
            }
            Outcome::Panicked => {
                slot.failures = slot.failures.saturating_add(1);
                backoff(self.poll.interval, slot.failures)
            }
        };
        // A push that came while a successful poll ran asks for another one, at once; a
        // failing target keeps its backoff (and PlanetScale's `Retry-After`) however many
        // pushes arrive, and is polled, pushed, when it ends.
        let delay = if slot.pushed && slot.failures == 0 {
            Duration::ZERO
        } else {
            delay
        };
        slot.next_due = now.checked_add(delay).unwrap_or(now + MAX_POLL_BACKOFF);
        Some(delay)
    }

    /// PlanetScale says `target` changed: poll it now, ahead of idle and waiting targets (after
    /// the active ones), once however many pushes come before the poll starts; if a poll is
    /// running, once more when it ends. `false` when `target` is not watched.
    pub(crate) fn push(&mut self, target: &Target, now: Instant) -> bool {
        let Some(slot) = self.slots.get_mut(target) else {
            return false;
        };
        slot.pushed = true;
        // A failing target keeps its backoff: a push does not make it hammer the API.
        if !slot.in_flight && slot.failures == 0 {
            slot.next_due = slot.next_due.min(now);
        }
        true
    }

    /// The scheduled targets, in order.
    pub(crate) fn targets(&self) -> Vec<Target> {
        let mut targets: Vec<Target> = self.slots.keys().cloned().collect();
        targets.sort();
        targets
    }

    /// Failed polls in a row of `target`.
    pub(crate) fn failures(&self, target: &Target) -> u32 {
        self.slots.get(target).map_or(0, |slot| slot.failures)
    }

    /// When the next target not in flight is due.
    pub(crate) fn next_wake(&self) -> Option<Instant> {
        self.slots
            .values()
            .filter(|slot| !slot.in_flight)
            .map(|slot| slot.next_due)
            .min()
    }

    /// The requests a budget `window` should keep for the active targets that spend it (those
    /// `spends` says): what their polls take at `active_interval`.
    pub(crate) fn reserve(&self, window: Duration, spends: impl Fn(&Target) -> bool) -> u32 {
        let per_window: f64 = self
            .slots
            .iter()
            .filter(|(target, slot)| slot.is_active() && spends(target))
            .map(|(_, slot)| slot)
            .map(|slot| {
                slot.requests as f64 * window.as_secs_f64()
                    / self.poll.active_interval.as_secs_f64().max(0.001)
            })
            .sum();
        per_window.ceil().min(f64::from(u32::MAX)) as u32
    }

    /// The API requests a minute that the configured intervals would take of the targets
    /// `spends` says.
    pub(crate) fn demand_per_minute(&self, spends: impl Fn(&Target) -> bool) -> f64 {
        self.slots
            .iter()
            .filter(|(target, _)| spends(target))
            .map(|(_, slot)| slot)
            .map(|slot| {
                let every = self.poll.interval_for(slot.motion);
                slot.requests as f64 * 60.0 / every.as_secs_f64().max(0.001)
            })
            .sum()
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.slots.len()
    }
}

/// The delay before the next poll of a target after `failures` failures in a row: the interval,
/// doubled for each failure after the first, at most ten minutes.
fn backoff(interval: Duration, failures: u32) -> Duration {
    http_util::backoff(interval, failures.saturating_sub(1), MAX_POLL_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poll() -> Poll {
        Poll {
            interval: Duration::from_secs(30),
            active_interval: Duration::from_secs(5),
            waiting_interval: Duration::from_secs(20),
            notify_on_baseline_errors: false,
            notify_pending_ready: false,
            slow_interval: Duration::from_secs(300),
        }
    }

    fn target(name: &str) -> Target {
        Target::new("acme", name)
    }

    fn names(due: &Due) -> Vec<(String, Priority)> {
        due.start
            .iter()
            .map(|(target, priority)| (target.database.clone(), *priority))
            .collect()
    }

    /// A scheduler with `targets` (name, motion) added at `now`.
    fn scheduler(targets: &[(&str, Motion)], now: Instant) -> Scheduler {
        let mut scheduler = Scheduler::new(poll());
        let listed: Vec<Target> = targets.iter().map(|(name, _)| target(name)).collect();
        let motions: HashMap<Target, Motion> = targets
            .iter()
            .map(|(name, motion)| (target(name), *motion))
            .collect();
        scheduler.reconcile(&listed, |_| false, |target| motions[target], now);
        scheduler
    }

    #[tokio::test(start_paused = true)]
    async fn active_first_then_waiting_then_the_longest_due_idle() {
        let start = Instant::now();
        let mut scheduler = scheduler(
            &[
                ("idle-a", Motion::Idle),
                ("idle-b", Motion::Idle),
                ("waiting", Motion::Waiting),
                ("active", Motion::Active),
            ],
            start,
        );
        // New targets are spread over one interval (a quarter apart here) from now; the active
        // one is due at once.
        let due = scheduler.due(start, 100);
        assert_eq!(
            names(&due),
            [
                ("active".into(), Priority::High),
                ("idle-a".into(), Priority::Low)
            ]
        );
        scheduler.finished(
            &target("idle-a"),
            Outcome::Polled {
                motion: Motion::Idle,
                requests: 2,
            },
            start,
        );
        // An interval later the others are due: the active one is still in flight, the waiting
        // one goes first, then the idle ones, the longest due first.
        tokio::time::advance(Duration::from_secs(30)).await;
        let due = scheduler.due(Instant::now(), 100);
        let order: Vec<String> = names(&due).into_iter().map(|(name, _)| name).collect();
        assert_eq!(order, ["waiting", "idle-b", "idle-a"]);
        assert!(due
            .start
            .iter()
            .all(|(_, priority)| *priority == Priority::Low));
        assert!(!due.blocked);
    }

    #[tokio::test(start_paused = true)]
    async fn the_budget_blocks_idle_polls_never_active_ones() {
        let now = Instant::now();
        let mut scheduler = scheduler(&[("active", Motion::Active)], now);
        scheduler.reconcile(
            &[target("active"), target("idle")],
            |_| false,
            |_| Motion::Idle,
            now,
        );
        let due = scheduler.due(now, 1);
        // The idle one is new and spread to the start of the interval too: due now, but a poll
        // takes two requests and the budget has room for one.
        assert_eq!(names(&due), [("active".into(), Priority::High)]);
        assert!(due.blocked);
        let due = scheduler.due(now, 2);
        assert_eq!(names(&due), [("idle".into(), Priority::Low)]);
    }

    /// Each service token's budget has its own room: one that is spent holds up only its own
    /// databases, and is said to be short.
    #[tokio::test(start_paused = true)]
    async fn a_spent_budget_holds_up_only_its_own_databases() {
        let now = Instant::now();
        let mut scheduler = scheduler(&[], now);
        scheduler.reconcile(
            &[target("main-1"), target("eu-1")],
            |_| false,
            |_| Motion::Idle,
            now,
        );
        tokio::time::advance(Duration::from_secs(30)).await;
        let share = |target: &Target| usize::from(target.database.starts_with("eu-"));
        // The main token's budget is spent; the other has room.
        let mut rooms = [1, 10];
        let due = scheduler.due_shared(Instant::now(), &mut rooms, share);
        assert_eq!(names(&due), [("eu-1".into(), Priority::Low)]);
        assert_eq!(
            rooms,
            [1, 8],
            "the poll's requests come out of its own budget"
        );
        assert!(due.blocked);
        assert_eq!(due.short, std::collections::BTreeSet::from([0]));
        let due = scheduler.due_shared(Instant::now(), &mut [10, 10], share);
        assert_eq!(names(&due), [("main-1".into(), Priority::Low)]);
        assert!(due.short.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn each_class_has_its_share_of_concurrent_polls() {
        let now = Instant::now();
        let targets: Vec<(String, Motion)> = (0..6)
            .map(|index| (format!("active-{index}"), Motion::Active))
            .chain((0..6).map(|index| (format!("idle-{index}"), Motion::Idle)))
            .collect();
        let borrowed: Vec<(&str, Motion)> = targets
            .iter()
            .map(|(name, motion)| (name.as_str(), *motion))
            .collect();
        let mut scheduler = scheduler(&borrowed, now);
        tokio::time::advance(Duration::from_secs(30)).await;
        let due = scheduler.due(Instant::now(), 1_000);
        let high = due
            .start
            .iter()
            .filter(|(_, p)| *p == Priority::High)
            .count();
        let low = due
            .start
            .iter()
            .filter(|(_, p)| *p == Priority::Low)
            .count();
        assert_eq!((high, low), (CONCURRENT_POLLS, CONCURRENT_POLLS));
        // Nothing more until some finish.
        assert!(scheduler.due(Instant::now(), 1_000).start.is_empty());
        let (first, _) = due.start[0].clone();
        scheduler.finished(
            &first,
            Outcome::Polled {
                motion: Motion::Active,
                requests: 2,
            },
            Instant::now(),
        );
        let next = scheduler.due(Instant::now(), 1_000);
        assert_eq!(next.start.len(), 1);
        assert_eq!(next.start[0].1, Priority::High);
    }

    #[tokio::test(start_paused = true)]
    async fn intervals_follow_the_motion_and_failures_back_off() {
        let now = Instant::now();
        let mut scheduler = scheduler(&[("db", Motion::Active)], now);
        scheduler.due(now, 100);
        let polled = |motion| Outcome::Polled {
            motion,
            requests: 2,
        };
        assert_eq!(
            scheduler.finished(&target("db"), polled(Motion::Active), now),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            scheduler.finished(&target("db"), polled(Motion::Waiting), now),
            Some(Duration::from_secs(20))
        );
        assert_eq!(
            scheduler.finished(&target("db"), polled(Motion::Idle), now),
            Some(Duration::from_secs(30))
        );
        let failed = Outcome::Failed { retry_after: None };
        let delays: Vec<u64> = (0..7)
            .map(|_| {
                scheduler
                    .finished(&target("db"), failed, now)
                    .map_or(0, |delay| delay.as_secs())
            })
            .collect();
        assert_eq!(delays, [30, 60, 120, 240, 480, 600, 600]);
        assert_eq!(scheduler.failures(&target("db")), 7);
        // The API's Retry-After is waited at least, up to a minute (its rate window); a
        // success ends the backoff.
        scheduler.finished(&target("db"), polled(Motion::Idle), now);
        assert_eq!(scheduler.failures(&target("db")), 0);
        for (asked, waited) in [(45, 45), (900, 60), (u64::MAX, 60)] {
            assert_eq!(
                scheduler.finished(
                    &target("db"),
                    Outcome::Failed {
                        retry_after: Some(Duration::from_secs(asked))
                    },
                    now
                ),
                Some(Duration::from_secs(waited)),
                "{asked}"
            );
            scheduler.finished(&target("db"), polled(Motion::Idle), now);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_panicked_poll_frees_its_slot_and_backs_off() {
        let now = Instant::now();
        let mut scheduler = scheduler(&[("db", Motion::Active)], now);
        assert_eq!(scheduler.due(now, 100).start.len(), 1);
        assert!(scheduler.due(now, 100).start.is_empty(), "in flight");
        assert_eq!(
            scheduler.finished(&target("db"), Outcome::Panicked, now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(scheduler.failures(&target("db")), 1);
        assert_eq!(scheduler.next_wake(), Some(now + Duration::from_secs(30)));
        tokio::time::advance(Duration::from_secs(30)).await;
        assert_eq!(
            scheduler.due(Instant::now(), 100).start.len(),
            1,
            "polled again"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_reserve_covers_the_active_targets_only() {
        let now = Instant::now();
        let mut scheduler = scheduler(
            &[
                ("active", Motion::Active),
                ("waiting", Motion::Waiting),
                ("idle", Motion::Idle),
            ],
            now,
        );
        // Two requests every 5 s: 24 a minute.
        assert_eq!(scheduler.reserve(Duration::from_secs(60), |_| true), 24);
        scheduler.due(now, 100);
        scheduler.finished(
            &target("active"),
            Outcome::Polled {
                motion: Motion::Active,
                requests: 3,
            },
            now,
        );
        assert_eq!(scheduler.reserve(Duration::from_secs(60), |_| true), 36);
        // 24 + 6 (waiting, every 20 s) + 4 (idle, every 30 s) requests a minute at 2 each… with
        // the active one's last poll at 3 requests.
        assert!((scheduler.demand_per_minute(|_| true) - (36.0 + 6.0 + 4.0)).abs() < 1e-9);
    }

    #[tokio::test(start_paused = true)]
    async fn discovery_and_reload_add_and_remove_targets_and_keep_the_others_schedules() {
        let now = Instant::now();
        let mut scheduler = scheduler(&[("kept", Motion::Idle), ("gone", Motion::Idle)], now);
        scheduler.due(now, 100);
        scheduler.finished(&target("kept"), Outcome::Failed { retry_after: None }, now);
        let kept_due = now + Duration::from_secs(30);
        tokio::time::advance(Duration::from_secs(10)).await;
        let later = Instant::now();
        let reconciled = scheduler.reconcile(
            &[target("kept"), target("new")],
            |_| false,
            |_| Motion::Active,
            later,
        );
        assert_eq!(reconciled.added, [target("new")]);
        assert_eq!(reconciled.removed, [target("gone")]);
        assert_eq!(scheduler.len(), 2);
        // The kept target keeps its backoff and its next poll; the new active one is due now.
        assert_eq!(scheduler.failures(&target("kept")), 1);
        assert_eq!(scheduler.next_wake(), Some(later));
        let due = scheduler.due(later, 100);
        assert_eq!(names(&due), [("new".into(), Priority::High)]);
        assert_eq!(scheduler.next_wake(), Some(kept_due));
        // New intervals apply from the next poll on, without repeating one.
        scheduler.set_intervals(Poll {
            interval: Duration::from_secs(60),
            ..poll()
        });
        assert_eq!(scheduler.next_wake(), Some(kept_due));
        assert_eq!(
            scheduler.finished(
                &target("kept"),
                Outcome::Polled {
                    motion: Motion::Idle,
                    requests: 2
                },
                later
            ),
            Some(Duration::from_secs(60))
        );
        // A target whose organization could not be listed is kept; one removed while its poll
        // runs is forgotten when the poll ends.
        let reconciled = scheduler.reconcile(
            &[],
            |target| target.database == "kept",
            |_| Motion::Idle,
            later,
        );
        assert_eq!(reconciled.removed, [target("new")]);
        assert_eq!(
            scheduler.finished(
                &target("new"),
                Outcome::Polled {
                    motion: Motion::Idle,
                    requests: 2
                },
                later
            ),
            None
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_push_polls_at_once_ahead_of_idle_and_waiting_targets_coalesced() {
        let start = Instant::now();
        let mut scheduler = scheduler(
            &[
                ("idle", Motion::Idle),
                ("pushed", Motion::Idle),
                ("waiting", Motion::Waiting),
            ],
            start,
        );
        assert_eq!(
            scheduler
                .due(start + Duration::from_secs(30), 100)
                .start
                .len(),
            3
        );
        for name in ["idle", "pushed", "waiting"] {
            scheduler.finished(
                &target(name),
                Outcome::Polled {
                    motion: if name == "waiting" {
                        Motion::Waiting
                    } else {
                        Motion::Idle
                    },
                    requests: 2,
                },
                start,
            );
        }
        tokio::time::advance(Duration::from_secs(25)).await;
        let now = Instant::now();
        // Three pushes before the poll starts are one poll, first in line, though not due.
        assert!(scheduler.push(&target("pushed"), now));
        assert!(scheduler.push(&target("pushed"), now));
        assert!(!scheduler.push(&target("unwatched"), now));
        tokio::time::advance(Duration::from_secs(5)).await;
        let due = scheduler.due(Instant::now(), 100);
        let order: Vec<String> = names(&due).into_iter().map(|(name, _)| name).collect();
        assert_eq!(order, ["pushed", "waiting", "idle"]);
        // A push while its poll runs asks for one more poll when it ends.
        scheduler.push(&target("pushed"), Instant::now());
        let delay = scheduler.finished(
            &target("pushed"),
            Outcome::Polled {
                motion: Motion::Idle,
                requests: 2,
            },
            Instant::now(),
        );
        assert_eq!(delay, Some(Duration::ZERO));
        assert_eq!(names(&scheduler.due(Instant::now(), 100)).len(), 1);
        // A failing target keeps its backoff.
        let delay = scheduler.finished(
            &target("pushed"),
            Outcome::Failed { retry_after: None },
            Instant::now(),
        );
        scheduler.push(&target("pushed"), Instant::now());
        assert!(scheduler.due(Instant::now(), 100).start.is_empty());
        assert!(delay.is_some_and(|delay| delay > Duration::ZERO));
    }

    #[tokio::test(start_paused = true)]
    async fn a_push_during_a_failing_poll_keeps_the_backoff_and_retry_after() {
        let start = Instant::now();
        let mut scheduler = scheduler(&[("failing", Motion::Idle)], start);
        let failing = target("failing");
        assert_eq!(
            scheduler
                .due(start + Duration::from_secs(30), 100)
                .start
                .len(),
            1
        );
        // Pushes arrive while the poll runs; the poll fails with PlanetScale's Retry-After.
        scheduler.push(&failing, Instant::now());
        scheduler.push(&failing, Instant::now());
        let delay = scheduler.finished(
            &failing,
            Outcome::Failed {
                retry_after: Some(Duration::from_secs(50)),
            },
            Instant::now(),
        );
        assert_eq!(delay, Some(Duration::from_secs(50)));
        for _ in 0..10 {
            scheduler.push(&failing, Instant::now());
        }
        tokio::time::advance(Duration::from_secs(49)).await;
        assert!(scheduler.due(Instant::now(), 100).start.is_empty());
        tokio::time::advance(Duration::from_secs(1)).await;
        // Then it is polled, ahead of the others, once.
        assert_eq!(scheduler.due(Instant::now(), 100).start.len(), 1);
    }
}
