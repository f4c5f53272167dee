//! In the tools teams already run: the state metrics pass `promtool check metrics`, the shipped
//! rules pass `promtool check rules` and `promtool test rules`, every metric the rules and the
//! dashboard name is one pswatch exposes, and a real Prometheus scraping pswatch fires a
//! shipped rule for a deploy request left waiting for its cutover. Prometheus and promtool are
//! Debian's (`bash tests/tools/install`).

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use simulator::{SimBackup, SimDeployRequest, SimWorkflow, World};
use support::fleet::Fleet;
use support::loopback::{flag, Program};
use support::{get, Service};

const ADMIN_TOKEN: &str = "admin-token-for-the-prometheus-tests-0123";
const READ_TOKEN: &str = "read-token-for-prometheus-scrapes-0123456";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn rules() -> PathBuf {
    root().join("deploy/prometheus/rules.yml")
}

/// Runs `promtool ARGS` with `input` on its standard input: its exit status and what it said.
fn promtool(args: &[&str], input: &str) -> (bool, String) {
    use std::io::Write as _;
    let mut child = Command::new("promtool")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (Debian's prometheus package; bash tests/tools/install)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write");
    let output = child.wait_with_output().expect("promtool");
    (
        output.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

/// An RFC 3339 time `ago` before now.
fn ago(ago: Duration) -> String {
    let at = time::OffsetDateTime::now_utc() - ago;
    at.format(&time::format_description::well_known::Rfc3339)
        .expect("format")
}

/// acme/commerce: deploy request #7 deploying `orders`, #8 ready to cut over for two hours,
/// workflow #3 running, and backups of main: a success, then a failure.
fn world() -> World {
    let mut world = World::default();
    let commerce = world.database_mut("acme", "commerce");
    commerce
        .deploy_requests
        .push(SimDeployRequest::new(7, "in_progress").with_operation(
            "op-1",
            "orders",
            "in_progress",
        ));
    let mut waiting = SimDeployRequest::new(8, "pending_cutover");
    waiting.ready_to_cutover_at = Some(ago(Duration::from_secs(2 * 3600)));
    commerce.deploy_requests.push(waiting);
    commerce
        .workflows
        .push(SimWorkflow::new(3, "move-customers", "running"));
    let mut done = SimBackup::new("bk1", "main");
    done.state = "success".into();
    done.completed_at = Some(ago(Duration::from_secs(13 * 3600)));
    commerce.backups.push(done);
    let mut failed = SimBackup::new("bk2", "main");
    failed.state = "failed".into();
    failed.completed_at = Some(ago(Duration::from_secs(3600)));
    commerce.backups.push(failed);
    world
}

/// pswatch on `fleet`, its admin server behind a token and a read token.
fn start(fleet: &Fleet, max_resources: Option<i64>) -> Service {
    let mut config = fleet
        .config("1s")
        .set("admin.token", "${TEST_ADMIN_TOKEN}")
        .set("admin.read_tokens", vec!["${TEST_READ_TOKEN}".to_owned()])
        .watch("acme", &["commerce"])
        .watch_with("resources", vec!["workflows", "deploy_requests", "backups"]);
    if let Some(max) = max_resources {
        config = config.set("metrics.max_resources", max);
    }
    let config = fleet.write(config);
    Service::start(
        &config,
        &[
            ("TEST_ADMIN_TOKEN", ADMIN_TOKEN.into()),
            ("TEST_READ_TOKEN", READ_TOKEN.into()),
        ],
        fleet.directory.path(),
    )
}

async fn scrape(url: &str) -> String {
    let response = reqwest::Client::new()
        .get(url)
        .bearer_auth(READ_TOKEN)
        .send()
        .await
        .expect("scrape");
    assert_eq!(response.status(), 200);
    response.text().await.expect("body")
}

/// Scrapes `url` until `done` holds of the text.
async fn scrape_until(url: &str, what: &str, done: impl Fn(&str) -> bool) -> String {
    support::eventually(Duration::from_secs(30), || async {
        let text = scrape(url).await;
        done(&text).then_some(text)
    })
    .await
    .unwrap_or_else(|| panic!("{what} not on /metrics in 30 s"))
}

/// The metric names of an exposition: what its samples name, and what a histogram's name
/// stands for.
fn exposed(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .filter_map(|line| line.split(['{', ' ']).next())
        .map(str::to_owned)
        .collect()
}

/// The names of pswatch's metrics in `text` (a rule, a query).
fn named(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(start) = rest.find("pswatch_") {
        let name: String = rest[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        rest = &rest[start + name.len()..];
        names.insert(name);
    }
    names
}

/// Every query of the dashboard: its panels' targets and its variables'.
fn dashboard_queries() -> Vec<String> {
    let text =
        std::fs::read_to_string(root().join("deploy/grafana/pswatch.json")).expect("the dashboard");
    let dashboard: Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    let mut queries = Vec::new();
    // The picture of docs/prometheus.md shows every panel.
    let picture = std::fs::read_to_string(root().join("docs/grafana-dashboard.svg"))
        .expect("the dashboard's picture");
    for panel in dashboard["panels"].as_array().expect("panels") {
        let title = panel["title"].as_str().expect("title");
        assert!(
            picture.contains(title),
            "docs/grafana-dashboard.svg does not show the panel {title:?}"
        );
        let targets = panel["targets"].as_array().expect("every panel queries");
        assert!(!targets.is_empty(), "{panel}");
        for target in targets {
            queries.push(target["expr"].as_str().expect("expr").to_owned());
        }
    }
    for variable in dashboard["templating"]["list"]
        .as_array()
        .expect("variables")
    {
        if let Some(query) = variable["definition"].as_str() {
            queries.push(query.to_owned());
        }
    }
    queries
}

#[tokio::test(flavor = "multi_thread")]
async fn the_state_metrics_pass_promtool_and_name_what_the_rules_and_dashboard_use() {
    let fleet = Fleet::start(world()).await;
    let service = start(&fleet, None);
    let metrics = format!("{}/metrics", service.admin_url().await);
    // A transition delivered, so that the delivery series exist too.
    service.logged("baseline recorded").await;
    fleet.simulator.update(|world| {
        world
            .database_mut("acme", "commerce")
            .workflow_mut(3)
            .expect("workflow")
            .state = "error".into();
    });
    fleet.wait_for("workflow.state_changed", 1).await;
    let text = scrape_until(&metrics, "the state of everything", |text| {
        text.contains("pswatch_backup_last_failure_timestamp_seconds{")
            && text.contains(r#"state="error",workflow="3"} 1"#)
            && text.contains("pswatch_detection_to_delivery_seconds_bucket")
    })
    .await;

    for series in [
        r#"pswatch_deploy_request_state{database="commerce",deployment_state="in_progress",number="7",organization="acme",state="open"} 1"#,
        r#"pswatch_deploy_request_state{database="commerce",deployment_state="pending_cutover",number="8",organization="acme",state="open"} 1"#,
        r#"pswatch_deploy_operation_progress_ratio{database="commerce",keyspace="commerce",number="7",organization="acme",table="orders"} 0.375"#,
        r#"pswatch_workflow_state{database="commerce",organization="acme",state="error",workflow="3"} 1"#,
        "pswatch_metrics_resources_dropped 0",
    ] {
        assert!(text.contains(series), "{series} missing from:\n{text}");
    }
    // Since when: #8 since PlanetScale said it became ready, two hours ago.
    let since = |kind: &str, resource: &str| -> i64 {
        let prefix = format!(
            r#"pswatch_resource_state_since_timestamp_seconds{{database="commerce",kind="{kind}",organization="acme",resource="{resource}"}} "#
        );
        text.lines()
            .find_map(|line| line.strip_prefix(prefix.as_str()))
            .unwrap_or_else(|| panic!("{prefix} missing from:\n{text}"))
            .parse()
            .expect("seconds")
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert!((now - since("deploy_request", "8") - 7200).abs() < 120);
    assert!(now - since("deploy_request", "7") < 120);
    assert!(now - since("workflow", "3") < 120);
    let backup = |metric: &str| -> i64 {
        let prefix =
            format!(r#"{metric}{{branch="main",database="commerce",organization="acme"}} "#);
        text.lines()
            .find_map(|line| line.strip_prefix(prefix.as_str()))
            .unwrap_or_else(|| panic!("{prefix} missing"))
            .parse()
            .expect("seconds")
    };
    assert!(
        (now - backup("pswatch_backup_last_success_timestamp_seconds") - 13 * 3600).abs() < 120
    );
    assert!((now - backup("pswatch_backup_last_failure_timestamp_seconds") - 3600).abs() < 120);

    // promtool lints the exposition.
    let (passed, said) = promtool(&["check", "metrics"], &text);
    assert!(passed, "promtool check metrics: {said}\n{text}");

    // The shipped rules: valid, their unit tests pass, and every metric they (and their tests'
    // series) name is one pswatch exposes; the same of the dashboard's queries.
    let (passed, said) = promtool(&["check", "rules", rules().to_str().expect("path")], "");
    assert!(passed, "promtool check rules: {said}");
    let tests = root().join("deploy/prometheus/rules.test.yml");
    let (passed, said) = promtool(&["test", "rules", tests.to_str().expect("path")], "");
    assert!(passed, "promtool test rules: {said}");
    let exposed = exposed(&text);
    let mut checked = 0;
    for (what, text) in [
        (
            "rules.yml",
            std::fs::read_to_string(rules()).expect("rules"),
        ),
        (
            "rules.test.yml",
            std::fs::read_to_string(&tests).expect("tests"),
        ),
    ]
    .into_iter()
    .chain(
        dashboard_queries()
            .into_iter()
            .map(|query| ("the dashboard", query)),
    ) {
        for name in named(&text) {
            checked += 1;
            let histogram = format!("{name}_bucket");
            assert!(
                exposed.contains(&name) || exposed.contains(&histogram),
                "{what} names {name}, which pswatch does not expose; it exposes {exposed:#?}"
            );
        }
    }
    assert!(checked > 30, "{checked}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_state_metrics_are_bounded() {
    let fleet = Fleet::start(world()).await;
    let service = start(&fleet, Some(2));
    let metrics = format!("{}/metrics", service.admin_url().await);
    let text = scrape_until(&metrics, "two resources", |text| {
        text.contains("pswatch_metrics_resources_dropped 2")
    })
    .await;
    // The three in motion come first, newest first; the branch's backups are left out.
    let resources = text
        .lines()
        .filter(|line| line.starts_with("pswatch_resource_state_since_timestamp_seconds{"))
        .count();
    assert_eq!(resources, 2, "{text}");
    assert!(!text.contains("pswatch_backup_last_success_timestamp_seconds{"));
    let (passed, said) = promtool(&["check", "metrics"], &text);
    assert!(passed, "{said}");
    // The metrics need a token: the read token or the admin token, nothing else.
    let (status, _) = get(&metrics).await;
    assert_eq!(status, 401);
}

/// A Prometheus server on loopback, killed when dropped.
struct Prometheus {
    program: Program,
    _directory: tempfile::TempDir,
}

impl Prometheus {
    /// Scrapes `target` (`host:port`) every second with the read token and evaluates the
    /// shipped rules every second.
    async fn start(target: &str) -> Self {
        let directory = tempfile::tempdir().expect("tempdir");
        let token = directory.path().join("token");
        std::fs::write(&token, READ_TOKEN).expect("token");
        let config = directory.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
                 rule_files:\n  - {rules}\n\
                 scrape_configs:\n  - job_name: pswatch\n    authorization:\n      credentials_file: {token}\n    static_configs:\n      - targets: ['{target}']\n",
                rules = rules().display(),
                token = token.display(),
            ),
        )
        .expect("config");
        let program = Program::start(
            "prometheus",
            "prometheus",
            &[
                flag("config.file", &config),
                flag("storage.tsdb.path", &directory.path().join("data")),
            ],
            &directory.path().join("prometheus.log"),
        )
        .await;
        Self {
            program,
            _directory: directory,
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_real_prometheus_fires_a_shipped_rule_for_a_deploy_request_left_waiting() {
    let fleet = Fleet::start(world()).await;
    let service = start(&fleet, None);
    let admin = service.admin_url().await;
    let target = admin.trim_start_matches("http://").to_owned();
    let prometheus = Prometheus::start(&target).await;
    let alerts = format!("{}/api/v1/alerts", prometheus.program.url);
    let firing = support::eventually(Duration::from_secs(60), || async {
        let (status, body) = get(&alerts).await;
        if status != 200 {
            return None;
        }
        let body: Value = serde_json::from_str(&body).ok()?;
        body["data"]["alerts"]
            .as_array()?
            .iter()
            .find(|alert| {
                alert["labels"]["alertname"] == "PlanetScaleCutoverWaiting"
                    && alert["state"] == "firing"
            })
            .cloned()
    })
    .await;
    let Some(firing) = firing else {
        let (_, targets) = get(&format!("{}/api/v1/targets", prometheus.program.url)).await;
        let (_, alerts) = get(&alerts).await;
        panic!("no firing PlanetScaleCutoverWaiting in 60 s; targets: {targets}; alerts: {alerts}");
    };
    assert_eq!(firing["labels"]["organization"], "acme");
    assert_eq!(firing["labels"]["database"], "commerce");
    assert_eq!(firing["labels"]["resource"], "8", "{firing}");
    assert_eq!(firing["labels"]["severity"], "warning");
    let summary = firing["annotations"]["summary"].as_str().expect("summary");
    assert!(
        summary.starts_with("Deploy request #8 of acme/commerce has waited 2h"),
        "{summary}"
    );
    // The one deploying is not waiting; the workflow is not in error.
    let (_, body) = get(&alerts).await;
    assert!(!body.contains(r#""resource":"7""#), "{body}");
    assert!(!body.contains("PlanetScaleWorkflowError"), "{body}");
}
