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
            let new = before.is_none_or(|before| !view.shows_the_same_as(before));
            new.then_some(view)
        })
        .collect()
}
