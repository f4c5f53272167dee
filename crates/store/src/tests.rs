use diff_engine::{
    Event, EventKind, SeenWorkflow, Severity, Target, TargetState, Workflow, WorkflowState,
};
use time::macros::datetime;

use super::*;

fn target() -> Target {
    Target::new("acme", "commerce")
}

fn state(workflow_state: WorkflowState) -> TargetState {
    let mut state = TargetState::default();
    let mut operations = std::collections::BTreeMap::new();
    operations.insert(
        "op-1".to_string(),
        diff_engine::SeenOperation {
            state: diff_engine::OperationState::Error,
            deploy_errors: Some("Duplicate entry".into()),
            events: 1,
        },
    );
    state.deploy_requests.insert(
        7,
        diff_engine::SeenDeployRequest {
            deployment_state: diff_engine::DeployState::InProgress,
            events: 3,
            operations,
        },
    );
    state.workflows.insert(
        "wf-1".into(),
        SeenWorkflow {
            number: 1,
            name: "move-customers".into(),
            state: workflow_state,
            workflow_errors: None,
            events: 2,
        },
    );
    state
}

fn event(id: &str) -> Event {
    Event {
        id: id.into(),
        kind: EventKind::WorkflowStateChanged {
            previous_state: Some(WorkflowState::Running),
            state: WorkflowState::Cutover,
            workflow: Workflow {
                id: "wf-1".into(),
                number: 1,
                name: "move-customers".into(),
                state: WorkflowState::Cutover,
                workflow_errors: None,
                source_keyspace: Some("commerce".into()),
                target_keyspace: Some("customers".into()),
                branch: Some("main".into()),
                actor: None,
                cutover_by: None,
                updated_at: None,
            },
        },
        organization: "acme".into(),
        database: "commerce".into(),
        severity: Severity::Info,
        observed_at: datetime!(2026-11-23 12:00 UTC),
    }
}

fn delivery(channel: &str, id: &str) -> NewDelivery {
    NewDelivery {
        channel: channel.into(),
        event: event(id),
    }
}

#[tokio::test]
async fn state_and_outbox_survive_close_and_reopen() {
    let directory = tempfile::tempdir().expect("tempdir");
    {
        let store = Store::open(directory.path()).expect("open");
        assert_eq!(store.target_state(&target()).expect("read"), None);
        store
            .commit_poll(
                &target(),
                &state(WorkflowState::Cutover),
                vec![delivery("slack", "evt_1"), delivery("audit", "evt_1")],
                datetime!(2026-11-23 12:00 UTC),
            )
            .await
            .expect("commit");
    }
    let store = Store::open(directory.path()).expect("reopen");
    assert_eq!(
        store.target_state(&target()).expect("read"),
        Some(state(WorkflowState::Cutover))
    );
    let outbox = store.outbox().expect("outbox");
    let channels: Vec<_> = outbox.iter().map(|entry| entry.channel.as_str()).collect();
    assert_eq!(channels, ["slack", "audit"]);
    assert_eq!(outbox[0].event, event("evt_1"));
    assert_eq!(store.target_states().expect("states").len(), 1);
}

#[tokio::test]
async fn outbox_keeps_detection_order_across_commits_and_reopen() {
    let directory = tempfile::tempdir().expect("tempdir");
    let mut expected = Vec::new();
    for round in 0..3 {
        let store = Store::open(directory.path()).expect("open");
        for poll in 0..5 {
            let id = format!("evt_{round}_{poll}");
            store
                .commit_poll(
                    &target(),
                    &state(WorkflowState::Running),
                    vec![delivery("slack", &id)],
                    datetime!(2026-11-23 12:00 UTC),
                )
                .await
                .expect("commit");
            expected.push(id);
        }
    }
    let store = Store::open(directory.path()).expect("open");
    let ids: Vec<_> = store
        .outbox()
        .expect("outbox")
        .into_iter()
        .map(|entry| entry.event.id)
        .collect();
    assert_eq!(ids, expected);
}

#[tokio::test]
async fn failures_are_counted_and_completion_removes() {
    let directory = tempfile::tempdir().expect("tempdir");
    let store = Store::open(directory.path()).expect("open");
    let entries = store
        .commit_poll(
            &target(),
            &state(WorkflowState::Cutover),
            vec![delivery("slack", "evt_1"), delivery("audit", "evt_1")],
            datetime!(2026-11-23 12:00 UTC),
        )
        .await
        .expect("commit");
    let failed = store
        .record_failure(entries[0].id, "HTTP 503 from the receiver")
        .await
        .expect("failure");
    assert_eq!(failed.attempts, 1);
    store
        .complete_delivery(entries[1].id)
        .await
        .expect("complete");
    drop(store);
    let store = Store::open(directory.path()).expect("reopen");
    let outbox = store.outbox().expect("outbox");
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].attempts, 1);
    assert_eq!(
        outbox[0].last_error.as_deref(),
        Some("HTTP 503 from the receiver")
    );
    assert!(matches!(
        store.record_failure(entries[1].id, "x").await,
        Err(StoreError::NoSuchEntry(_))
    ));
}

#[tokio::test]
async fn forgetting_a_target_makes_the_next_poll_a_baseline() {
    let directory = tempfile::tempdir().expect("tempdir");
    let store = Store::open(directory.path()).expect("open");
    store
        .commit_poll(
            &target(),
            &state(WorkflowState::Running),
            vec![],
            datetime!(2026-11-23 12:00 UTC),
        )
        .await
        .expect("commit");
    assert!(store.forget_target(&target()).await.expect("forget"));
    assert_eq!(store.target_state(&target()).expect("read"), None);
    assert!(!store.forget_target(&target()).await.expect("forget again"));
}

#[test]
fn records_carry_their_version_and_other_versions_are_refused() {
    let bytes = encode(&StateRecord {
        target: target(),
        state: TargetState::default(),
    });
    let json: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
    assert_eq!(json["v"], FORMAT_VERSION);
    let future =
        br#"{"v": 2, "record": {"target": {"organization": "a", "database": "b"}, "state": {}}}"#;
    let error = decode::<StateRecord>("state", future)
        .err()
        .expect("refused");
    assert!(matches!(
        error,
        StoreError::UnsupportedVersion { found: 2, .. }
    ));
    assert!(error.to_string().contains("version 2"));
    assert!(matches!(
        decode::<StateRecord>("state", b"{not json"),
        Err(StoreError::Corrupt { .. })
    ));
}
