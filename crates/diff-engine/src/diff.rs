//! The diff: previous state + observation -> next state + events.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use time::OffsetDateTime;

use crate::event::{event_id, Event, EventKind};
use crate::model::{
    DeployOperation, DeployRequest, Observation, SeenDeployRequest, SeenOperation, SeenWorkflow,
    Target, TargetState, Workflow,
};
use crate::states::{OperationState, Severity};

/// Choices that change what the diff reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiffOptions {
    /// On a target's first poll, report resources that are already in an error state instead of
    /// recording them silently.
    pub notify_on_baseline_errors: bool,
}

/// The result of one diff.
#[derive(Debug, Clone, PartialEq)]
pub struct Diff {
    /// What to remember for the next poll.
    pub next: TargetState,
    /// What changed, in detection order.
    pub events: Vec<Event>,
    /// Oddities in the observation that did not stop the diff.
    pub anomalies: Vec<Anomaly>,
}

/// Something odd in an observation: reported, never a reason to fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anomaly {
    DuplicateWorkflow {
        id: String,
    },
    DuplicateDeployRequest {
        number: u64,
    },
    DuplicateOperation {
        deploy_request_number: u64,
        id: String,
    },
    UnknownState {
        resource: String,
        state: String,
    },
}

impl fmt::Display for Anomaly {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DuplicateWorkflow { id } => {
                write!(formatter, "workflow id {id} appears twice; the first one was kept")
            }
            Self::DuplicateDeployRequest { number } => write!(
                formatter,
                "deploy request #{number} appears twice; the first one was kept"
            ),
            Self::DuplicateOperation {
                deploy_request_number,
                id,
            } => write!(
                formatter,
                "operation {id} of deploy request #{deploy_request_number} appears twice; the first one was kept"
            ),
            Self::UnknownState { resource, state } => write!(
                formatter,
                "{resource} is in state {state:?}, which this version does not know; it is watched as any other"
            ),
        }
    }
}

/// Compares an observation of `target` with what was seen before and returns the next state
/// and the events. `previous` is `None` on a target's first poll: that poll records a baseline
/// and reports nothing (but errors, when `options` asks for them). `now` stamps the events.
///
/// States skipped between two polls are reported as one transition from the last seen state.
pub fn diff(
    target: &Target,
    previous: Option<&TargetState>,
    observation: &Observation,
    now: OffsetDateTime,
    options: DiffOptions,
) -> Diff {
    let empty = TargetState::default();
    let mut differ = Differ {
        target,
        now,
        baseline: previous.is_none(),
        options,
        events: Vec::new(),
        anomalies: Vec::new(),
    };
    let previous = previous.unwrap_or(&empty);
    let mut next = TargetState::default();
    differ.workflows(previous, observation, &mut next);
    differ.deploy_requests(previous, observation, &mut next);
    Diff {
        next,
        events: differ.events,
        anomalies: differ.anomalies,
    }
}

struct Differ<'a> {
    target: &'a Target,
    now: OffsetDateTime,
    baseline: bool,
    options: DiffOptions,
    events: Vec<Event>,
    anomalies: Vec<Anomaly>,
}

impl Differ<'_> {
    /// Whether a resource seen for the first time is reported: always after the baseline, and
    /// on the baseline only an errored one when the options ask for it.
    fn report_new(&self, is_error: bool) -> bool {
        !self.baseline || (self.options.notify_on_baseline_errors && is_error)
    }

    /// Appends an event; `sequence` is the resource's event counter, advanced here.
    fn emit(&mut self, resource: &str, sequence: &mut u64, severity: Severity, kind: EventKind) {
        let id = event_id(self.target, &kind, resource, *sequence);
        *sequence += 1;
        self.events.push(Event {
            id,
            kind,
            organization: self.target.organization.clone(),
            database: self.target.database.clone(),
            severity,
            observed_at: self.now,
        });
    }

    fn note_unknown(&mut self, resource: impl FnOnce() -> String, known: bool, state: &str) {
        if !known {
            self.anomalies.push(Anomaly::UnknownState {
                resource: resource(),
                state: state.to_owned(),
            });
        }
    }

    fn workflows(
        &mut self,
        previous: &TargetState,
        observation: &Observation,
        next: &mut TargetState,
    ) {
        let mut workflows: Vec<&Workflow> = observation.workflows.iter().collect();
        workflows.sort_by_key(|workflow| workflow.number);
        for workflow in workflows {
            if next.workflows.contains_key(&workflow.id) {
                self.anomalies.push(Anomaly::DuplicateWorkflow {
                    id: workflow.id.clone(),
                });
                continue;
            }
            self.note_unknown(
                || format!("workflow #{} {}", workflow.number, workflow.name),
                workflow.state.is_known(),
                workflow.state.as_str(),
            );
            let seen = previous.workflows.get(&workflow.id);
            let mut sequence = seen.map_or(0, |seen| seen.events);
            let resource = format!("workflow/{}", workflow.id);
            match seen {
                None => {
                    if self.report_new(workflow.state.is_error()) {
                        self.emit(
                            &resource,
                            &mut sequence,
                            workflow.state.severity(),
                            EventKind::WorkflowStateChanged {
                                previous_state: None,
                                state: workflow.state.clone(),
                                workflow: workflow.clone(),
                            },
                        );
                    }
                }
                Some(seen) if seen.state != workflow.state => self.emit(
                    &resource,
                    &mut sequence,
                    workflow.state.severity(),
                    EventKind::WorkflowStateChanged {
                        previous_state: Some(seen.state.clone()),
                        state: workflow.state.clone(),
                        workflow: workflow.clone(),
                    },
                ),
                Some(seen) if seen.workflow_errors != workflow.workflow_errors => self.emit(
                    &resource,
                    &mut sequence,
                    errors_severity(workflow.workflow_errors.as_deref()),
                    EventKind::WorkflowErrorsChanged {
                        errors: workflow.workflow_errors.clone(),
                        previous_errors: seen.workflow_errors.clone(),
                        workflow: workflow.clone(),
                    },
                ),
                Some(_) => {}
            }
            next.workflows.insert(
                workflow.id.clone(),
                SeenWorkflow {
                    number: workflow.number,
                    name: workflow.name.clone(),
                    state: workflow.state.clone(),
                    workflow_errors: workflow.workflow_errors.clone(),
                    events: sequence,
                },
            );
        }
    }

    fn deploy_requests(
        &mut self,
        previous: &TargetState,
        observation: &Observation,
        next: &mut TargetState,
    ) {
        let mut observed: Vec<_> = observation.deploy_requests.iter().collect();
        observed.sort_by_key(|observed| observed.deploy_request.number);
        let mut covered = BTreeSet::new();
        for observed in observed {
            let request = &observed.deploy_request;
            if !covered.insert(request.number) {
                self.anomalies.push(Anomaly::DuplicateDeployRequest {
                    number: request.number,
                });
                continue;
            }
            self.note_unknown(
                || format!("deploy request #{}", request.number),
                request.deployment_state.is_known(),
                request.deployment_state.as_str(),
            );
            let seen = previous.deploy_requests.get(&request.number);
            let mut sequence = seen.map_or(0, |seen| seen.events);
            let empty = BTreeMap::new();
            let seen_operations = seen.map_or(&empty, |seen| &seen.operations);
            let first_operation_event = self.events.len();
            let operations = match &observed.operations {
                Some(operations) => self.operations(request.number, seen_operations, operations),
                None => seen_operations.clone(),
            };
            let events_before = self.events.len();
            self.request_state(request, seen, &mut sequence);
            // For a known request the operations come first, so "table orders failed" reads
            // before "deploy request errored"; a new request is announced before its operations.
            if seen.is_none() && self.events.len() > events_before {
                self.events[first_operation_event..].rotate_right(1);
            }
            if request.is_open() {
                next.deploy_requests.insert(
                    request.number,
                    SeenDeployRequest {
                        deployment_state: request.deployment_state.clone(),
                        events: sequence,
                        operations,
                    },
                );
            }
        }
        for number in &observation.vanished_deploy_requests {
            covered.insert(*number);
        }
        // A remembered request this observation did not cover stays remembered, so that a
        // poller that could not look at it never makes it silently disappear.
        for (number, seen) in &previous.deploy_requests {
            if !covered.contains(number) {
                next.deploy_requests.insert(*number, seen.clone());
            }
        }
    }

    fn request_state(
        &mut self,
        request: &DeployRequest,
        seen: Option<&SeenDeployRequest>,
        sequence: &mut u64,
    ) {
        let previous_state = match seen {
            None if self.report_new(request.deployment_state.is_error()) => None,
            None => return,
            Some(seen) if seen.deployment_state != request.deployment_state => {
                Some(seen.deployment_state.clone())
            }
            Some(_) => return,
        };
        self.emit(
            &format!("deploy_request/{}", request.number),
            sequence,
            request.deployment_state.severity(),
            EventKind::DeployRequestStateChanged {
                previous_state,
                state: request.deployment_state.clone(),
                deploy_request: request.clone(),
            },
        );
    }

    fn operations(
        &mut self,
        deploy_request_number: u64,
        seen_operations: &BTreeMap<String, SeenOperation>,
        operations: &[DeployOperation],
    ) -> BTreeMap<String, SeenOperation> {
        let mut next = BTreeMap::new();
        for operation in operations {
            if next.contains_key(&operation.id) {
                self.anomalies.push(Anomaly::DuplicateOperation {
                    deploy_request_number,
                    id: operation.id.clone(),
                });
                continue;
            }
            self.note_unknown(
                || {
                    format!(
                        "operation {} of deploy request #{deploy_request_number}",
                        operation.id
                    )
                },
                operation.state.is_known(),
                operation.state.as_str(),
            );
            let seen = seen_operations.get(&operation.id);
            let mut sequence = seen.map_or(0, |seen| seen.events);
            let resource = format!(
                "deploy_request/{deploy_request_number}/operation/{}",
                operation.id
            );
            let state_change = match seen {
                // A new operation that has not started yet is no news; one first seen already
                // running, done or failed is.
                None if self.baseline => {
                    self.report_new(operation.state.is_error()).then_some(None)
                }
                None => (!matches!(
                    operation.state,
                    OperationState::Pending | OperationState::Queued
                ))
                .then_some(None),
                Some(seen) if seen.state != operation.state => Some(Some(seen.state.clone())),
                Some(_) => None,
            };
            if let Some(previous_state) = state_change {
                self.emit(
                    &resource,
                    &mut sequence,
                    operation.state.severity(),
                    EventKind::DeployOperationStateChanged {
                        previous_state,
                        state: operation.state.clone(),
                        deploy_request_number,
                        operation: operation.clone(),
                    },
                );
            } else if let Some(seen) =
                seen.filter(|seen| seen.deploy_errors != operation.deploy_errors)
            {
                self.emit(
                    &resource,
                    &mut sequence,
                    errors_severity(operation.deploy_errors.as_deref()),
                    EventKind::DeployOperationErrorsChanged {
                        errors: operation.deploy_errors.clone(),
                        previous_errors: seen.deploy_errors.clone(),
                        deploy_request_number,
                        operation: operation.clone(),
                    },
                );
            }
            next.insert(
                operation.id.clone(),
                SeenOperation {
                    state: operation.state.clone(),
                    deploy_errors: operation.deploy_errors.clone(),
                    events: sequence,
                },
            );
        }
        next
    }
}

fn errors_severity(errors: Option<&str>) -> Severity {
    if errors.is_some() {
        Severity::Critical
    } else {
        Severity::Info
    }
}
