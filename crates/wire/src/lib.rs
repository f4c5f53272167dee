//! The shapes of PlanetScale's resources in pswatch's two stable formats: the outbox's records
//! (the store's) and the webhook body (the notifier's).
//!
//! The core's types carry no serde: a format is a promise to whoever reads it, and each format
//! belongs to the boundary that makes the promise. What the two formats say alike of a
//! workflow, a deploy request, an operation, a backup, a resize, a recommendation or a
//! maintenance schedule is defined once here, with its conversion from and to the core's type
//! spelled out field by field, so that a field added to the core is a compile error until it
//! is placed, and the two formats cannot drift apart. Each boundary keeps its own event
//! enumeration (`store::records::event`, `notifier::payload`), converted from the core's by an
//! exhaustive match; their golden files pin the bytes.
//!
//! Text is `Cow`: borrowed from the core's values when written, owned when read back.

use std::borrow::Cow;

use diff_engine::{DeployState, OperationState, WorkflowState};
use serde::{Deserialize, Serialize};

fn text(value: &str) -> Cow<'_, str> {
    Cow::Borrowed(value)
}

fn optional(value: &Option<String>) -> Option<Cow<'_, str>> {
    value.as_deref().map(Cow::Borrowed)
}

fn owned(value: Option<Cow<'_, str>>) -> Option<String> {
    value.map(Cow::into_owned)
}

/// A MoveTables workflow, without its phase times (the two formats write those differently).
#[derive(Debug, Serialize, Deserialize)]
pub struct Workflow<'a> {
    id: Cow<'a, str>,
    number: u64,
    name: Cow<'a, str>,
    state: Cow<'a, str>,
    workflow_errors: Option<Cow<'a, str>>,
    source_keyspace: Option<Cow<'a, str>>,
    target_keyspace: Option<Cow<'a, str>>,
    branch: Option<Cow<'a, str>>,
    actor: Option<Cow<'a, str>>,
    cutover_by: Option<Cow<'a, str>>,
    updated_at: Option<Cow<'a, str>>,
    // PlanetScale's id of who started it; written only when known, so what earlier versions
    // wrote keeps its bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    actor_id: Option<Cow<'a, str>>,
}

impl<'a> From<&'a diff_engine::Workflow> for Workflow<'a> {
    fn from(workflow: &'a diff_engine::Workflow) -> Self {
        let diff_engine::Workflow {
            id,
            number,
            name,
            state,
            workflow_errors,
            source_keyspace,
            target_keyspace,
            branch,
            actor,
            actor_id,
            cutover_by,
            updated_at,
            times: _,
        } = workflow;
        Self {
            id: text(id),
            number: *number,
            name: text(name),
            state: text(state.as_str()),
            workflow_errors: optional(workflow_errors),
            source_keyspace: optional(source_keyspace),
            target_keyspace: optional(target_keyspace),
            branch: optional(branch),
            actor: optional(actor),
            cutover_by: optional(cutover_by),
            updated_at: optional(updated_at),
            actor_id: optional(actor_id),
        }
    }
}

impl Workflow<'_> {
    /// The core's workflow, with `times`.
    pub fn into_core(self, times: diff_engine::WorkflowTimes) -> diff_engine::Workflow {
        diff_engine::Workflow {
            id: self.id.into_owned(),
            number: self.number,
            name: self.name.into_owned(),
            state: WorkflowState::parse(&self.state),
            workflow_errors: owned(self.workflow_errors),
            source_keyspace: owned(self.source_keyspace),
            target_keyspace: owned(self.target_keyspace),
            branch: owned(self.branch),
            actor: owned(self.actor),
            actor_id: owned(self.actor_id),
            cutover_by: owned(self.cutover_by),
            updated_at: owned(self.updated_at),
            times,
        }
    }
}

/// A deploy request, with why its validation failed.
#[derive(Debug, Serialize, Deserialize)]
pub struct DeployRequest<'a> {
    id: Cow<'a, str>,
    number: u64,
    state: Cow<'a, str>,
    deployment_state: Cow<'a, str>,
    branch: Option<Cow<'a, str>>,
    into_branch: Option<Cow<'a, str>>,
    html_url: Option<Cow<'a, str>>,
    actor: Option<Cow<'a, str>>,
    closed_by: Option<Cow<'a, str>>,
    #[serde(default)]
    auto_cutover: Option<bool>,
    #[serde(default)]
    lint_errors: Vec<LintError<'a>>,
    #[serde(default)]
    deploy_check_errors: Option<Cow<'a, str>>,
    // Written only when the API gave them, so what earlier versions wrote keeps its bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ready_to_cutover_at: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cutover_expiring: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    queue_paused: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    queue_pause_reason: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    actor_id: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    revert_window_ends_at: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    queue_position: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    table_locked: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    locked_table_name: Option<Cow<'a, str>>,
}

impl<'a> From<&'a diff_engine::DeployRequest> for DeployRequest<'a> {
    fn from(request: &'a diff_engine::DeployRequest) -> Self {
        let diff_engine::DeployRequest {
            id,
            number,
            state,
            deployment_state,
            branch,
            into_branch,
            html_url,
            actor,
            actor_id,
            closed_by,
            auto_cutover,
            lint_errors,
            deploy_check_errors,
            ready_to_cutover_at,
            cutover_expiring,
            queue_paused,
            queue_pause_reason,
            revert_window_ends_at,
            queue_position,
            table_locked,
            locked_table_name,
        } = request;
        Self {
            id: text(id),
            number: *number,
            state: text(state),
            deployment_state: text(deployment_state.as_str()),
            branch: optional(branch),
            into_branch: optional(into_branch),
            html_url: optional(html_url),
            actor: optional(actor),
            closed_by: optional(closed_by),
            auto_cutover: *auto_cutover,
            lint_errors: lint_errors.iter().map(LintError::from).collect(),
            deploy_check_errors: optional(deploy_check_errors),
            ready_to_cutover_at: optional(ready_to_cutover_at),
            cutover_expiring: *cutover_expiring,
            queue_paused: *queue_paused,
            queue_pause_reason: optional(queue_pause_reason),
            actor_id: optional(actor_id),
            revert_window_ends_at: optional(revert_window_ends_at),
            queue_position: *queue_position,
            table_locked: *table_locked,
            locked_table_name: optional(locked_table_name),
        }
    }
}

impl From<DeployRequest<'_>> for diff_engine::DeployRequest {
    fn from(shape: DeployRequest<'_>) -> Self {
        Self {
            id: shape.id.into_owned(),
            number: shape.number,
            state: shape.state.into_owned(),
            deployment_state: DeployState::parse(&shape.deployment_state),
            branch: owned(shape.branch),
            into_branch: owned(shape.into_branch),
            html_url: owned(shape.html_url),
            actor: owned(shape.actor),
            actor_id: owned(shape.actor_id),
            closed_by: owned(shape.closed_by),
            auto_cutover: shape.auto_cutover,
            lint_errors: shape.lint_errors.into_iter().map(Into::into).collect(),
            deploy_check_errors: owned(shape.deploy_check_errors),
            ready_to_cutover_at: owned(shape.ready_to_cutover_at),
            cutover_expiring: shape.cutover_expiring,
            queue_paused: shape.queue_paused,
            queue_pause_reason: owned(shape.queue_pause_reason),
            revert_window_ends_at: owned(shape.revert_window_ends_at),
            queue_position: shape.queue_position,
            table_locked: shape.table_locked,
            locked_table_name: owned(shape.locked_table_name),
        }
    }
}

/// One reason a deploy request's validation failed.
#[derive(Debug, Serialize, Deserialize)]
pub struct LintError<'a> {
    lint_error: Option<Cow<'a, str>>,
    keyspace_name: Option<Cow<'a, str>>,
    table_name: Option<Cow<'a, str>>,
    error_description: Option<Cow<'a, str>>,
}

impl<'a> From<&'a diff_engine::LintError> for LintError<'a> {
    fn from(lint: &'a diff_engine::LintError) -> Self {
        let diff_engine::LintError {
            lint_error,
            keyspace_name,
            table_name,
            error_description,
        } = lint;
        Self {
            lint_error: optional(lint_error),
            keyspace_name: optional(keyspace_name),
            table_name: optional(table_name),
            error_description: optional(error_description),
        }
    }
}

impl From<LintError<'_>> for diff_engine::LintError {
    fn from(shape: LintError<'_>) -> Self {
        Self {
            lint_error: owned(shape.lint_error),
            keyspace_name: owned(shape.keyspace_name),
            table_name: owned(shape.table_name),
            error_description: owned(shape.error_description),
        }
    }
}

/// A deploy request's operation on one table.
#[derive(Debug, Serialize, Deserialize)]
pub struct Operation<'a> {
    id: Cow<'a, str>,
    state: Cow<'a, str>,
    keyspace_name: Option<Cow<'a, str>>,
    table_name: Option<Cow<'a, str>>,
    operation_name: Option<Cow<'a, str>>,
    ddl_statement: Option<Cow<'a, str>>,
    deploy_errors: Option<Cow<'a, str>>,
    deploy_error_docs_url: Option<Cow<'a, str>>,
    progress_percentage: Option<f64>,
    /// How long the API expects a running operation to take still, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    eta_seconds: Option<u64>,
    /// Only on an operation of a revert.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    revert_errors: Option<Cow<'a, str>>,
}

impl<'a> From<&'a diff_engine::DeployOperation> for Operation<'a> {
    fn from(operation: &'a diff_engine::DeployOperation) -> Self {
        let diff_engine::DeployOperation {
            id,
            state,
            keyspace_name,
            table_name,
            operation_name,
            ddl_statement,
            deploy_errors,
            deploy_error_docs_url,
            progress_percentage,
            eta_seconds,
            revert_errors,
        } = operation;
        Self {
            id: text(id),
            state: text(state.as_str()),
            keyspace_name: optional(keyspace_name),
            table_name: optional(table_name),
            operation_name: optional(operation_name),
            ddl_statement: optional(ddl_statement),
            deploy_errors: optional(deploy_errors),
            deploy_error_docs_url: optional(deploy_error_docs_url),
            progress_percentage: *progress_percentage,
            eta_seconds: *eta_seconds,
            revert_errors: optional(revert_errors),
        }
    }
}

impl From<Operation<'_>> for diff_engine::DeployOperation {
    fn from(shape: Operation<'_>) -> Self {
        Self {
            id: shape.id.into_owned(),
            state: OperationState::parse(&shape.state),
            keyspace_name: owned(shape.keyspace_name),
            table_name: owned(shape.table_name),
            operation_name: owned(shape.operation_name),
            ddl_statement: owned(shape.ddl_statement),
            deploy_errors: owned(shape.deploy_errors),
            deploy_error_docs_url: owned(shape.deploy_error_docs_url),
            progress_percentage: shape.progress_percentage,
            eta_seconds: shape.eta_seconds,
            revert_errors: owned(shape.revert_errors),
        }
    }
}

/// A backup of a production branch.
#[derive(Debug, Serialize, Deserialize)]
pub struct Backup<'a> {
    id: Cow<'a, str>,
    name: Cow<'a, str>,
    branch: Cow<'a, str>,
    state: Cow<'a, str>,
    size: Option<u64>,
    started_at: Option<Cow<'a, str>>,
    completed_at: Option<Cow<'a, str>>,
}

impl<'a> From<&'a diff_engine::Backup> for Backup<'a> {
    fn from(backup: &'a diff_engine::Backup) -> Self {
        let diff_engine::Backup {
            id,
            name,
            branch,
            state,
            size,
            started_at,
            completed_at,
        } = backup;
        Self {
            id: text(id),
            name: text(name),
            branch: text(branch),
            state: text(state),
            size: *size,
            started_at: optional(started_at),
            completed_at: optional(completed_at),
        }
    }
}

impl From<Backup<'_>> for diff_engine::Backup {
    fn from(shape: Backup<'_>) -> Self {
        Self {
            id: shape.id.into_owned(),
            name: shape.name.into_owned(),
            branch: shape.branch.into_owned(),
            state: shape.state.into_owned(),
            size: shape.size,
            started_at: owned(shape.started_at),
            completed_at: owned(shape.completed_at),
        }
    }
}

/// A production branch's cluster change or keyspace resize.
#[derive(Debug, Serialize, Deserialize)]
pub struct Resize<'a> {
    id: Cow<'a, str>,
    branch: Cow<'a, str>,
    keyspace: Option<Cow<'a, str>>,
    state: Cow<'a, str>,
    previous_cluster_name: Option<Cow<'a, str>>,
    cluster_name: Option<Cow<'a, str>>,
    previous_replicas: Option<u64>,
    replicas: Option<u64>,
    previous_maximum_storage_bytes: Option<u64>,
    maximum_storage_bytes: Option<u64>,
    started_at: Option<Cow<'a, str>>,
    completed_at: Option<Cow<'a, str>>,
}

impl<'a> From<&'a diff_engine::Resize> for Resize<'a> {
    fn from(resize: &'a diff_engine::Resize) -> Self {
        let diff_engine::Resize {
            id,
            branch,
            keyspace,
            state,
            previous_cluster_name,
            cluster_name,
            previous_replicas,
            replicas,
            previous_maximum_storage_bytes,
            maximum_storage_bytes,
            started_at,
            completed_at,
        } = resize;
        Self {
            id: text(id),
            branch: text(branch),
            keyspace: optional(keyspace),
            state: text(state),
            previous_cluster_name: optional(previous_cluster_name),
            cluster_name: optional(cluster_name),
            previous_replicas: *previous_replicas,
            replicas: *replicas,
            previous_maximum_storage_bytes: *previous_maximum_storage_bytes,
            maximum_storage_bytes: *maximum_storage_bytes,
            started_at: optional(started_at),
            completed_at: optional(completed_at),
        }
    }
}

impl From<Resize<'_>> for diff_engine::Resize {
    fn from(shape: Resize<'_>) -> Self {
        Self {
            id: shape.id.into_owned(),
            branch: shape.branch.into_owned(),
            keyspace: owned(shape.keyspace),
            state: shape.state.into_owned(),
            previous_cluster_name: owned(shape.previous_cluster_name),
            cluster_name: owned(shape.cluster_name),
            previous_replicas: shape.previous_replicas,
            replicas: shape.replicas,
            previous_maximum_storage_bytes: shape.previous_maximum_storage_bytes,
            maximum_storage_bytes: shape.maximum_storage_bytes,
            started_at: owned(shape.started_at),
            completed_at: owned(shape.completed_at),
        }
    }
}

/// A schema recommendation of PlanetScale's.
#[derive(Debug, Serialize, Deserialize)]
pub struct Recommendation<'a> {
    id: Cow<'a, str>,
    number: u64,
    title: Cow<'a, str>,
    table_name: Option<Cow<'a, str>>,
    keyspace: Option<Cow<'a, str>>,
    ddl_statement: Option<Cow<'a, str>>,
    recommendation_type: Option<Cow<'a, str>>,
    state: Cow<'a, str>,
    html_url: Option<Cow<'a, str>>,
}

impl<'a> From<&'a diff_engine::SchemaRecommendation> for Recommendation<'a> {
    fn from(recommendation: &'a diff_engine::SchemaRecommendation) -> Self {
        let diff_engine::SchemaRecommendation {
            id,
            number,
            title,
            table_name,
            keyspace,
            ddl_statement,
            recommendation_type,
            state,
            html_url,
        } = recommendation;
        Self {
            id: text(id),
            number: *number,
            title: text(title),
            table_name: optional(table_name),
            keyspace: optional(keyspace),
            ddl_statement: optional(ddl_statement),
            recommendation_type: optional(recommendation_type),
            state: text(state),
            html_url: optional(html_url),
        }
    }
}

impl From<Recommendation<'_>> for diff_engine::SchemaRecommendation {
    fn from(shape: Recommendation<'_>) -> Self {
        Self {
            id: shape.id.into_owned(),
            number: shape.number,
            title: shape.title.into_owned(),
            table_name: owned(shape.table_name),
            keyspace: owned(shape.keyspace),
            ddl_statement: owned(shape.ddl_statement),
            recommendation_type: owned(shape.recommendation_type),
            state: shape.state.into_owned(),
            html_url: owned(shape.html_url),
        }
    }
}

/// A database's maintenance schedule.
#[derive(Debug, Serialize, Deserialize)]
pub struct Maintenance<'a> {
    id: Cow<'a, str>,
    name: Cow<'a, str>,
    next_window_datetime: Option<Cow<'a, str>>,
    last_window_datetime: Option<Cow<'a, str>>,
    duration_hours: Option<u64>,
    required: bool,
    deadline_at: Option<Cow<'a, str>>,
    pending_vitess_version: Option<Cow<'a, str>>,
    pending_mysql_version: Option<Cow<'a, str>>,
}

impl<'a> From<&'a diff_engine::MaintenanceSchedule> for Maintenance<'a> {
    fn from(schedule: &'a diff_engine::MaintenanceSchedule) -> Self {
        let diff_engine::MaintenanceSchedule {
            id,
            name,
            next_window_datetime,
            last_window_datetime,
            duration_hours,
            required,
            deadline_at,
            pending_vitess_version,
            pending_mysql_version,
        } = schedule;
        Self {
            id: text(id),
            name: text(name),
            next_window_datetime: optional(next_window_datetime),
            last_window_datetime: optional(last_window_datetime),
            duration_hours: *duration_hours,
            required: *required,
            deadline_at: optional(deadline_at),
            pending_vitess_version: optional(pending_vitess_version),
            pending_mysql_version: optional(pending_mysql_version),
        }
    }
}

impl From<Maintenance<'_>> for diff_engine::MaintenanceSchedule {
    fn from(shape: Maintenance<'_>) -> Self {
        Self {
            id: shape.id.into_owned(),
            name: shape.name.into_owned(),
            next_window_datetime: owned(shape.next_window_datetime),
            last_window_datetime: owned(shape.last_window_datetime),
            duration_hours: shape.duration_hours,
            required: shape.required,
            deadline_at: owned(shape.deadline_at),
            pending_vitess_version: owned(shape.pending_vitess_version),
            pending_mysql_version: owned(shape.pending_mysql_version),
        }
    }
}
