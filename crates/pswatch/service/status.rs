//! The status board: what the service knows of each target, its budget and its configuration,
//! written by the service and read by the admin server, which never sees the pipeline.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use diff_engine::{Motion, Target};
use time::OffsetDateTime;

/// What the service knows of its targets and budget, as the admin server shows it.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct SchedulerStatus {
    pub(crate) targets: BTreeMap<String, TargetStatus>,
    /// Set while the budget cannot serve the configured intervals: what that means.
    pub(crate) budget_note: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct TargetStatus {
    /// Something of the target moves on its own: polled at `active_interval`.
    pub(crate) active: bool,
    /// `active`, `waiting` (for a person: polled at `waiting_interval`) or `idle`.
    #[serde(with = "motion_text")]
    pub(crate) motion: Motion,
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) last_poll: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) last_success: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) next_poll: Option<OffsetDateTime>,
    pub(crate) last_error: Option<String>,
    pub(crate) failures: u32,
    pub(crate) auth_failure: bool,
    /// API requests of the last poll.
    pub(crate) requests_per_poll: u64,
}

impl Default for TargetStatus {
    fn default() -> Self {
        Self {
            active: false,
            motion: Motion::Idle,
            last_poll: None,
            last_success: None,
            next_poll: None,
            last_error: None,
            failures: 0,
            auth_failure: false,
            requests_per_poll: 0,
        }
    }
}

/// What of the running configuration the admin server needs.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConfigView {
    /// `[poll] interval`: how long a failing target may go without a successful poll.
    pub(crate) interval: Duration,
    /// Each channel's name and fingerprint, to tell which are disabled.
    pub(crate) channels: Vec<(String, String)>,
    /// `[[silences]]`: the configuration's recurring silences.
    pub(crate) silences: Vec<notifier::Silence>,
}

/// How many recent events the board keeps for the status page.
pub(crate) const RECENT_EVENTS: usize = 50;

/// An event as the status page lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct RecentEvent {
    pub(crate) id: String,
    pub(crate) event_type: String,
    pub(crate) target: String,
    /// `workflow #3 move-customers`, …
    pub(crate) resource: String,
    /// `running -> cutover`, …
    pub(crate) change: String,
    /// The state the resource is in now.
    pub(crate) state: String,
    pub(crate) severity: String,
    /// RFC 3339.
    pub(crate) observed_at: String,
    /// Unix seconds, to tell how long a resource has been in its state.
    pub(crate) observed_unix: i64,
    /// The silence that held it back: recorded, not delivered.
    pub(crate) silenced_by: Option<String>,
}

impl RecentEvent {
    pub(crate) fn of(event: &diff_engine::Event) -> Self {
        Self {
            id: event.id.clone(),
            event_type: event.type_name().to_owned(),
            target: event.target().to_string(),
            resource: notifier::render::resource_name(event),
            change: notifier::render::change(event),
            state: event.kind.state().to_owned(),
            severity: event.severity.as_str().to_owned(),
            observed_at: notifier::render::rfc3339(event.observed_at),
            observed_unix: event.observed_at.unix_timestamp(),
            silenced_by: None,
        }
    }
}

/// A service token's request budget: what was used of the window, and what is held for targets
/// in motion.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct BudgetView {
    /// `planetscale` for `[planetscale]`'s token, or the organization of the watch naming it.
    pub(crate) token: String,
    /// The watched organizations whose requests spend it.
    pub(crate) organizations: Vec<String>,
    pub(crate) used: u32,
    pub(crate) limit: u32,
    pub(crate) reserved: u32,
    pub(crate) window_seconds: u64,
    pub(crate) throttled: bool,
}

impl From<super::clients::BudgetLine> for BudgetView {
    fn from(line: super::clients::BudgetLine) -> Self {
        let usage = line.budget.usage();
        Self {
            token: line.name,
            organizations: line.organizations,
            used: usage.used,
            limit: usage.limit,
            reserved: usage.reserved,
            window_seconds: line.budget.window().as_secs(),
            throttled: usage.throttled,
        }
    }
}

/// What the leader knows of its work and only it: its schedule of the databases, its budgets,
/// push and the recent events. The leader writes it to a shared store every few seconds (the
/// leader's report), and the other replicas' status pages show it.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct Report {
    pub(crate) scheduler: SchedulerStatus,
    /// Every service token's budget, `[planetscale]`'s first.
    pub(crate) budgets: Vec<BudgetView>,
    /// Whether PlanetScale's webhooks reach the receiver, by target.
    pub(crate) push: BTreeMap<String, super::push::PushView>,
    /// Newest first.
    pub(crate) recent_events: Vec<RecentEvent>,
}

/// The board, shared by the service and the admin server.
#[derive(Debug, Default)]
pub(crate) struct StatusBoard {
    status: Mutex<SchedulerStatus>,
    view: Mutex<ConfigView>,
    recent: Mutex<std::collections::VecDeque<RecentEvent>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves data that is still consistent enough to show.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl StatusBoard {
    /// Shows `target`, newly watched.
    pub(crate) fn watch(&self, target: &Target) {
        lock(&self.status)
            .targets
            .entry(target.to_string())
            .or_default();
    }

    /// Changes what the board shows of `target`, if it is watched: a poll that ends after its
    /// target was removed leaves no row behind.
    pub(crate) fn update(&self, target: &Target, change: impl FnOnce(&mut TargetStatus)) {
        if let Some(status) = lock(&self.status).targets.get_mut(&target.to_string()) {
            change(status);
        }
    }

    /// Forgets a target that is no longer watched.
    pub(crate) fn forget(&self, target: &Target) {
        lock(&self.status).targets.remove(&target.to_string());
    }

    pub(crate) fn set_budget_note(&self, note: Option<String>) {
        lock(&self.status).budget_note = note;
    }

    /// A copy of the targets' status and the budget note.
    pub(crate) fn snapshot(&self) -> SchedulerStatus {
        lock(&self.status).clone()
    }

    /// Notes events just committed, keeping the last [`RECENT_EVENTS`].
    pub(crate) fn note_events(&self, events: impl IntoIterator<Item = RecentEvent>) {
        let mut recent = lock(&self.recent);
        for event in events {
            recent.push_back(event);
            while recent.len() > RECENT_EVENTS {
                recent.pop_front();
            }
        }
    }

    /// The recent events, newest first.
    pub(crate) fn recent(&self) -> Vec<RecentEvent> {
        lock(&self.recent).iter().rev().cloned().collect()
    }

    pub(crate) fn set_view(&self, view: ConfigView) {
        *lock(&self.view) = view;
    }

    pub(crate) fn view(&self) -> ConfigView {
        lock(&self.view).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_no_longer_watched_gets_no_row_back() {
        let board = StatusBoard::default();
        let target = Target::new("acme", "commerce");
        board.watch(&target);
        board.update(&target, |status| status.requests_per_poll = 3);
        assert_eq!(
            board.snapshot().targets[&target.to_string()].requests_per_poll,
            3
        );
        board.forget(&target);
        // Its poll, still running when it was removed, ends now.
        board.update(&target, |status| status.requests_per_poll = 4);
        assert!(board.snapshot().targets.is_empty());
    }
}

/// A target's motion as the status API and the leader's report write it: `idle`, `waiting` or
/// `active`.
mod motion_text {
    use diff_engine::Motion;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        motion: &Motion,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(motion.as_str())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Motion, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        [Motion::Idle, Motion::Waiting, Motion::Active]
            .into_iter()
            .find(|motion| motion.as_str() == text)
            .ok_or_else(|| serde::de::Error::custom(format!("{text:?} is not a motion")))
    }
}
