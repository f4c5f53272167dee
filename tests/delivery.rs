//! Delivery that loses nothing: receivers that fail, a process killed with SIGKILL, dead
//! letters, a receiver that is gone, grouping, graceful shutdown. Each test runs the binary.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use simulator::{SimDeployRequest, SimOperation, SimWorkflow, Simulator, World};
use support::config::ConfigBuilder;
use support::receiver::{Receiver, Recorded};
use support::{eventually, get, pswatch, Service};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const TOKEN: &str = "pscale_tkn_d3l1v3ry";
const SLACK_PATH: &str = "/slack/T0/B0/sl4cks3cret";

struct Setup {
    directory: tempfile::TempDir,
    config: PathBuf,
    environment: Vec<(&'static str, String)>,
}

impl Setup {
    fn new(simulator: &Simulator, receiver: &Receiver, webhook_path: &str) -> Self {
        let directory = tempfile::tempdir().expect("tempdir");
        let config = directory.path().join("pswatch.toml");
        let setup = Self {
            config,
            environment: vec![
                ("TEST_TOKEN", TOKEN.to_string()),
                ("TEST_SECRET", SECRET.to_string()),
                ("TEST_SLACK_URL", format!("{}{SLACK_PATH}", receiver.url)),
            ],
            directory,
        };
        setup.write(simulator, receiver, webhook_path);
        setup
    }

    fn write(&self, simulator: &Simulator, receiver: &Receiver, webhook_path: &str) {
        ConfigBuilder::new(&simulator.api_url(), &self.state())
            .set("planetscale.service_token", "${TEST_TOKEN}")
            .set("planetscale.timeout", "2s")
            .set("poll.interval", "200ms")
            .set("poll.active_interval", "200ms")
            .watch("acme", &["commerce"])
            .channel(
                "audit",
                "webhook",
                &[
                    ("url", format!("{}{webhook_path}", receiver.url).into()),
                    ("secret", "${TEST_SECRET}".into()),
                ],
            )
            .with("retry_schedule", vec!["300ms"])
            .channel(
                "ops-slack",
                "slack",
                &[("webhook_url", "${TEST_SLACK_URL}".into())],
            )
            .with("retry_schedule", vec!["300ms"])
            .with("min_interval", "100ms")
            .route(&["audit", "ops-slack"])
            .write(&self.config);
    }

    fn state(&self) -> PathBuf {
        self.directory.path().join("state")
    }

    fn logs(&self) -> &Path {
        self.directory.path()
    }

    async fn run(&self, args: &'static [&'static str]) -> std::process::Output {
        let config = self.config.clone();
        let environment = self.environment.clone();
        tokio::task::spawn_blocking(move || pswatch(args, &config, &environment))
            .await
            .expect("join")
    }

    fn service(&self) -> Service {
        Service::start(&self.config, &self.environment, self.logs())
    }
}

/// A simulator serving `world`, a receiver, and a configuration watching the one for the other.
async fn start(world: World) -> (Simulator, Receiver, Setup) {
    let simulator = Simulator::start(world, Some(format!("tok-id:{TOKEN}")))
        .await
        .expect("simulator");
    let receiver = Receiver::start().await;
    let setup = Setup::new(&simulator, &receiver, "/hooks");
    (simulator, receiver, setup)
}

fn workflow_world(state: &str) -> World {
    let mut world = World::default();
    world
        .database_mut("acme", "commerce")
        .workflows
        .push(SimWorkflow::new(1, "move-customers", state));
    world
}

fn set_workflow(simulator: &Simulator, state: &str) {
    simulator.update(|world| {
        world
            .database_mut("acme", "commerce")
            .workflow_mut(1)
            .expect("workflow")
            .state = state.into();
    });
}

fn body(request: &Recorded) -> Value {
    serde_json::from_slice(&request.body).expect("json body")
}

/// `previous -> state` of each accepted webhook, after checking its signature.
fn webhook_transitions(requests: &[Recorded]) -> Vec<(String, String)> {
    let verifier = standardwebhooks::Webhook::new(SECRET).expect("verifier");
    requests
        .iter()
        .map(|request| {
            let mut headers = reqwest::header::HeaderMap::new();
            for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
                headers.insert(name, request.headers[name].parse().expect("header"));
            }
            verifier
                .verify(&request.body, &headers)
                .expect("signature verifies");
            let body = body(request);
            assert_eq!(
                body["data"]["id"].as_str(),
                Some(request.headers["webhook-id"].as_str())
            );
            (
                body["data"]["previous_state"]
                    .as_str()
                    .unwrap_or("null")
                    .to_owned(),
                body["data"]["state"].as_str().expect("state").to_owned(),
            )
        })
        .collect()
}

/// Checks that the transitions chain from `first` to `last` with no gap and no repeat.
#[track_caller]
fn assert_chain(transitions: &[(String, String)], first: &str, last: &str) {
    let mut expected_previous = first.to_owned();
    for (previous, state) in transitions {
        assert_eq!(
            previous, &expected_previous,
            "a gap or a repeat in {transitions:?}"
        );
        expected_previous = state.clone();
    }
    assert_eq!(expected_previous, last, "ends elsewhere: {transitions:?}");
}

/// The headlines of the Slack messages, first occurrence of each, in order of arrival.
fn slack_transitions(requests: &[Recorded]) -> Vec<(String, String)> {
    let mut seen = Vec::new();
    for request in requests
        .iter()
        .filter(|request| request.path == SLACK_PATH && request.status == 200)
    {
        let text = slack_text(body(request)["text"].as_str().expect("text"));
        for line in text.lines() {
            if !seen.iter().any(|known: &String| known == line) {
                seen.push(line.to_owned());
            }
        }
    }
    seen.iter()
        .map(|line| {
            let change = line.rsplit(": ").next().expect("change");
            let (previous, state) = change.split_once(" -> ").expect("previous -> state");
            (previous.to_owned(), state.to_owned())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_and_restarted_with_a_failing_receiver_it_still_delivers_every_transition_once_in_order(
) {
    let (simulator, receiver, setup) = start(workflow_world("pending")).await;
    let baseline = setup.run(&["once"]).await;
    assert!(
        baseline.status.success(),
        "{}",
        String::from_utf8_lossy(&baseline.stderr)
    );

    receiver.set_status(503);
    let states = [
        "copying",
        "running",
        "switched_replicas",
        "switched_primaries",
        "cutover",
        "completed",
    ];
    // Kill moments (ms after start), varied so that kills land in polls, commits and deliveries.
    let moments = [
        (90, 150),
        (300, 60),
        (40, 200),
        (500, 120),
        (150, 30),
        (700, 250),
        (60, 90),
        (250, 400),
    ];
    for (round, (before_change, after_change)) in moments.into_iter().enumerate() {
        if round == 4 {
            receiver.set_status(200);
        }
        let mut service = setup.service();
        tokio::time::sleep(Duration::from_millis(before_change)).await;
        if let Some(state) = states.get(round) {
            set_workflow(&simulator, state);
        }
        tokio::time::sleep(Duration::from_millis(after_change)).await;
        service.kill();
        // Sometimes the workflow moves on while pswatch is down.
        if round == 6 {
            set_workflow(&simulator, "completed");
        }
    }

    receiver.set_status(200);
    let mut service = setup.service();
    assert!(
        service
            .wait_for_log("watching", Duration::from_secs(10))
            .await,
        "{}",
        service.stderr()
    );
    let done = receiver
        .wait_until(Duration::from_secs(30), |requests| {
            let accepted: Vec<Recorded> = requests
                .iter()
                .filter(|request| {
                    request.path == "/hooks" && request.status == 200 && !request.duplicate
                })
                .cloned()
                .collect();
            webhook_transitions(&accepted)
                .last()
                .is_some_and(|(_, state)| state == "completed")
                && slack_transitions(requests)
                    .last()
                    .is_some_and(|(_, state)| state == "completed")
        })
        .await;
    let status = service.terminate(Duration::from_secs(25)).await;
    assert!(done, "not everything arrived; logs:\n{}", service.stderr());
    assert!(
        status.is_some_and(|status| status.success()),
        "SIGTERM did not stop it cleanly: {status:?}\n{}",
        service.stderr()
    );

    let webhooks = webhook_transitions(&receiver.accepted("/hooks"));
    assert_chain(&webhooks, "pending", "completed");
    assert_chain(
        &slack_transitions(&receiver.requests()),
        "pending",
        "completed",
    );
    let failures = receiver
        .requests()
        .iter()
        .filter(|request| request.status == 503)
        .count();
    assert!(
        failures > 0,
        "the receiver never failed; the test proved nothing"
    );

    let outbox = setup.run(&["outbox", "list"]).await;
    let listing = String::from_utf8_lossy(&outbox.stdout);
    assert!(
        listing.contains("pending deliveries: 0") && listing.contains("dead letters: 0"),
        "{listing}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn states_skipped_while_down_are_one_transition_from_the_last_seen_state() {
    let (simulator, receiver, setup) = start(workflow_world("running")).await;
    assert!(setup.run(&["once"]).await.status.success());
    for state in ["stopped", "running", "switched_replicas", "cutover"] {
        set_workflow(&simulator, state);
    }
    let output = setup.run(&["once"]).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        webhook_transitions(&receiver.accepted("/hooks")),
        [("running".to_owned(), "cutover".to_owned())]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn permanent_failures_become_dead_letters_that_can_be_listed_retried_and_dropped() {
    let (simulator, receiver, setup) = start(workflow_world("running")).await;
    assert!(setup.run(&["once"]).await.status.success());

    receiver.set_status(400);
    set_workflow(&simulator, "switched_replicas");
    let output = setup.run(&["once"]).await;
    assert_eq!(
        output.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let listing = String::from_utf8_lossy(&setup.run(&["outbox", "list"]).await.stdout).to_string();
    assert!(listing.contains("dead letters: 2"), "{listing}");
    assert!(
        listing.contains("the receiver refused it for good"),
        "{listing}"
    );
    assert!(listing.contains("HTTP 400"), "{listing}");
    assert!(
        listing.contains("acme/commerce workflow #1 move-customers: running -> switched_replicas"),
        "{listing}"
    );

    // Put them back and deliver them.
    receiver.set_status(200);
    let retried = setup.run(&["outbox", "retry", "--all-dead"]).await;
    assert!(String::from_utf8_lossy(&retried.stdout).contains("2 dead letters put back"));
    let output = setup.run(&["once"]).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(receiver.accepted("/hooks").len(), 1);

    // A dead letter can also be dropped for good.
    receiver.set_status(422);
    set_workflow(&simulator, "cutover");
    assert_eq!(setup.run(&["once"]).await.status.code(), Some(2));
    let listing = String::from_utf8_lossy(&setup.run(&["outbox", "list"]).await.stdout).to_string();
    let id = listing
        .lines()
        .skip_while(|line| !line.starts_with("dead letters"))
        .nth(2)
        .and_then(|line| line.split_whitespace().next())
        .expect("an id")
        .to_owned();
    let dropped = setup_run_owned(&setup, vec!["outbox".into(), "drop".into(), id.clone()]).await;
    assert!(String::from_utf8_lossy(&dropped.stdout).contains(&format!("entry {id} dropped")));
    let listing = String::from_utf8_lossy(&setup.run(&["outbox", "list"]).await.stdout).to_string();
    assert!(listing.contains("dead letters: 1"), "{listing}");
    let missing = setup_run_owned(&setup, vec!["outbox".into(), "drop".into(), id]).await;
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no outbox entry or dead letter"));
}

/// An outbox entry that cannot be read (a damaged disk, a record of a newer format) is set aside
/// with its bytes: the channel's other entries are delivered in order, and `/readyz`, the
/// metrics and `outbox list` say so.
#[tokio::test(flavor = "multi_thread")]
async fn an_unreadable_entry_is_quarantined_and_the_others_are_delivered() {
    let (simulator, receiver, setup) = start(workflow_world("running")).await;
    assert!(setup.run(&["once"]).await.status.success());
    receiver.set_status(503);
    for state in ["switched_replicas", "switched_primaries", "cutover"] {
        set_workflow(&simulator, state);
        assert_eq!(setup.run(&["once"]).await.status.code(), Some(2));
    }
    let damaged = {
        let store = store::Store::open(&setup.state()).expect("open the store");
        let ids: Vec<u64> = store
            .outbox_of("audit")
            .all()
            .await
            .expect("entries")
            .into_iter()
            .map(|entry| entry.id)
            .collect();
        assert_eq!(ids.len(), 3);
        store
            .damage_entry("audit", ids[1], b"{\"v\":1,\"record\":{\"id\":")
            .await
            .expect("damage");
        ids[1]
    };
    receiver.set_status(200);
    let mut service = setup.service();
    let base = service.admin_url().await;
    assert!(
        receiver
            .wait_until(Duration::from_secs(20), |_| receiver
                .accepted("/hooks")
                .len()
                >= 2)
            .await,
        "{}",
        service.stderr()
    );
    let delivered: Vec<String> = receiver
        .accepted("/hooks")
        .iter()
        .map(|request| {
            body(request)["data"]["state"]
                .as_str()
                .expect("state")
                .to_owned()
        })
        .collect();
    assert_eq!(delivered, ["switched_replicas", "cutover"]);
    let (status, reasons) = get(&format!("{base}/readyz")).await;
    assert_eq!(status, 503, "{reasons}");
    assert!(
        reasons.contains("1 record of the state store could not be read and is set aside"),
        "{reasons}"
    );
    let (_, metrics) = get(&format!("{base}/metrics")).await;
    assert!(
        metrics.contains("pswatch_store_quarantined_records 1"),
        "{metrics}"
    );
    assert!(service.terminate(Duration::from_secs(20)).await.is_some());
    let listing = String::from_utf8_lossy(&setup.run(&["outbox", "list"]).await.stdout).to_string();
    assert!(listing.contains("quarantined records: 1"), "{listing}");
    assert!(
        listing.contains(&format!("outbox entry {damaged} of channel audit")),
        "{listing}"
    );
    assert!(listing.contains("is damaged"), "{listing}");
}

/// A webhook channel sends its backlog in order, several entries a step: a receiver that takes
/// the first and fails the second gets the first once, and the rest wait behind the failure.
#[tokio::test(flavor = "multi_thread")]
async fn a_failure_inside_a_webhook_backlog_keeps_what_went_out_and_the_order() {
    let (simulator, receiver, setup) = start(workflow_world("running")).await;
    assert!(setup.run(&["once"]).await.status.success());
    receiver.set_status(503);
    let states = ["switched_replicas", "switched_primaries", "cutover"];
    for state in states {
        set_workflow(&simulator, state);
        assert_eq!(setup.run(&["once"]).await.status.code(), Some(2));
    }
    receiver.set_status(200);
    receiver.accept_only("/hooks", Some(1));
    // The head's retry is due after the 300 ms retry schedule.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(setup.run(&["once"]).await.status.code(), Some(2));
    let pending: Vec<String> = {
        let store = store::Store::open(&setup.state()).expect("open the store");
        store
            .outbox_of("audit")
            .all()
            .await
            .expect("entries")
            .into_iter()
            .map(|entry| match entry.event.kind {
                diff_engine::EventKind::WorkflowStateChanged { state, .. } => {
                    state.as_str().to_owned()
                }
                other => panic!("{other:?}"),
            })
            .collect()
    };
    assert_eq!(pending, ["switched_primaries", "cutover"]);
    receiver.accept_only("/hooks", None);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(setup.run(&["once"]).await.status.success());
    let accepted = receiver.accepted("/hooks");
    let delivered: Vec<&str> = accepted
        .iter()
        .map(|request| request.body.as_slice())
        .map(|body| {
            let body: Value = serde_json::from_slice(body).expect("json");
            match body["data"]["state"].as_str() {
                Some("switched_replicas") => "switched_replicas",
                Some("switched_primaries") => "switched_primaries",
                Some("cutover") => "cutover",
                other => panic!("{other:?}"),
            }
        })
        .collect();
    assert_eq!(delivered, states, "each once, in order");
    assert!(accepted.iter().all(|request| !request.duplicate));
}

async fn setup_run_owned(setup: &Setup, args: Vec<String>) -> std::process::Output {
    let config = setup.config.clone();
    let environment = setup.environment.clone();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        pswatch(&args, &config, &environment)
    })
    .await
    .expect("join")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_receiver_that_is_gone_disables_its_channel_until_it_is_reconfigured() {
    let (simulator, receiver, setup) = start(workflow_world("running")).await;
    assert!(setup.run(&["once"]).await.status.success());

    receiver.set_status_for("/hooks", Some(410));
    set_workflow(&simulator, "switched_replicas");
    let output = setup.run(&["once"]).await;
    let logs = String::from_utf8_lossy(&output.stderr).to_string();
    assert_eq!(output.status.code(), Some(2), "{logs}");
    assert!(
        logs.contains("CRITICAL: the receiver says the channel is gone (HTTP 410 Gone"),
        "{logs}"
    );

    // While disabled, the channel's new entries wait; Slack keeps receiving.
    receiver.set_status_for("/hooks", None);
    set_workflow(&simulator, "cutover");
    let output = setup.run(&["once"]).await;
    assert_eq!(
        output.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let to_hooks = |receiver: &Receiver| {
        receiver
            .requests()
            .iter()
            .filter(|r| r.path.starts_with("/hooks"))
            .count()
    };
    assert_eq!(to_hooks(&receiver), 1, "only the 410");
    assert_eq!(slack_transitions(&receiver.requests()).len(), 2);

    // A new URL is a reconfigured channel: it is enabled and its waiting entry goes out.
    setup.write(&simulator, &receiver, "/hooks/v2");
    let output = setup.run(&["once"]).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        webhook_transitions(&receiver.accepted("/hooks/v2")),
        [("switched_replicas".to_owned(), "cutover".to_owned())]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn twelve_operations_failing_together_make_one_slack_message_and_twelve_webhooks() {
    let mut world = World::default();
    let tables: Vec<String> = (1..=12)
        .map(|number| format!("table_{number:02}"))
        .collect();
    world
        .database_mut("acme", "commerce")
        .deploy_requests
        .push(SimDeployRequest {
            branch: "big-change".into(),
            operations: tables
                .iter()
                .map(|table| SimOperation::new(&format!("op-{table}"), table, "in_progress"))
                .collect(),
            ..SimDeployRequest::new(9, "in_progress")
        });
    let (simulator, receiver, setup) = start(world).await;
    assert!(setup.run(&["once"]).await.status.success());
    simulator.update(|world| {
        let request = world
            .database_mut("acme", "commerce")
            .deploy_request_mut(9)
            .expect("request");
        for operation in &mut request.operations {
            operation.state = "error".into();
            operation.deploy_errors = Some(format!(
                "Lock wait timeout exceeded on {}",
                operation.table_name
            ));
        }
    });
    let output = setup.run(&["once"]).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let slack: Vec<Recorded> = receiver
        .requests()
        .into_iter()
        .filter(|r| r.path == SLACK_PATH)
        .collect();
    assert_eq!(slack.len(), 1, "one message for the poll");
    let message = body(&slack[0]);
    for table in &tables {
        assert!(slack_text(message["text"].as_str().expect("text"))
            .contains(&format!("table {table}: in_progress -> error")));
    }
    assert!(message["blocks"].as_array().expect("blocks").len() <= 50);
    let hooks = receiver.accepted("/hooks");
    let ids: std::collections::BTreeSet<&str> = hooks
        .iter()
        .map(|r| r.headers["webhook-id"].as_str())
        .collect();
    assert_eq!(
        (hooks.len(), ids.len()),
        (12, 12),
        "one request per event, each with its own id"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_finishes_the_delivery_in_flight_and_exits() {
    let (simulator, receiver, setup) = start(workflow_world("running")).await;
    assert!(setup.run(&["once"]).await.status.success());
    set_workflow(&simulator, "cutover");
    receiver.set_delay(Duration::from_millis(1500));
    let mut service = setup.service();
    // Until the delivery is on its way, well before it finishes.
    assert!(
        service
            .wait_for_log("transition detected", Duration::from_secs(10))
            .await,
        "{}",
        service.stderr()
    );
    assert!(
        eventually(Duration::from_secs(10), || std::future::ready(
            (receiver.arrived() >= 1).then_some(())
        ))
        .await
        .is_some(),
        "{}",
        service.stderr()
    );
    let status = service.terminate(Duration::from_secs(25)).await;
    assert!(
        status.is_some_and(|status| status.success()),
        "{}",
        service.stderr()
    );
    assert!(service.stderr().contains("stopped"), "{}", service.stderr());
    assert_eq!(
        receiver.accepted("/hooks").len(),
        1,
        "the delivery in flight was finished"
    );
    let listing = String::from_utf8_lossy(&setup.run(&["outbox", "list"]).await.stdout).to_string();
    assert!(listing.contains("pending deliveries: 0"), "{listing}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_pauses_only_the_channel_that_got_it() {
    let (simulator, receiver, setup) = start(workflow_world("running")).await;
    assert!(setup.run(&["once"]).await.status.success());
    receiver.set_status_for("/slack", Some(429));
    set_workflow(&simulator, "cutover");
    let output = setup.run(&["once"]).await;
    assert_eq!(output.status.code(), Some(2), "Slack's entry waits");
    assert_eq!(
        receiver.accepted("/hooks").len(),
        1,
        "the webhook went out regardless"
    );
    let listing = String::from_utf8_lossy(&setup.run(&["outbox", "list"]).await.stdout).to_string();
    assert!(
        listing.contains("pending deliveries: 1") && listing.contains("ops-slack"),
        "{listing}"
    );
    assert!(listing.contains("HTTP 429"), "{listing}");
}

/// Slack's mrkdwn text as a person reads it: `&lt;`, `&gt;` and `&amp;` are what they escape.
fn slack_text(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}
