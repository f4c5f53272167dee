//! The conformance suite: what every backend must do, run against sled (in a temporary
//! directory) and PostgreSQL (a throwaway server, each scenario in a schema of its own).
//! Nothing here knows which backend it has, as nothing outside the store does.

use std::future::Future;
use std::pin::Pin;

use diff_engine::{Target, TargetState};
use model::{Memo, ResourceKey, Silence, SlackThread};
use time::macros::datetime;
use time::OffsetDateTime;

use crate::testing::TestDatabase;
use crate::tests::{delivery, event};
use crate::{DisabledChannel, Store, StoreError};

/// Opens the same store again: a restart, or another replica.
type Reopen = Box<dyn Fn() -> Pin<Box<dyn Future<Output = Store> + Send>> + Send + Sync>;

const NOW: OffsetDateTime = datetime!(2026-11-23 12:00 UTC);

fn target(database: &str) -> Target {
    Target::new("acme", database)
}

async fn ids_of(store: &Store, channel: &str) -> Vec<String> {
    store
        .outbox_of(channel)
        .all()
        .await
        .expect("entries")
        .into_iter()
        .map(|entry| entry.event.id)
        .collect()
}

/// A poll's state and its deliveries are written together and read back after a restart; the
/// outbox keeps detection order per channel and overall, across pages.
async fn commits_and_the_outbox(reopen: Reopen) {
    let store = reopen().await;
    assert_eq!(store.target_state(&target("a")).await.expect("read"), None);
    let state = TargetState {
        events: 7,
        ..TargetState::default()
    };
    for round in 0..20 {
        store
            .commit_poll(
                &target("a"),
                &state,
                vec![
                    delivery("slack", &format!("evt_s{round:02}")),
                    delivery("email", &format!("evt_e{round:02}")),
                ],
                NOW,
            )
            .await
            .expect("commit");
    }
    drop(store);
    let store = reopen().await;
    assert_eq!(
        store.target_state(&target("a")).await.expect("read"),
        Some(state.clone())
    );
    assert_eq!(store.target_states().await.expect("states").len(), 1);
    let slack = ids_of(&store, "slack").await;
    assert_eq!(slack.len(), 20);
    assert_eq!(slack[0], "evt_s00");
    assert_eq!(slack[19], "evt_s19");
    assert!(slack.windows(2).all(|pair| pair[0] < pair[1]));
    let all = store.outbox().await.expect("outbox");
    assert_eq!(all.len(), 40);
    assert!(all.windows(2).all(|pair| pair[0].id < pair[1].id));
    assert_eq!(all[0].event.id, "evt_s00");
    assert_eq!(all[1].event.id, "evt_e00");
    assert_eq!(all[0].poll, all[1].poll, "a poll's entries share its id");
    assert_ne!(all[0].poll, all[2].poll);
    let counts = store.outbox_counts().await.expect("counts");
    assert_eq!(counts.get("slack"), Some(&20));
    assert_eq!(counts.get("email"), Some(&20));
    assert_eq!(store.outbox_len().await.expect("len"), 40);
    let mut head = store.outbox_of("email");
    let first = head.next().await.expect("one").expect("readable");
    assert_eq!(first.event.id, "evt_e00");
    assert!(store.forget_target(&target("a")).await.expect("forget"));
    assert!(!store.forget_target(&target("a")).await.expect("forget"));
    assert_eq!(store.target_state(&target("a")).await.expect("read"), None);
}

/// Failed attempts are counted, completion removes, the dead letters are kept, put back in
/// their place and dropped.
async fn retries_and_dead_letters(reopen: Reopen) {
    let store = reopen().await;
    let entries = store
        .enqueue(
            vec![
                delivery("hook", "evt_1"),
                delivery("hook", "evt_2"),
                delivery("hook", "evt_3"),
            ],
            NOW,
        )
        .await
        .expect("enqueue");
    let [one, two, three] = [entries[0].id, entries[1].id, entries[2].id];
    let later = NOW + time::Duration::minutes(1);
    let rescheduled = store
        .reschedule("hook", &[one], "HTTP 503", later)
        .await
        .expect("reschedule");
    assert_eq!(rescheduled[0].attempts, 1);
    let head = store.outbox_of("hook").all().await.expect("entries");
    assert_eq!(head[0].attempts, 1);
    assert_eq!(head[0].last_error.as_deref(), Some("HTTP 503"));
    assert_eq!(head[0].next_attempt_at, Some(later));
    assert!(!head[0].is_due(NOW));
    store.complete("hook", &[two]).await.expect("complete");
    store
        .bury("hook", &[one], "HTTP 410", "gone", NOW)
        .await
        .expect("bury");
    drop(store);
    let store = reopen().await;
    assert_eq!(ids_of(&store, "hook").await, ["evt_3"]);
    let dead = store.dead_letters().await.expect("dead");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].entry.id, one);
    assert_eq!(dead[0].reason, "gone");
    assert_eq!(dead[0].entry.attempts, 2);
    assert_eq!(store.dead_letters_len().await.expect("len"), 1);
    assert_eq!(store.revive(Some(one)).await.expect("revive"), 1);
    assert_eq!(
        ids_of(&store, "hook").await,
        ["evt_1", "evt_3"],
        "back in its place"
    );
    assert_eq!(
        store.outbox_of("hook").all().await.expect("entries")[0].attempts,
        0
    );
    assert!(matches!(
        store.revive(Some(one)).await,
        Err(StoreError::NoSuchEntry(_))
    ));
    store.drop_entry(three).await.expect("drop");
    assert!(matches!(
        store.drop_entry(three).await,
        Err(StoreError::NoSuchEntry(_))
    ));
    assert_eq!(ids_of(&store, "hook").await, ["evt_1"]);
}

/// What channels remember of resources, disabled channels and the fingerprint key.
async fn memos_channels_and_keys(reopen: Reopen) {
    let store = reopen().await;
    let key = store.fingerprint_key().await.expect("key");
    assert_eq!(key.len(), 32);
    let workflow = ResourceKey::parse("acme/commerce/workflow/1").expect("key");
    let memo = Memo {
        thread: Some(SlackThread {
            channel: "C0123456789".into(),
            ts: "1763899200.000100".into(),
            state: Some("running".into()),
            head_current: true,
        }),
        ..Memo::default()
    };
    store
        .keep_memos("slack", [(&workflow, &memo)], NOW)
        .await
        .expect("keep");
    store
        .disable_channel(
            "hook",
            &DisabledChannel {
                fingerprint: "abc".into(),
                disabled_at: NOW,
                reason: "HTTP 410".into(),
            },
        )
        .await
        .expect("disable");
    drop(store);
    let store = reopen().await;
    assert_eq!(store.fingerprint_key().await.expect("key"), key, "kept");
    assert_eq!(
        store.memo("slack", &workflow).await.expect("memo"),
        Some(memo.clone())
    );
    let loaded = store
        .memos_for("slack", &[event("evt_1")])
        .await
        .expect("memos");
    assert_eq!(loaded.get(&workflow), Some(&memo));
    assert_eq!(store.memo_count("slack").await.expect("count"), 1);
    assert_eq!(store.memos().await.expect("memos").len(), 1);
    assert_eq!(
        store.prune_memos(&["email"], NOW).await.expect("prune"),
        1,
        "a channel no longer configured forgets"
    );
    assert_eq!(store.memo("slack", &workflow).await.expect("memo"), None);
    assert_eq!(
        store
            .disabled_channel("hook")
            .await
            .expect("read")
            .map(|disabled| disabled.reason),
        Some("HTTP 410".into())
    );
    store.enable_channel("hook").await.expect("enable");
    assert!(store
        .disabled_channel("hook")
        .await
        .expect("read")
        .is_none());
}

/// An alert `name` of `resource` of acme/a, firing since `NOW`.
fn firing(name: &str, resource: &str) -> model::FiringAlert {
    model::FiringAlert {
        labels: [
            ("alertname", name),
            ("organization", "acme"),
            ("database", "a"),
            ("resource", resource),
            ("severity", "critical"),
        ]
        .into_iter()
        .map(|(label, value)| (label.to_owned(), value.to_owned()))
        .collect(),
        annotations: [("summary".to_owned(), "It broke".to_owned())].into(),
        generator_url: Some("https://app.planetscale.com/acme/a".into()),
        starts_at: NOW,
    }
}

/// Firing alerts kept per channel across a reopen, resolved, and forgotten with their channel.
async fn firing_alerts(reopen: Reopen) {
    let store = reopen().await;
    let error = firing("PlanetScaleWorkflowError", "workflow/1");
    let waiting = firing("PlanetScaleCutoverWaiting", "deploy_request/7");
    // A channel whose name starts with another's keeps its own.
    let other = firing("PlanetScaleBackupFailed", "branch/main");
    store
        .keep_alerts(
            "am",
            [
                (error.key().as_str(), Some(&error)),
                (waiting.key().as_str(), Some(&waiting)),
            ],
        )
        .await
        .expect("keep");
    store
        .keep_alerts("am2", [(other.key().as_str(), Some(&other))])
        .await
        .expect("keep");
    drop(store);
    let store = reopen().await;
    let mut kept = store.firing_alerts("am").await.expect("alerts");
    kept.sort_by_key(model::FiringAlert::key);
    let mut expected = vec![error.clone(), waiting.clone()];
    expected.sort_by_key(model::FiringAlert::key);
    assert_eq!(kept, expected);
    store
        .keep_alerts("am", [(error.key().as_str(), None)])
        .await
        .expect("resolve");
    assert_eq!(
        store.firing_alerts("am").await.expect("alerts"),
        std::slice::from_ref(&waiting)
    );
    assert_eq!(store.prune_alerts(&["am"]).await.expect("prune"), 1);
    assert!(store.firing_alerts("am2").await.expect("alerts").is_empty());
    assert_eq!(store.firing_alerts("am").await.expect("alerts"), [waiting]);
}

/// Silences added, expired and listed; receipts of deliveries kept and forgotten.
async fn silences_and_receipts(reopen: Reopen) {
    let store = reopen().await;
    let silence = Silence::between(
        "sil_0123456789abcdef".into(),
        model::Matcher {
            database: Some("acme/*".into()),
            ..model::Matcher::default()
        },
        NOW,
        NOW + time::Duration::hours(2),
        "cutover".into(),
        NOW,
    )
    .expect("silence");
    store.put_silence(&silence, NOW).await.expect("put");
    let digest = [7u8; 32];
    store
        .enqueue_received(digest, vec![delivery("slack", "evt_pushed")], NOW)
        .await
        .expect("received");
    // The same delivery received again (by another replica) is recorded once.
    assert!(matches!(
        store
            .enqueue_received(digest, vec![delivery("slack", "evt_pushed")], NOW)
            .await,
        Err(StoreError::Duplicate)
    ));
    // A push passed on to the leader, once per database.
    store.poke(&target("a")).await.expect("poke");
    store.poke(&target("a")).await.expect("poke");
    store.poke(&target("b")).await.expect("poke");
    drop(store);
    let store = reopen().await;
    assert_eq!(
        store.silences().await.expect("silences"),
        std::slice::from_ref(&silence)
    );
    let later = NOW + time::Duration::minutes(5);
    let expired = store
        .expire_silence(&silence.id, later)
        .await
        .expect("expire")
        .expect("known");
    assert!(expired.is_over(later));
    assert_eq!(ids_of(&store, "slack").await, ["evt_pushed"]);
    store.wake("slack").await.expect("wake");
    let pokes = store.take_pokes().await.expect("pokes");
    assert_eq!(pokes.targets, [target("a"), target("b")]);
    assert_eq!(pokes.channels, ["slack"]);
    assert_eq!(
        store.take_pokes().await.expect("pokes"),
        crate::Pokes::default()
    );
    assert_eq!(
        store.receipts(NOW).await.expect("receipts"),
        [(digest, NOW)]
    );
    assert!(store
        .receipts(NOW + time::Duration::seconds(1))
        .await
        .expect("receipts")
        .is_empty());
    assert!(
        store.receipts(NOW).await.expect("receipts").is_empty(),
        "forgotten"
    );
}

/// A record that cannot be read is set aside and stalls nothing.
async fn unreadable_records_are_quarantined(reopen: Reopen) {
    let store = reopen().await;
    let entries = store
        .enqueue(
            vec![delivery("hook", "evt_1"), delivery("hook", "evt_2")],
            NOW,
        )
        .await
        .expect("enqueue");
    store
        .raw_put(
            crate::keys::queue_key("hook", entries[0].id),
            b"{\"v\":1,\"record\":{trunc",
        )
        .await
        .expect("damage");
    drop(store);
    let store = reopen().await;
    assert_eq!(ids_of(&store, "hook").await, ["evt_2"]);
    assert_eq!(store.quarantined_len().await.expect("count"), 1);
    let quarantined = store.quarantined().await.expect("quarantined");
    assert!(
        quarantined[0].problem.contains("damaged"),
        "{quarantined:?}"
    );
    store.probe().await.expect("writes");
}

/// The journal keeps a poll's events in time order until pruned; a digest's period is marked
/// once, with its deliveries, and marked again adds nothing.
async fn journal_and_digest_marks(reopen: Reopen) {
    let store = reopen().await;
    let at = |minutes: i64| {
        let mut event = event(&format!("evt_{minutes}"));
        event.observed_at = NOW + time::Duration::minutes(minutes);
        event
    };
    store
        .commit_poll_journaled(
            &target("a"),
            &TargetState::default(),
            &[at(10), at(1)],
            vec![delivery("slack", "evt_routed")],
            NOW,
        )
        .await
        .expect("commit");
    store
        .commit_poll_journaled(
            &target("b"),
            &TargetState::default(),
            &[at(30)],
            vec![],
            NOW,
        )
        .await
        .expect("commit");
    assert_eq!(store.last_digest("morning").await.expect("read"), None);
    drop(store);
    let store = reopen().await;
    let ids = |events: Vec<diff_engine::Event>| -> Vec<String> {
        events.into_iter().map(|event| event.id).collect()
    };
    assert_eq!(
        ids(store
            .journal(NOW, NOW + time::Duration::hours(1))
            .await
            .expect("journal")),
        ["evt_1", "evt_10", "evt_30"]
    );
    assert_eq!(
        ids(store
            .journal(
                NOW + time::Duration::minutes(1),
                NOW + time::Duration::minutes(10)
            )
            .await
            .expect("journal")),
        ["evt_10"],
        "after the start, up to and including the end"
    );
    assert_eq!(
        store
            .prune_journal(NOW + time::Duration::minutes(5))
            .await
            .expect("prune"),
        1
    );
    let end = NOW + time::Duration::hours(1);
    let entries = store
        .mark_digest("morning", end, vec![delivery("slack", "dig_morning")], NOW)
        .await
        .expect("mark")
        .expect("the first time");
    assert_eq!(entries.len(), 1);
    // The same period again (a restart, another replica): nothing added.
    assert!(store
        .mark_digest("morning", end, vec![delivery("slack", "dig_morning")], NOW)
        .await
        .expect("mark")
        .is_none());
    drop(store);
    let store = reopen().await;
    assert_eq!(store.last_digest("morning").await.expect("read"), Some(end));
    assert_eq!(store.last_digest("evening").await.expect("read"), None);
    assert_eq!(
        ids_of(&store, "slack").await,
        ["evt_routed", "dig_morning"],
        "sent once"
    );
    assert_eq!(
        ids(store.journal(NOW, end).await.expect("journal")),
        ["evt_10", "evt_30"]
    );
}

/// A Slack click is kept until done, by whichever replica; acknowledgements last until
/// forgotten.
async fn actions_and_acknowledgements(reopen: Reopen) {
    let store = reopen().await;
    // Copies of one click arriving at once (Slack's retry beside a double click): one of
    // them records it, and one takes it up, however the tasks interleave.
    let racing: Vec<_> = (0..16)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let recorded = store
                    .record_action(&crate::PendingAction {
                        id: "racing".into(),
                        value: "v1|value-racing".into(),
                        user_id: "U0123456789".into(),
                        user_name: "ada".into(),
                        received_at: NOW,
                    })
                    .await;
                let taken = store.take_action("racing", NOW).await.expect("take");
                (recorded.is_ok(), taken)
            })
        })
        .collect();
    let mut recorded = 0;
    let mut taken = 0;
    for task in racing {
        let (was_recorded, was_taken) = task.await.expect("join");
        recorded += usize::from(was_recorded);
        taken += usize::from(was_taken);
    }
    assert_eq!((recorded, taken), (1, 1), "one copy recorded, one taken up");
    assert!(store.finish_action("racing").await.expect("finish"));
    for (id, minutes) in [("b", 2), ("a", 1)] {
        store
            .record_action(&crate::PendingAction {
                id: id.into(),
                value: format!("v1|value-{id}"),
                user_id: "U0123456789".into(),
                user_name: "ada".into(),
                received_at: NOW + time::Duration::minutes(minutes),
            })
            .await
            .expect("record");
    }
    store
        .acknowledge("acme/commerce/deploy_request/7", 1_763_900_000, "ada", NOW)
        .await
        .expect("acknowledge");
    drop(store);
    let store = reopen().await;
    let pending: Vec<String> = store
        .pending_actions()
        .await
        .expect("pending")
        .into_iter()
        .map(|action| action.id)
        .collect();
    assert_eq!(pending, ["a", "b"], "oldest first");
    // A copy of a click still pending is not recorded twice.
    let copy = crate::PendingAction {
        id: "a".into(),
        value: "v1|value-a".into(),
        user_id: "U0123456789".into(),
        user_name: "ada".into(),
        received_at: NOW,
    };
    assert!(matches!(
        store.record_action(&copy).await,
        Err(StoreError::Duplicate)
    ));
    // A click is taken up once, whoever tries, before and after it is done.
    assert!(store.take_action("a", NOW).await.expect("take"));
    assert!(!store.take_action("a", NOW).await.expect("take"));
    assert!(store.finish_action("a").await.expect("finish"));
    store
        .record_action(&copy)
        .await
        .expect("a later copy is recorded");
    assert!(
        !store.take_action("a", NOW).await.expect("take"),
        "and not taken up again"
    );
    assert!(store.finish_action("a").await.expect("finish"));
    // Kept: "a" and the racing click.
    assert_eq!(store.prune_taken_actions(NOW).await.expect("prune"), 2);
    assert_eq!(
        store
            .prune_taken_actions(NOW + time::Duration::seconds(1))
            .await
            .expect("prune"),
        0
    );
    assert!(
        store.take_action("a", NOW).await.expect("take"),
        "forgotten"
    );
    assert!(
        !store.finish_action("a").await.expect("finish"),
        "done once"
    );
    assert_eq!(store.pending_actions().await.expect("pending").len(), 1);
    assert_eq!(
        store.acknowledgements(NOW).await.expect("acks"),
        [("acme/commerce/deploy_request/7".to_owned(), 1_763_900_000)]
    );
    assert!(store
        .acknowledgements(NOW + time::Duration::seconds(1))
        .await
        .expect("acks")
        .is_empty());
}

/// The leader's report is kept in place, read back after a restart and replaced by the next.
async fn leader_reports(reopen: Reopen) {
    let store = reopen().await;
    assert_eq!(store.leader_report().await.expect("read"), None);
    let first = crate::LeaderReport {
        written_at: NOW,
        report: serde_json::json!({"targets": {"acme/commerce": {"failures": 0}}}),
    };
    store.publish_report(&first).await.expect("publish");
    drop(store);
    let store = reopen().await;
    assert_eq!(
        store.leader_report().await.expect("read"),
        Some(first.clone())
    );
    let next = crate::LeaderReport {
        written_at: NOW + time::Duration::seconds(3),
        report: serde_json::json!({"targets": {}}),
    };
    store.publish_report(&next).await.expect("publish");
    assert_eq!(store.leader_report().await.expect("read"), Some(next));
}

/// A sample view of deploy request `number` of `target("a")`, observed at `at`.
fn view(number: u64, state: &str, at: time::OffsetDateTime) -> model::ResourceView {
    model::ResourceView {
        target: target("a"),
        kind: model::ResourceKind::DeployRequest,
        number,
        name: None,
        state: "open".into(),
        deployment_state: Some(state.into()),
        branch: Some("add-index".into()),
        into_branch: Some("main".into()),
        html_url: Some("https://app.planetscale.com/acme/a/deploy-requests/7".into()),
        operations: vec![model::OperationView {
            id: "op-1".into(),
            phase: diff_engine::OperationPhase::Deploy,
            keyspace: Some("commerce".into()),
            table: Some("orders".into()),
            state: "in_progress".into(),
            progress_percentage: Some(42.5),
            eta_seconds: Some(90),
            errors: None,
        }],
        last_event: Some(model::LastEvent {
            id: "evt_1".into(),
            event_type: "deploy_request.state_changed".into(),
            at,
        }),
        observed_at: at,
        state_since: at - time::Duration::minutes(10),
    }
}

async fn resource_views(reopen: Reopen) {
    use model::ResourceKind;
    let store = reopen().await;
    let kind = ResourceKind::DeployRequest;
    assert_eq!(store.view(&target("a"), kind, 7).await.expect("read"), None);
    let first = view(7, "in_progress", NOW);
    store
        .put_views(&[first.clone(), view(8, "queued", NOW)])
        .await
        .expect("put");
    drop(store);
    let store = reopen().await;
    assert_eq!(
        store.view(&target("a"), kind, 7).await.expect("read"),
        Some(first)
    );
    assert_eq!(
        store
            .view(&target("a"), ResourceKind::Workflow, 7)
            .await
            .expect("read"),
        None
    );
    assert_eq!(store.view(&target("b"), kind, 7).await.expect("read"), None);
    let later = NOW + time::Duration::days(2);
    let next = view(7, "complete", later);
    store
        .put_views(std::slice::from_ref(&next))
        .await
        .expect("replace");
    let mut numbers: Vec<u64> = store
        .views_of(&target("a"))
        .await
        .expect("views")
        .iter()
        .map(|view| view.number)
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, [7, 8]);
    // Forgotten when not written for a while: #8, seen only at NOW.
    assert_eq!(
        store
            .prune_views(NOW + time::Duration::days(1))
            .await
            .expect("prune"),
        1
    );
    assert_eq!(store.view(&target("a"), kind, 8).await.expect("read"), None);
    assert_eq!(
        store.view(&target("a"), kind, 7).await.expect("read"),
        Some(next)
    );
}

/// A scenario, run on a store it can open again.
type Scenario = fn(Reopen) -> Pin<Box<dyn Future<Output = ()> + Send>>;

/// Every scenario, named.
fn scenarios() -> Vec<(&'static str, Scenario)> {
    vec![
        ("commits_and_the_outbox", |reopen| {
            Box::pin(commits_and_the_outbox(reopen))
        }),
        ("retries_and_dead_letters", |reopen| {
            Box::pin(retries_and_dead_letters(reopen))
        }),
        ("memos_channels_and_keys", |reopen| {
            Box::pin(memos_channels_and_keys(reopen))
        }),
        ("firing_alerts", |reopen| Box::pin(firing_alerts(reopen))),
        ("silences_and_receipts", |reopen| {
            Box::pin(silences_and_receipts(reopen))
        }),
        ("journal_and_digest_marks", |reopen| {
            Box::pin(journal_and_digest_marks(reopen))
        }),
        ("actions_and_acknowledgements", |reopen| {
            Box::pin(actions_and_acknowledgements(reopen))
        }),
        ("leader_reports", |reopen| Box::pin(leader_reports(reopen))),
        ("resource_views", |reopen| Box::pin(resource_views(reopen))),
        ("unreadable_records_are_quarantined", |reopen| {
            Box::pin(unreadable_records_are_quarantined(reopen))
        }),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sled_conforms() {
    for (name, scenario) in scenarios() {
        let directory = std::sync::Arc::new(tempfile::tempdir().expect("tempdir"));
        let held = std::sync::Arc::clone(&directory);
        let reopen: Reopen = Box::new(move || {
            let directory = std::sync::Arc::clone(&held);
            Box::pin(async move { Store::open(directory.path()).expect("open") })
        });
        eprintln!("sled: {name}");
        scenario(reopen).await;
        drop(directory);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_conforms() {
    let database = TestDatabase::start();
    for (index, (name, scenario)) in scenarios().into_iter().enumerate() {
        let options = database.options(&format!("conformance_{index}"));
        let reopen: Reopen = Box::new(move || {
            let options = options.clone();
            Box::pin(async move { Store::connect(&options).await.expect("connect") })
        });
        eprintln!("postgres: {name}");
        scenario(reopen).await;
    }
}

/// Replicas that start together bring a new schema up once, and all of them use it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_replicas_starting_together_migrate_once() {
    let database = TestDatabase::start();
    let options = database.options("together");
    let starts = (0..4).map(|_| {
        let options = options.clone();
        tokio::spawn(async move { Store::connect(&options).await })
    });
    let mut stores = Vec::new();
    for start in starts {
        stores.push(start.await.expect("joined").expect("connect"));
    }
    stores[0]
        .enqueue(vec![delivery("slack", "evt_1")], NOW)
        .await
        .expect("enqueue");
    for store in &stores {
        assert_eq!(ids_of(store, "slack").await, ["evt_1"]);
        assert_eq!(store.backend_name(), "postgres");
    }
}

/// What cannot connect says why, and never shows the password.
#[tokio::test]
async fn postgres_refusals_say_why() {
    let database = TestDatabase::start();
    let mut options = database.options("pswatch");
    options.schema = "Bad-Name".into();
    let error = Store::connect(&options).await.expect_err("bad schema");
    assert!(error.to_string().contains("not a schema name"), "{error}");
    let mut options = database.options("pswatch");
    options.url = "postgres://pswatch:S3CR3T@127.0.0.1:1/pswatch?sslmode=disable".into();
    options.timeout = std::time::Duration::from_secs(2);
    let error = Store::connect(&options).await.expect_err("nothing listens");
    let text = error.to_string();
    assert!(!text.contains("S3CR3T"), "{text}");
    assert!(text.contains("database"), "{text}");
}

/// One replica leads at a time; a leader whose lease another took over can commit nothing,
/// while the writes any replica makes (a received delivery, a silence) go through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_leases_fence_the_leaders_writes() {
    use crate::Fence;
    use std::time::Duration;
    let database = TestDatabase::start();
    let options = database.options("leases");
    let a = Store::connect(&options).await.expect("a");
    let b = Store::connect(&options).await.expect("b");
    let election = |store: &Store| match store.leadership() {
        crate::Leadership::Elected(election) => election,
        crate::Leadership::Alone => panic!("replicas on PostgreSQL elect a leader"),
    };
    let (a_leads, b_leads) = (election(&a), election(&b));
    let lease = Duration::from_millis(800);
    let first = a_leads
        .acquire("a", lease)
        .await
        .expect("acquire")
        .expect("a leads");
    assert_eq!(b_leads.acquire("b", lease).await.expect("acquire"), None);
    assert_eq!(
        a_leads.acquire("a", lease).await.expect("renew"),
        Some(first),
        "a renewal keeps the epoch"
    );
    let leads = |holder: &str, epoch: u64| Fence::Leader {
        holder: holder.into(),
        epoch,
        until: tokio::time::Instant::now() + Duration::from_secs(60),
    };
    a_leads.set_fence(leads("a", first));
    b_leads.set_fence(Fence::Standby);
    let state = TargetState::default();
    a.commit_poll(&target("x"), &state, vec![delivery("hook", "evt_1")], NOW)
        .await
        .expect("the leader commits");
    assert!(matches!(
        b.commit_poll(&target("x"), &state, vec![], NOW).await,
        Err(StoreError::NotLeader(_))
    ));
    // What any replica writes goes through on a standby.
    b.enqueue_received([1; 32], vec![delivery("hook", "evt_pushed")], NOW)
        .await
        .expect("received on a standby");

    // a is cut off: its lease lapses and b takes over with the next epoch.
    tokio::time::sleep(lease + Duration::from_millis(300)).await;
    let second = b_leads
        .acquire("b", lease)
        .await
        .expect("acquire")
        .expect("b takes over");
    assert_eq!(second, first + 1);
    b_leads.set_fence(leads("b", second));
    let entry = ids_of(&b, "hook").await;
    assert_eq!(entry, ["evt_1", "evt_pushed"]);
    let pending = b.outbox_of("hook").all().await.expect("entries");
    // a comes back still believing it leads: nothing it writes is committed.
    assert!(matches!(
        a.complete("hook", &[pending[0].id]).await,
        Err(StoreError::NotLeader(_))
    ));
    assert!(matches!(
        a.commit_poll(
            &target("x"),
            &state,
            vec![delivery("hook", "evt_stale")],
            NOW
        )
        .await,
        Err(StoreError::NotLeader(_))
    ));
    assert_eq!(ids_of(&b, "hook").await, ["evt_1", "evt_pushed"]);
    b.complete("hook", &[pending[0].id])
        .await
        .expect("b completes");
    let leader = a_leads.leader().await.expect("leader").expect("one");
    assert_eq!((leader.holder.as_str(), leader.epoch), ("b", second));
    // A lease lapsed by the leader's own clock refuses before asking.
    b_leads.set_fence(Fence::Leader {
        holder: "b".into(),
        epoch: second,
        until: tokio::time::Instant::now(),
    });
    assert!(matches!(
        b.complete("hook", &[pending[1].id]).await,
        Err(StoreError::NotLeader(_))
    ));
    // Released at shutdown, the lease is taken at once.
    b_leads.release("b").await.expect("release");
    assert_eq!(
        a_leads.acquire("a", lease).await.expect("acquire"),
        Some(second + 1)
    );
    a_leads.heartbeat("a").await.expect("heartbeat");
    b_leads.heartbeat("b").await.expect("heartbeat");
    let replicas = a_leads.replicas().await.expect("replicas");
    assert_eq!(replicas.len(), 2);
}

/// Fills a store with one of everything it keeps.
async fn fill(store: &Store) {
    let state = TargetState {
        events: 3,
        ..TargetState::default()
    };
    store
        .commit_poll(
            &target("a"),
            &state,
            vec![delivery("slack", "evt_1"), delivery("hook", "evt_2")],
            NOW,
        )
        .await
        .expect("commit");
    let dead = store
        .enqueue(vec![delivery("hook", "evt_3")], NOW)
        .await
        .expect("enqueue");
    store
        .bury("hook", &[dead[0].id], "HTTP 400", "refused", NOW)
        .await
        .expect("bury");
    let silence = Silence::between(
        "sil_00000000000000aa".into(),
        model::Matcher {
            organization: Some("acme".into()),
            ..model::Matcher::default()
        },
        NOW,
        NOW + time::Duration::hours(1),
        "moving".into(),
        NOW,
    )
    .expect("silence");
    store
        .put_views(&[view(7, "in_progress", NOW)])
        .await
        .expect("view");
    store.put_silence(&silence, NOW).await.expect("silence");
    let workflow = ResourceKey::parse("acme/a/workflow/1").expect("key");
    store
        .keep_memos(
            "slack",
            [(
                &workflow,
                &Memo {
                    last_event: Some("evt_1".into()),
                    ..Memo::default()
                },
            )],
            NOW,
        )
        .await
        .expect("memo");
    store
        .enqueue_received([9; 32], Vec::new(), NOW)
        .await
        .expect("receipt");
    let alert = firing("PlanetScaleWorkflowError", "workflow/1");
    store
        .keep_alerts("alertmanager", [(alert.key().as_str(), Some(&alert))])
        .await
        .expect("alert");
    store.fingerprint_key().await.expect("key");
    // A record that could not be read travels too, bytes untouched.
    store
        .raw_put(
            b"quarantine\0queue\0damaged".as_slice(),
            b"\xff\x00not json",
        )
        .await
        .expect("quarantined");
}

/// What two stores hold, compared through the API.
async fn assert_same(left: &Store, right: &Store) {
    assert_eq!(
        left.target_states().await.expect("states"),
        right.target_states().await.expect("states")
    );
    assert_eq!(
        left.outbox().await.expect("outbox"),
        right.outbox().await.expect("outbox")
    );
    assert_eq!(
        left.dead_letters().await.expect("dead"),
        right.dead_letters().await.expect("dead")
    );
    assert_eq!(
        left.silences().await.expect("silences"),
        right.silences().await.expect("silences")
    );
    assert_eq!(
        left.memos().await.expect("memos"),
        right.memos().await.expect("memos")
    );
    assert_eq!(
        left.firing_alerts("alertmanager").await.expect("alerts"),
        right.firing_alerts("alertmanager").await.expect("alerts")
    );
    assert_eq!(
        left.receipts(NOW).await.expect("receipts"),
        right.receipts(NOW).await.expect("receipts")
    );
    assert_eq!(
        left.fingerprint_key().await.expect("key"),
        right.fingerprint_key().await.expect("key")
    );
    assert_eq!(
        left.quarantined().await.expect("quarantined"),
        right.quarantined().await.expect("quarantined")
    );
}

/// sled to PostgreSQL and back: everything moves, the outbox keeps its order and ids, and new
/// entries come after the imported ones. A store that holds anything is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_move_between_backends() {
    let database = TestDatabase::start();
    let directory = tempfile::tempdir().expect("tempdir");
    let sled = Store::open(&directory.path().join("from")).expect("open");
    fill(&sled).await;
    // The leader's report belongs to the replicas running on a store: it does not move.
    sled.publish_report(&crate::LeaderReport {
        written_at: NOW,
        report: serde_json::json!({}),
    })
    .await
    .expect("publish");
    let mut exported = Vec::new();
    let count = sled.export(&mut exported).await.expect("export");
    assert!(count >= 8, "{count}");
    let postgres = Store::connect(&database.options("imported"))
        .await
        .expect("connect");
    assert_eq!(
        postgres
            .import(&mut exported.as_slice())
            .await
            .expect("import"),
        count
    );
    assert_same(&sled, &postgres).await;
    assert_eq!(postgres.leader_report().await.expect("read"), None);
    let highest = sled
        .outbox()
        .await
        .expect("outbox")
        .iter()
        .chain(
            sled.dead_letters()
                .await
                .expect("dead")
                .iter()
                .map(|letter| &letter.entry),
        )
        .map(|entry| entry.id)
        .max()
        .expect("entries");
    let next = postgres
        .enqueue(vec![delivery("slack", "evt_new")], NOW)
        .await
        .expect("enqueue");
    assert!(next[0].id > highest, "{} > {highest}", next[0].id);
    let refused = postgres
        .import(&mut exported.as_slice())
        .await
        .expect_err("not empty");
    assert!(refused.to_string().contains("not empty"), "{refused}");

    // And back, into a new directory.
    let mut again = Vec::new();
    postgres.export(&mut again).await.expect("export");
    let back = Store::open(&directory.path().join("back")).expect("open");
    back.import(&mut again.as_slice()).await.expect("import");
    assert_same(&postgres, &back).await;
    let next = back
        .enqueue(vec![delivery("slack", "evt_newer")], NOW)
        .await
        .expect("enqueue");
    assert!(next[0].id > highest + 1);
    let garbage = back
        .import(&mut b"{\"something\":1}\n".as_slice())
        .await
        .expect_err("refused");
    assert!(garbage.to_string().contains("not empty"), "{garbage}");
    let empty = Store::open(&directory.path().join("empty")).expect("open");
    let garbage = empty
        .import(&mut b"{\"something\":1}\n".as_slice())
        .await
        .expect_err("refused");
    assert!(
        garbage.to_string().contains("not a pswatch store export"),
        "{garbage}"
    );
}

/// An import reads every record as the store would before it writes one: a record of another
/// format version, of the wrong shape, under another kind's key, under a key of no kind, a key
/// given twice or a line without end is refused with its line number, and nothing is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_refuses_what_the_store_would_not_read_and_writes_nothing() {
    let directory = tempfile::tempdir().expect("tempdir");
    let from = Store::open(&directory.path().join("from")).expect("open");
    fill(&from).await;
    from.record_action(&crate::PendingAction {
        id: "c1".into(),
        value: "v1|x".into(),
        user_id: "U0123456789".into(),
        user_name: "ada".into(),
        received_at: NOW,
    })
    .await
    .expect("action");
    assert!(from.take_action("c1", NOW).await.expect("take"));
    let mut exported = Vec::new();
    from.export(&mut exported).await.expect("export");
    let text = String::from_utf8(exported).expect("text");
    let lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let line_of = |prefix: &[u8]| {
        lines
            .iter()
            .position(|line| line.starts_with(&format!("{{\"key\":\"{}", hex::encode(prefix))))
            .unwrap_or_else(|| panic!("no {prefix:?} line in {text}"))
    };
    let state = line_of(b"state\0");
    let silence = line_of(b"silence\0");
    let value_of = |line: &str| {
        let value: serde_json::Value = serde_json::from_str(line).expect("json");
        value["value"].clone()
    };
    let key_of = |line: &str| {
        let value: serde_json::Value = serde_json::from_str(line).expect("json");
        value["key"].as_str().expect("key").to_owned()
    };
    let line = |key: &str, value: &serde_json::Value| {
        serde_json::json!({"key": key, "value": value}).to_string()
    };
    let mut future = value_of(&lines[state]);
    future["v"] = serde_json::json!(99);
    let cases: Vec<(usize, String, &str)> = vec![
        (state, line(&key_of(&lines[state]), &future), "version 99"),
        (
            state,
            line(
                &key_of(&lines[state]),
                &serde_json::json!({"v": 1, "record": {"x": 1}}),
            ),
            "state",
        ),
        (
            state,
            line(&key_of(&lines[state]), &value_of(&lines[silence])),
            "state",
        ),
        (
            state,
            line(&hex::encode(b"nonsense\0x"), &value_of(&lines[state])),
            "no kind of record",
        ),
        (state, line("", &value_of(&lines[state])), "names no kind"),
        (
            state,
            line(&hex::encode(b"state\0"), &value_of(&lines[state])),
            "not a well-formed state key",
        ),
        (
            state,
            line(&hex::encode(b"meta\0store"), &value_of(&lines[state])),
            "never exported",
        ),
        (lines.len(), lines[silence].clone(), "again"),
        (
            lines.len(),
            "x".repeat(super::export::MAX_LINE + 10),
            "longer than 16 MiB",
        ),
    ];
    let empty = Store::open(&directory.path().join("empty")).expect("open");
    for (at, replacement, said) in cases {
        let mut edited = lines.clone();
        if at < edited.len() {
            edited[at] = replacement;
        } else {
            edited.push(replacement);
        }
        let input = edited.join("\n");
        let refused = empty
            .import(&mut input.as_bytes())
            .await
            .expect_err("refused");
        let message = refused.to_string();
        let expected_line = format!("line {}", at.min(edited.len() - 1) + 1);
        assert!(
            message.contains(&expected_line) && message.contains(said),
            "{said}: {}",
            message.chars().take(300).collect::<String>()
        );
        let mut nothing = Vec::new();
        assert_eq!(
            empty.export(&mut nothing).await.expect("export"),
            0,
            "{said}"
        );
    }
    // The export itself goes in whole.
    let into = Store::open(&directory.path().join("into")).expect("open");
    assert_eq!(
        into.import(&mut text.as_bytes()).await.expect("import"),
        lines.len() - 1
    );
    assert!(
        !into.take_action("c1", NOW).await.expect("take"),
        "the click moved"
    );
}

/// `sslmode` as libpq reads it, against a server with a self-signed certificate that accepts
/// TLS connections only: `require` and `prefer` encrypt without checking the certificate,
/// `verify-full` refuses one no public root signed, `disable` is refused by the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_tls_follows_sslmode() {
    let database = TestDatabase::start_with_tls();
    let with = |mode: &str| {
        let mut options = database.options("tls");
        options.url = database
            .url()
            .replace("127.0.0.1", "localhost")
            .replace("sslmode=disable", &format!("sslmode={mode}"));
        options
    };
    let encrypted = Store::connect(&with("require")).await.expect("require");
    encrypted
        .enqueue(vec![delivery("slack", "evt_tls")], NOW)
        .await
        .expect("written over TLS");
    Store::connect(&with("prefer")).await.expect("prefer");
    let clear = Store::connect(&with("disable"))
        .await
        .expect_err("the server takes TLS only");
    assert!(clear.to_string().contains("database"), "{clear}");
    let refused = Store::connect(&with("verify-full"))
        .await
        .expect_err("a self-signed certificate");
    assert!(refused.to_string().contains("database"), "{refused}");
}
