//! The webhook contract: the body every webhook receiver parses, owned here.
//!
//! The domain types are the diff engine's to change; what receivers parse is not. Each field a
//! receiver sees is spelled out below and filled from the domain types, so renaming a domain
//! field breaks this file at compile time instead of a receiver in production, and the
//! snapshots of `render.rs` pin the result. README.md's "Events" and "Webhooks" sections
//! describe it.

use diff_engine::{
    Backup, DatabaseDigest, DeployOperation, DeployRequest, Digest, DigestItem, Event, EventKind,
    LintError, Resize, Workflow, WorkflowTimes,
};
use serde::Serialize;

use model::rfc3339;

/// `{"type", "timestamp", "data"}`: one event, as Standard Webhooks frames it.
#[derive(Debug, Serialize)]
pub struct WebhookPayload<'a> {
    /// The event type, e.g. `workflow.state_changed`.
    #[serde(rename = "type")]
    pub event_type: &'static str,
    /// When the event was observed, RFC 3339.
    pub timestamp: String,
    /// The event.
    pub data: EventData<'a>,
    /// The title a template of the channel wrote for the event; absent without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<&'a str>,
    /// The text a template of the channel wrote for the event; absent without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<&'a str>,
}

impl<'a> WebhookPayload<'a> {
    /// The payload of `event`.
    pub fn new(event: &'a Event) -> Self {
        Self {
            event_type: event.type_name(),
            timestamp: rfc3339(event.observed_at),
            data: EventData::new(event),
            title: None,
            text: None,
        }
    }

    /// The payload of `event`, with the title and text a template wrote for it, if any.
    pub fn worded(event: &'a Event, words: &'a crate::words::Words) -> Self {
        Self {
            title: words.title(event),
            text: words.text(event),
            ..Self::new(event)
        }
    }
}

/// The event: its id, type and type's fields, where it happened, how loud it is, when.
#[derive(Debug, Serialize)]
pub struct EventData<'a> {
    id: &'a str,
    #[serde(flatten)]
    change: Change<'a>,
    organization: &'a str,
    database: &'a str,
    severity: &'static str,
    observed_at: String,
}

impl<'a> EventData<'a> {
    fn new(event: &'a Event) -> Self {
        Self {
            id: &event.id,
            change: Change::new(&event.kind),
            organization: &event.organization,
            database: &event.database,
            severity: event.severity.as_str(),
            observed_at: rfc3339(event.observed_at),
        }
    }
}

/// What changed: one variant per event type, tagged `type`.
#[derive(Debug, Serialize)]
#[serde(tag = "type")]
enum Change<'a> {
    #[serde(rename = "workflow.state_changed")]
    WorkflowState {
        previous_state: Option<&'a str>,
        state: &'a str,
        workflow: WorkflowData<'a>,
    },
    #[serde(rename = "workflow.errors_changed")]
    WorkflowErrors {
        errors: Option<&'a str>,
        previous_errors: Option<&'a str>,
        workflow: WorkflowData<'a>,
    },
    #[serde(rename = "deploy_request.state_changed")]
    DeployRequestState {
        previous_state: Option<&'a str>,
        state: &'a str,
        deploy_request: DeployRequestData<'a>,
    },
    #[serde(rename = "deploy_operation.state_changed")]
    OperationState {
        previous_state: Option<&'a str>,
        state: &'a str,
        deploy_request_number: u64,
        phase: &'static str,
        operation: OperationData<'a>,
    },
    #[serde(rename = "deploy_operation.errors_changed")]
    OperationErrors {
        errors: Option<&'a str>,
        previous_errors: Option<&'a str>,
        deploy_request_number: u64,
        phase: &'static str,
        operation: OperationData<'a>,
    },
    #[serde(rename = "deploy_request.awaiting_cutover")]
    AwaitingCutover {
        state: &'a str,
        waiting_since: String,
        reminder: u64,
        deploy_request: DeployRequestData<'a>,
    },
    #[serde(rename = "deploy_request.cutover_expiring")]
    CutoverExpiring {
        state: &'a str,
        deploy_request: DeployRequestData<'a>,
    },
    #[serde(rename = "deploy_request.queue_paused")]
    QueuePaused {
        state: &'a str,
        queue_pause_reason: Option<&'a str>,
        deploy_request: DeployRequestData<'a>,
    },
    #[serde(rename = "deploy_operation.stalled")]
    OperationStalled {
        state: &'a str,
        stalled_since: String,
        deploy_request_number: u64,
        phase: &'static str,
        operation: OperationData<'a>,
    },
    #[serde(rename = "backup.state_changed")]
    BackupState {
        previous_state: Option<&'a str>,
        state: &'a str,
        recovers: bool,
        backup: BackupData<'a>,
    },
    #[serde(rename = "resize.state_changed")]
    ResizeState {
        previous_state: Option<&'a str>,
        state: &'a str,
        resize: ResizeData<'a>,
    },
    #[serde(rename = "schema_recommendation.opened")]
    RecommendationOpened {
        state: &'a str,
        recommendation: RecommendationData<'a>,
    },
    #[serde(rename = "schema_recommendation.closed")]
    RecommendationClosed {
        previous_state: &'a str,
        state: &'a str,
        recommendation: RecommendationData<'a>,
    },
    #[serde(rename = "maintenance.scheduled")]
    MaintenanceScheduled {
        previous_window: Option<&'a str>,
        schedule: MaintenanceData<'a>,
    },
    #[serde(rename = "maintenance.started")]
    MaintenanceStarted { schedule: MaintenanceData<'a> },
    #[serde(rename = "maintenance.finished")]
    MaintenanceFinished { schedule: MaintenanceData<'a> },
    #[serde(rename = "pswatch.digest")]
    Digest { digest: DigestData<'a> },
    /// `planetscale.<event>`: its own `type`, PlanetScale's event name and `resource` as sent.
    #[serde(untagged)]
    PlanetScale {
        #[serde(rename = "type")]
        event_type: &'static str,
        event: &'static str,
        resource: &'a serde_json::Value,
    },
}

impl<'a> Change<'a> {
    fn new(kind: &'a EventKind) -> Self {
        match kind {
            EventKind::WorkflowStateChanged {
                previous_state,
                state,
                workflow,
            } => Self::WorkflowState {
                previous_state: previous_state.as_ref().map(|state| state.as_str()),
                state: state.as_str(),
                workflow: WorkflowData::new(workflow),
            },
            EventKind::WorkflowErrorsChanged {
                errors,
                previous_errors,
                workflow,
            } => Self::WorkflowErrors {
                errors: errors.as_deref(),
                previous_errors: previous_errors.as_deref(),
                workflow: WorkflowData::new(workflow),
            },
            EventKind::DeployRequestStateChanged {
                previous_state,
                state,
                deploy_request,
            } => Self::DeployRequestState {
                previous_state: previous_state.as_ref().map(|state| state.as_str()),
                state: state.as_str(),
                deploy_request: DeployRequestData::new(deploy_request),
            },
            EventKind::DeployOperationStateChanged {
                previous_state,
                state,
                deploy_request_number,
                phase,
                operation,
            } => Self::OperationState {
                previous_state: previous_state.as_ref().map(|state| state.as_str()),
                state: state.as_str(),
                deploy_request_number: *deploy_request_number,
                phase: phase.as_str(),
                operation: OperationData::new(operation),
            },
            EventKind::DeployOperationErrorsChanged {
                errors,
                previous_errors,
                deploy_request_number,
                phase,
                operation,
            } => Self::OperationErrors {
                errors: errors.as_deref(),
                previous_errors: previous_errors.as_deref(),
                deploy_request_number: *deploy_request_number,
                phase: phase.as_str(),
                operation: OperationData::new(operation),
            },
            EventKind::DeployRequestAwaitingCutover {
                waiting_since,
                reminder,
                deploy_request,
            } => Self::AwaitingCutover {
                state: kind.state(),
                waiting_since: rfc3339(*waiting_since),
                reminder: *reminder,
                deploy_request: DeployRequestData::new(deploy_request),
            },
            EventKind::DeployRequestCutoverExpiring { deploy_request } => Self::CutoverExpiring {
                state: kind.state(),
                deploy_request: DeployRequestData::new(deploy_request),
            },
            EventKind::DeployRequestQueuePaused {
                queue_pause_reason,
                deploy_request,
            } => Self::QueuePaused {
                state: kind.state(),
                queue_pause_reason: queue_pause_reason.as_deref(),
                deploy_request: DeployRequestData::new(deploy_request),
            },
            EventKind::BackupStateChanged {
                previous_state,
                state,
                recovers,
                backup,
            } => Self::BackupState {
                previous_state: previous_state.as_deref(),
                state,
                recovers: *recovers,
                backup: BackupData::new(backup),
            },
            EventKind::ResizeStateChanged {
                previous_state,
                state,
                resize,
            } => Self::ResizeState {
                previous_state: previous_state.as_deref(),
                state,
                resize: ResizeData::new(resize),
            },
            EventKind::SchemaRecommendationOpened { recommendation } => {
                Self::RecommendationOpened {
                    state: &recommendation.state,
                    recommendation: RecommendationData::new(recommendation),
                }
            }
            EventKind::SchemaRecommendationClosed {
                previous_state,
                recommendation,
            } => Self::RecommendationClosed {
                previous_state,
                state: &recommendation.state,
                recommendation: RecommendationData::new(recommendation),
            },
            EventKind::MaintenanceScheduled {
                previous_window,
                schedule,
            } => Self::MaintenanceScheduled {
                previous_window: previous_window.as_deref(),
                schedule: MaintenanceData::new(schedule),
            },
            EventKind::MaintenanceStarted { schedule } => Self::MaintenanceStarted {
                schedule: MaintenanceData::new(schedule),
            },
            EventKind::MaintenanceFinished { schedule } => Self::MaintenanceFinished {
                schedule: MaintenanceData::new(schedule),
            },
            EventKind::Digest { digest } => Self::Digest {
                digest: DigestData::new(digest),
            },
            EventKind::DeployOperationStalled {
                stalled_since,
                deploy_request_number,
                phase,
                operation,
            } => Self::OperationStalled {
                state: kind.state(),
                stalled_since: rfc3339(*stalled_since),
                deploy_request_number: *deploy_request_number,
                phase: phase.as_str(),
                operation: OperationData::new(operation),
            },
            EventKind::PlanetScale { event, resource } => Self::PlanetScale {
                event_type: event.type_name(),
                event: event.as_str(),
                resource,
            },
        }
    }
}

#[derive(Debug, Serialize)]
struct WorkflowData<'a> {
    id: &'a str,
    number: u64,
    name: &'a str,
    state: &'a str,
    workflow_errors: Option<&'a str>,
    source_keyspace: Option<&'a str>,
    target_keyspace: Option<&'a str>,
    branch: Option<&'a str>,
    actor: Option<&'a str>,
    cutover_by: Option<&'a str>,
    updated_at: Option<&'a str>,
    /// When it reached each phase (`started_at`, `data_copy_completed_at`,
    /// `switch_replicas_at`, `switch_primaries_at`, `cutover_at`, `completed_at`); absent when
    /// the API gave none.
    #[serde(skip_serializing_if = "WorkflowTimes::is_empty")]
    times: &'a WorkflowTimes,
}

impl<'a> WorkflowData<'a> {
    fn new(workflow: &'a Workflow) -> Self {
        Self {
            id: &workflow.id,
            number: workflow.number,
            name: &workflow.name,
            state: workflow.state.as_str(),
            workflow_errors: workflow.workflow_errors.as_deref(),
            source_keyspace: workflow.source_keyspace.as_deref(),
            target_keyspace: workflow.target_keyspace.as_deref(),
            branch: workflow.branch.as_deref(),
            actor: workflow.actor.as_deref(),
            cutover_by: workflow.cutover_by.as_deref(),
            updated_at: workflow.updated_at.as_deref(),
            times: &workflow.times,
        }
    }
}

#[derive(Debug, Serialize)]
struct DeployRequestData<'a> {
    id: &'a str,
    number: u64,
    state: &'a str,
    deployment_state: &'a str,
    branch: Option<&'a str>,
    into_branch: Option<&'a str>,
    html_url: Option<&'a str>,
    actor: Option<&'a str>,
    closed_by: Option<&'a str>,
    auto_cutover: Option<bool>,
    lint_errors: Vec<LintErrorData<'a>>,
    deploy_check_errors: Option<&'a str>,
    /// Only when the API gave them, so bodies of earlier versions keep their bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    ready_to_cutover_at: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cutover_expiring: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    queue_paused: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    queue_pause_reason: Option<&'a str>,
}

impl<'a> DeployRequestData<'a> {
    fn new(request: &'a DeployRequest) -> Self {
        Self {
            id: &request.id,
            number: request.number,
            state: &request.state,
            deployment_state: request.deployment_state.as_str(),
            branch: request.branch.as_deref(),
            into_branch: request.into_branch.as_deref(),
            html_url: request.html_url.as_deref(),
            actor: request.actor.as_deref(),
            closed_by: request.closed_by.as_deref(),
            auto_cutover: request.auto_cutover,
            lint_errors: request.lint_errors.iter().map(LintErrorData::new).collect(),
            deploy_check_errors: request.deploy_check_errors.as_deref(),
            ready_to_cutover_at: request.ready_to_cutover_at.as_deref(),
            cutover_expiring: request.cutover_expiring,
            queue_paused: request.queue_paused,
            queue_pause_reason: request.queue_pause_reason.as_deref(),
        }
    }
}

#[derive(Debug, Serialize)]
struct LintErrorData<'a> {
    lint_error: Option<&'a str>,
    keyspace_name: Option<&'a str>,
    table_name: Option<&'a str>,
    error_description: Option<&'a str>,
}

impl<'a> LintErrorData<'a> {
    fn new(lint: &'a LintError) -> Self {
        Self {
            lint_error: lint.lint_error.as_deref(),
            keyspace_name: lint.keyspace_name.as_deref(),
            table_name: lint.table_name.as_deref(),
            error_description: lint.error_description.as_deref(),
        }
    }
}

#[derive(Debug, Serialize)]
struct OperationData<'a> {
    id: &'a str,
    state: &'a str,
    keyspace_name: Option<&'a str>,
    table_name: Option<&'a str>,
    operation_name: Option<&'a str>,
    ddl_statement: Option<&'a str>,
    deploy_errors: Option<&'a str>,
    deploy_error_docs_url: Option<&'a str>,
    progress_percentage: Option<f64>,
    /// How long the API expects a running operation to take still, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    eta_seconds: Option<u64>,
    /// Only on an operation of a revert.
    #[serde(skip_serializing_if = "Option::is_none")]
    revert_errors: Option<&'a str>,
}

impl<'a> OperationData<'a> {
    fn new(operation: &'a DeployOperation) -> Self {
        Self {
            id: &operation.id,
            state: operation.state.as_str(),
            keyspace_name: operation.keyspace_name.as_deref(),
            table_name: operation.table_name.as_deref(),
            operation_name: operation.operation_name.as_deref(),
            ddl_statement: operation.ddl_statement.as_deref(),
            deploy_errors: operation.deploy_errors.as_deref(),
            deploy_error_docs_url: operation.deploy_error_docs_url.as_deref(),
            progress_percentage: operation.progress_percentage,
            eta_seconds: operation.eta_seconds,
            revert_errors: operation.revert_errors.as_deref(),
        }
    }
}

/// A maintenance schedule: its windows, whether it is required, by when, and what it brings.
#[derive(Debug, Serialize)]
struct MaintenanceData<'a> {
    id: &'a str,
    name: &'a str,
    next_window_datetime: Option<&'a str>,
    last_window_datetime: Option<&'a str>,
    duration_hours: Option<u64>,
    required: bool,
    deadline_at: Option<&'a str>,
    pending_vitess_version: Option<&'a str>,
    pending_mysql_version: Option<&'a str>,
}

impl<'a> MaintenanceData<'a> {
    fn new(schedule: &'a diff_engine::MaintenanceSchedule) -> Self {
        Self {
            id: &schedule.id,
            name: &schedule.name,
            next_window_datetime: schedule.next_window_datetime.as_deref(),
            last_window_datetime: schedule.last_window_datetime.as_deref(),
            duration_hours: schedule.duration_hours,
            required: schedule.required,
            deadline_at: schedule.deadline_at.as_deref(),
            pending_vitess_version: schedule.pending_vitess_version.as_deref(),
            pending_mysql_version: schedule.pending_mysql_version.as_deref(),
        }
    }
}

/// A schema recommendation: what it proposes, for which table, and its link.
#[derive(Debug, Serialize)]
struct RecommendationData<'a> {
    id: &'a str,
    number: u64,
    title: &'a str,
    table_name: Option<&'a str>,
    keyspace: Option<&'a str>,
    ddl_statement: Option<&'a str>,
    recommendation_type: Option<&'a str>,
    state: &'a str,
    html_url: Option<&'a str>,
}

impl<'a> RecommendationData<'a> {
    fn new(recommendation: &'a diff_engine::SchemaRecommendation) -> Self {
        Self {
            id: &recommendation.id,
            number: recommendation.number,
            title: &recommendation.title,
            table_name: recommendation.table_name.as_deref(),
            keyspace: recommendation.keyspace.as_deref(),
            ddl_statement: recommendation.ddl_statement.as_deref(),
            recommendation_type: recommendation.recommendation_type.as_deref(),
            state: &recommendation.state,
            html_url: recommendation.html_url.as_deref(),
        }
    }
}

/// A resize: its id, branch, keyspace, state, the sizes before and after, and times.
#[derive(Debug, Serialize)]
struct ResizeData<'a> {
    id: &'a str,
    branch: &'a str,
    keyspace: Option<&'a str>,
    state: &'a str,
    previous_cluster_name: Option<&'a str>,
    cluster_name: Option<&'a str>,
    previous_replicas: Option<u64>,
    replicas: Option<u64>,
    previous_maximum_storage_bytes: Option<u64>,
    maximum_storage_bytes: Option<u64>,
    started_at: Option<&'a str>,
    completed_at: Option<&'a str>,
}

impl<'a> ResizeData<'a> {
    fn new(resize: &'a Resize) -> Self {
        Self {
            id: &resize.id,
            branch: &resize.branch,
            keyspace: resize.keyspace.as_deref(),
            state: &resize.state,
            previous_cluster_name: resize.previous_cluster_name.as_deref(),
            cluster_name: resize.cluster_name.as_deref(),
            previous_replicas: resize.previous_replicas,
            replicas: resize.replicas,
            previous_maximum_storage_bytes: resize.previous_maximum_storage_bytes,
            maximum_storage_bytes: resize.maximum_storage_bytes,
            started_at: resize.started_at.as_deref(),
            completed_at: resize.completed_at.as_deref(),
        }
    }
}

/// A backup: its id, name, branch, state, size and times.
#[derive(Debug, Serialize)]
struct BackupData<'a> {
    id: &'a str,
    name: &'a str,
    branch: &'a str,
    state: &'a str,
    size: Option<u64>,
    started_at: Option<&'a str>,
    completed_at: Option<&'a str>,
}

impl<'a> BackupData<'a> {
    fn new(backup: &'a Backup) -> Self {
        Self {
            id: &backup.id,
            name: &backup.name,
            branch: &backup.branch,
            state: &backup.state,
            size: backup.size,
            started_at: backup.started_at.as_deref(),
            completed_at: backup.completed_at.as_deref(),
        }
    }
}

/// A digest: its name, period, time zone, databases and dead letters.
#[derive(Debug, Serialize)]
struct DigestData<'a> {
    name: &'a str,
    period_start: String,
    period_end: String,
    timezone: &'a str,
    completed: usize,
    failed: usize,
    waiting: usize,
    dead_letters: u64,
    databases: Vec<DatabaseDigestData<'a>>,
}

impl<'a> DigestData<'a> {
    fn new(digest: &'a Digest) -> Self {
        let (completed, failed, waiting) = digest.counts();
        Self {
            name: &digest.name,
            period_start: rfc3339(digest.period_start),
            period_end: rfc3339(digest.period_end),
            timezone: &digest.timezone,
            completed,
            failed,
            waiting,
            dead_letters: digest.dead_letters,
            databases: digest
                .databases
                .iter()
                .map(DatabaseDigestData::new)
                .collect(),
        }
    }
}

/// One database of a digest.
#[derive(Debug, Serialize)]
struct DatabaseDigestData<'a> {
    organization: &'a str,
    database: &'a str,
    completed: Vec<DigestItemData<'a>>,
    failed: Vec<DigestItemData<'a>>,
    waiting: Vec<DigestItemData<'a>>,
}

impl<'a> DatabaseDigestData<'a> {
    fn new(database: &'a DatabaseDigest) -> Self {
        let items = |items: &'a [DigestItem]| items.iter().map(DigestItemData::new).collect();
        Self {
            organization: &database.organization,
            database: &database.database,
            completed: items(&database.completed),
            failed: items(&database.failed),
            waiting: items(&database.waiting),
        }
    }
}

/// A workflow, deploy request or operation of a digest.
#[derive(Debug, Serialize)]
struct DigestItemData<'a> {
    resource: &'a str,
    state: &'a str,
    since: Option<String>,
    errors: Option<&'a str>,
    url: Option<&'a str>,
}

impl<'a> DigestItemData<'a> {
    fn new(item: &'a DigestItem) -> Self {
        Self {
            resource: &item.resource,
            state: &item.state,
            since: item.since.map(rfc3339),
            errors: item.errors.as_deref(),
            url: item.url.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{reminder_events, revert_and_validation_events, sample_events};

    /// The payload says exactly what the domain event's own serialization says: a receiver
    /// written against either reads the other. (The domain's serialization is not the contract;
    /// this payload is. The check keeps the two from drifting apart unnoticed.)
    #[test]
    fn the_payload_carries_every_field_of_the_event() {
        for event in sample_events()
            .iter()
            .chain(&revert_and_validation_events())
        {
            let payload = serde_json::to_value(WebhookPayload::new(event)).expect("json");
            let domain = serde_json::to_value(event).expect("json");
            assert_eq!(payload["data"], domain, "{}", event.type_name());
        }
    }

    /// The body of every sample event, byte for byte: what receivers parse is a contract, and a
    /// change of these bytes is a change of it.
    #[test]
    fn every_body_keeps_its_bytes() {
        let mut events = sample_events();
        events.extend(revert_and_validation_events());
        events.extend(reminder_events());
        events.extend(
            diff_engine::EVENT_TYPES
                .iter()
                .filter_map(|event_type| crate::sample_event(event_type)),
        );
        let mut text = String::new();
        for event in &events {
            text.push_str(&serde_json::to_string(&WebhookPayload::new(event)).expect("json"));
            text.push('\n');
        }
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/webhook_v1.jsonl");
        if std::env::var_os("PSWATCH_UPDATE_GOLDEN").is_some() {
            std::fs::write(&path, &text).expect("write golden");
        }
        let golden = std::fs::read_to_string(&path).expect("golden file");
        assert_eq!(
            text, golden,
            "the webhook bodies changed: that is a change of the contract"
        );
    }

    /// The exact bytes of one body, field order included.
    #[test]
    fn the_body_bytes_are_pinned() {
        let events = sample_events();
        let body = serde_json::to_string(&WebhookPayload::new(&events[0])).expect("json");
        assert_eq!(
            body,
            r#"{"type":"workflow.state_changed","timestamp":"2026-11-23T12:00:00Z","data":{"id":"evt_0001","type":"workflow.state_changed","previous_state":"switched_primaries","state":"cutover","workflow":{"id":"wf_8cd2","number":3,"name":"move-customers","state":"cutover","workflow_errors":null,"source_keyspace":"commerce","target_keyspace":"customers","branch":"main","actor":"Ada Lovelace","cutover_by":"Grace Hopper","updated_at":null},"organization":"acme","database":"commerce","severity":"info","observed_at":"2026-11-23T12:00:00Z"}}"#
        );
    }
}
