//! `[[people]]` through the binary: a workflow's and a deploy request's messages name the
//! person who started them in each channel's way (Slack `<@U…>`, a Teams `<at>` mention with
//! its entity, Discord `<@…>` with `allowed_mentions` limited to that user), pass the vendors'
//! validators, and mention no one else: an actor not listed is text, and text from the API
//! (`<!channel>`, `<@U…>`, `<at>…</at>` in a name) never becomes a mention.

mod support;

use serde_json::Value;
use simulator::{SimDeployRequest, SimWorkflow, Simulator, World};
use support::config::ConfigBuilder;
use support::pswatch;
use support::receiver::Receiver;

const ADA_SLACK: &str = "U0ADA0001";
const ADA_DISCORD: &str = "80351110224678912";
const GRACE_SLACK: &str = "U0GRACE01";

fn world() -> World {
    let mut world = World::default();
    let database = world.database_mut("acme", "commerce");
    // Started by Ada Lovelace (id user-ada-lovelace), named to try every channel's mentions.
    database.workflows.push(SimWorkflow::new(
        3,
        "<!channel> <@U0MALLORY> <at>Ada Lovelace</at> @everyone",
        "copying",
    ));
    // Opened by Grace Hopper.
    database
        .deploy_requests
        .push(SimDeployRequest::new(5, "in_progress"));
    world
}

fn bodies(receiver: &Receiver, path: &str) -> Vec<Value> {
    receiver
        .accepted(path)
        .iter()
        .map(|request| serde_json::from_slice(&request.body).expect("json"))
        .collect()
}

/// The text of `value`'s mrkdwn objects (Slack reads mentions there; a `plain_text` object,
/// such as the header, shows what it holds as written).
fn mrkdwn(value: &Value, into: &mut String) {
    match value {
        Value::Object(object) => {
            if object.get("type").and_then(Value::as_str) == Some("mrkdwn") {
                into.push_str(
                    object
                        .get("text")
                        .and_then(Value::as_str)
                        .unwrap_or_default(),
                );
                into.push('\n');
            }
            object.values().for_each(|value| mrkdwn(value, into));
        }
        Value::Array(items) => items.iter().for_each(|value| mrkdwn(value, into)),
        _ => {}
    }
}

/// Every `<@…>`, `<!…>` Slack would read as a mention in a message: in its `text` (what
/// notifications show) and its mrkdwn blocks.
fn slack_mentions(message: &Value) -> Vec<String> {
    let mut text = message["text"].as_str().unwrap_or_default().to_owned();
    mrkdwn(&message["blocks"], &mut text);
    let mut found = Vec::new();
    for marker in ["<@", "<!"] {
        for (at, _) in text.match_indices(marker) {
            let end = text[at..].find('>').map_or(text.len(), |end| at + end + 1);
            found.push(text[at..end].to_owned());
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread")]
async fn messages_name_the_listed_owner_in_each_channel_s_way_and_no_one_else() {
    let simulator = Simulator::start(world(), None).await.expect("simulator");
    let receiver = Receiver::start().await;
    let directory = tempfile::tempdir().expect("tempdir");
    let config = ConfigBuilder::new(&simulator.api_url(), &directory.path().join("state"))
        .watch("acme", &["commerce"])
        .slack("slack", &format!("{}/slack", receiver.url))
        .with("min_interval", "10ms")
        .channel(
            "teams",
            "teams",
            &[(
                "webhook_url",
                format!(
                    "{}/teams/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig=s1g",
                    receiver.url
                )
                .into(),
            )],
        )
        .with("min_interval", "10ms")
        .channel(
            "discord",
            "discord",
            &[(
                "webhook_url",
                format!("{}/api/webhooks/4242/t0ken", receiver.url).into(),
            )],
        )
        .with("min_interval", "10ms")
        .route(&["slack", "teams", "discord"])
        .person(
            "user-ada-lovelace",
            &[
                ("name", "Ada"),
                ("slack", ADA_SLACK),
                ("teams", "ada@example.com"),
                ("discord", ADA_DISCORD),
            ],
        )
        .person("Grace Hopper", &[("slack", GRACE_SLACK)])
        .person(
            "Mallory",
            &[("slack", "U0MALLORY"), ("discord", "99999999999999999")],
        )
        .write(&directory.path().join("pswatch.toml"));
    let once = |config: std::path::PathBuf| async move {
        tokio::task::spawn_blocking(move || pswatch(&["once"], &config, &[]))
            .await
            .expect("join")
    };
    let checked = pswatch(&["check"], &config, &[]);
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    assert!(once(config.clone()).await.status.success(), "baseline");
    // The workflow moves on (one message), then the deploy request (another).
    simulator.update(|world| {
        world
            .database_mut("acme", "commerce")
            .workflow_mut(3)
            .expect("workflow")
            .state = "running".into();
    });
    assert!(once(config.clone()).await.status.success());
    simulator.update(|world| {
        world
            .database_mut("acme", "commerce")
            .deploy_request_mut(5)
            .expect("deploy request")
            .deployment_state = "pending_cutover".into();
    });
    let output = once(config.clone()).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // Slack: Ada's workflow mentions Ada, Grace's deploy request Grace; nothing else is one.
    let slack = bodies(&receiver, "/slack");
    assert_eq!(slack.len(), 2, "{slack:#?}");
    let problems = notifier::vendor_check::slack_problems(&slack);
    assert!(problems.is_empty(), "{problems:#?}");
    assert_eq!(slack_mentions(&slack[0]), [format!("<@{ADA_SLACK}>")]);
    assert_eq!(slack_mentions(&slack[1]), [format!("<@{GRACE_SLACK}>")]);
    assert!(slack[0].to_string().contains("&lt;!channel&gt;"));

    // Teams: one entity, Ada's, and the one `<at>` of the card is its text; the name's own
    // `<at>` is not a mention.
    let teams: Vec<Value> = receiver
        .requests()
        .iter()
        .filter(|request| request.path.starts_with("/teams"))
        .map(|request| serde_json::from_slice(&request.body).expect("json"))
        .collect();
    assert_eq!(teams.len(), 2, "{teams:#?}");
    let problems = notifier::vendor_check::adaptive_card_problems(&teams);
    assert!(problems.is_empty(), "{problems:#?}");
    let card = &teams[0]["attachments"][0]["content"];
    let entities = card["msteams"]["entities"].as_array().expect("entities");
    assert_eq!(entities.len(), 1, "{card:#}");
    assert_eq!(entities[0]["type"], "mention");
    assert_eq!(entities[0]["text"], "<at>Ada</at>");
    assert_eq!(entities[0]["mentioned"]["id"], "ada@example.com");
    let text = card["body"].to_string();
    assert_eq!(text.matches("<at>").count(), 1, "{text}");
    assert!(text.contains("Owner: <at>Ada</at>"), "{text}");
    assert!(
        teams[1]["attachments"][0]["content"]["msteams"]["entities"].is_null(),
        "Grace has no Teams user: no mention"
    );

    // Discord: Ada pinged in the content, and only she may be.
    let discord = bodies(&receiver, "/api/webhooks/4242/t0ken");
    assert_eq!(discord.len(), 2, "{discord:#?}");
    assert_eq!(discord[0]["content"], format!("Owner: <@{ADA_DISCORD}>"));
    assert_eq!(
        discord[0]["allowed_mentions"],
        serde_json::json!({"parse": [], "users": [ADA_DISCORD]})
    );
    // In embeds (whose titles Discord shows as written), the name's `<@…>` is escaped text.
    let description = discord[0]["embeds"][0]["description"]
        .as_str()
        .expect("description");
    assert!(description.contains("\\<@U0MALLORY>"), "{description}");
    assert!(
        !description.replace("\\<", "").contains("<@"),
        "{description}"
    );
    assert_eq!(
        discord[1]["content"],
        Value::Null,
        "Grace has no Discord user"
    );
    assert_eq!(
        discord[1]["allowed_mentions"],
        serde_json::json!({"parse": []})
    );
}

#[test]
fn check_names_what_is_wrong_with_a_person() {
    let directory = tempfile::tempdir().expect("tempdir");
    let config = ConfigBuilder::new("http://127.0.0.1:9", &directory.path().join("state"))
        .webhook("audit", "http://127.0.0.1:9/hooks")
        .route(&["audit"])
        .watch("acme", &[])
        .person("Ada", &[("slack", "<!channel>"), ("discord", "ada")])
        .person("Ada", &[("teams", "ada")])
        .person("Grace", &[])
        .write(&directory.path().join("pswatch.toml"));
    let output = pswatch(&["check"], &config, &[]);
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr).into_owned()
        + &String::from_utf8_lossy(&output.stdout);
    for expected in [
        "people[0].slack",
        "is not a Slack user id",
        "people[0].discord",
        "people[1].planetscale",
        "listed twice",
        "people[1].teams",
        "people[2]",
        "names the person nowhere",
    ] {
        assert!(said.contains(expected), "{expected:?} not in: {said}");
    }
}
