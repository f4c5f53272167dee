//! `[[timers]]` through the binary: a workflow left in `error` fires `timer.fired` after
//! `after`, again every `repeat`, escalates to its `escalate_to` channel from its count, stops
//! when the state changes and on a silence, and after the service was down past two firing
//! times fires once, numbered as the latest due; `route` and `once --dry-run` show the event;
//! `check` names every wrong key.

mod support;

use std::time::Duration;

use serde_json::Value;
use simulator::{SimWorkflow, World};
use support::config::ConfigBuilder;
use support::fleet::{free_port, Fleet};
use support::{pswatch, Service};

const TOKEN: &str = "timers-admin-token-0123456789abcdefgh";

fn text(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn firings(bodies: &[Value]) -> Vec<u64> {
    bodies
        .iter()
        .map(|body| body["data"]["firing"].as_u64().expect("a firing number"))
        .collect()
}

/// A fleet whose workflow #3 of acme/commerce is `running`, and a configuration with timer
/// `stuck` on workflows in `error` (2 s, again every 2 s, escalated from the third firing to
/// the webhook channel `pager`, which no route names).
async fn fleet() -> (Fleet, ConfigBuilder) {
    let mut world = World::default();
    world
        .database_mut("acme", "commerce")
        .workflows
        .push(SimWorkflow::new(3, "move-customers", "running"));
    let fleet = Fleet::start(world).await;
    let config = fleet
        .config("200ms")
        .webhook("pager", &format!("{}/pager", fleet.receiver.url))
        .timer("stuck", &["workflow"], &["error"], "2s")
        .timer_with("repeat", "2s")
        .timer_with("escalate_after", 3)
        .timer_with("escalate_to", vec!["pager"])
        .watch("acme", &["commerce"]);
    (fleet, config)
}

fn set_state(fleet: &Fleet, state: &str) {
    fleet.simulator.update(|world| {
        world.database_mut("acme", "commerce").workflows[0].state = state.into();
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn a_timer_fires_repeats_escalates_and_stops_when_the_state_changes() {
    let (fleet, config) = fleet().await;
    let config = fleet.write(config);
    let service = Service::start(&config, &[], fleet.directory.path());
    service.logged("baseline recorded").await;
    set_state(&fleet, "error");
    fleet.wait_for("workflow.state_changed", 1).await;
    // Firings come at 2 s, 4 s, 6 s, …; a poll late past a firing time (a loaded machine)
    // makes the latest due, so numbers only rise, and from the third on they escalate.
    let fired = support::eventually(Duration::from_secs(30), || {
        let fired = fleet.deliveries_of("timer.fired");
        std::future::ready(
            fired
                .iter()
                .any(|body| body["data"]["firing"].as_u64() >= Some(3))
                .then_some(fired),
        )
    })
    .await
    .expect("the third firing");
    let numbers = firings(&fired);
    assert!(
        numbers.windows(2).all(|pair| pair[0] < pair[1]),
        "{numbers:?}"
    );
    let first = &fired[0]["data"];
    assert_eq!(first["timer"], "stuck");
    assert_eq!(first["state"], "error");
    assert_eq!(first["resource_kind"], "workflow");
    assert_eq!(first["workflow"]["number"], 3);
    assert!(
        first["in_state_seconds"].as_i64().expect("seconds") >= 2,
        "{first}"
    );
    assert_eq!(fired[0]["data"]["since"], fired[1]["data"]["since"]);
    assert_ne!(fired[0]["data"]["id"], fired[1]["data"]["id"]);
    for body in &fired {
        let escalated = body["data"]["firing"].as_u64() >= Some(3);
        assert_eq!(body["data"]["escalated"], escalated, "{body}");
        assert_eq!(
            body["data"]["severity"],
            if escalated { "critical" } else { "warning" }
        );
    }
    // Only the escalated firings reach `pager`.
    assert!(
        fleet
            .receiver
            .wait_until(Duration::from_secs(10), |requests| requests
                .iter()
                .any(|request| request.path == "/pager"))
            .await,
        "the escalation reached pager"
    );
    let paged: Vec<Value> = fleet
        .receiver
        .accepted("/pager")
        .iter()
        .map(|request| serde_json::from_slice(&request.body).expect("json"))
        .collect();
    assert!(paged
        .iter()
        .all(|body| body["type"] == "timer.fired" && body["data"]["firing"].as_u64() >= Some(3)));

    // Out of error: no more firings.
    set_state(&fleet, "running");
    fleet.wait_for("workflow.state_changed", 2).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let settled = fleet.deliveries_of("timer.fired").len();
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        fleet.deliveries_of("timer.fired").len(),
        settled,
        "the state changed, the timer stopped"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_down_across_two_firings_fires_once_when_back() {
    let (fleet, config) = fleet().await;
    let config = fleet.write(config.timer_with("repeat", "3s"));
    let mut service = Service::start(&config, &[], fleet.directory.path());
    service.logged("baseline recorded").await;
    set_state(&fleet, "error");
    fleet.wait_for("timer.fired", 1).await;
    service.kill();
    let before = firings(&fleet.deliveries_of("timer.fired"));
    let last = *before.last().expect("a firing");
    // Down for two more firing times (3 s apart).
    tokio::time::sleep(Duration::from_secs(7)).await;
    let service = Service::start(&config, &[], fleet.directory.path());
    let after = fleet.wait_for("timer.fired", before.len() + 1).await;
    let back = after[before.len()]["data"]["firing"]
        .as_u64()
        .expect("firing");
    assert!(back >= last + 2, "numbered as the latest due: {after:#?}");
    // Nothing else was caught up: the next one comes at its own time, 3 s on.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let now = firings(&fleet.deliveries_of("timer.fired"));
    assert!(now.len() <= before.len() + 2, "{now:?}");
    assert!(now.windows(2).all(|pair| pair[0] < pair[1]), "{now:?}");
    drop(service);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_silence_stops_a_timer_and_route_and_the_dry_run_show_it() {
    let (fleet, config) = fleet().await;
    let config = fleet.write(
        config
            .set("admin.listen", format!("127.0.0.1:{}", free_port()))
            .set("admin.token", "${TEST_ADMIN_TOKEN}"),
    );
    let environment = [("TEST_ADMIN_TOKEN", TOKEN.to_owned())];

    // `route` names the escalation route and the condition it adds.
    let routed = pswatch(
        &["route", "--event", "timer.fired", "--timer", "stuck"],
        &config,
        &environment,
    );
    assert!(routed.status.success(), "{}", text(&routed));
    let routed = text(&routed);
    assert!(routed.contains("audit"), "{routed}");
    assert!(
        routed.contains("pager") && routed.contains("timers[0].escalate_to (from firing 3)"),
        "{routed}"
    );
    let other = pswatch(
        &["route", "--event", "timer.fired", "--timer", "other"],
        &config,
        &environment,
    );
    assert!(!text(&other).contains("pager"), "{}", text(&other));

    let mut service = Service::start(&config, &environment, fleet.directory.path());
    service.logged("baseline recorded").await;
    set_state(&fleet, "error");
    fleet.wait_for("timer.fired", 1).await;
    let added = pswatch(
        &[
            "silence",
            "add",
            "--database",
            "acme/commerce",
            "--events",
            "timer.fired",
            "--for",
            "1h",
            "--comment",
            "known, being fixed",
        ],
        &config,
        &environment,
    );
    assert!(added.status.success(), "{}", text(&added));
    service.logged("silence added").await;
    let silenced = fleet.deliveries_of("timer.fired").len();
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        fleet.deliveries_of("timer.fired").len(),
        silenced,
        "silenced: no firing delivered"
    );
    assert!(
        service.stderr().contains("timer.fired"),
        "the held firings are still logged"
    );

    // Stopped, the state still in error: a dry run shows the firing it would make, held back
    // by the silence.
    service.terminate(Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let dry = pswatch(&["once", "--dry-run"], &config, &environment);
    let dry = text(&dry);
    assert!(
        dry.contains("timer stuck") && dry.contains("held back by silence"),
        "{dry}"
    );
}

#[test]
fn check_names_unknown_resources_bad_durations_and_missing_channels() {
    let directory = tempfile::tempdir().expect("tempdir");
    let config = ConfigBuilder::new("http://127.0.0.1:9", &directory.path().join("state"))
        .webhook("audit", "http://127.0.0.1:9/hooks")
        .route(&["audit"])
        .watch("acme", &[])
        .timer("stuck", &["workflows", "backup"], &["error"], "0s")
        .timer_with("repeat", "soon")
        .timer("stuck", &["workflow"], &["err["], "1h")
        .timer_with("escalate_after", 2)
        .timer_with("escalate_to", vec!["pagr"])
        .timer_with("channels", vec!["audit", "slak"])
        .write(&directory.path().join("pswatch.toml"));
    let output = pswatch(&["check"], &config, &[]);
    assert!(!output.status.success());
    let said = text(&output);
    for expected in [
        "timers[0].resources[0]",
        "\"workflows\" is not a kind of resource a timer watches",
        "timers[0].repeat",
        "timers[1].name",
        "timers[1].states",
        "timers[1].escalate_to[0]",
        "\"pagr\" is not the name of a channel",
        "timers[1].channels[1]",
        "timers[1].escalate_after",
    ] {
        assert!(said.contains(expected), "{expected:?} not in: {said}");
    }
    // A zero `after`, once the rest reads.
    let config = ConfigBuilder::new("http://127.0.0.1:9", &directory.path().join("state"))
        .webhook("audit", "http://127.0.0.1:9/hooks")
        .route(&["audit"])
        .watch("acme", &[])
        .timer("stuck", &["workflow"], &["error"], "0s")
        .write(&directory.path().join("pswatch.toml"));
    let said = text(&pswatch(&["check"], &config, &[]));
    assert!(
        said.contains("timers[0].after") && said.contains("from 1s to 366d"),
        "{said}"
    );
}
