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
            errors: Some("Duplicate entry".into()),
            events: 1,
            keyspace_name: Some("commerce".into()),
            table_name: Some("orders".into()),
            operation_name: Some("ALTER".into()),
        },
    );
    let mut revert_operations = std::collections::BTreeMap::new();
    revert_operations.insert(
        "rv-1".to_string(),
        diff_engine::SeenOperation {
            state: diff_engine::OperationState::Other("submit".into()),
            errors: None,
            events: 0,
            keyspace_name: None,
            table_name: Some("orders".into()),
            operation_name: Some("ALTER".into()),
        },
    );
    state.deploy_requests.insert(
        7,
        diff_engine::SeenDeployRequest {
            deployment_state: diff_engine::DeployState::InProgress,
            auto_cutover: Some(false),
            events: 3,
            operations,
            revert_operations,
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
    let now = datetime!(2026-11-23 12:00 UTC);
    let entries = store
        .commit_poll(
            &target(),
            &state(WorkflowState::Cutover),
            vec![delivery("slack", "evt_1"), delivery("audit", "evt_1")],
            now,
        )
        .await
        .expect("commit");
    assert_eq!(entries[0].poll, entries[1].poll, "one poll, one group");
    assert!(entries[0].is_due(now));
    let later = datetime!(2026-11-23 12:00:05 UTC);
    let failed = store
        .reschedule(&[entries[0].id], "HTTP 503 from the receiver", later)
        .await
        .expect("failure");
    assert_eq!(failed[0].attempts, 1);
    assert!(!failed[0].is_due(now) && failed[0].is_due(later));
    store.complete(&[entries[1].id]).await.expect("complete");
    drop(store);
    let store = Store::open(directory.path()).expect("reopen");
    let outbox = store.outbox().expect("outbox");
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].attempts, 1);
    assert_eq!(outbox[0].next_attempt_at, Some(later));
    assert_eq!(
        outbox[0].last_error.as_deref(),
        Some("HTTP 503 from the receiver")
    );
    assert!(matches!(
        store.reschedule(&[entries[1].id], "x", later).await,
        Err(StoreError::NoSuchEntry(_))
    ));
}

#[tokio::test]
async fn dead_letters_are_kept_put_back_in_place_and_dropped() {
    let directory = tempfile::tempdir().expect("tempdir");
    let store = Store::open(directory.path()).expect("open");
    let now = datetime!(2026-11-23 12:00 UTC);
    let mut ids = Vec::new();
    for id in ["evt_1", "evt_2", "evt_3"] {
        let entries = store
            .commit_poll(
                &target(),
                &state(WorkflowState::Running),
                vec![delivery("audit", id)],
                now,
            )
            .await
            .expect("commit");
        ids.push(entries[0].id);
    }
    store
        .bury(&[ids[0]], "HTTP 400", "permanent failure", now)
        .await
        .expect("bury");
    store
        .bury(&[ids[2]], "HTTP 503", "older than 24h", now)
        .await
        .expect("bury");
    assert_eq!(store.outbox_len(), 1);
    let dead = store.dead_letters().expect("dead");
    assert_eq!(dead.len(), 2);
    assert_eq!(dead[0].entry.last_error.as_deref(), Some("HTTP 400"));
    assert_eq!(dead[0].entry.attempts, 1);
    assert_eq!(dead[1].reason, "older than 24h");

    assert_eq!(store.revive(Some(ids[0])).await.expect("revive"), 1);
    let order: Vec<u64> = store
        .outbox()
        .expect("outbox")
        .iter()
        .map(|entry| entry.id)
        .collect();
    assert_eq!(
        order,
        [ids[0], ids[1]],
        "a revived entry takes its old place"
    );
    assert_eq!(store.outbox().expect("outbox")[0].attempts, 0);
    assert_eq!(store.revive(None).await.expect("revive all"), 1);
    assert_eq!(store.dead_letters_len(), 0);
    store.drop_entry(ids[1]).await.expect("drop");
    assert!(matches!(
        store.drop_entry(ids[1]).await,
        Err(StoreError::NoSuchEntry(_))
    ));
    assert!(matches!(
        store.revive(Some(ids[1])).await,
        Err(StoreError::NoSuchEntry(_))
    ));
    assert_eq!(store.outbox_len(), 2);
}

#[tokio::test]
async fn disabled_channels_are_remembered_across_reopen() {
    let directory = tempfile::tempdir().expect("tempdir");
    let record = DisabledChannel {
        fingerprint: "abc".into(),
        disabled_at: datetime!(2026-11-23 12:00 UTC),
        reason: "HTTP 410".into(),
    };
    {
        let store = Store::open(directory.path()).expect("open");
        store
            .disable_channel("audit", &record)
            .await
            .expect("disable");
    }
    let store = Store::open(directory.path()).expect("reopen");
    assert_eq!(store.disabled_channel("audit").expect("read"), Some(record));
    store.enable_channel("audit").await.expect("enable");
    assert_eq!(store.disabled_channel("audit").expect("read"), None);
}

#[test]
fn a_second_process_cannot_open_the_same_directory() {
    let directory = tempfile::tempdir().expect("tempdir");
    let _store = Store::open(directory.path()).expect("open");
    let child = std::process::Command::new(std::env::current_exe().expect("exe"))
        .args([
            "--exact",
            "tests::open_from_another_process",
            "--ignored",
            "--nocapture",
        ])
        .env("PSWATCH_STORE_UNDER_TEST", directory.path())
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&child.stdout);
    assert!(stdout.contains("only one pswatch process"), "{stdout}");
}

#[test]
#[ignore = "run by a_second_process_cannot_open_the_same_directory"]
fn open_from_another_process() {
    if let Some(path) = std::env::var_os("PSWATCH_STORE_UNDER_TEST") {
        let error = Store::open(std::path::Path::new(&path)).expect_err("locked");
        println!("{error}");
    }
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
