//! The webhook contract: the body every webhook receiver parses, owned here.
//!
//! The domain types are the diff engine's to change; what receivers parse is not. Each field a
//! receiver sees is spelled out below and filled from the domain types, so renaming a domain
//! field breaks this file at compile time instead of a receiver in production, and the
//! snapshots of `render.rs` pin the result. README.md's "Events" and "Webhooks" sections
//! describe it.

use diff_engine::{
    DatabaseDigest, Digest, DigestItem, Event, EventKind, TimerSubject, Workflow, WorkflowTimes,
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
            change: Change::new(event),
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
        deploy_request: wire::DeployRequest<'a>,
    },
    #[serde(rename = "deploy_operation.state_changed")]
    OperationState {
        previous_state: Option<&'a str>,
        state: &'a str,
        deploy_request_number: u64,
        phase: &'static str,
        operation: wire::Operation<'a>,
    },
    #[serde(rename = "deploy_operation.errors_changed")]
    OperationErrors {
        errors: Option<&'a str>,
        previous_errors: Option<&'a str>,
        deploy_request_number: u64,
        phase: &'static str,
        operation: wire::Operation<'a>,
    },
    #[serde(rename = "deploy_request.awaiting_cutover")]
    AwaitingCutover {
        state: &'a str,
        waiting_since: String,
        reminder: u64,
        deploy_request: wire::DeployRequest<'a>,
    },
    #[serde(rename = "deploy_request.cutover_expiring")]
    CutoverExpiring {
        state: &'a str,
        deploy_request: wire::DeployRequest<'a>,
    },
    #[serde(rename = "deploy_request.queue_paused")]
    QueuePaused {
        state: &'a str,
        queue_pause_reason: Option<&'a str>,
        deploy_request: wire::DeployRequest<'a>,
    },
    #[serde(rename = "deploy_operation.stalled")]
    OperationStalled {
        state: &'a str,
        stalled_since: String,
        deploy_request_number: u64,
        phase: &'static str,
        operation: wire::Operation<'a>,
    },
    #[serde(rename = "backup.state_changed")]
    BackupState {
        previous_state: Option<&'a str>,
        state: &'a str,
        recovers: bool,
        backup: wire::Backup<'a>,
    },
    #[serde(rename = "resize.state_changed")]
    ResizeState {
        previous_state: Option<&'a str>,
        state: &'a str,
        resize: wire::Resize<'a>,
    },
    #[serde(rename = "schema_recommendation.opened")]
    RecommendationOpened {
        state: &'a str,
        recommendation: wire::Recommendation<'a>,
    },
    #[serde(rename = "schema_recommendation.closed")]
    RecommendationClosed {
        previous_state: &'a str,
        state: &'a str,
        recommendation: wire::Recommendation<'a>,
    },
    #[serde(rename = "maintenance.scheduled")]
    MaintenanceScheduled {
        previous_window: Option<&'a str>,
        schedule: wire::Maintenance<'a>,
    },
    #[serde(rename = "maintenance.started")]
    MaintenanceStarted { schedule: wire::Maintenance<'a> },
    #[serde(rename = "maintenance.finished")]
    MaintenanceFinished { schedule: wire::Maintenance<'a> },
    #[serde(rename = "pswatch.digest")]
    Digest { digest: DigestData<'a> },
    #[serde(rename = "deploy_request.blocked")]
    Blocked {
        state: &'a str,
        locked_table: Option<&'a str>,
        deploy_request: wire::DeployRequest<'a>,
    },
    #[serde(rename = "deploy_request.revert_window_closing")]
    RevertWindowClosing {
        state: &'a str,
        closes_at: String,
        deploy_request: wire::DeployRequest<'a>,
    },
    #[serde(rename = "timer.fired")]
    TimerFired {
        timer: &'a str,
        state: &'a str,
        since: String,
        in_state_seconds: i64,
        firing: u64,
        escalated: bool,
        #[serde(flatten)]
        subject: SubjectData<'a>,
    },
    /// `planetscale.<event>`: its own `type`, PlanetScale's event name and `resource` as sent.
    #[serde(untagged)]
    PlanetScale {
        #[serde(rename = "type")]
        event_type: &'static str,
        event: &'static str,
        resource: &'a serde_json::Value,
    },
}

/// The resource a timer fired for: `resource_kind` names its kind, and its own field holds it.
#[derive(Debug, Serialize)]
#[serde(tag = "resource_kind", rename_all = "snake_case")]
enum SubjectData<'a> {
    Workflow {
        workflow: WorkflowData<'a>,
    },
    DeployRequest {
        deploy_request: wire::DeployRequest<'a>,
    },
    DeployOperation {
        deploy_request_number: u64,
        phase: &'static str,
        operation: wire::Operation<'a>,
    },
    Backup {
        backup: wire::Backup<'a>,
    },
    Resize {
        resize: wire::Resize<'a>,
    },
}

impl<'a> SubjectData<'a> {
    fn new(subject: &'a TimerSubject) -> Self {
        match subject {
            TimerSubject::Workflow(workflow) => Self::Workflow {
                workflow: WorkflowData::from(workflow),
            },
            TimerSubject::DeployRequest(request) => Self::DeployRequest {
                deploy_request: wire::DeployRequest::from(request),
            },
            TimerSubject::DeployOperation {
                deploy_request_number,
                phase,
                operation,
            } => Self::DeployOperation {
                deploy_request_number: *deploy_request_number,
                phase: phase.as_str(),
                operation: wire::Operation::from(operation),
            },
            TimerSubject::Backup(backup) => Self::Backup {
                backup: wire::Backup::from(backup),
            },
            TimerSubject::Resize(resize) => Self::Resize {
                resize: wire::Resize::from(resize),
            },
        }
    }
}

impl<'a> Change<'a> {
    fn new(event: &'a Event) -> Self {
        let kind = &event.kind;
        match kind {
            EventKind::WorkflowStateChanged {
                previous_state,
                state,
                workflow,
            } => Self::WorkflowState {
                previous_state: previous_state.as_ref().map(|state| state.as_str()),
                state: state.as_str(),
                workflow: WorkflowData::from(workflow),
            },
            EventKind::WorkflowErrorsChanged {
                errors,
                previous_errors,
                workflow,
            } => Self::WorkflowErrors {
                errors: errors.as_deref(),
                previous_errors: previous_errors.as_deref(),
                workflow: WorkflowData::from(workflow),
            },
            EventKind::DeployRequestStateChanged {
                previous_state,
                state,
                deploy_request,
            } => Self::DeployRequestState {
                previous_state: previous_state.as_ref().map(|state| state.as_str()),
                state: state.as_str(),
                deploy_request: wire::DeployRequest::from(deploy_request),
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
                operation: wire::Operation::from(operation),
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
                operation: wire::Operation::from(operation),
            },
            EventKind::DeployRequestAwaitingCutover {
                waiting_since,
                reminder,
                deploy_request,
            } => Self::AwaitingCutover {
                state: kind.state(),
                waiting_since: rfc3339(*waiting_since),
                reminder: *reminder,
                deploy_request: wire::DeployRequest::from(deploy_request),
            },
            EventKind::DeployRequestCutoverExpiring { deploy_request } => Self::CutoverExpiring {
                state: kind.state(),
                deploy_request: wire::DeployRequest::from(deploy_request),
            },
            EventKind::DeployRequestQueuePaused {
                queue_pause_reason,
                deploy_request,
            } => Self::QueuePaused {
                state: kind.state(),
                queue_pause_reason: queue_pause_reason.as_deref(),
                deploy_request: wire::DeployRequest::from(deploy_request),
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
                backup: wire::Backup::from(backup),
            },
            EventKind::ResizeStateChanged {
                previous_state,
                state,
                resize,
            } => Self::ResizeState {
                previous_state: previous_state.as_deref(),
                state,
                resize: wire::Resize::from(resize),
            },
            EventKind::SchemaRecommendationOpened { recommendation } => {
                Self::RecommendationOpened {
                    state: &recommendation.state,
                    recommendation: wire::Recommendation::from(recommendation),
                }
            }
            EventKind::SchemaRecommendationClosed {
                previous_state,
                recommendation,
            } => Self::RecommendationClosed {
                previous_state,
                state: &recommendation.state,
                recommendation: wire::Recommendation::from(recommendation),
            },
            EventKind::MaintenanceScheduled {
                previous_window,
                schedule,
            } => Self::MaintenanceScheduled {
                previous_window: previous_window.as_deref(),
                schedule: wire::Maintenance::from(schedule),
            },
            EventKind::MaintenanceStarted { schedule } => Self::MaintenanceStarted {
                schedule: wire::Maintenance::from(schedule),
            },
            EventKind::MaintenanceFinished { schedule } => Self::MaintenanceFinished {
                schedule: wire::Maintenance::from(schedule),
            },
            EventKind::Digest { digest } => Self::Digest {
                digest: DigestData::new(digest),
            },
            EventKind::DeployRequestBlocked {
                locked_table,
                deploy_request,
            } => Self::Blocked {
                state: kind.state(),
                locked_table: locked_table.as_deref(),
                deploy_request: wire::DeployRequest::from(deploy_request),
            },
            EventKind::DeployRequestRevertWindowClosing {
                closes_at,
                deploy_request,
            } => Self::RevertWindowClosing {
                state: kind.state(),
                closes_at: rfc3339(*closes_at),
                deploy_request: wire::DeployRequest::from(deploy_request),
            },
            EventKind::TimerFired {
                timer,
                state,
                since,
                firing,
                escalated,
                subject,
            } => Self::TimerFired {
                timer,
                state,
                since: rfc3339(*since),
                in_state_seconds: (event.observed_at - *since).whole_seconds(),
                firing: *firing,
                escalated: *escalated,
                subject: SubjectData::new(subject),
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
                operation: wire::Operation::from(operation),
            },
            EventKind::PlanetScale { event, resource } => Self::PlanetScale {
                event_type: event.type_name(),
                event: event.as_str(),
                resource,
            },
        }
    }
}

/// A workflow: its shape, then its phase times (`started_at`, `data_copy_completed_at`,
/// `switch_replicas_at`, `switch_primaries_at`, `cutover_at`, `completed_at`), all six when the
/// API gave any, absent when it gave none.
#[derive(Debug, Serialize)]
struct WorkflowData<'a> {
    #[serde(flatten)]
    workflow: wire::Workflow<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    times: Option<TimesData<'a>>,
}

impl<'a> From<&'a Workflow> for WorkflowData<'a> {
    fn from(workflow: &'a Workflow) -> Self {
        let WorkflowTimes {
            started_at,
            data_copy_completed_at,
            switch_replicas_at,
            switch_primaries_at,
            cutover_at,
            completed_at,
        } = &workflow.times;
        Self {
            workflow: workflow.into(),
            times: (!workflow.times.is_empty()).then_some(TimesData {
                started_at: started_at.as_deref(),
                data_copy_completed_at: data_copy_completed_at.as_deref(),
                switch_replicas_at: switch_replicas_at.as_deref(),
                switch_primaries_at: switch_primaries_at.as_deref(),
                cutover_at: cutover_at.as_deref(),
                completed_at: completed_at.as_deref(),
            }),
        }
    }
}

#[derive(Debug, Serialize)]
struct TimesData<'a> {
    started_at: Option<&'a str>,
    data_copy_completed_at: Option<&'a str>,
    switch_replicas_at: Option<&'a str>,
    switch_primaries_at: Option<&'a str>,
    cutover_at: Option<&'a str>,
    completed_at: Option<&'a str>,
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
