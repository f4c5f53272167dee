//! Where teams work, end to end: a workflow's whole life and a failing deploy request, watched
//! by `pswatch once` after `pswatch once` (each a new process), reach a Slack thread per
//! resource through the Web API, Microsoft Teams as Adaptive Cards, and PagerDuty as one
//! incident per resource that resolves itself.

mod support;

use serde_json::Value;
use simulator::{SimDeployRequest, SimWorkflow, Simulator, World};
use support::config::ConfigBuilder;
use support::pswatch;
use support::receiver::Receiver;
use support::slack::SlackApi;

const BOT_TOKEN: &str = "xoxb-2468-1357-B0tT0k3nS3cr3t";
const ROUTING_KEY: &str = "R0ut1ngK3yS3cr3t0000000000000000";
const TEAMS_SIGNATURE: &str = "T3amsS1gn4tur3";

struct Setup {
    _directory: tempfile::TempDir,
    config: std::path::PathBuf,
}

impl Setup {
    fn new(simulator: &Simulator, slack: &SlackApi, receiver: &Receiver) -> Self {
        let directory = tempfile::tempdir().expect("tempdir");
        let config = ConfigBuilder::new(&simulator.api_url(), &directory.path().join("state"))
            .watch("acme", &["commerce"])
            .channel(
                "slack",
                "slack",
                &[
                    ("bot_token", BOT_TOKEN.into()),
                    ("channel", "C0123456789".into()),
                    ("api_url", slack.url.clone().into()),
                ],
            )
            .with("min_interval", "10ms")
            .channel(
                "teams",
                "teams",
                &[(
                    "webhook_url",
                    format!(
                        "{}/teams/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig={TEAMS_SIGNATURE}",
                        receiver.url
                    )
                    .into(),
                )],
            )
            .channel(
                "oncall",
                "pagerduty",
                &[
                    ("routing_key", ROUTING_KEY.into()),
                    ("api_url", format!("{}/pagerduty", receiver.url).into()),
                ],
            )
            .with("min_interval", "10ms")
            .route(&["slack", "teams", "oncall"])
            .write(&directory.path().join("pswatch.toml"));
        Self {
            _directory: directory,
            config,
        }
    }

    async fn once(&self) {
        let config = self.config.clone();
        let output = tokio::task::spawn_blocking(move || pswatch(&["once"], &config, &[]))
            .await
            .expect("join");
        let logs = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(output.status.success(), "{logs}");
        for secret in [BOT_TOKEN, ROUTING_KEY, TEAMS_SIGNATURE] {
            assert!(!logs.contains(secret), "a secret in the logs: {logs}");
        }
    }
}

fn bodies(receiver: &Receiver, path: &str) -> Vec<Value> {
    receiver
        .accepted(path)
        .iter()
        .map(|request| serde_json::from_slice(&request.body).expect("json"))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_workflows_life_is_one_thread_one_incident_and_valid_cards() {
    let mut world = World::default();
    let database = world.database_mut("acme", "commerce");
    database
        .workflows
        .push(SimWorkflow::new(3, "move-customers", "copying"));
    database
        .deploy_requests
        .push(SimDeployRequest::new(5, "pending").with_operation("op-orders", "orders", "pending"));
    let simulator = Simulator::start(world, None).await.expect("simulator");
    let slack = SlackApi::start(BOT_TOKEN).await;
    let receiver = Receiver::start().await;
    receiver.set_status_for("/teams", Some(202));
    receiver.set_status_for("/pagerduty", Some(202));
    let setup = Setup::new(&simulator, &slack, &receiver);

    // The baseline: nothing is sent.
    setup.once().await;
    assert!(slack.calls().is_empty());
    assert!(receiver.requests().is_empty());

    let steps = [
        "running",
        "error",
        "running",
        "switched_primaries",
        "completed",
    ];
    for (step, state) in steps.into_iter().enumerate() {
        simulator.update(|world| {
            let database = world.database_mut("acme", "commerce");
            let workflow = database.workflow_mut(3).expect("#3");
            workflow.state = state.into();
            workflow.workflow_errors = (state == "error")
                .then(|| "vreplication: lost connection to the source keyspace".into());
            let request = database.deploy_request_mut(5).expect("#5");
            match step {
                0 => {
                    request.deployment_state = "in_progress".into();
                    request.operation_mut("orders").expect("orders").state = "in_progress".into();
                }
                1 => {
                    request.deployment_state = "complete_error".into();
                    let orders = request.operation_mut("orders").expect("orders");
                    orders.state = "error".into();
                    orders.deploy_errors =
                        Some("Duplicate entry 'A-1042' for key 'orders.idx_ref'".into());
                }
                _ => {}
            }
        });
        setup.once().await;
    }

    // Slack: one thread per resource, the first message of each kept current.
    let calls = slack.calls();
    let tops: Vec<_> = calls
        .iter()
        .filter(|call| call.method == "chat.postMessage" && call.thread_ts().is_none())
        .collect();
    assert_eq!(tops.len(), 2, "one thread per resource: {calls:#?}");
    let workflow_ts = &tops
        .iter()
        .find(|call| call.text().contains("workflow #3"))
        .expect("the workflow's thread")
        .ts;
    let request_ts = &tops
        .iter()
        .find(|call| call.text().contains("deploy request #5"))
        .expect("the deploy request's thread")
        .ts;
    assert_ne!(workflow_ts, request_ts);
    let replies = |ts: &str| -> Vec<&support::slack::Call> {
        calls
            .iter()
            .filter(|call| call.thread_ts() == Some(ts))
            .collect()
    };
    let workflow_replies = replies(workflow_ts);
    assert_eq!(
        workflow_replies.len(),
        4,
        "error, running, switched_primaries, completed"
    );
    let broadcast: Vec<bool> = workflow_replies
        .iter()
        .map(|call| call.body["reply_broadcast"] == true)
        .collect();
    assert_eq!(
        broadcast,
        [true, false, false, false],
        "the error is shown in the channel"
    );
    let last_update = calls
        .iter()
        .rev()
        .find(|call| call.method == "chat.update" && &call.ts == workflow_ts)
        .expect("the workflow's first message is updated");
    assert!(
        last_update
            .text()
            .ends_with("workflow #3 move-customers: completed"),
        "{}",
        last_update.text()
    );
    let request_replies = replies(request_ts);
    assert_eq!(request_replies.len(), 1, "one reply for the failed deploy");
    assert_eq!(request_replies[0].body["reply_broadcast"], true);
    let failure = request_replies[0].body["blocks"].to_string();
    assert!(failure.contains("table orders"), "{failure}");
    assert!(failure.contains("complete_error"), "{failure}");
    // Every message passes Slack's own validation.
    let messages: Vec<Value> = calls.iter().map(|call| call.body.clone()).collect();
    let problems = notifier::vendor_check::slack_problems(&messages);
    assert!(problems.is_empty(), "{problems:#?}");

    // Teams: a valid Adaptive Card for each poll that saw a change.
    let cards = bodies(
        &receiver,
        "/teams/workflows/abc/triggers/manual/paths/invoke",
    );
    assert_eq!(cards.len(), steps.len());
    let problems = notifier::vendor_check::adaptive_card_problems(&cards);
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(cards[1]
        .to_string()
        .contains("lost connection to the source keyspace"));

    // PagerDuty: the workflow's incident opens at the error and resolves when it runs again;
    // the deploy request's opens once and stays open.
    let pages: Vec<(String, String)> = bodies(&receiver, "/pagerduty/v2/enqueue")
        .iter()
        .map(|body| {
            assert_eq!(body["routing_key"], ROUTING_KEY);
            (
                body["event_action"].as_str().expect("action").to_owned(),
                body["dedup_key"].as_str().expect("dedup_key").to_owned(),
            )
        })
        .collect();
    let workflow_key = "pswatch/acme/commerce/workflow/3";
    let request_key = "pswatch/acme/commerce/deploy_request/5";
    let of = |key: &str| -> Vec<&str> {
        pages
            .iter()
            .filter(|(_, dedup_key)| dedup_key == key)
            .map(|(action, _)| action.as_str())
            .collect()
    };
    assert_eq!(of(workflow_key), ["trigger", "resolve"], "{pages:?}");
    assert_eq!(of(request_key), ["trigger"], "{pages:?}");
    assert_eq!(
        pages.len(),
        3,
        "informational events page nobody: {pages:?}"
    );
}

/// `test-notify` reaches every kind: a top-level Slack message (no thread started), a Teams
/// card, and a PagerDuty test incident opened and resolved at once.
#[tokio::test(flavor = "multi_thread")]
async fn test_notify_reaches_slack_teams_and_pagerduty() {
    let simulator = Simulator::start(World::default(), None)
        .await
        .expect("simulator");
    let slack = SlackApi::start(BOT_TOKEN).await;
    let receiver = Receiver::start().await;
    receiver.set_status_for("/teams", Some(202));
    receiver.set_status_for("/pagerduty", Some(202));
    let setup = Setup::new(&simulator, &slack, &receiver);
    let config = setup.config.clone();
    let output = tokio::task::spawn_blocking(move || pswatch(&["test-notify"], &config, &[]))
        .await
        .expect("join");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let calls = slack.calls();
    assert_eq!(calls.len(), 1);
    assert!(calls[0].thread_ts().is_none());
    assert!(calls[0].text().contains("test message"));
    let cards = bodies(
        &receiver,
        "/teams/workflows/abc/triggers/manual/paths/invoke",
    );
    assert_eq!(cards.len(), 1);
    assert!(notifier::vendor_check::adaptive_card_problems(&cards).is_empty());
    let pages: Vec<Value> = bodies(&receiver, "/pagerduty/v2/enqueue");
    let actions: Vec<&str> = pages
        .iter()
        .map(|page| page["event_action"].as_str().expect("action"))
        .collect();
    assert_eq!(actions, ["trigger", "resolve"]);
    assert_eq!(pages[0]["dedup_key"], pages[1]["dedup_key"]);
    assert_eq!(pages[0]["payload"]["severity"], "info");
}
