//! Acting from Slack, through the binary: a Slack channel of the Web API with its app's
//! signing secret puts buttons on its threads; clicks reach `POST /slack/interactions` on the
//! receiver, signed as Slack signs them, and silence, acknowledge or (for an allowed user
//! only) cut over against the simulator. Forged, stale and altered requests, and users not
//! allowed, change nothing.

mod support;

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use simulator::{SimDeployRequest, SimWorkflow, World};
use support::config::ConfigBuilder;
use support::fleet::Fleet;
use support::slack::SlackApi;
use support::{eventually, Service};

const BOT_TOKEN: &str = "xoxb-1357-2468-SlackB0tT0ken";
const SIGNING_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const ALLOWED: &str = "UALLOWED01";

/// Slack's signature of `body` at `timestamp` with `secret`.
fn slack_signature(body: &str, timestamp: i64, secret: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(format!("v0:{timestamp}:{body}").as_bytes());
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

/// The form body Slack posts when `user` clicks a button with `value`.
fn click_body(value: &str, user: &str) -> String {
    let payload = json!({
        "type": "block_actions",
        "user": {"id": user, "username": format!("name-of-{user}"), "team_id": "T0001"},
        "channel": {"id": "C0123456789"},
        "actions": [{"type": "button", "action_id": "x", "value": value, "action_ts": "1.2"}],
        "response_url": "https://hooks.slack.com/actions/T0001/1/xyz",
    });
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", &payload.to_string())
        .finish()
}

struct Clicker {
    url: String,
    client: reqwest::Client,
}

impl Clicker {
    /// Posts `body` signed at `age` seconds ago with `secret`; the status.
    async fn post(&self, body: &str, age: i64, secret: &str) -> u16 {
        let timestamp = time::OffsetDateTime::now_utc().unix_timestamp() - age;
        self.client
            .post(&self.url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-slack-request-timestamp", timestamp.to_string())
            .header(
                "x-slack-signature",
                slack_signature(body, timestamp, secret),
            )
            .body(body.to_owned())
            .send()
            .await
            .expect("answered")
            .status()
            .as_u16()
    }

    async fn click(&self, value: &str, user: &str) -> u16 {
        self.post(&click_body(value, user), 0, SIGNING_SECRET).await
    }
}

/// The value of the button `action_id` on the latest first message of a thread that has it.
fn button(slack: &SlackApi, action_id: &str, about: &str) -> Option<String> {
    slack
        .calls()
        .iter()
        .rev()
        .filter(|call| call.thread_ts().is_none() && call.body.to_string().contains(about))
        .find_map(|call| {
            call.body["blocks"]
                .as_array()?
                .iter()
                .filter(|block| block["type"] == "actions")
                .flat_map(|block| block["elements"].as_array().cloned().unwrap_or_default())
                .find(|element| element["action_id"] == action_id)
                .and_then(|element| element["value"].as_str().map(str::to_owned))
        })
}

/// The notes pswatch posted in threads (replies that are not events' messages).
fn notes(slack: &SlackApi) -> Vec<String> {
    slack
        .calls()
        .iter()
        .filter(|call| {
            call.method == "chat.postMessage"
                && call.body["blocks"][0]["type"] == "section"
                && call.body["blocks"]
                    .as_array()
                    .is_some_and(|blocks| blocks.len() == 1)
        })
        .map(|call| call.text().to_owned())
        .collect()
}

async fn wait_for_note(slack: &SlackApi, text: &str) -> String {
    eventually(Duration::from_secs(15), || {
        std::future::ready(notes(slack).into_iter().find(|note| note.contains(text)))
    })
    .await
    .unwrap_or_else(|| panic!("no note with {text:?}: {:#?}", notes(slack)))
}

/// The fleet on `world`, a Slack stand-in, and pswatch running with a Slack channel that takes
/// actions (cut over for `ALLOWED`), its configuration changed by `more`; its baseline recorded.
async fn start(
    world: World,
    more: impl FnOnce(ConfigBuilder) -> ConfigBuilder,
) -> (Fleet, SlackApi, Service, Clicker) {
    start_offering(world, &["cutover"], more).await
}

/// [`start`], the channel offering `actions`.
async fn start_offering(
    world: World,
    actions: &[&str],
    more: impl FnOnce(ConfigBuilder) -> ConfigBuilder,
) -> (Fleet, SlackApi, Service, Clicker) {
    let fleet = Fleet::start(world).await;
    let slack = SlackApi::start(BOT_TOKEN).await;
    let config = fleet.write(
        more(fleet.config("200ms"))
            .set("receiver.listen", "127.0.0.1:0")
            .set("receiver.secrets", vec!["ps-webhook-secret-for-tests"])
            .watch("acme", &["commerce"])
            .channel(
                "ops",
                "slack",
                &[
                    ("bot_token", BOT_TOKEN.into()),
                    ("channel", "C0123456789".into()),
                    ("api_url", slack.url.clone().into()),
                    ("signing_secret", SIGNING_SECRET.into()),
                    ("actions", actions.to_vec().into()),
                    ("allowed_users", vec![ALLOWED].into()),
                ],
            )
            .with("min_interval", "10ms")
            .route(&["ops"]),
    );
    let service = Service::start(&config, &[], fleet.directory.path());
    service.logged("baseline recorded").await;
    let receiver = service.receiver_url().await;
    let clicker = Clicker {
        url: receiver.replace("/planetscale", "/slack/interactions"),
        client: reqwest::Client::new(),
    };
    (fleet, slack, service, clicker)
}

#[tokio::test(flavor = "multi_thread")]
async fn buttons_silence_acknowledge_and_cut_over_for_allowed_users_only() {
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
    let (fleet, slack, service, clicker) =
        start(world, |config| config.set("alerts.cutover_reminder", "1s")).await;
    fleet.simulator.update(|world| {
        world
            .database_mut("acme", "commerce")
            .workflow_mut(3)
            .expect("workflow")
            .state = "running".into();
    });
    let cutover = eventually(Duration::from_secs(15), || {
        std::future::ready(button(&slack, "pswatch_cutover", "workflow #3"))
    })
    .await
    .unwrap_or_else(|| panic!("no Cut over button: {:#?}", slack.calls()));
    let silence = button(&slack, "pswatch_silence", "workflow #3").expect("a Silence button");
    assert!(
        slack
            .calls()
            .iter()
            .any(|call| call.body.to_string().contains("\"confirm\"")),
        "cutover asks for Slack's confirmation"
    );
    let workflow_state = || {
        fleet.simulator.update(|world| {
            world
                .database_mut("acme", "commerce")
                .workflow_mut(3)
                .expect("workflow")
                .state
                .clone()
        })
    };

    // Forged, stale, unsigned and altered requests: 401, and nothing changes.
    let body = click_body(&cutover, ALLOWED);
    assert_eq!(clicker.post(&body, 0, "not-the-secret").await, 401);
    assert_eq!(clicker.post(&body, 6 * 60, SIGNING_SECRET).await, 401);
    let unsigned = clicker
        .client
        .post(&clicker.url)
        .body(body.clone())
        .send()
        .await
        .expect("answered")
        .status()
        .as_u16();
    assert_eq!(unsigned, 401);
    let altered = cutover.replacen("workflow/3", "workflow/4", 1);
    assert_ne!(altered, cutover);
    assert_eq!(clicker.click(&altered, ALLOWED).await, 401);
    // Someone not among allowed_users: answered, refused in the thread, nothing changes.
    assert_eq!(clicker.click(&cutover, "UOTHER0001").await, 200);
    let refused = wait_for_note(&slack, "may not cut over").await;
    assert!(refused.contains("<@UOTHER0001>"), "{refused}");
    assert_eq!(workflow_state(), "running");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        workflow_state(),
        "running",
        "the forged and refused ones did nothing"
    );
    assert!(service
        .stderr()
        .contains("a button value pswatch did not sign"));

    // Silence 1h: a silence of the database, its comment naming the user; the thread says so.
    assert_eq!(clicker.click(&silence, ALLOWED).await, 200);
    let said = wait_for_note(&slack, "silenced acme/commerce for an hour").await;
    assert!(said.contains(&format!("<@{ALLOWED}>")), "{said}");
    let admin = service.admin_url().await;
    let status: Value = reqwest::get(format!("{admin}/api/status"))
        .await
        .expect("status")
        .json()
        .await
        .expect("json");
    let comment = status["silences"][0]["comment"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        comment.contains(ALLOWED) && comment.contains("name-of-"),
        "{status:#}"
    );
    assert_eq!(status["silences"][0]["database"], "acme/commerce");

    // Cut over by an allowed user: PlanetScale is asked, and the thread says so.
    assert_eq!(clicker.click(&cutover, ALLOWED).await, 200);
    wait_for_note(&slack, "cut over workflow #3: PlanetScale accepted it").await;
    assert_eq!(workflow_state(), "cutover");
    assert!(service
        .stderr()
        .contains("cut over from Slack: PlanetScale accepted it"));
    assert!(service.stderr().contains(&format!("slack_user={ALLOWED}")));

    // A deploy request waiting for its cutover is reminded every second until acknowledged.
    // The silence is expired first, so the reminders are delivered.
    let silence_id = status["silences"][0]["id"].as_str().expect("id").to_owned();
    let expired = reqwest::Client::new()
        .post(format!("{admin}/api/silences/{silence_id}/expire"))
        .header("content-type", "application/json")
        .send()
        .await
        .expect("expire")
        .status();
    assert!(expired.is_success(), "{expired}");
    fleet.simulator.update(|world| {
        let request = world
            .database_mut("acme", "commerce")
            .deploy_request_mut(5)
            .expect("deploy request");
        request.deployment_state = "pending_cutover".into();
        request.operations[0].state = "complete".into();
    });
    let acknowledge = eventually(Duration::from_secs(20), || {
        std::future::ready(button(&slack, "pswatch_acknowledge", "deploy request #5"))
    })
    .await
    .unwrap_or_else(|| panic!("no Acknowledge button: {:#?}", slack.calls()));
    let reminders = || {
        slack
            .calls()
            .iter()
            .filter(|call| call.body.to_string().contains("waiting for its cutover"))
            .count()
    };
    assert_eq!(clicker.click(&acknowledge, ALLOWED).await, 200);
    wait_for_note(&slack, "acknowledged deploy request #5").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = reminders();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(reminders(), after, "no reminder after the acknowledgement");
    assert!(service.stderr().contains("reminder held back"));

    // A token without write access: PlanetScale's refusal is posted in the thread.
    fleet.simulator.update(|world| {
        world.database_mut("acme", "commerce").actions_read_only = true;
    });
    let complete =
        button(&slack, "pswatch_cutover", "deploy request #5").expect("a Cut over button");
    assert_eq!(clicker.click(&complete, ALLOWED).await, 200);
    let refused = wait_for_note(&slack, "PlanetScale refused").await;
    assert!(refused.contains("deploy request #5"), "{refused}");
    let state = fleet.simulator.update(|world| {
        world
            .database_mut("acme", "commerce")
            .deploy_request_mut(5)
            .expect("deploy request")
            .deployment_state
            .clone()
    });
    assert_eq!(state, "pending_cutover");

    // A new wait is a new episode: reminded again, whatever was acknowledged of the last one.
    let held = reminders();
    let set_state = |state: &'static str| {
        fleet.simulator.update(|world| {
            world
                .database_mut("acme", "commerce")
                .deploy_request_mut(5)
                .expect("deploy request")
                .deployment_state = state.into();
        });
    };
    set_state("in_progress_cutover");
    let moved = eventually(Duration::from_secs(15), || {
        std::future::ready(
            slack
                .calls()
                .iter()
                .any(|call| call.body.to_string().contains("in_progress_cutover"))
                .then_some(()),
        )
    })
    .await;
    assert!(
        moved.is_some(),
        "no message of the cutover: {:#?}",
        slack.calls()
    );
    assert_eq!(reminders(), held);
    set_state("pending_cutover");
    let reminded = eventually(Duration::from_secs(15), || {
        std::future::ready((reminders() > held).then_some(()))
    })
    .await;
    assert!(
        reminded.is_some(),
        "no reminder of the new wait: {}",
        service.stderr()
    );
}

/// The form body of a click on a button of the message `ts`, as Slack sends it from a message.
fn click_on_message(value: &str, user: &str, ts: &str) -> String {
    let payload = json!({
        "type": "block_actions",
        "user": {"id": user, "username": format!("name-of-{user}"), "team_id": "T0001"},
        "container": {"type": "message", "message_ts": ts, "channel_id": "C0123456789"},
        "message": {"ts": ts, "type": "message"},
        "channel": {"id": "C0123456789"},
        "actions": [{"type": "button", "action_id": "x", "value": value, "action_ts": "1.2"}],
    });
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", &payload.to_string())
        .finish()
}

/// One Cut over click arriving three times at once and once more later (Slack's retries, a
/// double click, a replay) asks PlanetScale once; a click after the workflow has moved on
/// asks nothing and says why in the thread.
#[tokio::test(flavor = "multi_thread")]
async fn a_click_acts_at_most_once_and_never_on_a_resource_that_moved_on() {
    let mut world = World::default();
    world
        .database_mut("acme", "commerce")
        .workflows
        .push(SimWorkflow::new(3, "move-customers", "copying"));
    let (fleet, slack, service, clicker) = start(world, |config| config).await;
    let set_state = |state: &'static str| {
        fleet.simulator.update(|world| {
            world
                .database_mut("acme", "commerce")
                .workflow_mut(3)
                .expect("workflow")
                .state = state.into();
        })
    };
    set_state("running");
    let cutover = eventually(Duration::from_secs(15), || {
        std::future::ready(button(&slack, "pswatch_cutover", "workflow #3"))
    })
    .await
    .unwrap_or_else(|| panic!("no Cut over button: {:#?}", slack.calls()));

    let body = click_on_message(&cutover, ALLOWED, "1765000000.000100");
    let copies: Vec<_> = (0..3)
        .map(|_| {
            let clicker = Clicker {
                url: clicker.url.clone(),
                client: clicker.client.clone(),
            };
            let body = body.clone();
            tokio::spawn(async move { clicker.post(&body, 0, SIGNING_SECRET).await })
        })
        .collect();
    for copy in copies {
        assert_eq!(copy.await.expect("sent"), 200, "every copy is answered");
    }
    wait_for_note(&slack, "cut over workflow #3: PlanetScale accepted it").await;
    assert_eq!(clicker.post(&body, 0, SIGNING_SECRET).await, 200);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        fleet.simulator.requests_to("workflow_cutover"),
        1,
        "PlanetScale was asked once: {}",
        service.stderr()
    );
    assert_eq!(
        notes(&slack)
            .iter()
            .filter(|note| note.contains("PlanetScale accepted it"))
            .count(),
        1,
        "{:#?}",
        notes(&slack)
    );
    assert!(service.stderr().contains("not done again"));

    // The workflow completes; a click on another message with the same button (an older
    // message of the thread) reads the state first, asks nothing and says why.
    set_state("completed");
    let late = click_on_message(&cutover, ALLOWED, "1765000000.000200");
    assert_eq!(clicker.post(&late, 0, SIGNING_SECRET).await, 200);
    let said = wait_for_note(&slack, "not waiting for a cutover").await;
    assert!(said.contains("workflow #3 is `completed` now"), "{said}");
    assert_eq!(fleet.simulator.requests_to("workflow_cutover"), 1);
}

/// A timer's firings carry Acknowledge: clicked, the timer stops for this stay of the
/// workflow in its state; a new stay fires again.
#[tokio::test(flavor = "multi_thread")]
async fn acknowledge_stops_a_timer_for_the_stay_it_fired_in() {
    let mut world = World::default();
    world
        .database_mut("acme", "commerce")
        .workflows
        .push(SimWorkflow::new(3, "move-customers", "running"));
    let (fleet, slack, service, clicker) = start(world, |config| {
        config
            .timer("stuck", &["workflow"], &["error"], "1s")
            .timer_with("repeat", "1s")
    })
    .await;
    let set_state = |state: &'static str| {
        fleet.simulator.update(|world| {
            world
                .database_mut("acme", "commerce")
                .workflow_mut(3)
                .expect("workflow")
                .state = state.into();
        });
    };
    let firings = || {
        slack
            .calls()
            .iter()
            .filter(|call| call.body.to_string().contains("timer stuck"))
            .count()
    };
    set_state("error");
    let acknowledge = eventually(Duration::from_secs(20), || {
        std::future::ready(button(&slack, "pswatch_acknowledge", "workflow #3"))
    })
    .await
    .unwrap_or_else(|| panic!("no Acknowledge button: {:#?}", slack.calls()));
    assert!(firings() > 0);
    assert_eq!(clicker.click(&acknowledge, ALLOWED).await, 200);
    wait_for_note(&slack, "acknowledged workflow #3").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = firings();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(firings(), after, "no firing after the acknowledgement");
    assert!(service.stderr().contains("reminder held back"));
    // Out of error and back: a new stay, fired again.
    set_state("running");
    tokio::time::sleep(Duration::from_secs(1)).await;
    set_state("error");
    let again = eventually(Duration::from_secs(20), || {
        std::future::ready((firings() > after).then_some(()))
    })
    .await;
    assert!(again.is_some(), "a new stay fires: {:#?}", slack.calls());
}

/// Each change Slack can make besides a cutover is offered only in a state PlanetScale takes it
/// in, behind Slack's confirmation; forged, stale or altered clicks and users not allowed call
/// nothing; an allowed user's click calls its operation exactly once, a copy of the click
/// nothing more, and the thread says what PlanetScale answered.
#[tokio::test(flavor = "multi_thread")]
async fn every_change_calls_its_operation_once_for_an_allowed_user_and_nothing_otherwise() {
    let mut world = World::default();
    let database = world.database_mut("acme", "commerce");
    database
        .workflows
        .push(SimWorkflow::new(3, "move-customers", "running"));
    for number in [5, 6, 7, 8] {
        database
            .deploy_requests
            .push(SimDeployRequest::new(number, "in_progress"));
    }
    let (fleet, slack, service, clicker) = start_offering(
        world,
        &[
            "cutover",
            "force_cutover",
            "cancel",
            "skip_revert",
            "revert",
            "workflow_retry",
        ],
        |config| config,
    )
    .await;
    // (button, resource, its state that takes it, the operation's endpoint, what the thread says)
    let cases = [
        (
            "pswatch_workflow_retry",
            "workflow #3",
            "error",
            "workflow_retry",
            "asked to retry workflow #3",
        ),
        (
            "pswatch_force_cutover",
            "deploy request #5",
            "in_progress_cutover",
            "force_cutover_deploy_request",
            "asked to force the cutover of deploy request #5",
        ),
        (
            "pswatch_cancel",
            "deploy request #6",
            "queued",
            "cancel_deploy_request",
            "asked to cancel the deployment of deploy request #6",
        ),
        (
            "pswatch_skip_revert",
            "deploy request #7",
            "complete_pending_revert",
            "skip_revert_period",
            "asked to end the revert window of deploy request #7",
        ),
        (
            "pswatch_revert",
            "deploy request #8",
            "complete_pending_revert",
            "complete_revert",
            "asked to revert deploy request #8",
        ),
    ];
    for (action_id, about, state, endpoint, accepted) in cases {
        let number: u64 = about
            .rsplit('#')
            .next()
            .and_then(|n| n.parse().ok())
            .expect("number");
        fleet.simulator.update(|world| {
            let database = world.database_mut("acme", "commerce");
            if about.starts_with("workflow") {
                database.workflow_mut(number).expect("workflow").state = state.into();
            } else {
                database
                    .deploy_request_mut(number)
                    .expect("deploy request")
                    .deployment_state = state.into();
            }
        });
        let value = eventually(Duration::from_secs(20), || {
            std::future::ready(button(&slack, action_id, about))
        })
        .await
        .unwrap_or_else(|| panic!("no {action_id} on {about}: {:#?}", slack.calls()));
        let confirmed = slack.calls().iter().any(|call| {
            call.body["blocks"]
                .to_string()
                .contains(&format!("\"action_id\":\"{action_id}\""))
                && call.body["blocks"].to_string().contains("\"confirm\"")
        });
        assert!(confirmed, "{action_id} asks for Slack's confirmation");

        // Forged, stale, altered, or someone not allowed: PlanetScale is asked nothing.
        let body = click_body(&value, ALLOWED);
        assert_eq!(clicker.post(&body, 0, "not-the-secret").await, 401);
        assert_eq!(clicker.post(&body, 6 * 60, SIGNING_SECRET).await, 401);
        let altered = value.replacen(&format!("/{number}|"), "/99|", 1);
        assert_ne!(altered, value);
        assert_eq!(clicker.click(&altered, ALLOWED).await, 401);
        assert_eq!(clicker.click(&value, "UOTHER0001").await, 200);
        wait_for_note(&slack, "<@UOTHER0001> may not").await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(fleet.simulator.requests_to(endpoint), 0, "{endpoint}");

        // The allowed user: once; the same click again, nothing more.
        let click = click_on_message(&value, ALLOWED, &format!("1765000000.{number:06}"));
        assert_eq!(clicker.post(&click, 0, SIGNING_SECRET).await, 200);
        wait_for_note(&slack, accepted).await;
        assert_eq!(clicker.post(&click, 0, SIGNING_SECRET).await, 200);
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(
            fleet.simulator.requests_to(endpoint),
            1,
            "{endpoint}: {}",
            service.stderr()
        );
        assert!(service.stderr().contains(&format!("slack_user={ALLOWED}")));
    }
    // A click on a resource that moved on reads its state and asks nothing.
    let revert = button(&slack, "pswatch_revert", "deploy request #7").expect("Revert on #7");
    assert_eq!(clicker.click(&revert, ALLOWED).await, 200);
    let said = wait_for_note(&slack, "deploy request #7 is `complete` now").await;
    assert!(said.contains("does not take that"), "{said}");
    assert_eq!(fleet.simulator.requests_to("complete_revert"), 1);
}
