//! Sample events shared by the rendering and routing tests.

use diff_engine::{
    DeployOperation, DeployRequest, DeployState, Event, EventKind, LintError, OperationPhase,
    OperationState, Severity, Workflow, WorkflowState,
};
use time::macros::datetime;

pub(crate) fn workflow(state: WorkflowState, errors: Option<&str>) -> Workflow {
    Workflow {
        id: "wf_8cd2".into(),
        number: 3,
        name: "move-customers".into(),
        state,
        workflow_errors: errors.map(str::to_owned),
        source_keyspace: Some("commerce".into()),
        target_keyspace: Some("customers".into()),
        branch: Some("main".into()),
        actor: Some("Ada Lovelace".into()),
        cutover_by: Some("Grace Hopper".into()),
        updated_at: None,
    }
}

pub(crate) fn operation(state: OperationState, errors: Option<&str>) -> DeployOperation {
    DeployOperation {
        id: "op_41".into(),
        state,
        keyspace_name: Some("commerce".into()),
        table_name: Some("orders".into()),
        operation_name: Some("alter".into()),
        ddl_statement: Some("ALTER TABLE `orders` ADD UNIQUE KEY `idx_ref` (`ref`)".into()),
        deploy_errors: errors.map(str::to_owned),
        deploy_error_docs_url: errors.map(|_| "https://planetscale.com/docs/errors".to_owned()),
        progress_percentage: Some(42.0),
        revert_errors: None,
    }
}

fn deploy_request(state: DeployState) -> DeployRequest {
    DeployRequest {
        id: "dr_77".into(),
        number: 7,
        state: "open".into(),
        deployment_state: state,
        branch: Some("add-order-ref".into()),
        into_branch: Some("main".into()),
        html_url: Some("https://app.planetscale.com/acme/commerce/deploy-requests/7".into()),
        actor: Some("Ada Lovelace".into()),
        ..DeployRequest::default()
    }
}

/// A failed revert operation and a failed validation.
pub(crate) fn revert_and_validation_events() -> Vec<Event> {
    let mut validation = deploy_request(DeployState::Error);
    validation.lint_errors = vec![LintError {
        lint_error: Some("NO_UNIQUE_KEY".into()),
        keyspace_name: Some("commerce".into()),
        table_name: Some("audit_log".into()),
        error_description: Some("table \"audit_log\" has no unique key".into()),
    }];
    validation.deploy_check_errors = Some("schema checks failed for 1 table".into());
    vec![
        event(
            "evt_0006",
            Severity::Critical,
            EventKind::DeployOperationStateChanged {
                previous_state: Some(OperationState::Other("submit".into())),
                state: OperationState::Error,
                deploy_request_number: 7,
                phase: OperationPhase::Revert,
                operation: DeployOperation {
                    id: "rv_12".into(),
                    keyspace_name: None,
                    deploy_errors: None,
                    deploy_error_docs_url: None,
                    progress_percentage: None,
                    revert_errors: Some("Lock wait timeout exceeded on `orders`".into()),
                    ..operation(OperationState::Error, None)
                },
            },
        ),
        event(
            "evt_0007",
            Severity::Critical,
            EventKind::DeployRequestStateChanged {
                previous_state: Some(DeployState::Pending),
                state: DeployState::Error,
                deploy_request: validation,
            },
        ),
    ]
}

fn event(id: &str, severity: Severity, kind: EventKind) -> Event {
    Event {
        id: id.into(),
        kind,
        organization: "acme".into(),
        database: "commerce".into(),
        severity,
        observed_at: datetime!(2026-11-23 12:00 UTC),
    }
}

/// One event of each type.
pub(crate) fn sample_events() -> Vec<Event> {
    vec![
        event(
            "evt_0001",
            Severity::Info,
            EventKind::WorkflowStateChanged {
                previous_state: Some(WorkflowState::SwitchedPrimaries),
                state: WorkflowState::Cutover,
                workflow: workflow(WorkflowState::Cutover, None),
            },
        ),
        event(
            "evt_0002",
            Severity::Critical,
            EventKind::WorkflowErrorsChanged {
                errors: Some("vreplication: lag exceeds 30s".into()),
                previous_errors: None,
                workflow: workflow(
                    WorkflowState::Running,
                    Some("vreplication: lag exceeds 30s"),
                ),
            },
        ),
        event(
            "evt_0003",
            Severity::Critical,
            EventKind::DeployRequestStateChanged {
                previous_state: Some(DeployState::InProgress),
                state: DeployState::CompleteError,
                deploy_request: deploy_request(DeployState::CompleteError),
            },
        ),
        event(
            "evt_0004",
            Severity::Critical,
            EventKind::DeployOperationStateChanged {
                previous_state: Some(OperationState::InProgress),
                state: OperationState::Error,
                deploy_request_number: 7,
                phase: OperationPhase::Deploy,
                operation: operation(
                    OperationState::Error,
                    Some("Duplicate entry 'A-1' for key 'idx_ref'"),
                ),
            },
        ),
        event(
            "evt_0005",
            Severity::Info,
            EventKind::DeployOperationErrorsChanged {
                errors: None,
                previous_errors: Some("throttled".into()),
                deploy_request_number: 7,
                phase: OperationPhase::Deploy,
                operation: operation(OperationState::InProgress, None),
            },
        ),
    ]
}
