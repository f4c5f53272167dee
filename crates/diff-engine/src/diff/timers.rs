//! The timers of the diff (`[[timers]]`): once the resources are diffed, each one this poll
//! saw in a state a timer watches fires `timer.fired` when it has been there `after`, and
//! again every `repeat`. A clock is kept only for a resource some timer watches; it restarts
//! when the resource changes state, and a resource no longer remembered drops it.

use std::collections::{BTreeMap, BTreeSet};

use super::Differ;
use crate::event::EventKind;
use crate::model::{Observation, OperationPhase, TargetState};
use crate::states::{DeployState, Severity};
use crate::timer::{TimerClock, TimerSubject};

impl Differ<'_> {
    pub(super) fn timers(
        &mut self,
        previous: &TargetState,
        observation: &Observation,
        next: &mut TargetState,
    ) {
        if self.options.timers.is_empty() {
            return;
        }
        let seen = observed(observation, next);
        let shown: BTreeSet<String> = seen.iter().map(|(key, ..)| key.clone()).collect();
        let mut clocks = BTreeMap::new();
        for (key, state, subject) in seen {
            let kind = subject.kind();
            let timers: Vec<_> = self
                .options
                .timers
                .iter()
                .filter(|timer| timer.watches(kind, &state, self.target))
                .collect();
            if timers.is_empty() {
                continue;
            }
            let before = previous
                .timers
                .get(&key)
                .filter(|clock| clock.state == state);
            let since = before.map(|clock| clock.since).unwrap_or_else(|| {
                // A deploy request waiting for its cutover counts from when it began waiting.
                match &subject {
                    TimerSubject::DeployRequest(request)
                        if state == DeployState::PendingCutover.as_str() =>
                    {
                        next.deploy_requests
                            .get(&request.number)
                            .and_then(|seen| seen.waiting.pending_cutover_since)
                            .filter(|since| *since <= self.now)
                            .unwrap_or(self.now)
                    }
                    _ => self.now,
                }
            });
            let mut clock = TimerClock {
                state: state.clone(),
                since,
                fired: before.map(|clock| clock.fired.clone()).unwrap_or_default(),
            };
            // Timers no longer configured are forgotten.
            clock
                .fired
                .retain(|name, _| timers.iter().any(|timer| timer.name == *name));
            for timer in timers {
                let due = timer.due(self.now - since);
                let fired = clock.fired.get(&timer.name).copied().unwrap_or(0);
                if due <= fired {
                    continue;
                }
                // A baseline counts the firings it would have made, so what was found already
                // waiting fires at its next time, not at once.
                if !self.baseline {
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
                            state: state.clone(),
                            since,
                            firing: due,
                            escalated,
                            subject: subject.clone(),
                        },
                    );
                }
                clock.fired.insert(timer.name.clone(), due);
            }
            clocks.insert(key, clock);
        }
        // A resource this poll did not see keeps its clock while it is remembered.
        for (key, clock) in &previous.timers {
            if !shown.contains(key) && remembered(next, key) {
                clocks.insert(key.clone(), clock.clone());
            }
        }
        next.timers = clocks;
    }
}

/// The resources this observation showed that the next state remembers, each with the key of
/// its clock, its state and itself.
fn observed(observation: &Observation, next: &TargetState) -> Vec<(String, String, TimerSubject)> {
    let mut seen = Vec::new();
    for workflow in &observation.workflows {
        if let Some(kept) = next.workflows.get(&workflow.id) {
            seen.push((
                format!("workflow/{}", workflow.id),
                kept.state.as_str().to_owned(),
                TimerSubject::Workflow(workflow.clone()),
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
            kept.deployment_state.as_str().to_owned(),
            TimerSubject::DeployRequest(request.clone()),
        ));
        for (phase, operations) in [
            (OperationPhase::Deploy, &observed.operations),
            (OperationPhase::Revert, &observed.revert_operations),
        ] {
            for operation in operations.iter().flatten() {
                seen.push((
                    operation_key(request.number, phase, &operation.id),
                    operation.state.as_str().to_owned(),
                    TimerSubject::DeployOperation {
                        deploy_request_number: request.number,
                        phase,
                        operation: operation.clone(),
                    },
                ));
            }
        }
    }
    for backup in observation.backups.iter().flatten() {
        seen.push((
            format!("backup/{}", backup.id),
            backup.state.clone(),
            TimerSubject::Backup(backup.clone()),
        ));
    }
    for resize in observation.resizes.iter().flatten() {
        seen.push((
            format!("resize/{}", resize.id),
            resize.state.clone(),
            TimerSubject::Resize(resize.clone()),
        ));
    }
    seen
}

fn operation_key(number: u64, phase: OperationPhase, id: &str) -> String {
    match phase {
        OperationPhase::Deploy => format!("deploy_request/{number}/operation/{id}"),
        OperationPhase::Revert => format!("deploy_request/{number}/revert_operation/{id}"),
    }
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
