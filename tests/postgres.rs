//! The binary on a PostgreSQL store (`[state] url`): the state and the outbox live in the
//! database, so a transition seen once is delivered once across runs, and the commands read
//! the same store. A throwaway PostgreSQL server (`store::testing::TestDatabase`).

mod support;

use std::time::Duration;

use serde_json::Value;
use simulator::{SimWorkflow, Simulator, World};
use store::testing::TestDatabase;
use support::config::ConfigBuilder;
use support::pswatch;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const TOKEN: &str = "pscale_tkn_t0ps3cret";

/// The configuration of replicas sharing `schema` of `database`, polling every 200 ms, their
/// leases two seconds long.
fn shared(fleet: &support::fleet::Fleet, database: &TestDatabase, schema: &str) -> ConfigBuilder {
    fleet
        .config("200ms")
        .unset("state.path")
        .set("state.url", database.url())
        .set("state.schema", schema)
        .set("state.lease", "2s")
        .watch("acme", &["commerce"])
}

/// Moves workflow #3 of acme/commerce to `state`.
fn move_workflow(fleet: &support::fleet::Fleet, state: &str) {
    fleet.simulator.update(|world| {
        world
            .database_mut("acme", "commerce")
            .workflow_mut(3)
            .expect("workflow")
            .state = state.into();
    });
}

/// acme/commerce with its workflow #3 running.
fn world() -> World {
    let mut world = World::default();
    world
        .database_mut("acme", "commerce")
        .workflows
        .push(SimWorkflow::new(3, "move-customers", "running"));
    world
}

#[tokio::test(flavor = "multi_thread")]
async fn once_keeps_its_state_and_outbox_in_postgres() {
    let database = TestDatabase::start();
    let simulator = Simulator::start(world(), Some(format!("tok-id:{TOKEN}")))
        .await
        .expect("simulator");
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hooks/pswatch"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&receiver)
        .await;
    let directory = tempfile::tempdir().expect("tempdir");
    let config = ConfigBuilder::new(&simulator.api_url(), &directory.path().join("unused"))
        .unset("state.path")
        .set("state.url", "${TEST_DATABASE_URL}")
        .set("state.schema", "e2e")
        .unset("admin.listen")
        .set("planetscale.service_token_id", "tok-id")
        .set("planetscale.service_token", TOKEN)
        .watch("acme", &["commerce"])
        .channel(
            "audit",
            "webhook",
            &[
                ("url", format!("{}/hooks/pswatch", receiver.uri()).into()),
                ("secret", SECRET.into()),
            ],
        )
        .route(&["audit"])
        .write(&directory.path().join("pswatch.toml"));
    let environment = vec![("TEST_DATABASE_URL", database.url().to_owned())];
    let run = |args: &'static [&'static str]| {
        let config = config.clone();
        let environment = environment.clone();
        tokio::task::spawn_blocking(move || pswatch(args, &config, &environment))
    };

    let checked = run(&["check"]).await.expect("join");
    let said = String::from_utf8_lossy(&checked.stdout);
    assert!(checked.status.success(), "{said}");
    assert!(said.contains("state in PostgreSQL (schema e2e)"), "{said}");

    // The first poll is a baseline: nothing is sent.
    let first = run(&["once"]).await.expect("join");
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    simulator.update(|world| {
        world
            .database_mut("acme", "commerce")
            .workflow_mut(3)
            .expect("workflow")
            .state = "switched_primaries".into();
    });
    for _ in 0..2 {
        let output = run(&["once"]).await.expect("join");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let requests = receiver.received_requests().await.expect("requests");
    let bodies: Vec<Value> = requests
        .iter()
        .map(|request| serde_json::from_slice(&request.body).expect("json"))
        .collect();
    assert_eq!(bodies.len(), 1, "once, across runs: {bodies:?}");
    assert_eq!(bodies[0]["type"], "workflow.state_changed");
    assert_eq!(bodies[0]["data"]["state"], "switched_primaries");
    assert_eq!(bodies[0]["data"]["previous_state"], "running");

    // The commands read the same store.
    let shown = run(&["state", "show"]).await.expect("join");
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(shown.contains("acme/commerce"), "{shown}");
    assert!(shown.contains("switched_primaries"), "{shown}");
    let outbox = run(&["outbox", "list"]).await.expect("join");
    assert!(outbox.status.success());
    let reset = run(&["state", "reset"]).await.expect("join");
    assert!(!reset.status.success());
    assert!(String::from_utf8_lossy(&reset.stderr).contains("PostgreSQL"));

    // Moved to a state directory with export and import, nothing starts over.
    let exported = run(&["state", "export"]).await.expect("join");
    assert!(exported.status.success());
    assert!(String::from_utf8_lossy(&exported.stderr).contains("exported"));
    let sled = ConfigBuilder::new(&simulator.api_url(), &directory.path().join("moved"))
        .unset("admin.listen")
        .set("planetscale.service_token_id", "tok-id")
        .set("planetscale.service_token", TOKEN)
        .watch("acme", &["commerce"])
        .channel("console", "console", &[])
        .route(&["console"])
        .write(&directory.path().join("moved.toml"));
    let import = |config: &std::path::Path, input: &[u8]| {
        use std::io::Write as _;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_pswatch"))
            .args(["state", "import", "-c"])
            .arg(config)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input)
            .expect("write");
        child.wait_with_output().expect("wait")
    };
    let imported = import(&sled, &exported.stdout);
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    let shown = pswatch(&["state", "show"], &sled, &[]);
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(shown.contains("switched_primaries"), "{shown}");
    let again = import(&sled, &exported.stdout);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));
    drop(database);
    tokio::time::sleep(Duration::from_millis(10)).await;
}

#[test]
fn check_refuses_a_path_and_a_url_and_never_shows_the_password() {
    let directory = tempfile::tempdir().expect("tempdir");
    let config = ConfigBuilder::new("http://127.0.0.1:9/v1", &directory.path().join("state"))
        .set(
            "state.url",
            "postgres://pswatch:S3CR3T@db.example.com/pswatch?sslmode=verify-ca",
        )
        .set("state.schema", "Not-A-Schema")
        .watch("acme", &["commerce"])
        .channel("console", "console", &[])
        .route(&["console"])
        .write(&directory.path().join("pswatch.toml"));
    let output = pswatch(&["check"], &config, &[]);
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("state.url: and state.path are exclusive"),
        "{said}"
    );
    assert!(
        said.contains("sslmode=verify-ca is not supported"),
        "{said}"
    );
    assert!(
        said.contains("state.schema: \"Not-A-Schema\" is not a schema name"),
        "{said}"
    );
    assert!(!said.contains("S3CR3T"), "{said}");
}

/// Two replicas on one database: one polls and delivers; killed, the other takes over within
/// its lease and a poll, and continues from the same state and outbox.
#[tokio::test(flavor = "multi_thread")]
async fn a_standby_takes_over_when_the_leader_is_killed() {
    use support::fleet::Fleet;
    use support::{get, Service};
    let database = TestDatabase::start();
    let fleet = Fleet::start(world()).await;
    let config = fleet.write(shared(&fleet, &database, "failover"));
    let logs = fleet.directory.path();
    let replica = |name: &str| Service::start(&config, &[("PSWATCH_REPLICA", name.into())], logs);
    let mut first = replica("first");
    first.logged("this replica leads").await;
    let second = replica("second");
    second.logged("this replica is a standby").await;
    // A standby is normal: said with the leader's name, not as a warning.
    let said = second.stderr();
    let line = said
        .lines()
        .find(|line| line.contains("this replica is a standby"))
        .expect("the standby's line");
    assert!(
        line.contains(" INFO ") && line.contains("leader=first"),
        "{line}"
    );
    // pswatch once would poll and deliver beside the leader: refused, naming it.
    let once = pswatch(&["once"], &config, &[]);
    let said = String::from_utf8_lossy(&once.stderr);
    assert_eq!(once.status.code(), Some(1), "{said}");
    assert!(
        said.contains("replica first leads on this database"),
        "{said}"
    );
    // The leader records its baseline, then delivers a transition.
    first.logged("baseline").await;
    move_workflow(&fleet, "switched_primaries");
    fleet.wait_for("workflow.state_changed", 1).await;
    let (status, body) = get(&format!("{}/api/status", second.admin_url().await)).await;
    assert_eq!(status, 200, "{body}");
    let status: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(status["replica"]["id"], "second");
    assert_eq!(status["replica"]["role"], "standby");
    assert_eq!(status["replica"]["leader"], "first");
    let replicas: Vec<&str> = status["replica"]["replicas"]
        .as_array()
        .expect("replicas")
        .iter()
        .filter_map(|replica| replica["id"].as_str())
        .collect();
    assert!(
        replicas.contains(&"first") && replicas.contains(&"second"),
        "{replicas:?}"
    );

    // The standby's metrics show where the workflow stands, from the leader's report.
    let standby_metrics = format!("{}/metrics", second.admin_url().await);
    let shown = support::eventually(Duration::from_secs(20), || async {
        let (_, metrics) = get(&standby_metrics).await;
        metrics
            .contains(r#"pswatch_workflow_state{database="commerce",organization="acme",state="switched_primaries",workflow="3"} 1"#)
            .then_some(metrics)
    })
    .await;
    assert!(
        shown.is_some(),
        "the standby serves the leader's state metrics"
    );

    first.kill();
    move_workflow(&fleet, "completed");
    second.logged("this replica leads").await;
    let delivered = fleet.wait_for("workflow.state_changed", 2).await;
    assert_eq!(delivered[1]["data"]["state"], "completed", "{delivered:#?}");
    // At least once, and a transition at most once more per failover.
    let completed = delivered
        .iter()
        .filter(|body| body["data"]["state"] == "completed")
        .count();
    let switched = delivered
        .iter()
        .filter(|body| body["data"]["state"] == "switched_primaries")
        .count();
    assert!(
        (1..=2).contains(&switched) && completed == 1,
        "{delivered:#?}"
    );
    let (_, metrics) = get(&format!("{}/metrics", second.admin_url().await)).await;
    assert!(metrics.contains("pswatch_leader 1"), "{metrics}");
    assert!(
        metrics.contains("pswatch_leader_changes_total 1"),
        "{metrics}"
    );
}

/// Every replica receives PlanetScale's deliveries: one posted to both is recorded once, and
/// a deploy request's push received by the standby reaches the leader.
#[tokio::test(flavor = "multi_thread")]
async fn a_delivery_posted_to_two_replicas_is_recorded_once() {
    use support::fleet::Fleet;
    use support::{eventually, planetscale_signature, Service};
    const WEBHOOK_SECRET: &str = "ps-webhook-s3cret-for-tests";
    let database = TestDatabase::start();
    // Nothing in motion: with push healthy, an idle poll lists deploy requests only when a
    // push asks for it.
    let mut idle = World::default();
    idle.database_mut("acme", "commerce");
    let fleet = Fleet::start(idle).await;
    let config = fleet.write(
        fleet
            .config("600s")
            .unset("state.path")
            .set("state.url", database.url())
            .set("state.schema", "receivers")
            .set("state.lease", "2s")
            .set("receiver.listen", "127.0.0.1:0")
            .set("receiver.secrets", vec![WEBHOOK_SECRET])
            .watch("acme", &["commerce"]),
    );
    let logs = fleet.directory.path();
    let leader = Service::start(&config, &[("PSWATCH_REPLICA", "one".into())], logs);
    leader.logged("this replica leads").await;
    let standby = Service::start(&config, &[("PSWATCH_REPLICA", "two".into())], logs);
    standby.logged("this replica is a standby").await;
    let urls = [leader.receiver_url().await, standby.receiver_url().await];
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let body = serde_json::to_vec(&serde_json::json!({
        "timestamp": now,
        "event": "branch.ready",
        "organization": "acme",
        "database": "commerce",
        "resource": {"id": "br1", "type": "Branch", "name": "add-orders"},
    }))
    .expect("json");
    let client = reqwest::Client::new();
    let post = |url: String, body: Vec<u8>| {
        let client = client.clone();
        async move {
            let response = client
                .post(url)
                .header(
                    "X-PlanetScale-Signature",
                    planetscale_signature(&body, WEBHOOK_SECRET),
                )
                .body(body)
                .send()
                .await
                .expect("answered");
            (
                response.status().as_u16(),
                response.text().await.unwrap_or_default(),
            )
        }
    };
    let (first, second) = tokio::join!(
        post(urls[0].clone(), body.clone()),
        post(urls[1].clone(), body.clone())
    );
    assert_eq!((first.0, second.0), (200, 200), "{first:?} {second:?}");
    let mut answers = [first.1.as_str(), second.1.as_str()];
    answers.sort_unstable();
    assert_eq!(
        answers,
        ["already received\n", "received\n"],
        "one of them recorded it"
    );
    fleet.wait_for("planetscale.branch.ready", 1).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        fleet.deliveries_of("planetscale.branch.ready").len(),
        1,
        "recorded once"
    );

    // A deploy request's push received by the standby: the leader polls at once, though its
    // interval is ten minutes, and that poll lists the deploy requests although the database
    // is idle and push healthy (the branch delivery above reached the leader too).
    let polls_before = fleet.simulator.requests_for("commerce");
    let listings_before = fleet.simulator.requests_to("deploy_requests");
    let push = serde_json::to_vec(&serde_json::json!({
        "timestamp": now,
        "event": "deploy_request.queued",
        "organization": "acme",
        "database": "commerce",
        "resource": {"id": "dr5", "type": "DeployRequest", "number": 5},
    }))
    .expect("json");
    assert_eq!(post(urls[1].clone(), push).await.0, 200);
    let polled = eventually(Duration::from_secs(5), || {
        std::future::ready((fleet.simulator.requests_for("commerce") > polls_before).then_some(()))
    })
    .await;
    assert!(polled.is_some(), "{}", leader.stderr());
    let listed = eventually(Duration::from_secs(5), || {
        std::future::ready(
            (fleet.simulator.requests_to("deploy_requests") > listings_before).then_some(()),
        )
    })
    .await;
    assert!(
        listed.is_some(),
        "the pushed poll did not list deploy requests: {}",
        leader.stderr()
    );
}

/// A leader paused past its lease (SIGSTOP) and continued after a standby took over commits and
/// sends nothing stale, and steps down.
#[tokio::test(flavor = "multi_thread")]
async fn a_leader_paused_past_its_lease_steps_down_and_writes_nothing() {
    use support::fleet::Fleet;
    use support::Service;
    let database = TestDatabase::start();
    let fleet = Fleet::start(world()).await;
    let config = fleet.write(shared(&fleet, &database, "paused"));
    let logs = fleet.directory.path();
    let paused = Service::start(&config, &[("PSWATCH_REPLICA", "paused".into())], logs);
    paused.logged("baseline").await;
    let other = Service::start(&config, &[("PSWATCH_REPLICA", "other".into())], logs);
    other.logged("this replica is a standby").await;
    let signal = |name: &str| {
        std::process::Command::new("kill")
            .args([name, &paused.id().to_string()])
            .status()
            .expect("kill")
    };
    assert!(signal("-STOP").success());
    // While it is paused, the world moves and the other replica takes over and reports it.
    move_workflow(&fleet, "switched_primaries");
    other.logged("this replica leads").await;
    fleet.wait_for("workflow.state_changed", 1).await;
    assert!(signal("-CONT").success());
    paused.logged("this replica is a standby").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let delivered = fleet.deliveries_of("workflow.state_changed");
    assert_eq!(delivered.len(), 1, "nothing stale sent: {delivered:#?}");
    // It stopped polling: only the leader asks the API from now on.
    assert!(
        paused.stderr().contains("no longer leads"),
        "{}",
        paused.stderr()
    );
}

/// PostgreSQL restarted under a running leader: /readyz says the store cannot be reached,
/// pswatch keeps running, and when the database is back the transition that happened meanwhile
/// is delivered.
#[tokio::test(flavor = "multi_thread")]
async fn a_database_restart_is_reported_and_survived() {
    use support::fleet::Fleet;
    use support::{eventually, get, Service};
    let database = TestDatabase::start();
    let fleet = Fleet::start(world()).await;
    let config = fleet.write(shared(&fleet, &database, "restarted"));
    let mut service = Service::start(&config, &[], fleet.directory.path());
    service.logged("baseline").await;
    let admin = service.admin_url().await;
    database.stop().expect("stop the database");
    let reported = eventually(Duration::from_secs(20), || async {
        let (status, body) = get(&format!("{admin}/readyz")).await;
        (status == 503 && body.contains("state store")).then_some(body)
    })
    .await;
    assert!(reported.is_some(), "{}", service.stderr());
    // Nor can the receiver record deliveries meanwhile.
    assert_eq!(get(&format!("{admin}/readyz/receiver")).await.0, 503);
    move_workflow(&fleet, "switched_primaries");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        service.exited(Duration::ZERO).await.is_none(),
        "it keeps running"
    );
    database.resume().expect("start the database again");
    let delivered = support::eventually(Duration::from_secs(30), || {
        let delivered = fleet.deliveries_of("workflow.state_changed");
        std::future::ready((!delivered.is_empty()).then_some(delivered))
    })
    .await
    .unwrap_or_else(|| panic!("not delivered after the restart: {}", service.stderr()));
    assert_eq!(delivered[0]["data"]["state"], "switched_primaries");
    let ready = eventually(Duration::from_secs(20), || async {
        (get(&format!("{admin}/readyz")).await.0 == 200).then_some(())
    })
    .await;
    assert!(ready.is_some(), "{}", service.stderr());
}

/// The leader killed again and again while transitions keep coming: a replacement replica
/// starts after each kill, every transition is delivered, and none more than once per kill.
#[tokio::test(flavor = "multi_thread")]
async fn transitions_survive_repeated_kills_of_the_leader() {
    use support::fleet::Fleet;
    use support::Service;
    let database = TestDatabase::start();
    let fleet = Fleet::start(world()).await;
    let config = fleet.write(shared(&fleet, &database, "kills"));
    let logs = fleet.directory.path();
    let start = |name: String| Service::start(&config, &[("PSWATCH_REPLICA", name)], logs);
    let mut replicas = vec![start("r0".into()), start("r1".into())];
    async fn leading(replicas: &[Service]) -> usize {
        for _ in 0..100 {
            if let Some(index) = replicas
                .iter()
                .position(|replica| replica.stderr().contains("this replica leads"))
            {
                return index;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no replica leads");
    }
    let index = leading(&replicas).await;
    assert!(
        replicas[index]
            .wait_for_log("baseline", Duration::from_secs(20))
            .await
    );
    let states = ["switched_replicas", "switched_primaries", "cutover"];
    for (kill, state) in states.iter().enumerate() {
        let index = leading(&replicas).await;
        let mut killed = replicas.remove(index);
        killed.kill();
        replicas.push(start(format!("r{}", kill + 2)));
        fleet.simulator.update(|world| {
            world
                .database_mut("acme", "commerce")
                .workflow_mut(3)
                .expect("workflow")
                .state = (*state).into();
        });
        let arrived = support::eventually(Duration::from_secs(30), || {
            std::future::ready(
                fleet
                    .deliveries_of("workflow.state_changed")
                    .iter()
                    .any(|body| body["data"]["state"] == *state)
                    .then_some(()),
            )
        })
        .await;
        if arrived.is_none() {
            let logs: Vec<String> = replicas.iter().map(Service::stderr).collect();
            panic!(
                "{state} not delivered after kill {kill}; the replicas said:\n{}",
                logs.join("\n---\n")
            );
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let delivered = fleet.deliveries_of("workflow.state_changed");
    for state in states {
        let times = delivered
            .iter()
            .filter(|body| body["data"]["state"] == state)
            .count();
        assert!((1..=2).contains(&times), "{state} delivered {times} times");
    }
    assert!(delivered.len() <= states.len() * 2, "{delivered:#?}");
}

/// The status page of any replica shows the replicas, which one leads, and their heartbeats, in
/// a real browser (Playwright driving Debian's chromium, from `bash tests/tools/install`).
#[tokio::test(flavor = "multi_thread")]
async fn the_status_page_shows_the_replicas() {
    use support::fleet::Fleet;
    use support::Service;
    const TOKEN: &str = "replicas-page-admin-token-0123456789";
    let database = TestDatabase::start();
    let fleet = Fleet::start(world()).await;
    let config =
        fleet.write(shared(&fleet, &database, "page").set("admin.token", "${TEST_ADMIN_TOKEN}"));
    let logs = fleet.directory.path();
    let start = |name: &str| {
        Service::start(
            &config,
            &[
                ("PSWATCH_REPLICA", name.into()),
                ("TEST_ADMIN_TOKEN", TOKEN.into()),
            ],
            logs,
        )
    };
    let leader = start("leading-one");
    leader.logged("this replica leads").await;
    let standby = start("standing-by");
    standby.logged("this replica is a standby").await;
    // A transition, which the leader polls and delivers: the standby's page shows the
    // leader's schedule of the database and its recent events, from the leader's report.
    leader.logged("baseline").await;
    move_workflow(&fleet, "switched_primaries");
    fleet.wait_for("workflow.state_changed", 1).await;
    let base = standby.admin_url().await;
    let reported = support::eventually(Duration::from_secs(10), || {
        let url = format!("{base}/api/status");
        async move {
            let response = reqwest::Client::new()
                .get(url)
                .bearer_auth(TOKEN)
                .send()
                .await
                .ok()?;
            let status: Value = response.json().await.ok()?;
            let polled = status["targets"][0]["last_success"].is_string();
            let events = status["recent_events"].as_array().map_or(0, Vec::len);
            (polled && events > 0).then_some(status)
        }
    })
    .await;
    let status =
        reported.unwrap_or_else(|| panic!("no report on the standby: {}", leader.stderr()));
    assert_eq!(status["replica"]["role"], "standby");
    assert_eq!(status["targets"][0]["target"], "acme/commerce");
    assert!(
        status["report_age_seconds"]
            .as_u64()
            .is_some_and(|age| age < 10),
        "{status:#}"
    );
    assert_eq!(
        status["recent_events"][0]["resource"],
        "workflow #3 move-customers"
    );
    assert!(
        status["budgets"][0]["used"]
            .as_u64()
            .is_some_and(|used| used > 0),
        "{status:#}"
    );
    let output = support::browser_script(
        "replicas_page.py",
        vec![
            base,
            TOKEN.into(),
            "leading-one".into(),
            "standing-by".into(),
            "acme/commerce".into(),
            "workflow #3 move-customers".into(),
        ],
    )
    .await;
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        said.contains("REPLICAS This page comes from standing-by, a standby; leading-one leads."),
        "{said}"
    );
    assert!(
        said.contains("REPORT The databases' polls, the budgets, push and the recent events are as the leader reported them"),
        "{said}"
    );
    assert!(said.contains("DATABASE acme/commerce: "), "{said}");
}

/// The admin API of a standby acts on the shared state: a dead letter retried there is
/// delivered by the leader, one dropped there is gone from the leader's view, and a silence
/// added there holds back the leader's next alert until it is expired there. The CLI's
/// `outbox retry` on the same database has the running leader deliver at once.
#[tokio::test(flavor = "multi_thread")]
async fn a_standby_s_admin_api_acts_for_every_replica() {
    use support::fleet::Fleet;
    use support::Service;
    const ADMIN: &str = "standby-admin-token-0123456789abcdef";
    let database = TestDatabase::start();
    let fleet = Fleet::start(world()).await;
    let config =
        fleet.write(shared(&fleet, &database, "standby").set("admin.token", "${TEST_ADMIN_TOKEN}"));
    let logs = fleet.directory.path();
    let start = |name: &str| {
        Service::start(
            &config,
            &[
                ("PSWATCH_REPLICA", name.into()),
                ("TEST_ADMIN_TOKEN", ADMIN.into()),
            ],
            logs,
        )
    };
    let leader = start("one");
    leader.logged("baseline recorded").await;
    let standby = start("two");
    standby.logged("this replica is a standby").await;
    let (leading, standing) = (leader.admin_url().await, standby.admin_url().await);
    let client = reqwest::Client::new();
    let status = |base: &str| {
        let request = client.get(format!("{base}/api/status")).bearer_auth(ADMIN);
        async move {
            let body: Value = request
                .send()
                .await
                .expect("status")
                .json()
                .await
                .expect("json");
            body
        }
    };
    let post = |url: String, body: Option<Value>| {
        // The admin API takes JSON only, a body or none.
        let request = client
            .post(url)
            .bearer_auth(ADMIN)
            .header("content-type", "application/json")
            .body(body.map(|body| body.to_string()).unwrap_or_default());
        async move {
            let response = request.send().await.expect("answer");
            (
                response.status().as_u16(),
                response.text().await.unwrap_or_default(),
            )
        }
    };
    // A dead letter for each of two transitions, seen from the standby.
    let dead_letter = |state: &'static str| {
        let status = &status;
        let standing = &standing;
        async move {
            support::eventually(Duration::from_secs(20), || async {
                status(standing).await["outbox"]["dead"]
                    .as_array()
                    .expect("dead letters")
                    .iter()
                    .find(|letter| {
                        letter["headline"]
                            .as_str()
                            .is_some_and(|headline| headline.contains(state))
                    })
                    .and_then(|letter| letter["id"].as_u64())
            })
            .await
            .unwrap_or_else(|| panic!("no dead letter for {state}"))
        }
    };
    fleet.receiver.set_status(400);
    move_workflow(&fleet, "switched_replicas");
    let retried = dead_letter("switched_replicas").await;
    move_workflow(&fleet, "switched_primaries");
    let dropped = dead_letter("switched_primaries").await;
    fleet.receiver.set_status(200);

    let (code, said) = post(format!("{standing}/api/dead-letters/{retried}/retry"), None).await;
    assert_eq!(code, 200, "{said}");
    let delivered = fleet.wait_for("workflow.state_changed", 1).await;
    assert_eq!(delivered[0]["data"]["state"], "switched_replicas");
    let (code, said) = post(format!("{standing}/api/dead-letters/{dropped}/drop"), None).await;
    assert_eq!(code, 200, "{said}");
    let outbox = &status(&leading).await["outbox"];
    assert_eq!(outbox["dead_letters"], 0, "{outbox:#}");

    // A silence added through the standby holds on the leader, until expired through it.
    let (code, said) = post(
        format!("{standing}/api/silences"),
        Some(serde_json::json!({
            "database": "acme/commerce",
            "events": ["workflow.*"],
            "for": "1h",
            "comment": "cutover window",
        })),
    )
    .await;
    assert_eq!(code, 201, "{said}");
    let added: Value = serde_json::from_str(&said).expect("the silence as JSON");
    let id = added["silence"]["id"].as_str().expect("id").to_owned();
    assert_eq!(status(&leading).await["silences"][0]["id"], id.as_str());
    move_workflow(&fleet, "cutover");
    leader.logged("silenced_by").await;
    let (code, said) = post(format!("{standing}/api/silences/{id}/expire"), None).await;
    assert_eq!(code, 200, "{said}");
    move_workflow(&fleet, "completed");
    let delivered = fleet.wait_for("workflow.state_changed", 2).await;
    let states: Vec<&Value> = delivered
        .iter()
        .map(|body| &body["data"]["state"])
        .collect();
    assert_eq!(
        states,
        ["switched_replicas", "completed"],
        "the silenced cutover held back"
    );

    // The CLI on the same database while the leader runs: a dead letter put back with
    // `pswatch outbox retry` is delivered at once, not at the channel's next event.
    fleet.receiver.set_status(400);
    fleet.simulator.update(|world| {
        world
            .database_mut("acme", "commerce")
            .workflows
            .push(SimWorkflow::new(4, "move-orders", "running"));
    });
    let buried = dead_letter("move-orders").await;
    fleet.receiver.set_status(200);
    let retried = pswatch(
        &["outbox", "retry", &buried.to_string()],
        &config,
        &[("TEST_ADMIN_TOKEN", ADMIN.into())],
    );
    assert!(
        retried.status.success(),
        "{}",
        String::from_utf8_lossy(&retried.stderr)
    );
    let delivered = fleet.wait_for("workflow.state_changed", 3).await;
    assert_eq!(delivered[2]["data"]["workflow"]["name"], "move-orders");
}

/// `pswatch wait` on a standby: it answers from the shared store while another replica leads,
/// and goes on answering when it takes over after the leader is killed.
#[tokio::test(flavor = "multi_thread")]
async fn a_wait_on_a_standby_is_answered_and_survives_a_failover() {
    use support::fleet::Fleet;
    use support::Service;
    let database = TestDatabase::start();
    let fleet = Fleet::start(world()).await;
    let config = fleet.write(shared(&fleet, &database, "waits"));
    let logs = fleet.directory.path();
    let replica = |name: &str| Service::start(&config, &[("PSWATCH_REPLICA", name.into())], logs);
    let mut first = replica("first");
    first.logged("this replica leads").await;
    let second = replica("second");
    second.logged("this replica is a standby").await;
    first.logged("baseline").await;
    let standby = second.admin_url().await;
    let wait = |until: &str| {
        let arguments = [
            "wait",
            "acme/commerce",
            "workflow",
            "3",
            "--until",
            until,
            "--timeout",
            "60s",
            "--reconnect-for",
            "30s",
            "--url",
            &standby,
        ]
        .map(str::to_owned);
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_pswatch"))
                .args(&arguments)
                .output()
                .expect("run pswatch wait")
        })
    };
    let switched = wait("switched_primaries");
    tokio::time::sleep(Duration::from_secs(1)).await;
    move_workflow(&fleet, "switched_primaries");
    let switched = tokio::time::timeout(Duration::from_secs(30), switched)
        .await
        .expect("the standby answers from the shared store")
        .expect("join");
    assert_eq!(
        switched.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&switched.stderr)
    );
    let completed = wait("completed");
    tokio::time::sleep(Duration::from_secs(1)).await;
    first.kill();
    move_workflow(&fleet, "completed");
    second.logged("this replica leads").await;
    let completed = tokio::time::timeout(Duration::from_secs(60), completed)
        .await
        .expect("the wait ends after the failover")
        .expect("join");
    assert_eq!(
        completed.status.code(),
        Some(0),
        "{}\n{}",
        String::from_utf8_lossy(&completed.stdout),
        String::from_utf8_lossy(&completed.stderr)
    );
}

/// An Alertmanager channel across a failover: the alert the killed leader fired is in the
/// shared store, so the new leader sends it again at once (with the start it fired with) and
/// resolves it when the workflow moves on.
#[tokio::test(flavor = "multi_thread")]
async fn a_firing_alert_survives_a_failover() {
    use support::fleet::Fleet;
    use support::loopback::{resolves, AlertsSink};
    use support::{eventually, Service};
    let database = TestDatabase::start();
    let fleet = Fleet::start(world()).await;
    let alertmanager = AlertsSink::start().await;
    let config = fleet.write(
        shared(&fleet, &database, "alerts")
            .channel(
                "alertmanager",
                "alertmanager",
                &[
                    ("urls", vec![alertmanager.server.uri()].into()),
                    ("resend", "1h".into()),
                ],
            )
            .route(&["alertmanager"]),
    );
    let logs = fleet.directory.path();
    let replica = |name: &str| Service::start(&config, &[("PSWATCH_REPLICA", name.into())], logs);
    let mut first = replica("first");
    first.logged("this replica leads").await;
    let second = replica("second");
    second.logged("this replica is a standby").await;
    first.logged("baseline").await;
    move_workflow(&fleet, "error");
    let posts = || alertmanager.posts();
    let fired = eventually(Duration::from_secs(20), || async {
        posts().await.into_iter().next()
    })
    .await
    .expect("the leader fires the alert");
    assert_eq!(fired[0]["labels"]["alertname"], "PlanetScaleWorkflowError");

    // With a resend of an hour, only a new leader sends it again this soon (it may also
    // deliver the event again, if the old one was killed before it marked it sent).
    let before = posts().await.len();
    first.kill();
    second.logged("this replica leads").await;
    let again = eventually(Duration::from_secs(20), || async {
        posts().await.get(before).cloned()
    })
    .await
    .expect("the new leader sends the firing alert again");
    assert_eq!(again[0]["labels"], fired[0]["labels"]);
    assert_eq!(again[0]["startsAt"], fired[0]["startsAt"]);

    move_workflow(&fleet, "running");
    let resolved = eventually(Duration::from_secs(20), || async {
        posts().await.into_iter().find(resolves)
    })
    .await
    .expect("the new leader resolves the alert with an end of now");
    assert_eq!(resolved[0]["labels"], fired[0]["labels"]);
    assert_eq!(
        resolved[0]["annotations"], fired[0]["annotations"],
        "a resolution carries the alert as it fired"
    );
}

/// A timer's firings are kept with the state the leader writes: a new leader fires the next
/// one at its time, numbered on, and never fires the first again under another id.
#[tokio::test(flavor = "multi_thread")]
async fn a_timer_neither_repeats_nor_forgets_a_firing_across_a_failover() {
    use support::fleet::Fleet;
    use support::Service;
    let database = TestDatabase::start();
    let fleet = Fleet::start(world()).await;
    let config = fleet.write(
        shared(&fleet, &database, "timers")
            .timer("stuck", &["workflow"], &["error"], "2s")
            .timer_with("repeat", "3s"),
    );
    let logs = fleet.directory.path();
    let replica = |name: &str| Service::start(&config, &[("PSWATCH_REPLICA", name.into())], logs);
    let mut first = replica("first");
    first.logged("this replica leads").await;
    let second = replica("second");
    second.logged("this replica is a standby").await;
    first.logged("baseline").await;
    move_workflow(&fleet, "error");
    let fired = fleet.wait_for("timer.fired", 1).await;
    first.kill();
    let last = firings_of(&fleet.deliveries_of("timer.fired"));
    second.logged("this replica leads").await;
    // The new leader may deliver the first firing again (the same event, the same id) if the
    // old one was killed before it marked it sent; it never makes another first firing.
    let firings = support::eventually(Duration::from_secs(30), || async {
        let all = fleet.deliveries_of("timer.fired");
        all.iter()
            .any(|body| body["data"]["firing"].as_u64() > Some(last))
            .then_some(all)
    })
    .await
    .expect("the new leader fires the next one");
    let mut ids: std::collections::BTreeMap<u64, Value> = std::collections::BTreeMap::new();
    for body in &firings {
        let firing = body["data"]["firing"].as_u64().expect("firing");
        let id = ids
            .entry(firing)
            .or_insert_with(|| body["data"]["id"].clone());
        assert_eq!(
            *id, body["data"]["id"],
            "firing {firing} made twice: {firings:#?}"
        );
        assert_eq!(body["data"]["since"], fired[0]["data"]["since"]);
    }
}

/// The highest firing number among `bodies`.
fn firings_of(bodies: &[Value]) -> u64 {
    bodies
        .iter()
        .filter_map(|body| body["data"]["firing"].as_u64())
        .max()
        .unwrap_or(0)
}
