//! `type = "alertmanager"` against a real Alertmanager (Debian's `prometheus-alertmanager`,
//! started here on loopback behind basic authentication, its own webhook receiver pointed at a
//! loopback sink): pswatch's alerts appear in Alertmanager's API and reach its receiver with
//! pswatch's labels, grouped; they are sent again while they last, across a restart of pswatch;
//! they are resolved there when the workflows move on; the password appears nowhere.

mod support;

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use simulator::{SimWorkflow, World};
use support::fleet::Fleet;
use support::loopback::{flag, resolves, AlertsSink, Program};
use support::receiver::Receiver;
use support::Service;

const PASSWORD: &str = "am-password-for-the-tests-0123";
/// bcrypt of [`PASSWORD`], as Alertmanager's web configuration takes it.
const PASSWORD_HASH: &str = "$2b$04$6b2688L9dgD.AJVN7w9Npu3zbCwEFfTMJ8D8AwfbVzkQWqMxlCH0i";

/// An Alertmanager on loopback, killed when dropped.
struct Alertmanager {
    _program: Program,
    url: String,
    _directory: tempfile::TempDir,
}

impl Alertmanager {
    /// Groups by alert name and database, notifies `sink` at once (resolutions too), and asks
    /// for basic authentication.
    async fn start(sink: &str) -> Self {
        let directory = tempfile::tempdir().expect("tempdir");
        let config = directory.path().join("alertmanager.yml");
        std::fs::write(
            &config,
            format!(
                "route:\n  receiver: sink\n  group_by: ['alertname', 'organization', 'database']\n  group_wait: 2s\n  group_interval: 1s\n  repeat_interval: 1h\n\
                 receivers:\n  - name: sink\n    webhook_configs:\n      - url: '{sink}'\n        send_resolved: true\n"
            ),
        )
        .expect("config");
        let web = directory.path().join("web.yml");
        std::fs::write(
            &web,
            format!("basic_auth_users:\n  pswatch: '{PASSWORD_HASH}'\n"),
        )
        .expect("web config");
        let program = Program::start(
            "prometheus-alertmanager",
            "prometheus-alertmanager",
            &[
                flag("config.file", &config),
                flag("web.config.file", &web),
                flag("storage.path", &directory.path().join("data")),
                "--cluster.listen-address=".to_owned(),
            ],
            &directory.path().join("alertmanager.log"),
        )
        .await;
        Self {
            url: program.url.clone(),
            _program: program,
            _directory: directory,
        }
    }

    /// Alertmanager's alerts of `alertname`, through its API.
    async fn alerts(&self, alertname: &str) -> Vec<Value> {
        let response = reqwest::Client::new()
            .get(format!("{}/api/v2/alerts", self.url))
            .basic_auth("pswatch", Some(PASSWORD))
            .send()
            .await
            .expect("alerts");
        assert_eq!(response.status(), 200);
        let alerts: Vec<Value> = response.json().await.expect("json");
        alerts
            .into_iter()
            .filter(|alert| alert["labels"]["alertname"] == alertname)
            .collect()
    }
}

/// The notifications Alertmanager's receiver got, oldest first.
fn notifications(sink: &Receiver) -> Vec<Value> {
    sink.requests()
        .iter()
        .filter(|request| request.path == "/am")
        .map(|request| serde_json::from_slice(&request.body).expect("JSON"))
        .collect()
}

/// The first notification of `status` (`firing`, `resolved`) Alertmanager's receiver gets
/// within 20 s.
async fn notification(sink: &Receiver, status: &str) -> Option<Value> {
    support::eventually(Duration::from_secs(20), || {
        std::future::ready(
            notifications(sink)
                .into_iter()
                .find(|notification| notification["status"] == status),
        )
    })
    .await
}

fn move_workflow(fleet: &Fleet, number: u64, state: &str) {
    fleet.simulator.update(|world| {
        world
            .database_mut("acme", "commerce")
            .workflow_mut(number)
            .expect("workflow")
            .state = state.into();
    });
}

fn start(config: &Path, fleet: &Fleet) -> Service {
    Service::start(
        config,
        &[("TEST_AM_PASSWORD", PASSWORD.into())],
        fleet.directory.path(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_real_alertmanager_receives_groups_and_resolves_pswatchs_alerts() {
    let mut world = World::default();
    let commerce = world.database_mut("acme", "commerce");
    commerce
        .workflows
        .push(SimWorkflow::new(3, "move-customers", "running"));
    commerce
        .workflows
        .push(SimWorkflow::new(4, "move-orders", "running"));
    let fleet = Fleet::start(world).await;
    let sink = Receiver::start().await;
    let alertmanager = Alertmanager::start(&format!("{}/am", sink.url)).await;
    let mut basic_auth = toml::Table::new();
    basic_auth.insert("username".into(), "pswatch".into());
    basic_auth.insert("password".into(), "${TEST_AM_PASSWORD}".into());
    let config = fleet.write(
        fleet
            .config("300ms")
            .watch("acme", &["commerce"])
            .channel(
                "alertmanager",
                "alertmanager",
                &[
                    ("urls", vec![alertmanager.url.clone()].into()),
                    ("basic_auth", toml::Value::Table(basic_auth)),
                    ("resend", "10s".into()),
                ],
            )
            .route(&["alertmanager"]),
    );
    let mut service = start(&config, &fleet);
    service.logged("baseline recorded").await;

    // Both workflows fail in one poll: two alerts, one notification of their group.
    move_workflow(&fleet, 3, "error");
    move_workflow(&fleet, 4, "error");
    let firing = support::eventually(Duration::from_secs(30), || async {
        let alerts = alertmanager.alerts("PlanetScaleWorkflowError").await;
        (alerts.len() == 2).then_some(alerts)
    })
    .await
    .unwrap_or_else(|| panic!("no alerts in Alertmanager: {}", service.stderr()));
    let three = firing
        .iter()
        .find(|alert| alert["labels"]["resource"] == "workflow/3")
        .expect("workflow 3's alert");
    assert_eq!(three["labels"]["organization"], "acme");
    assert_eq!(three["labels"]["database"], "commerce");
    assert_eq!(three["labels"]["severity"], "critical");
    assert_eq!(three["status"]["state"], "active");
    assert!(
        three["annotations"]["summary"]
            .as_str()
            .is_some_and(|summary| summary.contains("running -> error")),
        "{three}"
    );
    assert_eq!(
        three["annotations"]["url"],
        "https://app.planetscale.com/acme/commerce/workflows"
    );
    assert_eq!(
        three["generatorURL"],
        "https://app.planetscale.com/acme/commerce/workflows"
    );
    let grouped = notification(&sink, "firing")
        .await
        .expect("Alertmanager notifies its receiver");
    assert_eq!(
        grouped["groupLabels"]["alertname"],
        "PlanetScaleWorkflowError"
    );
    assert_eq!(grouped["groupLabels"]["database"], "commerce");
    assert_eq!(
        grouped["alerts"].as_array().map(Vec::len),
        Some(2),
        "one notification for the group: {grouped:#}"
    );
    assert_eq!(grouped["commonLabels"]["severity"], "critical");

    // Sent again while it lasts: Alertmanager's end of the alert moves on.
    let ends_at = |alerts: &[Value]| -> String {
        alerts
            .iter()
            .find(|alert| alert["labels"]["resource"] == "workflow/3")
            .and_then(|alert| alert["endsAt"].as_str())
            .expect("endsAt")
            .to_owned()
    };
    let first_end = ends_at(&firing);
    let resent = support::eventually(Duration::from_secs(30), || async {
        let alerts = alertmanager.alerts("PlanetScaleWorkflowError").await;
        (ends_at(&alerts) > first_end).then_some(ends_at(&alerts))
    })
    .await
    .expect("the alert is sent again within its resend");

    // A restart of pswatch: what fires is in the store, and the new process sends it again.
    service.terminate(Duration::from_secs(20)).await;
    let service = start(&config, &fleet);
    service.logged("watching").await;
    support::eventually(Duration::from_secs(30), || async {
        let alerts = alertmanager.alerts("PlanetScaleWorkflowError").await;
        (ends_at(&alerts) > resent).then_some(())
    })
    .await
    .expect("the restarted pswatch sends the firing alerts again");

    // The workflows move on: resolved in Alertmanager, and its receiver says so.
    move_workflow(&fleet, 3, "running");
    move_workflow(&fleet, 4, "cancelled");
    support::eventually(Duration::from_secs(30), || async {
        let alerts = alertmanager.alerts("PlanetScaleWorkflowError").await;
        alerts
            .iter()
            .all(|alert| alert["status"]["state"] != "active")
            .then_some(())
    })
    .await
    .expect("the alerts are resolved in Alertmanager");
    let resolved = notification(&sink, "resolved")
        .await
        .expect("Alertmanager's receiver hears of the resolution");
    assert_eq!(resolved["alerts"].as_array().map(Vec::len), Some(2));

    // The password is in no log and no request pswatch's audit webhook received.
    assert!(!service.stderr().contains(PASSWORD));
    for request in fleet.receiver.requests() {
        assert!(!String::from_utf8_lossy(&request.body).contains(PASSWORD));
    }
}

/// Alertmanager refusing the credentials: a permanent failure naming the answer, never the
/// password; a bearer token reaches the Alertmanager (or its proxy) as such.
#[tokio::test(flavor = "multi_thread")]
async fn wrong_credentials_are_named_and_a_bearer_token_is_sent() {
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let sink = Receiver::start().await;
    let alertmanager = Alertmanager::start(&format!("{}/am", sink.url)).await;
    let proxy = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v2/alerts"))
        .and(header("authorization", "Bearer am-bearer-token-0123456789"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&proxy)
        .await;
    let directory = tempfile::tempdir().expect("tempdir");
    let mut basic_auth = toml::Table::new();
    basic_auth.insert("username".into(), "pswatch".into());
    basic_auth.insert("password".into(), "not-the-password-0123456789".into());
    let config = support::config::ConfigBuilder::new(
        "http://127.0.0.1:9/v1",
        &directory.path().join("state"),
    )
    .watch("acme", &["commerce"])
    .channel(
        "refused",
        "alertmanager",
        &[
            ("urls", vec![alertmanager.url.clone()].into()),
            ("basic_auth", toml::Value::Table(basic_auth)),
        ],
    )
    .channel(
        "proxied",
        "alertmanager",
        &[
            ("urls", vec![proxy.uri()].into()),
            ("bearer_token", "am-bearer-token-0123456789".into()),
        ],
    )
    .route(&["refused", "proxied"])
    .write(&directory.path().join("pswatch.toml"));
    let notify = |channel: &'static str| {
        let config = config.clone();
        tokio::task::spawn_blocking(move || {
            support::pswatch(&["test-notify", "--channel", channel], &config, &[])
        })
    };
    let refused = notify("refused").await.expect("test-notify");
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{said}");
    assert!(said.contains("answered HTTP 401"), "{said}");
    assert!(!said.contains("not-the-password-0123456789"), "{said}");
    let proxied = notify("proxied").await.expect("test-notify");
    assert!(
        proxied.status.success(),
        "{}",
        String::from_utf8_lossy(&proxied.stderr)
    );
    let received = proxy.received_requests().await.expect("requests");
    assert_eq!(received.len(), 1);
    let body: Value = serde_json::from_slice(&received[0].body).expect("JSON");
    assert_eq!(body[0]["labels"]["alertname"], "PswatchTest");
}

/// `once --dry-run` shows the alerts a poll would fire, and those it would resolve (read from
/// the store), and sends nothing.
#[tokio::test(flavor = "multi_thread")]
async fn the_dry_run_shows_what_would_fire_and_resolve() {
    let alertmanager = AlertsSink::start().await;
    let mut world = World::default();
    world
        .database_mut("acme", "commerce")
        .workflows
        .push(SimWorkflow::new(3, "move-customers", "running"));
    let fleet = Fleet::start(world).await;
    let config = fleet.write(
        fleet
            .config("1s")
            .unset("admin.listen")
            .watch("acme", &["commerce"])
            .channel(
                "alertmanager",
                "alertmanager",
                &[("urls", vec![alertmanager.server.uri()].into())],
            )
            .route(&["alertmanager"]),
    );
    let run = |args: &'static [&'static str]| {
        let config = config.clone();
        async move {
            tokio::task::spawn_blocking(move || support::pswatch(args, &config, &[]))
                .await
                .expect("join")
        }
    };
    assert!(run(&["once"]).await.status.success());
    move_workflow(&fleet, 3, "error");
    let output = run(&["once", "--dry-run"]).await;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains("== alertmanager (alertmanager) would send =="),
        "{text}"
    );
    assert!(
        text.contains("POST /api/v2/alerts to 1 Alertmanager(s)"),
        "{text}"
    );
    assert!(
        text.contains("\"alertname\": \"PlanetScaleWorkflowError\""),
        "{text}"
    );
    assert!(alertmanager.posts().await.is_empty());
    assert!(run(&["once"]).await.status.success());
    assert_eq!(alertmanager.posts().await.len(), 1);
    // Out of error: the dry run shows the alert it would resolve, with an end of now.
    move_workflow(&fleet, 3, "running");
    let output = run(&["once", "--dry-run"]).await;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        text.contains("\"alertname\": \"PlanetScaleWorkflowError\""),
        "{text}"
    );
    assert!(text.contains("\"resource\": \"workflow/3\""), "{text}");
    let fired = alertmanager.posts().await.remove(0);
    assert!(
        text.contains(&format!("\"startsAt\": {}", fired[0]["startsAt"])),
        "the resolution keeps the start it fired with: {text}"
    );
}

/// A database no longer watched (its `[[watch]]` changed, the configuration reloaded) has
/// nothing left to end its alerts: they are resolved, and not sent again.
#[tokio::test(flavor = "multi_thread")]
async fn the_alerts_of_a_database_no_longer_watched_are_resolved() {
    let alertmanager = AlertsSink::start().await;
    let mut world = World::default();
    world
        .database_mut("acme", "commerce")
        .workflows
        .push(SimWorkflow::new(3, "move-customers", "running"));
    world.database_mut("acme", "users");
    let fleet = Fleet::start(world).await;
    let config = |databases: &[&str]| {
        fleet.write(
            fleet
                .config("300ms")
                .watch("acme", databases)
                .channel(
                    "alertmanager",
                    "alertmanager",
                    &[("urls", vec![alertmanager.server.uri()].into())],
                )
                .route(&["alertmanager"]),
        )
    };
    let path = config(&["commerce", "users"]);
    let service = start(&path, &fleet);
    service
        .logged("baseline recorded target_db=acme/commerce")
        .await;
    move_workflow(&fleet, 3, "error");
    support::eventually(Duration::from_secs(20), || async {
        (!alertmanager.posts().await.is_empty()).then_some(())
    })
    .await
    .expect("the alert fires");

    config(&["users"]);
    let _ = std::process::Command::new("kill")
        .args(["-HUP", &service.id().to_string()])
        .status();
    let resolved = support::eventually(Duration::from_secs(20), || async {
        alertmanager.posts().await.into_iter().find(resolves)
    })
    .await
    .unwrap_or_else(|| panic!("not resolved: {}", service.stderr()));
    assert_eq!(resolved[0]["labels"]["resource"], "workflow/3");
    service
        .logged("resolved the firing alerts of databases no longer watched")
        .await;
}
