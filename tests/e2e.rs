//! The binary end to end: `pswatch once` against the simulator, delivering to a Slack and a
//! webhook receiver (wiremock) and a real SMTP server.

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;
use simulator::{SimDeployRequest, SimOperation, SimWorkflow, Simulator, World};
use support::config::ConfigBuilder;
use support::{eventually, pswatch, SmtpSink};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SLACK_PATH: &str = "/services/T0001/B0001/slacksecretpath";
const TOKEN: &str = "pscale_tkn_t0ps3cret";

/// A configuration file for the receivers and the environment that completes it.
struct Setup {
    _directory: tempfile::TempDir,
    config_path: std::path::PathBuf,
    environment: Vec<(&'static str, String)>,
}

impl Setup {
    fn new(simulator: &Simulator, receivers: &MockServer, smtp: &SmtpSink) -> Self {
        Self::with_retry(simulator, receivers, smtp, None)
    }

    /// With `retry_schedule` for the Slack and webhook channels, when given.
    fn with_retry(
        simulator: &Simulator,
        receivers: &MockServer,
        smtp: &SmtpSink,
        retry_schedule: Option<&str>,
    ) -> Self {
        let directory = tempfile::tempdir().expect("tempdir");
        let config_path = config(
            &directory.path().join("state"),
            &simulator.api_url(),
            receivers,
            smtp.port,
            retry_schedule,
        )
        .write(&directory.path().join("pswatch.toml"));
        let environment = vec![
            ("TEST_TOKEN_ID", "tok-id".to_string()),
            ("TEST_TOKEN", TOKEN.to_string()),
            ("TEST_SLACK_URL", format!("{}{SLACK_PATH}", receivers.uri())),
            ("TEST_WEBHOOK_SECRET", SECRET.to_string()),
        ];
        Self {
            _directory: directory,
            config_path,
            environment,
        }
    }

    /// Runs `pswatch once` off the async runtime, so the in-process receivers keep serving.
    async fn once(&self) -> Output {
        let config_path = self.config_path.clone();
        let environment = self.environment.clone();
        tokio::task::spawn_blocking(move || pswatch(&["once"], &config_path, &environment))
            .await
            .expect("join")
    }
}

fn world() -> World {
    let mut world = World::default();
    let database = world.database_mut("acme", "commerce");
    database
        .workflows
        .push(SimWorkflow::new(3, "move-customers", "switched_primaries"));
    database.deploy_requests.push(SimDeployRequest {
        branch: "add-order-ref".into(),
        operations: vec![SimOperation {
            ddl_statement: "ALTER TABLE `orders` ADD UNIQUE KEY `idx_ref` (`ref`)".into(),
            ..SimOperation::new("op-orders", "orders", "in_progress")
        }],
        ..SimDeployRequest::new(7, "in_progress")
    });
    world
}

/// The configuration the README shows, with its secrets from the environment: Slack and a
/// signed webhook for every event, email for the moments that matter.
fn config(
    state: &Path,
    api_url: &str,
    receivers: &MockServer,
    smtp_port: u16,
    retry_schedule: Option<&str>,
) -> ConfigBuilder {
    let retry = |config: ConfigBuilder| match retry_schedule {
        Some(delay) => config.with("retry_schedule", vec![delay]),
        None => config,
    };
    let config = ConfigBuilder::new(api_url, state)
        .unset("admin.listen")
        .set("planetscale.service_token_id", "${TEST_TOKEN_ID}")
        .set("planetscale.service_token", "${TEST_TOKEN}")
        .watch("acme", &[])
        .slack("ops-slack", "${TEST_SLACK_URL}");
    let config = retry(config).channel(
        "audit",
        "webhook",
        &[
            ("url", format!("{}/hooks/pswatch", receivers.uri()).into()),
            ("secret", "${TEST_WEBHOOK_SECRET}".into()),
        ],
    );
    retry(config)
        .email("dba-mail", &format!("smtp://127.0.0.1:{smtp_port}"))
        .route(&["ops-slack", "audit"])
        .filter("events", &["*"])
        .route(&["dba-mail"])
        .filter(
            "events",
            &["workflow.state_changed", "deploy_request.state_changed"],
        )
        .filter(
            "states",
            &[
                "cutover",
                "completed",
                "error",
                "complete",
                "complete_error",
            ],
        )
}

#[tokio::test(flavor = "multi_thread")]
async fn once_delivers_each_transition_once_to_every_routed_channel() {
    let simulator = Simulator::start(world(), Some(format!("tok-id:{TOKEN}")))
        .await
        .expect("simulator");
    let receivers = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(SLACK_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&receivers)
        .await;
    Mock::given(method("POST"))
        .and(path("/hooks/pswatch"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receivers)
        .await;
    let smtp = SmtpSink::start();
    let setup = Setup::new(&simulator, &receivers, &smtp);

    let check = pswatch(&["check"], &setup.config_path, &setup.environment);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );

    // The first poll is a silent baseline.
    let output = setup.once().await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(receivers
        .received_requests()
        .await
        .expect("recorded")
        .is_empty());

    // Three transitions while pswatch is not running.
    simulator.update(|world| {
        let database = world.database_mut("acme", "commerce");
        database.workflow_mut(3).expect("workflow").state = "cutover".into();
        let request = database.deploy_request_mut(7).expect("deploy request");
        request.deployment_state = "error".into();
        let operation = request.operation_mut("orders").expect("operation");
        operation.state = "error".into();
        operation.deploy_errors = Some("Duplicate entry 'A-1042' for key 'orders.idx_ref'".into());
    });
    let output = setup.once().await;
    let logs = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "{logs}");

    let requests = receivers.received_requests().await.expect("recorded");
    let webhooks: Vec<_> = requests
        .iter()
        .filter(|request| request.url.path() == "/hooks/pswatch")
        .collect();
    let slack: Vec<_> = requests
        .iter()
        .filter(|request| request.url.path() == SLACK_PATH)
        .collect();

    // The webhook: one signed request per event, each with its own id.
    let verifier = standardwebhooks::Webhook::new(SECRET).expect("verifier");
    let mut seen = Vec::new();
    for request in &webhooks {
        let mut headers = reqwest::header::HeaderMap::new();
        for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
            let value = request
                .headers
                .get(name)
                .expect(name)
                .to_str()
                .expect("ascii");
            headers.insert(name, value.parse().expect("header"));
        }
        verifier
            .verify(&request.body, &headers)
            .expect("signature verifies");
        let body: Value = serde_json::from_slice(&request.body).expect("json");
        assert_eq!(
            body["data"]["id"],
            headers["webhook-id"].to_str().expect("id")
        );
        seen.push(format!(
            "{} {} -> {}",
            body["type"].as_str().expect("type"),
            body["data"]["previous_state"].as_str().unwrap_or("null"),
            body["data"]["state"].as_str().expect("state"),
        ));
    }
    assert_eq!(
        seen,
        [
            "workflow.state_changed switched_primaries -> cutover",
            "deploy_operation.state_changed in_progress -> error",
            "deploy_request.state_changed in_progress -> error",
        ]
    );
    let ids: BTreeSet<_> = webhooks
        .iter()
        .map(|request| {
            request.headers["webhook-id"]
                .to_str()
                .expect("id")
                .to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 3);

    // Slack: the events of one database and poll go out as one message that lists them, its
    // text escaped for mrkdwn as its blocks are.
    let texts: Vec<String> = slack
        .iter()
        .map(|request| {
            let body: Value = serde_json::from_slice(&request.body).expect("json");
            body["text"].as_str().expect("text").to_owned()
        })
        .collect();
    assert_eq!(
        texts,
        [
            "acme/commerce workflow #3 move-customers: switched_primaries -&gt; cutover\n\
          acme/commerce deploy request #7 table orders: in_progress -&gt; error\n\
          acme/commerce deploy request #7: in_progress -&gt; error"
        ]
    );

    // Email: the route selects the workflow's cutover and the deploy request's error, which
    // one poll found, so they come in one email.
    let messages = smtp.wait_for(1, Duration::from_secs(5));
    let subjects: Vec<String> = messages
        .iter()
        .map(|raw| {
            mail_parser::MessageParser::default()
                .parse(raw)
                .and_then(|message| message.subject().map(str::to_owned))
                .expect("subject")
        })
        .collect();
    assert_eq!(
        subjects,
        ["[pswatch] acme/commerce: 2 changes (workflow #3 move-customers: switched_primaries -> cutover)"]
    );
    let body = String::from_utf8_lossy(&messages[0]);
    assert!(
        body.contains("deploy request #7: in_progress -> error"),
        "{body}"
    );

    // Nothing changed: nothing is sent again.
    let output = setup.once().await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        receivers.received_requests().await.expect("recorded").len(),
        requests.len()
    );
    assert_eq!(smtp.wait_for(1, Duration::from_secs(5)).len(), 1);

    // Debug logs name things but never the secrets.
    for secret in [
        "pscale_tkn_t0ps3cret",
        "slacksecretpath",
        "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    ] {
        assert!(!logs.contains(secret), "{secret} leaked into the logs");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn once_exits_non_zero_while_deliveries_remain_and_delivers_them_later() {
    let simulator = Simulator::start(world(), Some(format!("tok-id:{TOKEN}")))
        .await
        .expect("simulator");
    let receivers = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .mount(&receivers)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receivers)
        .await;
    let smtp = SmtpSink::start();
    // A short first retry (2 s ± 20 %), so the test need not wait the default 5 s.
    let setup = Setup::with_retry(&simulator, &receivers, &smtp, Some("2s"));
    let output = setup.once().await;
    assert!(output.status.success());
    simulator.update(|world| {
        world
            .database_mut("acme", "commerce")
            .workflow_mut(3)
            .expect("workflow")
            .state = "cutover".into();
    });
    // Slack and the webhook both answer 503 once: the event stays pending, exit code 2.
    let output = setup.once().await;
    assert_eq!(
        output.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // A run before the retry is due leaves it alone: a restart does not hammer the receiver.
    let output = setup.once().await;
    assert_eq!(
        output.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Once the retry is due, a run delivers it, with no new transition.
    let delivered = eventually(Duration::from_secs(10), || async {
        setup.once().await.status.success().then_some(())
    })
    .await;
    assert!(delivered.is_some(), "the retry was never delivered");
    let requests = receivers.received_requests().await.expect("recorded");
    let ok_ids: Vec<_> = requests
        .iter()
        .filter(|request| request.url.path() == "/hooks/pswatch")
        .map(|request| {
            request.headers["webhook-id"]
                .to_str()
                .expect("id")
                .to_owned()
        })
        .collect();
    assert_eq!(ok_ids.len(), 2, "one failed attempt and one retry");
    assert_eq!(ok_ids[0], ok_ids[1], "a retry keeps its webhook-id");
    assert_eq!(smtp.wait_for(1, Duration::from_secs(5)).len(), 1);
}

#[test]
fn check_warns_of_an_api_url_without_v1_and_still_passes() {
    let directory = tempfile::tempdir().expect("tempdir");
    let config_path = directory.path().join("pswatch.toml");
    std::fs::write(
        &config_path,
        r#"
[planetscale]
api_url = "https://api.planetscale.com"
service_token_id = "tok-id"
service_token = "tok"
[[watch]]
organization = "acme"
[[channels]]
name = "stdout"
type = "console"
[[routes]]
channels = ["stdout"]
"#,
    )
    .expect("write");
    let output = pswatch(&["check"], &config_path, &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "warning: planetscale.api_url: \"https://api.planetscale.com/\" does not end in /v1"
        ),
        "{stderr}"
    );
}

#[test]
fn check_reports_every_problem_and_exits_non_zero() {
    let directory = tempfile::tempdir().expect("tempdir");
    let config_path = directory.path().join("bad.toml");
    std::fs::write(
        &config_path,
        r#"
[planetscale]
service_token_id = "${UNSET_TOKEN_ID_FOR_TEST}"
service_token = "x"
[poll]
interval = "often"
[[watch]]
organization = "acme"
[[channels]]
name = "audit"
type = "webhook"
url = "https://hooks.example.com"
secret = "not-a-secret"
[[routes]]
channels = ["audit", "nowhere"]
"#,
    )
    .expect("write");
    let output = pswatch(&["check"], &config_path, &[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for expected in [
        "4 problems",
        "planetscale.service_token_id: environment variable UNSET_TOKEN_ID_FOR_TEST is not set",
        "poll.interval: \"often\" is not a duration",
        "channels[0].secret: must start with \"whsec_\"",
        "routes[0].channels[1]: \"nowhere\" is not the name of a channel",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in:\n{stderr}"
        );
    }
    let missing = pswatch(&["check"], &directory.path().join("absent.toml"), &[]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read it"));
}

#[test]
fn the_demo_plays_the_scenario_and_exits() {
    let output = Command::new(env!("CARGO_BIN_EXE_pswatch"))
        .args(["demo", "--step", "300ms"])
        .output()
        .expect("run the demo");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    for expected in [
        "workflow #2 move-customers: new: pending",
        "workflow #2 move-customers: pending -> copying",
        "workflow #2 move-customers: copying -> running",
        "workflow #2 move-customers: running -> switched_replicas",
        "workflow #2 move-customers: switched_replicas -> switched_primaries",
        "workflow #2 move-customers: switched_primaries -> cutover",
        "workflow #2 move-customers: cutover -> completed",
        "deploy request #7 table orders: in_progress -> error | error: Duplicate entry",
        "deploy request #7: in_progress -> complete_error",
        "deploy request #8: pending -> error | why validation failed: table \"audit_log\" has no unique key",
        "deploy request #6 revert of table customers: submit -> error | revert error: Lock wait timeout",
        "deploy request #6: in_progress_revert -> complete_revert_error",
        "backup bk-1123 of branch main: running -> failed",
        "resize of branch main: resizing -> completed",
    ] {
        assert_eq!(
            lines.iter().filter(|line| line.contains(expected)).count(),
            1,
            "{expected:?} once in:\n{stdout}"
        );
    }
    assert!(
        !stdout.contains("move-legacy") && !stdout.contains("bk-1122"),
        "the baseline is silent:\n{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_also_sends_to_the_channels_of_a_file() {
    let receivers = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hooks/pswatch"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receivers)
        .await;
    let directory = tempfile::tempdir().expect("tempdir");
    let config_path = directory.path().join("pswatch.toml");
    // Only channels and routes are read: the unset token variables do not matter to the demo.
    std::fs::write(
        &config_path,
        format!(
            r#"
[planetscale]
service_token_id = "${{UNSET_TOKEN_ID_FOR_DEMO}}"
service_token = "${{UNSET_TOKEN_FOR_DEMO}}"

[[watch]]
organization = "acme"

[[channels]]
name = "audit"
type = "webhook"
url = "{}/hooks/pswatch"
secret = "{SECRET}"

[[routes]]
channels = ["audit"]
events = ["workflow.*"]
"#,
            receivers.uri()
        ),
    )
    .expect("write config");
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_pswatch"))
            .args(["demo", "--step", "200ms", "-c"])
            .arg(&config_path)
            .output()
            .expect("run the demo")
    })
    .await
    .expect("join");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("deploy request #7: in_progress -> complete_error"),
        "the console still prints everything:\n{stdout}"
    );
    let states: Vec<String> = receivers
        .received_requests()
        .await
        .expect("recorded")
        .iter()
        .map(|request| {
            let body: Value = serde_json::from_slice(&request.body).expect("json");
            body["data"]["state"].as_str().expect("state").to_owned()
        })
        .collect();
    assert_eq!(
        states,
        [
            "pending",
            "copying",
            "running",
            "switched_replicas",
            "switched_primaries",
            "cutover",
            "completed"
        ]
    );
}

/// Starts `pswatch demo` with `arguments` and returns it with the line in which it names its
/// status page.
fn start_demo(arguments: &[&str]) -> (std::process::Child, String) {
    use std::io::BufRead as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_pswatch"))
        .args(["demo", "--step", "300ms"])
        .args(arguments)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run the demo");
    let stderr = child.stderr.take().expect("stderr");
    let (sender, lines) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = sender.send(line);
        }
    });
    let line = loop {
        let line = lines
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("the demo names its page");
        if line.starts_with("pswatch demo: the status page ") {
            break line;
        }
    };
    (child, line)
}

/// The demo serves the status page on a loopback port and says where, so the scenario can be
/// watched in a browser.
#[tokio::test(flavor = "multi_thread")]
async fn the_demo_serves_the_status_page_while_it_runs() {
    let (mut child, line) = tokio::task::block_in_place(|| start_demo(&[]));
    let address = line
        .strip_prefix("pswatch demo: the status page is at ")
        .and_then(|rest| rest.split_whitespace().next())
        .expect("url")
        .to_owned();
    assert!(address.starts_with("http://127.0.0.1:"), "{address}");
    let page = reqwest::get(&address).await.expect("page");
    assert_eq!(page.status().as_u16(), 200);
    assert!(page
        .text()
        .await
        .expect("html")
        .contains("<h1>pswatch</h1>"));
    let status: serde_json::Value = reqwest::get(format!("{address}api/status"))
        .await
        .expect("status")
        .json()
        .await
        .expect("json");
    assert!(status["targets"].is_array());
    let exited = tokio::task::spawn_blocking(move || child.wait())
        .await
        .expect("join")
        .expect("wait");
    assert!(exited.success());
}

/// `--listen` puts the page where it says (in a container, off loopback); off loopback it asks
/// for a token made for the run, which the demo prints.
#[tokio::test(flavor = "multi_thread")]
async fn the_demo_listens_where_asked_and_off_loopback_asks_for_its_token() {
    let port = support::fleet::free_port();
    let (mut child, line) =
        tokio::task::block_in_place(|| start_demo(&["--listen", &format!("0.0.0.0:{port}")]));
    let token = line
        .strip_prefix(&format!(
            "pswatch demo: the status page listens on 0.0.0.0:{port} while the demo runs; sign in with the token "
        ))
        .unwrap_or_else(|| panic!("{line}"))
        .trim()
        .to_owned();
    let url = format!("http://127.0.0.1:{port}/api/status");
    let client = reqwest::Client::new();
    let anonymous = client.get(&url).send().await.expect("answered");
    assert_eq!(anonymous.status().as_u16(), 401);
    let signed = client
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .expect("answered");
    assert_eq!(signed.status().as_u16(), 200);
    let exited = tokio::task::spawn_blocking(move || child.wait())
        .await
        .expect("join")
        .expect("wait");
    assert!(exited.success());
}
