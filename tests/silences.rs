//! Silences and reminders against a running service: `pswatch silence add` reaches the service
//! through its admin API (with the token) and holds back the matching events and only those,
//! which are recorded but never delivered, until `silence expire`; with the service stopped,
//! the same commands act on the store. With short `[alerts]` settings, a deploy request
//! pending cutover is reminded of again and again, an expiring cutover is reported, and an
//! operation stuck at one progress is reported stalled, once, and a paused deploy queue is
//! reported with its reason.

mod support;

use std::time::Duration;

use serde_json::Value;
use simulator::{SimDeployRequest, SimWorkflow, World};
use support::fleet::{free_port, Fleet};
use support::{eventually, pswatch, Service};

const TOKEN: &str = "silences-admin-token-0123456789abcdef";

fn of_database<'a>(bodies: &'a [Value], database: &str) -> Vec<&'a Value> {
    bodies
        .iter()
        .filter(|body| body["data"]["database"] == database)
        .collect()
}

fn text(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_silence_added_from_the_cli_holds_back_what_it_matches_until_it_is_expired() {
    let mut world = World::default();
    for database in ["commerce", "billing"] {
        world
            .database_mut("acme", database)
            .workflows
            .push(SimWorkflow::new(1, "move-a", "copying"));
    }
    let fleet = Fleet::start(world).await;
    let (simulator, receiver) = (&fleet.simulator, &fleet.receiver);
    let config = fleet.write(
        fleet
            .config("200ms")
            .set("admin.listen", format!("127.0.0.1:{}", free_port()))
            .set("admin.token", "${TEST_ADMIN_TOKEN}")
            .watch("acme", &["commerce", "billing"]),
    );
    let environment = [("TEST_ADMIN_TOKEN", TOKEN.to_owned())];
    let mut service = Service::start(&config, &environment, fleet.directory.path());
    let base = service.admin_url().await;
    eventually(Duration::from_secs(20), || async {
        (service.stderr().matches("baseline recorded").count() >= 2).then_some(())
    })
    .await
    .expect("both baselines");

    let added = pswatch(
        &[
            "silence",
            "add",
            "--database",
            "acme/commerce",
            "--events",
            "workflow.*",
            "--for",
            "1h",
            "--comment",
            "planned cutover of move-a",
        ],
        &config,
        &environment,
    );
    assert!(added.status.success(), "{}", text(&added));
    let line = String::from_utf8_lossy(&added.stdout).to_string();
    assert!(line.starts_with("sil_"), "{line}");
    let id = line.split_whitespace().next().expect("id").to_owned();
    let window = line.split_whitespace().nth(2).expect("window");
    let (starts, ends) = window.split_once("..").expect("start..end");
    assert!(
        !starts.contains('.') && !ends.contains('.'),
        "--for gives whole seconds, as the start: {line}"
    );
    assert!(
        line.contains("database=acme/commerce events=workflow.*"),
        "{line}"
    );
    assert!(
        service
            .wait_for_log("silence added", Duration::from_secs(5))
            .await,
        "the CLI went through the running service: {}",
        service.stderr()
    );

    let listed = pswatch(&["silence", "list"], &config, &environment);
    assert!(listed.status.success(), "{}", text(&listed));
    let listed = String::from_utf8_lossy(&listed.stdout).to_string();
    assert!(
        listed
            .lines()
            .any(|line| line.starts_with(&id) && line.contains("active")),
        "{listed}"
    );

    // Without the token, the API refuses.
    let refused = reqwest::Client::new()
        .post(format!("{base}/api/silences"))
        .json(&serde_json::json!({"database": "acme/*", "for": "2h", "comment": "x"}))
        .send()
        .await
        .expect("answer");
    assert_eq!(refused.status(), 401);
    // A silence that cannot work is refused with the reason.
    let client = reqwest::Client::new();
    let bad = client
        .post(format!("{base}/api/silences"))
        .bearer_auth(TOKEN)
        .json(&serde_json::json!({"events": ["deploy_requests.*"], "for": "2h", "comment": "x"}))
        .send()
        .await
        .expect("answer");
    assert_eq!(bad.status(), 400);
    assert!(bad
        .text()
        .await
        .expect("text")
        .contains("matches no event type"));

    // Both workflows move: only billing's is delivered.
    simulator.update(|world| {
        for database in ["commerce", "billing"] {
            world.database_mut("acme", database).workflows[0].state = "running".into();
        }
    });
    assert!(
        receiver
            .wait_until(Duration::from_secs(20), |requests| !requests.is_empty())
            .await
    );
    assert!(
        service
            .wait_for_log("silenced_by", Duration::from_secs(10))
            .await
    );
    let status: Value = client
        .get(format!("{base}/api/status"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("status")
        .json()
        .await
        .expect("json");
    let silenced: Vec<&Value> = status["recent_events"]
        .as_array()
        .expect("recent events")
        .iter()
        .filter(|event| event["silenced_by"] == id.as_str())
        .collect();
    assert_eq!(silenced.len(), 1, "{status:#}");
    assert_eq!(silenced[0]["target"], "acme/commerce");
    assert_eq!(status["silences"][0]["id"], id.as_str());
    let metrics = client
        .get(format!("{base}/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("pswatch_events_silenced_total{type=\"workflow.state_changed\"} 1"),
        "{metrics}"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let delivered = fleet.deliveries();
    assert_eq!(of_database(&delivered, "billing").len(), 1);
    assert!(
        of_database(&delivered, "commerce").is_empty(),
        "{delivered:#?}"
    );

    // Expired, the silence holds nothing back; what it held is not replayed.
    let expired = pswatch(&["silence", "expire", &id], &config, &environment);
    assert!(expired.status.success(), "{}", text(&expired));
    assert!(String::from_utf8_lossy(&expired.stdout).contains("expired"));
    simulator.update(|world| {
        world.database_mut("acme", "commerce").workflows[0].state = "switched_primaries".into();
    });
    assert!(
        receiver
            .wait_until(Duration::from_secs(20), |_| of_database(
                &fleet.deliveries(),
                "commerce"
            )
            .len()
                == 1)
            .await
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let commerce: Vec<String> = of_database(&fleet.deliveries(), "commerce")
        .iter()
        .map(|body| {
            body["data"]["state"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(commerce, ["switched_primaries"]);
    assert!(!service.stderr().contains(TOKEN), "the token is logged");

    // Stopped, the same commands act on the store, and the service finds the silence.
    service
        .terminate(Duration::from_secs(10))
        .await
        .expect("stops");
    let offline = pswatch(
        &[
            "silence",
            "add",
            "--organization",
            "acme",
            "--for",
            "30d",
            "--comment",
            "freeze",
        ],
        &config,
        &environment,
    );
    assert!(offline.status.success(), "{}", text(&offline));
    let listed = pswatch(&["silence", "list"], &config, &environment);
    let listed = String::from_utf8_lossy(&listed.stdout).to_string();
    assert_eq!(listed.lines().count(), 2, "{listed}");
    assert!(listed.contains("organization=acme"), "{listed}");
    assert!(listed
        .lines()
        .any(|line| line.starts_with(&id) && line.contains("expired")));
    let unknown = pswatch(&["silence", "expire", "sil_nothing"], &config, &environment);
    assert!(!unknown.status.success());
    assert!(
        text(&unknown).contains("no silence sil_nothing"),
        "{}",
        text(&unknown)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn waits_and_stalls_are_reminded_of_with_short_settings() {
    let mut world = World::default();
    world.database_mut("acme", "commerce").deploy_requests.push(
        SimDeployRequest::new(7, "in_progress").with_operation("op1", "orders", "in_progress"),
    );
    let fleet = Fleet::start(world).await;
    let simulator = &fleet.simulator;
    let config = fleet.write(
        fleet
            .config("200ms")
            .set("alerts.cutover_reminder", "2s")
            .set("alerts.stall_after", "2s")
            .watch("acme", &["commerce"]),
    );
    let service = Service::start(&config, &[], fleet.directory.path());
    assert!(
        service
            .wait_for_log("baseline recorded", Duration::from_secs(20))
            .await
    );
    // The operation does not move from 37.5 %: stalled, once.
    fleet.wait_for("deploy_operation.stalled", 1).await;
    // It moves, and the deploy request waits for its cutover: reminded every 2 s.
    simulator.update(|world| {
        let request = &mut world.database_mut("acme", "commerce").deploy_requests[0];
        request.operations[0].state = "complete".into();
        request.deployment_state = "pending_cutover".into();
    });
    let reminders = fleet.wait_for("deploy_request.awaiting_cutover", 2).await;
    assert_eq!(reminders[0]["data"]["reminder"], 1);
    assert_eq!(reminders[1]["data"]["reminder"], 2);
    assert_eq!(reminders[0]["data"]["state"], "pending_cutover");
    assert_ne!(reminders[0]["data"]["id"], reminders[1]["data"]["id"]);
    assert_eq!(
        reminders[0]["data"]["waiting_since"],
        reminders[1]["data"]["waiting_since"]
    );
    // PlanetScale says the cutover is about to expire.
    simulator.update(|world| {
        world.database_mut("acme", "commerce").deploy_requests[0].cutover_expiring = true;
    });
    fleet.wait_for("deploy_request.cutover_expiring", 1).await;
    // The deploy queue pauses, with PlanetScale's reason.
    simulator.update(|world| {
        let request = &mut world.database_mut("acme", "commerce").deploy_requests[0];
        request.queue_paused = true;
        request.queue_pause_reason = Some("Paused by an administrator".into());
    });
    fleet.wait_for("deploy_request.queue_paused", 1).await;

    // A second of polls later, each was reported once.
    tokio::time::sleep(Duration::from_secs(1)).await;
    for kind in [
        "deploy_operation.stalled",
        "deploy_request.cutover_expiring",
        "deploy_request.queue_paused",
    ] {
        assert_eq!(fleet.deliveries_of(kind).len(), 1, "{kind}: once");
    }
    let expiring = &fleet.deliveries_of("deploy_request.cutover_expiring")[0];
    assert_eq!(expiring["data"]["severity"], "critical");
    assert_eq!(expiring["data"]["deploy_request"]["cutover_expiring"], true);
    let paused = &fleet.deliveries_of("deploy_request.queue_paused")[0];
    assert_eq!(
        paused["data"]["queue_pause_reason"],
        "Paused by an administrator"
    );
    assert_eq!(paused["data"]["deploy_request"]["queue_paused"], true);
}

/// A deployed request whose revert window closes within `[alerts] revert_window_warning`
/// (default 10 minutes) is reported once, with when it closes.
#[tokio::test(flavor = "multi_thread")]
async fn a_closing_revert_window_is_reported_once() {
    let mut world = World::default();
    world.database_mut("acme", "commerce").deploy_requests.push(
        SimDeployRequest::new(7, "in_progress").with_operation("op1", "orders", "in_progress"),
    );
    let fleet = Fleet::start(world).await;
    let config = fleet.write(fleet.config("200ms").watch("acme", &["commerce"]));
    let service = Service::start(&config, &[], fleet.directory.path());
    assert!(
        service
            .wait_for_log("baseline recorded", Duration::from_secs(20))
            .await
    );
    let closes = (time::OffsetDateTime::now_utc() + time::Duration::minutes(5))
        .replace_nanosecond(0)
        .expect("whole seconds")
        .format(&time::format_description::well_known::Rfc3339)
        .expect("format");
    fleet.simulator.update(|world| {
        let request = &mut world.database_mut("acme", "commerce").deploy_requests[0];
        request.operations[0].state = "complete".into();
        request.deployment_state = "complete_pending_revert".into();
        request.revert = Some(Vec::new());
        request.revert_window_ends_at = Some(closes.clone());
    });
    let closing = fleet
        .wait_for("deploy_request.revert_window_closing", 1)
        .await;
    assert_eq!(closing[0]["data"]["closes_at"], closes.as_str());
    assert_eq!(closing[0]["data"]["state"], "complete_pending_revert");
    assert_eq!(
        closing[0]["data"]["deploy_request"]["revert_window_ends_at"],
        closes.as_str()
    );
    assert_eq!(closing[0]["data"]["severity"], "warning");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        fleet
            .deliveries_of("deploy_request.revert_window_closing")
            .len(),
        1,
        "once per window"
    );
}

/// A deployment that PlanetScale says a locked table holds up is reported once, with the
/// table, when the lock appears.
#[tokio::test(flavor = "multi_thread")]
async fn a_locked_table_blocking_a_deploy_is_reported_once() {
    let mut world = World::default();
    world
        .database_mut("acme", "commerce")
        .deploy_requests
        .push(SimDeployRequest::new(7, "queued"));
    let fleet = Fleet::start(world).await;
    let config = fleet.write(fleet.config("200ms").watch("acme", &["commerce"]));
    let service = Service::start(&config, &[], fleet.directory.path());
    assert!(
        service
            .wait_for_log("baseline recorded", Duration::from_secs(20))
            .await
    );
    fleet.simulator.update(|world| {
        world.database_mut("acme", "commerce").deploy_requests[0].locked_table =
            Some("orders".into());
    });
    let blocked = fleet.wait_for("deploy_request.blocked", 1).await;
    assert_eq!(blocked[0]["data"]["locked_table"], "orders");
    assert_eq!(blocked[0]["data"]["deploy_request"]["table_locked"], true);
    assert_eq!(blocked[0]["data"]["severity"], "warning");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(fleet.deliveries_of("deploy_request.blocked").len(), 1);
}
