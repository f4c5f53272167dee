//! The operator commands: test-notify, state show and state forget.

mod support;

use serde_json::Value;
use simulator::{SimWorkflow, Simulator, World};
use support::config::ConfigBuilder;
use support::receiver::Receiver;
use support::{pswatch, SmtpSink};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn write_config(
    directory: &std::path::Path,
    api: &str,
    receiver: &Receiver,
    smtp_port: u16,
) -> std::path::PathBuf {
    ConfigBuilder::new(api, &directory.join("state"))
        .unset("admin.listen")
        .watch("acme", &["commerce"])
        .webhook("audit", &format!("{}/hooks", receiver.url))
        .slack("ops-slack", &format!("{}/slack/secret", receiver.url))
        .email("dba-mail", &format!("smtp://127.0.0.1:{smtp_port}"))
        .channel("stdout", "console", &[])
        .route(&["audit", "ops-slack", "dba-mail", "stdout"])
        .write(&directory.join("pswatch.toml"))
}

#[tokio::test(flavor = "multi_thread")]
async fn test_notify_sends_a_marked_message_through_each_channel_and_reports_each() {
    let receiver = Receiver::start().await;
    let smtp = SmtpSink::start();
    let directory = tempfile::tempdir().expect("tempdir");
    let config = write_config(
        directory.path(),
        "http://127.0.0.1:9/v1",
        &receiver,
        smtp.port,
    );
    let config_for = config.clone();
    let output = tokio::task::spawn_blocking(move || pswatch(&["test-notify"], &config_for, &[]))
        .await
        .expect("join");
    let report = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "{report}");
    for channel in ["audit", "ops-slack", "dba-mail", "stdout"] {
        assert!(report.contains(&format!("{channel}: ok")), "{report}");
    }
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("pswatch test message for channel stdout")
    );

    let hook = &receiver.accepted("/hooks")[0];
    let body: Value = serde_json::from_slice(&hook.body).expect("json");
    assert_eq!(body["type"], "pswatch.test", "never mistaken for an event");
    let mut headers = reqwest::header::HeaderMap::new();
    for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        headers.insert(name, hook.headers[name].parse().expect("header"));
    }
    standardwebhooks::Webhook::new(SECRET)
        .expect("verifier")
        .verify(&hook.body, &headers)
        .expect("signed");
    let slack: Value =
        serde_json::from_slice(&receiver.accepted("/slack/secret")[0].body).expect("json");
    assert_eq!(slack["text"], "pswatch test message for channel ops-slack");
    let mail = smtp.wait_for(1, std::time::Duration::from_secs(5));
    let message = mail_parser::MessageParser::default()
        .parse(&mail[0])
        .expect("email");
    assert_eq!(
        message.subject(),
        Some("[pswatch] test message for channel dba-mail")
    );

    // One channel, failing: reported, and the exit code says so.
    receiver.set_status(500);
    let config_for = config.clone();
    let output = tokio::task::spawn_blocking(move || {
        pswatch(&["test-notify", "--channel", "audit"], &config_for, &[])
    })
    .await
    .expect("join");
    let report = String::from_utf8_lossy(&output.stderr).to_string();
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(
        report.contains("audit: FAILED") && report.contains("HTTP 500"),
        "{report}"
    );
    assert!(
        !report.contains("ops-slack"),
        "only the named channel: {report}"
    );
    let unknown = pswatch(&["test-notify", "--channel", "nope"], &config, &[]);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("there is no channel named \"nope\""));
}

#[tokio::test(flavor = "multi_thread")]
async fn state_show_prints_what_is_remembered_and_forget_makes_a_new_baseline() {
    let mut world = World::default();
    world
        .database_mut("acme", "commerce")
        .workflows
        .push(SimWorkflow::new(4, "move-orders", "running"));
    // A name that would retitle and clear the terminal and forge a line, printed raw.
    world
        .database_mut("acme", "commerce")
        .workflows
        .push(SimWorkflow::new(
            5,
            "evil\u{1b}]0;pwned\u{7}\u{1b}[2J\r\n  workflow #9 forged: completed",
            "running",
        ));
    let simulator = Simulator::start(world, None).await.expect("simulator");
    let receiver = Receiver::start().await;
    let smtp = SmtpSink::start();
    let directory = tempfile::tempdir().expect("tempdir");
    let config = write_config(directory.path(), &simulator.api_url(), &receiver, smtp.port);
    let run = |args: &'static [&'static str]| {
        let config = config.clone();
        tokio::task::spawn_blocking(move || pswatch(args, &config, &[]))
    };
    let empty = run(&["state", "show"]).await.expect("join");
    assert!(String::from_utf8_lossy(&empty.stdout).contains("no state yet"));
    assert!(run(&["once"]).await.expect("join").status.success());
    let shown = run(&["state", "show", "acme/commerce"])
        .await
        .expect("join");
    let text = String::from_utf8_lossy(&shown.stdout).to_string();
    assert!(
        text.contains("acme/commerce (waiting for a person)"),
        "{text}"
    );
    assert!(text.contains("workflow #4 move-orders: running"), "{text}");
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "{text:?}"
    );
    assert!(!text.contains("\n  workflow #9"), "a forged line: {text}");
    assert!(text.contains("evil\\u{1b}]0;pwned"), "{text}");
    let missing = run(&["state", "show", "acme/other"]).await.expect("join");
    assert!(!missing.status.success());
    let bad = run(&["state", "forget", "acme"]).await.expect("join");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not ORGANIZATION/DATABASE"));

    let forgot = run(&["state", "forget", "acme/commerce"])
        .await
        .expect("join");
    assert!(String::from_utf8_lossy(&forgot.stdout).contains("forgot acme/commerce"));
    // The next poll is a new baseline: nothing is reported although the state changed.
    simulator.update(|world| {
        world
            .database_mut("acme", "commerce")
            .workflow_mut(4)
            .expect("workflow")
            .state = "cutover".into();
    });
    assert!(run(&["once"]).await.expect("join").status.success());
    assert!(receiver.requests().is_empty());
    let shown = run(&["state", "show"]).await.expect("join");
    assert!(String::from_utf8_lossy(&shown.stdout).contains("workflow #4 move-orders: cutover"));

    // A store whose `db` file was truncated is refused, never started over silently; state
    // reset moves it aside on request.
    let refused = run(&["state", "reset"]).await.expect("join");
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("opens and reads: nothing to reset"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let state = directory.path().join("state");
    std::fs::OpenOptions::new()
        .write(true)
        .open(state.join("db"))
        .expect("db")
        .set_len(0)
        .expect("truncate");
    let damaged = run(&["once"]).await.expect("join");
    assert!(!damaged.status.success());
    let stderr = String::from_utf8_lossy(&damaged.stderr);
    assert!(
        stderr.contains(&state.display().to_string()) && stderr.contains("pswatch state reset"),
        "{stderr}"
    );
    let reset = run(&["state", "reset"]).await.expect("join");
    let stdout = String::from_utf8_lossy(&reset.stdout);
    assert!(
        stdout.contains("moved the damaged state store to"),
        "{stdout}"
    );
    assert!(run(&["once"]).await.expect("join").status.success());
    let aside = std::fs::read_dir(directory.path())
        .expect("list")
        .filter_map(Result::ok)
        .filter(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .starts_with("state.damaged-")
        })
        .count();
    assert_eq!(aside, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn json_logs_are_one_object_per_line() {
    let simulator = Simulator::start(World::default(), None)
        .await
        .expect("simulator");
    simulator.update(|world| {
        world.database_mut("acme", "commerce");
    });
    let receiver = Receiver::start().await;
    let smtp = SmtpSink::start();
    let directory = tempfile::tempdir().expect("tempdir");
    let config = write_config(directory.path(), &simulator.api_url(), &receiver, smtp.port);
    let text = std::fs::read_to_string(&config).expect("read")
        + "\n[log]\nformat = \"json\"\nlevel = \"debug\"\n";
    std::fs::write(&config, text).expect("write");
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_pswatch"))
            .args(["once", "-c"])
            .arg(&config)
            .output()
            .expect("run")
    })
    .await
    .expect("join");
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<Value> = stderr
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|error| panic!("{error}: {line}")))
        .collect();
    assert!(
        lines
            .iter()
            .any(|line| line["fields"]["message"] == "baseline recorded"),
        "{stderr}"
    );
    assert!(
        lines.iter().any(|line| line["level"] == "DEBUG"),
        "the level applies: {stderr}"
    );
}

/// `pswatch route` says where an event would go and which route sends it there.
#[test]
fn route_prints_each_channel_and_the_route_that_selects_it() {
    let directory = tempfile::tempdir().expect("tempdir");
    let config = ConfigBuilder::new("http://127.0.0.1:9/v1", &directory.path().join("state"))
        .watch("acme", &[])
        .channel("stdout", "console", &[])
        .channel("audit", "console", &[])
        .channel("oncall", "console", &[])
        .route(&["stdout"])
        .route(&["oncall", "stdout"])
        .filter("events", &["workflow.*", "deploy_request.*"])
        .filter("states", &["error", "complete_error"])
        .filter("databases", &["commerce"])
        .route(&["audit"])
        .filter("events", &["planetscale.*"])
        .write(&directory.path().join("pswatch.toml"));
    let run = |args: &[&str]| {
        let output = support::pswatch(args, &config, &[]);
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (code, text, _) = run(&[
        "route",
        "--event",
        "workflow.state_changed",
        "--state",
        "error",
        "--database",
        "acme/commerce",
    ]);
    assert_eq!(code, Some(0), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("stdout "), "{text}");
    assert!(lines[0].contains("routes[0], routes[1]"), "{text}");
    assert!(lines[1].starts_with("oncall "), "{text}");
    assert!(lines[1].ends_with("selected by routes[1]"), "{text}");
    // Another state: only the catch-all.
    let (code, text, _) = run(&[
        "route",
        "--event",
        "workflow.state_changed",
        "--state",
        "running",
        "--database",
        "acme/commerce",
    ]);
    assert_eq!(code, Some(0));
    assert_eq!(text.lines().count(), 1, "{text}");
    // Filters the question leaves open are said to be unchecked.
    let (_, text, _) = run(&["route", "--event", "deploy_request.state_changed"]);
    assert!(
        text.contains("not checked: give --database and --state"),
        "{text}"
    );
    // PlanetScale's events have their own route.
    let (_, text, _) = run(&["route", "--event", "planetscale.branch.ready"]);
    assert!(
        text.lines().any(|line| line.starts_with("audit ")),
        "{text}"
    );
    // No route at all: exit 1; a type that does not exist: an error naming the types.
    let empty = tempfile::tempdir().expect("tempdir");
    let only_audit = ConfigBuilder::new("http://127.0.0.1:9/v1", &empty.path().join("state"))
        .watch("acme", &[])
        .channel("audit", "console", &[])
        .route(&["audit"])
        .filter("events", &["planetscale.*"])
        .write(&empty.path().join("pswatch.toml"));
    let output = support::pswatch(
        &["route", "--event", "workflow.state_changed"],
        &only_audit,
        &[],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("no channel"));
    let (code, _, errors) = run(&["route", "--event", "workflow.exploded"]);
    assert_eq!(code, Some(1));
    assert!(errors.contains("is not an event type"), "{errors}");
}

/// `once --dry-run` prints per channel what it would send, sends nothing and changes no state:
/// the real `once` after it still finds and delivers the same transition.
#[tokio::test(flavor = "multi_thread")]
async fn once_dry_run_prints_what_it_would_send_and_changes_nothing() {
    let mut world = World::default();
    world
        .database_mut("acme", "commerce")
        .workflows
        .push(SimWorkflow::new(3, "move-customers", "copying"));
    let simulator = Simulator::start(world, None).await.expect("simulator");
    let receiver = Receiver::start().await;
    let directory = tempfile::tempdir().expect("tempdir");
    let config = ConfigBuilder::new(&simulator.api_url(), &directory.path().join("state"))
        .unset("admin.listen")
        .watch("acme", &["commerce"])
        .webhook("audit", &format!("{}/hooks", receiver.url))
        .channel("stdout", "console", &[])
        .route(&["audit", "stdout"])
        .write(&directory.path().join("pswatch.toml"));
    let run = |args: &'static [&'static str]| {
        let config = config.clone();
        async move {
            tokio::task::spawn_blocking(move || pswatch(args, &config, &[]))
                .await
                .expect("join")
        }
    };
    // Before any state exists: a baseline would be recorded, and no store is created.
    let output = run(&["once", "--dry-run"]).await;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains("acme/commerce: first poll: a baseline would be recorded"),
        "{text}"
    );
    assert!(
        !directory.path().join("state").exists(),
        "the dry run created the store"
    );
    assert!(run(&["once"]).await.status.success());

    simulator.update(|world| {
        world
            .database_mut("acme", "commerce")
            .workflow_mut(3)
            .expect("#3")
            .state = "running".into();
    });
    for _ in 0..2 {
        let output = run(&["once", "--dry-run"]).await;
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(output.status.success(), "{text}");
        assert!(text.contains("== audit (webhook) would send =="), "{text}");
        assert!(
            text.contains("\"type\": \"workflow.state_changed\""),
            "{text}"
        );
        assert!(text.contains("== stdout (console) would send =="), "{text}");
        assert!(
            text.contains("acme/commerce workflow #3 move-customers: copying -> running"),
            "{text}"
        );
        assert!(!text.contains("whsec_"), "{text}");
    }
    assert!(receiver.requests().is_empty(), "the dry run sent something");
    // A silence (added on the store: nothing runs) is shown holding the event back.
    let silenced = run(&[
        "silence",
        "add",
        "--database",
        "acme/*",
        "--for",
        "1h",
        "--comment",
        "cutover",
    ])
    .await;
    assert!(silenced.status.success(), "{silenced:?}");
    let id = String::from_utf8_lossy(&silenced.stdout)
        .split_whitespace()
        .next()
        .expect("id")
        .to_owned();
    let output = run(&["once", "--dry-run"]).await;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        text.contains(&format!(
            "copying -> running would be held back by silence {id} (cutover)"
        )),
        "{text}"
    );
    assert!(text.contains("nothing would be sent"), "{text}");
    let expired = tokio::task::spawn_blocking({
        let config = config.clone();
        move || pswatch(&["silence", "expire", &id], &config, &[])
    })
    .await
    .expect("join");
    assert!(expired.status.success(), "{expired:?}");
    // The state did not move: the real run finds the transition and delivers it.
    assert!(run(&["once"]).await.status.success());
    let delivered = receiver.accepted("/hooks");
    assert_eq!(delivered.len(), 1);
    let body: Value = serde_json::from_slice(&delivered[0].body).expect("json");
    assert_eq!(body["data"]["state"], "running");
}

/// The dry run polls exactly what `once` polls: a PostgreSQL database named in `[[watch]]` is
/// skipped, and an organization that cannot be listed is reported while the others are polled.
#[tokio::test(flavor = "multi_thread")]
async fn once_and_its_dry_run_poll_the_same_targets() {
    let mut world = World::default();
    world
        .database_mut("acme", "commerce")
        .workflows
        .push(SimWorkflow::new(3, "move-customers", "copying"));
    world.database_mut("acme", "insights").kind = "postgresql".into();
    let simulator = Simulator::start(world, None).await.expect("simulator");
    let directory = tempfile::tempdir().expect("tempdir");
    let config = ConfigBuilder::new(&simulator.api_url(), &directory.path().join("state"))
        .unset("admin.listen")
        .watch("acme", &["commerce", "insights"])
        .watch("ghost", &[])
        .channel("stdout", "console", &[])
        .route(&["stdout"])
        .write(&directory.path().join("pswatch.toml"));
    let run = |args: &'static [&'static str]| {
        let config = config.clone();
        async move {
            tokio::task::spawn_blocking(move || pswatch(args, &config, &[]))
                .await
                .expect("join")
        }
    };
    let output = run(&["once", "--dry-run"]).await;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("acme/commerce: first poll: a baseline would be recorded"),
        "{text}"
    );
    assert!(!text.contains("acme/insights"), "{text}");
    assert!(
        text.contains("ghost: its databases cannot be listed"),
        "{text}"
    );
    let polled_before = simulator.requests_for("insights");
    assert_eq!(run(&["once"]).await.status.code(), Some(1));
    assert_eq!(simulator.requests_for("insights"), polled_before);
    let shown = run(&["state", "show"]).await;
    let shown = String::from_utf8_lossy(&shown.stdout).into_owned();
    assert!(shown.contains("acme/commerce"), "{shown}");
    assert!(!shown.contains("insights"), "{shown}");
}
