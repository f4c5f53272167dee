//! Events: what changed, as receivers see it.

use std::borrow::Cow;
use std::fmt::Write as _;

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::model::{DeployOperation, DeployRequest, OperationPhase, Target, Workflow};
use crate::states::{DeployState, OperationState, Severity, WorkflowState};
use crate::timer::TimerSubject;

/// One detected change. Serialized as the `data` of a webhook and stored in the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Stable: the same transition of the same resource always gets the same id.
    pub id: String,
    /// The event type and its data.
    pub kind: EventKind,
    /// The organization of the database.
    pub organization: String,
    /// The database, within its organization.
    pub database: String,
    /// How much a person should care.
    pub severity: Severity,
    /// When the poll that saw it ran.
    pub observed_at: OffsetDateTime,
}

/// The event types, each with its own data.
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    /// `workflow.state_changed`: a workflow's state changed, or a new workflow appeared.
    WorkflowStateChanged {
        /// The state before; `None` for a new workflow.
        previous_state: Option<WorkflowState>,
        /// The state now.
        state: WorkflowState,
        /// The workflow as the API showed it.
        workflow: Workflow,
    },
    /// `workflow.errors_changed`: its error text changed while its state stayed.
    WorkflowErrorsChanged {
        /// The error text now; `None` once cleared.
        errors: Option<String>,
        /// The error text before.
        previous_errors: Option<String>,
        /// The workflow as the API showed it.
        workflow: Workflow,
    },
    /// `deploy_request.state_changed`: a deploy request's `deployment_state` changed, or a new one appeared.
    DeployRequestStateChanged {
        /// The state before; `None` for a new deploy request.
        previous_state: Option<DeployState>,
        /// The state now.
        state: DeployState,
        /// The deploy request as the API showed it, with why validation failed.
        deploy_request: DeployRequest,
    },
    /// `deploy_operation.state_changed`: a per-table operation (of the deploy or its revert) changed state.
    DeployOperationStateChanged {
        /// The state before; `None` for an operation first seen already started.
        previous_state: Option<OperationState>,
        /// The state now.
        state: OperationState,
        /// The number of the deploy request the operation belongs to.
        deploy_request_number: u64,
        /// `deploy` for the schema change, `revert` for an operation of its revert.
        phase: OperationPhase,
        /// The operation as the API showed it.
        operation: DeployOperation,
    },
    /// `deploy_operation.errors_changed`: an operation's errors changed while its state stayed.
    DeployOperationErrorsChanged {
        /// The error text now; `None` once cleared.
        errors: Option<String>,
        /// The error text before.
        previous_errors: Option<String>,
        /// The number of the deploy request the operation belongs to.
        deploy_request_number: u64,
        /// `deploy` or `revert`.
        phase: OperationPhase,
        /// The operation as the API showed it.
        operation: DeployOperation,
    },
    /// `deploy_request.awaiting_cutover`: a deploy request has been `pending_cutover` for
    /// `[alerts] cutover_reminder`; repeated every `cutover_reminder` while it waits.
    DeployRequestAwaitingCutover {
        /// Since when it has been waiting for its cutover.
        waiting_since: OffsetDateTime,
        /// Which reminder of this wait it is: 1 for the first.
        reminder: u64,
        /// The deploy request as the API showed it.
        deploy_request: DeployRequest,
    },
    /// `deploy_request.cutover_expiring`: `deployment.cutover_expiring` turned true; PlanetScale
    /// will expire the cutover soon.
    DeployRequestCutoverExpiring {
        /// The deploy request as the API showed it.
        deploy_request: DeployRequest,
    },
    /// `deploy_request.queue_paused`: `deployment.queue_paused` turned true.
    DeployRequestQueuePaused {
        /// PlanetScale's reason, when it gives one.
        queue_pause_reason: Option<String>,
        /// The deploy request as the API showed it.
        deploy_request: DeployRequest,
    },
    /// `deploy_operation.stalled`: an `in_progress` operation's `progress_percentage` has not
    /// moved for `[alerts] stall_after`. Once per stall.
    DeployOperationStalled {
        /// Since when its progress has not moved.
        stalled_since: OffsetDateTime,
        /// The number of the deploy request the operation belongs to.
        deploy_request_number: u64,
        /// `deploy` or `revert`.
        phase: OperationPhase,
        /// The operation as the API showed it.
        operation: DeployOperation,
    },
    /// `backup.state_changed`: a backup of a production branch changed state, or a new one
    /// appeared.
    BackupStateChanged {
        /// The state before; `None` for a backup first seen.
        previous_state: Option<String>,
        /// The state now.
        state: String,
        /// Whether it is the first success of its branch after a failed backup (an incident
        /// opened for the failure resolves).
        recovers: bool,
        /// The backup as the API showed it.
        backup: crate::Backup,
    },
    /// `resize.state_changed`: a production branch's cluster change or keyspace resize changed
    /// state, or a new one appeared.
    ResizeStateChanged {
        /// The state before; `None` for a resize first seen.
        previous_state: Option<String>,
        /// The state now.
        state: String,
        /// The resize as the API showed it.
        resize: crate::Resize,
    },
    /// `schema_recommendation.opened`: PlanetScale recommends a schema change.
    SchemaRecommendationOpened {
        /// The recommendation.
        recommendation: crate::SchemaRecommendation,
    },
    /// `schema_recommendation.closed`: a recommendation was applied, dismissed or went stale.
    SchemaRecommendationClosed {
        /// Its state before (`open`).
        previous_state: String,
        /// The recommendation, its state now `applied`, `dismissed` or `stale`.
        recommendation: crate::SchemaRecommendation,
    },
    /// `maintenance.scheduled`: a maintenance window was scheduled, or moved.
    MaintenanceScheduled {
        /// The window before, if it moved.
        previous_window: Option<String>,
        /// The schedule, its `next_window_datetime` the new window.
        schedule: crate::MaintenanceSchedule,
    },
    /// `maintenance.started`: a maintenance window began (its `last_window_datetime` moved).
    MaintenanceStarted {
        /// The schedule.
        schedule: crate::MaintenanceSchedule,
    },
    /// `maintenance.finished`: a maintenance window's time is over.
    MaintenanceFinished {
        /// The schedule.
        schedule: crate::MaintenanceSchedule,
    },
    /// `deploy_request.revert_window_closing`: a deployed request's window to revert its change
    /// closes within `[alerts] revert_window_warning`. Once per window.
    DeployRequestRevertWindowClosing {
        /// When the window closes (PlanetScale's `waiting_period_end_at`).
        closes_at: OffsetDateTime,
        /// The deploy request as the API showed it.
        deploy_request: DeployRequest,
    },
    /// `deploy_request.blocked`: PlanetScale says a table the deployment changes is locked
    /// (`deployment.table_locked` turned true), so it cannot go on.
    DeployRequestBlocked {
        /// The locked table (`deployment.locked_table_name`), when PlanetScale names it.
        locked_table: Option<String>,
        /// The deploy request as the API showed it.
        deploy_request: DeployRequest,
    },
    /// `timer.fired`: a resource has stayed in a state a `[[timers]]` entry watches for its
    /// `after`, or for another `repeat` since its last firing.
    TimerFired {
        /// The timer's name.
        timer: String,
        /// The state the resource has stayed in.
        state: String,
        /// Since when it has been in it.
        since: OffsetDateTime,
        /// Which firing of this stay it is: 1 for the first (a service down across firing times
        /// makes one firing, numbered as the latest due).
        firing: u64,
        /// Whether the firing reached the timer's `escalate_after`.
        escalated: bool,
        /// The resource, as the API showed it.
        subject: TimerSubject,
    },
    /// `pswatch.digest`: a `[[digests]]` entry's summary of a period, sent to its channels at
    /// its time.
    Digest {
        /// The summary.
        digest: crate::Digest,
    },
    /// `planetscale.<event>`: one of PlanetScale's own webhook events (`branch.ready`,
    /// `cluster.storage`, …), received by pswatch's receiver and routed like the others.
    PlanetScale {
        /// PlanetScale's event, e.g. `branch.ready`: one of the `planetscale.*` entries of
        /// [`EVENT_TYPES`], without the prefix.
        event: PlanetScaleEvent,
        /// PlanetScale's `resource`, as it sent it.
        resource: serde_json::Value,
    },
}

/// Every event type, for validating route globs and for documentation.
pub const EVENT_TYPES: &[&str] = &[
    "workflow.state_changed",
    "workflow.errors_changed",
    "deploy_request.state_changed",
    "deploy_operation.state_changed",
    "deploy_operation.errors_changed",
    "deploy_request.awaiting_cutover",
    "deploy_request.cutover_expiring",
    "deploy_request.queue_paused",
    "deploy_operation.stalled",
    "backup.state_changed",
    "resize.state_changed",
    "schema_recommendation.opened",
    "schema_recommendation.closed",
    "maintenance.scheduled",
    "maintenance.started",
    "maintenance.finished",
    "pswatch.digest",
    "timer.fired",
    "deploy_request.revert_window_closing",
    "deploy_request.blocked",
    "planetscale.branch.ready",
    "planetscale.branch.sleeping",
    "planetscale.branch.anomaly",
    "planetscale.branch.out_of_memory",
    "planetscale.branch.primary_promoted",
    "planetscale.branch.schema_recommendation",
    "planetscale.branch.start_maintenance",
    "planetscale.cluster.storage",
    "planetscale.keyspace.storage",
    "planetscale.database.access_request",
    "planetscale.webhook.test",
];

/// The first of [`EVENT_TYPES`] that is one of PlanetScale's own events.
const FIRST_PLANETSCALE: usize = 20;

/// One of PlanetScale's own webhook events that pswatch routes (deploy request events are
/// not among them: they make pswatch poll, and the poll reports what changed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PlanetScaleEvent(usize);

impl PlanetScaleEvent {
    /// The event as PlanetScale names it, e.g. `branch.ready`; `None` for any other name.
    pub fn parse(name: &str) -> Option<Self> {
        EVENT_TYPES[FIRST_PLANETSCALE..]
            .iter()
            .position(|known| known.strip_prefix("planetscale.") == Some(name))
            .map(|index| Self(FIRST_PLANETSCALE + index))
    }

    /// PlanetScale's name, e.g. `branch.ready`.
    pub fn as_str(self) -> &'static str {
        let type_name = self.type_name();
        type_name.strip_prefix("planetscale.").unwrap_or(type_name)
    }

    /// pswatch's event type, e.g. `planetscale.branch.ready`.
    pub fn type_name(self) -> &'static str {
        EVENT_TYPES[self.0]
    }

    /// How much a person should care: an anomaly, an out-of-memory and storage at 90 % or
    /// more are critical; storage below that and maintenance are warnings; the rest is
    /// information. `resource` gives the storage percentage, when PlanetScale sends one.
    pub fn severity(self, resource: &serde_json::Value) -> Severity {
        match self.as_str() {
            "branch.anomaly" | "branch.out_of_memory" => Severity::Critical,
            "cluster.storage" | "keyspace.storage" => match storage_percentage(resource) {
                Some(percentage) if percentage >= 90.0 => Severity::Critical,
                Some(_) => Severity::Warning,
                // PlanetScale documents no storage payload: without a figure, it is a warning.
                None => Severity::Warning,
            },
            "branch.start_maintenance" => Severity::Warning,
            _ => Severity::Info,
        }
    }
}

/// The storage percentage a storage event's `resource` carries: the first number under a key
/// that names a percentage (`percentage`, `storage_percentage`, `percent_used`, …), at the
/// top level or one level down.
pub fn storage_percentage(resource: &serde_json::Value) -> Option<f64> {
    let of_object = |object: &serde_json::Map<String, serde_json::Value>| {
        object
            .iter()
            .filter(|(key, _)| key.contains("percent"))
            .find_map(|(_, value)| match value {
                serde_json::Value::Number(number) => number.as_f64(),
                serde_json::Value::String(text) => text.trim_end_matches('%').trim().parse().ok(),
                _ => None,
            })
    };
    let object = resource.as_object()?;
    of_object(object).or_else(|| {
        object
            .values()
            .filter_map(serde_json::Value::as_object)
            .find_map(of_object)
    })
}

impl TryFrom<String> for PlanetScaleEvent {
    type Error = String;

    fn try_from(name: String) -> Result<Self, String> {
        Self::parse(&name)
            .ok_or_else(|| format!("{name:?} is not a PlanetScale event pswatch routes"))
    }
}

impl From<PlanetScaleEvent> for String {
    fn from(event: PlanetScaleEvent) -> Self {
        event.as_str().to_owned()
    }
}

impl EventKind {
    /// The event type as receivers see it, e.g. `workflow.state_changed`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::WorkflowStateChanged { .. } => EVENT_TYPES[0],
            Self::WorkflowErrorsChanged { .. } => EVENT_TYPES[1],
            Self::DeployRequestStateChanged { .. } => EVENT_TYPES[2],
            Self::DeployOperationStateChanged { .. } => EVENT_TYPES[3],
            Self::DeployOperationErrorsChanged { .. } => EVENT_TYPES[4],
            Self::DeployRequestAwaitingCutover { .. } => EVENT_TYPES[5],
            Self::DeployRequestCutoverExpiring { .. } => EVENT_TYPES[6],
            Self::DeployRequestQueuePaused { .. } => EVENT_TYPES[7],
            Self::DeployOperationStalled { .. } => EVENT_TYPES[8],
            Self::BackupStateChanged { .. } => EVENT_TYPES[9],
            Self::ResizeStateChanged { .. } => EVENT_TYPES[10],
            Self::SchemaRecommendationOpened { .. } => EVENT_TYPES[11],
            Self::SchemaRecommendationClosed { .. } => EVENT_TYPES[12],
            Self::MaintenanceScheduled { .. } => EVENT_TYPES[13],
            Self::MaintenanceStarted { .. } => EVENT_TYPES[14],
            Self::MaintenanceFinished { .. } => EVENT_TYPES[15],
            Self::Digest { .. } => EVENT_TYPES[16],
            Self::TimerFired { .. } => EVENT_TYPES[17],
            Self::DeployRequestRevertWindowClosing { .. } => EVENT_TYPES[18],
            Self::DeployRequestBlocked { .. } => EVENT_TYPES[19],
            Self::PlanetScale { event, .. } => event.type_name(),
        }
    }

    /// The state the resource is in now: the new state of a state change, the unchanged state
    /// of an errors change. Routes filter on it.
    pub fn state(&self) -> &str {
        match self {
            Self::WorkflowStateChanged { state, .. } => state.as_str(),
            Self::WorkflowErrorsChanged { workflow, .. } => workflow.state.as_str(),
            Self::DeployRequestStateChanged { state, .. } => state.as_str(),
            Self::DeployOperationStateChanged { state, .. } => state.as_str(),
            Self::DeployOperationErrorsChanged { operation, .. }
            | Self::DeployOperationStalled { operation, .. } => operation.state.as_str(),
            Self::DeployRequestAwaitingCutover { deploy_request, .. }
            | Self::DeployRequestCutoverExpiring { deploy_request }
            | Self::DeployRequestQueuePaused { deploy_request, .. }
            | Self::DeployRequestRevertWindowClosing { deploy_request, .. }
            | Self::DeployRequestBlocked { deploy_request, .. } => {
                deploy_request.deployment_state.as_str()
            }
            // A branch's or a database's state, when PlanetScale's resource has one.
            Self::PlanetScale { resource, .. } => resource["state"].as_str().unwrap_or_default(),
            Self::BackupStateChanged { state, .. }
            | Self::ResizeStateChanged { state, .. }
            | Self::TimerFired { state, .. } => state,
            Self::SchemaRecommendationOpened { recommendation }
            | Self::SchemaRecommendationClosed { recommendation, .. } => &recommendation.state,
            Self::MaintenanceScheduled { .. } => "scheduled",
            Self::MaintenanceStarted { .. } => "started",
            Self::MaintenanceFinished { .. } => "finished",
            // A digest is about no one resource.
            Self::Digest { .. } => "",
        }
    }

    /// The state before a state change, as text; `None` for a new resource or an errors change.
    pub fn previous_state(&self) -> Option<&str> {
        match self {
            Self::WorkflowStateChanged { previous_state, .. } => {
                previous_state.as_ref().map(WorkflowState::as_str)
            }
            Self::DeployRequestStateChanged { previous_state, .. } => {
                previous_state.as_ref().map(DeployState::as_str)
            }
            Self::DeployOperationStateChanged { previous_state, .. } => {
                previous_state.as_ref().map(OperationState::as_str)
            }
            Self::BackupStateChanged { previous_state, .. }
            | Self::ResizeStateChanged { previous_state, .. } => previous_state.as_deref(),
            Self::SchemaRecommendationClosed { previous_state, .. } => Some(previous_state),
            Self::SchemaRecommendationOpened { .. } => None,
            Self::MaintenanceScheduled { .. }
            | Self::MaintenanceStarted { .. }
            | Self::MaintenanceFinished { .. } => None,
            Self::WorkflowErrorsChanged { .. }
            | Self::DeployOperationErrorsChanged { .. }
            | Self::DeployRequestAwaitingCutover { .. }
            | Self::DeployRequestCutoverExpiring { .. }
            | Self::DeployRequestQueuePaused { .. }
            | Self::DeployOperationStalled { .. }
            | Self::TimerFired { .. }
            | Self::DeployRequestRevertWindowClosing { .. }
            | Self::DeployRequestBlocked { .. }
            | Self::Digest { .. }
            | Self::PlanetScale { .. } => None,
        }
    }

    /// What changed, before and after: the error text of an errors change, the state of any
    /// other (before: `None` for a new resource or an event that is not a change of state).
    pub fn before_after(&self) -> [Option<&str>; 2] {
        match self {
            Self::WorkflowErrorsChanged {
                errors,
                previous_errors,
                ..
            }
            | Self::DeployOperationErrorsChanged {
                errors,
                previous_errors,
                ..
            } => [previous_errors.as_deref(), errors.as_deref()],
            _ => [self.previous_state(), Some(self.state())],
        }
    }

    /// The error text the event carries, if any: a workflow's errors, an operation's errors
    /// (of its phase), or why a deploy request failed validation.
    pub fn errors(&self) -> Option<Cow<'_, str>> {
        match self {
            Self::WorkflowStateChanged { workflow, .. }
            | Self::WorkflowErrorsChanged { workflow, .. } => {
                workflow.workflow_errors.as_deref().map(Cow::Borrowed)
            }
            Self::DeployOperationStateChanged {
                operation, phase, ..
            }
            | Self::DeployOperationErrorsChanged {
                operation, phase, ..
            } => operation.errors(*phase).map(Cow::Borrowed),
            Self::DeployRequestStateChanged { deploy_request, .. } => {
                deploy_request.validation_errors().map(Cow::Owned)
            }
            Self::DeployRequestAwaitingCutover { .. }
            | Self::DeployRequestCutoverExpiring { .. }
            | Self::DeployRequestQueuePaused { .. }
            | Self::DeployOperationStalled { .. }
            | Self::BackupStateChanged { .. }
            | Self::ResizeStateChanged { .. }
            | Self::SchemaRecommendationOpened { .. }
            | Self::SchemaRecommendationClosed { .. }
            | Self::MaintenanceScheduled { .. }
            | Self::MaintenanceStarted { .. }
            | Self::MaintenanceFinished { .. }
            | Self::TimerFired { .. }
            | Self::DeployRequestRevertWindowClosing { .. }
            | Self::DeployRequestBlocked { .. }
            | Self::Digest { .. }
            | Self::PlanetScale { .. } => None,
        }
    }

    /// The number of the deploy request the event is about, or whose operation it is about;
    /// `None` for other events.
    pub fn deploy_request_number(&self) -> Option<u64> {
        match self {
            Self::DeployOperationStateChanged {
                deploy_request_number,
                ..
            }
            | Self::DeployOperationErrorsChanged {
                deploy_request_number,
                ..
            }
            | Self::DeployOperationStalled {
                deploy_request_number,
                ..
            }
            | Self::TimerFired {
                subject:
                    TimerSubject::DeployOperation {
                        deploy_request_number,
                        ..
                    },
                ..
            } => Some(*deploy_request_number),
            _ => self.deploy_request().map(|request| request.number),
        }
    }

    /// The deploy request a deploy request event carries; `None` for other events.
    pub fn deploy_request(&self) -> Option<&DeployRequest> {
        match self {
            Self::DeployRequestStateChanged { deploy_request, .. }
            | Self::DeployRequestAwaitingCutover { deploy_request, .. }
            | Self::DeployRequestCutoverExpiring { deploy_request }
            | Self::DeployRequestQueuePaused { deploy_request, .. }
            | Self::DeployRequestRevertWindowClosing { deploy_request, .. }
            | Self::DeployRequestBlocked { deploy_request, .. }
            | Self::TimerFired {
                subject: TimerSubject::DeployRequest(deploy_request),
                ..
            } => Some(deploy_request),
            _ => None,
        }
    }

    /// The operation an operation event carries; `None` for other events.
    pub fn operation(&self) -> Option<&DeployOperation> {
        match self {
            Self::DeployOperationStateChanged { operation, .. }
            | Self::DeployOperationErrorsChanged { operation, .. }
            | Self::DeployOperationStalled { operation, .. }
            | Self::TimerFired {
                subject: TimerSubject::DeployOperation { operation, .. },
                ..
            } => Some(operation),
            _ => None,
        }
    }

    /// The phase of an operation event; `None` for other events.
    pub fn phase(&self) -> Option<OperationPhase> {
        match self {
            Self::DeployOperationStateChanged { phase, .. }
            | Self::DeployOperationErrorsChanged { phase, .. }
            | Self::DeployOperationStalled { phase, .. }
            | Self::TimerFired {
                subject: TimerSubject::DeployOperation { phase, .. },
                ..
            } => Some(*phase),
            _ => None,
        }
    }
}

impl Event {
    /// One of PlanetScale's own events, as its webhook delivered it. Its id depends only on
    /// the delivery (the database, the event, PlanetScale's timestamp and the whole resource),
    /// so a repeated delivery gets the same one and two different ones of the same resource in
    /// the same second get two.
    pub fn from_planetscale(
        organization: &str,
        database: &str,
        event: PlanetScaleEvent,
        timestamp: i64,
        resource: serde_json::Value,
        observed_at: OffsetDateTime,
    ) -> Self {
        let mut hasher = Sha256::new();
        for part in [organization, database, event.as_str()] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        hasher.update(timestamp.to_be_bytes());
        hasher.update(serde_json::to_vec(&resource).unwrap_or_default());
        Self {
            id: id_of(hasher),
            severity: event.severity(&resource),
            kind: EventKind::PlanetScale { event, resource },
            organization: organization.to_owned(),
            database: database.to_owned(),
            observed_at,
        }
    }

    /// The event type, e.g. `workflow.state_changed`.
    pub fn type_name(&self) -> &'static str {
        self.kind.type_name()
    }

    /// The database the event is about.
    pub fn target(&self) -> Target {
        Target::new(&self.organization, &self.database)
    }
}

/// The id of the `sequence`-th event of one resource. It depends only on what the event is,
/// never on when it was seen, so a poll that is repeated after a crash yields the same id and
/// receivers can de-duplicate on it.
pub(crate) fn event_id(target: &Target, kind: &EventKind, resource: &str, sequence: u64) -> String {
    let change = kind.before_after();
    let mut hasher = Sha256::new();
    for part in [
        target.organization.as_str(),
        target.database.as_str(),
        kind.type_name(),
        resource,
    ] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hasher.update(sequence.to_be_bytes());
    for value in change {
        match value {
            Some(text) => {
                hasher.update([1]);
                hasher.update(text.as_bytes());
            }
            None => hasher.update([0]),
        }
        hasher.update([0]);
    }
    id_of(hasher)
}

/// `evt_` and the first 16 bytes of what `hasher` took, in hexadecimal.
fn id_of(hasher: Sha256) -> String {
    let digest = hasher.finalize();
    let mut id = String::with_capacity(4 + 32);
    id.push_str("evt_");
    for byte in &digest[..16] {
        // Writing to a String cannot fail.
        let _ = write!(id, "{byte:02x}");
    }
    id
}
