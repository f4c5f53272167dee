//! Reminders and stalls: what the diff reports as time passes while nothing changes.

use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use super::{describe, target};
use crate::*;

pub(super) const START: OffsetDateTime = datetime!(2026-11-23 12:00 UTC);

fn options() -> DiffOptions<'static> {
    DiffOptions {
        cutover_reminder: Some(Duration::hours(1)),
        stall_after: Some(Duration::minutes(30)),
        ..DiffOptions::default()
    }
}

fn observe(request: DeployRequest, operations: Vec<DeployOperation>) -> Observation {
    Observation {
        deploy_requests: vec![ObservedDeployRequest {
            deploy_request: request,
            operations: Some(operations),
            ..ObservedDeployRequest::default()
        }],
        ..Observation::default()
    }
}

fn request(state: DeployState) -> testing::DeployRequestBuilder {
    testing::deploy_request(7).id("dr-id-7").state(state)
}

/// Polls one after the other, each `(minutes after START, observation)`; returns each poll's
/// events as `describe` prints them, and the full events of the last poll.
pub(super) struct Polls<'a> {
    pub(super) state: Option<TargetState>,
    options: DiffOptions<'a>,
    pub(super) last: Vec<Event>,
}

impl<'a> Polls<'a> {
    pub(super) fn new(options: DiffOptions<'a>) -> Self {
        Self {
            state: None,
            options,
            last: Vec::new(),
        }
    }

    pub(super) fn at(&mut self, minutes: i64, observation: &Observation) -> Vec<String> {
        let result = diff(
            &target(),
            self.state.as_ref(),
            observation,
            START + Duration::minutes(minutes),
            self.options,
        );
        self.state = Some(result.next);
        self.last = result.events;
        self.last.iter().map(describe).collect()
    }
}

#[test]
fn a_deploy_request_pending_cutover_is_reminded_of_every_interval_while_it_waits() {
    let mut polls = Polls::new(options());
    let deploying = observe(request(DeployState::InProgress).build(), Vec::new());
    let waiting = observe(request(DeployState::PendingCutover).build(), Vec::new());
    assert!(polls.at(0, &deploying).is_empty(), "the baseline");
    assert_eq!(
        polls.at(1, &waiting),
        ["deploy_request.state_changed dr7 in_progress->pending_cutover info"]
    );
    assert!(polls.at(30, &waiting).is_empty());
    let before_first = polls.state.clone();
    assert_eq!(
        polls.at(61, &waiting),
        ["deploy_request.awaiting_cutover dr7 reminder1 warning"]
    );
    let first = polls.last[0].clone();
    let EventKind::DeployRequestAwaitingCutover { waiting_since, .. } = &first.kind else {
        panic!("{first:?}");
    };
    assert_eq!(*waiting_since, START + Duration::minutes(1));
    assert_eq!(first.kind.state(), "pending_cutover");
    // The same poll repeated (after a crash before its commit) gives the same id.
    let repeated = diff(
        &target(),
        before_first.as_ref(),
        &waiting,
        START + Duration::minutes(75),
        options(),
    );
    assert_eq!(repeated.events[0].id, first.id);

    assert!(polls.at(90, &waiting).is_empty(), "once per interval");
    assert_eq!(
        polls.at(122, &waiting),
        ["deploy_request.awaiting_cutover dr7 reminder2 warning"]
    );
    assert_ne!(polls.last[0].id, first.id);
    // Polls far apart remind once, not once per missed interval.
    assert_eq!(
        polls.at(400, &waiting),
        ["deploy_request.awaiting_cutover dr7 reminder6 warning"]
    );
    // A cutover ends the wait; a new wait starts its own count.
    let cutting = observe(request(DeployState::InProgressCutover).build(), Vec::new());
    assert_eq!(polls.at(401, &cutting).len(), 1);
    assert_eq!(polls.at(402, &waiting).len(), 1, "the state change");
    assert!(polls.at(430, &waiting).is_empty());
    assert_eq!(
        polls.at(463, &waiting),
        ["deploy_request.awaiting_cutover dr7 reminder1 warning"]
    );
}

#[test]
fn reminders_are_off_at_zero_and_a_long_wait_found_at_start_is_reminded_at_its_next_interval() {
    let mut off = Polls::new(DiffOptions {
        cutover_reminder: None,
        ..options()
    });
    let waiting = observe(request(DeployState::PendingCutover).build(), Vec::new());
    off.at(0, &waiting);
    assert!(off.at(600, &waiting).is_empty());

    // PlanetScale says it became ready 2½ hours before pswatch started.
    let mut polls = Polls::new(options());
    let waiting = observe(
        request(DeployState::PendingCutover)
            .ready_to_cutover_at("2026-11-23T09:30:00Z")
            .build(),
        Vec::new(),
    );
    assert!(
        polls.at(0, &waiting).is_empty(),
        "the baseline reports nothing"
    );
    assert!(
        polls.at(20, &waiting).is_empty(),
        "two intervals were counted"
    );
    assert_eq!(
        polls.at(31, &waiting),
        ["deploy_request.awaiting_cutover dr7 reminder3 warning"]
    );
}

#[test]
fn an_expiring_cutover_and_a_paused_queue_are_reported_when_they_turn_true() {
    let mut polls = Polls::new(options());
    let plain = request(DeployState::PendingCutover);
    polls.at(
        0,
        &observe(plain.clone().cutover_expiring(false).build(), Vec::new()),
    );
    assert_eq!(
        polls.at(
            1,
            &observe(plain.clone().cutover_expiring(true).build(), Vec::new())
        ),
        ["deploy_request.cutover_expiring dr7 expiring critical"]
    );
    assert!(
        polls
            .at(
                2,
                &observe(plain.clone().cutover_expiring(true).build(), Vec::new())
            )
            .is_empty(),
        "reported once"
    );
    assert!(
        polls
            .at(3, &observe(plain.clone().build(), Vec::new()))
            .is_empty(),
        "the API not saying keeps what was seen"
    );
    polls.at(
        4,
        &observe(plain.clone().cutover_expiring(false).build(), Vec::new()),
    );
    assert_eq!(
        polls
            .at(
                5,
                &observe(plain.clone().cutover_expiring(true).build(), Vec::new())
            )
            .len(),
        1,
        "it turned true again"
    );

    let queued = request(DeployState::Queued);
    polls.at(
        6,
        &observe(queued.clone().queue_paused(false, None).build(), Vec::new()),
    );
    assert_eq!(
        polls.at(
            7,
            &observe(
                queued
                    .clone()
                    .queue_paused(true, Some("maintenance window"))
                    .build(),
                Vec::new()
            )
        ),
        ["deploy_request.queue_paused dr7 paused:maintenance window warning"]
    );
    assert!(polls
        .at(
            8,
            &observe(queued.queue_paused(true, None).build(), Vec::new())
        )
        .is_empty());

    // On the baseline, a paused queue is recorded, not reported.
    let mut fresh = Polls::new(options());
    let paused = observe(
        request(DeployState::Queued)
            .queue_paused(true, None)
            .build(),
        Vec::new(),
    );
    assert!(fresh.at(0, &paused).is_empty());
    assert!(fresh.at(1, &paused).is_empty());
}

#[test]
fn an_operation_whose_progress_stops_is_reported_once_per_stall() {
    let mut polls = Polls::new(options());
    let deploying = request(DeployState::InProgress).build();
    let at = |percentage: f64| {
        observe(
            deploying.clone(),
            vec![testing::operation("a", "orders")
                .state(OperationState::InProgress)
                .progress(percentage)
                .build()],
        )
    };
    assert!(polls.at(0, &at(37.5)).is_empty());
    assert!(polls.at(20, &at(37.5)).is_empty());
    assert_eq!(
        polls.at(31, &at(37.5)),
        ["deploy_operation.stalled dr7/a stalled@37.5 warning"]
    );
    let EventKind::DeployOperationStalled { stalled_since, .. } = &polls.last[0].kind else {
        panic!("{:?}", polls.last);
    };
    assert_eq!(*stalled_since, START);
    assert!(polls.at(45, &at(37.5)).is_empty(), "once per stall");
    // Progress clears the stall; a new one is reported after another `stall_after`.
    assert!(polls.at(50, &at(40.0)).is_empty());
    assert!(polls.at(70, &at(40.0)).is_empty());
    assert_eq!(polls.at(81, &at(40.0)).len(), 1);

    // A state change clears it too.
    let queued_again = observe(
        deploying.clone(),
        vec![testing::operation("a", "orders")
            .state(OperationState::Queued)
            .build()],
    );
    assert_eq!(polls.at(82, &queued_again).len(), 1);
    assert_eq!(polls.at(83, &at(40.0)).len(), 1, "in_progress again");
    assert!(polls.at(100, &at(40.0)).is_empty());
    assert_eq!(polls.at(114, &at(40.0)).len(), 1);

    // Without a percentage nothing can be said to stall; at zero the alert is off.
    let unknown = observe(
        deploying.clone(),
        vec![testing::operation("b", "users")
            .state(OperationState::InProgress)
            .build()],
    );
    let mut polls = Polls::new(options());
    polls.at(0, &unknown);
    assert!(polls.at(600, &unknown).is_empty());
    let mut off = Polls::new(DiffOptions {
        stall_after: None,
        ..options()
    });
    off.at(0, &at(10.0));
    assert!(off.at(600, &at(10.0)).is_empty());
}

#[test]
fn a_closing_revert_window_is_reported_once() {
    let options = DiffOptions {
        revert_window_warning: Some(Duration::minutes(10)),
        ..options()
    };
    let mut polls = Polls::new(options);
    let ends = |minutes: i64| {
        (START + Duration::minutes(minutes))
            .format(&time::format_description::well_known::Rfc3339)
            .expect("format")
    };
    let deployed = |end: i64| {
        observe(
            request(DeployState::CompletePendingRevert)
                .revert_window_ends_at(ends(end))
                .build(),
            Vec::new(),
        )
    };
    assert!(polls
        .at(
            0,
            &observe(request(DeployState::InProgress).build(), Vec::new())
        )
        .is_empty());
    assert_eq!(
        polls.at(1, &deployed(30)),
        ["deploy_request.state_changed dr7 in_progress->complete_pending_revert info"]
    );
    assert!(polls.at(19, &deployed(30)).is_empty(), "11 minutes before");
    assert_eq!(
        polls.at(21, &deployed(30)),
        ["deploy_request.revert_window_closing dr7 revert-window-closing warning"]
    );
    let EventKind::DeployRequestRevertWindowClosing { closes_at, .. } = &polls.last[0].kind else {
        panic!("{:?}", polls.last);
    };
    assert_eq!(*closes_at, START + Duration::minutes(30));
    assert!(polls.at(25, &deployed(30)).is_empty(), "once per window");
    assert!(
        polls.at(31, &deployed(30)).is_empty(),
        "closed: nothing more"
    );
    // Without the time, or with the warning off, nothing.
    let mut quiet = Polls::new(DiffOptions {
        revert_window_warning: None,
        ..options
    });
    quiet.at(
        0,
        &observe(request(DeployState::InProgress).build(), Vec::new()),
    );
    quiet.at(1, &deployed(30));
    assert!(quiet.at(25, &deployed(30)).is_empty());
}

#[test]
fn a_locked_table_is_reported_once_when_it_locks() {
    let mut polls = Polls::new(options());
    let queued = || request(DeployState::Queued);
    assert!(polls
        .at(0, &observe(queued().build(), Vec::new()))
        .is_empty());
    assert_eq!(
        polls.at(
            1,
            &observe(queued().table_locked(Some("orders")).build(), Vec::new())
        ),
        ["deploy_request.blocked dr7 blocked:orders warning"]
    );
    assert!(polls
        .at(
            2,
            &observe(queued().table_locked(Some("orders")).build(), Vec::new())
        )
        .is_empty());
    // A response that does not say keeps what was seen; unlocked, then locked again: again.
    assert!(polls
        .at(3, &observe(queued().build(), Vec::new()))
        .is_empty());
    let mut unlocked = queued().build();
    unlocked.table_locked = Some(false);
    assert!(polls.at(4, &observe(unlocked, Vec::new())).is_empty());
    assert_eq!(
        polls.at(5, &observe(queued().table_locked(None).build(), Vec::new())),
        ["deploy_request.blocked dr7 blocked:null warning"]
    );
}
