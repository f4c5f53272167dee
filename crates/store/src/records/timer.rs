//! What `[[timers]]` keep: the clocks in a target's state, and the resource of a
//! `timer.fired` in the outbox, tagged by its kind.

use std::collections::BTreeMap;

use diff_engine::{TimerClock, TimerSubject};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::workflow::{StoredPhase, StoredWorkflow};

/// A timer clock: the state, since when, and the latest firing of each timer.
#[derive(Serialize, Deserialize)]
pub(super) struct StoredTimerClock {
    state: String,
    #[serde(with = "time::serde::rfc3339")]
    since: OffsetDateTime,
    fired: BTreeMap<String, u64>,
}

/// The clocks of a state, as stored.
pub(super) fn stored_clocks(
    clocks: &BTreeMap<String, TimerClock>,
) -> BTreeMap<String, StoredTimerClock> {
    clocks
        .iter()
        .map(|(key, clock)| {
            (
                key.clone(),
                StoredTimerClock {
                    state: clock.state.clone(),
                    since: clock.since,
                    fired: clock.fired.clone(),
                },
            )
        })
        .collect()
}

/// The clocks of a state, as read back.
pub(super) fn clocks(stored: BTreeMap<String, StoredTimerClock>) -> BTreeMap<String, TimerClock> {
    stored
        .into_iter()
        .map(|(key, clock)| {
            (
                key,
                TimerClock {
                    state: clock.state,
                    since: clock.since,
                    fired: clock.fired,
                },
            )
        })
        .collect()
}

/// The resource a timer fired for, tagged by its kind.
#[derive(Serialize, Deserialize)]
#[serde(tag = "resource_kind", rename_all = "snake_case")]
pub(super) enum StoredTimerSubject<'a> {
    Workflow {
        workflow: StoredWorkflow<'a>,
    },
    DeployRequest {
        deploy_request: wire::DeployRequest<'a>,
    },
    DeployOperation {
        deploy_request_number: u64,
        #[serde(default)]
        phase: StoredPhase,
        operation: wire::Operation<'a>,
    },
    Backup {
        backup: wire::Backup<'a>,
    },
    Resize {
        resize: wire::Resize<'a>,
    },
}

impl<'a> From<&'a TimerSubject> for StoredTimerSubject<'a> {
    fn from(subject: &'a TimerSubject) -> Self {
        match subject {
            TimerSubject::Workflow(workflow) => Self::Workflow {
                workflow: workflow.into(),
            },
            TimerSubject::DeployRequest(request) => Self::DeployRequest {
                deploy_request: request.into(),
            },
            TimerSubject::DeployOperation {
                deploy_request_number,
                phase,
                operation,
            } => Self::DeployOperation {
                deploy_request_number: *deploy_request_number,
                phase: (*phase).into(),
                operation: operation.into(),
            },
            TimerSubject::Backup(backup) => Self::Backup {
                backup: backup.into(),
            },
            TimerSubject::Resize(resize) => Self::Resize {
                resize: resize.into(),
            },
        }
    }
}

impl From<StoredTimerSubject<'_>> for TimerSubject {
    fn from(stored: StoredTimerSubject<'_>) -> Self {
        match stored {
            StoredTimerSubject::Workflow { workflow } => Self::Workflow(workflow.into()),
            StoredTimerSubject::DeployRequest { deploy_request } => {
                Self::DeployRequest(deploy_request.into())
            }
            StoredTimerSubject::DeployOperation {
                deploy_request_number,
                phase,
                operation,
            } => Self::DeployOperation {
                deploy_request_number,
                phase: phase.into(),
                operation: operation.into(),
            },
            StoredTimerSubject::Backup { backup } => Self::Backup(backup.into()),
            StoredTimerSubject::Resize { resize } => Self::Resize(resize.into()),
        }
    }
}
