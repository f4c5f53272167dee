//! A sample event of every type, for `pswatch check` (every template is rendered against those
//! its `events` match) and `pswatch template preview`. Their resources are written as the
//! outbox and webhooks write them (`wire`), the same as real events.

use diff_engine::{
    DatabaseDigest, DeployOperation, DeployRequest, DeployState, Digest, DigestItem, Event,
    EventKind, OperationPhase, OperationState, PlanetScaleEvent, Severity, TimerSubject, Workflow,
    WorkflowState, WorkflowTimes, EVENT_TYPES,
};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use time::macros::datetime;

/// The resource `value` describes, read as `S`, the shape both formats write it in.
fn read<S: DeserializeOwned + Into<T>, T>(value: Value) -> Option<T> {
    serde_json::from_value::<S>(value).ok().map(Into::into)
}

fn workflow(state: &str, errors: Option<&str>) -> Option<Workflow> {
    let shape: wire::Workflow<'static> = serde_json::from_value(json!({
        "id": "wf_8cd2", "number": 3, "name": "move-customers", "state": state,
        "workflow_errors": errors, "source_keyspace": "commerce", "target_keyspace": "customers",
        "branch": "main", "actor": "Ada Lovelace", "cutover_by": null, "updated_at": null,
    }))
    .ok()?;
    Some(shape.into_core(WorkflowTimes::default()))
}

fn deploy_request(state: &str, paused: Option<&str>) -> Option<DeployRequest> {
    read::<wire::DeployRequest<'static>, _>(json!({
        "id": "dr_77", "number": 7, "state": "open", "deployment_state": state,
        "branch": "add-order-ref", "into_branch": "main",
        "html_url": "https://app.planetscale.com/acme/commerce/deploy-requests/7",
        "actor": "Ada Lovelace", "closed_by": null, "auto_cutover": false,
        "lint_errors": [], "deploy_check_errors": null,
        "ready_to_cutover_at": "2026-11-23T10:00:00.000Z",
        "cutover_expiring": state == "pending_cutover", "queue_paused": paused.is_some(),
        "queue_pause_reason": paused,
    }))
}

fn operation(state: &str, errors: Option<&str>) -> Option<DeployOperation> {
    read::<wire::Operation<'static>, _>(json!({
        "id": "op_41", "state": state, "keyspace_name": "commerce", "table_name": "orders",
        "operation_name": "ALTER",
        "ddl_statement": "ALTER TABLE `orders` ADD UNIQUE KEY `idx_ref` (`ref`)",
        "deploy_errors": errors,
        "deploy_error_docs_url": errors.map(|_| "https://planetscale.com/docs/concepts/deploy-requests"),
        "progress_percentage": 42.0,
    }))
}

const DUPLICATE: &str = "Duplicate entry 'A-1042' for key 'orders.idx_ref'";

/// The sample of `event_type`: its own fields, and its severity.
fn kind(event_type: &str) -> Option<(EventKind, Severity)> {
    let workflow_state = WorkflowState::parse;
    let deploy_state = DeployState::parse;
    let text = |text: &str| Some(text.to_owned());
    Some(match event_type {
        "workflow.state_changed" => (
            EventKind::WorkflowStateChanged {
                previous_state: Some(workflow_state("switched_primaries")),
                state: workflow_state("cutover"),
                workflow: workflow("cutover", None)?,
            },
            Severity::Info,
        ),
        "workflow.errors_changed" => {
            let lag = "vreplication: table customers: lag 120s";
            (
                EventKind::WorkflowErrorsChanged {
                    errors: text(lag),
                    previous_errors: None,
                    workflow: workflow("running", Some(lag))?,
                },
                Severity::Critical,
            )
        }
        "deploy_request.state_changed" => (
            EventKind::DeployRequestStateChanged {
                previous_state: Some(deploy_state("in_progress")),
                state: deploy_state("complete_pending_revert"),
                deploy_request: deploy_request("complete_pending_revert", None)?,
            },
            Severity::Info,
        ),
        "deploy_operation.state_changed" => (
            EventKind::DeployOperationStateChanged {
                previous_state: Some(OperationState::parse("in_progress")),
                state: OperationState::parse("error"),
                deploy_request_number: 7,
                phase: OperationPhase::Deploy,
                operation: operation("error", Some(DUPLICATE))?,
            },
            Severity::Critical,
        ),
        "deploy_operation.errors_changed" => (
            EventKind::DeployOperationErrorsChanged {
                errors: text(DUPLICATE),
                previous_errors: None,
                deploy_request_number: 7,
                phase: OperationPhase::Deploy,
                operation: operation("error", Some(DUPLICATE))?,
            },
            Severity::Critical,
        ),
        "deploy_request.awaiting_cutover" => (
            EventKind::DeployRequestAwaitingCutover {
                waiting_since: datetime!(2026-11-23 10:00 UTC),
                reminder: 2,
                deploy_request: deploy_request("pending_cutover", None)?,
            },
            Severity::Warning,
        ),
        "deploy_request.cutover_expiring" => (
            EventKind::DeployRequestCutoverExpiring {
                deploy_request: deploy_request("pending_cutover", None)?,
            },
            Severity::Warning,
        ),
        "deploy_request.queue_paused" => {
            let reason = "Paused by an administrator";
            (
                EventKind::DeployRequestQueuePaused {
                    queue_pause_reason: text(reason),
                    deploy_request: deploy_request("queued", Some(reason))?,
                },
                Severity::Warning,
            )
        }
        "deploy_operation.stalled" => (
            EventKind::DeployOperationStalled {
                stalled_since: datetime!(2026-11-23 11:00 UTC),
                deploy_request_number: 7,
                phase: OperationPhase::Deploy,
                operation: operation("in_progress", None)?,
            },
            Severity::Warning,
        ),
        "deploy_request.blocked" => (
            EventKind::DeployRequestBlocked {
                locked_table: text("orders"),
                deploy_request: deploy_request("queued", None)?,
            },
            Severity::Warning,
        ),
        "deploy_request.revert_window_closing" => (
            EventKind::DeployRequestRevertWindowClosing {
                closes_at: datetime!(2026-11-23 12:08 UTC),
                deploy_request: deploy_request("complete_pending_revert", None)?,
            },
            Severity::Warning,
        ),
        "timer.fired" => (
            EventKind::TimerFired {
                timer: "cutover-stuck".into(),
                state: "in_progress_cutover".into(),
                since: datetime!(2026-11-23 11:00 UTC),
                firing: 2,
                escalated: false,
                subject: TimerSubject::DeployRequest(deploy_request("in_progress_cutover", None)?),
            },
            Severity::Warning,
        ),
        "backup.state_changed" => (
            EventKind::BackupStateChanged {
                previous_state: text("running"),
                state: "failed".into(),
                recovers: false,
                backup: read::<wire::Backup<'static>, _>(
                    json!({"id": "bk_41", "name": "2026.11.23 09:00", "branch": "main",
                           "state": "failed", "size": 52_428_800,
                           "started_at": "2026-11-23T09:00:00.000Z",
                           "completed_at": "2026-11-23T09:12:30.000Z"}),
                )?,
            },
            Severity::Critical,
        ),
        "resize.state_changed" => (
            EventKind::ResizeStateChanged {
                previous_state: text("resizing"),
                state: "completed".into(),
                resize: read::<wire::Resize<'static>, _>(
                    json!({"id": "rs_7", "branch": "main", "keyspace": null,
                           "state": "completed", "previous_cluster_name": "PS_10",
                           "cluster_name": "PS_20", "previous_replicas": 2, "replicas": 3,
                           "previous_maximum_storage_bytes": 107_374_182_400_u64,
                           "maximum_storage_bytes": 214_748_364_800_u64,
                           "started_at": "2026-11-23T09:00:00.000Z",
                           "completed_at": "2026-11-23T09:30:00.000Z"}),
                )?,
            },
            Severity::Info,
        ),
        "schema_recommendation.opened" | "schema_recommendation.closed" => {
            let opened = event_type.ends_with("opened");
            let recommendation = read::<wire::Recommendation<'static>, _>(
                json!({"id": "sr_12", "number": 12,
                "title": "Drop unused index idx_legacy on orders", "table_name": "orders",
                "keyspace": "commerce", "ddl_statement": "ALTER TABLE `orders` DROP INDEX `idx_legacy`",
                "recommendation_type": "unused_index", "state": if opened { "open" } else { "applied" },
                "html_url": "https://app.planetscale.com/acme/commerce/insights/recommendations/12"}),
            )?;
            let kind = if opened {
                EventKind::SchemaRecommendationOpened { recommendation }
            } else {
                EventKind::SchemaRecommendationClosed {
                    previous_state: "open".into(),
                    recommendation,
                }
            };
            (kind, Severity::Info)
        }
        "maintenance.scheduled" | "maintenance.started" | "maintenance.finished" => {
            let schedule = read::<wire::Maintenance<'static>, _>(
                json!({"id": "ms_1", "name": "Vitess upgrade",
                "next_window_datetime": "2026-11-28T02:00:00.000Z",
                "last_window_datetime": "2026-11-21T02:00:00.000Z", "duration_hours": 4,
                "required": true, "deadline_at": "2026-12-05T00:00:00.000Z",
                "pending_vitess_version": "22.0", "pending_mysql_version": null}),
            )?;
            match event_type {
                "maintenance.scheduled" => (
                    EventKind::MaintenanceScheduled {
                        previous_window: text("2026-11-27T02:00:00.000Z"),
                        schedule,
                    },
                    Severity::Warning,
                ),
                "maintenance.started" => {
                    (EventKind::MaintenanceStarted { schedule }, Severity::Info)
                }
                _ => (EventKind::MaintenanceFinished { schedule }, Severity::Info),
            }
        }
        "pswatch.digest" => (EventKind::Digest { digest: digest() }, Severity::Info),
        planetscale => {
            let event = PlanetScaleEvent::parse(planetscale.strip_prefix("planetscale.")?)?;
            let (kind, name) = event.as_str().split_once('.')?;
            let resource = match kind {
                "branch" => json!({"id": "br_main", "type": "Branch", "name": "main",
                                   "state": "ready", "production": true,
                                   "html_url": "https://app.planetscale.com/acme/commerce/main"}),
                "cluster" | "keyspace" => json!({"id": "ks_1", "type": "Keyspace",
                                                  "name": "commerce", "storage_used_percentage": 92.0}),
                _ => json!({"id": "db_1", "type": "Database", "name": "commerce",
                            "state": "ready"}),
            };
            let severity = match name {
                "out_of_memory" => Severity::Critical,
                "anomaly" | "storage" => Severity::Warning,
                _ => Severity::Info,
            };
            (EventKind::PlanetScale { event, resource }, severity)
        }
    })
}

/// The sample digest: a morning's summary of `acme/commerce`.
fn digest() -> Digest {
    let item = |resource: &str, state: &str, since, errors: Option<&str>, path: &str| DigestItem {
        resource: resource.into(),
        state: state.into(),
        since: Some(since),
        errors: errors.map(str::to_owned),
        url: Some(format!("https://app.planetscale.com/acme/commerce/{path}")),
    };
    Digest {
        name: "morning".into(),
        period_start: datetime!(2026-11-22 08:00 UTC),
        period_end: datetime!(2026-11-23 08:00 UTC),
        timezone: "Europe/Paris".into(),
        dead_letters: 1,
        databases: vec![DatabaseDigest {
            organization: "acme".into(),
            database: "commerce".into(),
            completed: vec![item(
                "workflow #3 move-customers",
                "completed",
                datetime!(2026-11-22 17:40 UTC),
                None,
                "workflows",
            )],
            failed: vec![item(
                "deploy request #7 table orders",
                "error",
                datetime!(2026-11-23 02:10 UTC),
                Some(DUPLICATE),
                "deploy-requests/7",
            )],
            waiting: vec![item(
                "deploy request #9",
                "pending_cutover",
                datetime!(2026-11-22 16:00 UTC),
                None,
                "deploy-requests/9",
            )],
        }],
    }
}

/// A sample event of `event_type` (one of [`EVENT_TYPES`]) in `acme/commerce`; `None` for a
/// type that is not one.
pub fn sample_event(event_type: &str) -> Option<Event> {
    if !EVENT_TYPES.contains(&event_type) {
        return None;
    }
    let (kind, severity) = kind(event_type)?;
    Some(Event {
        id: format!("evt_sample_{}", event_type.replace('.', "_")),
        kind,
        organization: "acme".into(),
        database: "commerce".into(),
        severity,
        observed_at: datetime!(2026-11-23 12:00 UTC),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_has_a_sample_of_that_type() {
        for event_type in EVENT_TYPES {
            let event =
                sample_event(event_type).unwrap_or_else(|| panic!("no sample of {event_type}"));
            assert_eq!(event.type_name(), *event_type);
        }
        assert!(sample_event("workflow.exploded").is_none());
    }
}
