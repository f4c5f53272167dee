//! What a poll saw of each workflow and deploy request, kept as the store's views for the
//! admin API's reads and waits: built here from the observation, the next state and the poll's
//! events, and written only where they show something new.

use std::collections::{BTreeMap, HashMap};

use diff_engine::{Event, Observation, OperationPhase, SeenOperation, Target, TargetState};
use model::{LastEvent, OperationView, ResourceKey, ResourceKind, ResourceView};
use time::OffsetDateTime;

/// The views a poll of `target` at `now` makes new or different from `previous` (the views
/// kept of the target): of every workflow and deploy request `observation` shows, with the
/// operations of `next` (or the observation's, for a deploy request the next state no longer
/// holds), the last of `events` about each, or the one kept before.
pub(crate) fn changed_views(
    target: &Target,
    observation: &Observation,
    next: &TargetState,
    events: &[Event],
    previous: &[ResourceView],
    now: OffsetDateTime,
) -> Vec<ResourceView> {
    let previous: HashMap<(ResourceKind, u64), &ResourceView> = previous
        .iter()
        .map(|view| ((view.kind, view.number), view))
        .collect();
    let mut last_events: HashMap<(ResourceKind, u64), LastEvent> = HashMap::new();
    for event in events {
        if let Some(key) = ResourceKey::of(event) {
            last_events.insert(
                (key.kind, key.number),
                LastEvent {
                    id: event.id.clone(),
                    event_type: event.type_name().to_owned(),
                    at: event.observed_at,
                },
            );
        }
    }
    let workflows = observation
        .workflows
        .iter()
        .map(|workflow| ResourceView::of_workflow(target, workflow, now));
    let deploy_requests = observation.deploy_requests.iter().map(|observed| {
        let request = &observed.deploy_request;
        let operations = match next.deploy_requests.get(&request.number) {
            Some(seen) => {
                let of = |phase, operations: &BTreeMap<String, SeenOperation>| {
                    operations
                        .iter()
                        .map(move |(id, operation)| OperationView::of_seen(id, phase, operation))
                        .collect::<Vec<_>>()
                };
                let mut operations = of(OperationPhase::Deploy, &seen.operations);
                operations.extend(of(OperationPhase::Revert, &seen.revert_operations));
                operations
            }
            // Closed since: what this poll read of it, or what was kept.
            None => {
                let read = |phase, operations: &Option<Vec<diff_engine::DeployOperation>>| {
                    operations.as_ref().map(|operations| {
                        operations
                            .iter()
                            .map(|operation| OperationView::of_observed(phase, operation))
                            .collect::<Vec<_>>()
                    })
                };
                match (
                    read(OperationPhase::Deploy, &observed.operations),
                    read(OperationPhase::Revert, &observed.revert_operations),
                ) {
                    (None, None) => previous
                        .get(&(ResourceKind::DeployRequest, request.number))
                        .map(|view| view.operations.clone())
                        .unwrap_or_default(),
                    (deploy, revert) => deploy
                        .unwrap_or_default()
                        .into_iter()
                        .chain(revert.unwrap_or_default())
                        .collect(),
                }
            }
        };
        ResourceView::of_deploy_request(target, request, operations, now)
    });
    workflows
        .chain(deploy_requests)
        .filter_map(|mut view| {
            let key = (view.kind, view.number);
            let before = previous.get(&key);
            view.last_event = last_events
                .remove(&key)
                .or_else(|| before.and_then(|before| before.last_event.clone()));
            if let Some(before) = before.filter(|before| view.same_state_as(before)) {
                view.state_since = before.state_since;
            }
            let new = before.is_none_or(|before| !view.shows_the_same_as(before));
            new.then_some(view)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use diff_engine::testing::{deploy_request, deploy_request_state_changed, operation, workflow};
    use diff_engine::{
        DeployState, ObservedDeployRequest, OperationState, SeenDeployRequest, SeenOperation,
        WorkflowState,
    };
    use time::macros::datetime;

    use super::*;

    fn target() -> Target {
        Target::new("acme", "commerce")
    }

    fn observed(
        request: diff_engine::DeployRequest,
        operations: Option<Vec<diff_engine::DeployOperation>>,
    ) -> ObservedDeployRequest {
        ObservedDeployRequest {
            deploy_request: request,
            operations,
            revert_operations: None,
            operations_partial: false,
        }
    }

    #[test]
    fn views_show_what_the_poll_saw_and_are_written_only_when_new() {
        let now = datetime!(2026-12-07 12:00 UTC);
        let request = deploy_request(7).state(DeployState::InProgress).build();
        let observation = Observation {
            workflows: vec![workflow(3).state(WorkflowState::Running).build()],
            deploy_requests: vec![observed(request.clone(), None)],
            ..Observation::default()
        };
        // The next state holds the operation, with its progress.
        let mut next = TargetState::default();
        let mut seen = SeenDeployRequest {
            deployment_state: DeployState::InProgress,
            auto_cutover: None,
            events: 1,
            operations: BTreeMap::new(),
            revert_operations: BTreeMap::new(),
            waiting: diff_engine::Waiting::default(),
            queue_position: None,
        };
        seen.operations.insert(
            "op-1".into(),
            SeenOperation {
                state: OperationState::InProgress,
                errors: None,
                events: 0,
                keyspace_name: Some("commerce".into()),
                table_name: Some("orders".into()),
                operation_name: None,
                progress: diff_engine::Progress {
                    percentage: Some(40.0),
                    since: None,
                    stalled: false,
                    eta_seconds: Some(120),
                },
            },
        );
        next.deploy_requests.insert(7, seen);
        let event = deploy_request_state_changed(Some(DeployState::Queued), request.clone())
            .id("evt_7")
            .observed_at(now)
            .build();
        let first = changed_views(&target(), &observation, &next, &[event], &[], now);
        assert_eq!(first.len(), 2, "{first:#?}");
        let dr = first
            .iter()
            .find(|view| view.kind == ResourceKind::DeployRequest)
            .expect("#7");
        assert_eq!(dr.deployment_state.as_deref(), Some("in_progress"));
        assert_eq!(dr.operations[0].table.as_deref(), Some("orders"));
        assert_eq!(dr.operations[0].progress_percentage, Some(40.0));
        assert_eq!(
            dr.last_event.as_ref().map(|event| event.id.as_str()),
            Some("evt_7")
        );

        // The next poll sees the same: nothing is written, and the last event is kept.
        let later = now + time::Duration::seconds(5);
        assert!(changed_views(&target(), &observation, &next, &[], &first, later).is_empty());

        // Progress is new, the state is not: the view is written and keeps when its state began.
        let mut progressed = next.clone();
        if let Some(seen) = progressed.deploy_requests.get_mut(&7) {
            if let Some(operation) = seen.operations.get_mut("op-1") {
                operation.progress.percentage = Some(60.0);
            }
        }
        let moved = changed_views(&target(), &observation, &progressed, &[], &first, later);
        assert_eq!(moved.len(), 1, "{moved:#?}");
        assert_eq!(moved[0].state_since, now, "same state, same clock");
        assert_eq!(moved[0].observed_at, later);

        // Closed since: the next state forgot it; the operations come from what the poll read,
        // and without any, from the view kept.
        let mut closed = request.clone();
        closed.state = "closed".into();
        closed.deployment_state = DeployState::Complete;
        let observation = Observation {
            deploy_requests: vec![observed(closed.clone(), None)],
            ..Observation::default()
        };
        let changed = changed_views(
            &target(),
            &observation,
            &TargetState::default(),
            &[],
            &first,
            later,
        );
        assert_eq!(changed.len(), 1);
        assert_eq!(changed[0].state, "closed");
        assert_eq!(
            changed[0].state_since, later,
            "a new state starts its clock"
        );
        assert_eq!(changed[0].operations, dr.operations, "kept");
        assert_eq!(changed[0].last_event, dr.last_event, "kept");
        let done = operation("op-1", "orders")
            .state(OperationState::Complete)
            .build();
        let observation = Observation {
            deploy_requests: vec![observed(closed, Some(vec![done]))],
            ..Observation::default()
        };
        let changed = changed_views(
            &target(),
            &observation,
            &TargetState::default(),
            &[],
            &first,
            later,
        );
        assert_eq!(changed[0].operations[0].state, "complete");
    }
}
