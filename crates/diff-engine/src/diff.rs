//! The diff: previous state + observation -> next state + events.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use time::{Duration, OffsetDateTime};

use crate::event::{event_id, Event, EventKind};
use crate::model::{
    DeployOperation, DeployRequest, Observation, ObservedDeployRequest, OperationPhase,
    SeenDeployRequest, SeenOperation, SeenWorkflow, Target, TargetState, Workflow,
};
use crate::states::{DeployState, Severity};
use crate::timer::Timer;

mod backups;
mod clocks;
mod maintenance;
mod recommendations;
mod resizes;
mod timers;

/// Choices that change what the diff reports.
#[derive(Debug, Clone, Copy, Default)]
pub struct DiffOptions<'a> {
    /// On a target's first poll, report resources that are already in an error state instead of
    /// recording them silently.
    pub notify_on_baseline_errors: bool,
    /// Report a deploy request going between `pending` and `ready`, which it does on every push
    /// to its branch. Off by default: the new state is remembered silently.
    pub notify_pending_ready: bool,
    /// Remind of a deploy request that has been `pending_cutover` this long, and again every
    /// time as long again passes (`deploy_request.awaiting_cutover`); `None`: never.
    pub cutover_reminder: Option<Duration>,
    /// Report an `in_progress` operation whose progress has not moved this long
    /// (`deploy_operation.stalled`); `None`: never.
    pub stall_after: Option<Duration>,
    /// Warn this long before a deployed request's revert window closes
    /// (`deploy_request.revert_window_closing`); `None`: never.
    pub revert_window_warning: Option<Duration>,
    /// The `[[timers]]` (`timer.fired`).
    pub timers: &'a [Timer],
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
    /// The same workflow id appeared twice in one observation.
    DuplicateWorkflow {
        /// The workflow's id.
        id: String,
    },
    /// The same deploy request number appeared twice.
    DuplicateDeployRequest {
        /// The deploy request's number.
        number: u64,
    },
    /// The same operation id appeared twice in one deploy request.
    DuplicateOperation {
        /// The deploy request's number.
        deploy_request_number: u64,
        /// The operation's id.
        id: String,
    },
    /// A state this build does not know (watched like any other).
    UnknownState {
        /// What is in it, e.g. `workflow #3 move-customers`.
        resource: String,
        /// The state, as the API spelled it.
        state: String,
    },
    /// A deploy request without `deployment_state` or `deployment.state`.
    MissingState {
        /// What has no state, e.g. `deploy request #7`.
        resource: String,
    },
    /// An item of a response that could not be read.
    Unreadable {
        /// What could not be read, e.g. `item 3 of …/workflows`.
        what: String,
        /// What is wrong with it.
        problem: String,
    },
}

impl Anomaly {
    /// A short name of the kind of anomaly, for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::DuplicateWorkflow { .. }
            | Self::DuplicateDeployRequest { .. }
            | Self::DuplicateOperation { .. } => "duplicate",
            Self::UnknownState { .. } => "unknown_state",
            Self::MissingState { .. } => "missing_state",
            Self::Unreadable { .. } => "unreadable_item",
        }
    }
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
            Self::MissingState { resource } => write!(
                formatter,
                "{resource} has neither deployment_state nor deployment.state; its remembered state is kept"
            ),
            Self::Unreadable { what, problem } => write!(
                formatter,
                "{what} cannot be read ({problem}); it was skipped and what it describes keeps its remembered state"
            ),
        }
    }
}

/// Compares an observation of `target` with what was seen before and returns the next state
/// and the events. `previous` is `None` on a target's first poll: that poll records a baseline
/// and reports nothing (but errors, when `options` asks for them). `now` stamps the events.
///
/// States skipped between two polls are reported as one transition from the last seen state.
/// A remembered resource the observation does not show keeps its state; only one the API said
/// is gone (404 by number) is forgotten, silently.
pub fn diff(
    target: &Target,
    previous: Option<&TargetState>,
    observation: &Observation,
    now: OffsetDateTime,
    options: DiffOptions<'_>,
) -> Diff {
    let empty = TargetState::default();
    let mut differ = Differ {
        target,
        now,
        baseline: previous.is_none(),
        options,
        events: Vec::new(),
        first_sequence: 0,
        anomalies: observation
            .unreadable
            .iter()
            .map(|unreadable| Anomaly::Unreadable {
                what: unreadable.what.clone(),
                problem: unreadable.problem.clone(),
            })
            .collect(),
    };
    let previous = previous.unwrap_or(&empty);
    differ.first_sequence = previous.events;
    let mut next = TargetState::default();
    differ.workflows(previous, observation, &mut next);
    differ.deploy_requests(previous, observation, &mut next);
    differ.backups(previous, observation, &mut next);
    differ.resizes(previous, observation, &mut next);
    differ.recommendations(previous, observation, &mut next);
    differ.maintenance(previous, observation, &mut next);
    differ.timers(previous, observation, &mut next);
    next.slow_polled_at = if observation.backups.is_some()
        || observation.resizes.is_some()
        || observation.recommendations.is_some()
        || observation.maintenance.is_some()
    {
        Some(now)
    } else {
        previous.slow_polled_at
    };
    next.events = previous
        .events
        .saturating_add(u64::try_from(differ.events.len()).unwrap_or(u64::MAX));
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
    options: DiffOptions<'a>,
    events: Vec<Event>,
    anomalies: Vec<Anomaly>,
    /// Where the event counter of a resource seen for the first time starts: the target's
    /// count of events so far, past every number an earlier resource of the same name used.
    first_sequence: u64,
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
            let mut sequence = seen.map_or(self.first_sequence, |seen| seen.events);
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
                    times: workflow.times.clone(),
                },
            );
        }
        // A remembered workflow the observation does not show (a list that missed it, an item
        // that could not be read) keeps its state, so its return is never announced as new.
        for (id, seen) in &previous.workflows {
            if !next.workflows.contains_key(id) && !observation.vanished_workflows.contains(id) {
                next.workflows.insert(id.clone(), seen.clone());
            }
        }
    }

    fn deploy_requests(
        &mut self,
        previous: &TargetState,
        observation: &Observation,
        next: &mut TargetState,
    ) {
        let mut observed: Vec<&ObservedDeployRequest> =
            observation.deploy_requests.iter().collect();
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
            if request.deployment_state.is_unknown() {
                self.anomalies.push(Anomaly::MissingState {
                    resource: format!("deploy request #{}", request.number),
                });
            } else {
                self.note_unknown(
                    || format!("deploy request #{}", request.number),
                    request.deployment_state.is_known(),
                    request.deployment_state.as_str(),
                );
            }
            let seen = previous.deploy_requests.get(&request.number);
            let mut sequence = seen.map_or(self.first_sequence, |seen| seen.events);
            let empty = BTreeMap::new();
            let first_operation_event = self.events.len();
            let operations = self.operations(
                request.number,
                OperationPhase::Deploy,
                seen.map_or(&empty, |seen| &seen.operations),
                observed.operations.as_deref(),
                observed.operations_partial,
            );
            let revert_operations = self.operations(
                request.number,
                OperationPhase::Revert,
                seen.map_or(&empty, |seen| &seen.revert_operations),
                observed.revert_operations.as_deref(),
                observed.operations_partial,
            );
            let events_before = self.events.len();
            let deployment_state = self.request_state(request, seen, &mut sequence);
            // For a known request the operations come first, so "table orders failed" reads
            // before "deploy request errored"; a new request is announced before its operations.
            if seen.is_none() && self.events.len() > events_before {
                self.events[first_operation_event..].rotate_right(1);
            }
            let waiting = self.waiting(request, seen, &deployment_state, &mut sequence);
            if request.is_open() {
                next.deploy_requests.insert(
                    request.number,
                    SeenDeployRequest {
                        auto_cutover: request
                            .auto_cutover
                            .or_else(|| seen.and_then(|seen| seen.auto_cutover)),
                        events: sequence,
                        operations,
                        revert_operations,
                        waiting,
                        // Kept while it waits in the queue: a poll that could not read the
                        // queue keeps the place last read.
                        queue_position: (deployment_state == DeployState::Queued)
                            .then(|| {
                                request
                                    .queue_position
                                    .or_else(|| seen.and_then(|seen| seen.queue_position))
                            })
                            .flatten(),
                        deployment_state,
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

    /// Reports the request's state change, if there is one to report, and returns the state to
    /// remember.
    fn request_state(
        &mut self,
        request: &DeployRequest,
        seen: Option<&SeenDeployRequest>,
        sequence: &mut u64,
    ) -> crate::DeployState {
        let state = &request.deployment_state;
        // A state the API did not give is no transition: the remembered one stands.
        if state.is_unknown() {
            return seen.map_or_else(crate::DeployState::unknown, |seen| {
                seen.deployment_state.clone()
            });
        }
        let previous_state = match seen {
            // Never announced (first seen without a state): announced now, as new.
            Some(seen) if seen.deployment_state.is_unknown() => None,
            None if self.report_new(state.is_error()) => None,
            None => return state.clone(),
            Some(seen) if seen.deployment_state == *state => return state.clone(),
            Some(seen)
                if !self.options.notify_pending_ready
                    && seen.deployment_state.is_pending_or_ready()
                    && state.is_pending_or_ready() =>
            {
                return state.clone()
            }
            Some(seen) => Some(seen.deployment_state.clone()),
        };
        self.emit(
            &format!("deploy_request/{}", request.number),
            sequence,
            state.severity(),
            EventKind::DeployRequestStateChanged {
                previous_state,
                state: state.clone(),
                deploy_request: request.clone(),
            },
        );
        state.clone()
    }

    /// Diffs one phase's operations of a deploy request and returns what to remember of them.
    /// `observed` is `None` when this poll did not see them: the remembered ones stand.
    fn operations(
        &mut self,
        deploy_request_number: u64,
        phase: OperationPhase,
        seen_operations: &BTreeMap<String, SeenOperation>,
        observed: Option<&[DeployOperation]>,
        partial: bool,
    ) -> BTreeMap<String, SeenOperation> {
        let Some(operations) = observed else {
            return seen_operations.clone();
        };
        // Remembered operations whose id this observation lacks: PlanetScale gives an operation
        // a new id when it starts, so one of these may come back under a new id. Most polls
        // know every id, so the list is made only when an id is new.
        let mut unclaimed: Option<Vec<(&String, &SeenOperation)>> = None;
        let unclaimed_of = || -> Vec<(&String, &SeenOperation)> {
            let observed_ids: BTreeSet<&str> = operations
                .iter()
                .map(|operation| operation.id.as_str())
                .collect();
            seen_operations
                .iter()
                .filter(|(id, _)| !observed_ids.contains(id.as_str()))
                .collect()
        };
        let mut next = BTreeMap::new();
        for operation in operations {
            if next.contains_key(&operation.id) {
                self.anomalies.push(Anomaly::DuplicateOperation {
                    deploy_request_number,
                    id: operation.id.clone(),
                });
                continue;
            }
            // PlanetScale documents no states for revert operations (`submit` and `complete`
            // are seen), so only a forward operation's unknown state is odd.
            if phase == OperationPhase::Deploy {
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
            }
            let seen = seen_operations.get(&operation.id).or_else(|| {
                let unclaimed = unclaimed.get_or_insert_with(unclaimed_of);
                let position = unclaimed
                    .iter()
                    .position(|(_, seen)| operation.matches(seen))?;
                Some(unclaimed.swap_remove(position).1)
            });
            let mut sequence = seen.map_or(self.first_sequence, |seen| seen.events);
            let resource = operation_key(deploy_request_number, phase, &operation.id);
            let errors = operation.errors(phase);
            let state_change = match seen {
                // A new operation that has not started yet is no news; one first seen already
                // running, done or failed is.
                None if self.baseline => {
                    self.report_new(operation.state.is_error()).then_some(None)
                }
                None => (!operation.state.not_started()).then_some(None),
                Some(seen) if seen.state != operation.state => Some(Some(seen.state.clone())),
                Some(_) => None,
            };
            let mut changed = state_change.is_some();
            if let Some(previous_state) = state_change {
                self.emit(
                    &resource,
                    &mut sequence,
                    operation.state.severity().max(errors_severity(errors)),
                    EventKind::DeployOperationStateChanged {
                        previous_state,
                        state: operation.state.clone(),
                        deploy_request_number,
                        phase,
                        operation: operation.clone(),
                    },
                );
            } else if let Some(seen) = seen.filter(|seen| seen.errors.as_deref() != errors) {
                changed = true;
                self.emit(
                    &resource,
                    &mut sequence,
                    errors_severity(errors),
                    EventKind::DeployOperationErrorsChanged {
                        errors: errors.map(str::to_owned),
                        previous_errors: seen.errors.clone(),
                        deploy_request_number,
                        phase,
                        operation: operation.clone(),
                    },
                );
            }
            let progress = self.progress(
                &resource,
                &mut sequence,
                seen.filter(|_| !changed),
                deploy_request_number,
                phase,
                operation,
            );
            next.insert(
                operation.id.clone(),
                SeenOperation {
                    state: operation.state.clone(),
                    errors: errors.map(str::to_owned),
                    events: sequence,
                    keyspace_name: operation.keyspace_name.clone(),
                    table_name: operation.table_name.clone(),
                    operation_name: operation.operation_name.clone(),
                    progress,
                },
            );
        }
        // Operations that could not be read keep what was remembered of them.
        if partial {
            for (id, seen) in unclaimed.unwrap_or_else(unclaimed_of) {
                next.entry(id.clone()).or_insert_with(|| seen.clone());
            }
        }
        next
    }
}

/// The key of an operation of deploy request `number` in its `phase`: part of its events' ids,
/// and of its timers' clocks.
fn operation_key(number: u64, phase: OperationPhase, id: &str) -> String {
    match phase {
        OperationPhase::Deploy => format!("deploy_request/{number}/operation/{id}"),
        OperationPhase::Revert => format!("deploy_request/{number}/revert_operation/{id}"),
    }
}

/// Keeps what `previous` remembers and `next` does not hold, when `partial`: a reading that
/// missed some items forgets none of them.
fn keep_unread<V: Clone>(
    partial: bool,
    previous: &BTreeMap<String, V>,
    next: &mut BTreeMap<String, V>,
) {
    if partial {
        for (id, seen) in previous {
            next.entry(id.clone()).or_insert_with(|| seen.clone());
        }
    }
}

fn errors_severity(errors: Option<&str>) -> Severity {
    if errors.is_some() {
        Severity::Critical
    } else {
        Severity::Info
    }
}
