//! A sample event of every type, for `pswatch check` (every template is rendered against those
//! its `events` match) and `pswatch template preview`. Their shapes are the store's, the same
//! as real events.

use diff_engine::{Event, EVENT_TYPES};
use serde_json::{json, Value};

fn workflow(state: &str, errors: Option<&str>) -> Value {
    json!({
        "id": "wf_8cd2", "number": 3, "name": "move-customers", "state": state,
        "workflow_errors": errors, "source_keyspace": "commerce", "target_keyspace": "customers",
        "branch": "main", "actor": "Ada Lovelace", "cutover_by": null, "updated_at": null,
    })
}

fn deploy_request(state: &str) -> Value {
    json!({
        "id": "dr_77", "number": 7, "state": "open", "deployment_state": state,
        "branch": "add-order-ref", "into_branch": "main",
        "html_url": "https://app.planetscale.com/acme/commerce/deploy-requests/7",
        "actor": "Ada Lovelace", "closed_by": null, "auto_cutover": false,
        "lint_errors": [], "deploy_check_errors": null,
        "ready_to_cutover_at": "2026-11-23T10:00:00.000Z",
        "cutover_expiring": state == "pending_cutover", "queue_paused": false,
        "queue_pause_reason": null,
    })
}

fn operation(state: &str, errors: Option<&str>) -> Value {
    json!({
        "id": "op_41", "state": state, "keyspace_name": "commerce", "table_name": "orders",
        "operation_name": "ALTER",
        "ddl_statement": "ALTER TABLE `orders` ADD UNIQUE KEY `idx_ref` (`ref`)",
        "deploy_errors": errors,
        "deploy_error_docs_url": errors.map(|_| "https://planetscale.com/docs/concepts/deploy-requests"),
        "progress_percentage": 42.0,
    })
}

const DUPLICATE: &str = "Duplicate entry 'A-1042' for key 'orders.idx_ref'";

/// The type's own fields of the sample of `event_type`, and its severity.
fn fields(event_type: &str) -> Option<(Value, &'static str)> {
    Some(match event_type {
        "workflow.state_changed" => (
            json!({"previous_state": "switched_primaries", "state": "cutover",
                   "workflow": workflow("cutover", None)}),
            "info",
        ),
        "workflow.errors_changed" => (
            json!({"errors": "vreplication: table customers: lag 120s", "previous_errors": null,
                   "workflow": workflow("running", Some("vreplication: table customers: lag 120s"))}),
            "critical",
        ),
        "deploy_request.state_changed" => (
            json!({"previous_state": "in_progress", "state": "complete_pending_revert",
                   "deploy_request": deploy_request("complete_pending_revert")}),
            "info",
        ),
        "deploy_operation.state_changed" => (
            json!({"previous_state": "in_progress", "state": "error", "deploy_request_number": 7,
                   "phase": "deploy", "operation": operation("error", Some(DUPLICATE))}),
            "critical",
        ),
        "deploy_operation.errors_changed" => (
            json!({"errors": DUPLICATE, "previous_errors": null, "deploy_request_number": 7,
                   "phase": "deploy", "operation": operation("error", Some(DUPLICATE))}),
            "critical",
        ),
        "deploy_request.awaiting_cutover" => (
            json!({"waiting_since": "2026-11-23T10:00:00Z", "reminder": 2,
                   "deploy_request": deploy_request("pending_cutover")}),
            "warning",
        ),
        "deploy_request.cutover_expiring" => (
            json!({"deploy_request": deploy_request("pending_cutover")}),
            "warning",
        ),
        "deploy_request.queue_paused" => {
            let mut request = deploy_request("queued");
            request["queue_paused"] = json!(true);
            request["queue_pause_reason"] = json!("Paused by an administrator");
            (
                json!({"queue_pause_reason": "Paused by an administrator",
                       "deploy_request": request}),
                "warning",
            )
        }
        "deploy_operation.stalled" => (
            json!({"stalled_since": "2026-11-23T11:00:00Z", "deploy_request_number": 7,
                   "phase": "deploy", "operation": operation("in_progress", None)}),
            "warning",
        ),
        "backup.state_changed" => (
            json!({"previous_state": "running", "state": "failed", "recovers": false,
                   "backup": {"id": "bk_41", "name": "2026.11.23 09:00", "branch": "main",
                              "state": "failed", "size": 52_428_800,
                              "started_at": "2026-11-23T09:00:00.000Z",
                              "completed_at": "2026-11-23T09:12:30.000Z"}}),
            "critical",
        ),
        "resize.state_changed" => (
            json!({"previous_state": "resizing", "state": "completed",
                   "resize": {"id": "rs_7", "branch": "main", "keyspace": null,
                              "state": "completed", "previous_cluster_name": "PS_10",
                              "cluster_name": "PS_20", "previous_replicas": 2, "replicas": 3,
                              "previous_maximum_storage_bytes": 107_374_182_400_u64,
                              "maximum_storage_bytes": 214_748_364_800_u64,
                              "started_at": "2026-11-23T09:00:00.000Z",
                              "completed_at": "2026-11-23T09:30:00.000Z"}}),
            "info",
        ),
        "schema_recommendation.opened" | "schema_recommendation.closed" => {
            let state = if event_type.ends_with("opened") {
                "open"
            } else {
                "applied"
            };
            let recommendation = json!({"id": "sr_12", "number": 12,
                "title": "Drop unused index idx_legacy on orders", "table_name": "orders",
                "keyspace": "commerce", "ddl_statement": "ALTER TABLE `orders` DROP INDEX `idx_legacy`",
                "recommendation_type": "unused_index", "state": state,
                "html_url": "https://app.planetscale.com/acme/commerce/insights/recommendations/12"});
            if state == "open" {
                (json!({"recommendation": recommendation}), "info")
            } else {
                (
                    json!({"previous_state": "open", "recommendation": recommendation}),
                    "info",
                )
            }
        }
        "maintenance.scheduled" | "maintenance.started" | "maintenance.finished" => {
            let schedule = json!({"id": "ms_1", "name": "Vitess upgrade",
                "next_window_datetime": "2026-11-28T02:00:00.000Z",
                "last_window_datetime": "2026-11-21T02:00:00.000Z", "duration_hours": 4,
                "required": true, "deadline_at": "2026-12-05T00:00:00.000Z",
                "pending_vitess_version": "22.0", "pending_mysql_version": null});
            if event_type == "maintenance.scheduled" {
                (
                    json!({"previous_window": "2026-11-27T02:00:00.000Z", "schedule": schedule}),
                    "warning",
                )
            } else {
                (json!({"schedule": schedule}), "info")
            }
        }
        "pswatch.digest" => (
            json!({"digest": {
                "name": "morning",
                "period_start": "2026-11-22T08:00:00Z",
                "period_end": "2026-11-23T08:00:00Z",
                "timezone": "Europe/Paris",
                "dead_letters": 1,
                "databases": [{
                    "organization": "acme",
                    "database": "commerce",
                    "completed": [{"resource": "workflow #3 move-customers", "state": "completed",
                                   "since": "2026-11-22T17:40:00Z", "errors": null,
                                   "url": "https://app.planetscale.com/acme/commerce/workflows"}],
                    "failed": [{"resource": "deploy request #7 table orders", "state": "error",
                                "since": "2026-11-23T02:10:00Z", "errors": DUPLICATE,
                                "url": "https://app.planetscale.com/acme/commerce/deploy-requests/7"}],
                    "waiting": [{"resource": "deploy request #9", "state": "pending_cutover",
                                 "since": "2026-11-22T16:00:00Z", "errors": null,
                                 "url": "https://app.planetscale.com/acme/commerce/deploy-requests/9"}],
                }],
            }}),
            "info",
        ),
        planetscale => {
            let event = planetscale.strip_prefix("planetscale.")?;
            let (kind, name) = event.split_once('.')?;
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
                "out_of_memory" => "critical",
                "anomaly" | "storage" => "warning",
                _ => "info",
            };
            (
                json!({"type": "planetscale", "event": event, "resource": resource}),
                severity,
            )
        }
    })
}

/// A sample event of `event_type` (one of [`EVENT_TYPES`]) in `acme/commerce`; `None` for a
/// type that is not one.
pub fn sample_event(event_type: &str) -> Option<Event> {
    if !EVENT_TYPES.contains(&event_type) {
        return None;
    }
    let (mut event, severity) = fields(event_type)?;
    let object = event.as_object_mut()?;
    object.entry("type").or_insert_with(|| json!(event_type));
    object.insert(
        "id".into(),
        json!(format!("evt_sample_{}", event_type.replace('.', "_"))),
    );
    object.insert("organization".into(), json!("acme"));
    object.insert("database".into(), json!("commerce"));
    object.insert("severity".into(), json!(severity));
    object.insert("observed_at".into(), json!("2026-11-23T12:00:00Z"));
    serde_json::from_value(event).ok()
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
