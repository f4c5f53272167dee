//! Events as the outbox records them, format 1: every field spelled out, states as text.

use diff_engine::{
    DeployState, Event, EventKind, OperationState, PlanetScaleEvent, Severity, WorkflowState,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::digest::StoredDigest;
pub(super) use super::workflow::StoredTimes;
use super::workflow::{StoredPhase, StoredWorkflow};

#[derive(Serialize, Deserialize)]
pub(crate) struct StoredEvent<'a> {
    id: String,
    #[serde(flatten)]
    kind: StoredEventKind<'a>,
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

// The variants mirror the event types one to one (`workflow.state_changed` …), whose names all
// end alike.
#[allow(clippy::enum_variant_names)]
#[derive(Serialize, Deserialize)]
#[serde(tag = "type")]
enum StoredEventKind<'a> {
    #[serde(rename = "workflow.state_changed")]
    WorkflowStateChanged {
        previous_state: Option<String>,
        state: String,
        workflow: StoredWorkflow<'a>,
    },
    #[serde(rename = "workflow.errors_changed")]
    WorkflowErrorsChanged {
        errors: Option<String>,
        previous_errors: Option<String>,
        workflow: StoredWorkflow<'a>,
    },
    #[serde(rename = "deploy_request.state_changed")]
    DeployRequestStateChanged {
        previous_state: Option<String>,
        state: String,
        deploy_request: wire::DeployRequest<'a>,
    },
    #[serde(rename = "deploy_operation.state_changed")]
    DeployOperationStateChanged {
        previous_state: Option<String>,
        state: String,
        deploy_request_number: u64,
        #[serde(default)]
        phase: StoredPhase,
        operation: wire::Operation<'a>,
    },
    #[serde(rename = "deploy_operation.errors_changed")]
    DeployOperationErrorsChanged {
        errors: Option<String>,
        previous_errors: Option<String>,
        deploy_request_number: u64,
        #[serde(default)]
        phase: StoredPhase,
        operation: wire::Operation<'a>,
    },
    #[serde(rename = "deploy_request.awaiting_cutover")]
    DeployRequestAwaitingCutover {
        #[serde(with = "time::serde::rfc3339")]
        waiting_since: OffsetDateTime,
        reminder: u64,
        deploy_request: wire::DeployRequest<'a>,
    },
    #[serde(rename = "deploy_request.cutover_expiring")]
    DeployRequestCutoverExpiring {
        deploy_request: wire::DeployRequest<'a>,
    },
    #[serde(rename = "deploy_request.queue_paused")]
    DeployRequestQueuePaused {
        queue_pause_reason: Option<String>,
        deploy_request: wire::DeployRequest<'a>,
    },
    #[serde(rename = "deploy_operation.stalled")]
    DeployOperationStalled {
        #[serde(with = "time::serde::rfc3339")]
        stalled_since: OffsetDateTime,
        deploy_request_number: u64,
        #[serde(default)]
        phase: StoredPhase,
        operation: wire::Operation<'a>,
    },
    /// A backup's change of state.
    #[serde(rename = "backup.state_changed")]
    BackupStateChanged {
        previous_state: Option<String>,
        state: String,
        #[serde(default)]
        recovers: bool,
        backup: wire::Backup<'a>,
    },
    /// A resize's change of state.
    #[serde(rename = "resize.state_changed")]
    ResizeStateChanged {
        previous_state: Option<String>,
        state: String,
        resize: wire::Resize<'a>,
    },
    /// A new schema recommendation.
    #[serde(rename = "schema_recommendation.opened")]
    SchemaRecommendationOpened {
        recommendation: wire::Recommendation<'a>,
    },
    /// A schema recommendation closed.
    #[serde(rename = "schema_recommendation.closed")]
    SchemaRecommendationClosed {
        previous_state: String,
        recommendation: wire::Recommendation<'a>,
    },
    /// A maintenance window scheduled or moved.
    #[serde(rename = "maintenance.scheduled")]
    MaintenanceScheduled {
        previous_window: Option<String>,
        schedule: wire::Maintenance<'a>,
    },
    /// A maintenance window started.
    #[serde(rename = "maintenance.started")]
    MaintenanceStarted { schedule: wire::Maintenance<'a> },
    /// A maintenance window is over.
    #[serde(rename = "maintenance.finished")]
    MaintenanceFinished { schedule: wire::Maintenance<'a> },
    #[serde(rename = "deploy_request.blocked")]
    DeployRequestBlocked {
        locked_table: Option<String>,
        deploy_request: wire::DeployRequest<'a>,
    },
    #[serde(rename = "deploy_request.revert_window_closing")]
    DeployRequestRevertWindowClosing {
        #[serde(with = "time::serde::rfc3339")]
        closes_at: OffsetDateTime,
        deploy_request: wire::DeployRequest<'a>,
    },
    /// A timer's firing.
    #[serde(rename = "timer.fired")]
    TimerFired {
        timer: String,
        state: String,
        #[serde(with = "time::serde::rfc3339")]
        since: OffsetDateTime,
        firing: u64,
        escalated: bool,
        subject: super::timer::StoredTimerSubject<'a>,
    },
    /// A digest of a period.
    #[serde(rename = "pswatch.digest")]
    Digest { digest: StoredDigest },
    /// One of PlanetScale's own events; an event name this build does not route makes the
    /// record unreadable (quarantined), never misread.
    #[serde(rename = "planetscale")]
    PlanetScale {
        event: StoredPlanetScaleEvent,
        resource: serde_json::Value,
    },
}

/// One of PlanetScale's own events, by its name; a name this build does not route makes the
/// record unreadable (quarantined), never misread.
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
struct StoredPlanetScaleEvent(PlanetScaleEvent);

impl TryFrom<String> for StoredPlanetScaleEvent {
    type Error = <PlanetScaleEvent as TryFrom<String>>::Error;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        PlanetScaleEvent::try_from(name).map(Self)
    }
}

impl From<StoredPlanetScaleEvent> for String {
    fn from(event: StoredPlanetScaleEvent) -> Self {
        event.0.into()
    }
}

impl<'a> From<&'a EventKind> for StoredEventKind<'a> {
    fn from(kind: &'a EventKind) -> Self {
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
            EventKind::DeployRequestBlocked {
                locked_table,
                deploy_request,
            } => Self::DeployRequestBlocked {
                locked_table: locked_table.clone(),
                deploy_request: deploy_request.into(),
            },
            EventKind::DeployRequestRevertWindowClosing {
                closes_at,
                deploy_request,
            } => Self::DeployRequestRevertWindowClosing {
                closes_at: *closes_at,
                deploy_request: deploy_request.into(),
            },
            EventKind::TimerFired {
                timer,
                state,
                since,
                firing,
                escalated,
                subject,
            } => Self::TimerFired {
                timer: timer.clone(),
                state: state.clone(),
                since: *since,
                firing: *firing,
                escalated: *escalated,
                subject: subject.into(),
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
                resize: resize.into(),
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
                backup: backup.into(),
            },
            EventKind::PlanetScale { event, resource } => Self::PlanetScale {
                event: StoredPlanetScaleEvent(*event),
                resource: resource.clone(),
            },
        }
    }
}

impl From<StoredEventKind<'_>> for EventKind {
    fn from(stored: StoredEventKind<'_>) -> Self {
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
            StoredEventKind::PlanetScale { event, resource } => Self::PlanetScale {
                event: event.0,
                resource,
            },
            StoredEventKind::Digest { digest } => Self::Digest {
                digest: digest.into(),
            },
            StoredEventKind::DeployRequestBlocked {
                locked_table,
                deploy_request,
            } => Self::DeployRequestBlocked {
                locked_table,
                deploy_request: deploy_request.into(),
            },
            StoredEventKind::DeployRequestRevertWindowClosing {
                closes_at,
                deploy_request,
            } => Self::DeployRequestRevertWindowClosing {
                closes_at,
                deploy_request: deploy_request.into(),
            },
            StoredEventKind::TimerFired {
                timer,
                state,
                since,
                firing,
                escalated,
                subject,
            } => Self::TimerFired {
                timer,
                state,
                since,
                firing,
                escalated,
                subject: subject.into(),
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
                backup: backup.into(),
            },
        }
    }
}

impl<'a> From<&'a Event> for StoredEvent<'a> {
    fn from(event: &'a Event) -> Self {
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

impl From<StoredEvent<'_>> for Event {
    fn from(stored: StoredEvent<'_>) -> Self {
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
