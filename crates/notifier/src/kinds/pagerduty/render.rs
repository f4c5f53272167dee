//! PagerDuty's Events API v2: which events page, and the trigger and resolve bodies (without
//! the routing key, which the sender adds).

use diff_engine::{Event, EventKind, Severity};
use serde_json::{json, Map, Value};

use crate::text::{
    dashboard_url, fit, headline, resource_name, rfc3339, timestamp, truncate, TEST_NOTE,
};
use crate::words::Words;
use model::ResourceKey;

/// PagerDuty's limit for `payload.summary`.
pub const PAGERDUTY_SUMMARY_LIMIT: usize = 1024;

/// What one event does to a resource's incident.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Page<'a> {
    /// Open the incident, or add to the open one.
    Trigger(&'a Event),
    /// Close the open incident: the resource recovered, completed or was cancelled.
    Resolve(&'a Event),
}

/// The `dedup_key` of a resource's incident: `pswatch/acme/commerce/workflow/3`. The same for
/// every event of the resource, so PagerDuty keeps one incident, and a resolve finds it.
pub fn dedup_key(key: &ResourceKey) -> String {
    format!("pswatch/{key}")
}

/// The `dedup_key` of `event`'s incident: its resource's, or for one of PlanetScale's own
/// events, one per database, event and branch (or keyspace), e.g.
/// `pswatch/acme/commerce/planetscale.branch.out_of_memory/main`.
pub fn dedup_key_of(event: &Event) -> String {
    match (ResourceKey::of(event), &event.kind) {
        (Some(key), _) => dedup_key(&key),
        // A branch's backups: a failure opens one incident, its next success resolves it.
        (None, EventKind::BackupStateChanged { backup, .. }) => format!(
            "pswatch/{}/{}/backups/{}",
            event.organization, event.database, backup.branch
        ),
        (None, EventKind::PlanetScale { resource, .. }) => format!(
            "pswatch/{}/{}/{}/{}",
            event.organization,
            event.database,
            event.type_name(),
            resource["name"]
                .as_str()
                .or_else(|| resource["id"].as_str())
                .unwrap_or("-")
        ),
        (None, _) => format!(
            "pswatch/{}/{}/{}",
            event.organization, event.database, event.id
        ),
    }
}

/// Whether `event` shows the resource itself in a state that is not an error: a workflow or a
/// deploy request (not one of its operations) whose state is not critical and, for a workflow,
/// that reports no error text.
fn recovers(event: &Event) -> bool {
    match &event.kind {
        EventKind::WorkflowStateChanged {
            state, workflow, ..
        } => !state.is_error() && workflow.workflow_errors.is_none(),
        EventKind::WorkflowErrorsChanged { workflow, .. } => {
            !workflow.state.is_error() && workflow.workflow_errors.is_none()
        }
        EventKind::DeployRequestStateChanged { state, .. } => !state.is_error(),
        // A branch's first successful backup after a failed one.
        EventKind::BackupStateChanged { recovers, .. } => *recovers,
        // Operations, reminders, an expiring cutover, a paused queue and PlanetScale's own
        // events say nothing of whether the resource is out of trouble.
        _ => false,
    }
}

/// Whether `events` hold a branch's first successful backup after a failed one: its incident
/// is taken as open (a branch's backups keep no memo), so that the success resolves it.
pub(crate) fn backup_recovers(events: &[Event]) -> bool {
    events.iter().any(|event| {
        matches!(
            event.kind,
            EventKind::BackupStateChanged { recovers: true, .. }
        )
    })
}

/// What a resource's events of one poll do to its incident, oldest first, given whether one is
/// open: a critical event (a warning one too with `page_on_warning`) triggers; an event that
/// shows the resource out of error while an incident is open resolves it; the rest (progress,
/// an operation that completes) page nobody. Consecutive triggers are sent as the last one.
pub fn plan(events: &[Event], open: bool, page_on_warning: bool) -> Vec<Page<'_>> {
    let mut open = open;
    let mut pages: Vec<Page<'_>> = Vec::new();
    for event in events {
        let pages_someone = match event.severity {
            Severity::Critical => true,
            Severity::Warning => page_on_warning,
            Severity::Info => false,
        };
        if pages_someone {
            if let Some(Page::Trigger(last)) = pages.last_mut() {
                *last = event;
            } else {
                pages.push(Page::Trigger(event));
            }
            open = true;
        } else if open && recovers(event) {
            pages.push(Page::Resolve(event));
            open = false;
        }
    }
    pages
}

/// `critical`, `warning` or `info`, as `payload.severity` takes them (pswatch has no `error`
/// level between critical and warning).
fn severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "critical",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

fn links(event: &Event) -> Value {
    json!([{"href": dashboard_url(event), "text": "Open in PlanetScale"}])
}

/// What a change event says of `event`, when it is one PagerDuty's timeline shows: a deploy
/// request deployed, completed or reverted, a workflow cut over or completed.
fn change_of(event: &Event) -> Option<&'static str> {
    use diff_engine::{DeployState, WorkflowState};
    match &event.kind {
        EventKind::DeployRequestStateChanged {
            state,
            previous_state,
            ..
        } => match state {
            DeployState::CompletePendingRevert => Some("deployed"),
            DeployState::Complete
                if *previous_state == Some(DeployState::CompletePendingRevert) =>
            {
                Some("completed")
            }
            DeployState::Complete => Some("deployed"),
            DeployState::CompleteRevert => Some("reverted"),
            _ => None,
        },
        EventKind::WorkflowStateChanged { state, .. } => match state {
            WorkflowState::Cutover => Some("cut over"),
            WorkflowState::Completed => Some("completed"),
            _ => None,
        },
        _ => None,
    }
}

/// The body of the change event `event` is, without `routing_key`, if it is one (see
/// [`change_of`]): for `POST /v2/change/enqueue`.
pub fn change_event(event: &Event, words: &Words) -> Option<Value> {
    let change = change_of(event)?;
    let mut details = Map::new();
    details.insert("event_id".into(), json!(event.id));
    details.insert("type".into(), json!(event.type_name()));
    details.insert("resource".into(), json!(resource_name(event)));
    details.insert("change".into(), json!(change));
    details.insert("state".into(), json!(event.kind.state()));
    if let Some(previous) = event.kind.previous_state() {
        details.insert("previous_state".into(), json!(previous));
    }
    for (label, value) in crate::text::details(event) {
        details.insert(label.to_lowercase().replace(' ', "_"), json!(value));
    }
    if let Some(text) = words.text(event) {
        details.insert("text".into(), json!(text));
    }
    let summary = words.title(event).map_or_else(
        || {
            format!(
                "{}/{} {} {change}",
                event.organization,
                event.database,
                resource_name(event)
            )
        },
        str::to_owned,
    );
    Some(json!({
        "payload": {
            "summary": fit(&summary, PAGERDUTY_SUMMARY_LIMIT),
            "timestamp": timestamp(event),
            "source": format!("{}/{}", event.organization, event.database),
            "custom_details": details,
        },
        "links": links(event),
    }))
}

/// The body of a trigger, without `routing_key`: a template's title is the summary, and its
/// text the `text` of the custom details.
pub fn trigger(event: &Event, words: &Words) -> Value {
    let mut details = Map::new();
    details.insert("event_id".into(), json!(event.id));
    details.insert("resource".into(), json!(resource_name(event)));
    details.insert("state".into(), json!(event.kind.state()));
    if let Some(previous) = event.kind.previous_state() {
        details.insert("previous_state".into(), json!(previous));
    }
    for (label, value) in crate::text::details(event) {
        details.insert(label.to_lowercase().replace(' ', "_"), json!(value));
    }
    if let Some(errors) = event.kind.errors() {
        details.insert(
            "errors".into(),
            json!(truncate(&errors, crate::text::ERROR_TEXT_LIMIT)),
        );
    }
    details.insert("observed_at".into(), json!(timestamp(event)));
    if let Some(text) = words.text(event) {
        details.insert("text".into(), json!(text));
    }
    let summary = words
        .title(event)
        .map_or_else(|| headline(event), str::to_owned);
    json!({
        "event_action": "trigger",
        "dedup_key": dedup_key_of(event),
        "payload": {
            "summary": fit(&summary, PAGERDUTY_SUMMARY_LIMIT),
            "source": format!("{}/{}", event.organization, event.database),
            "severity": severity(event.severity),
            "timestamp": timestamp(event),
            "component": resource_name(event),
            "group": format!("{}/{}", event.organization, event.database),
            "class": event.type_name(),
            "custom_details": details,
        },
        "client": "pswatch",
        "client_url": dashboard_url(event),
        "links": links(event),
    })
}

/// The body of a resolve of the resource's incident, without `routing_key`.
pub fn resolve(event: &Event) -> Value {
    json!({
        "event_action": "resolve",
        "dedup_key": dedup_key_of(event),
    })
}

/// The trigger of `pswatch test-notify` (severity `info`, with its own `dedup_key`); the
/// sender resolves it right after.
pub fn test_trigger(channel: &str, now: time::OffsetDateTime) -> Value {
    json!({
        "event_action": "trigger",
        "dedup_key": test_dedup_key(channel),
        "payload": {
            "summary": format!("pswatch test message for channel {channel}"),
            "source": "pswatch",
            "severity": "info",
            "timestamp": rfc3339(now),
            "component": "pswatch",
            "class": "pswatch.test",
            "custom_details": {"message": TEST_NOTE, "channel": channel},
        },
        "client": "pswatch",
    })
}

/// The `dedup_key` of `pswatch test-notify`'s incident.
pub fn test_dedup_key(channel: &str) -> String {
    format!("pswatch/test/{channel}")
}

/// `text` cut to at most `limit` characters, the cut marked with an ellipsis (PagerDuty refuses
/// a longer summary outright).
#[cfg(test)]
mod tests {
    use diff_engine::testing::{
        deploy_request, deploy_request_state_changed, operation, operation_state_changed, workflow,
        workflow_errors_changed, workflow_state_changed,
    };
    use diff_engine::{DeployState, OperationPhase, OperationState, WorkflowState};

    use super::*;

    fn moved(state: WorkflowState, severity: Severity) -> Event {
        workflow_state_changed(None, workflow(3).state(state).build())
            .severity(severity)
            .build()
    }

    fn actions(pages: &[Page<'_>]) -> Vec<&'static str> {
        pages
            .iter()
            .map(|page| match page {
                Page::Trigger(_) => "trigger",
                Page::Resolve(_) => "resolve",
            })
            .collect()
    }

    #[test]
    fn errors_page_recoveries_resolve_progress_pages_nobody() {
        let running = moved(WorkflowState::Running, Severity::Info);
        let error = moved(WorkflowState::Error, Severity::Critical);
        let cancelled = moved(WorkflowState::Cancelled, Severity::Warning);
        let completed = moved(WorkflowState::Completed, Severity::Info);
        // Progress with nothing open pages nobody.
        assert!(plan(std::slice::from_ref(&running), false, false).is_empty());
        assert!(plan(std::slice::from_ref(&completed), false, false).is_empty());
        // An error triggers; a recovery, a completion or a cancellation resolves.
        assert_eq!(
            actions(&plan(std::slice::from_ref(&error), false, false)),
            ["trigger"]
        );
        for recovery in [&running, &completed, &cancelled] {
            assert_eq!(
                actions(&plan(std::slice::from_ref(recovery), true, false)),
                ["resolve"]
            );
        }
        // A warning pages only when asked to.
        assert!(plan(std::slice::from_ref(&cancelled), false, false).is_empty());
        assert_eq!(
            actions(&plan(std::slice::from_ref(&cancelled), false, true)),
            ["trigger"]
        );
        // In one poll: consecutive triggers are one, the last.
        let twice = [error.clone(), error.clone(), running.clone()];
        let pages = plan(&twice, false, false);
        assert_eq!(actions(&pages), ["trigger", "resolve"]);
    }

    #[test]
    fn errors_that_stay_do_not_resolve() {
        // A workflow still in error whose text was cleared is not recovered.
        let cleared =
            workflow_errors_changed(Some("lag"), workflow(3).state(WorkflowState::Error).build())
                .build();
        assert!(plan(std::slice::from_ref(&cleared), true, false).is_empty());
        // Nor does an operation that completes while its deploy request has an incident.
        let table = operation_state_changed(
            7,
            OperationPhase::Deploy,
            Some(OperationState::InProgress),
            operation("op1", "orders")
                .state(OperationState::Complete)
                .build(),
        )
        .build();
        assert!(plan(std::slice::from_ref(&table), true, false).is_empty());
        // The deploy request reaching a state that is not an error does.
        let reverted = deploy_request_state_changed(
            Some(DeployState::CompleteError),
            deploy_request(7).state(DeployState::CompleteRevert).build(),
        )
        .severity(Severity::Warning)
        .build();
        assert_eq!(
            actions(&plan(std::slice::from_ref(&reverted), true, false)),
            ["resolve"]
        );
        assert_eq!(dedup_key_of(&table), dedup_key_of(&reverted));
    }
}
