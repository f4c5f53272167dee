//! What pswatch last saw of one workflow or deploy request ([`ResourceView`]): what the admin
//! API answers and what `pswatch wait` waits on, kept by the store beyond the resource's end so
//! that a wait that comes late still learns how it ended.

use diff_engine::{DeployOperation, OperationPhase, SeenOperation, Target, Workflow};
use time::OffsetDateTime;

use crate::ResourceKind;

/// One resource as pswatch last saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceView {
    /// Its database.
    pub target: Target,
    /// Workflow or deploy request.
    pub kind: ResourceKind,
    /// Its number within the database.
    pub number: u64,
    /// A workflow's name.
    pub name: Option<String>,
    /// A workflow's `state`; a deploy request's `state` (`open`, `closed`).
    pub state: String,
    /// A deploy request's `deployment_state`.
    pub deployment_state: Option<String>,
    /// The branch it deploys from (a deploy request) or runs on (a workflow).
    pub branch: Option<String>,
    /// The branch a deploy request deploys into.
    pub into_branch: Option<String>,
    /// Its page in the PlanetScale dashboard, when the API gave it.
    pub html_url: Option<String>,
    /// A deploy request's operations, of its deploy and of its revert.
    pub operations: Vec<OperationView>,
    /// The last event pswatch reported of it, if any.
    pub last_event: Option<LastEvent>,
    /// When the poll that saw it so ran.
    pub observed_at: OffsetDateTime,
    /// When it was first seen in its state (its `state` and `deployment_state`): the poll that
    /// saw the change, or the first that saw it at all.
    pub state_since: OffsetDateTime,
}

/// One table's operation of a deploy request.
#[derive(Debug, Clone, PartialEq)]
pub struct OperationView {
    /// PlanetScale's id of the operation.
    pub id: String,
    /// `deploy` or `revert`.
    pub phase: OperationPhase,
    /// Its keyspace.
    pub keyspace: Option<String>,
    /// Its table.
    pub table: Option<String>,
    /// Its state.
    pub state: String,
    /// How far it got, in percent, while it runs.
    pub progress_percentage: Option<f64>,
    /// How long the API expects it to take still, in seconds.
    pub eta_seconds: Option<u64>,
    /// Its error text.
    pub errors: Option<String>,
}

/// The last event of a resource: its id, type and when it was observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastEvent {
    /// The event's id.
    pub id: String,
    /// The event's type, e.g. `deploy_request.state_changed`.
    pub event_type: String,
    /// When the poll that saw it ran.
    pub at: OffsetDateTime,
}

impl ResourceView {
    /// The view of `workflow` in `target`, seen at `observed_at`.
    pub fn of_workflow(target: &Target, workflow: &Workflow, observed_at: OffsetDateTime) -> Self {
        Self {
            target: target.clone(),
            kind: ResourceKind::Workflow,
            number: workflow.number,
            name: Some(workflow.name.clone()),
            state: workflow.state.as_str().to_owned(),
            deployment_state: None,
            branch: workflow.branch.clone(),
            into_branch: None,
            html_url: None,
            operations: Vec::new(),
            last_event: None,
            observed_at,
            state_since: observed_at,
        }
    }

    /// The view of the deploy request `request` in `target`, with `operations`, seen at
    /// `observed_at`. One waiting for its cutover is in that state since PlanetScale says it
    /// became ready (`ready_to_cutover_at`), when that is earlier.
    pub fn of_deploy_request(
        target: &Target,
        request: &diff_engine::DeployRequest,
        operations: Vec<OperationView>,
        observed_at: OffsetDateTime,
    ) -> Self {
        Self {
            target: target.clone(),
            kind: ResourceKind::DeployRequest,
            number: request.number,
            name: None,
            state: request.state.clone(),
            deployment_state: Some(request.deployment_state.as_str().to_owned()),
            branch: request.branch.clone(),
            into_branch: request.into_branch.clone(),
            html_url: request.html_url.clone(),
            operations,
            last_event: None,
            observed_at,
            state_since: ready_since(request)
                .filter(|ready| *ready < observed_at)
                .unwrap_or(observed_at),
        }
    }

    /// The state a wait names: a deploy request's `deployment_state`, a workflow's `state`.
    pub fn waited_state(&self) -> &str {
        self.deployment_state.as_deref().unwrap_or(&self.state)
    }

    /// Whether it is in the same state as `other` (its `state` and `deployment_state`).
    pub fn same_state_as(&self, other: &Self) -> bool {
        self.state == other.state && self.deployment_state == other.deployment_state
    }

    /// Whether `other` shows the same as this view, whenever each was observed.
    pub fn shows_the_same_as(&self, other: &Self) -> bool {
        Self {
            observed_at: other.observed_at,
            ..self.clone()
        } == *other
    }
}

/// When a deploy request waiting for its cutover became ready, as the API says.
fn ready_since(request: &diff_engine::DeployRequest) -> Option<OffsetDateTime> {
    if request.deployment_state != diff_engine::DeployState::PendingCutover {
        return None;
    }
    let text = request.ready_to_cutover_at.as_deref()?;
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}

impl OperationView {
    /// The view of an operation as remembered between polls.
    pub fn of_seen(id: &str, phase: OperationPhase, operation: &SeenOperation) -> Self {
        Self {
            id: id.to_owned(),
            phase,
            keyspace: operation.keyspace_name.clone(),
            table: operation.table_name.clone(),
            state: operation.state.as_str().to_owned(),
            progress_percentage: operation.progress.percentage,
            eta_seconds: operation.progress.eta_seconds,
            errors: operation.errors.clone(),
        }
    }

    /// The view of an operation as the API gave it.
    pub fn of_observed(phase: OperationPhase, operation: &DeployOperation) -> Self {
        Self {
            id: operation.id.clone(),
            phase,
            keyspace: operation.keyspace_name.clone(),
            table: operation.table_name.clone(),
            state: operation.state.as_str().to_owned(),
            progress_percentage: operation.progress_percentage,
            eta_seconds: operation.eta_seconds,
            errors: operation.errors(phase).map(str::to_owned),
        }
    }
}
