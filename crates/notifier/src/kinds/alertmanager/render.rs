//! Alertmanager's alerts: which events fire one, which end one, and the body of
//! `POST /api/v2/alerts`. Pure.

use std::collections::BTreeMap;

use diff_engine::{Event, EventKind};
use model::FiringAlert;
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::text::{change, dashboard_url, fit, headline, rfc3339, truncate, TEST_NOTE};
use crate::words::Words;

/// The most of an annotation sent: Alertmanager sets no limit, its receivers (chat messages,
/// pages) do.
pub const ANNOTATION_LIMIT: usize = 4000;

/// Every `alertname` pswatch fires, with its severity and what fires and ends it (for the docs
/// and `pswatch check`).
pub const ALERTNAMES: &[(&str, &str, &str)] = &[
    (
        "PlanetScaleWorkflowError",
        "critical",
        "a workflow in error or reporting errors; ends when it is out of error",
    ),
    (
        "PlanetScaleDeployRequestError",
        "critical",
        "a deploy request in error, complete_error or complete_revert_error; ends when its state changes",
    ),
    (
        "PlanetScaleDeployOperationError",
        "critical",
        "a table's operation in error; ends when the operation or its deploy request changes state",
    ),
    (
        "PlanetScaleCutoverWaiting",
        "warning",
        "a deploy request waiting for its cutover for [alerts] cutover_reminder; ends when its state changes",
    ),
    (
        "PlanetScaleCutoverExpiring",
        "warning",
        "PlanetScale will expire a deploy request's cutover soon; ends when its state changes",
    ),
    (
        "PlanetScaleDeployQueuePaused",
        "warning",
        "the deploy queue of a deploy request's branch is paused; ends when its state changes",
    ),
    (
        "PlanetScaleOperationStalled",
        "warning",
        "a table's operation without progress for [alerts] stall_after; ends when the operation or its deploy request changes state",
    ),
    (
        "PlanetScaleBackupFailed",
        "critical",
        "a production branch's backup failed; ends at the branch's next successful backup",
    ),
];

/// The severity label of `alertname`.
fn severity(alertname: &str) -> &'static str {
    ALERTNAMES
        .iter()
        .find(|(name, _, _)| *name == alertname)
        .map_or("warning", |(_, severity, _)| severity)
}

/// What an alert is about: its `resource` label (`workflow/3`, `deploy_request/7`,
/// `branch/main`) and, for one table's operation, its `table` label (`keyspace.table`).
fn subject(event: &Event) -> Option<(String, Option<String>)> {
    let table = |operation: &diff_engine::DeployOperation| {
        let table = operation.table_name.as_deref().unwrap_or("?");
        match operation.keyspace_name.as_deref() {
            Some(keyspace) => format!("{keyspace}.{table}"),
            None => table.to_owned(),
        }
    };
    if let (Some(operation), Some(number)) =
        (event.kind.operation(), event.kind.deploy_request_number())
    {
        return Some((format!("deploy_request/{number}"), Some(table(operation))));
    }
    Some(match &event.kind {
        EventKind::WorkflowStateChanged { workflow, .. }
        | EventKind::WorkflowErrorsChanged { workflow, .. } => {
            (format!("workflow/{}", workflow.number), None)
        }
        EventKind::BackupStateChanged { backup, .. } => (format!("branch/{}", backup.branch), None),
        kind => (
            format!("deploy_request/{}", kind.deploy_request_number()?),
            None,
        ),
    })
}

/// The alert `event` fires, if it fires one.
pub fn alert_of(event: &Event, words: &Words) -> Option<FiringAlert> {
    let alertname = match &event.kind {
        EventKind::WorkflowStateChanged { workflow, .. }
        | EventKind::WorkflowErrorsChanged { workflow, .. }
            if workflow.state.is_error() || workflow.workflow_errors.is_some() =>
        {
            "PlanetScaleWorkflowError"
        }
        EventKind::DeployRequestStateChanged { state, .. } if state.is_error() => {
            "PlanetScaleDeployRequestError"
        }
        EventKind::DeployOperationStateChanged { state, .. } if state.is_error() => {
            "PlanetScaleDeployOperationError"
        }
        EventKind::DeployRequestAwaitingCutover { .. } => "PlanetScaleCutoverWaiting",
        EventKind::DeployRequestCutoverExpiring { .. } => "PlanetScaleCutoverExpiring",
        EventKind::DeployRequestQueuePaused { .. } => "PlanetScaleDeployQueuePaused",
        EventKind::DeployOperationStalled { .. } => "PlanetScaleOperationStalled",
        EventKind::BackupStateChanged { state, .. } if state == "failed" => {
            "PlanetScaleBackupFailed"
        }
        _ => return None,
    };
    let (resource, table) = subject(event)?;
    let mut labels = BTreeMap::from([
        ("alertname".to_owned(), alertname.to_owned()),
        ("organization".to_owned(), event.organization.clone()),
        ("database".to_owned(), event.database.clone()),
        ("resource".to_owned(), resource),
        ("severity".to_owned(), severity(alertname).to_owned()),
    ]);
    if let Some(table) = table {
        labels.insert("table".to_owned(), table);
    }
    let summary = words
        .title(event)
        .map_or_else(|| headline(event), str::to_owned);
    let description = match (words.text(event), event.kind.errors()) {
        (Some(text), _) => text.to_owned(),
        (None, Some(errors)) => format!("{}: {errors}", change(event)),
        (None, None) => change(event),
    };
    let url = dashboard_url(event);
    Some(FiringAlert {
        labels,
        annotations: BTreeMap::from([
            ("summary".to_owned(), fit(&summary, ANNOTATION_LIMIT)),
            (
                "description".to_owned(),
                truncate(&description, ANNOTATION_LIMIT).into_owned(),
            ),
            ("url".to_owned(), url.clone()),
        ]),
        generator_url: Some(url),
        starts_at: event.observed_at,
    })
}

/// Whether `event` ends `alert`: an event of the same resource that shows it out of the
/// alert's condition.
pub fn ends(event: &Event, alert: &FiringAlert) -> bool {
    let Some((resource, table)) = subject(event) else {
        return false;
    };
    let same_resource = alert.label("organization") == Some(event.organization.as_str())
        && alert.label("database") == Some(event.database.as_str())
        && alert.label("resource") == Some(resource.as_str());
    if !same_resource {
        return false;
    }
    match &event.kind {
        // Out of error, or over: whatever fired of the workflow ends.
        EventKind::WorkflowStateChanged { workflow, .. }
        | EventKind::WorkflowErrorsChanged { workflow, .. } => {
            (!workflow.state.is_error() && workflow.workflow_errors.is_none())
                || workflow.state.is_final()
        }
        // The deploy request moved: its wait, expiry, queue, errors and its tables' alerts end
        // (an error state fires its own alert again).
        EventKind::DeployRequestStateChanged { .. } => true,
        // A table's operation moved: its stall and error end (an error fires again).
        EventKind::DeployOperationStateChanged { .. } => {
            table.is_some() && alert.label("table") == table.as_deref()
        }
        EventKind::BackupStateChanged { state, .. } => state == "success",
        _ => false,
    }
}

/// The body of one alert in `POST /api/v2/alerts`: firing until `ends_at`, or resolved when
/// that is now.
pub fn body(alert: &FiringAlert, ends_at: OffsetDateTime) -> Value {
    let mut body = json!({
        "labels": alert.labels,
        "annotations": alert.annotations,
        "startsAt": rfc3339(alert.starts_at),
        "endsAt": rfc3339(ends_at),
    });
    if let Some(url) = &alert.generator_url {
        body["generatorURL"] = json!(url);
    }
    body
}

/// The alert of `pswatch test-notify`: `PswatchTest`, severity `info`, firing for `lasts`.
pub fn test_alert(channel: &str, now: OffsetDateTime) -> FiringAlert {
    FiringAlert {
        labels: BTreeMap::from([
            ("alertname".to_owned(), "PswatchTest".to_owned()),
            ("channel".to_owned(), channel.to_owned()),
            ("severity".to_owned(), "info".to_owned()),
        ]),
        annotations: BTreeMap::from([
            (
                "summary".to_owned(),
                format!("pswatch test message for channel {channel}"),
            ),
            ("description".to_owned(), TEST_NOTE.to_owned()),
        ]),
        generator_url: None,
        starts_at: now,
    }
}

#[cfg(test)]
mod tests {
    use diff_engine::testing::{
        deploy_request, deploy_request_state_changed, operation, operation_state_changed, workflow,
        workflow_state_changed,
    };
    use diff_engine::{DeployState, OperationPhase, OperationState, WorkflowState};

    use super::*;

    #[test]
    fn errors_fire_and_what_moves_on_ends_them() {
        let words = Words::default();
        let error = workflow_state_changed(
            Some(WorkflowState::Running),
            workflow(3).state(WorkflowState::Error).build(),
        )
        .build();
        let alert = alert_of(&error, &words).expect("an error fires");
        assert_eq!(alert.name(), "PlanetScaleWorkflowError");
        assert_eq!(alert.label("resource"), Some("workflow/3"));
        assert_eq!(alert.label("severity"), Some("critical"));
        assert_eq!(alert.label("organization"), Some("acme"));
        assert!(alert.annotations["url"].ends_with("/workflows"));
        assert!(!ends(&error, &alert), "still in error");
        let running = workflow_state_changed(
            Some(WorkflowState::Error),
            workflow(3).state(WorkflowState::Running).build(),
        )
        .build();
        assert!(alert_of(&running, &words).is_none());
        assert!(ends(&running, &alert));
        // Another workflow's recovery ends nothing of this one.
        let other = workflow_state_changed(None, workflow(4).build()).build();
        assert!(!ends(&other, &alert));

        // A table's error: its own alert, ended by the operation or the deploy request moving.
        let failed = operation_state_changed(
            7,
            OperationPhase::Deploy,
            Some(OperationState::InProgress),
            operation("op1", "orders")
                .state(OperationState::Error)
                .build(),
        )
        .build();
        let table = alert_of(&failed, &words).expect("fires");
        assert_eq!(table.name(), "PlanetScaleDeployOperationError");
        assert_eq!(table.label("resource"), Some("deploy_request/7"));
        assert!(table
            .label("table")
            .is_some_and(|table| table.ends_with("orders")));
        let other_table = operation_state_changed(
            7,
            OperationPhase::Deploy,
            None,
            operation("op2", "customers")
                .state(OperationState::Complete)
                .build(),
        )
        .build();
        assert!(!ends(&other_table, &table));
        let cancelled = deploy_request_state_changed(
            Some(DeployState::InProgress),
            deploy_request(7).state(DeployState::CompleteCancel).build(),
        )
        .build();
        assert!(ends(&cancelled, &table));
        assert!(alert_of(&cancelled, &words).is_none());
        let broken = deploy_request_state_changed(
            Some(DeployState::InProgress),
            deploy_request(7).state(DeployState::CompleteError).build(),
        )
        .build();
        assert_eq!(
            alert_of(&broken, &words).map(|alert| alert.name().to_owned()),
            Some("PlanetScaleDeployRequestError".to_owned())
        );

        // The body: labels, annotations, times in RFC 3339.
        let now = time::macros::datetime!(2026-12-07 12:00 UTC);
        let body = body(&alert, now);
        assert_eq!(body["labels"]["alertname"], "PlanetScaleWorkflowError");
        assert_eq!(body["endsAt"], "2026-12-07T12:00:00Z");
        assert!(body["generatorURL"].as_str().is_some());
    }

    #[test]
    fn every_alertname_fired_is_listed() {
        for (name, severity, _) in ALERTNAMES {
            assert!(name.starts_with("PlanetScale"), "{name}");
            assert!(["critical", "warning"].contains(severity), "{name}");
        }
    }
}
