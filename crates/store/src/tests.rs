use diff_engine::testing::{workflow, workflow_state_changed};
use diff_engine::{Event, EventKind, SeenWorkflow, Severity, Target, TargetState, WorkflowState};
use time::macros::datetime;

use super::*;
use crate::keys::QUARANTINE_PREFIX;
use crate::records::MemoRecord;

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
            progress: Default::default(),
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
            progress: Default::default(),
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
            waiting: Default::default(),
            queue_position: None,
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
            times: Default::default(),
        },
    );
    state
}

pub(crate) fn event(id: &str) -> Event {
    workflow_state_changed(
        Some(WorkflowState::Running),
        workflow(1)
            .state(WorkflowState::Cutover)
            .keyspaces("commerce", "customers")
            .branch("main")
            .build(),
    )
    .id(id)
    .build()
}

pub(crate) fn delivery(channel: &str, id: &str) -> NewDelivery {
    NewDelivery {
        channel: channel.into(),
        event: event(id),
    }
}

#[tokio::test]
async fn a_receipt_is_written_with_its_entries_kept_across_a_restart_and_forgotten_in_time() {
    let directory = tempfile::tempdir().expect("tempdir");
    let at = datetime!(2026-11-23 12:00 UTC);
    {
        let store = Store::open(directory.path()).expect("open");
        let entries = store
            .enqueue_received([7; 32], vec![delivery("slack", "evt_ps")], at)
            .await
            .expect("enqueue");
        assert_eq!(entries.len(), 1);
    }
    let store = Store::open(directory.path()).expect("reopen");
    assert_eq!(store.outbox_len().await.expect("count"), 1);
    assert_eq!(
        store
            .receipts(at - time::Duration::minutes(20))
            .await
            .expect("receipts"),
        [([7; 32], at)]
    );
    assert!(store
        .receipts(at + time::Duration::seconds(1))
        .await
        .expect("receipts")
        .is_empty());
    assert!(store
        .receipts(at - time::Duration::minutes(20))
        .await
        .expect("receipts")
        .is_empty());
}

#[tokio::test]
async fn state_and_outbox_survive_close_and_reopen() {
    let directory = tempfile::tempdir().expect("tempdir");
    {
        let store = Store::open(directory.path()).expect("open");
        assert_eq!(store.target_state(&target()).await.expect("read"), None);
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
        store.target_state(&target()).await.expect("read"),
        Some(state(WorkflowState::Cutover))
    );
    let outbox = store.outbox().await.expect("outbox");
    let channels: Vec<_> = outbox.iter().map(|entry| entry.channel.as_str()).collect();
    assert_eq!(channels, ["slack", "audit"]);
    assert_eq!(outbox[0].event, event("evt_1"));
    assert_eq!(store.target_states().await.expect("states").len(), 1);
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
        .await
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
        .reschedule(
            "slack",
            &[entries[0].id],
            "HTTP 503 from the receiver",
            later,
        )
        .await
        .expect("failure");
    assert_eq!(failed[0].attempts, 1);
    assert!(!failed[0].is_due(now) && failed[0].is_due(later));
    store
        .complete("audit", &[entries[1].id])
        .await
        .expect("complete");
    drop(store);
    let store = Store::open(directory.path()).expect("reopen");
    let outbox = store.outbox().await.expect("outbox");
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].attempts, 1);
    assert_eq!(outbox[0].next_attempt_at, Some(later));
    assert_eq!(
        outbox[0].last_error.as_deref(),
        Some("HTTP 503 from the receiver")
    );
    assert!(matches!(
        store
            .reschedule("audit", &[entries[1].id], "x", later)
            .await,
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
        .bury("audit", &[ids[0]], "HTTP 400", "permanent failure", now)
        .await
        .expect("bury");
    store
        .bury("audit", &[ids[2]], "HTTP 503", "older than 24h", now)
        .await
        .expect("bury");
    assert_eq!(store.outbox_len().await.expect("count"), 1);
    let dead = store.dead_letters().await.expect("dead");
    assert_eq!(dead.len(), 2);
    assert_eq!(dead[0].entry.last_error.as_deref(), Some("HTTP 400"));
    assert_eq!(dead[0].entry.attempts, 1);
    assert_eq!(dead[1].reason, "older than 24h");

    assert_eq!(store.revive(Some(ids[0])).await.expect("revive"), 1);
    let order: Vec<u64> = store
        .outbox()
        .await
        .expect("outbox")
        .iter()
        .map(|entry| entry.id)
        .collect();
    assert_eq!(
        order,
        [ids[0], ids[1]],
        "a revived entry takes its old place"
    );
    assert_eq!(store.outbox().await.expect("outbox")[0].attempts, 0);
    assert_eq!(store.revive(None).await.expect("revive all"), 1);
    assert_eq!(store.dead_letters_len().await.expect("count"), 0);
    store.drop_entry(ids[1]).await.expect("drop");
    assert!(matches!(
        store.drop_entry(ids[1]).await,
        Err(StoreError::NoSuchEntry(_))
    ));
    assert!(matches!(
        store.revive(Some(ids[1])).await,
        Err(StoreError::NoSuchEntry(_))
    ));
    assert_eq!(store.outbox_len().await.expect("count"), 2);
}

/// A channel's next entry is found without reading the other channels' entries or its own later
/// ones; channels whose names start alike are kept apart.
#[tokio::test]
async fn each_channel_reads_only_its_own_entries_in_order() {
    let directory = tempfile::tempdir().expect("tempdir");
    let store = Store::open(directory.path()).expect("open");
    let now = datetime!(2026-11-23 12:00 UTC);
    for round in 0..3 {
        store
            .commit_poll(
                &target(),
                &state(WorkflowState::Running),
                vec![
                    delivery("a", &format!("evt_a{round}")),
                    delivery("ab", &format!("evt_ab{round}")),
                    delivery("b", &format!("evt_b{round}")),
                ],
                now,
            )
            .await
            .expect("commit");
    }
    let ids = |channel: &'static str| {
        let reader = store.outbox_of(channel);
        async move {
            reader
                .all()
                .await
                .expect("entries")
                .into_iter()
                .map(|entry| entry.event.id)
                .collect::<Vec<String>>()
        }
    };
    assert_eq!(ids("a").await, ["evt_a0", "evt_a1", "evt_a2"]);
    assert_eq!(ids("ab").await, ["evt_ab0", "evt_ab1", "evt_ab2"]);
    assert!(ids("nobody").await.is_empty());
    let counts = store.outbox_counts().await.expect("counts");
    assert_eq!(
        counts.into_iter().collect::<Vec<_>>(),
        [
            ("a".to_owned(), 3),
            ("ab".to_owned(), 3),
            ("b".to_owned(), 3)
        ]
    );
    // The whole outbox is still in detection order.
    let all: Vec<String> = store
        .outbox()
        .await
        .expect("outbox")
        .into_iter()
        .map(|entry| entry.event.id)
        .collect();
    assert_eq!(all[..3], ["evt_a0", "evt_ab0", "evt_b0"]);
    // A damaged entry of another channel is never read on the way to this one's.
    let key = store
        .raw_keys(&queue_prefix("b"))
        .await
        .expect("keys")
        .into_iter()
        .next()
        .expect("a key");
    store.raw_put(key, b"{damaged").await.expect("damage");
    assert_eq!(ids("a").await.len(), 3);
    let first = store
        .outbox_of("a")
        .next()
        .await
        .expect("one")
        .expect("readable");
    assert_eq!(first.event.id, "evt_a0");
}

/// A store written before per-channel keys (`outbox/{sequence}`) is moved to them when opened,
/// in the same order, and a damaged old entry is quarantined.
#[tokio::test]
async fn an_outbox_of_the_earlier_layout_is_moved_on_open() {
    let directory = tempfile::tempdir().expect("tempdir");
    let now = datetime!(2026-11-23 12:00 UTC);
    {
        let store = Store::open(directory.path()).expect("open");
        for (id, channel) in [(5_u64, "slack"), (6, "audit"), (9, "slack")] {
            let entry = OutboxEntry {
                id,
                channel: channel.into(),
                event: event(&format!("evt_{id}")),
                attempts: 0,
                last_error: None,
                created_at: now,
                next_attempt_at: None,
                poll: id,
            };
            let mut old_key = OLD_OUTBOX_PREFIX.to_vec();
            old_key.extend_from_slice(&id.to_be_bytes());
            store
                .raw_put(old_key, encode(&entry).expect("encodes"))
                .await
                .expect("write the old layout");
        }
        let mut damaged = OLD_OUTBOX_PREFIX.to_vec();
        damaged.extend_from_slice(&7_u64.to_be_bytes());
        store
            .raw_put(damaged, &b"{damaged"[..])
            .await
            .expect("write");
        store.flush().await.expect("flush");
    }
    let store = Store::open(directory.path()).expect("reopen");
    let slack: Vec<u64> = store
        .outbox_of("slack")
        .all()
        .await
        .expect("entries")
        .into_iter()
        .map(|entry| entry.id)
        .collect();
    assert_eq!(slack, [5, 9]);
    assert_eq!(store.outbox_len().await.expect("count"), 3);
    assert!(store
        .raw_keys(OLD_OUTBOX_PREFIX)
        .await
        .expect("keys")
        .is_empty());
    let quarantined = store.quarantined().await.expect("quarantined");
    assert_eq!(quarantined.len(), 1);
    assert_eq!(quarantined[0].record, "outbox entry 7");
    let store = {
        drop(store);
        Store::open(directory.path()).expect("opens again")
    };
    assert_eq!(
        store.outbox_len().await.expect("count"),
        3,
        "moving is done once"
    );
}

/// An unreadable record is set aside with its bytes, reported with what is wrong, and stalls
/// nothing: the channel's other entries go on in order, a state that cannot be read makes a new
/// baseline, and a record of an unknown format version is kept for the build that wrote it.
#[tokio::test]
async fn unreadable_records_are_quarantined_and_stall_nothing() {
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
    let damaged = queue_key("audit", ids[1]);
    store
        .raw_put(&damaged, &b"{\"v\":1,\"record\":{trunc"[..])
        .await
        .expect("damage");
    let future = queue_key("audit", ids[2]);
    let future_bytes = br#"{"v":9,"record":{"id":3}}"#;
    store
        .raw_put(&future, &future_bytes[..])
        .await
        .expect("write");
    store
        .raw_put(state_key(&target()), &b"not json"[..])
        .await
        .expect("damage");

    let readable: Vec<String> = store
        .outbox_of("audit")
        .all()
        .await
        .expect("entries")
        .into_iter()
        .map(|entry| entry.event.id)
        .collect();
    assert_eq!(readable, ["evt_1"]);
    assert_eq!(
        store.target_state(&target()).await.expect("read"),
        None,
        "a new baseline"
    );
    let quarantined = store.quarantined().await.expect("quarantined");
    let described: Vec<(&str, bool)> = quarantined
        .iter()
        .map(|record| (record.record.as_str(), record.problem.is_empty()))
        .collect();
    assert_eq!(
        described,
        [
            (
                format!("outbox entry {} of channel audit", ids[1]).as_str(),
                false
            ),
            (
                format!("outbox entry {} of channel audit", ids[2]).as_str(),
                false
            ),
            ("state of acme/commerce", false),
        ]
    );
    assert!(
        quarantined[0].problem.contains("damaged"),
        "{quarantined:?}"
    );
    assert!(
        quarantined[1].problem.contains("format version 9"),
        "{quarantined:?}"
    );
    assert_eq!(quarantined[1].bytes, future_bytes.len());
    // Kept byte for byte, out of the way.
    let mut kept = QUARANTINE_PREFIX.to_vec();
    kept.extend_from_slice(&future);
    assert_eq!(
        store.raw_get(&kept).await.expect("read").as_deref(),
        Some(&future_bytes[..])
    );
    assert_eq!(store.outbox_len().await.expect("count"), 1);
    assert_eq!(store.quarantined_len().await.expect("count"), 3);
    // The next poll writes a state again.
    store
        .commit_poll(&target(), &state(WorkflowState::Cutover), vec![], now)
        .await
        .expect("commit");
    assert_eq!(
        store.target_state(&target()).await.expect("read"),
        Some(state(WorkflowState::Cutover))
    );
}

/// A state record written before revert operations and operation identities were remembered
/// (errors under `deploy_errors`, no `revert_operations`, `auto_cutover` or names) still reads.
#[test]
fn state_records_of_earlier_builds_still_read() {
    let stored = br#"{"v":1,"record":{"target":{"organization":"acme","database":"commerce"},
        "state":{"workflows":{},"deploy_requests":{"7":{"deployment_state":"in_progress","events":2,
        "operations":{"op1":{"state":"in_progress","deploy_errors":"throttled","events":1}}}}}}}"#;
    let record = decode::<StateRecord>(stored).expect("reads");
    let request = &record.state.deploy_requests[&7];
    assert!(request.revert_operations.is_empty());
    assert_eq!(request.auto_cutover, None);
    assert_eq!(
        request.operations["op1"].errors.as_deref(),
        Some("throttled")
    );
    assert_eq!(request.operations["op1"].table_name, None);
}

#[tokio::test]
async fn the_fingerprint_key_is_made_once_and_kept() {
    let directory = tempfile::tempdir().expect("tempdir");
    let key = Store::open(directory.path())
        .expect("open")
        .fingerprint_key()
        .await
        .expect("key");
    assert_eq!(key.len(), 32);
    assert!(key.iter().any(|byte| *byte != 0));
    let store = Store::open(directory.path()).expect("reopen");
    assert_eq!(store.fingerprint_key().await.expect("key"), key);
    let other = tempfile::tempdir().expect("tempdir");
    let other_key = Store::open(other.path())
        .expect("open")
        .fingerprint_key()
        .await
        .expect("key");
    assert_ne!(other_key, key, "each store has its own");
}

#[test]
fn queue_keys_name_their_channel_and_sequence() {
    for channel in ["a", "ab", "ops-slack", "ünïcode"] {
        let key = queue_key(channel, 42);
        assert_eq!(split_queue_key(&key), Some((channel, 42)));
        assert!(key.starts_with(&queue_prefix(channel)));
    }
    assert!(!queue_key("ab", 1).starts_with(&queue_prefix("a")));
    assert_eq!(split_queue_key(b"queue\0\0\0\0\x05ab"), None);
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
    assert_eq!(
        store.disabled_channel("audit").await.expect("read"),
        Some(record)
    );
    store.enable_channel("audit").await.expect("enable");
    assert_eq!(store.disabled_channel("audit").await.expect("read"), None);
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

/// A store with a pending delivery, closed cleanly.
async fn store_with_a_pending_delivery(path: &std::path::Path) {
    let store = Store::open(path).expect("open");
    store
        .commit_poll(
            &target(),
            &state(WorkflowState::Running),
            vec![delivery("slack", "evt_pending")],
            datetime!(2026-11-23 12:00 UTC),
        )
        .await
        .expect("commit");
    store.flush().await.expect("flush");
}

#[tokio::test]
async fn a_damaged_store_is_refused_never_started_over() {
    type Damage = fn(&std::path::Path);
    let damages: [(&str, Damage); 4] = [
        ("truncated", |path| {
            std::fs::OpenOptions::new()
                .write(true)
                .open(path.join("db"))
                .expect("db")
                .set_len(0)
                .expect("truncate");
        }),
        ("overwritten at its start", |path| {
            use std::io::Write as _;
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .open(path.join("db"))
                .expect("db");
            file.write_all(&[0x5a; 4096]).expect("overwrite");
        }),
        ("deleted", |path| {
            std::fs::remove_file(path.join("db")).expect("delete");
        }),
        ("its conf damaged", |path| {
            std::fs::write(path.join("conf"), b"\x00\x01garbage").expect("conf");
        }),
    ];
    for (what, damage) in damages {
        let directory = tempfile::tempdir().expect("tempdir");
        let path = directory.path().join("state");
        store_with_a_pending_delivery(&path).await;
        damage(&path);
        let error = Store::open(&path).expect_err(what).to_string();
        assert!(
            error.contains(&path.display().to_string()),
            "{what}: {error}"
        );
        assert!(
            !error.contains("only one pswatch process"),
            "{what}: {error}"
        );
        assert!(
            error.contains("pswatch state reset") || error.contains("cannot open"),
            "{what}: {error}"
        );
    }
}

#[test]
fn an_open_error_says_what_failed() {
    let directory = tempfile::tempdir().expect("tempdir");
    let file = directory.path().join("state");
    std::fs::write(&file, b"not a directory").expect("file");
    let error = Store::open(&file).expect_err("a file").to_string();
    assert!(error.contains("it is a file, not a directory"), "{error}");
    // A new directory, and one already there but empty, are new stores.
    Store::open(&directory.path().join("new")).expect("new");
    let empty = directory.path().join("empty");
    std::fs::create_dir(&empty).expect("empty");
    drop(Store::open(&empty).expect("empty"));
    Store::open(&empty).expect("reopened");
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
    assert_eq!(store.target_state(&target()).await.expect("read"), None);
    assert!(!store.forget_target(&target()).await.expect("forget again"));
}

#[test]
fn records_carry_their_version_and_other_versions_are_refused() {
    let bytes = encode(&StateRecord {
        target: target(),
        state: TargetState::default(),
    })
    .expect("encodes");
    let json: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
    assert_eq!(json["v"], FORMAT_VERSION);
    let future =
        br#"{"v": 2, "record": {"target": {"organization": "a", "database": "b"}, "state": {}}}"#;
    let error = decode::<StateRecord>(future).expect_err("refused");
    assert!(matches!(
        error,
        StoreError::UnsupportedVersion { found: 2, .. }
    ));
    assert!(error.to_string().contains("version 2"));
    assert!(matches!(
        decode::<StateRecord>(b"{not json"),
        Err(StoreError::Corrupt { .. })
    ));
}

/// Golden records: the exact bytes of a state record, an outbox entry of each event type and a
/// dead letter. A change to these bytes is a change of the disk format: it needs a new
/// `FORMAT_VERSION` and a migration, never an accident. `PSWATCH_UPDATE_GOLDEN=1` rewrites them.
mod golden {
    use diff_engine::{
        DeployOperation, DeployRequest, DeployState, LintError, OperationPhase, OperationState,
        SeenDeployRequest, SeenOperation,
    };

    use super::*;

    fn operation(id: &str, state: OperationState, phase: OperationPhase) -> DeployOperation {
        DeployOperation {
            id: id.into(),
            state,
            keyspace_name: (phase == OperationPhase::Deploy).then(|| "commerce".into()),
            table_name: Some("orders".into()),
            operation_name: Some("ALTER".into()),
            ddl_statement: Some("ALTER TABLE `orders` ADD UNIQUE KEY `idx_ref` (`ref`)".into()),
            deploy_errors: (phase == OperationPhase::Deploy)
                .then(|| "Duplicate entry 'A-1042' for key 'orders.idx_ref'".into()),
            deploy_error_docs_url: (phase == OperationPhase::Deploy)
                .then(|| "https://planetscale.com/docs/concepts/deploy-requests".into()),
            progress_percentage: (phase == OperationPhase::Deploy).then_some(37.5),
            eta_seconds: None,
            revert_errors: (phase == OperationPhase::Revert).then(|| "table locked".into()),
        }
    }

    fn deploy_request() -> DeployRequest {
        DeployRequest {
            id: "dr-7".into(),
            number: 7,
            state: "open".into(),
            deployment_state: DeployState::Error,
            branch: Some("add-order-ref".into()),
            into_branch: Some("main".into()),
            html_url: Some("https://app.planetscale.com/acme/commerce/deploy-requests/7".into()),
            actor: Some("Ada Lovelace".into()),
            actor_id: None,
            closed_by: None,
            auto_cutover: Some(false),
            lint_errors: vec![LintError {
                lint_error: Some("NO_UNIQUE_KEY".into()),
                keyspace_name: Some("commerce".into()),
                table_name: Some("audit_log".into()),
                error_description: Some("table \"audit_log\" has no unique key".into()),
            }],
            deploy_check_errors: Some("schema checks failed".into()),
            ready_to_cutover_at: None,
            cutover_expiring: None,
            queue_paused: None,
            queue_pause_reason: None,
            revert_window_ends_at: None,
            queue_position: None,
            table_locked: None,
            locked_table_name: None,
        }
    }

    pub(super) fn state() -> TargetState {
        let mut state = super::state(WorkflowState::Cutover);
        state.deploy_requests.insert(
            8,
            SeenDeployRequest {
                deployment_state: DeployState::Other("teleporting".into()),
                auto_cutover: None,
                events: 0,
                operations: Default::default(),
                revert_operations: [(
                    "rv-1".to_owned(),
                    SeenOperation {
                        state: OperationState::Other("submit".into()),
                        errors: None,
                        events: 0,
                        keyspace_name: None,
                        table_name: Some("orders".into()),
                        operation_name: Some("ALTER".into()),
                        progress: Default::default(),
                    },
                )]
                .into(),
                waiting: Default::default(),
                queue_position: None,
            },
        );
        state
    }

    pub(super) fn entries() -> Vec<OutboxEntry> {
        let kinds = vec![
            super::event("evt_1").kind,
            EventKind::WorkflowErrorsChanged {
                errors: Some("vreplication: lag".into()),
                previous_errors: None,
                workflow: match super::event("evt_1").kind {
                    EventKind::WorkflowStateChanged { workflow, .. } => workflow,
                    _ => unreachable!("a workflow event"),
                },
            },
            EventKind::DeployRequestStateChanged {
                previous_state: Some(DeployState::Pending),
                state: DeployState::Error,
                deploy_request: deploy_request(),
            },
            EventKind::DeployOperationStateChanged {
                previous_state: Some(OperationState::InProgress),
                state: OperationState::Error,
                deploy_request_number: 7,
                phase: OperationPhase::Deploy,
                operation: operation("op-1", OperationState::Error, OperationPhase::Deploy),
            },
            EventKind::DeployOperationErrorsChanged {
                errors: Some("table locked".into()),
                previous_errors: None,
                deploy_request_number: 7,
                phase: OperationPhase::Revert,
                operation: operation(
                    "rv-1",
                    OperationState::Other("submit".into()),
                    OperationPhase::Revert,
                ),
            },
        ];
        kinds
            .into_iter()
            .enumerate()
            .map(|(index, kind)| OutboxEntry {
                id: 100 + index as u64,
                channel: "audit".into(),
                event: Event {
                    id: format!("evt_{index}"),
                    kind,
                    organization: "acme".into(),
                    database: "commerce".into(),
                    severity: Severity::Critical,
                    observed_at: datetime!(2026-11-23 12:00 UTC),
                },
                attempts: 2,
                last_error: Some("HTTP 503 from the receiver".into()),
                created_at: datetime!(2026-11-23 12:00:01 UTC),
                next_attempt_at: Some(datetime!(2026-11-23 12:05 UTC)),
                poll: 100,
            })
            .collect()
    }

    /// The golden file `name` holds `lines`, one record a line; or is rewritten with them.
    fn check(name: &str, lines: &[Vec<u8>]) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden")
            .join(name);
        let mut text = lines
            .iter()
            .map(|line| String::from_utf8(line.clone()).expect("utf-8"))
            .collect::<Vec<_>>()
            .join("\n");
        text.push('\n');
        if std::env::var_os("PSWATCH_UPDATE_GOLDEN").is_some() {
            std::fs::write(&path, &text).expect("write golden");
        }
        let golden = std::fs::read_to_string(&path).expect("golden file");
        assert_eq!(
            text, golden,
            "the bytes of {name} changed: that is a new disk format"
        );
    }

    #[test]
    fn firing_alerts_keep_their_bytes() {
        let record = crate::records::AlertRecord(model::FiringAlert {
            labels: [
                ("alertname", "PlanetScaleCutoverWaiting"),
                ("organization", "acme"),
                ("database", "commerce"),
                ("resource", "deploy_request/7"),
                ("severity", "warning"),
            ]
            .into_iter()
            .map(|(label, value)| (label.to_owned(), value.to_owned()))
            .collect(),
            annotations: [
                ("summary", "Deploy request #7 is ready to cut over"),
                (
                    "url",
                    "https://app.planetscale.com/acme/commerce/deploy-requests/7",
                ),
            ]
            .into_iter()
            .map(|(label, value)| (label.to_owned(), value.to_owned()))
            .collect(),
            generator_url: Some(
                "https://app.planetscale.com/acme/commerce/deploy-requests/7".into(),
            ),
            starts_at: datetime!(2026-12-07 12:00 UTC),
        });
        let bytes = encode(&record).expect("encodes");
        check("alert_v1.jsonl", std::slice::from_ref(&bytes));
        assert_eq!(
            decode::<crate::records::AlertRecord>(&bytes).expect("decodes"),
            record
        );
    }

    #[test]
    fn receipts_keep_their_bytes() {
        let record = crate::records::ReceiptRecord {
            digest: std::array::from_fn(|index| u8::try_from(index).expect("small")),
            at: datetime!(2026-11-24 12:00 UTC),
        };
        let bytes = encode(&record).expect("encodes");
        check("receipt_v1.jsonl", std::slice::from_ref(&bytes));
        assert_eq!(
            decode::<crate::records::ReceiptRecord>(&bytes).expect("decodes"),
            record
        );
    }

    /// A target's state with its backups, resizes and schema recommendations, and their events.
    #[test]
    fn backups_keep_their_bytes() {
        let mut state = state();
        state.backups.insert(
            "bk1".into(),
            diff_engine::SeenBackup {
                branch: "main".into(),
                state: "failed".into(),
                events: 2,
            },
        );
        state.failing_backups.insert("main".into());
        state.backups_read = true;
        state.resizes.insert(
            "rs1".into(),
            diff_engine::SeenState {
                state: "resizing".into(),
                events: 1,
            },
        );
        state.resizes_read = true;
        state.recommendations.insert(
            "sr-12".into(),
            diff_engine::SeenState {
                state: "applied".into(),
                events: 2,
            },
        );
        state.recommendations_read = true;
        state.maintenance.insert(
            "ms1".into(),
            diff_engine::SeenMaintenance {
                next_window: Some("2026-11-28T02:00:00.000Z".into()),
                last_window: Some("2026-11-21T02:00:00.000Z".into()),
                finished_window: Some("2026-11-21T02:00:00.000Z".into()),
                events: 3,
            },
        );
        state.maintenance_read = true;
        state.slow_polled_at = Some(datetime!(2026-11-23 12:00 UTC));
        let record = StateRecord {
            target: target(),
            state,
        };
        let mut entry = entries().remove(0);
        entry.event.kind = EventKind::BackupStateChanged {
            previous_state: Some("running".into()),
            state: "failed".into(),
            recovers: false,
            backup: diff_engine::Backup {
                id: "bk1".into(),
                name: "2026.11.23 09:00".into(),
                branch: "main".into(),
                state: "failed".into(),
                size: Some(52_428_800),
                started_at: Some("2026-11-23T09:00:00.000Z".into()),
                completed_at: Some("2026-11-23T09:12:30.000Z".into()),
            },
        };
        let mut resized = entries().remove(0);
        resized.event.kind = EventKind::ResizeStateChanged {
            previous_state: Some("resizing".into()),
            state: "completed".into(),
            resize: diff_engine::Resize {
                id: "rs1".into(),
                branch: "main".into(),
                keyspace: Some("commerce".into()),
                state: "completed".into(),
                previous_cluster_name: Some("PS_10".into()),
                cluster_name: Some("PS_20".into()),
                previous_replicas: Some(2),
                replicas: Some(3),
                previous_maximum_storage_bytes: None,
                maximum_storage_bytes: None,
                started_at: Some("2026-11-23T09:00:00.000Z".into()),
                completed_at: Some("2026-11-23T09:30:00.000Z".into()),
            },
        };
        let mut recommended = entries().remove(0);
        recommended.event.kind = EventKind::SchemaRecommendationClosed {
            previous_state: "open".into(),
            recommendation: diff_engine::SchemaRecommendation {
                id: "sr-12".into(),
                number: 12,
                title: "Drop unused index idx_legacy on orders".into(),
                table_name: Some("orders".into()),
                keyspace: Some("commerce".into()),
                ddl_statement: Some("ALTER TABLE `orders` DROP INDEX `idx_legacy`".into()),
                recommendation_type: Some("unused_index".into()),
                state: "applied".into(),
                html_url: Some(
                    "https://app.planetscale.com/acme/commerce/insights/recommendations/12".into(),
                ),
            },
        };
        let mut maintained = entries().remove(0);
        maintained.event.kind = EventKind::MaintenanceScheduled {
            previous_window: Some("2026-11-27T02:00:00.000Z".into()),
            schedule: diff_engine::MaintenanceSchedule {
                id: "ms1".into(),
                name: "Vitess upgrade".into(),
                next_window_datetime: Some("2026-11-28T02:00:00.000Z".into()),
                last_window_datetime: Some("2026-11-21T02:00:00.000Z".into()),
                duration_hours: Some(4),
                required: true,
                deadline_at: Some("2026-12-05T00:00:00.000Z".into()),
                pending_vitess_version: Some("22.0".into()),
                pending_mysql_version: None,
            },
        };
        let lines = [
            encode(&record).expect("encodes"),
            encode(&entry).expect("encodes"),
            encode(&resized).expect("encodes"),
            encode(&recommended).expect("encodes"),
            encode(&maintained).expect("encodes"),
        ];
        check("slow_kinds_v1.jsonl", &lines);
        assert_eq!(
            decode::<OutboxEntry>(&lines[3]).expect("decodes"),
            recommended
        );
        assert_eq!(decode::<StateRecord>(&lines[0]).expect("decodes"), record);
        assert_eq!(decode::<OutboxEntry>(&lines[1]).expect("decodes"), entry);
        assert_eq!(decode::<OutboxEntry>(&lines[2]).expect("decodes"), resized);
        assert_eq!(
            decode::<OutboxEntry>(&lines[4]).expect("decodes"),
            maintained
        );
    }

    /// What the status page draws: a workflow's phase times (in its state and its events) and
    /// a running operation's ETA. Records without them keep their bytes (the other golden
    /// files).
    #[test]
    fn phase_times_and_etas_keep_their_bytes() {
        let times = diff_engine::WorkflowTimes {
            started_at: Some("2026-11-23T08:00:00.000Z".into()),
            data_copy_completed_at: Some("2026-11-23T09:30:00.000Z".into()),
            switch_replicas_at: Some("2026-11-23T11:00:00.000Z".into()),
            switch_primaries_at: None,
            cutover_at: None,
            completed_at: None,
        };
        let mut state = super::state(WorkflowState::SwitchedReplicas);
        state.workflows.get_mut("wf-1").expect("wf-1").times = times.clone();
        let mut request = SeenDeployRequest {
            deployment_state: DeployState::InProgress,
            auto_cutover: Some(true),
            events: 1,
            operations: std::collections::BTreeMap::new(),
            revert_operations: std::collections::BTreeMap::new(),
            waiting: diff_engine::Waiting::default(),
            queue_position: None,
        };
        request.operations.insert(
            "op-1".into(),
            SeenOperation {
                state: OperationState::InProgress,
                errors: None,
                events: 1,
                keyspace_name: Some("commerce".into()),
                table_name: Some("orders".into()),
                operation_name: Some("ALTER".into()),
                progress: diff_engine::Progress {
                    percentage: Some(42.5),
                    since: Some(datetime!(2026-11-23 11:00 UTC)),
                    stalled: false,
                    eta_seconds: Some(754),
                },
            },
        );
        state.deploy_requests.insert(9, request);
        let record = StateRecord {
            target: target(),
            state,
        };
        let mut entry = entries().remove(0);
        if let EventKind::WorkflowStateChanged { workflow, .. } = &mut entry.event.kind {
            workflow.times = times;
        }
        let mut operation_entry = entries().remove(3);
        if let EventKind::DeployOperationStateChanged { operation, .. } =
            &mut operation_entry.event.kind
        {
            operation.eta_seconds = Some(754);
        }
        let lines = [
            encode(&record).expect("encodes"),
            encode(&entry).expect("encodes"),
            encode(&operation_entry).expect("encodes"),
        ];
        check("progress_v1.jsonl", &lines);
        assert_eq!(decode::<StateRecord>(&lines[0]).expect("decodes"), record);
        assert_eq!(decode::<OutboxEntry>(&lines[1]).expect("decodes"), entry);
        assert_eq!(
            decode::<OutboxEntry>(&lines[2]).expect("decodes"),
            operation_entry
        );
    }

    /// A digest in the outbox, the journal's record of an event and a digest's mark.
    #[test]
    fn digests_and_the_journal_keep_their_bytes() {
        let digest = diff_engine::Digest {
            name: "morning".into(),
            period_start: datetime!(2026-11-22 08:00 UTC),
            period_end: datetime!(2026-11-23 08:00 UTC),
            timezone: "Europe/Paris".into(),
            databases: vec![diff_engine::DatabaseDigest {
                organization: "acme".into(),
                database: "commerce".into(),
                completed: vec![diff_engine::DigestItem {
                    resource: "workflow #3 move-customers".into(),
                    state: "completed".into(),
                    since: Some(datetime!(2026-11-22 17:40 UTC)),
                    errors: None,
                    url: Some("https://app.planetscale.com/acme/commerce/workflows".into()),
                }],
                failed: vec![diff_engine::DigestItem {
                    resource: "deploy request #7 table orders".into(),
                    state: "error".into(),
                    since: Some(datetime!(2026-11-23 02:10 UTC)),
                    errors: Some("Duplicate entry 'A-1042' for key 'orders.idx_ref'".into()),
                    url: None,
                }],
                waiting: vec![diff_engine::DigestItem {
                    resource: "deploy request #9".into(),
                    state: "pending_cutover".into(),
                    since: None,
                    errors: None,
                    url: None,
                }],
            }],
            dead_letters: 2,
        };
        let entry = OutboxEntry {
            id: 200,
            channel: "ops".into(),
            event: Event {
                id: "dig_morning_1763884800".into(),
                kind: EventKind::Digest { digest },
                organization: "acme".into(),
                database: String::new(),
                severity: Severity::Info,
                observed_at: datetime!(2026-11-23 08:00 UTC),
            },
            attempts: 0,
            last_error: None,
            created_at: datetime!(2026-11-23 08:00:01 UTC),
            next_attempt_at: None,
            poll: 200,
        };
        let journal = crate::records::JournalRecord {
            event: entries().remove(0).event,
        };
        let mark = crate::records::DigestMark {
            period_end: datetime!(2026-11-23 08:00 UTC),
            sent: true,
        };
        let lines = [
            encode(&entry).expect("encodes"),
            encode(&journal).expect("encodes"),
            encode(&mark).expect("encodes"),
        ];
        check("digest_v1.jsonl", &lines);
        assert_eq!(decode::<OutboxEntry>(&lines[0]).expect("decodes"), entry);
        assert_eq!(
            decode::<crate::records::JournalRecord>(&lines[1]).expect("decodes"),
            journal
        );
        assert_eq!(
            decode::<crate::records::DigestMark>(&lines[2]).expect("decodes"),
            mark
        );
    }

    #[test]
    fn state_records_keep_their_bytes() {
        let record = StateRecord {
            target: target(),
            state: state(),
        };
        let bytes = encode(&record).expect("encodes");
        check("state_v1.jsonl", std::slice::from_ref(&bytes));
        let back = decode::<StateRecord>(&bytes).expect("decodes");
        assert_eq!(back.state, state());
        // The target's event count is kept once there is one.
        let mut counted = state();
        counted.events = 42;
        let bytes = encode(&StateRecord {
            target: target(),
            state: counted.clone(),
        })
        .expect("encodes");
        assert!(String::from_utf8_lossy(&bytes).contains(r#""events":42}"#));
        assert_eq!(
            decode::<StateRecord>(&bytes).expect("decodes").state,
            counted
        );
    }

    #[test]
    fn outbox_entries_and_dead_letters_keep_their_bytes() {
        let entries = entries();
        let lines: Vec<Vec<u8>> = entries
            .iter()
            .map(|entry| encode(entry).expect("encodes"))
            .collect();
        check("outbox_v1.jsonl", &lines);
        for (entry, bytes) in entries.iter().zip(&lines) {
            assert_eq!(&decode::<OutboxEntry>(bytes).expect("decodes"), entry);
        }
        let letter = DeadLetter {
            entry: entries[0].clone(),
            died_at: datetime!(2026-11-24 12:00 UTC),
            reason: "older than 24h".into(),
        };
        check("dead_v1.jsonl", &[encode(&letter).expect("encodes")]);
    }

    /// An operation's event written before operations had phases reads as the deploy's.
    #[test]
    fn operation_events_without_a_phase_are_the_deploys() {
        for (entry, bytes) in entries().iter().zip(
            entries()
                .iter()
                .map(|entry| encode(entry).expect("encodes")),
        ) {
            let Some(phase) = entry.event.kind.phase() else {
                continue;
            };
            let text = String::from_utf8(bytes).expect("utf-8");
            let marker = format!(r#""phase":"{}","#, phase.as_str());
            assert!(text.contains(&marker), "{text}");
            let older = text.replace(&marker, "");
            let read = decode::<OutboxEntry>(older.as_bytes()).expect("decodes");
            assert_eq!(read.event.kind.phase(), Some(OperationPhase::Deploy));
        }
    }

    #[test]
    fn reminders_keep_their_bytes_in_the_state_and_the_outbox() {
        let mut state = state();
        let request = state.deploy_requests.get_mut(&7).expect("#7");
        request.waiting = diff_engine::Waiting {
            pending_cutover_since: Some(datetime!(2026-11-23 10:00 UTC)),
            reminders: 2,
            cutover_expiring: true,
            queue_paused: true,
            revert_window_warned: false,
            table_locked: false,
        };
        request.operations.get_mut("op-1").expect("op-1").progress = diff_engine::Progress {
            percentage: Some(37.5),
            since: Some(datetime!(2026-11-23 11:00 UTC)),
            stalled: true,
            eta_seconds: None,
        };
        let record = StateRecord {
            target: target(),
            state: state.clone(),
        };
        let bytes = encode(&record).expect("encodes");
        check("state_reminders_v1.jsonl", std::slice::from_ref(&bytes));
        assert_eq!(decode::<StateRecord>(&bytes).expect("decodes").state, state);

        let mut waiting = deploy_request();
        waiting.deployment_state = DeployState::PendingCutover;
        waiting.ready_to_cutover_at = Some("2026-11-23T10:00:00.000Z".into());
        waiting.cutover_expiring = Some(true);
        waiting.queue_paused = Some(true);
        waiting.queue_pause_reason = Some("maintenance".into());
        let kinds = [
            EventKind::DeployRequestAwaitingCutover {
                waiting_since: datetime!(2026-11-23 10:00 UTC),
                reminder: 2,
                deploy_request: waiting.clone(),
            },
            EventKind::DeployRequestCutoverExpiring {
                deploy_request: waiting.clone(),
            },
            EventKind::DeployRequestQueuePaused {
                queue_pause_reason: Some("maintenance".into()),
                deploy_request: waiting,
            },
            EventKind::DeployOperationStalled {
                stalled_since: datetime!(2026-11-23 11:00 UTC),
                deploy_request_number: 7,
                phase: OperationPhase::Deploy,
                operation: operation("op-1", OperationState::InProgress, OperationPhase::Deploy),
            },
        ];
        let entries: Vec<OutboxEntry> = kinds
            .into_iter()
            .zip(entries())
            .map(|(kind, mut entry)| {
                entry.event.kind = kind;
                entry
            })
            .collect();
        let lines: Vec<Vec<u8>> = entries
            .iter()
            .map(|entry| encode(entry).expect("encodes"))
            .collect();
        check("outbox_reminders_v1.jsonl", &lines);
        for (entry, bytes) in entries.iter().zip(&lines) {
            assert_eq!(&decode::<OutboxEntry>(bytes).expect("decodes"), entry);
        }
    }

    /// A warned revert window in the state, and `deploy_request.revert_window_closing` with the
    /// window's end in its deploy request, keep their bytes.
    #[test]
    fn a_closing_revert_window_keeps_its_bytes() {
        let mut state = state();
        let request = state.deploy_requests.get_mut(&7).expect("#7");
        request.waiting.revert_window_warned = true;
        let record = StateRecord {
            target: target(),
            state: state.clone(),
        };
        let state_bytes = encode(&record).expect("encodes");
        assert_eq!(
            decode::<StateRecord>(&state_bytes).expect("decodes").state,
            state
        );
        let mut deployed = deploy_request();
        deployed.deployment_state = DeployState::CompletePendingRevert;
        deployed.revert_window_ends_at = Some("2026-11-23T12:10:00.000Z".into());
        let mut entry = entries().remove(0);
        entry.event.kind = EventKind::DeployRequestRevertWindowClosing {
            closes_at: datetime!(2026-11-23 12:10 UTC),
            deploy_request: deployed,
        };
        let entry_bytes = encode(&entry).expect("encodes");
        check(
            "revert_window_v1.jsonl",
            &[state_bytes, entry_bytes.clone()],
        );
        assert_eq!(decode::<OutboxEntry>(&entry_bytes).expect("decodes"), entry);
    }

    /// A locked table in the state, and `deploy_request.blocked` with the table in its deploy
    /// request, keep their bytes.
    #[test]
    fn a_blocked_deploy_request_keeps_its_bytes() {
        let mut state = state();
        state
            .deploy_requests
            .get_mut(&7)
            .expect("#7")
            .waiting
            .table_locked = true;
        let record = StateRecord {
            target: target(),
            state: state.clone(),
        };
        let state_bytes = encode(&record).expect("encodes");
        assert_eq!(
            decode::<StateRecord>(&state_bytes).expect("decodes").state,
            state
        );
        let mut queued = deploy_request();
        queued.deployment_state = DeployState::Queued;
        queued.queue_position = Some(2);
        queued.table_locked = Some(true);
        queued.locked_table_name = Some("orders".into());
        let mut entry = entries().remove(0);
        entry.event.kind = EventKind::DeployRequestBlocked {
            locked_table: Some("orders".into()),
            deploy_request: queued,
        };
        let entry_bytes = encode(&entry).expect("encodes");
        check("blocked_v1.jsonl", &[state_bytes, entry_bytes.clone()]);
        assert_eq!(decode::<OutboxEntry>(&entry_bytes).expect("decodes"), entry);
    }

    /// Timer clocks in the state and `timer.fired` of each kind of resource keep their bytes.
    #[test]
    fn timers_keep_their_bytes_in_the_state_and_the_outbox() {
        let mut state = state();
        state.timers.insert(
            "deploy_request/7".into(),
            diff_engine::TimerClock {
                state: "in_progress_cutover".into(),
                since: datetime!(2026-11-23 10:00 UTC),
                fired: [("cutover-stuck".to_owned(), 3)].into(),
            },
        );
        let record = StateRecord {
            target: target(),
            state: state.clone(),
        };
        let bytes = encode(&record).expect("encodes");
        check("state_timers_v1.jsonl", std::slice::from_ref(&bytes));
        assert_eq!(decode::<StateRecord>(&bytes).expect("decodes").state, state);

        let workflow = match super::event("evt_1").kind {
            EventKind::WorkflowStateChanged { workflow, .. } => workflow,
            _ => unreachable!("a workflow event"),
        };
        let backup = diff_engine::Backup {
            id: "bk-1".into(),
            name: "nightly".into(),
            branch: "main".into(),
            state: "running".into(),
            size: Some(1024),
            started_at: Some("2026-11-23T10:00:00.000Z".into()),
            completed_at: None,
        };
        let resize = diff_engine::Resize {
            id: "rs-1".into(),
            branch: "main".into(),
            keyspace: Some("commerce".into()),
            state: "resizing".into(),
            previous_cluster_name: Some("PS_10".into()),
            cluster_name: Some("PS_20".into()),
            previous_replicas: Some(2),
            replicas: Some(2),
            previous_maximum_storage_bytes: None,
            maximum_storage_bytes: None,
            started_at: Some("2026-11-23T10:00:00.000Z".into()),
            completed_at: None,
        };
        let subjects = [
            diff_engine::TimerSubject::Workflow(workflow),
            diff_engine::TimerSubject::DeployRequest(deploy_request()),
            diff_engine::TimerSubject::DeployOperation {
                deploy_request_number: 7,
                phase: OperationPhase::Revert,
                operation: operation(
                    "rv-1",
                    OperationState::Other("submit".into()),
                    OperationPhase::Revert,
                ),
            },
            diff_engine::TimerSubject::Backup(backup),
            diff_engine::TimerSubject::Resize(resize),
        ];
        let entries: Vec<OutboxEntry> = subjects
            .into_iter()
            .zip(entries())
            .enumerate()
            .map(|(index, (subject, mut entry))| {
                entry.event.kind = EventKind::TimerFired {
                    timer: "stuck".into(),
                    state: "error".into(),
                    since: datetime!(2026-11-23 10:00 UTC),
                    firing: index as u64 + 1,
                    escalated: index > 2,
                    subject,
                };
                entry
            })
            .collect();
        let lines: Vec<Vec<u8>> = entries
            .iter()
            .map(|entry| encode(entry).expect("encodes"))
            .collect();
        check("outbox_timers_v1.jsonl", &lines);
        for (entry, bytes) in entries.iter().zip(&lines) {
            assert_eq!(&decode::<OutboxEntry>(bytes).expect("decodes"), entry);
        }
    }

    #[test]
    fn silence_records_keep_their_bytes() {
        let record = crate::records::SilenceRecord(
            model::Silence::between(
                "sil_0123456789ab".into(),
                model::Matcher {
                    database: Some("acme/commerce".into()),
                    ..model::Matcher::default()
                },
                datetime!(2026-11-24 12:00 UTC),
                datetime!(2026-11-24 14:00 UTC),
                "planned cutover".into(),
                datetime!(2026-11-24 12:00 UTC),
            )
            .expect("valid"),
        );
        let bytes = encode(&record).expect("encodes");
        check("silence_v1.jsonl", std::slice::from_ref(&bytes));
        assert_eq!(
            decode::<crate::records::SilenceRecord>(&bytes).expect("decodes"),
            record
        );
    }

    #[test]
    fn resource_views_keep_their_bytes() {
        let at = datetime!(2026-11-24 12:00 UTC);
        let deploy_request = model::ResourceView {
            target: diff_engine::Target::new("acme", "commerce"),
            kind: model::ResourceKind::DeployRequest,
            number: 7,
            name: None,
            state: "open".into(),
            deployment_state: Some("in_progress".into()),
            branch: Some("add-index".into()),
            into_branch: Some("main".into()),
            html_url: Some("https://app.planetscale.com/acme/commerce/deploy-requests/7".into()),
            operations: vec![
                model::OperationView {
                    id: "op-1".into(),
                    phase: OperationPhase::Deploy,
                    keyspace: Some("commerce".into()),
                    table: Some("orders".into()),
                    state: "in_progress".into(),
                    progress_percentage: Some(42.5),
                    eta_seconds: Some(90),
                    errors: None,
                },
                model::OperationView {
                    id: "op-2".into(),
                    phase: OperationPhase::Revert,
                    keyspace: None,
                    table: Some("customers".into()),
                    state: "failed".into(),
                    progress_percentage: None,
                    eta_seconds: None,
                    errors: Some("table locked".into()),
                },
            ],
            last_event: Some(model::LastEvent {
                id: "evt_1".into(),
                event_type: "deploy_operation.state_changed".into(),
                at,
            }),
            observed_at: at,
            state_since: at,
        };
        let workflow = model::ResourceView {
            kind: model::ResourceKind::Workflow,
            number: 3,
            name: Some("move-customers".into()),
            state: "running".into(),
            deployment_state: None,
            into_branch: None,
            html_url: None,
            operations: Vec::new(),
            last_event: None,
            ..deploy_request.clone()
        };
        // Since an earlier poll than the one that wrote it: the one field views of the first
        // version did not have.
        let waiting = model::ResourceView {
            number: 8,
            deployment_state: Some("complete_pending_revert".into()),
            state_since: at - time::Duration::minutes(10),
            ..deploy_request.clone()
        };
        let records = [
            crate::records::ViewRecord(deploy_request),
            crate::records::ViewRecord(workflow),
            crate::records::ViewRecord(waiting),
        ];
        let lines: Vec<Vec<u8>> = records
            .iter()
            .map(|record| encode(record).expect("encodes"))
            .collect();
        check("view_v1.jsonl", &lines);
        for (record, bytes) in records.iter().zip(&lines) {
            assert_eq!(
                &decode::<crate::records::ViewRecord>(bytes).expect("decodes"),
                record
            );
        }
        // A kind this build does not know is unreadable, never misread.
        let other = String::from_utf8(lines[1].clone())
            .expect("utf-8")
            .replace(r#""kind":"workflow""#, r#""kind":"branch""#);
        assert!(decode::<crate::records::ViewRecord>(other.as_bytes()).is_err());
    }

    #[test]
    fn memo_records_keep_their_bytes() {
        let records = [super::memo_record(), {
            let mut record = super::memo_record();
            record.resource.kind = model::ResourceKind::Workflow;
            record.memo.thread = None;
            record
        }];
        let lines: Vec<Vec<u8>> = records
            .iter()
            .map(|record| encode(record).expect("encodes"))
            .collect();
        check("memo_v1.jsonl", &lines);
        for (record, bytes) in records.iter().zip(&lines) {
            assert_eq!(&decode::<MemoRecord>(bytes).expect("decodes"), record);
        }
    }
}

fn memo_record() -> MemoRecord {
    MemoRecord {
        resource: model::ResourceKey::parse("acme/commerce/deploy_request/7").expect("key"),
        memo: model::Memo {
            thread: Some(model::SlackThread {
                channel: "C0123456789".into(),
                ts: "1763899200.000100".into(),
                state: Some("in_progress".into()),
                head_current: false,
            }),
            incident: Some(model::Incident {
                dedup_key: "pswatch/acme/commerce/deploy_request/7".into(),
                triggered_at: datetime!(2026-11-23 12:00 UTC),
            }),
            last_event: Some("evt_0004".into()),
            github_comment: None,
            last_change_event: None,
        },
        updated_at: datetime!(2026-11-23 12:00:02 UTC),
    }
}

/// A memo with a GitHub comment keeps it; one without writes no field for it (the golden
/// memo's bytes).
#[test]
fn a_github_comment_is_remembered() {
    let mut record = memo_record();
    assert!(!String::from_utf8(encode(&record).expect("encodes"))
        .expect("utf-8")
        .contains("github_comment"));
    record.memo.github_comment = Some(1_234_567_890);
    let bytes = encode(&record).expect("encodes");
    assert!(String::from_utf8_lossy(&bytes).contains(r#""github_comment":1234567890"#));
    assert_eq!(decode::<MemoRecord>(&bytes).expect("decodes"), record);
}

/// The last change event sent to PagerDuty is remembered, and written only when there is one.
#[test]
fn the_last_change_event_is_remembered() {
    let mut record = memo_record();
    assert!(
        !String::from_utf8_lossy(&encode(&record).expect("encodes")).contains("last_change_event")
    );
    record.memo.last_change_event = Some("evt_0005".into());
    let bytes = encode(&record).expect("encodes");
    assert!(String::from_utf8_lossy(&bytes).contains(r#""last_change_event":"evt_0005""#));
    assert_eq!(decode::<MemoRecord>(&bytes).expect("decodes"), record);
}

#[tokio::test]
async fn memos_are_kept_per_channel_and_resource_across_reopen() {
    let directory = tempfile::tempdir().expect("tempdir");
    let record = memo_record();
    let workflow = model::ResourceKey::parse("acme/commerce/workflow/3").expect("key");
    {
        let store = Store::open(directory.path()).expect("open");
        assert_eq!(
            store.memo("slack", &record.resource).await.expect("read"),
            None
        );
        store
            .keep_memos(
                "slack",
                [(&record.resource, &record.memo)],
                record.updated_at,
            )
            .await
            .expect("keep");
        // A channel whose name starts with the other's keeps its own.
        let other = model::Memo {
            last_event: Some("evt_9".into()),
            ..Default::default()
        };
        store
            .keep_memos("slack-2", [(&record.resource, &other)], record.updated_at)
            .await
            .expect("keep");
    }
    let store = Store::open(directory.path()).expect("reopen");
    assert_eq!(
        store.memo("slack", &record.resource).await.expect("read"),
        Some(record.memo.clone())
    );
    assert_eq!(store.memo("slack", &workflow).await.expect("read"), None);
    assert_eq!(store.memo_count("slack").await.expect("count"), 1);
    assert_eq!(store.memo_count("slack-2").await.expect("count"), 1);
    // An empty memo is removed.
    store
        .keep_memos(
            "slack-2",
            [(&record.resource, &model::Memo::default())],
            record.updated_at,
        )
        .await
        .expect("keep");
    assert_eq!(store.memo_count("slack-2").await.expect("count"), 0);
    let kept = store.memos().await.expect("memos");
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].channel, "slack");
    assert_eq!(kept[0].resource, record.resource);
}

#[tokio::test]
async fn quiet_memos_and_those_of_removed_channels_are_pruned_open_incidents_kept() {
    let directory = tempfile::tempdir().expect("tempdir");
    let store = Store::open(directory.path()).expect("open");
    let old = datetime!(2026-08-01 12:00 UTC);
    let thread_only = model::Memo {
        incident: None,
        ..memo_record().memo
    };
    let with_incident = memo_record().memo;
    let workflow = model::ResourceKey::parse("acme/commerce/workflow/3").expect("key");
    let request = memo_record().resource;
    store
        .keep_memos("slack", [(&workflow, &thread_only)], old)
        .await
        .expect("keep");
    store
        .keep_memos("pager", [(&request, &with_incident)], old)
        .await
        .expect("keep");
    store
        .keep_memos(
            "gone",
            [(&request, &thread_only)],
            datetime!(2026-11-23 12:00 UTC),
        )
        .await
        .expect("keep");
    let pruned = store
        .prune_memos(&["slack", "pager"], datetime!(2026-10-24 12:00 UTC))
        .await
        .expect("prune");
    assert_eq!(pruned, 2);
    assert_eq!(store.memo("slack", &workflow).await.expect("read"), None);
    assert_eq!(
        store.memo("pager", &request).await.expect("read"),
        Some(with_incident),
        "an open incident is kept however old"
    );
    assert_eq!(store.memo_count("gone").await.expect("count"), 0);
}

#[tokio::test]
async fn an_unreadable_memo_is_quarantined_and_reads_as_none() {
    let directory = tempfile::tempdir().expect("tempdir");
    let store = Store::open(directory.path()).expect("open");
    let record = memo_record();
    store
        .raw_put(
            crate::keys::memo_key("slack", &record.resource),
            &b"{\"v\": 1, \"record\": 3}"[..],
        )
        .await
        .expect("insert");
    assert_eq!(
        store.memo("slack", &record.resource).await.expect("read"),
        None
    );
    let quarantined = store.quarantined().await.expect("quarantined");
    assert_eq!(quarantined.len(), 1);
    assert_eq!(
        quarantined[0].record,
        "memo of acme/commerce/deploy_request/7 for channel slack"
    );
    assert!(
        quarantined[0].problem.contains("memo"),
        "{}",
        quarantined[0].problem
    );
}

#[test]
fn planetscale_events_keep_their_bytes_in_the_outbox() {
    let mut event = diff_engine::Event::from_planetscale(
        "acme",
        "commerce",
        diff_engine::PlanetScaleEvent::parse("branch.ready").expect("known"),
        1_763_899_200,
        serde_json::json!({"id": "br-main", "type": "Branch", "name": "main", "state": "ready"}),
        datetime!(2026-11-23 12:00 UTC),
    );
    // The id is kept as given: what is pinned here is the record, not how ids are made.
    event.id = "evt_4c06a6ff4b8464c17cc07b44bf855e3a".into();
    let entry = OutboxEntry {
        id: 200,
        channel: "audit".into(),
        event,
        attempts: 0,
        last_error: None,
        created_at: datetime!(2026-11-23 12:00:01 UTC),
        next_attempt_at: None,
        poll: 200,
    };
    let bytes = encode(&entry).expect("encodes");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/outbox_planetscale_v1.jsonl");
    if std::env::var_os("PSWATCH_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, [&bytes[..], b"\n"].concat()).expect("write golden");
    }
    let golden = std::fs::read(&path).expect("golden file");
    assert_eq!(
        String::from_utf8_lossy(&[&bytes[..], b"\n"].concat()),
        String::from_utf8_lossy(&golden),
        "the bytes of a PlanetScale event's outbox entry changed: that is a new disk format"
    );
    assert_eq!(decode::<OutboxEntry>(&bytes).expect("decodes"), entry);
    // An event name this build does not route is unreadable, never misread.
    let unknown = String::from_utf8(bytes)
        .expect("utf-8")
        .replace("branch.ready", "branch.exploded");
    assert!(decode::<OutboxEntry>(unknown.as_bytes()).is_err());
}
