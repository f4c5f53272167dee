//! The binary against the simulator speaking PlanetScale's real shapes: operations, reverts and
//! lint errors inside each deploy request, an operation id that changes when it starts, odd
//! items, workflows a list misses, the Go client's sparser shape, a bad token answered 404,
//! PostgreSQL databases, and states that wait for a person.

mod support;

use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

use serde_json::{json, Value};
use simulator::{Shape, SimDeployRequest, SimLintError, SimWorkflow, Simulator, World};
use support::config::ConfigBuilder;
use support::receiver::Receiver;
use support::{eventually, get, pswatch, Service, SmtpSink};

const TOKEN: &str = "pscale_tkn_sh4pes";

struct Setup {
    directory: tempfile::TempDir,
    config: PathBuf,
    environment: Vec<(&'static str, String)>,
}

impl Setup {
    /// A configuration watching `databases` of `acme` (all of them when empty), sending every
    /// event to a webhook and Slack on `receiver`, with what `more` adds.
    fn new(
        simulator: &Simulator,
        receiver: &Receiver,
        databases: &[&str],
        more: impl FnOnce(ConfigBuilder) -> ConfigBuilder,
    ) -> Self {
        let directory = tempfile::tempdir().expect("tempdir");
        let builder = ConfigBuilder::new(&simulator.api_url(), &directory.path().join("state"))
            .set("planetscale.service_token", "${TEST_TOKEN}")
            .watch("acme", databases)
            .webhook("audit", &format!("{}/hooks", receiver.url))
            .slack("slack", &format!("{}/slack", receiver.url))
            .with("min_interval", "10ms")
            .route(&["audit", "slack"]);
        let config = more(builder).write(&directory.path().join("pswatch.toml"));
        Self {
            directory,
            config,
            environment: vec![("TEST_TOKEN", TOKEN.to_owned())],
        }
    }

    async fn once(&self) -> Output {
        let config = self.config.clone();
        let environment = self.environment.clone();
        tokio::task::spawn_blocking(move || pswatch(&["once"], &config, &environment))
            .await
            .expect("join")
    }

    async fn once_ok(&self) -> String {
        let output = self.once().await;
        let logs = String::from_utf8_lossy(&output.stderr).to_string();
        assert!(output.status.success(), "{logs}");
        logs
    }
}

async fn simulator(world: World) -> Simulator {
    Simulator::start(world, Some(format!("tok-id:{TOKEN}")))
        .await
        .expect("simulator")
}

/// The webhook events received so far: their `data`.
fn webhook_events(receiver: &Receiver) -> Vec<Value> {
    receiver
        .accepted("/hooks")
        .iter()
        .map(|request| {
            let body: Value = serde_json::from_slice(&request.body).expect("json");
            body["data"].clone()
        })
        .collect()
}

fn find(events: &[Value], wanted: impl Fn(&Value) -> bool) -> &Value {
    events
        .iter()
        .find(|event| wanted(event))
        .unwrap_or_else(|| panic!("no such event among {events:#?}"))
}

/// Every deploy error PlanetScale reports: a deploy that failed between two polls (its
/// operation's id changed as it started), a failed revert, a failed validation. All reported
/// once, in the webhook, Slack and email, and not one request to `…/operations`.
#[tokio::test(flavor = "multi_thread")]
async fn every_deploy_error_is_reported_without_asking_for_operations() {
    let mut world = World::default();
    let database = world.database_mut("acme", "commerce");
    database.deploy_requests.push(
        SimDeployRequest::new(5, "ready")
            .with_operation("op-orders", "orders", "pending")
            .with_operation("op-invoices", "invoices", "pending"),
    );
    let mut deployed = SimDeployRequest::new(6, "complete_pending_revert").with_operation(
        "op-customers",
        "customers",
        "complete",
    );
    deployed.offer_revert();
    database.deploy_requests.push(deployed);
    database
        .deploy_requests
        .push(SimDeployRequest::new(8, "pending"));
    let simulator = simulator(world).await;
    let receiver = Receiver::start().await;
    let smtp = SmtpSink::start();
    let setup = Setup::new(&simulator, &receiver, &["commerce"], |config| {
        config
            .email("mail", &format!("smtp://127.0.0.1:{}", smtp.port))
            .route(&["mail"])
            .filter("events", &["deploy_request.state_changed"])
    });
    setup.once_ok().await;
    assert!(receiver.requests().is_empty(), "the baseline is silent");

    simulator.update(|world| {
        let database = world.database_mut("acme", "commerce");
        // An instant deploy: ready to complete_error between two polls.
        let request = database.deploy_request_mut(5).expect("#5");
        request.deployment_state = "complete_error".into();
        let orders = request.operation_mut("orders").expect("orders");
        orders.state = "error".into();
        orders.deploy_errors = Some("Duplicate entry 'A-1042' for key 'orders.idx_ref'".into());
        request.operation_mut("invoices").expect("invoices").state = "complete".into();
        // A revert that failed on its table.
        let request = database.deploy_request_mut(6).expect("#6");
        request.deployment_state = "complete_revert_error".into();
        let revert = request.revert_operation_mut("customers").expect("revert");
        revert.state = "error".into();
        revert.revert_errors = Some("Lock wait timeout exceeded on `customers`".into());
        // A validation that failed.
        let request = database.deploy_request_mut(8).expect("#8");
        request.deployment_state = "error".into();
        request.lint_errors.push(SimLintError {
            lint_error: "NO_UNIQUE_KEY".into(),
            keyspace_name: "commerce".into(),
            table_name: "audit_log".into(),
            error_description: "table \"audit_log\" has no unique key".into(),
        });
    });
    setup.once_ok().await;
    // A third poll: nothing new.
    setup.once_ok().await;

    assert_eq!(simulator.requests_to("operations"), 0);
    assert_eq!(simulator.requests_to("deploy_requests"), 3);
    assert_eq!(simulator.requests_to("deploy_request"), 0);

    let events = webhook_events(&receiver);
    assert_eq!(events.len(), 6, "{events:#?}");
    let orders = find(&events, |event| {
        event["type"] == "deploy_operation.state_changed"
            && event["operation"]["table_name"] == "orders"
    });
    assert_eq!(orders["phase"], "deploy");
    assert_eq!(
        orders["previous_state"], "pending",
        "the same operation under its new id"
    );
    assert_eq!(orders["state"], "error");
    assert_eq!(orders["severity"], "critical");
    assert_eq!(
        orders["operation"]["deploy_errors"],
        "Duplicate entry 'A-1042' for key 'orders.idx_ref'"
    );
    assert_eq!(
        orders["operation"]["deploy_error_docs_url"],
        "https://planetscale.com/docs/concepts/deploy-requests#deploy-errors"
    );
    let revert = find(&events, |event| event["phase"] == "revert");
    assert_eq!(revert["type"], "deploy_operation.state_changed");
    assert_eq!(revert["previous_state"], "submit");
    assert_eq!(revert["state"], "error");
    assert_eq!(revert["operation"]["table_name"], "customers");
    assert_eq!(
        revert["operation"]["revert_errors"],
        "Lock wait timeout exceeded on `customers`"
    );
    let validation = find(&events, |event| event["deploy_request"]["number"] == 8);
    assert_eq!(validation["previous_state"], "pending");
    assert_eq!(validation["state"], "error");
    assert_eq!(
        validation["deploy_request"]["lint_errors"][0],
        json!({"lint_error": "NO_UNIQUE_KEY", "keyspace_name": "commerce", "table_name": "audit_log",
               "error_description": "table \"audit_log\" has no unique key"})
    );
    for (number, from, to) in [
        (5, "ready", "complete_error"),
        (6, "complete_pending_revert", "complete_revert_error"),
    ] {
        let event = find(&events, |event| {
            event["type"] == "deploy_request.state_changed"
                && event["deploy_request"]["number"] == number
        });
        assert_eq!(
            (&event["previous_state"], &event["state"]),
            (&json!(from), &json!(to))
        );
    }

    // Slack: one message for the poll, naming each failure and its reason.
    let slack = receiver.accepted("/slack");
    assert_eq!(slack.len(), 1);
    let text = String::from_utf8_lossy(&slack[0].body).to_string();
    for expected in [
        "deploy request #5 table orders",
        "Duplicate entry",
        "deploy request #6 revert of table customers",
        "*Revert error:*",
        "Lock wait timeout exceeded",
        "*Why validation failed:*",
        "has no unique key (NO_UNIQUE_KEY)",
    ] {
        assert!(text.contains(expected), "{expected:?} in {text}");
    }

    // Email: the deploy requests' state changes, with why validation failed.
    let messages = smtp.wait_for(1, Duration::from_secs(10));
    assert_eq!(messages.len(), 1);
    let message = mail_parser::MessageParser::default()
        .parse(&messages[0])
        .expect("parses");
    let body = message.body_text(0).expect("text").replace("\r\n", "\n");
    assert!(
        body.contains(
            "Why validation failed:\ntable \"audit_log\" has no unique key (NO_UNIQUE_KEY)"
        ),
        "{body}"
    );
    assert!(
        body.contains("deploy request #5: ready -> complete_error"),
        "{body}"
    );
}

/// `pending` and `ready` alternate on every push to a deploy request's branch: quiet by
/// default, reported with `notify_pending_ready = true`.
#[tokio::test(flavor = "multi_thread")]
async fn pending_ready_bounces_are_quiet_unless_asked_for() {
    let mut world = World::default();
    world
        .database_mut("acme", "commerce")
        .deploy_requests
        .push(SimDeployRequest::new(8, "pending"));
    let simulator = simulator(world).await;
    let receiver = Receiver::start().await;
    let quiet = Setup::new(&simulator, &receiver, &["commerce"], |config| config);
    quiet.once_ok().await;
    let set = |state: &'static str| {
        simulator.update(move |world| {
            world
                .database_mut("acme", "commerce")
                .deploy_request_mut(8)
                .expect("#8")
                .deployment_state = state.into();
        })
    };
    set("ready");
    quiet.once_ok().await;
    set("pending");
    quiet.once_ok().await;
    assert!(receiver.requests().is_empty(), "{:?}", receiver.requests());

    let loud = Setup::new(&simulator, &receiver, &["commerce"], |config| {
        config.set("poll.notify_pending_ready", true)
    });
    loud.once_ok().await;
    set("ready");
    loud.once_ok().await;
    let events = webhook_events(&receiver);
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(
        (&events[0]["previous_state"], &events[0]["state"]),
        (&json!("pending"), &json!("ready"))
    );
}

/// A workflow a list response misses is fetched by number: its return is not announced, and a
/// change it made meanwhile is reported once.
#[tokio::test(flavor = "multi_thread")]
async fn a_workflow_missing_from_a_list_is_fetched_not_forgotten() {
    let mut world = World::default();
    world
        .database_mut("acme", "commerce")
        .workflows
        .push(SimWorkflow::new(3, "move-customers", "copying"));
    let simulator = simulator(world).await;
    let receiver = Receiver::start().await;
    let setup = Setup::new(&simulator, &receiver, &["commerce"], |config| config);
    setup.once_ok().await;
    let set = |unlisted: bool, state: &'static str| {
        simulator.update(move |world| {
            let workflow = world
                .database_mut("acme", "commerce")
                .workflow_mut(3)
                .expect("#3");
            workflow.unlisted = unlisted;
            workflow.state = state.into();
        })
    };
    set(true, "copying");
    setup.once_ok().await;
    set(false, "copying");
    setup.once_ok().await;
    assert!(receiver.requests().is_empty(), "{:?}", receiver.requests());
    assert_eq!(simulator.requests_to("workflow"), 1);
    set(true, "running");
    setup.once_ok().await;
    set(false, "running");
    setup.once_ok().await;
    let events = webhook_events(&receiver);
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(
        (&events[0]["previous_state"], &events[0]["state"]),
        (&json!("copying"), &json!("running"))
    );
}

/// An item that cannot be read costs only itself: the poll succeeds, says what is wrong, and
/// the other resources' transitions are delivered.
#[tokio::test(flavor = "multi_thread")]
async fn an_odd_item_costs_only_itself() {
    let mut world = World::default();
    let database = world.database_mut("acme", "commerce");
    database
        .workflows
        .push(SimWorkflow::new(3, "move-customers", "copying"));
    database
        .deploy_requests
        .push(SimDeployRequest::new(5, "queued"));
    let simulator = simulator(world).await;
    let receiver = Receiver::start().await;
    let setup = Setup::new(&simulator, &receiver, &["commerce"], |config| config);
    setup.once_ok().await;
    simulator.update(|world| {
        let database = world.database_mut("acme", "commerce");
        database
            .odd_workflow_items
            .push(json!({"id": "w9\u{7}\nforged: a line of its own", "name": "no number", "state": "copying"}));
        database
            .odd_deploy_request_items
            .push(json!({"id": "d9", "number": 9, "deployment_state": ["queued"]}));
        database.workflow_mut(3).expect("#3").state = "running".into();
        database.deploy_request_mut(5).expect("#5").deployment_state = "in_progress".into();
    });
    let logs = setup.once_ok().await;
    assert!(
        logs.contains("cannot be read (`number` is missing)"),
        "{logs}"
    );
    assert!(
        logs.contains("cannot be read (`deployment_state` is a list, not a state)"),
        "{logs}"
    );
    // What the API sent is escaped in the log: no bell, no line of its own.
    assert!(!logs.contains('\u{7}'), "{logs}");
    assert!(
        !logs.lines().any(|line| line.starts_with("forged")),
        "{logs}"
    );
    assert!(logs.contains("w9\\u{7}\\nforged"), "{logs}");
    let events = webhook_events(&receiver);
    let types: Vec<&Value> = events.iter().map(|event| &event["type"]).collect();
    assert_eq!(
        types,
        [
            &json!("workflow.state_changed"),
            &json!("deploy_request.state_changed")
        ]
    );
}

/// A response in the Go client's sparser shape (no `deployment`): the operations come from
/// `…/operations`, while deploying, and their errors are reported.
#[tokio::test(flavor = "multi_thread")]
async fn without_inline_operations_the_operations_endpoint_is_the_fallback() {
    let mut world = World::default();
    let database = world.database_mut("acme", "commerce");
    database.shape = Shape::GoClient;
    database
        .deploy_requests
        .push(SimDeployRequest::new(5, "in_progress").with_operation(
            "op-orders",
            "orders",
            "in_progress",
        ));
    let simulator = simulator(world).await;
    let receiver = Receiver::start().await;
    let setup = Setup::new(&simulator, &receiver, &["commerce"], |config| config);
    setup.once_ok().await;
    simulator.update(|world| {
        let operation = world
            .database_mut("acme", "commerce")
            .deploy_request_mut(5)
            .expect("#5")
            .operation_mut("orders")
            .expect("orders");
        operation.state = "error".into();
        operation.deploy_errors = Some("Lock wait timeout".into());
    });
    setup.once_ok().await;
    assert_eq!(simulator.requests_to("operations"), 2);
    let events = webhook_events(&receiver);
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0]["operation"]["deploy_errors"], "Lock wait timeout");
}

/// PlanetScale answers 404 on database paths for a bad token: pswatch asks the organization and
/// names the token, in `once` and in `/readyz`.
#[tokio::test(flavor = "multi_thread")]
async fn a_bad_token_is_named_not_taken_for_a_missing_database() {
    let mut world = World::default();
    world.database_mut("acme", "commerce");
    let simulator = simulator(world).await;
    let receiver = Receiver::start().await;
    let mut setup = Setup::new(&simulator, &receiver, &["commerce"], |config| config);
    setup.environment = vec![("TEST_TOKEN", "pscale_tkn_wrong".to_owned())];
    let output = setup.once().await;
    let logs = String::from_utf8_lossy(&output.stderr).to_string();
    assert_eq!(output.status.code(), Some(1), "{logs}");
    assert!(
        logs.contains("PlanetScale answered 404 for /v1/organizations/acme/databases/commerce/workflows and HTTP 401 for organization acme: service token tok-id is wrong, expired or has no access to acme"),
        "{logs}"
    );
    assert!(!logs.contains("pscale_tkn_wrong"), "{logs}");

    let mut service = Service::start(&setup.config, &setup.environment, setup.directory.path());
    let base = service.admin_url().await;
    let readyz = format!("{base}/readyz");
    let answer = eventually(Duration::from_secs(10), || async {
        let answer = get(&readyz).await;
        (answer.0 == 503).then_some(answer)
    })
    .await
    .unwrap_or_else(|| panic!("still ready: {}", service.stderr()));
    assert!(
        answer
            .1
            .contains("acme/commerce: the API refuses the service token"),
        "{}",
        answer.1
    );
    assert!(
        answer.1.contains("wrong, expired or has no access"),
        "{}",
        answer.1
    );
    service.terminate(Duration::from_secs(20)).await;
}

/// A PostgreSQL database named in `[[watch]]` has no workflows or deploy requests: reported
/// once and never polled.
#[tokio::test(flavor = "multi_thread")]
async fn a_postgres_database_named_in_watch_is_reported_and_skipped() {
    let mut world = World::default();
    world.database_mut("acme", "commerce");
    world.database_mut("acme", "analytics").kind = "postgresql".into();
    let simulator = simulator(world).await;
    let receiver = Receiver::start().await;
    let setup = Setup::new(
        &simulator,
        &receiver,
        &["commerce", "analytics"],
        |config| config,
    );
    let logs = setup.once_ok().await;
    assert_eq!(
        logs.matches("a PostgreSQL database has no workflows or deploy requests")
            .count(),
        1,
        "{logs}"
    );
    assert!(logs.contains("acme/analytics"), "{logs}");
    assert_eq!(simulator.requests_for("analytics"), 0);
    assert_eq!(simulator.requests_for("commerce"), 2);
}

/// The status of `target` once `done` holds for it (with the budget's status beside it).
async fn status_of(base: &str, target: &str, done: impl Fn(&Value) -> bool) -> Value {
    let url = format!("{base}/api/status");
    eventually(Duration::from_secs(10), || async {
        let (code, text) = get(&url).await;
        let status: Value = serde_json::from_str(&text).ok().filter(|_| code == 200)?;
        let mut entry = status["targets"]
            .as_array()?
            .iter()
            .find(|entry| entry["target"] == target && entry["last_success"].is_string())?
            .clone();
        entry["budget"] = status["budget"].clone();
        done(&entry).then_some(entry)
    })
    .await
    .unwrap_or_else(|| panic!("{target} was not polled as expected"))
}

fn seconds_between(entry: &Value) -> f64 {
    let time = |key: &str| {
        time::OffsetDateTime::parse(
            entry[key].as_str().expect(key),
            &time::format_description::well_known::Rfc3339,
        )
        .expect(key)
    };
    (time("next_poll") - time("last_poll")).as_seconds_f64()
}

/// A database whose workflow waits for someone to switch traffic is polled at
/// `waiting_interval` and holds no budget reserve; once the workflow moves on its own, the
/// database is active: `active_interval`, and a reserve.
#[tokio::test(flavor = "multi_thread")]
async fn states_that_wait_for_a_person_are_polled_at_the_waiting_interval() {
    let mut world = World::default();
    world
        .database_mut("acme", "commerce")
        .workflows
        .push(SimWorkflow::new(3, "move-customers", "running"));
    let simulator = simulator(world).await;
    let receiver = Receiver::start().await;
    let setup = Setup::new(&simulator, &receiver, &["commerce"], |config| {
        config
            .set("poll.interval", "40s")
            .set("poll.active_interval", "1s")
            .set("poll.waiting_interval", "20s")
    });
    let mut service = Service::start(&setup.config, &setup.environment, setup.directory.path());
    let base = service.admin_url().await;
    // The reserve is set before the status shows the poll.
    let waiting = status_of(&base, "acme/commerce", |_| true).await;
    assert_eq!(waiting["motion"], "waiting", "{waiting:#}");
    assert_eq!(waiting["active"], false);
    assert!(
        (seconds_between(&waiting) - 20.0).abs() < 0.5,
        "{waiting:#}"
    );
    assert_eq!(waiting["budget"]["reserved"], 0, "{waiting:#}");
    service.terminate(Duration::from_secs(20)).await;

    // The workflow switches traffic on its own now: the restarted service finds it active.
    simulator.update(|world| {
        world
            .database_mut("acme", "commerce")
            .workflow_mut(3)
            .expect("#3")
            .state = "switching_replicas".into();
    });
    let mut service = Service::start(&setup.config, &setup.environment, setup.directory.path());
    let base = service.admin_url().await;
    let active = status_of(&base, "acme/commerce", |entry| entry["motion"] == "active").await;
    assert!((seconds_between(&active) - 1.0).abs() < 0.5, "{active:#}");
    assert!(
        active["budget"]["reserved"].as_u64() > Some(0),
        "{active:#}"
    );
    service.terminate(Duration::from_secs(20)).await;
}
