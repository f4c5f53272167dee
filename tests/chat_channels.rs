//! Discord and Google Chat end to end, each against a loopback receiver (wiremock): what
//! `pswatch once` posts for a workflow's changes and a failing deploy request, the threads and
//! query parameters each needs, `test-notify`, and what their refusals mean.

mod support;

use serde_json::Value;
use simulator::{SimDeployRequest, SimWorkflow, Simulator, World};
use support::config::ConfigBuilder;
use support::pswatch;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const DISCORD_TOKEN: &str = "D1sc0rdT0k3nS3cret";
const DISCORD_PATH: &str = "/api/webhooks/4242/D1sc0rdT0k3nS3cret";
const CHAT_PATH: &str = "/v1/spaces/AAAA/messages";
const CHAT_TOKEN: &str = "Ch4tT0k3nS3cret";

struct Setup {
    directory: tempfile::TempDir,
    config: std::path::PathBuf,
}

impl Setup {
    fn new(simulator: &Simulator, discord: &MockServer, chat: &MockServer) -> Self {
        let directory = tempfile::tempdir().expect("tempdir");
        let config = ConfigBuilder::new(&simulator.api_url(), &directory.path().join("state"))
            .watch("acme", &["commerce"])
            .channel(
                "discord",
                "discord",
                &[(
                    "webhook_url",
                    format!("{}{DISCORD_PATH}", discord.uri()).into(),
                )],
            )
            .with("min_interval", "10ms")
            .with("retry_schedule", vec!["50ms"])
            .channel(
                "chat",
                "google_chat",
                &[(
                    "webhook_url",
                    format!("{}{CHAT_PATH}?key=AIzaK3y&token={CHAT_TOKEN}", chat.uri()).into(),
                )],
            )
            .with("min_interval", "10ms")
            .route(&["discord", "chat"])
            .write(&directory.path().join("pswatch.toml"));
        Self { directory, config }
    }

    async fn run(&self, args: &[&str]) -> std::process::Output {
        let config = self.config.clone();
        let args: Vec<String> = args.iter().map(|&argument| argument.to_owned()).collect();
        let output = tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            pswatch(&args, &config, &[])
        })
        .await
        .expect("join");
        let logs = String::from_utf8_lossy(&output.stderr).into_owned();
        for secret in [DISCORD_TOKEN, CHAT_TOKEN] {
            assert!(!logs.contains(secret), "a secret in the logs: {logs}");
        }
        output
    }
}

async fn bodies(server: &MockServer) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|request| serde_json::from_slice(&request.body).expect("json"))
        .collect()
}

fn world() -> World {
    let mut world = World::default();
    let database = world.database_mut("acme", "commerce");
    database
        .workflows
        .push(SimWorkflow::new(3, "move-customers", "copying"));
    database
        .deploy_requests
        .push(SimDeployRequest::new(5, "in_progress").with_operation(
            "op-orders",
            "orders",
            "in_progress",
        ));
    world
}

#[tokio::test(flavor = "multi_thread")]
async fn changes_reach_discord_as_embeds_and_google_chat_in_threads() {
    let simulator = Simulator::start(world(), None).await.expect("simulator");
    let (discord, chat) = (MockServer::start().await, MockServer::start().await);
    Mock::given(method("POST"))
        .and(path(DISCORD_PATH))
        .and(query_param("wait", "true"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": "1"})))
        .mount(&discord)
        .await;
    Mock::given(method("POST"))
        .and(path(CHAT_PATH))
        .and(query_param("key", "AIzaK3y"))
        .and(query_param("token", CHAT_TOKEN))
        .and(query_param(
            "messageReplyOption",
            "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"name": "m"})))
        .mount(&chat)
        .await;
    let setup = Setup::new(&simulator, &discord, &chat);
    assert!(setup.run(&["once"]).await.status.success(), "baseline");
    simulator.update(|world| {
        let database = world.database_mut("acme", "commerce");
        database.workflow_mut(3).expect("workflow").state = "running".into();
        let request = database.deploy_request_mut(5).expect("deploy request");
        request.deployment_state = "complete_error".into();
        request.operations[0].state = "error".into();
        request.operations[0].deploy_errors =
            Some("Duplicate entry 'A-1' for key <idx_ref> @everyone".into());
    });
    let output = setup.run(&["once"]).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let messages = bodies(&discord).await;
    assert_eq!(messages.len(), 1, "one message a poll: {messages:#?}");
    let message = &messages[0];
    assert_eq!(message["allowed_mentions"]["parse"], serde_json::json!([]));
    let embeds = message["embeds"].as_array().expect("embeds");
    assert_eq!(embeds.len(), 3, "an embed an event: {message:#}");
    let text = message.to_string();
    assert!(
        text.contains("workflow #3 move-customers: copying -> running"),
        "{text}"
    );
    assert!(
        text.contains("Duplicate entry 'A-1' for key <idx_ref> @everyone"),
        "{text}"
    );
    for embed in embeds {
        assert!(embed["title"]
            .as_str()
            .is_some_and(|title| title.chars().count() <= 256));
        assert!(embed["color"].is_u64() && embed["url"].is_string());
    }

    let cards = bodies(&chat).await;
    assert_eq!(cards.len(), 3, "a message an event: {cards:#?}");
    let threads: Vec<&str> = cards
        .iter()
        .map(|card| card["thread"]["threadKey"].as_str().expect("thread"))
        .collect();
    assert!(
        threads.contains(&"pswatch/acme/commerce/workflow/3"),
        "{threads:?}"
    );
    assert_eq!(
        threads
            .iter()
            .filter(|thread| **thread == "pswatch/acme/commerce/deploy_request/5")
            .count(),
        2,
        "the deploy request and its operation share a thread: {threads:?}"
    );
    let failed = cards
        .iter()
        .find(|card| card.to_string().contains("Duplicate entry"))
        .expect("the operation's card");
    let widgets = failed["cardsV2"][0]["card"]["sections"][0]["widgets"].to_string();
    assert!(widgets.contains("&lt;idx_ref&gt;"), "escaped: {widgets}");
    assert!(widgets.contains("Open in PlanetScale"), "{widgets}");
    // What reached the space is a message as the Chat API defines it, thread included.
    let problems = notifier::vendor_check::google_chat_problems(&cards);
    assert!(problems.is_empty(), "{problems:#?}");

    // test-notify: one message each, Google Chat's in no thread.
    discord.reset().await;
    chat.reset().await;
    for server in [&discord, &chat] {
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({})))
            .mount(server)
            .await;
    }
    let output = setup.run(&["test-notify"]).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let (tested_discord, tested_chat) = (bodies(&discord).await, bodies(&chat).await);
    assert_eq!((tested_discord.len(), tested_chat.len()), (1, 1));
    assert!(tested_discord[0]
        .to_string()
        .contains("pswatch test message"));
    assert!(tested_chat[0].get("thread").is_none());
    let problems = notifier::vendor_check::google_chat_problems(&tested_chat);
    assert!(problems.is_empty(), "{problems:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn discord_s_rate_limit_is_waited_and_a_deleted_webhook_disables_the_channel() {
    let simulator = Simulator::start(world(), None).await.expect("simulator");
    let (discord, chat) = (MockServer::start().await, MockServer::start().await);
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({})))
        .mount(&chat)
        .await;
    // Rate limited, with Discord's retry_after in the body and no Retry-After header.
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).set_body_json(serde_json::json!({
            "message": "You are being rate limited.", "retry_after": 30.5, "global": false,
        })))
        .mount(&discord)
        .await;
    let setup = Setup::new(&simulator, &discord, &chat);
    assert!(setup.run(&["once"]).await.status.success(), "baseline");
    simulator.update(|world| {
        world
            .database_mut("acme", "commerce")
            .workflow_mut(3)
            .expect("workflow")
            .state = "running".into();
    });
    let output = setup.run(&["once"]).await;
    let logs = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(
        output.status.code(),
        Some(2),
        "a delivery stays pending: {logs}"
    );
    let line = logs
        .lines()
        .find(|line| line.contains("it will be retried"))
        .unwrap_or_else(|| panic!("no retry: {logs}"));
    // `retry_at=2026-12-01 21:45:10.5 +00:00:00`, or `2026-12-02 0:37:33.5 …` before ten.
    let retry_at: Vec<&str> = line
        .split("retry_at=")
        .nth(1)
        .map(|rest| rest.split_whitespace().take(2).collect())
        .expect("retry_at");
    let format = time::macros::format_description!(
        "[year]-[month]-[day] [hour padding:none]:[minute]:[second].[subsecond]"
    );
    let retry_at = time::PrimitiveDateTime::parse(&retry_at.join(" "), format)
        .unwrap_or_else(|error| panic!("{line}: {error}"))
        .assume_utc();
    let wait = retry_at - time::OffsetDateTime::now_utc();
    assert!(
        wait > time::Duration::seconds(20),
        "Discord's retry_after (30.5 s) is waited, not the 50 ms schedule: {wait}"
    );

    // The webhook deleted: Discord's "Unknown Webhook" disables the channel.
    discord.reset().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(404).set_body_json(serde_json::json!({
            "message": "Unknown Webhook", "code": 10015,
        })))
        .mount(&discord)
        .await;
    // The rate-limited entry waits half a minute: drop it, and let a new transition come.
    let listed = setup.run(&["outbox", "list"]).await;
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    let id = listed
        .lines()
        .find(|line| line.contains("discord"))
        .and_then(|line| line.split_whitespace().next())
        .unwrap_or_else(|| panic!("no pending entry: {listed}"))
        .to_owned();
    assert!(setup.run(&["outbox", "drop", &id]).await.status.success());
    simulator.update(|world| {
        world
            .database_mut("acme", "commerce")
            .workflow_mut(3)
            .expect("workflow")
            .state = "switched_replicas".into();
    });
    let output = setup.run(&["once"]).await;
    let logs = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        logs.contains("the receiver says the channel is gone"),
        "{logs}"
    );
    drop(setup.directory);
}
