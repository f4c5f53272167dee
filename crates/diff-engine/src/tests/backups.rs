//! Backups: a baseline at their first reading, then a change of state is an event, a failure
//! is critical and the next success of its branch recovers; a poll that did not read them
//! leaves them as they were.

use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use super::target;
use crate::*;

const START: OffsetDateTime = datetime!(2026-11-23 12:00 UTC);

fn backup(id: &str, branch: &str, state: &str, started: &str) -> Backup {
    Backup {
        id: id.into(),
        name: format!("backup {id}"),
        branch: branch.into(),
        state: state.into(),
        size: Some(1024),
        started_at: Some(started.into()),
        completed_at: None,
    }
}

fn read(backups: Option<Vec<Backup>>) -> Observation {
    Observation {
        backups,
        ..Observation::default()
    }
}

#[test]
fn backups_are_a_baseline_then_changes_failures_and_recoveries() {
    let target = target();
    let mut state = diff(
        &target,
        None,
        &Observation::default(),
        START,
        DiffOptions::default(),
    )
    .next;
    assert_eq!(state.slow_polled_at, None);
    let poll = |state: &TargetState, minutes: i64, backups: Option<Vec<Backup>>| {
        diff(
            &target,
            Some(state),
            &read(backups),
            START + Duration::minutes(minutes),
            DiffOptions::default(),
        )
    };
    // First reading: a baseline, even of a failed backup.
    let first = poll(
        &state,
        5,
        Some(vec![backup("b1", "main", "failed", "09:00")]),
    );
    assert!(first.events.is_empty());
    state = first.next;
    assert_eq!(state.slow_polled_at, Some(START + Duration::minutes(5)));
    assert!(state.failing_backups.contains("main"));
    // A poll that does not read backups keeps them.
    let quiet = poll(&state, 6, None);
    assert!(quiet.events.is_empty());
    assert_eq!(quiet.next.backups, state.backups);
    assert_eq!(quiet.next.slow_polled_at, state.slow_polled_at);
    // A new backup, running, then succeeding: the success recovers the branch.
    let next = poll(
        &state,
        10,
        Some(vec![
            backup("b1", "main", "failed", "09:00"),
            backup("b2", "main", "running", "10:00"),
        ]),
    );
    assert_eq!(next.events.len(), 1);
    assert_eq!(next.events[0].severity, Severity::Info);
    state = next.next;
    let done = poll(
        &state,
        15,
        Some(vec![
            backup("b1", "main", "failed", "09:00"),
            backup("b2", "main", "success", "10:00"),
        ]),
    );
    let [event] = done.events.as_slice() else {
        panic!("{:#?}", done.events);
    };
    match &event.kind {
        EventKind::BackupStateChanged {
            previous_state,
            state,
            recovers,
            ..
        } => {
            assert_eq!(previous_state.as_deref(), Some("running"));
            assert_eq!(state, "success");
            assert!(recovers);
        }
        other => panic!("{other:?}"),
    }
    state = done.next;
    assert!(state.failing_backups.is_empty());
    // A failure is critical; the same again is no event; its id is stable.
    let failed = poll(
        &state,
        20,
        Some(vec![
            backup("b2", "main", "success", "10:00"),
            backup("b3", "main", "failed", "11:00"),
        ]),
    );
    assert_eq!(failed.events.len(), 1);
    assert_eq!(failed.events[0].severity, Severity::Critical);
    let again = poll(
        &state,
        20,
        Some(vec![
            backup("b2", "main", "success", "10:00"),
            backup("b3", "main", "failed", "11:00"),
        ]),
    );
    assert_eq!(
        again.events[0].id, failed.events[0].id,
        "a repeated poll, the same id"
    );
    let settled = poll(
        &failed.next,
        25,
        Some(vec![
            backup("b2", "main", "success", "10:00"),
            backup("b3", "main", "failed", "11:00"),
        ]),
    );
    assert!(settled.events.is_empty());
    assert!(
        !settled.next.backups.contains_key("b1"),
        "gone from the list: forgotten"
    );
}

fn resize(id: &str, state: &str) -> Resize {
    Resize {
        id: id.into(),
        branch: "main".into(),
        keyspace: Some("commerce".into()),
        state: state.into(),
        previous_cluster_name: Some("PS_10".into()),
        cluster_name: Some("PS_20".into()),
        previous_replicas: Some(2),
        replicas: Some(3),
        previous_maximum_storage_bytes: None,
        maximum_storage_bytes: None,
        started_at: Some("2026-11-23T09:00:00.000Z".into()),
        completed_at: None,
    }
}

/// Resizes: a baseline at their first reading (apart from backups'), then changes; one under
/// way keeps the database active; a cancelled one is a warning.
#[test]
fn resizes_are_a_baseline_then_changes_and_keep_the_database_active() {
    let target = target();
    let poll = |state: Option<&TargetState>, minutes: i64, resizes: Vec<Resize>| {
        diff(
            &target,
            state,
            &Observation {
                resizes: Some(resizes),
                ..Observation::default()
            },
            START + Duration::minutes(minutes),
            DiffOptions::default(),
        )
    };
    let mut state = diff(
        &target,
        None,
        &Observation::default(),
        START,
        DiffOptions::default(),
    )
    .next;
    // Backups were read before: the first reading of resizes is still a baseline.
    state.backups_read = true;
    let first = poll(Some(&state), 1, vec![resize("r1", "resizing")]);
    assert!(first.events.is_empty());
    assert_eq!(first.next.motion(), Motion::Active, "a resize under way");
    let done = poll(Some(&first.next), 2, vec![resize("r1", "completed")]);
    assert_eq!(done.events.len(), 1);
    assert_eq!(done.events[0].severity, Severity::Info);
    assert_eq!(done.next.motion(), Motion::Idle);
    let cancelled = poll(
        Some(&done.next),
        3,
        vec![resize("r1", "completed"), resize("r2", "canceled")],
    );
    let [event] = cancelled.events.as_slice() else {
        panic!("{:#?}", cancelled.events);
    };
    assert_eq!(event.severity, Severity::Warning);
    assert_eq!(event.type_name(), "resize.state_changed");
    assert_eq!(event.kind.previous_state(), None, "first seen");
}

fn recommendation(number: u64, state: &str) -> SchemaRecommendation {
    SchemaRecommendation {
        id: format!("sr-{number}"),
        number,
        title: "Drop unused index".into(),
        table_name: Some("orders".into()),
        keyspace: Some("commerce".into()),
        ddl_statement: None,
        recommendation_type: Some("unused_index".into()),
        state: state.into(),
        html_url: None,
    }
}

/// Schema recommendations: a baseline, then a new open one is opened, and one leaving open
/// is closed; one first seen closed, or closed again, is no event.
#[test]
fn recommendations_open_and_close() {
    let target = target();
    let poll = |state: Option<&TargetState>, recommendations: Vec<SchemaRecommendation>| {
        diff(
            &target,
            state,
            &Observation {
                recommendations: Some(recommendations),
                ..Observation::default()
            },
            START,
            DiffOptions::default(),
        )
    };
    let first = poll(None, vec![recommendation(1, "open")]);
    assert!(first.events.is_empty(), "a baseline");
    let next = poll(
        Some(&first.next),
        vec![
            recommendation(1, "dismissed"),
            recommendation(2, "open"),
            recommendation(3, "stale"),
        ],
    );
    let kinds: Vec<&str> = next.events.iter().map(Event::type_name).collect();
    assert_eq!(
        kinds,
        [
            "schema_recommendation.closed",
            "schema_recommendation.opened"
        ]
    );
    let again = poll(
        Some(&next.next),
        vec![
            recommendation(1, "dismissed"),
            recommendation(2, "open"),
            recommendation(3, "stale"),
        ],
    );
    assert!(again.events.is_empty());
}

/// A reading that missed some backups (a branch that could not be read, an item that could
/// not be decoded) forgets none of the remembered ones, and reports none as new when they are
/// read again; the same holds for resizes, recommendations and maintenance schedules.
#[test]
fn a_partial_reading_forgets_nothing_and_its_return_is_no_news() {
    let target = target();
    let full = vec![
        backup("b1", "main", "success", "09:00"),
        backup("b2", "other", "success", "09:30"),
    ];
    let state = diff(
        &target,
        None,
        &read(Some(full.clone())),
        START,
        DiffOptions::default(),
    )
    .next;
    let mut partial = read(Some(vec![backup("b1", "main", "success", "09:00")]));
    partial.partial.backups = true;
    let missed = diff(
        &target,
        Some(&state),
        &partial,
        START + Duration::minutes(5),
        DiffOptions::default(),
    );
    assert!(missed.events.is_empty());
    assert_eq!(missed.next.backups, state.backups, "b2 is kept");
    let back = diff(
        &target,
        Some(&missed.next),
        &read(Some(full)),
        START + Duration::minutes(10),
        DiffOptions::default(),
    );
    assert!(back.events.is_empty(), "{:?}", back.events);
    // A whole reading without it forgets it.
    let gone = diff(
        &target,
        Some(&back.next),
        &read(Some(vec![backup("b1", "main", "success", "09:00")])),
        START + Duration::minutes(15),
        DiffOptions::default(),
    );
    assert!(!gone.next.backups.contains_key("b2"));
}
