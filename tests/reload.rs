//! SIGHUP reloads the configuration: an invalid one is rejected, logged and the old one kept; a
//! valid one takes effect without losing state.

mod support;

use std::process::Command;
use std::time::Duration;

use simulator::{SimWorkflow, Simulator, World};
use support::config::ConfigBuilder;
use support::receiver::Receiver;
use support::Service;

/// Watching `acme/commerce`, every event to a webhook at `path` on the receiver.
fn config(
    api: &str,
    state: &std::path::Path,
    receiver: &str,
    path: &str,
    interval: &str,
) -> ConfigBuilder {
    ConfigBuilder::new(api, state)
        .unset("admin.listen")
        .set("admin.enabled", false)
        .set("poll.interval", interval)
        .set("poll.active_interval", interval)
        .watch("acme", &["commerce"])
        .webhook("audit", &format!("{receiver}{path}"))
        .route(&["audit"])
}

fn set_state(simulator: &Simulator, state: &str) {
    simulator.update(|world| {
        world
            .database_mut("acme", "commerce")
            .workflow_mut(1)
            .expect("workflow")
            .state = state.into();
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn sighup_rejects_a_bad_configuration_and_applies_a_good_one() {
    let mut world = World::default();
    world
        .database_mut("acme", "commerce")
        .workflows
        .push(SimWorkflow::new(1, "move", "running"));
    let simulator = Simulator::start(world, None).await.expect("simulator");
    let receiver = Receiver::start().await;
    let directory = tempfile::tempdir().expect("tempdir");
    let state = directory.path().join("state");
    let path = directory.path().join("pswatch.toml");
    config(
        &simulator.api_url(),
        &state,
        &receiver.url,
        "/hooks",
        "200ms",
    )
    .write(&path);
    let service = Service::start(&path, &[], directory.path());
    assert!(
        service
            .wait_for_log("baseline recorded", Duration::from_secs(10))
            .await,
        "{}",
        service.stderr()
    );
    let hangup = || {
        Command::new("kill")
            .args(["-HUP", &service.id().to_string()])
            .status()
            .expect("kill")
    };

    config(
        &simulator.api_url(),
        &state,
        &receiver.url,
        "/hooks",
        "soon",
    )
    .write(&path);
    hangup();
    assert!(
        service
            .wait_for_log("configuration rejected on reload", Duration::from_secs(10))
            .await,
        "{}",
        service.stderr()
    );
    assert!(
        service.stderr().contains("poll.interval"),
        "the problem is named: {}",
        service.stderr()
    );
    // A template that would hold itself, or print without end: refused on reload like any
    // other problem, and the running configuration goes on.
    for hostile in [
        "{% set ns = namespace() %}{% set ns.me = ns %}{{ ns }}",
        "{% set ns = namespace() %}{% set ns.me = ns %}{{ debug(ns) }}{{ ns|pprint }}",
    ] {
        config(
            &simulator.api_url(),
            &state,
            &receiver.url,
            "/hooks",
            "200ms",
        )
        .template("hostile", &[], None, Some(hostile))
        .with("templates", vec!["hostile"])
        .write(&path);
        let rejected = service
            .stderr()
            .matches("configuration rejected on reload")
            .count();
        hangup();
        let said = support::eventually(Duration::from_secs(10), || {
            std::future::ready(
                (service
                    .stderr()
                    .matches("configuration rejected on reload")
                    .count()
                    > rejected)
                    .then_some(()),
            )
        })
        .await;
        assert!(said.is_some(), "{}", service.stderr());
        assert!(
            service.stderr().contains("namespace() is not available"),
            "{}",
            service.stderr()
        );
    }
    set_state(&simulator, "switched_replicas");
    assert!(
        receiver
            .wait_until(Duration::from_secs(10), |requests| requests
                .iter()
                .any(|r| r.path == "/hooks"))
            .await,
        "the old configuration keeps working: {}",
        service.stderr()
    );

    config(
        &simulator.api_url(),
        &state,
        &receiver.url,
        "/hooks/v2",
        "200ms",
    )
    .write(&path);
    hangup();
    assert!(
        service
            .wait_for_log("configuration reloaded", Duration::from_secs(10))
            .await,
        "{}",
        service.stderr()
    );
    set_state(&simulator, "cutover");
    assert!(
        receiver
            .wait_until(Duration::from_secs(10), |requests| requests
                .iter()
                .any(|r| r.path == "/hooks/v2"))
            .await,
        "the new channel URL is used: {}",
        service.stderr()
    );
    // The state carried over: no new baseline, and the transition is from the last seen state.
    let body: serde_json::Value =
        serde_json::from_slice(&receiver.accepted("/hooks/v2")[0].body).expect("json");
    assert_eq!(body["data"]["previous_state"], "switched_replicas");
    assert_eq!(service.stderr().matches("baseline recorded").count(), 1);
}

/// A reload that lowers `requests_per_minute` keeps what the budget's window already holds: no
/// window ever holds more than the larger limit, and once the reload is done none holds more
/// than the new one. (A budget built anew on reload let a second window's worth through at
/// once.) Time is scaled: a 6 s window stands for the minute.
#[tokio::test(flavor = "multi_thread")]
async fn a_reload_changes_the_budget_in_place() {
    let mut world = World::default();
    world
        .database_mut("acme", "commerce")
        .workflows
        .push(SimWorkflow::new(1, "move", "copying"));
    let simulator = Simulator::start(world, None).await.expect("simulator");
    let receiver = Receiver::start().await;
    let directory = tempfile::tempdir().expect("tempdir");
    let state = directory.path().join("state");
    let path = directory.path().join("pswatch.toml");
    let write = |requests_per_minute: i64| {
        config(
            &simulator.api_url(),
            &state,
            &receiver.url,
            "/hooks",
            "20ms",
        )
        .set("planetscale.requests_per_minute", requests_per_minute)
        .set("planetscale.budget_window", "6s")
        .write(&path);
    };
    write(60);
    let started = std::time::Instant::now();
    let service = Service::start(&path, &[], directory.path());
    // A full window at the old limit, then the reload.
    tokio::time::sleep(Duration::from_secs(7)).await;
    write(30);
    Command::new("kill")
        .args(["-HUP", &service.id().to_string()])
        .status()
        .expect("kill");
    assert!(
        service
            .wait_for_log("configuration reloaded", Duration::from_secs(10))
            .await,
        "{}",
        service.stderr()
    );
    let reloaded = started.elapsed();
    tokio::time::sleep(Duration::from_secs(8)).await;
    let times: Vec<Duration> = simulator
        .request_log()
        .iter()
        .map(|(at, _)| at.saturating_duration_since(started))
        .collect();
    // The budget's own window is a sixtieth longer (its margin for network delay); count in
    // windows of exactly 6 s, as the API would.
    let window = Duration::from_secs(6);
    let busiest = |from: Duration| {
        times
            .iter()
            .filter(|at| **at >= from)
            .map(|start| {
                times
                    .iter()
                    .filter(|at| **at >= *start && **at < *start + window)
                    .count()
            })
            .max()
            .unwrap_or(0)
    };
    assert!(times.len() > 60, "the budget was used: {}", times.len());
    assert!(
        busiest(Duration::ZERO) <= 60,
        "{} in one window",
        busiest(Duration::ZERO)
    );
    assert!(
        busiest(reloaded) <= 30,
        "{} in one window after the reload",
        busiest(reloaded)
    );
}

/// A reload applies in place: a database added to `databases` is watched (its own baseline),
/// the one kept is not baselined again, a removed channel gets nothing more and a new one gets
/// the next transition, and nothing shuts down on the way.
#[tokio::test(flavor = "multi_thread")]
async fn a_reload_adds_and_removes_without_restarting() {
    let mut world = World::default();
    for database in ["commerce", "users"] {
        world
            .database_mut("acme", database)
            .workflows
            .push(SimWorkflow::new(1, "move", "running"));
    }
    let simulator = Simulator::start(world, None).await.expect("simulator");
    let receiver = Receiver::start().await;
    let directory = tempfile::tempdir().expect("tempdir");
    let state = directory.path().join("state");
    let path = directory.path().join("pswatch.toml");
    config(
        &simulator.api_url(),
        &state,
        &receiver.url,
        "/hooks",
        "200ms",
    )
    .write(&path);
    let mut service = Service::start(&path, &[], directory.path());
    assert!(
        service
            .wait_for_log(
                "baseline recorded target_db=acme/commerce",
                Duration::from_secs(10)
            )
            .await,
        "{}",
        service.stderr()
    );
    ConfigBuilder::new(&simulator.api_url(), &state)
        .unset("admin.listen")
        .set("admin.enabled", false)
        .set("poll.interval", "200ms")
        .set("poll.active_interval", "200ms")
        .watch("acme", &["commerce", "users"])
        .webhook("audit-v2", &format!("{}/hooks/v2", receiver.url))
        .route(&["audit-v2"])
        .write(&path);
    Command::new("kill")
        .args(["-HUP", &service.id().to_string()])
        .status()
        .expect("kill");
    assert!(
        service
            .wait_for_log(
                "baseline recorded target_db=acme/users",
                Duration::from_secs(10)
            )
            .await,
        "{}",
        service.stderr()
    );
    set_state(&simulator, "switched_replicas");
    assert!(
        receiver
            .wait_until(Duration::from_secs(10), |requests| requests
                .iter()
                .any(|request| request.path == "/hooks/v2"))
            .await,
        "{}",
        service.stderr()
    );
    let logs = service.stderr();
    assert_eq!(
        logs.matches("baseline recorded target_db=acme/commerce")
            .count(),
        1,
        "{logs}"
    );
    assert!(
        logs.contains("the channel is no longer configured; its worker stops"),
        "{logs}"
    );
    assert!(!logs.contains("shutting down"), "nothing restarted: {logs}");
    assert!(receiver.accepted("/hooks").is_empty());
    assert!(service.terminate(Duration::from_secs(20)).await.is_some());
}
