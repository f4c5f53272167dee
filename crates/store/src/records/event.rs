//! Events as the outbox records them, format 1: every field spelled out, states as text.

use diff_engine::{
    DeployOperation, DeployRequest, DeployState, Event, EventKind, LintError, OperationPhase,
    OperationState, PlanetScaleEvent, Severity, Workflow, WorkflowState, WorkflowTimes,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::digest::StoredDigest;

#[derive(Serialize, Deserialize)]
pub(crate) struct StoredEvent {
    id: String,
    #[serde(flatten)]
    kind: StoredEventKind,
    organization: String,
    database: String,
    severity: StoredSeverity,
    #[serde(with = "time::serde::rfc3339")]
    observed_at: OffsetDateTime,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum StoredSeverity {
    Info,
    Warning,
    Critical,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
enum StoredPhase {
    #[default]
    Deploy,
    Revert,
}

// The variants mirror the event types one to one (`workflow.state_changed` …), whose names all
// end alike.
#[allow(clippy::enum_variant_names)]
#[derive(Serialize, Deserialize)]
#[serde(tag = "type")]
enum StoredEventKind {
    #[serde(rename = "workflow.state_changed")]
    WorkflowStateChanged {
        previous_state: Option<String>,
        state: String,
        workflow: StoredWorkflow,
    },
    #[serde(rename = "workflow.errors_changed")]
    WorkflowErrorsChanged {
        errors: Option<String>,
        previous_errors: Option<String>,
        workflow: StoredWorkflow,
    },
    #[serde(rename = "deploy_request.state_changed")]
    DeployRequestStateChanged {
        previous_state: Option<String>,
        state: String,
        deploy_request: StoredDeployRequest,
    },
    #[serde(rename = "deploy_operation.state_changed")]
    DeployOperationStateChanged {
        previous_state: Option<String>,
        state: String,
        deploy_request_number: u64,
        #[serde(default)]
        phase: StoredPhase,
        operation: StoredOperation,
    },
    #[serde(rename = "deploy_operation.errors_changed")]
    DeployOperationErrorsChanged {
        errors: Option<String>,
        previous_errors: Option<String>,
        deploy_request_number: u64,
        #[serde(default)]
        phase: StoredPhase,
        operation: StoredOperation,
    },
    #[serde(rename = "deploy_request.awaiting_cutover")]
    DeployRequestAwaitingCutover {
        #[serde(with = "time::serde::rfc3339")]
        waiting_since: OffsetDateTime,
        reminder: u64,
        deploy_request: StoredDeployRequest,
    },
    #[serde(rename = "deploy_request.cutover_expiring")]
    DeployRequestCutoverExpiring { deploy_request: StoredDeployRequest },
    #[serde(rename = "deploy_request.queue_paused")]
    DeployRequestQueuePaused {
        queue_pause_reason: Option<String>,
        deploy_request: StoredDeployRequest,
    },
    #[serde(rename = "deploy_operation.stalled")]
    DeployOperationStalled {
        #[serde(with = "time::serde::rfc3339")]
        stalled_since: OffsetDateTime,
        deploy_request_number: u64,
        #[serde(default)]
        phase: StoredPhase,
        operation: StoredOperation,
    },
    /// A backup's change of state.
    #[serde(rename = "backup.state_changed")]
    BackupStateChanged {
        previous_state: Option<String>,
        state: String,
        #[serde(default)]
        recovers: bool,
        backup: StoredBackup,
    },
    /// A resize's change of state.
    #[serde(rename = "resize.state_changed")]
    ResizeStateChanged {
        previous_state: Option<String>,
        state: String,
        resize: StoredResize,
    },
    /// A new schema recommendation.
    #[serde(rename = "schema_recommendation.opened")]
    SchemaRecommendationOpened {
        recommendation: StoredRecommendation,
    },
    /// A schema recommendation closed.
    #[serde(rename = "schema_recommendation.closed")]
    SchemaRecommendationClosed {
        previous_state: String,
        recommendation: StoredRecommendation,
    },
    /// A maintenance window scheduled or moved.
    #[serde(rename = "maintenance.scheduled")]
    MaintenanceScheduled {
        previous_window: Option<String>,
        schedule: StoredMaintenance,
    },
    /// A maintenance window started.
    #[serde(rename = "maintenance.started")]
    MaintenanceStarted { schedule: StoredMaintenance },
    /// A maintenance window is over.
    #[serde(rename = "maintenance.finished")]
    MaintenanceFinished { schedule: StoredMaintenance },
    /// A digest of a period.
    #[serde(rename = "pswatch.digest")]
    Digest { digest: StoredDigest },
    /// One of PlanetScale's own events; an event name this build does not route makes the
    /// record unreadable (quarantined), never misread.
    #[serde(rename = "planetscale")]
    PlanetScale {
        event: PlanetScaleEvent,
        resource: serde_json::Value,
    },
}

#[derive(Serialize, Deserialize)]
struct StoredWorkflow {
    id: String,
    number: u64,
    name: String,
    state: String,
    workflow_errors: Option<String>,
    source_keyspace: Option<String>,
    target_keyspace: Option<String>,
    branch: Option<String>,
    actor: Option<String>,
    cutover_by: Option<String>,
    updated_at: Option<String>,
    // When it reached each phase; absent when no time is known, so older records keep their
    // bytes.
    #[serde(default, skip_serializing_if = "StoredTimes::is_empty")]
    times: StoredTimes,
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

#[derive(Serialize, Deserialize)]
struct StoredDeployRequest {
    id: String,
    number: u64,
    state: String,
    deployment_state: String,
    branch: Option<String>,
    into_branch: Option<String>,
    html_url: Option<String>,
    actor: Option<String>,
    closed_by: Option<String>,
    #[serde(default)]
    auto_cutover: Option<bool>,
    #[serde(default)]
    lint_errors: Vec<StoredLintError>,
    #[serde(default)]
    deploy_check_errors: Option<String>,
    // Written only when the API gave them, so records of earlier versions keep their bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ready_to_cutover_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cutover_expiring: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    queue_paused: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    queue_pause_reason: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct StoredLintError {
    lint_error: Option<String>,
    keyspace_name: Option<String>,
    table_name: Option<String>,
    error_description: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct StoredOperation {
    id: String,
    state: String,
    keyspace_name: Option<String>,
    table_name: Option<String>,
    operation_name: Option<String>,
    ddl_statement: Option<String>,
    deploy_errors: Option<String>,
    deploy_error_docs_url: Option<String>,
    progress_percentage: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    eta_seconds: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    revert_errors: Option<String>,
}

impl From<&Workflow> for StoredWorkflow {
    fn from(workflow: &Workflow) -> Self {
        Self {
            id: workflow.id.clone(),
            number: workflow.number,
            name: workflow.name.clone(),
            state: workflow.state.as_str().to_owned(),
            workflow_errors: workflow.workflow_errors.clone(),
            source_keyspace: workflow.source_keyspace.clone(),
            target_keyspace: workflow.target_keyspace.clone(),
            branch: workflow.branch.clone(),
            actor: workflow.actor.clone(),
            cutover_by: workflow.cutover_by.clone(),
            updated_at: workflow.updated_at.clone(),
            times: StoredTimes::from(&workflow.times),
        }
    }
}

impl From<StoredWorkflow> for Workflow {
    fn from(stored: StoredWorkflow) -> Self {
        Self {
            id: stored.id,
            number: stored.number,
            name: stored.name,
            state: WorkflowState::parse(&stored.state),
            workflow_errors: stored.workflow_errors,
            source_keyspace: stored.source_keyspace,
            target_keyspace: stored.target_keyspace,
            branch: stored.branch,
            actor: stored.actor,
            cutover_by: stored.cutover_by,
            updated_at: stored.updated_at,
            times: stored.times.into(),
        }
    }
}

impl From<&DeployRequest> for StoredDeployRequest {
    fn from(request: &DeployRequest) -> Self {
        Self {
            id: request.id.clone(),
            number: request.number,
            state: request.state.clone(),
            deployment_state: request.deployment_state.as_str().to_owned(),
            branch: request.branch.clone(),
            into_branch: request.into_branch.clone(),
            html_url: request.html_url.clone(),
            actor: request.actor.clone(),
            closed_by: request.closed_by.clone(),
            auto_cutover: request.auto_cutover,
            lint_errors: request
                .lint_errors
                .iter()
                .map(|lint| StoredLintError {
                    lint_error: lint.lint_error.clone(),
                    keyspace_name: lint.keyspace_name.clone(),
                    table_name: lint.table_name.clone(),
                    error_description: lint.error_description.clone(),
                })
                .collect(),
            deploy_check_errors: request.deploy_check_errors.clone(),
            ready_to_cutover_at: request.ready_to_cutover_at.clone(),
            cutover_expiring: request.cutover_expiring,
            queue_paused: request.queue_paused,
            queue_pause_reason: request.queue_pause_reason.clone(),
        }
    }
}

impl From<StoredDeployRequest> for DeployRequest {
    fn from(stored: StoredDeployRequest) -> Self {
        Self {
            id: stored.id,
            number: stored.number,
            state: stored.state,
            deployment_state: DeployState::parse(&stored.deployment_state),
            branch: stored.branch,
            into_branch: stored.into_branch,
            html_url: stored.html_url,
            actor: stored.actor,
            closed_by: stored.closed_by,
            auto_cutover: stored.auto_cutover,
            lint_errors: stored
                .lint_errors
                .into_iter()
                .map(|lint| LintError {
                    lint_error: lint.lint_error,
                    keyspace_name: lint.keyspace_name,
                    table_name: lint.table_name,
                    error_description: lint.error_description,
                })
                .collect(),
            deploy_check_errors: stored.deploy_check_errors,
            ready_to_cutover_at: stored.ready_to_cutover_at,
            cutover_expiring: stored.cutover_expiring,
            queue_paused: stored.queue_paused,
            queue_pause_reason: stored.queue_pause_reason,
        }
    }
}

impl From<&DeployOperation> for StoredOperation {
    fn from(operation: &DeployOperation) -> Self {
        Self {
            id: operation.id.clone(),
            state: operation.state.as_str().to_owned(),
            keyspace_name: operation.keyspace_name.clone(),
            table_name: operation.table_name.clone(),
            operation_name: operation.operation_name.clone(),
            ddl_statement: operation.ddl_statement.clone(),
            deploy_errors: operation.deploy_errors.clone(),
            deploy_error_docs_url: operation.deploy_error_docs_url.clone(),
            progress_percentage: operation.progress_percentage,
            eta_seconds: operation.eta_seconds,
            revert_errors: operation.revert_errors.clone(),
        }
    }
}

impl From<StoredOperation> for DeployOperation {
    fn from(stored: StoredOperation) -> Self {
        Self {
            id: stored.id,
            state: OperationState::parse(&stored.state),
            keyspace_name: stored.keyspace_name,
            table_name: stored.table_name,
            operation_name: stored.operation_name,
            ddl_statement: stored.ddl_statement,
            deploy_errors: stored.deploy_errors,
            deploy_error_docs_url: stored.deploy_error_docs_url,
            progress_percentage: stored.progress_percentage,
            eta_seconds: stored.eta_seconds,
            revert_errors: stored.revert_errors,
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

impl From<&EventKind> for StoredEventKind {
    fn from(kind: &EventKind) -> Self {
        let text = |state: &str| state.to_owned();
        match kind {
            EventKind::WorkflowStateChanged {
                previous_state,
                state,
                workflow,
            } => Self::WorkflowStateChanged {
                previous_state: previous_state.as_ref().map(|state| text(state.as_str())),
                state: text(state.as_str()),
                workflow: workflow.into(),
            },
            EventKind::WorkflowErrorsChanged {
                errors,
                previous_errors,
                workflow,
            } => Self::WorkflowErrorsChanged {
                errors: errors.clone(),
                previous_errors: previous_errors.clone(),
                workflow: workflow.into(),
            },
            EventKind::DeployRequestStateChanged {
                previous_state,
                state,
                deploy_request,
            } => Self::DeployRequestStateChanged {
                previous_state: previous_state.as_ref().map(|state| text(state.as_str())),
                state: text(state.as_str()),
                deploy_request: deploy_request.into(),
            },
            EventKind::DeployOperationStateChanged {
                previous_state,
                state,
                deploy_request_number,
                phase,
                operation,
            } => Self::DeployOperationStateChanged {
                previous_state: previous_state.as_ref().map(|state| text(state.as_str())),
                state: text(state.as_str()),
                deploy_request_number: *deploy_request_number,
                phase: (*phase).into(),
                operation: operation.into(),
            },
            EventKind::DeployOperationErrorsChanged {
                errors,
                previous_errors,
                deploy_request_number,
                phase,
                operation,
            } => Self::DeployOperationErrorsChanged {
                errors: errors.clone(),
                previous_errors: previous_errors.clone(),
                deploy_request_number: *deploy_request_number,
                phase: (*phase).into(),
                operation: operation.into(),
            },
            EventKind::DeployRequestAwaitingCutover {
                waiting_since,
                reminder,
                deploy_request,
            } => Self::DeployRequestAwaitingCutover {
                waiting_since: *waiting_since,
                reminder: *reminder,
                deploy_request: deploy_request.into(),
            },
            EventKind::DeployRequestCutoverExpiring { deploy_request } => {
                Self::DeployRequestCutoverExpiring {
                    deploy_request: deploy_request.into(),
                }
            }
            EventKind::DeployRequestQueuePaused {
                queue_pause_reason,
                deploy_request,
            } => Self::DeployRequestQueuePaused {
                queue_pause_reason: queue_pause_reason.clone(),
                deploy_request: deploy_request.into(),
            },
            EventKind::DeployOperationStalled {
                stalled_since,
                deploy_request_number,
                phase,
                operation,
            } => Self::DeployOperationStalled {
                stalled_since: *stalled_since,
                deploy_request_number: *deploy_request_number,
                phase: (*phase).into(),
                operation: operation.into(),
            },
            EventKind::Digest { digest } => Self::Digest {
                digest: digest.into(),
            },
            EventKind::MaintenanceScheduled {
                previous_window,
                schedule,
            } => Self::MaintenanceScheduled {
                previous_window: previous_window.clone(),
                schedule: schedule.into(),
            },
            EventKind::MaintenanceStarted { schedule } => Self::MaintenanceStarted {
                schedule: schedule.into(),
            },
            EventKind::MaintenanceFinished { schedule } => Self::MaintenanceFinished {
                schedule: schedule.into(),
            },
            EventKind::SchemaRecommendationOpened { recommendation } => {
                Self::SchemaRecommendationOpened {
                    recommendation: recommendation.into(),
                }
            }
            EventKind::SchemaRecommendationClosed {
                previous_state,
                recommendation,
            } => Self::SchemaRecommendationClosed {
                previous_state: previous_state.clone(),
                recommendation: recommendation.into(),
            },
            EventKind::ResizeStateChanged {
                previous_state,
                state,
                resize,
            } => Self::ResizeStateChanged {
                previous_state: previous_state.clone(),
                state: state.clone(),
                resize: StoredResize::from(resize),
            },
            EventKind::BackupStateChanged {
                previous_state,
                state,
                recovers,
                backup,
            } => Self::BackupStateChanged {
                previous_state: previous_state.clone(),
                state: state.clone(),
                recovers: *recovers,
                backup: StoredBackup {
                    id: backup.id.clone(),
                    name: backup.name.clone(),
                    branch: backup.branch.clone(),
                    state: backup.state.clone(),
                    size: backup.size,
                    started_at: backup.started_at.clone(),
                    completed_at: backup.completed_at.clone(),
                },
            },
            EventKind::PlanetScale { event, resource } => Self::PlanetScale {
                event: *event,
                resource: resource.clone(),
            },
        }
    }
}

impl From<StoredEventKind> for EventKind {
    fn from(stored: StoredEventKind) -> Self {
        match stored {
            StoredEventKind::WorkflowStateChanged {
                previous_state,
                state,
                workflow,
            } => Self::WorkflowStateChanged {
                previous_state: previous_state.as_deref().map(WorkflowState::parse),
                state: WorkflowState::parse(&state),
                workflow: workflow.into(),
            },
            StoredEventKind::WorkflowErrorsChanged {
                errors,
                previous_errors,
                workflow,
            } => Self::WorkflowErrorsChanged {
                errors,
                previous_errors,
                workflow: workflow.into(),
            },
            StoredEventKind::DeployRequestStateChanged {
                previous_state,
                state,
                deploy_request,
            } => Self::DeployRequestStateChanged {
                previous_state: previous_state.as_deref().map(DeployState::parse),
                state: DeployState::parse(&state),
                deploy_request: deploy_request.into(),
            },
            StoredEventKind::DeployOperationStateChanged {
                previous_state,
                state,
                deploy_request_number,
                phase,
                operation,
            } => Self::DeployOperationStateChanged {
                previous_state: previous_state.as_deref().map(OperationState::parse),
                state: OperationState::parse(&state),
                deploy_request_number,
                phase: phase.into(),
                operation: operation.into(),
            },
            StoredEventKind::DeployOperationErrorsChanged {
                errors,
                previous_errors,
                deploy_request_number,
                phase,
                operation,
            } => Self::DeployOperationErrorsChanged {
                errors,
                previous_errors,
                deploy_request_number,
                phase: phase.into(),
                operation: operation.into(),
            },
            StoredEventKind::DeployRequestAwaitingCutover {
                waiting_since,
                reminder,
                deploy_request,
            } => Self::DeployRequestAwaitingCutover {
                waiting_since,
                reminder,
                deploy_request: deploy_request.into(),
            },
            StoredEventKind::DeployRequestCutoverExpiring { deploy_request } => {
                Self::DeployRequestCutoverExpiring {
                    deploy_request: deploy_request.into(),
                }
            }
            StoredEventKind::DeployRequestQueuePaused {
                queue_pause_reason,
                deploy_request,
            } => Self::DeployRequestQueuePaused {
                queue_pause_reason,
                deploy_request: deploy_request.into(),
            },
            StoredEventKind::DeployOperationStalled {
                stalled_since,
                deploy_request_number,
                phase,
                operation,
            } => Self::DeployOperationStalled {
                stalled_since,
                deploy_request_number,
                phase: phase.into(),
                operation: operation.into(),
            },
            StoredEventKind::PlanetScale { event, resource } => {
                Self::PlanetScale { event, resource }
            }
            StoredEventKind::Digest { digest } => Self::Digest {
                digest: digest.into(),
            },
            StoredEventKind::MaintenanceScheduled {
                previous_window,
                schedule,
            } => Self::MaintenanceScheduled {
                previous_window,
                schedule: schedule.into(),
            },
            StoredEventKind::MaintenanceStarted { schedule } => Self::MaintenanceStarted {
                schedule: schedule.into(),
            },
            StoredEventKind::MaintenanceFinished { schedule } => Self::MaintenanceFinished {
                schedule: schedule.into(),
            },
            StoredEventKind::SchemaRecommendationOpened { recommendation } => {
                Self::SchemaRecommendationOpened {
                    recommendation: recommendation.into(),
                }
            }
            StoredEventKind::SchemaRecommendationClosed {
                previous_state,
                recommendation,
            } => Self::SchemaRecommendationClosed {
                previous_state,
                recommendation: recommendation.into(),
            },
            StoredEventKind::ResizeStateChanged {
                previous_state,
                state,
                resize,
            } => Self::ResizeStateChanged {
                previous_state,
                state,
                resize: resize.into(),
            },
            StoredEventKind::BackupStateChanged {
                previous_state,
                state,
                recovers,
                backup,
            } => Self::BackupStateChanged {
                previous_state,
                state,
                recovers,
                backup: diff_engine::Backup {
                    id: backup.id,
                    name: backup.name,
                    branch: backup.branch,
                    state: backup.state,
                    size: backup.size,
                    started_at: backup.started_at,
                    completed_at: backup.completed_at,
                },
            },
        }
    }
}

impl From<&Event> for StoredEvent {
    fn from(event: &Event) -> Self {
        Self {
            id: event.id.clone(),
            kind: (&event.kind).into(),
            organization: event.organization.clone(),
            database: event.database.clone(),
            severity: match event.severity {
                Severity::Info => StoredSeverity::Info,
                Severity::Warning => StoredSeverity::Warning,
                Severity::Critical => StoredSeverity::Critical,
            },
            observed_at: event.observed_at,
        }
    }
}

impl From<StoredEvent> for Event {
    fn from(stored: StoredEvent) -> Self {
        Self {
            id: stored.id,
            kind: stored.kind.into(),
            organization: stored.organization,
            database: stored.database,
            severity: match stored.severity {
                StoredSeverity::Info => Severity::Info,
                StoredSeverity::Warning => Severity::Warning,
                StoredSeverity::Critical => Severity::Critical,
            },
            observed_at: stored.observed_at,
        }
    }
}

/// A backup, as stored.
#[derive(Serialize, Deserialize)]
struct StoredBackup {
    id: String,
    name: String,
    branch: String,
    state: String,
    size: Option<u64>,
    started_at: Option<String>,
    completed_at: Option<String>,
}

/// A resize, as stored.
#[derive(Serialize, Deserialize)]
struct StoredResize {
    id: String,
    branch: String,
    keyspace: Option<String>,
    state: String,
    previous_cluster_name: Option<String>,
    cluster_name: Option<String>,
    previous_replicas: Option<u64>,
    replicas: Option<u64>,
    previous_maximum_storage_bytes: Option<u64>,
    maximum_storage_bytes: Option<u64>,
    started_at: Option<String>,
    completed_at: Option<String>,
}

impl From<&diff_engine::Resize> for StoredResize {
    fn from(resize: &diff_engine::Resize) -> Self {
        Self {
            id: resize.id.clone(),
            branch: resize.branch.clone(),
            keyspace: resize.keyspace.clone(),
            state: resize.state.clone(),
            previous_cluster_name: resize.previous_cluster_name.clone(),
            cluster_name: resize.cluster_name.clone(),
            previous_replicas: resize.previous_replicas,
            replicas: resize.replicas,
            previous_maximum_storage_bytes: resize.previous_maximum_storage_bytes,
            maximum_storage_bytes: resize.maximum_storage_bytes,
            started_at: resize.started_at.clone(),
            completed_at: resize.completed_at.clone(),
        }
    }
}

impl From<StoredResize> for diff_engine::Resize {
    fn from(stored: StoredResize) -> Self {
        Self {
            id: stored.id,
            branch: stored.branch,
            keyspace: stored.keyspace,
            state: stored.state,
            previous_cluster_name: stored.previous_cluster_name,
            cluster_name: stored.cluster_name,
            previous_replicas: stored.previous_replicas,
            replicas: stored.replicas,
            previous_maximum_storage_bytes: stored.previous_maximum_storage_bytes,
            maximum_storage_bytes: stored.maximum_storage_bytes,
            started_at: stored.started_at,
            completed_at: stored.completed_at,
        }
    }
}

/// A schema recommendation, as stored.
#[derive(Serialize, Deserialize)]
struct StoredRecommendation {
    id: String,
    number: u64,
    title: String,
    table_name: Option<String>,
    keyspace: Option<String>,
    ddl_statement: Option<String>,
    recommendation_type: Option<String>,
    state: String,
    html_url: Option<String>,
}

impl From<&diff_engine::SchemaRecommendation> for StoredRecommendation {
    fn from(recommendation: &diff_engine::SchemaRecommendation) -> Self {
        Self {
            id: recommendation.id.clone(),
            number: recommendation.number,
            title: recommendation.title.clone(),
            table_name: recommendation.table_name.clone(),
            keyspace: recommendation.keyspace.clone(),
            ddl_statement: recommendation.ddl_statement.clone(),
            recommendation_type: recommendation.recommendation_type.clone(),
            state: recommendation.state.clone(),
            html_url: recommendation.html_url.clone(),
        }
    }
}

impl From<StoredRecommendation> for diff_engine::SchemaRecommendation {
    fn from(stored: StoredRecommendation) -> Self {
        Self {
            id: stored.id,
            number: stored.number,
            title: stored.title,
            table_name: stored.table_name,
            keyspace: stored.keyspace,
            ddl_statement: stored.ddl_statement,
            recommendation_type: stored.recommendation_type,
            state: stored.state,
            html_url: stored.html_url,
        }
    }
}

/// A maintenance schedule, as stored.
#[derive(Serialize, Deserialize)]
struct StoredMaintenance {
    id: String,
    name: String,
    next_window_datetime: Option<String>,
    last_window_datetime: Option<String>,
    duration_hours: Option<u64>,
    required: bool,
    deadline_at: Option<String>,
    pending_vitess_version: Option<String>,
    pending_mysql_version: Option<String>,
}

impl From<&diff_engine::MaintenanceSchedule> for StoredMaintenance {
    fn from(schedule: &diff_engine::MaintenanceSchedule) -> Self {
        Self {
            id: schedule.id.clone(),
            name: schedule.name.clone(),
            next_window_datetime: schedule.next_window_datetime.clone(),
            last_window_datetime: schedule.last_window_datetime.clone(),
            duration_hours: schedule.duration_hours,
            required: schedule.required,
            deadline_at: schedule.deadline_at.clone(),
            pending_vitess_version: schedule.pending_vitess_version.clone(),
            pending_mysql_version: schedule.pending_mysql_version.clone(),
        }
    }
}

impl From<StoredMaintenance> for diff_engine::MaintenanceSchedule {
    fn from(stored: StoredMaintenance) -> Self {
        Self {
            id: stored.id,
            name: stored.name,
            next_window_datetime: stored.next_window_datetime,
            last_window_datetime: stored.last_window_datetime,
            duration_hours: stored.duration_hours,
            required: stored.required,
            deadline_at: stored.deadline_at,
            pending_vitess_version: stored.pending_vitess_version,
            pending_mysql_version: stored.pending_mysql_version,
        }
    }
}
