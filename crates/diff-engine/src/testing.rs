//! Builders of domain values for tests and benchmarks (the `testing` feature): a plausible value
//! in one call, with only what the test is about spelled out.
//!
//! Every optional field starts empty, as the API may leave it; the setters fill in what a test
//! needs. The event builders take the resource as it is now and derive the event's state or
//! error text from it, so a test cannot build an event that contradicts its own resource.
//!
//! ```
//! use diff_engine::testing::{workflow, workflow_state_changed};
//! use diff_engine::{EventKind, WorkflowState};
//!
//! let event = workflow_state_changed(
//!     Some(WorkflowState::SwitchedPrimaries),
//!     workflow(3).state(WorkflowState::Cutover).keyspaces("commerce", "customers").build(),
//! )
//! .id("evt_1")
//! .build();
//! assert!(matches!(event.kind, EventKind::WorkflowStateChanged { state: WorkflowState::Cutover, .. }));
//! assert_eq!(event.organization, "acme");
//! ```

use time::macros::datetime;
use time::OffsetDateTime;

use crate::{
    DeployOperation, DeployRequest, DeployState, Event, EventKind, LintError, OperationPhase,
    OperationState, Severity, Workflow, WorkflowState,
};

/// Workflow number `number`: id `wf-{number}`, named `move-customers`, `running`.
pub fn workflow(number: u64) -> WorkflowBuilder {
    WorkflowBuilder(Workflow {
        id: format!("wf-{number}"),
        number,
        name: "move-customers".into(),
        state: WorkflowState::Running,
        workflow_errors: None,
        source_keyspace: None,
        target_keyspace: None,
        branch: None,
        actor: None,
        actor_id: None,
        cutover_by: None,
        updated_at: None,
        times: crate::WorkflowTimes::default(),
    })
}

/// A [`Workflow`] being built.
#[derive(Debug, Clone)]
#[must_use]
pub struct WorkflowBuilder(Workflow);

impl WorkflowBuilder {
    /// PlanetScale's id of it.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.0.id = id.into();
        self
    }

    /// Its name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.0.name = name.into();
        self
    }

    /// Its state.
    pub fn state(mut self, state: WorkflowState) -> Self {
        self.0.state = state;
        self
    }

    /// Its error text.
    pub fn errors(mut self, errors: impl Into<String>) -> Self {
        self.0.workflow_errors = Some(errors.into());
        self
    }

    /// The keyspaces its tables move from and to.
    pub fn keyspaces(mut self, source: impl Into<String>, target: impl Into<String>) -> Self {
        self.0.source_keyspace = Some(source.into());
        self.0.target_keyspace = Some(target.into());
        self
    }

    /// The branch it runs on.
    pub fn branch(mut self, branch: impl Into<String>) -> Self {
        self.0.branch = Some(branch.into());
        self
    }

    /// Who started it.
    pub fn actor(mut self, actor: impl Into<String>) -> Self {
        self.0.actor = Some(actor.into());
        self
    }

    /// Who cut it over.
    pub fn cutover_by(mut self, name: impl Into<String>) -> Self {
        self.0.cutover_by = Some(name.into());
        self
    }

    /// The workflow.
    pub fn build(self) -> Workflow {
        self.0
    }
}

/// Deploy request number `number`: id `dr-{number}`, open, `pending`.
pub fn deploy_request(number: u64) -> DeployRequestBuilder {
    DeployRequestBuilder(DeployRequest {
        id: format!("dr-{number}"),
        number,
        state: "open".into(),
        deployment_state: DeployState::Pending,
        ..DeployRequest::default()
    })
}

/// A [`DeployRequest`] being built.
#[derive(Debug, Clone)]
#[must_use]
pub struct DeployRequestBuilder(DeployRequest);

impl DeployRequestBuilder {
    /// PlanetScale's id of it.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.0.id = id.into();
        self
    }

    /// Its `deployment_state`.
    pub fn state(mut self, state: DeployState) -> Self {
        self.0.deployment_state = state;
        self
    }

    /// Closed (`state` is `closed`).
    pub fn closed(mut self) -> Self {
        self.0.state = "closed".into();
        self
    }

    /// The branch it deploys, and the branch it deploys into.
    pub fn branches(mut self, branch: impl Into<String>, into_branch: impl Into<String>) -> Self {
        self.0.branch = Some(branch.into());
        self.0.into_branch = Some(into_branch.into());
        self
    }

    /// Its page on the dashboard.
    pub fn html_url(mut self, url: impl Into<String>) -> Self {
        self.0.html_url = Some(url.into());
        self
    }

    /// Who opened it.
    pub fn actor(mut self, actor: impl Into<String>) -> Self {
        self.0.actor = Some(actor.into());
        self
    }

    /// Adds a lint error: `code` on `keyspace`.`table`, described as `description`.
    pub fn lint_error(
        mut self,
        code: &str,
        keyspace: &str,
        table: &str,
        description: &str,
    ) -> Self {
        self.0.lint_errors.push(LintError {
            lint_error: Some(code.into()),
            keyspace_name: Some(keyspace.into()),
            table_name: Some(table.into()),
            error_description: Some(description.into()),
        });
        self
    }

    /// Its `deploy_check_errors`.
    pub fn check_errors(mut self, errors: impl Into<String>) -> Self {
        self.0.deploy_check_errors = Some(errors.into());
        self
    }

    /// Its `deployment.cutover_expiring`.
    pub fn cutover_expiring(mut self, expiring: bool) -> Self {
        self.0.cutover_expiring = Some(expiring);
        self
    }

    /// Its `deployment.queue_paused` and `queue_pause_reason`.
    pub fn queue_paused(mut self, paused: bool, reason: Option<&str>) -> Self {
        self.0.queue_paused = Some(paused);
        self.0.queue_pause_reason = reason.map(str::to_owned);
        self
    }

    /// `deployment.table_locked`, and the locked table's name.
    pub fn table_locked(mut self, table: Option<&str>) -> Self {
        self.0.table_locked = Some(true);
        self.0.locked_table_name = table.map(str::to_owned);
        self
    }

    /// Its revert request's `waiting_period_end_at`, RFC 3339.
    pub fn revert_window_ends_at(mut self, at: impl Into<String>) -> Self {
        self.0.revert_window_ends_at = Some(at.into());
        self
    }

    /// Its `deployment.ready_to_cutover_at`, RFC 3339.
    pub fn ready_to_cutover_at(mut self, at: impl Into<String>) -> Self {
        self.0.ready_to_cutover_at = Some(at.into());
        self
    }

    /// The deploy request.
    pub fn build(self) -> DeployRequest {
        self.0
    }
}

/// Operation `id`, an `ALTER` of table `table` in keyspace `commerce`, `pending`.
pub fn operation(id: &str, table: &str) -> OperationBuilder {
    OperationBuilder(DeployOperation {
        id: id.into(),
        state: OperationState::Pending,
        keyspace_name: Some("commerce".into()),
        table_name: Some(table.into()),
        operation_name: Some("ALTER".into()),
        ddl_statement: None,
        deploy_errors: None,
        deploy_error_docs_url: None,
        progress_percentage: None,
        eta_seconds: None,
        revert_errors: None,
    })
}

/// A [`DeployOperation`] being built.
#[derive(Debug, Clone)]
#[must_use]
pub struct OperationBuilder(DeployOperation);

impl OperationBuilder {
    /// Its state.
    pub fn state(mut self, state: OperationState) -> Self {
        self.0.state = state;
        self
    }

    /// The keyspace of its table; `None` as on revert operations.
    pub fn keyspace(mut self, keyspace: Option<&str>) -> Self {
        self.0.keyspace_name = keyspace.map(str::to_owned);
        self
    }

    /// What it does (`ALTER` unless set).
    pub fn operation_name(mut self, name: impl Into<String>) -> Self {
        self.0.operation_name = Some(name.into());
        self
    }

    /// The DDL it runs.
    pub fn ddl(mut self, statement: impl Into<String>) -> Self {
        self.0.ddl_statement = Some(statement.into());
        self
    }

    /// Its deploy error, and the page PlanetScale links for it.
    pub fn deploy_errors(mut self, errors: impl Into<String>, docs_url: Option<&str>) -> Self {
        self.0.deploy_errors = Some(errors.into());
        self.0.deploy_error_docs_url = docs_url.map(str::to_owned);
        self
    }

    /// A revert operation's error text.
    pub fn revert_errors(mut self, errors: impl Into<String>) -> Self {
        self.0.revert_errors = Some(errors.into());
        self
    }

    /// How far it got, in percent.
    pub fn progress(mut self, percentage: f64) -> Self {
        self.0.progress_percentage = Some(percentage);
        self
    }

    /// The operation.
    pub fn build(self) -> DeployOperation {
        self.0
    }
}

/// `workflow.state_changed` from `previous` to the state `workflow` is in.
pub fn workflow_state_changed(previous: Option<WorkflowState>, workflow: Workflow) -> EventBuilder {
    EventBuilder::new(EventKind::WorkflowStateChanged {
        previous_state: previous,
        state: workflow.state.clone(),
        workflow,
    })
}

/// `workflow.errors_changed` from `previous` to the error text `workflow` has.
pub fn workflow_errors_changed(previous: Option<&str>, workflow: Workflow) -> EventBuilder {
    EventBuilder::new(EventKind::WorkflowErrorsChanged {
        errors: workflow.workflow_errors.clone(),
        previous_errors: previous.map(str::to_owned),
        workflow,
    })
}

/// `deploy_request.state_changed` from `previous` to the state `deploy_request` is in.
pub fn deploy_request_state_changed(
    previous: Option<DeployState>,
    deploy_request: DeployRequest,
) -> EventBuilder {
    EventBuilder::new(EventKind::DeployRequestStateChanged {
        previous_state: previous,
        state: deploy_request.deployment_state.clone(),
        deploy_request,
    })
}

/// `deploy_operation.state_changed` of an operation of deploy request `number`'s `phase`, from
/// `previous` to the state `operation` is in.
pub fn operation_state_changed(
    number: u64,
    phase: OperationPhase,
    previous: Option<OperationState>,
    operation: DeployOperation,
) -> EventBuilder {
    EventBuilder::new(EventKind::DeployOperationStateChanged {
        previous_state: previous,
        state: operation.state.clone(),
        deploy_request_number: number,
        phase,
        operation,
    })
}

/// `deploy_operation.errors_changed` of an operation of deploy request `number`'s `phase`, from
/// `previous` to the error text `operation` has for that phase.
pub fn operation_errors_changed(
    number: u64,
    phase: OperationPhase,
    previous: Option<&str>,
    operation: DeployOperation,
) -> EventBuilder {
    EventBuilder::new(EventKind::DeployOperationErrorsChanged {
        errors: operation.errors(phase).map(str::to_owned),
        previous_errors: previous.map(str::to_owned),
        deploy_request_number: number,
        phase,
        operation,
    })
}

/// `deploy_request.awaiting_cutover`: the `reminder`-th reminder of `deploy_request` waiting
/// for its cutover since `since`.
pub fn awaiting_cutover(
    deploy_request: DeployRequest,
    since: OffsetDateTime,
    reminder: u64,
) -> EventBuilder {
    EventBuilder::new(EventKind::DeployRequestAwaitingCutover {
        waiting_since: since,
        reminder,
        deploy_request,
    })
    .severity(Severity::Warning)
}

/// `deploy_request.cutover_expiring` of `deploy_request`.
pub fn cutover_expiring(deploy_request: DeployRequest) -> EventBuilder {
    EventBuilder::new(EventKind::DeployRequestCutoverExpiring { deploy_request })
        .severity(Severity::Critical)
}

/// `deploy_request.queue_paused` of `deploy_request`, with the reason it carries.
pub fn queue_paused(deploy_request: DeployRequest) -> EventBuilder {
    EventBuilder::new(EventKind::DeployRequestQueuePaused {
        queue_pause_reason: deploy_request.queue_pause_reason.clone(),
        deploy_request,
    })
    .severity(Severity::Warning)
}

/// `deploy_operation.stalled` of an operation of deploy request `number`, not moving since
/// `since`.
pub fn operation_stalled(
    number: u64,
    since: OffsetDateTime,
    operation: DeployOperation,
) -> EventBuilder {
    EventBuilder::new(EventKind::DeployOperationStalled {
        stalled_since: since,
        deploy_request_number: number,
        phase: OperationPhase::Deploy,
        operation,
    })
    .severity(Severity::Warning)
}

/// An [`Event`] being built: id `evt_1`, of `acme/commerce`, `info`, observed at
/// 2026-11-23 12:00 UTC unless set.
#[derive(Debug, Clone)]
#[must_use]
pub struct EventBuilder(Event);

impl EventBuilder {
    fn new(kind: EventKind) -> Self {
        Self(Event {
            id: "evt_1".into(),
            kind,
            organization: "acme".into(),
            database: "commerce".into(),
            severity: Severity::Info,
            observed_at: datetime!(2026-11-23 12:00 UTC),
        })
    }

    /// Its id.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.0.id = id.into();
        self
    }

    /// The organization and database it happened in.
    pub fn database(mut self, organization: &str, database: &str) -> Self {
        self.0.organization = organization.into();
        self.0.database = database.into();
        self
    }

    /// Its severity.
    pub fn severity(mut self, severity: Severity) -> Self {
        self.0.severity = severity;
        self
    }

    /// When it was observed.
    pub fn observed_at(mut self, at: OffsetDateTime) -> Self {
        self.0.observed_at = at;
        self
    }

    /// The event.
    pub fn build(self) -> Event {
        self.0
    }
}
