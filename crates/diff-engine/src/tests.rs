//! Table tests of the diff. An observation is written in a compact text form, one token a
//! resource:
//!
//! - `wf3=running` a workflow (#3), `wf3=error!no~route` with error text `no route`;
//! - `dr7=in_progress` an open deploy request, `dr7=complete/closed` a closed one;
//! - `dr7=in_progress{a=complete,b=error!oops}` with its operations seen;
//! - `{a@orders=pending}` operation id `a` on table `orders` (the table is the id otherwise);
//! - `{~r=submit}` an operation of the deploy request's revert (`{~}` alone: no revert ops);
//! - `dr7=error!bad~key` a deploy request whose validation failed with `bad key`;
//! - `dr7=?` a deploy request without a state;
//! - `gone7` deploy request #7 vanished (404 by number), `wfgone3` workflow #3 vanished.
//!
//! Each event prints as `type resource previous->state severity`, revert operations' resource
//! as `dr7/~r`.

use time::macros::datetime;

use crate::*;

fn observation(text: &str) -> Observation {
    let mut observation = Observation::default();
    for token in text.split_whitespace() {
        if let Some(number) = token.strip_prefix("wfgone") {
            observation
                .vanished_workflows
                .push(format!("wf-id-{number}"));
        } else if let Some(number) = token.strip_prefix("gone") {
            observation
                .vanished_deploy_requests
                .push(number.parse().expect("number"));
        } else if let Some(rest) = token.strip_prefix("wf") {
            let (number, state) = rest.split_once('=').expect("wfN=state");
            let (state, errors) = split_errors(state);
            let workflow = testing::workflow(number.parse().expect("number"))
                .id(format!("wf-id-{number}"))
                .name(format!("move-{number}"))
                .state(WorkflowState::parse(state));
            observation.workflows.push(
                match errors {
                    Some(errors) => workflow.errors(errors),
                    None => workflow,
                }
                .build(),
            );
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
            let mut forward = Vec::new();
            let mut revert = Vec::new();
            let mut revert_seen = false;
            for operation in operations.iter().flat_map(|text| text.split(',')) {
                if operation.is_empty() {
                    continue;
                }
                let (is_revert, operation) = match operation.strip_prefix('~') {
                    Some(rest) => {
                        revert_seen = true;
                        (true, rest)
                    }
                    None => (false, operation),
                };
                if operation.is_empty() {
                    continue;
                }
                let (name, state) = operation.split_once('=').expect("op=state");
                let (id, table) = name.split_once('@').unwrap_or((name, name));
                let (state, errors) = split_errors(state);
                let operation = testing::operation(id, table).state(OperationState::parse(state));
                let operation = match errors {
                    Some(errors) if is_revert => operation.revert_errors(errors),
                    Some(errors) => operation.deploy_errors(errors, None),
                    None => operation,
                }
                .build();
                if is_revert {
                    revert.push(operation);
                } else {
                    forward.push(operation);
                }
            }
            let (state, check_errors) = split_errors(deployment_state);
            observation.deploy_requests.push(ObservedDeployRequest {
                deploy_request: {
                    let request = testing::deploy_request(number.parse().expect("number"))
                        .id(format!("dr-id-{number}"))
                        .state(if state == "?" {
                            DeployState::unknown()
                        } else {
                            DeployState::parse(state)
                        });
                    let request = match open {
                        "open" => request,
                        "closed" => request.closed(),
                        other => panic!("open or closed, not {other}"),
                    };
                    match check_errors {
                        Some(errors) => request.check_errors(errors),
                        None => request,
                    }
                    .build()
                },
                operations: operations.map(|_| forward),
                revert_operations: revert_seen.then_some(revert),
                operations_partial: false,
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
            phase,
            operation,
        } => (
            operation_name(*deploy_request_number, *phase, operation),
            format!(
                "{}->{state}",
                opt(previous_state.as_ref().map(|s| s.as_str()))
            ),
        ),
        EventKind::DeployOperationErrorsChanged {
            errors,
            previous_errors,
            deploy_request_number,
            phase,
            operation,
        } => (
            operation_name(*deploy_request_number, *phase, operation),
            format!(
                "{}->{}",
                opt(previous_errors.as_deref()),
                opt(errors.as_deref())
            ),
        ),
        EventKind::DeployRequestAwaitingCutover {
            reminder,
            deploy_request,
            ..
        } => (
            format!("dr{}", deploy_request.number),
            format!("reminder{reminder}"),
        ),
        EventKind::DeployRequestCutoverExpiring { deploy_request } => {
            (format!("dr{}", deploy_request.number), "expiring".into())
        }
        EventKind::DeployRequestBlocked {
            locked_table,
            deploy_request,
        } => (
            format!("dr{}", deploy_request.number),
            format!("blocked:{}", opt(locked_table.as_deref())),
        ),
        EventKind::DeployRequestRevertWindowClosing { deploy_request, .. } => (
            format!("dr{}", deploy_request.number),
            "revert-window-closing".into(),
        ),
        EventKind::DeployRequestQueuePaused {
            queue_pause_reason,
            deploy_request,
        } => (
            format!("dr{}", deploy_request.number),
            format!("paused:{}", opt(queue_pause_reason.as_deref())),
        ),
        EventKind::DeployOperationStalled {
            deploy_request_number,
            phase,
            operation,
            ..
        } => (
            operation_name(*deploy_request_number, *phase, operation),
            format!(
                "stalled@{}",
                operation.progress_percentage.unwrap_or_default()
            ),
        ),
        EventKind::TimerFired {
            timer,
            state,
            firing,
            escalated,
            subject,
            ..
        } => (
            format!(
                "{timer}:{}",
                match subject {
                    TimerSubject::Workflow(workflow) => format!("wf{}", workflow.number),
                    TimerSubject::DeployRequest(request) => format!("dr{}", request.number),
                    TimerSubject::DeployOperation {
                        deploy_request_number,
                        phase,
                        operation,
                    } => operation_name(*deploy_request_number, *phase, operation),
                    TimerSubject::Backup(backup) => format!("backup {}", backup.id),
                    TimerSubject::Resize(resize) => format!("resize {}", resize.id),
                }
            ),
            format!("{state}#{firing}{}", if *escalated { "!" } else { "" }),
        ),
        EventKind::PlanetScale { event, .. } => ("planetscale".into(), event.as_str().into()),
        EventKind::Digest { digest } => ("digest".into(), digest.name.clone()),
        EventKind::MaintenanceScheduled { schedule, .. }
        | EventKind::MaintenanceStarted { schedule }
        | EventKind::MaintenanceFinished { schedule } => (
            format!("maintenance {}", schedule.id),
            event.type_name().into(),
        ),
        EventKind::SchemaRecommendationOpened { recommendation } => (
            format!("recommendation {}", recommendation.number),
            "opened".into(),
        ),
        EventKind::SchemaRecommendationClosed { recommendation, .. } => (
            format!("recommendation {}", recommendation.number),
            format!("closed {}", recommendation.state),
        ),
        EventKind::ResizeStateChanged {
            previous_state,
            state,
            resize,
        } => (
            format!("resize {}", resize.id),
            format!("{}->{state}", opt(previous_state.as_deref())),
        ),
        EventKind::BackupStateChanged {
            previous_state,
            state,
            backup,
            ..
        } => (
            format!("backup {}", backup.id),
            format!("{}->{state}", opt(previous_state.as_deref())),
        ),
    };
    format!(
        "{} {resource} {change} {}",
        event.type_name(),
        event.severity
    )
}

fn operation_name(number: u64, phase: OperationPhase, operation: &DeployOperation) -> String {
    match phase {
        OperationPhase::Deploy => format!("dr{number}/{}", operation.id),
        OperationPhase::Revert => format!("dr{number}/~{}", operation.id),
    }
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
            ..DiffOptions::default()
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
        // A workflow missing from one observation keeps its state: its return is no news.
        (&["wf1=running", ""], &[]),
        (&["wf1=running", "", "wf1=running"], &[]),
        (
            &["wf1=running", "", "wf1=cutover"],
            &["workflow.state_changed wf1 running->cutover info"],
        ),
        // One the API says is gone is forgotten silently; if it came back, it would be new.
        (&["wf1=running", "wfgone1"], &[]),
        (
            &["wf1=running", "wfgone1", "wf1=running"],
            &["workflow.state_changed wf1 null->running info"],
        ),
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
        // Validation failed: the reason travels with the event.
        (
            &["dr7=pending", "dr7=error!NO_UNIQUE_KEY~on~Persons"],
            &["deploy_request.state_changed dr7 pending->error critical"],
        ),
        // pending and ready alternate on every push to the branch: no news by default.
        (
            &["dr7=pending", "dr7=ready", "dr7=pending", "dr7=ready"],
            &[],
        ),
        (
            &["dr7=pending", "dr7=ready", "dr7=queued"],
            &["deploy_request.state_changed dr7 ready->queued info"],
        ),
        (
            &["", "dr7=pending"],
            &["deploy_request.state_changed dr7 null->pending info"],
        ),
        // A request without a state is no transition; its remembered state stands.
        (&["dr7=ready", "dr7=?"], &[]),
        (&["dr7=ready", "dr7=?", "dr7=ready"], &[]),
        (
            &["dr7=ready", "dr7=?", "dr7=queued"],
            &["deploy_request.state_changed dr7 ready->queued info"],
        ),
        // One first seen without a state is announced once its state is known.
        (
            &["", "dr7=?", "dr7=ready"],
            &["deploy_request.state_changed dr7 null->ready info"],
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
        // An instant deploy that finished between two polls: the failing table is reported
        // from the state it was last seen in.
        (
            &[
                "dr7=ready{a=pending,b=pending}",
                "dr7=complete_error{a=complete,b=error!Duplicate~entry}",
            ],
            &[
                "deploy_operation.state_changed dr7/a pending->complete info",
                "deploy_operation.state_changed dr7/b pending->error critical",
                "deploy_request.state_changed dr7 ready->complete_error critical",
            ],
        ),
        // PlanetScale gives an operation a new id when it starts: same keyspace, table and
        // operation name, so it is the same operation.
        (
            &[
                "dr7=queued{q1@orders=pending}",
                "dr7=in_progress{s1@orders=in_progress}",
            ],
            &[
                "deploy_operation.state_changed dr7/s1 pending->in_progress info",
                "deploy_request.state_changed dr7 queued->in_progress info",
            ],
        ),
        (
            &[
                "dr7=queued{q1@orders=pending}",
                "dr7=in_progress{s1@orders=in_progress}",
                "dr7=in_progress{s1@orders=in_progress}",
            ],
            &[],
        ),
        // A different table under a new id is a new operation.
        (
            &[
                "dr7=in_progress{q1@orders=in_progress}",
                "dr7=in_progress{q1@orders=in_progress,s2@invoices=complete}",
            ],
            &["deploy_operation.state_changed dr7/s2 null->complete info"],
        ),
        // An operation the response no longer lists is forgotten.
        (
            &[
                "dr7=ready{a=pending,b=pending}",
                "dr7=ready{a=pending}",
                "dr7=in_progress{a=in_progress,b=in_progress}",
            ],
            &[
                "deploy_operation.state_changed dr7/a pending->in_progress info",
                "deploy_operation.state_changed dr7/b null->in_progress info",
                "deploy_request.state_changed dr7 ready->in_progress info",
            ],
        ),
    ];
    for (polls, expected) in cases {
        check(polls, expected);
    }
}

#[test]
fn revert_operations() {
    let cases: &[(&[&str], &[&str])] = &[
        // The revert request appears with the deploy: submitted operations are no news.
        (
            &[
                "dr7=in_progress{a=in_progress}",
                "dr7=complete_pending_revert{a=complete,~r=submit}",
            ],
            &[
                "deploy_operation.state_changed dr7/a in_progress->complete info",
                "deploy_request.state_changed dr7 in_progress->complete_pending_revert info",
            ],
        ),
        (
            &[
                "dr7=complete_pending_revert{a=complete,~r=submit}",
                "dr7=in_progress_revert{a=complete,~r=complete}",
            ],
            &[
                "deploy_operation.state_changed dr7/~r submit->complete info",
                "deploy_request.state_changed dr7 complete_pending_revert->in_progress_revert info",
            ],
        ),
        // A failed revert comes with the table and the reason.
        (
            &[
                "dr7=in_progress_revert{a=complete,~r=submit}",
                "dr7=complete_revert_error{a=complete,~r=error!table~locked}",
            ],
            &[
                "deploy_operation.state_changed dr7/~r submit->error critical",
                "deploy_request.state_changed dr7 in_progress_revert->complete_revert_error critical",
            ],
        ),
        (
            &[
                "dr7=in_progress_revert{~r=submit}",
                "dr7=in_progress_revert{~r=submit!table~locked}",
            ],
            &["deploy_operation.errors_changed dr7/~r null->table locked critical"],
        ),
        // Reverted and closed: reported once, then forgotten.
        (
            &[
                "dr7=in_progress_revert{a=complete,~r=submit}",
                "dr7=complete_revert/closed{a=complete,~r=complete}",
            ],
            &[
                "deploy_operation.state_changed dr7/~r submit->complete info",
                "deploy_request.state_changed dr7 in_progress_revert->complete_revert warning",
            ],
        ),
    ];
    for (polls, expected) in cases {
        check(polls, expected);
    }
}

#[test]
fn operation_events_say_their_phase_and_errors() {
    let (_, state) = run(
        &["dr7=in_progress_revert{~r=submit}"],
        DiffOptions::default(),
    );
    let result = diff(
        &target(),
        Some(&state),
        &observation("dr7=complete_revert_error{~r=failed!table~locked}"),
        datetime!(2026-11-23 12:00 UTC),
        DiffOptions::default(),
    );
    let event = &result.events[0];
    assert_eq!(event.type_name(), "deploy_operation.state_changed");
    assert_eq!(event.kind.phase(), Some(OperationPhase::Revert));
    assert_eq!(event.kind.state(), "failed");
    assert_eq!(event.severity, Severity::Critical);
    let operation = event.kind.operation().expect("an operation");
    assert_eq!(operation.table_name.as_deref(), Some("r"));
    assert_eq!(operation.revert_errors.as_deref(), Some("table locked"));
    assert_eq!(
        result.events[0].kind.errors().as_deref(),
        Some("table locked")
    );
    // A forward operation says `deploy`.
    let (_, state) = run(&["dr7=in_progress{a=in_progress}"], DiffOptions::default());
    let result = diff(
        &target(),
        Some(&state),
        &observation("dr7=in_progress{a=complete}"),
        datetime!(2026-11-23 12:00 UTC),
        DiffOptions::default(),
    );
    let event = &result.events[0];
    assert_eq!(event.kind.phase(), Some(OperationPhase::Deploy));
    let operation = event.kind.operation().expect("an operation");
    assert!(operation.revert_errors.is_none());
}

#[test]
fn validation_errors_travel_with_the_deploy_request() {
    let (_, state) = run(&["dr7=pending"], DiffOptions::default());
    let mut observation = observation("dr7=error");
    let request = &mut observation.deploy_requests[0].deploy_request;
    request.lint_errors = vec![LintError {
        lint_error: Some("NO_UNIQUE_KEY".into()),
        keyspace_name: Some("commerce".into()),
        table_name: Some("Persons".into()),
        error_description: Some("table \"Persons\" has no unique key".into()),
    }];
    request.deploy_check_errors = Some("schema check failed".into());
    let result = diff(
        &target(),
        Some(&state),
        &observation,
        datetime!(2026-11-23 12:00 UTC),
        DiffOptions::default(),
    );
    let event = &result.events[0];
    assert_eq!(
        event.kind.errors().as_deref(),
        Some("table \"Persons\" has no unique key (NO_UNIQUE_KEY)\nschema check failed")
    );
    let request = event.kind.deploy_request().expect("a deploy request");
    assert_eq!(
        request.lint_errors[0].error_description.as_deref(),
        Some("table \"Persons\" has no unique key")
    );
    assert_eq!(
        request.deploy_check_errors.as_deref(),
        Some("schema check failed")
    );
}

#[test]
fn pending_ready_bounces_are_reported_when_asked() {
    let options = DiffOptions {
        notify_pending_ready: true,
        ..DiffOptions::default()
    };
    let (events, _) = run(&["dr7=pending", "dr7=ready", "dr7=pending"], options);
    assert_eq!(
        events[1..],
        [
            ["deploy_request.state_changed dr7 pending->ready info"],
            ["deploy_request.state_changed dr7 ready->pending info"],
        ]
    );
}

#[test]
fn operations_that_could_not_be_read_keep_their_state() {
    let (_, state) = run(
        &["dr7=in_progress{a=in_progress,b=in_progress}"],
        DiffOptions::default(),
    );
    let mut partial = observation("dr7=in_progress{a=complete}");
    partial.deploy_requests[0].operations_partial = true;
    partial.unreadable.push(Unreadable {
        what: "operation 2 of deploy request #7".into(),
        problem: "`state` is missing".into(),
    });
    let result = diff(
        &target(),
        Some(&state),
        &partial,
        datetime!(2026-11-23 12:00 UTC),
        DiffOptions::default(),
    );
    let events: Vec<String> = result.events.iter().map(describe).collect();
    assert_eq!(
        events,
        ["deploy_operation.state_changed dr7/a in_progress->complete info"]
    );
    assert!(result.next.deploy_requests[&7].operations.contains_key("b"));
    assert_eq!(result.anomalies.len(), 1);
    assert_eq!(result.anomalies[0].kind(), "unreadable_item");
    assert!(result.anomalies[0]
        .to_string()
        .contains("`state` is missing"));
    // Back to readable: b's change is reported from its remembered state.
    let result = diff(
        &target(),
        Some(&result.next),
        &observation("dr7=in_progress{a=complete,b=error!oops}"),
        datetime!(2026-11-23 12:00 UTC),
        DiffOptions::default(),
    );
    let events: Vec<String> = result.events.iter().map(describe).collect();
    assert_eq!(
        events,
        ["deploy_operation.state_changed dr7/b in_progress->error critical"]
    );
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

#[test]
fn a_resource_forgotten_and_seen_again_never_repeats_an_id() {
    // Deploy request #7 runs and closes; later another #7 does the same; so does workflow #1,
    // gone (404) and back.
    let life = [
        "dr7=queued wf1=pending",
        "dr7=in_progress wf1=running",
        "dr7=complete/closed wf1=completed",
        "wfgone1",
    ];
    let mut polls = vec![""];
    polls.extend(life);
    polls.extend(life);
    let ids = ids(&polls);
    assert!(ids.len() >= 8, "{ids:?}");
    let unique: std::collections::BTreeSet<_> = ids.iter().collect();
    assert_eq!(
        unique.len(),
        ids.len(),
        "an id names one transition: {ids:?}"
    );
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
    let motion = |text: &str| run(&[text], DiffOptions::default()).1.motion();
    assert_eq!(motion("wf1=completed dr7=ready"), Motion::Idle);
    assert_eq!(motion(""), Motion::Idle);
    assert_eq!(motion("wf1=copying"), Motion::Active);
    assert_eq!(motion("wf1=running"), Motion::Waiting);
    assert_eq!(motion("wf1=cutover wf2=copying"), Motion::Active);
    assert_eq!(motion("dr7=in_progress"), Motion::Active);
    // pending_cutover waits for a click unless PlanetScale cuts over on its own.
    let mut state = run(&["dr7=pending_cutover"], DiffOptions::default()).1;
    assert_eq!(state.motion(), Motion::Active, "auto_cutover unknown");
    if let Some(request) = state.deploy_requests.get_mut(&7) {
        request.auto_cutover = Some(false);
    }
    assert_eq!(state.motion(), Motion::Waiting);
    // auto_cutover is remembered from the deploy request.
    let mut waiting = observation("dr7=pending_cutover");
    waiting.deploy_requests[0].deploy_request.auto_cutover = Some(false);
    let result = diff(
        &target(),
        None,
        &waiting,
        datetime!(2026-11-23 12:00 UTC),
        DiffOptions::default(),
    );
    assert_eq!(result.next.motion(), Motion::Waiting);
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
fn planetscale_events_have_a_type_a_severity_and_an_id_per_delivery() {
    use crate::{PlanetScaleEvent, EVENT_TYPES};
    let at = time::macros::datetime!(2026-11-23 12:00 UTC);
    let ready = PlanetScaleEvent::parse("branch.ready").expect("known");
    assert_eq!(ready.type_name(), "planetscale.branch.ready");
    assert_eq!(ready.as_str(), "branch.ready");
    assert!(PlanetScaleEvent::parse("deploy_request.queued").is_none());
    assert!(PlanetScaleEvent::parse("branch.exploded").is_none());
    let routed = EVENT_TYPES
        .iter()
        .filter(|name| name.starts_with("planetscale."))
        .count();
    assert_eq!(routed, 11);
    let severity = |name: &str, resource: serde_json::Value| {
        PlanetScaleEvent::parse(name)
            .expect(name)
            .severity(&resource)
    };
    let none = serde_json::json!({"name": "main"});
    assert_eq!(severity("branch.anomaly", none.clone()), Severity::Critical);
    assert_eq!(
        severity("branch.out_of_memory", none.clone()),
        Severity::Critical
    );
    assert_eq!(
        severity("branch.start_maintenance", none.clone()),
        Severity::Warning
    );
    assert_eq!(severity("branch.ready", none.clone()), Severity::Info);
    assert_eq!(severity("webhook.test", none.clone()), Severity::Info);
    assert_eq!(
        severity(
            "cluster.storage",
            serde_json::json!({"storage_percentage": 91.5})
        ),
        Severity::Critical
    );
    assert_eq!(
        severity(
            "keyspace.storage",
            serde_json::json!({"usage": {"percent_used": "90%"}})
        ),
        Severity::Critical
    );
    assert_eq!(
        severity("cluster.storage", serde_json::json!({"percentage": 75})),
        Severity::Warning
    );
    assert_eq!(severity("cluster.storage", none.clone()), Severity::Warning);
    let resource = serde_json::json!({"id": "br1", "name": "main", "state": "ready"});
    let event = Event::from_planetscale(
        "acme",
        "commerce",
        ready,
        1_698_252_879,
        resource.clone(),
        at,
    );
    let again = Event::from_planetscale(
        "acme",
        "commerce",
        ready,
        1_698_252_879,
        resource.clone(),
        at + time::Duration::minutes(5),
    );
    assert_eq!(event.id, again.id, "a repeated delivery gets the same id");
    let later = Event::from_planetscale(
        "acme",
        "commerce",
        ready,
        1_698_252_880,
        resource.clone(),
        at,
    );
    assert_ne!(event.id, later.id);
    // Another delivery of the same resource in the same second is another event.
    let mut changed = resource;
    changed["state"] = "sleeping".into();
    let other = Event::from_planetscale("acme", "commerce", ready, 1_698_252_879, changed, at);
    assert_ne!(event.id, other.id, "two deliveries, two ids");
    assert_eq!(event.type_name(), "planetscale.branch.ready");
    assert_eq!(event.kind.state(), "ready");
}

mod backups;
mod reminders;
mod timers;
