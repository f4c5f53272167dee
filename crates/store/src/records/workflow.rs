//! A workflow as events and timers keep it (its shape and phase times), and an operation's
//! phase.

use diff_engine::{OperationPhase, Workflow, WorkflowTimes};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub(super) enum StoredPhase {
    #[default]
    Deploy,
    Revert,
}

/// A workflow: its shape, then its phase times, each only when the API gave it (records of
/// earlier versions keep their bytes).
#[derive(Serialize, Deserialize)]
pub(super) struct StoredWorkflow<'a> {
    #[serde(flatten)]
    workflow: wire::Workflow<'a>,
    #[serde(default, skip_serializing_if = "StoredTimes::is_empty")]
    times: StoredTimes,
}

impl<'a> From<&'a Workflow> for StoredWorkflow<'a> {
    fn from(workflow: &'a Workflow) -> Self {
        Self {
            workflow: workflow.into(),
            times: StoredTimes::from(&workflow.times),
        }
    }
}

impl From<StoredWorkflow<'_>> for Workflow {
    fn from(stored: StoredWorkflow<'_>) -> Self {
        stored.workflow.into_core(stored.times.into())
    }
}

/// A workflow's phase times (`diff_engine::WorkflowTimes`), as the API wrote them.
#[derive(Serialize, Deserialize, Default, PartialEq)]
pub(crate) struct StoredTimes {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    started_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    data_copy_completed_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    switch_replicas_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    switch_primaries_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cutover_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    completed_at: Option<String>,
}

impl StoredTimes {
    pub(crate) fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

impl From<&WorkflowTimes> for StoredTimes {
    fn from(times: &WorkflowTimes) -> Self {
        Self {
            started_at: times.started_at.clone(),
            data_copy_completed_at: times.data_copy_completed_at.clone(),
            switch_replicas_at: times.switch_replicas_at.clone(),
            switch_primaries_at: times.switch_primaries_at.clone(),
            cutover_at: times.cutover_at.clone(),
            completed_at: times.completed_at.clone(),
        }
    }
}

impl From<StoredTimes> for WorkflowTimes {
    fn from(stored: StoredTimes) -> Self {
        Self {
            started_at: stored.started_at,
            data_copy_completed_at: stored.data_copy_completed_at,
            switch_replicas_at: stored.switch_replicas_at,
            switch_primaries_at: stored.switch_primaries_at,
            cutover_at: stored.cutover_at,
            completed_at: stored.completed_at,
        }
    }
}

impl From<OperationPhase> for StoredPhase {
    fn from(phase: OperationPhase) -> Self {
        match phase {
            OperationPhase::Deploy => Self::Deploy,
            OperationPhase::Revert => Self::Revert,
        }
    }
}

impl From<StoredPhase> for OperationPhase {
    fn from(phase: StoredPhase) -> Self {
        match phase {
            StoredPhase::Deploy => Self::Deploy,
            StoredPhase::Revert => Self::Revert,
        }
    }
}
