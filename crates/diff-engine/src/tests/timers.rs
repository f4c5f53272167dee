//! Timers: a firing after `after`, repeats every `repeat`, escalation from a count, a clock
//! that restarts when the state changes, one firing after a gap across several firing times,
//! and clocks kept only for what a timer watches.

use globset::{Glob, GlobSet, GlobSetBuilder};
use time::Duration;

use super::reminders::Polls;
use crate::*;

fn globs(patterns: &[&str]) -> GlobSet {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        builder.add(Glob::new(pattern).expect("glob"));
    }
    builder.build().expect("globs")
}

fn timer(name: &str, resources: &[TimerResource], states: &[&str]) -> Timer {
    Timer {
        name: name.into(),
        resources: resources.to_vec(),
        states: globs(states),
        databases: None,
        after: Duration::minutes(60),
        repeat: Some(Duration::minutes(30)),
        escalate_after: Some(3),
    }
}

fn workflows(state: WorkflowState) -> Observation {
    Observation {
        workflows: vec![testing::workflow(3).state(state).build()],
        ..Observation::default()
    }
}

fn options(timers: &[Timer]) -> DiffOptions<'_> {
    DiffOptions {
        timers,
        ..DiffOptions::default()
    }
}

#[test]
fn a_timer_fires_after_its_time_repeats_and_escalates_until_the_state_changes() {
    let timers = [timer("stuck", &[TimerResource::Workflow], &["error"])];
    let mut polls = Polls::new(options(&timers));
    let error = workflows(WorkflowState::Error);
    assert!(polls.at(0, &workflows(WorkflowState::Running)).is_empty());
    assert_eq!(
        polls.at(1, &error),
        ["workflow.state_changed wf3 running->error critical"]
    );
    assert!(polls.at(60, &error).is_empty(), "59 minutes in error");
    assert_eq!(
        polls.at(61, &error),
        ["timer.fired stuck:wf3 error#1 warning"]
    );
    let EventKind::TimerFired { since, .. } = polls.last[0].kind.clone() else {
        panic!("{:?}", polls.last);
    };
    assert_eq!(since, super::reminders::START + Duration::minutes(1));
    assert!(polls.at(62, &error).is_empty(), "fired once");
    assert_eq!(
        polls.at(91, &error),
        ["timer.fired stuck:wf3 error#2 warning"]
    );
    assert_eq!(
        polls.at(121, &error),
        ["timer.fired stuck:wf3 error#3! critical"],
        "the third firing escalates"
    );
    // Leaving the state stops it; coming back starts a new stay, counted from its start.
    assert_eq!(
        polls.at(130, &workflows(WorkflowState::Running)),
        ["workflow.state_changed wf3 error->running info"]
    );
    assert!(polls.at(200, &workflows(WorkflowState::Running)).is_empty());
    assert_eq!(
        polls.at(201, &error),
        ["workflow.state_changed wf3 running->error critical"]
    );
    assert!(polls.at(260, &error).is_empty());
    assert_eq!(
        polls.at(261, &error),
        ["timer.fired stuck:wf3 error#1 warning"]
    );
}

#[test]
fn a_gap_across_several_firing_times_fires_once() {
    let timers = [timer("stuck", &[TimerResource::Workflow], &["error"])];
    let mut polls = Polls::new(options(&timers));
    let error = workflows(WorkflowState::Error);
    assert!(polls.at(0, &workflows(WorkflowState::Running)).is_empty());
    polls.at(1, &error);
    assert_eq!(
        polls.at(61, &error),
        ["timer.fired stuck:wf3 error#1 warning"]
    );
    // Down from minute 62 to minute 150, across firings 2 (91) and 3 (121): only the latest
    // due is made, once, and the next comes at its own time (151).
    assert_eq!(
        polls.at(150, &error),
        ["timer.fired stuck:wf3 error#3! critical"]
    );
    assert!(polls.at(150, &error).is_empty());
    assert_eq!(
        polls.at(151, &error),
        ["timer.fired stuck:wf3 error#4! critical"]
    );
}

#[test]
fn a_timer_without_repeat_fires_once_and_ids_differ_by_stay_and_firing() {
    let mut once = timer("once", &[TimerResource::DeployRequest], &["in_progress_*"]);
    once.repeat = None;
    once.escalate_after = None;
    let timers = [once];
    let mut polls = Polls::new(options(&timers));
    let request = |state| Observation {
        deploy_requests: vec![ObservedDeployRequest {
            deploy_request: testing::deploy_request(7).state(state).build(),
            ..ObservedDeployRequest::default()
        }],
        ..Observation::default()
    };
    polls.at(0, &request(DeployState::InProgressCutover));
    assert_eq!(
        polls.at(60, &request(DeployState::InProgressCutover)),
        ["timer.fired once:dr7 in_progress_cutover#1 warning"]
    );
    let first = polls.last[0].id.clone();
    assert!(polls
        .at(600, &request(DeployState::InProgressCutover))
        .is_empty());
    // A new stay in another watched state has its own clock and its own id.
    polls.at(601, &request(DeployState::InProgressRevert));
    assert_eq!(
        polls.at(661, &request(DeployState::InProgressRevert)),
        ["timer.fired once:dr7 in_progress_revert#1 warning"]
    );
    assert_ne!(polls.last[0].id, first);
}

#[test]
fn clocks_are_kept_only_for_what_a_timer_watches_and_only_while_remembered() {
    let mut only_shop = timer("stuck", &[TimerResource::Workflow], &["error"]);
    only_shop.databases = Some(globs(&["shop-*"]));
    let timers = [only_shop];
    let mut polls = Polls::new(options(&timers));
    polls.at(0, &workflows(WorkflowState::Error));
    assert!(polls.at(600, &workflows(WorkflowState::Error)).is_empty());
    assert!(
        polls.state.as_ref().expect("state").timers.is_empty(),
        "the target's database is not among the timer's"
    );
    let timers = [timer("stuck", &[TimerResource::Workflow], &["error"])];
    let mut polls = Polls::new(options(&timers));
    polls.at(0, &workflows(WorkflowState::Error));
    let state = polls.state.clone().expect("state");
    assert_eq!(state.timers.len(), 1, "{:?}", state.timers);
    // A poll that did not show the workflow keeps its clock; one that forgot it drops it.
    polls.at(1, &Observation::default());
    assert_eq!(polls.state.as_ref().expect("state").timers, state.timers);
    let gone = Observation {
        vanished_workflows: vec!["wf-3".into()],
        ..Observation::default()
    };
    polls.at(2, &gone);
    assert!(polls.state.as_ref().expect("state").timers.is_empty());
}

#[test]
fn a_baseline_counts_firings_already_due_and_operations_backups_and_resizes_have_timers() {
    let mut waiting = timer(
        "cutover",
        &[TimerResource::DeployRequest],
        &["pending_cutover"],
    );
    waiting.escalate_after = None;
    let mut slow = timer(
        "slow",
        &[
            TimerResource::DeployOperation,
            TimerResource::Backup,
            TimerResource::Resize,
        ],
        &["in_progress", "running", "resizing"],
    );
    slow.repeat = None;
    let timers = [waiting, slow];
    let mut polls = Polls::new(options(&timers));
    let ready = (super::reminders::START - Duration::minutes(100))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("format");
    let observation = Observation {
        deploy_requests: vec![ObservedDeployRequest {
            deploy_request: testing::deploy_request(7)
                .state(DeployState::PendingCutover)
                .ready_to_cutover_at(ready)
                .build(),
            operations: Some(vec![testing::operation("op-1", "users")
                .state(OperationState::InProgress)
                .build()]),
            ..ObservedDeployRequest::default()
        }],
        backups: Some(vec![Backup {
            id: "b1".into(),
            name: "nightly".into(),
            branch: "main".into(),
            state: "running".into(),
            size: None,
            started_at: None,
            completed_at: None,
        }]),
        resizes: Some(vec![Resize {
            id: "r1".into(),
            branch: "main".into(),
            keyspace: None,
            state: "resizing".into(),
            previous_cluster_name: None,
            cluster_name: None,
            previous_replicas: None,
            replicas: None,
            previous_maximum_storage_bytes: None,
            maximum_storage_bytes: None,
            started_at: None,
            completed_at: None,
        }]),
        ..Observation::default()
    };
    // Waiting 100 minutes already: firings 1 (60) and 2 (90) are counted, not made; at 160
    // minutes the fourth (150) is due.
    assert!(polls.at(0, &observation).is_empty());
    assert!(polls.at(19, &observation).is_empty());
    let mut fired = polls.at(60, &observation);
    fired.sort();
    assert_eq!(
        fired,
        [
            "timer.fired cutover:dr7 pending_cutover#4 warning",
            "timer.fired slow:backup b1 running#1 warning",
            "timer.fired slow:dr7/op-1 in_progress#1 warning",
            "timer.fired slow:resize r1 resizing#1 warning",
        ]
    );
}
