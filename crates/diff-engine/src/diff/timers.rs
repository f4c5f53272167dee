//! The timers of the diff (`[[timers]]`): once the resources are diffed, each one this poll
//! saw in a state a timer watches fires `timer.fired` when it has been there `after`, and
//! again every `repeat`. A clock is kept only for a resource some timer watches; it restarts
//! when the resource changes state, and a resource no longer remembered drops it.

use std::collections::{BTreeMap, BTreeSet};

use super::{operation_key, Differ};
use crate::event::EventKind;
use crate::model::{
    Backup, DeployOperation, DeployRequest, Observation, OperationPhase, Resize, TargetState,
    Workflow,
};
use crate::states::{DeployState, Severity};
use crate::timer::{Timer, TimerClock, TimerResource, TimerSubject};

impl Differ<'_> {
    pub(super) fn timers(
        &mut self,
        previous: &TargetState,
        observation: &Observation,
        next: &mut TargetState,
    ) {
        // The timers of this database; which of them watch a kind in a state is asked once a
        // (kind, state) per diff, not once a resource.
        let timers: Vec<&Timer> = self
            .options
            .timers
            .iter()
            .filter(|timer| timer.watches_database(self.target))
            .collect();
        if timers.is_empty() {
            next.timers = BTreeMap::new();
            return;
        }
        let seen = observed(observation, next);
        let shown: BTreeSet<&str> = seen.iter().map(|(key, ..)| key.as_str()).collect();
        let mut watching: BTreeMap<(TimerResource, &str), Vec<&Timer>> = BTreeMap::new();
        let mut clocks = BTreeMap::new();
        for (key, state, subject) in &seen {
            let kind = subject.kind();
            let watched = watching.entry((kind, state)).or_insert_with(|| {
                timers
                    .iter()
                    .copied()
                    .filter(|timer| timer.watches(kind, state))
                    .collect()
            });
            if watched.is_empty() {
                continue;
            }
            let before = previous
                .timers
                .get(key)
                .filter(|clock| clock.state == *state);
            let since = before.map_or_else(
                || {
                    // A deploy request waiting for its cutover counts from when it began
                    // waiting.
                    match subject {
                        Subject::DeployRequest(request)
                            if *state == DeployState::PendingCutover.as_str() =>
                        {
                            next.deploy_requests
                                .get(&request.number)
                                .and_then(|seen| seen.waiting.pending_cutover_since)
                                .filter(|since| *since <= self.now)
                                .unwrap_or(self.now)
                        }
                        _ => self.now,
                    }
                },
                |clock| clock.since,
            );
            let mut fired: BTreeMap<String, u64> = BTreeMap::new();
            for timer in watched.iter() {
                let done = before
                    .and_then(|clock| clock.fired.get(&timer.name))
                    .copied()
                    .unwrap_or(0);
                let due = timer.due(self.now - since);
                if due > done && !self.baseline {
                    // A baseline counts the firings it would have made, so what was found
                    // already waiting fires at its next time, not at once.
                    let escalated = timer.escalates(due);
                    let severity = if escalated {
                        Severity::Critical
                    } else {
                        Severity::Warning
                    };
                    // One stay of one resource under one timer: its firings are numbered.
                    let mut sequence = due;
                    self.emit(
                        &format!("{key}/timer/{}/{}", timer.name, since.unix_timestamp()),
                        &mut sequence,
                        severity,
                        EventKind::TimerFired {
                            timer: timer.name.clone(),
                            state: (*state).to_owned(),
                            since,
                            firing: due,
                            escalated,
                            subject: subject.to_owned(),
                        },
                    );
                }
                if due.max(done) > 0 {
                    fired.insert(timer.name.clone(), due.max(done));
                }
            }
            clocks.insert(
                key.clone(),
                TimerClock {
                    state: (*state).to_owned(),
                    since,
                    fired,
                },
            );
        }
        // A resource this poll did not see keeps its clock while it is remembered.
        for (key, clock) in &previous.timers {
            if !shown.contains(key.as_str()) && remembered(next, key) {
                clocks.insert(key.clone(), clock.clone());
            }
        }
        next.timers = clocks;
    }
}

/// A resource a timer may fire for, as this observation showed it (cloned only to fire).
enum Subject<'a> {
    Workflow(&'a Workflow),
    DeployRequest(&'a DeployRequest),
    DeployOperation(u64, OperationPhase, &'a DeployOperation),
    Backup(&'a Backup),
    Resize(&'a Resize),
}

impl Subject<'_> {
    fn kind(&self) -> TimerResource {
        match self {
            Self::Workflow(_) => TimerResource::Workflow,
            Self::DeployRequest(_) => TimerResource::DeployRequest,
            Self::DeployOperation(..) => TimerResource::DeployOperation,
            Self::Backup(_) => TimerResource::Backup,
            Self::Resize(_) => TimerResource::Resize,
        }
    }

    fn to_owned(&self) -> TimerSubject {
        match self {
            Self::Workflow(workflow) => TimerSubject::Workflow((*workflow).clone()),
            Self::DeployRequest(request) => TimerSubject::DeployRequest((*request).clone()),
            Self::DeployOperation(number, phase, operation) => TimerSubject::DeployOperation {
                deploy_request_number: *number,
                phase: *phase,
                operation: (*operation).clone(),
            },
            Self::Backup(backup) => TimerSubject::Backup((*backup).clone()),
            Self::Resize(resize) => TimerSubject::Resize((*resize).clone()),
        }
    }
}

/// The resources this observation showed that the next state remembers, each with the key of
/// its clock, its state and itself.
fn observed<'a>(
    observation: &'a Observation,
    next: &'a TargetState,
) -> Vec<(String, &'a str, Subject<'a>)> {
    let mut seen = Vec::new();
    for workflow in &observation.workflows {
        if let Some(kept) = next.workflows.get(&workflow.id) {
            seen.push((
                format!("workflow/{}", workflow.id),
                kept.state.as_str(),
                Subject::Workflow(workflow),
            ));
        }
    }
    for observed in &observation.deploy_requests {
        let request = &observed.deploy_request;
        let Some(kept) = next.deploy_requests.get(&request.number) else {
            continue;
        };
        seen.push((
            format!("deploy_request/{}", request.number),
            kept.deployment_state.as_str(),
            Subject::DeployRequest(request),
        ));
        for (phase, operations) in [
            (OperationPhase::Deploy, &observed.operations),
            (OperationPhase::Revert, &observed.revert_operations),
        ] {
            for operation in operations.iter().flatten() {
                seen.push((
                    operation_key(request.number, phase, &operation.id),
                    operation.state.as_str(),
                    Subject::DeployOperation(request.number, phase, operation),
                ));
            }
        }
    }
    for backup in observation.backups.iter().flatten() {
        seen.push((
            format!("backup/{}", backup.id),
            backup.state.as_str(),
            Subject::Backup(backup),
        ));
    }
    for resize in observation.resizes.iter().flatten() {
        seen.push((
            format!("resize/{}", resize.id),
            resize.state.as_str(),
            Subject::Resize(resize),
        ));
    }
    seen
}

/// Whether the next state still remembers the resource of clock `key`.
fn remembered(next: &TargetState, key: &str) -> bool {
    let mut parts = key.splitn(4, '/');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("workflow"), Some(id), None, None) => next.workflows.contains_key(id),
        (Some("backup"), Some(id), None, None) => next.backups.contains_key(id),
        (Some("resize"), Some(id), None, None) => next.resizes.contains_key(id),
        (Some("deploy_request"), Some(number), rest, id) => {
            let Some(request) = number
                .parse()
                .ok()
                .and_then(|number: u64| next.deploy_requests.get(&number))
            else {
                return false;
            };
            match (rest, id) {
                (None, None) => true,
                (Some("operation"), Some(id)) => request.operations.contains_key(id),
                (Some("revert_operation"), Some(id)) => request.revert_operations.contains_key(id),
                _ => false,
            }
        }
        _ => false,
    }
}
