//! Secrets never leak: a full scenario at the most verbose log level, with every receiver
//! failing and a token the API refuses, and not one secret in the logs, the error messages, the
//! `outbox list` output or the store's files.

mod support;

use std::time::Duration;

use base64::Engine as _;
use simulator::{SimWorkflow, Simulator, World};
use support::config::ConfigBuilder;
use support::receiver::Receiver;
use support::{Service, SmtpSink};

const TOKEN: &str = "pscale_tkn_Zq8sEcReTtOkEn";
const WEBHOOK_KEY: &str = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SMTP_PASSWORD: &str = "smtp-Pa55w0rd-s3cret";
const SLACK_SECRET_PATH: &str = "XoXbSlackSecretPath42";
const WEBHOOK_URL_TOKEN: &str = "HookUrlT0ken77";
const SLACK_BOT_TOKEN: &str = "xoxb-42-42-SlackB0tT0kenS3cret";
const TEAMS_SIGNATURE: &str = "TeamsW0rkflowS1g";
const ROUTING_KEY: &str = "PagerDutyR0utingK3yS3cret0000000";
const DISCORD_TOKEN: &str = "D1sc0rdW3bh00kT0kenS3cret";
const CHAT_KEY: &str = "AIzaChatK3yS3cret";
const CHAT_TOKEN: &str = "ChatT0kenS3cret99";
const SIGNING_SECRET: &str = "S1gn1ngS3cretOfTheSlackApp0042";
const ALERTMANAGER_TOKEN: &str = "Al3rtmanag3rB3arerT0ken";

fn run(
    args: &[&str],
    config: &std::path::Path,
    environment: &[(&str, String)],
) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_pswatch"))
        .args(args)
        .arg("-c")
        .arg(config)
        .envs(environment.iter().map(|(name, value)| (name, value)))
        .env("RUST_LOG", "trace")
        .output()
        .expect("run pswatch")
}

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_reaches_logs_errors_listings_or_the_store() {
    let mut world = World::default();
    world
        .database_mut("acme", "commerce")
        .workflows
        .push(SimWorkflow::new(1, "move-customers", "running"));
    world
        .database_mut("acme", "commerce")
        .workflows
        .push(SimWorkflow::new(2, "move-orders", "running"));
    let simulator = Simulator::start(world, Some(format!("tok-id:{TOKEN}")))
        .await
        .expect("simulator");
    let receiver = Receiver::start().await;
    receiver.set_status(503);
    receiver.set_status_for("/services", Some(500));
    let smtp = SmtpSink::with_auth(&format!("pswatch:{SMTP_PASSWORD}"));
    let directory = tempfile::tempdir().expect("tempdir");
    let state = directory.path().join("state");
    let config = directory.path().join("pswatch.toml");
    ConfigBuilder::new(&simulator.api_url(), &state)
        .set("planetscale.service_token", "${TEST_TOKEN}")
        .set("poll.interval", "200ms")
        .set("poll.active_interval", "200ms")
        .set("receiver.listen", "127.0.0.1:0")
        .set("receiver.secrets", vec!["ps-webhook-secret-for-tests-0001"])
        .watch("acme", &[])
        .channel(
            "audit",
            "webhook",
            &[
                ("url", "${TEST_WEBHOOK_URL}".into()),
                ("secret", "${TEST_WEBHOOK_SECRET}".into()),
            ],
        )
        .with("retry_schedule", vec!["200ms"])
        .slack("ops-slack", "${TEST_SLACK_URL}")
        .with("retry_schedule", vec!["200ms"])
        .email("dba-mail", "${TEST_SMTP_URL}")
        .with("to", vec!["reject-transient@example.com"])
        .with("retry_schedule", vec!["200ms"])
        .channel(
            "ops-threads",
            "slack",
            &[
                ("bot_token", "${TEST_SLACK_BOT_TOKEN}".into()),
                ("channel", "C0123456789".into()),
                ("api_url", format!("{}/slack-api", receiver.url).into()),
                ("signing_secret", "${TEST_SIGNING_SECRET}".into()),
                ("actions", vec!["cutover"].into()),
                ("allowed_users", vec!["U0123456789"].into()),
            ],
        )
        .with("retry_schedule", vec!["200ms"])
        .channel(
            "ops-teams",
            "teams",
            &[("webhook_url", "${TEST_TEAMS_URL}".into())],
        )
        .with("retry_schedule", vec!["200ms"])
        .channel(
            "oncall",
            "pagerduty",
            &[
                ("routing_key", "${TEST_ROUTING_KEY}".into()),
                ("api_url", format!("{}/pagerduty", receiver.url).into()),
            ],
        )
        .with("retry_schedule", vec!["200ms"])
        .channel(
            "ops-discord",
            "discord",
            &[("webhook_url", "${TEST_DISCORD_URL}".into())],
        )
        .with("retry_schedule", vec!["200ms"])
        .channel(
            "ops-chat",
            "google_chat",
            &[("webhook_url", "${TEST_CHAT_URL}".into())],
        )
        .with("retry_schedule", vec!["200ms"])
        .channel(
            "alertmanager",
            "alertmanager",
            &[
                (
                    "urls",
                    vec![format!("{}/alertmanager", receiver.url)].into(),
                ),
                ("bearer_token", "${TEST_ALERTMANAGER_TOKEN}".into()),
            ],
        )
        .with("retry_schedule", vec!["200ms"])
        .route(&[
            "audit",
            "ops-slack",
            "dba-mail",
            "ops-threads",
            "ops-teams",
            "oncall",
            "ops-discord",
            "ops-chat",
            "alertmanager",
        ])
        .write(&config);
    let environment = vec![
        ("TEST_TOKEN", TOKEN.to_string()),
        ("TEST_WEBHOOK_SECRET", format!("whsec_{WEBHOOK_KEY}")),
        (
            "TEST_SLACK_URL",
            format!("{}/services/T0/B0/{SLACK_SECRET_PATH}", receiver.url),
        ),
        (
            "TEST_SMTP_URL",
            format!("smtp://pswatch:{SMTP_PASSWORD}@127.0.0.1:{}", smtp.port),
        ),
        (
            "TEST_WEBHOOK_URL",
            format!("{}/hooks?token={WEBHOOK_URL_TOKEN}", receiver.url),
        ),
        ("TEST_SLACK_BOT_TOKEN", SLACK_BOT_TOKEN.to_owned()),
        (
            "TEST_TEAMS_URL",
            format!(
                "{}/teams/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig={TEAMS_SIGNATURE}",
                receiver.url
            ),
        ),
        ("TEST_ROUTING_KEY", ROUTING_KEY.to_owned()),
        (
            "TEST_DISCORD_URL",
            format!("{}/discord/api/webhooks/4242/{DISCORD_TOKEN}", receiver.url),
        ),
        (
            "TEST_CHAT_URL",
            format!(
                "{}/chat/v1/spaces/AAAA/messages?key={CHAT_KEY}&token={CHAT_TOKEN}",
                receiver.url
            ),
        ),
        ("TEST_SIGNING_SECRET", SIGNING_SECRET.to_owned()),
        ("TEST_ALERTMANAGER_TOKEN", ALERTMANAGER_TOKEN.to_owned()),
    ];
    let mut transcript = String::new();
    fn record_into(transcript: &mut String, output: &std::process::Output) {
        transcript.push_str(&String::from_utf8_lossy(&output.stdout));
        transcript.push_str(&String::from_utf8_lossy(&output.stderr));
    }

    let config_for = config.clone();
    let environment_for = environment.clone();
    record_into(
        &mut transcript,
        &tokio::task::spawn_blocking(move || run(&["once"], &config_for, &environment_for))
            .await
            .expect("join"),
    );
    simulator.update(|world| {
        world
            .database_mut("acme", "commerce")
            .workflow_mut(1)
            .expect("workflow")
            .state = "cutover".into();
        let failing = world
            .database_mut("acme", "commerce")
            .workflow_mut(2)
            .expect("workflow");
        failing.state = "error".into();
        failing.workflow_errors = Some("vreplication: lost connection".into());
    });
    let mut service = Service::start(&config, &environment, directory.path());
    // Let every channel fail a few times.
    let failed = receiver
        .wait_until(Duration::from_secs(15), |requests| {
            requests
                .iter()
                .filter(|request| request.path == "/hooks")
                .count()
                >= 3
                && [
                    "/services",
                    "/slack-api",
                    "/teams",
                    "/pagerduty",
                    "/discord",
                    "/chat",
                    "/alertmanager",
                ]
                .iter()
                .all(|prefix| {
                    requests
                        .iter()
                        .filter(|request| request.path.starts_with(prefix))
                        .count()
                        >= 3
                })
        })
        .await;
    // And the email relay's refusal.
    assert!(
        service.wait_for_log("451", Duration::from_secs(10)).await,
        "{}",
        service.stderr()
    );
    let stopped = service.terminate(Duration::from_secs(25)).await;
    transcript.push_str(&service.stdout());
    transcript.push_str(&service.stderr());
    assert!(failed, "the receivers were not tried:\n{transcript}");
    assert!(
        stopped.is_some_and(|status| status.success()),
        "{transcript}"
    );

    for args in [&["outbox", "list"][..], &["check"], &["once"]] {
        let config_for = config.clone();
        let environment_for = environment.clone();
        let args: Vec<&'static str> = args.to_vec();
        record_into(
            &mut transcript,
            &tokio::task::spawn_blocking(move || run(&args, &config_for, &environment_for))
                .await
                .expect("join"),
        );
    }
    // A token the API refuses, and a configuration with problems around the secrets.
    let mut refused = environment.clone();
    refused[0].1 = format!("{TOKEN}-revoked");
    let config_for = config.clone();
    record_into(
        &mut transcript,
        &tokio::task::spawn_blocking(move || run(&["once"], &config_for, &refused))
            .await
            .expect("join"),
    );
    let mut broken = environment.clone();
    broken[1].1 = format!("whsec{WEBHOOK_KEY}");
    broken[2].1 = format!("not a url {SLACK_SECRET_PATH}");
    broken[3].1 = format!("smtpx://pswatch:{SMTP_PASSWORD}@127.0.0.1");
    broken[4].1 = format!("hooks.example.com/?token={WEBHOOK_URL_TOKEN}");
    broken[5].1 = format!("xoxp{}", &SLACK_BOT_TOKEN[4..]);
    broken[6].1 = format!("teams.example.com ?sig={TEAMS_SIGNATURE}");
    broken[7].1 = format!("{ROUTING_KEY} extra");
    broken[8].1 = format!("https://discord.com/api/{DISCORD_TOKEN}");
    broken[9].1 = format!("chat.googleapis.com?key={CHAT_KEY}&token={CHAT_TOKEN}");
    broken[10].1 = format!("{SIGNING_SECRET} x");
    broken[11].1 = format!("{ALERTMANAGER_TOKEN} x");
    let config_for = config.clone();
    let output = tokio::task::spawn_blocking(move || run(&["check"], &config_for, &broken))
        .await
        .expect("join");
    assert_eq!(output.status.code(), Some(1));
    let problems = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    for key in [
        "channels[3].bot_token",
        "channels[4].webhook_url",
        "channels[5].routing_key",
        "channels[6].webhook_url",
        "channels[7].webhook_url",
        "channels[3].signing_secret",
        "channels[8].bearer_token",
    ] {
        assert!(problems.contains(key), "{key} is not named:\n{problems}");
    }
    record_into(&mut transcript, &output);

    assert!(
        transcript.contains("HTTP 503") && transcript.contains("HTTP 500"),
        "{transcript}"
    );
    assert!(
        transcript.contains("451"),
        "the SMTP refusal is logged:\n{transcript}"
    );
    assert!(
        transcript.contains("rejected service token tok-id"),
        "{transcript}"
    );
    assert!(transcript.contains("pending deliveries:"), "{transcript}");
    assert!(
        transcript.contains("TRACE"),
        "the most verbose level was not on"
    );

    let plain_auth =
        base64::engine::general_purpose::STANDARD.encode(format!("\0pswatch\0{SMTP_PASSWORD}"));
    let secrets = [
        TOKEN,
        WEBHOOK_KEY,
        SMTP_PASSWORD,
        SLACK_SECRET_PATH,
        WEBHOOK_URL_TOKEN,
        &SLACK_BOT_TOKEN[4..],
        TEAMS_SIGNATURE,
        ROUTING_KEY,
        DISCORD_TOKEN,
        SIGNING_SECRET,
        CHAT_KEY,
        CHAT_TOKEN,
        ALERTMANAGER_TOKEN,
        plain_auth.as_str(),
    ];
    for secret in secrets {
        assert!(
            !transcript.contains(secret),
            "{secret} leaked into the output:\n{transcript}"
        );
    }
    let mut files = 0;
    let mut holds_events = false;
    for entry in walk(&state) {
        let bytes = std::fs::read(&entry).expect("read store file");
        files += 1;
        holds_events |= bytes.windows(7).any(|window| window == b"cutover");
        for secret in secrets {
            let found = bytes
                .windows(secret.len())
                .any(|window| window == secret.as_bytes());
            assert!(!found, "{secret} is stored in {}", entry.display());
        }
    }
    assert!(
        files > 0 && holds_events,
        "the store's files do not hold the events; the scan proves nothing"
    );
}

fn walk(directory: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(directory).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
