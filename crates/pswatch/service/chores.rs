//! The periodic work beside the polls, in one table: when each chore is next due, and whether
//! it applies now. The loop asks which are due, does them, and says when each is due again;
//! the table reads no clock (the time is passed in), so adding a chore is one variant and one
//! arm where the loop does it.

use std::collections::{BTreeMap, BTreeSet};

use tokio::time::Instant;

/// A chore of the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Chore {
    /// List the watched organizations' databases.
    Discovery,
    /// Read the watched databases' PlanetScale webhooks (with a receiver).
    WebhookCheck,
    /// Try a write of the store (while its writes fail).
    StoreProbe,
    /// Read what other replicas received (with a shared store).
    Pokes,
    /// Write the leader's report for the other replicas (with a shared store).
    Report,
    /// Send the digests whose time has come.
    Digests,
    /// Do the Slack clicks left undone.
    Clicks,
    /// Forget the resource views not written for a while.
    Views,
    /// Send the firing alerts again whose channel's `resend` has passed.
    Alerts,
}

impl Chore {
    const ALL: [Self; 9] = [
        Self::Discovery,
        Self::WebhookCheck,
        Self::StoreProbe,
        Self::Pokes,
        Self::Report,
        Self::Digests,
        Self::Clicks,
        Self::Views,
        Self::Alerts,
    ];
}

/// When each chore is next due (none: not until it is given a time again), and which apply.
#[derive(Debug)]
pub(super) struct Chores {
    due: BTreeMap<Chore, Option<Instant>>,
    off: BTreeSet<Chore>,
}

impl Chores {
    /// Every chore due at `now`, and applying.
    pub(super) fn new(now: Instant) -> Self {
        Self {
            due: Chore::ALL.iter().map(|chore| (*chore, Some(now))).collect(),
            off: BTreeSet::new(),
        }
    }

    /// Whether `chore` applies now (a chore that does not is never due and wakes nothing; it
    /// keeps its time for when it applies again).
    pub(super) fn applies(&mut self, chore: Chore, applies: bool) {
        if applies {
            self.off.remove(&chore);
        } else {
            self.off.insert(chore);
        }
    }

    /// `chore` is next due at `at`.
    pub(super) fn at(&mut self, chore: Chore, at: Instant) {
        self.due.insert(chore, Some(at));
    }

    /// `chore` is not due until it is given a time again (a listing under way, one not needed).
    pub(super) fn pause(&mut self, chore: Chore) {
        self.due.insert(chore, None);
    }

    /// The chores due at `now`, in the table's order.
    pub(super) fn due(&self, now: Instant) -> Vec<Chore> {
        self.due
            .iter()
            .filter(|(chore, at)| !self.off.contains(chore) && at.is_some_and(|at| at <= now))
            .map(|(chore, _)| *chore)
            .collect()
    }

    /// When the next chore that applies is due.
    pub(super) fn next_wake(&self) -> Option<Instant> {
        self.due
            .iter()
            .filter(|(chore, _)| !self.off.contains(chore))
            .filter_map(|(_, at)| *at)
            .min()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn chores_are_due_at_their_time_unless_paused_or_not_applying() {
        let start = Instant::now();
        let second = Duration::from_secs(1);
        let mut chores = Chores::new(start);
        assert_eq!(chores.due(start), Chore::ALL);
        for chore in Chore::ALL {
            chores.at(chore, start + second * 10);
        }
        chores.at(Chore::Pokes, start + second);
        chores.at(Chore::Digests, start + second * 3);
        assert!(chores.due(start).is_empty());
        assert_eq!(chores.next_wake(), Some(start + second));
        assert_eq!(chores.due(start + second), [Chore::Pokes]);
        // One that does not apply is neither due nor a reason to wake, and keeps its time.
        chores.applies(Chore::Pokes, false);
        assert!(chores.due(start + second * 2).is_empty());
        assert_eq!(chores.next_wake(), Some(start + second * 3));
        chores.applies(Chore::Pokes, true);
        assert_eq!(
            chores.due(start + second * 3),
            [Chore::Pokes, Chore::Digests]
        );
        // A paused one waits for a time.
        chores.pause(Chore::Discovery);
        assert!(!chores.due(start + second * 100).contains(&Chore::Discovery));
        chores.at(Chore::Discovery, start);
        assert!(chores.due(start).contains(&Chore::Discovery));
        // Nothing applies: nothing wakes.
        for chore in Chore::ALL {
            chores.applies(chore, false);
        }
        assert_eq!(chores.next_wake(), None);
    }
}
