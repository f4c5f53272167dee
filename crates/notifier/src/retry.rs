//! The retry schedule: pure decisions about when to try a failed delivery again.

use std::time::Duration;

use time::OffsetDateTime;

use crate::verdict::Verdict;

/// When to retry, in the spirit of Standard Webhooks: right away, then after about 5 s, 30 s,
/// 2 min, 10 min, 30 min, 1 h, then hourly, each with ±20 % jitter, until the entry is older than
/// `max_age`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Delays after the 1st, 2nd, … failure; the last one repeats.
    pub schedule: Vec<Duration>,
    /// An entry older than this is given up (moved to the dead letters).
    pub max_age: Duration,
}

/// The default maximum age of an entry.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            schedule: [5, 30, 120, 600, 1800, 3600]
                .into_iter()
                .map(Duration::from_secs)
                .collect(),
            max_age: DEFAULT_MAX_AGE,
        }
    }
}

/// What to do with an entry after a failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Try again at this time.
    RetryAt(OffsetDateTime),
    /// Give up: move to the dead letters, for this reason.
    GiveUp(String),
}

impl RetryPolicy {
    /// The delay after the `failures`-th failure (1-based), before jitter.
    pub fn base_delay(&self, failures: u32) -> Duration {
        let index = usize::try_from(failures.max(1) - 1).unwrap_or(usize::MAX);
        self.schedule
            .get(index)
            .or(self.schedule.last())
            .copied()
            .unwrap_or(Duration::from_secs(3600))
    }

    /// Decides what follows a failed attempt of an entry created at `created_at` that has now
    /// failed `failures` times with `verdict`; a `retry_after` the receiver asked for is waited
    /// at least. `jitter` is a number in [0, 1) that spreads retries out.
    pub fn decide(
        &self,
        created_at: OffsetDateTime,
        failures: u32,
        verdict: Verdict,
        retry_after: Option<Duration>,
        now: OffsetDateTime,
        jitter: f64,
    ) -> Decision {
        match verdict {
            Verdict::Permanent => {
                return Decision::GiveUp("the receiver refused it for good".into())
            }
            Verdict::Gone => return Decision::GiveUp(
                "the receiver is gone (HTTP 410); the channel is disabled until it is reconfigured"
                    .into(),
            ),
            Verdict::Transient => {}
        }
        let factor = 0.8 + 0.4 * jitter.clamp(0.0, 1.0);
        let delay = self.base_delay(failures).mul_f64(factor);
        let asked = retry_after
            .map(|retry_after| retry_after.min(http_util::MAX_RETRY_AFTER))
            .filter(|retry_after| *retry_after > delay);
        let delay = asked.unwrap_or(delay);
        let later = |at: OffsetDateTime, by: Duration| {
            time::Duration::try_from(by)
                .ok()
                .and_then(|by| at.checked_add(by))
        };
        let deadline = later(created_at, self.max_age);
        let next = later(now, delay);
        match (next, deadline) {
            (Some(next), Some(deadline)) if next <= deadline => Decision::RetryAt(next),
            (Some(next), None) => Decision::RetryAt(next),
            _ if asked.is_some() => Decision::GiveUp(format!(
                "the receiver asked to wait {} (Retry-After), past the channel's max_age of {}",
                humanize(delay),
                humanize(self.max_age)
            )),
            _ => Decision::GiveUp(format!(
                "still failing after {} (the channel's max_age)",
                humanize(self.max_age)
            )),
        }
    }
}

fn humanize(duration: Duration) -> String {
    let seconds = duration.as_secs();
    if seconds % 3600 == 0 {
        format!("{}h", seconds / 3600)
    } else if seconds % 60 == 0 {
        format!("{}m", seconds / 60)
    } else {
        format!("{seconds}s")
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    const NOW: OffsetDateTime = datetime!(2026-11-23 12:00 UTC);

    #[test]
    fn an_enormous_retry_after_neither_panics_nor_gives_a_false_reason() {
        let policy = RetryPolicy::default();
        for seconds in [999_999_999, u64::MAX] {
            let decision = policy.decide(
                NOW,
                1,
                Verdict::Transient,
                Some(Duration::from_secs(seconds)),
                NOW,
                0.5,
            );
            // Capped at an hour: retried then, well within the day an entry may wait.
            assert_eq!(
                decision,
                Decision::RetryAt(NOW + http_util::MAX_RETRY_AFTER),
                "{seconds}"
            );
        }
        let decision = policy.decide(
            NOW - time::Duration::hours(23) - time::Duration::minutes(30),
            3,
            Verdict::Transient,
            Some(Duration::from_secs(3600)),
            NOW,
            0.5,
        );
        assert_eq!(
            decision,
            Decision::GiveUp(
                "the receiver asked to wait 1h (Retry-After), past the channel's max_age of 24h"
                    .into()
            )
        );
    }

    #[test]
    fn the_schedule_grows_then_stays_hourly() {
        let policy = RetryPolicy::default();
        let delays: Vec<u64> = (1..=9)
            .map(|failures| policy.base_delay(failures).as_secs())
            .collect();
        assert_eq!(delays, [5, 30, 120, 600, 1800, 3600, 3600, 3600, 3600]);
    }

    #[test]
    fn jitter_stays_within_twenty_percent() {
        let policy = RetryPolicy::default();
        for (jitter, expected) in [(0.0, 4), (0.5, 5), (0.999_999, 5)] {
            let Decision::RetryAt(at) =
                policy.decide(NOW, 1, Verdict::Transient, None, NOW, jitter)
            else {
                panic!("retries");
            };
            assert_eq!((at - NOW).whole_seconds(), expected, "jitter {jitter}");
        }
    }

    #[test]
    fn retry_after_is_honoured_when_longer() {
        let policy = RetryPolicy::default();
        let decision = policy.decide(
            NOW,
            1,
            Verdict::Transient,
            Some(Duration::from_secs(90)),
            NOW,
            0.5,
        );
        assert_eq!(decision, Decision::RetryAt(NOW + Duration::from_secs(90)));
        let decision = policy.decide(
            NOW,
            3,
            Verdict::Transient,
            Some(Duration::from_secs(1)),
            NOW,
            0.5,
        );
        assert_eq!(decision, Decision::RetryAt(NOW + Duration::from_secs(120)));
    }

    #[test]
    fn permanent_gone_and_too_old_give_up() {
        let policy = RetryPolicy::default();
        assert!(matches!(
            policy.decide(NOW, 1, Verdict::Permanent, None, NOW, 0.5),
            Decision::GiveUp(_)
        ));
        let Decision::GiveUp(reason) = policy.decide(NOW, 1, Verdict::Gone, None, NOW, 0.5) else {
            panic!("gives up");
        };
        assert!(reason.contains("410"));
        let created = NOW - Duration::from_secs(23 * 3600 + 59 * 60);
        let Decision::GiveUp(reason) =
            policy.decide(created, 9, Verdict::Transient, None, NOW, 0.5)
        else {
            panic!("too old");
        };
        assert!(reason.contains("24h"), "{reason}");
        let young = NOW - Duration::from_secs(3600);
        assert!(matches!(
            policy.decide(young, 9, Verdict::Transient, None, NOW, 0.5),
            Decision::RetryAt(_)
        ));
    }
}
