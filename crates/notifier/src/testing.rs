//! Sample events shared by the rendering and routing tests.

use diff_engine::testing::{
    deploy_request_state_changed, operation, operation_errors_changed, operation_state_changed,
    workflow_errors_changed, workflow_state_changed,
};
use diff_engine::{
    DeployOperation, DeployRequest, DeployState, Event, OperationPhase, OperationState, Severity,
    Workflow, WorkflowState,
};

pub(crate) fn workflow(state: WorkflowState, errors: Option<&str>) -> Workflow {
    let workflow = diff_engine::testing::workflow(3)
        .id("wf_8cd2")
        .state(state)
        .keyspaces("commerce", "customers")
        .branch("main")
        .actor("Ada Lovelace")
        .cutover_by("Grace Hopper");
    match errors {
        Some(errors) => workflow.errors(errors),
        None => workflow,
    }
    .build()
}

fn deploy_operation(state: OperationState, errors: Option<&str>) -> DeployOperation {
    let operation = operation("op_41", "orders")
        .state(state)
        .operation_name("alter")
        .ddl("ALTER TABLE `orders` ADD UNIQUE KEY `idx_ref` (`ref`)")
        .progress(42.0);
    match errors {
        Some(errors) => {
            operation.deploy_errors(errors, Some("https://planetscale.com/docs/errors"))
        }
        None => operation,
    }
    .build()
}

fn deploy_request(state: DeployState) -> diff_engine::testing::DeployRequestBuilder {
    diff_engine::testing::deploy_request(7)
        .id("dr_77")
        .state(state)
        .branches("add-order-ref", "main")
        .html_url("https://app.planetscale.com/acme/commerce/deploy-requests/7")
        .actor("Ada Lovelace")
}

/// A failed revert operation and a failed validation.
pub(crate) fn revert_and_validation_events() -> Vec<Event> {
    let validation: DeployRequest = deploy_request(DeployState::Error)
        .lint_error(
            "NO_UNIQUE_KEY",
            "commerce",
            "audit_log",
            "table \"audit_log\" has no unique key",
        )
        .check_errors("schema checks failed for 1 table")
        .build();
    let revert = operation("rv_12", "orders")
        .state(OperationState::Error)
        .keyspace(None)
        .operation_name("alter")
        .ddl("ALTER TABLE `orders` ADD UNIQUE KEY `idx_ref` (`ref`)")
        .revert_errors("Lock wait timeout exceeded on `orders`")
        .build();
    vec![
        operation_state_changed(
            7,
            OperationPhase::Revert,
            Some(OperationState::Other("submit".into())),
            revert,
        )
        .id("evt_0006")
        .severity(Severity::Critical)
        .build(),
        deploy_request_state_changed(Some(DeployState::Pending), validation)
            .id("evt_0007")
            .severity(Severity::Critical)
            .build(),
    ]
}

/// One event of each type.
pub(crate) fn sample_events() -> Vec<Event> {
    let lag = "vreplication: lag exceeds 30s";
    vec![
        workflow_state_changed(
            Some(WorkflowState::SwitchedPrimaries),
            workflow(WorkflowState::Cutover, None),
        )
        .id("evt_0001")
        .build(),
        workflow_errors_changed(None, workflow(WorkflowState::Running, Some(lag)))
            .id("evt_0002")
            .severity(Severity::Critical)
            .build(),
        deploy_request_state_changed(
            Some(DeployState::InProgress),
            deploy_request(DeployState::CompleteError).build(),
        )
        .id("evt_0003")
        .severity(Severity::Critical)
        .build(),
        operation_state_changed(
            7,
            OperationPhase::Deploy,
            Some(OperationState::InProgress),
            deploy_operation(
                OperationState::Error,
                Some("Duplicate entry 'A-1' for key 'idx_ref'"),
            ),
        )
        .id("evt_0004")
        .severity(Severity::Critical)
        .build(),
        operation_errors_changed(
            7,
            OperationPhase::Deploy,
            Some("throttled"),
            deploy_operation(OperationState::InProgress, None),
        )
        .id("evt_0005")
        .build(),
    ]
}

/// A reminder, an expiring cutover, a paused queue and a stalled operation.
pub(crate) fn reminder_events() -> Vec<Event> {
    let at = time::macros::datetime!(2026-11-23 12:00 UTC);
    let waiting = deploy_request(DeployState::PendingCutover)
        .cutover_expiring(true)
        .queue_paused(true, Some("Deploys are paused for maintenance"))
        .build();
    vec![
        diff_engine::testing::awaiting_cutover(
            waiting.clone(),
            at - time::Duration::minutes(125),
            2,
        )
        .id("evt_0011")
        .build(),
        diff_engine::testing::cutover_expiring(waiting.clone())
            .id("evt_0012")
            .build(),
        diff_engine::testing::queue_paused(waiting)
            .id("evt_0013")
            .build(),
        diff_engine::testing::operation_stalled(
            7,
            at - time::Duration::minutes(31),
            deploy_operation(OperationState::InProgress, None),
        )
        .id("evt_0014")
        .build(),
    ]
}
