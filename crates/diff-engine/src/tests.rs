//! Table tests of the diff. An observation is written in a compact text form, one token a
//! resource:
//!
//! - `wf3=running` a workflow (#3), `wf3=error!no~route` with error text `no route`;
//! - `dr7=in_progress` an open deploy request, `dr7=complete/closed` a closed one;
//! - `dr7=in_progress{a=complete,b=error!oops}` with its operations fetched;
//! - `gone7` deploy request #7 vanished (404 by number).
//!
//! Each event prints as `type resource previous->state severity`.

use time::macros::datetime;

use crate::*;

fn observation(text: &str) -> Observation {
    let mut observation = Observation::default();
    for token in text.split_whitespace() {
        if let Some(number) = token.strip_prefix("gone") {
            observation
                .vanished_deploy_requests
                .push(number.parse().expect("number"));
        } else if let Some(rest) = token.strip_prefix("wf") {
            let (number, state) = rest.split_once('=').expect("wfN=state");
            let (state, errors) = split_errors(state);
            observation.workflows.push(Workflow {
                id: format!("wf-id-{number}"),
                number: number.parse().expect("number"),
                name: format!("move-{number}"),
                state: WorkflowState::parse(state),
                workflow_errors: errors,
                source_keyspace: None,
                target_keyspace: None,
                branch: None,
                actor: None,
                cutover_by: None,
                updated_at: None,
            });
        } else if let Some(rest) = token.strip_prefix("dr") {
            let (number, rest) = rest.split_once('=').expect("drN=state");
            let (head, operations) = match rest.split_once('{') {
                Some((head, operations)) => (head, Some(operations.trim_end_matches('}'))),
                None => (rest, None),
            };
            let (deployment_state, open) = match head.split_once('/') {
                Some((state, open)) => (state, open),
                None => (head, "open"),
            };
            let operations = operations.map(|operations| {
                operations
                    .split(',')
                    .filter(|operation| !operation.is_empty())
                    .map(|operation| {
                        let (id, state) = operation.split_once('=').expect("op=state");
                        let (state, errors) = split_errors(state);
                        DeployOperation {
                            id: id.to_owned(),
                            state: OperationState::parse(state),
                            keyspace_name: None,
                            table_name: Some(id.to_owned()),
                            operation_name: None,
                            ddl_statement: None,
                            deploy_errors: errors,
                            deploy_error_docs_url: None,
                            progress_percentage: None,
                        }
                    })
                    .collect()
            });
            observation.deploy_requests.push(ObservedDeployRequest {
                deploy_request: DeployRequest {
                    id: format!("dr-id-{number}"),
                    number: number.parse().expect("number"),
                    state: open.to_owned(),
                    deployment_state: DeployState::parse(deployment_state),
                    branch: None,
                    into_branch: None,
                    html_url: None,
                    actor: None,
                    closed_by: None,
                },
                operations,
            });
        } else {
            panic!("unknown token {token}");
        }
    }
    observation
}

fn split_errors(text: &str) -> (&str, Option<String>) {
    match text.split_once('!') {
        Some((state, errors)) => (state, Some(errors.replace('~', " "))),
        None => (text, None),
    }
}

fn describe(event: &Event) -> String {
    let (resource, change) = match &event.kind {
        EventKind::WorkflowStateChanged {
            previous_state,
            state,
            workflow,
        } => (
            format!("wf{}", workflow.number),
            format!(
                "{}->{state}",
                opt(previous_state.as_ref().map(|s| s.as_str()))
            ),
        ),
        EventKind::WorkflowErrorsChanged {
            errors,
            previous_errors,
            workflow,
        } => (
            format!("wf{}", workflow.number),
            format!(
                "{}->{}",
                opt(previous_errors.as_deref()),
                opt(errors.as_deref())
            ),
        ),
        EventKind::DeployRequestStateChanged {
            previous_state,
            state,
            deploy_request,
        } => (
            format!("dr{}", deploy_request.number),
            format!(
                "{}->{state}",
                opt(previous_state.as_ref().map(|s| s.as_str()))
            ),
        ),
        EventKind::DeployOperationStateChanged {
            previous_state,
            state,
            deploy_request_number,
            operation,
        } => (
            format!("dr{deploy_request_number}/{}", operation.id),
            format!(
                "{}->{state}",
                opt(previous_state.as_ref().map(|s| s.as_str()))
            ),
        ),
        EventKind::DeployOperationErrorsChanged {
            errors,
            previous_errors,
            deploy_request_number,
            operation,
        } => (
            format!("dr{deploy_request_number}/{}", operation.id),
            format!(
                "{}->{}",
                opt(previous_errors.as_deref()),
                opt(errors.as_deref())
            ),
        ),
    };
    format!(
        "{} {resource} {change} {}",
        event.type_name(),
        event.severity
    )
}

fn opt(text: Option<&str>) -> &str {
    text.unwrap_or("null")
}

fn target() -> Target {
    Target::new("acme", "commerce")
}

/// Runs the polls in order from no state and returns the events of each poll, one line each.
fn run(polls: &[&str], options: DiffOptions) -> (Vec<Vec<String>>, TargetState) {
    let mut state = None;
    let mut all = Vec::new();
    for poll in polls {
        let result = diff(
            &target(),
            state.as_ref(),
            &observation(poll),
            datetime!(2026-11-23 12:00 UTC),
            options,
        );
        all.push(result.events.iter().map(describe).collect());
        state = Some(result.next);
    }
    (all, state.unwrap_or_default())
}

/// Checks the events of the last poll, after the earlier ones.
#[track_caller]
fn check(polls: &[&str], expected: &[&str]) {
    let (events, _) = run(polls, DiffOptions::default());
    let last = events.last().expect("at least one poll");
    assert_eq!(last, expected, "polls: {polls:?}");
}

#[test]
fn baseline_is_silent() {
    check(
        &["wf1=running wf2=error!boom dr7=in_progress{a=error!x}"],
        &[],
    );
}

#[test]
fn baseline_reports_errors_when_asked() {
    let (events, _) = run(
        &["wf1=running wf2=error!boom dr7=complete_error{a=error!x,b=complete}"],
        DiffOptions {
            notify_on_baseline_errors: true,
        },
    );
    assert_eq!(
        events[0],
        [
            "workflow.state_changed wf2 null->error critical",
            "deploy_request.state_changed dr7 null->complete_error critical",
            "deploy_operation.state_changed dr7/a null->error critical",
        ]
    );
}

#[test]
fn workflow_transitions() {
    let cases: &[(&[&str], &[&str])] = &[
        (&["wf1=running", "wf1=running"], &[]),
        (
            &["wf1=running", "wf1=switched_replicas"],
            &["workflow.state_changed wf1 running->switched_replicas info"],
        ),
        // States skipped while pswatch was not looking are one transition.
        (
            &["wf1=copying", "wf1=cutover"],
            &["workflow.state_changed wf1 copying->cutover info"],
        ),
        (
            &["wf1=running", "wf1=error!vreplication~stalled"],
            &["workflow.state_changed wf1 running->error critical"],
        ),
        (
            &["wf1=running", "wf1=cancelled"],
            &["workflow.state_changed wf1 running->cancelled warning"],
        ),
        (
            &["wf1=cutover", "wf1=reversed_cutover"],
            &["workflow.state_changed wf1 cutover->reversed_cutover warning"],
        ),
        (
            &["", "wf2=pending"],
            &["workflow.state_changed wf2 null->pending info"],
        ),
        (
            &["wf1=running", "wf1=running!lag"],
            &["workflow.errors_changed wf1 null->lag critical"],
        ),
        (
            &["wf1=running!lag", "wf1=running"],
            &["workflow.errors_changed wf1 lag->null info"],
        ),
        // A state change carries the errors; no second event for them.
        (
            &["wf1=running", "wf1=error!boom"],
            &["workflow.state_changed wf1 running->error critical"],
        ),
        // A workflow that leaves the list is forgotten silently.
        (&["wf1=running", ""], &[]),
        // An unknown state is watched like any other.
        (
            &["wf1=running", "wf1=teleporting"],
            &["workflow.state_changed wf1 running->teleporting info"],
        ),
    ];
    for (polls, expected) in cases {
        check(polls, expected);
    }
}

#[test]
fn deploy_request_transitions() {
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["", "dr7=ready"],
            &["deploy_request.state_changed dr7 null->ready info"],
        ),
        (
            &["dr7=ready", "dr7=queued"],
            &["deploy_request.state_changed dr7 ready->queued info"],
        ),
        // Deployed and closed: reported once, then forgotten.
        (
            &[
                "dr7=in_progress{a=in_progress}",
                "dr7=complete/closed{a=complete}",
            ],
            &[
                "deploy_operation.state_changed dr7/a in_progress->complete info",
                "deploy_request.state_changed dr7 in_progress->complete info",
            ],
        ),
        (
            &[
                "dr7=in_progress",
                "dr7=complete/closed",
                "dr7=complete/closed",
            ],
            &["deploy_request.state_changed dr7 null->complete info"],
        ),
        (
            &["dr7=in_progress", "dr7=cancelled"],
            &["deploy_request.state_changed dr7 in_progress->cancelled warning"],
        ),
        (
            &["dr7=in_progress", "dr7=complete_revert"],
            &["deploy_request.state_changed dr7 in_progress->complete_revert warning"],
        ),
        (
            &["dr7=in_progress", "dr7=complete_error"],
            &["deploy_request.state_changed dr7 in_progress->complete_error critical"],
        ),
        // A vanished request is forgotten without an event.
        (&["dr7=ready", "gone7"], &[]),
        (
            &["dr7=ready", "gone7", "dr7=ready"],
            &["deploy_request.state_changed dr7 null->ready info"],
        ),
        // A request the observation did not cover is kept, not reported as gone.
        (
            &["dr7=ready", "", "dr7=queued"],
            &["deploy_request.state_changed dr7 ready->queued info"],
        ),
    ];
    for (polls, expected) in cases {
        check(polls, expected);
    }
}

#[test]
fn deploy_operation_transitions() {
    let cases: &[(&[&str], &[&str])] = &[
        (
            &[
                "dr7=queued{a=pending,b=pending}",
                "dr7=in_progress{a=in_progress,b=pending}",
            ],
            &[
                "deploy_operation.state_changed dr7/a pending->in_progress info",
                "deploy_request.state_changed dr7 queued->in_progress info",
            ],
        ),
        (
            &[
                "dr7=in_progress{a=in_progress}",
                "dr7=in_progress{a=error!Duplicate~entry}",
            ],
            &["deploy_operation.state_changed dr7/a in_progress->error critical"],
        ),
        (
            &[
                "dr7=in_progress{a=in_progress}",
                "dr7=in_progress{a=in_progress!throttled}",
            ],
            &["deploy_operation.errors_changed dr7/a null->throttled critical"],
        ),
        // Operations not fetched this poll keep their remembered state.
        (
            &[
                "dr7=in_progress{a=in_progress}",
                "dr7=in_progress",
                "dr7=in_progress{a=in_progress}",
            ],
            &[],
        ),
        // A new operation is news only once it has started.
        (
            &[
                "dr7=in_progress{a=in_progress}",
                "dr7=in_progress{a=in_progress,b=queued,c=complete}",
            ],
            &["deploy_operation.state_changed dr7/c null->complete info"],
        ),
        // A new deploy request is announced before its operations.
        (
            &["", "dr8=in_progress{a=in_progress,b=pending}"],
            &[
                "deploy_request.state_changed dr8 null->in_progress info",
                "deploy_operation.state_changed dr8/a null->in_progress info",
            ],
        ),
    ];
    for (polls, expected) in cases {
        check(polls, expected);
    }
}

#[test]
fn event_ids_are_stable_and_distinct() {
    let polls = ["wf1=running", "wf1=stopped", "wf1=running", "wf1=stopped"];
    let first = ids(&polls);
    assert_eq!(first, ids(&polls), "the same transitions get the same ids");
    let unique: std::collections::BTreeSet<_> = first.iter().collect();
    assert_eq!(
        unique.len(),
        3,
        "a repeated transition is a new event: {first:?}"
    );
    // A different target gives different ids.
    let other = diff(
        &Target::new("acme", "users"),
        Some(&run(&["wf1=running"], DiffOptions::default()).1),
        &observation("wf1=stopped"),
        datetime!(2026-11-23 12:00 UTC),
        DiffOptions::default(),
    );
    assert!(!first.contains(&other.events[0].id));
}

fn ids(polls: &[&str]) -> Vec<String> {
    let mut state = None;
    let mut ids = Vec::new();
    for poll in polls {
        let result = diff(
            &target(),
            state.as_ref(),
            &observation(poll),
            datetime!(2026-11-23 12:00 UTC),
            DiffOptions::default(),
        );
        ids.extend(result.events.into_iter().map(|event| event.id));
        state = Some(result.next);
    }
    ids
}

#[test]
fn anomalies_are_reported_not_fatal() {
    let result = diff(
        &target(),
        Some(&TargetState::default()),
        &observation("wf1=running wf1=copying wf2=teleporting dr7=ready dr7=queued{a=x,a=y}"),
        datetime!(2026-11-23 12:00 UTC),
        DiffOptions::default(),
    );
    let anomalies: Vec<String> = result.anomalies.iter().map(ToString::to_string).collect();
    assert_eq!(anomalies.len(), 3, "{anomalies:?}");
    assert!(anomalies[0].contains("workflow id wf-id-1 appears twice"));
    assert!(anomalies[1].contains("\"teleporting\""));
    assert!(anomalies[2].contains("deploy request #7 appears twice"));
    assert_eq!(result.events.len(), 3);
}

#[test]
fn motion_follows_states() {
    let (_, state) = run(&["wf1=completed dr7=ready"], DiffOptions::default());
    assert!(!state.in_motion());
    let (_, state) = run(&["wf1=running"], DiffOptions::default());
    assert!(state.in_motion());
    let (_, state) = run(&["dr7=in_progress"], DiffOptions::default());
    assert!(state.in_motion());
}

#[test]
fn operations_are_fetched_while_deploying_and_once_after() {
    let (_, state) = run(&["dr7=in_progress"], DiffOptions::default());
    let seen = state.deploy_requests.get(&7);
    let request = |text: &str| observation(text).deploy_requests[0].deploy_request.clone();
    assert!(needs_operations(None, &request("dr7=in_progress")));
    assert!(!needs_operations(None, &request("dr7=ready")));
    assert!(needs_operations(seen, &request("dr7=complete/closed")));
    let (_, state) = run(&["dr7=ready"], DiffOptions::default());
    assert!(!needs_operations(
        state.deploy_requests.get(&7),
        &request("dr7=ready")
    ));
}

#[test]
fn events_serialize_as_the_webhook_data() {
    let (_, state) = run(&["wf1=running"], DiffOptions::default());
    let result = diff(
        &target(),
        Some(&state),
        &observation("wf1=cutover"),
        datetime!(2026-11-23 12:00 UTC),
        DiffOptions::default(),
    );
    let json = serde_json::to_value(&result.events[0]).expect("serializes");
    assert_eq!(json["type"], "workflow.state_changed");
    assert_eq!(json["previous_state"], "running");
    assert_eq!(json["state"], "cutover");
    assert_eq!(json["organization"], "acme");
    assert_eq!(json["severity"], "info");
    assert_eq!(json["observed_at"], "2026-11-23T12:00:00Z");
    assert_eq!(json["workflow"]["number"], 1);
    let back: Event = serde_json::from_value(json).expect("deserializes");
    assert_eq!(back, result.events[0]);
}
