//! The records as they are on disk, format version 1, owned by this crate.
//!
//! The domain types (`TargetState`, `Event`, …) are the diff engine's to change; the bytes on
//! disk are not. Each record here spells out its fields, in order, with the names version 1
//! wrote, and converts to and from the domain types. Renaming or adding a domain field then
//! breaks the conversion at compile time, or leaves the bytes alone, and the golden files in
//! `tests/golden` catch any byte that moves anyway. A change of these types is a new
//! `FORMAT_VERSION` with a migration.
//!
//! States are kept as the text the API sent, so a state this build does not know survives a
//! round trip.

use std::collections::{BTreeMap, BTreeSet};

use diff_engine::{
    DeployState, OperationState, Progress, SeenBackup, SeenDeployRequest, SeenOperation,
    SeenWorkflow, Target, TargetState, Waiting, WorkflowState,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{DeadLetter, DisabledChannel, OutboxEntry};

mod alert;
mod digest;
mod event;
mod memo;
mod seen;
mod silence;
mod timer;
mod view;
mod workflow;

pub(crate) use alert::AlertRecord;
use event::{StoredEvent, StoredTimes};
pub(crate) use memo::MemoRecord;
use seen::{seen_states, stored_states, StoredSeenState};
pub(crate) use silence::SilenceRecord;
pub(crate) use view::ViewRecord;

/// A value with a disk form.
pub(crate) trait Record: Sized + 'static {
    /// What the record is, for error messages.
    const WHAT: &'static str;
    /// Its stored counterpart, which may borrow from it while it is written.
    type Stored<'a>: Serialize + DeserializeOwned
    where
        Self: 'a;
    fn to_stored(&self) -> Self::Stored<'_>;
    fn from_stored(stored: Self::Stored<'static>) -> Self;
}

/// A target and its state: the record under `state/{organization}/{database}`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StateRecord {
    pub(crate) target: Target,
    pub(crate) state: TargetState,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct StoredState {
    target: StoredTarget,
    state: StoredTargetState,
}

#[derive(Serialize, Deserialize)]
struct StoredTarget {
    organization: String,
    database: String,
}

#[derive(Serialize, Deserialize)]
struct StoredTargetState {
    workflows: BTreeMap<String, StoredSeenWorkflow>,
    deploy_requests: BTreeMap<u64, StoredSeenDeployRequest>,
    /// The target's count of events (absent before it was kept: 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    events: u64,
    /// The backups of the production branches, once watched (absent before: none).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    backups: BTreeMap<String, StoredSeenBackup>,
    /// The branches whose latest backup failed.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    failing_backups: BTreeSet<String>,
    /// Whether backups were read before.
    #[serde(default, skip_serializing_if = "is_false")]
    backups_read: bool,
    /// The resizes, once watched.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    resizes: BTreeMap<String, StoredSeenState>,
    /// Whether resizes were read before.
    #[serde(default, skip_serializing_if = "is_false")]
    resizes_read: bool,
    /// The schema recommendations, once watched (each as its state and event count).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    recommendations: BTreeMap<String, StoredSeenState>,
    /// Whether schema recommendations were read before.
    #[serde(default, skip_serializing_if = "is_false")]
    recommendations_read: bool,
    /// The maintenance schedules, once watched.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    maintenance: BTreeMap<String, StoredSeenMaintenance>,
    /// Whether maintenance schedules were read before.
    #[serde(default, skip_serializing_if = "is_false")]
    maintenance_read: bool,
    /// When backups, resizes or recommendations were last read.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    slow_polled_at: Option<OffsetDateTime>,
    /// The clocks of `[[timers]]`, by resource (absent when no timer watches anything).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    timers: BTreeMap<String, timer::StoredTimerClock>,
}

#[derive(Serialize, Deserialize)]
struct StoredSeenMaintenance {
    next_window: Option<String>,
    last_window: Option<String>,
    finished_window: Option<String>,
    events: u64,
}

#[derive(Serialize, Deserialize)]
struct StoredSeenBackup {
    branch: String,
    state: String,
    events: u64,
}

#[derive(Serialize, Deserialize)]
struct StoredSeenWorkflow {
    number: u64,
    name: String,
    state: String,
    workflow_errors: Option<String>,
    events: u64,
    #[serde(default, skip_serializing_if = "StoredTimes::is_empty")]
    times: StoredTimes,
}

#[derive(Serialize, Deserialize)]
struct StoredSeenDeployRequest {
    deployment_state: String,
    #[serde(default)]
    auto_cutover: Option<bool>,
    events: u64,
    operations: BTreeMap<String, StoredSeenOperation>,
    #[serde(default)]
    revert_operations: BTreeMap<String, StoredSeenOperation>,
    // What reminders stand at; written only when there is something, so the records of
    // deploy requests that wait for nothing keep their bytes.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pending_cutover_since: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "is_zero")]
    reminders: u64,
    #[serde(default, skip_serializing_if = "is_false")]
    cutover_expiring: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    queue_paused: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    revert_window_warned: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    queue_position: Option<u64>,
    #[serde(default, skip_serializing_if = "is_false")]
    table_locked: bool,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

fn is_false(value: &bool) -> bool {
    !value
}

#[derive(Serialize, Deserialize)]
struct StoredSeenOperation {
    state: String,
    /// Written as `deploy_errors` before revert operations were remembered.
    #[serde(alias = "deploy_errors")]
    errors: Option<String>,
    events: u64,
    #[serde(default)]
    keyspace_name: Option<String>,
    #[serde(default)]
    table_name: Option<String>,
    #[serde(default)]
    operation_name: Option<String>,
    // The progress of a running operation; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    progress_percentage: Option<f64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    progress_since: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "is_false")]
    stalled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    eta_seconds: Option<u64>,
}

impl Record for StateRecord {
    const WHAT: &'static str = "state";
    type Stored<'a> = StoredState;

    fn to_stored(&self) -> StoredState {
        let operations = |operations: &BTreeMap<String, SeenOperation>| {
            operations
                .iter()
                .map(|(id, seen)| {
                    (
                        id.clone(),
                        StoredSeenOperation {
                            state: seen.state.as_str().to_owned(),
                            errors: seen.errors.clone(),
                            events: seen.events,
                            keyspace_name: seen.keyspace_name.clone(),
                            table_name: seen.table_name.clone(),
                            operation_name: seen.operation_name.clone(),
                            progress_percentage: seen.progress.percentage,
                            progress_since: seen.progress.since,
                            stalled: seen.progress.stalled,
                            eta_seconds: seen.progress.eta_seconds,
                        },
                    )
                })
                .collect()
        };
        StoredState {
            target: StoredTarget {
                organization: self.target.organization.clone(),
                database: self.target.database.clone(),
            },
            state: StoredTargetState {
                workflows: self
                    .state
                    .workflows
                    .iter()
                    .map(|(id, seen)| {
                        (
                            id.clone(),
                            StoredSeenWorkflow {
                                number: seen.number,
                                name: seen.name.clone(),
                                state: seen.state.as_str().to_owned(),
                                workflow_errors: seen.workflow_errors.clone(),
                                events: seen.events,
                                times: StoredTimes::from(&seen.times),
                            },
                        )
                    })
                    .collect(),
                deploy_requests: self
                    .state
                    .deploy_requests
                    .iter()
                    .map(|(number, seen)| {
                        (
                            *number,
                            StoredSeenDeployRequest {
                                deployment_state: seen.deployment_state.as_str().to_owned(),
                                auto_cutover: seen.auto_cutover,
                                events: seen.events,
                                operations: operations(&seen.operations),
                                revert_operations: operations(&seen.revert_operations),
                                pending_cutover_since: seen.waiting.pending_cutover_since,
                                reminders: seen.waiting.reminders,
                                cutover_expiring: seen.waiting.cutover_expiring,
                                queue_paused: seen.waiting.queue_paused,
                                revert_window_warned: seen.waiting.revert_window_warned,
                                queue_position: seen.queue_position,
                                table_locked: seen.waiting.table_locked,
                            },
                        )
                    })
                    .collect(),
                events: self.state.events,
                backups: self
                    .state
                    .backups
                    .iter()
                    .map(|(id, seen)| {
                        (
                            id.clone(),
                            StoredSeenBackup {
                                branch: seen.branch.clone(),
                                state: seen.state.clone(),
                                events: seen.events,
                            },
                        )
                    })
                    .collect(),
                failing_backups: self.state.failing_backups.clone(),
                backups_read: self.state.backups_read,
                resizes: stored_states(&self.state.resizes),
                resizes_read: self.state.resizes_read,
                recommendations: stored_states(&self.state.recommendations),
                recommendations_read: self.state.recommendations_read,
                maintenance: self
                    .state
                    .maintenance
                    .iter()
                    .map(|(id, seen)| {
                        (
                            id.clone(),
                            StoredSeenMaintenance {
                                next_window: seen.next_window.clone(),
                                last_window: seen.last_window.clone(),
                                finished_window: seen.finished_window.clone(),
                                events: seen.events,
                            },
                        )
                    })
                    .collect(),
                maintenance_read: self.state.maintenance_read,
                slow_polled_at: self.state.slow_polled_at,
                timers: timer::stored_clocks(&self.state.timers),
            },
        }
    }

    fn from_stored(stored: StoredState) -> Self {
        let operations = |operations: BTreeMap<String, StoredSeenOperation>| {
            operations
                .into_iter()
                .map(|(id, seen)| {
                    (
                        id,
                        SeenOperation {
                            state: OperationState::parse(&seen.state),
                            errors: seen.errors,
                            events: seen.events,
                            keyspace_name: seen.keyspace_name,
                            table_name: seen.table_name,
                            operation_name: seen.operation_name,
                            progress: Progress {
                                percentage: seen.progress_percentage,
                                since: seen.progress_since,
                                stalled: seen.stalled,
                                eta_seconds: seen.eta_seconds,
                            },
                        },
                    )
                })
                .collect()
        };
        Self {
            target: Target::new(stored.target.organization, stored.target.database),
            state: TargetState {
                workflows: stored
                    .state
                    .workflows
                    .into_iter()
                    .map(|(id, seen)| {
                        (
                            id,
                            SeenWorkflow {
                                number: seen.number,
                                name: seen.name,
                                state: WorkflowState::parse(&seen.state),
                                workflow_errors: seen.workflow_errors,
                                events: seen.events,
                                times: seen.times.into(),
                            },
                        )
                    })
                    .collect(),
                deploy_requests: stored
                    .state
                    .deploy_requests
                    .into_iter()
                    .map(|(number, seen)| {
                        (
                            number,
                            SeenDeployRequest {
                                deployment_state: DeployState::parse(&seen.deployment_state),
                                auto_cutover: seen.auto_cutover,
                                events: seen.events,
                                operations: operations(seen.operations),
                                revert_operations: operations(seen.revert_operations),
                                waiting: Waiting {
                                    pending_cutover_since: seen.pending_cutover_since,
                                    reminders: seen.reminders,
                                    cutover_expiring: seen.cutover_expiring,
                                    queue_paused: seen.queue_paused,
                                    revert_window_warned: seen.revert_window_warned,
                                    table_locked: seen.table_locked,
                                },
                                queue_position: seen.queue_position,
                            },
                        )
                    })
                    .collect(),
                events: stored.state.events,
                backups: stored
                    .state
                    .backups
                    .into_iter()
                    .map(|(id, seen)| {
                        (
                            id,
                            SeenBackup {
                                branch: seen.branch,
                                state: seen.state,
                                events: seen.events,
                            },
                        )
                    })
                    .collect(),
                failing_backups: stored.state.failing_backups,
                backups_read: stored.state.backups_read,
                resizes: seen_states(stored.state.resizes),
                resizes_read: stored.state.resizes_read,
                recommendations: seen_states(stored.state.recommendations),
                recommendations_read: stored.state.recommendations_read,
                maintenance: stored
                    .state
                    .maintenance
                    .into_iter()
                    .map(|(id, seen)| {
                        (
                            id,
                            diff_engine::SeenMaintenance {
                                next_window: seen.next_window,
                                last_window: seen.last_window,
                                finished_window: seen.finished_window,
                                events: seen.events,
                            },
                        )
                    })
                    .collect(),
                maintenance_read: stored.state.maintenance_read,
                slow_polled_at: stored.state.slow_polled_at,
                timers: timer::clocks(stored.state.timers),
            },
        }
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct StoredOutboxEntry<'a> {
    id: u64,
    channel: String,
    event: StoredEvent<'a>,
    attempts: u32,
    last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(default, with = "time::serde::rfc3339::option")]
    next_attempt_at: Option<OffsetDateTime>,
    #[serde(default)]
    poll: u64,
}

impl Record for OutboxEntry {
    const WHAT: &'static str = "outbox";
    type Stored<'a> = StoredOutboxEntry<'a>;

    fn to_stored(&self) -> StoredOutboxEntry<'_> {
        StoredOutboxEntry {
            id: self.id,
            channel: self.channel.clone(),
            event: (&self.event).into(),
            attempts: self.attempts,
            last_error: self.last_error.clone(),
            created_at: self.created_at,
            next_attempt_at: self.next_attempt_at,
            poll: self.poll,
        }
    }

    fn from_stored(stored: StoredOutboxEntry<'static>) -> Self {
        Self {
            id: stored.id,
            channel: stored.channel,
            event: stored.event.into(),
            attempts: stored.attempts,
            last_error: stored.last_error,
            created_at: stored.created_at,
            next_attempt_at: stored.next_attempt_at,
            poll: stored.poll,
        }
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct StoredDeadLetter<'a> {
    entry: StoredOutboxEntry<'a>,
    #[serde(with = "time::serde::rfc3339")]
    died_at: OffsetDateTime,
    reason: String,
}

impl Record for DeadLetter {
    const WHAT: &'static str = "dead letter";
    type Stored<'a> = StoredDeadLetter<'a>;

    fn to_stored(&self) -> StoredDeadLetter<'_> {
        StoredDeadLetter {
            entry: self.entry.to_stored(),
            died_at: self.died_at,
            reason: self.reason.clone(),
        }
    }

    fn from_stored(stored: StoredDeadLetter<'static>) -> Self {
        Self {
            entry: OutboxEntry::from_stored(stored.entry),
            died_at: stored.died_at,
            reason: stored.reason,
        }
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct StoredDisabledChannel {
    fingerprint: String,
    #[serde(with = "time::serde::rfc3339")]
    disabled_at: OffsetDateTime,
    reason: String,
}

impl Record for DisabledChannel {
    const WHAT: &'static str = "channel";
    type Stored<'a> = StoredDisabledChannel;

    fn to_stored(&self) -> StoredDisabledChannel {
        StoredDisabledChannel {
            fingerprint: self.fingerprint.clone(),
            disabled_at: self.disabled_at,
            reason: self.reason.clone(),
        }
    }

    fn from_stored(stored: StoredDisabledChannel) -> Self {
        Self {
            fingerprint: stored.fingerprint,
            disabled_at: stored.disabled_at,
            reason: stored.reason,
        }
    }
}

/// The key of the channels' fingerprints: `meta/fingerprint-key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FingerprintKey(pub(crate) Vec<u8>);

#[derive(Serialize, Deserialize)]
pub(crate) struct StoredFingerprintKey {
    /// The key, in hexadecimal.
    key: String,
}

impl Record for FingerprintKey {
    const WHAT: &'static str = "fingerprint key";
    type Stored<'a> = StoredFingerprintKey;

    fn to_stored(&self) -> StoredFingerprintKey {
        StoredFingerprintKey {
            key: hex::encode(&self.0),
        }
    }

    fn from_stored(stored: StoredFingerprintKey) -> Self {
        // A damaged key reads as empty, and a new one is made.
        Self(hex::decode(&stored.key).unwrap_or_default())
    }
}

/// A webhook delivery acted on: `receipt/{digest}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReceiptRecord {
    pub(crate) digest: [u8; 32],
    pub(crate) at: OffsetDateTime,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct StoredReceipt {
    /// The SHA-256 of the delivery's body, in hexadecimal.
    digest: String,
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
}

impl Record for ReceiptRecord {
    const WHAT: &'static str = "receipt";
    type Stored<'a> = StoredReceipt;

    fn to_stored(&self) -> StoredReceipt {
        StoredReceipt {
            digest: hex::encode(self.digest),
            at: self.at,
        }
    }

    fn from_stored(stored: StoredReceipt) -> Self {
        // A damaged digest reads as zeros: it matches no delivery, and is forgotten in time.
        let mut digest = [0; 32];
        if hex::decode_to_slice(&stored.digest, &mut digest).is_err() {
            digest = [0; 32];
        }
        Self {
            digest,
            at: stored.at,
        }
    }
}

/// An event of a poll, kept for digests: `journal/{observed_at}{id}`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct JournalRecord {
    pub(crate) event: diff_engine::Event,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct StoredJournal<'a> {
    event: StoredEvent<'a>,
}

impl Record for JournalRecord {
    const WHAT: &'static str = "journal";
    type Stored<'a> = StoredJournal<'a>;

    fn to_stored(&self) -> StoredJournal<'_> {
        StoredJournal {
            event: (&self.event).into(),
        }
    }

    fn from_stored(stored: StoredJournal<'static>) -> Self {
        Self {
            event: stored.event.into(),
        }
    }
}

/// A digest's period sent (or passed over, with nothing to say): `digest/{name}\0{period_end}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DigestMark {
    pub(crate) period_end: OffsetDateTime,
    /// Whether it was sent; false for a period with nothing to say or the first start's.
    pub(crate) sent: bool,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct StoredDigestMark {
    #[serde(with = "time::serde::rfc3339")]
    period_end: OffsetDateTime,
    sent: bool,
}

impl Record for DigestMark {
    const WHAT: &'static str = "digest mark";
    type Stored<'a> = StoredDigestMark;

    fn to_stored(&self) -> StoredDigestMark {
        StoredDigestMark {
            period_end: self.period_end,
            sent: self.sent,
        }
    }

    fn from_stored(stored: StoredDigestMark) -> Self {
        Self {
            period_end: stored.period_end,
            sent: stored.sent,
        }
    }
}
