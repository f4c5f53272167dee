//! Watching backups through the binary: off by default (no request for branches or backups),
//! and with `resources = [..., "backups"]` a baseline, then each change of a production
//! branch's backups reaches a webhook once with its details, and PagerDuty opens an incident
//! for a failed backup that the branch's next success resolves.

mod support;

use std::time::Duration;

use serde_json::Value;
use simulator::{SimBackup, SimBranch, World};
use support::fleet::Fleet;
use support::pswatch;

const ROUTING_KEY: &str = "R0ut1ngK3yForBackups000000000000";

fn world() -> World {
    let mut world = World::default();
    let database = world.database_mut("acme", "commerce");
    database.branches.push(SimBranch::new("add-orders", false));
    let mut done = SimBackup::new("bk1", "main");
    done.state = "success".into();
    database.backups.push(done);
    // A development branch's backups are not watched.
    database.backups.push(SimBackup::new("dev1", "add-orders"));
    // A PostgreSQL database: its backups are watched, never workflows or deploy requests.
    let pg = world.database_mut("acme", "pg");
    pg.kind = "postgresql".into();
    let mut running = SimBackup::new("pg1", "main");
    running.state = "running".into();
    pg.backups.push(running);
    world
}

fn once(config: &std::path::Path) {
    let output = pswatch(&["once"], config, &[]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn set_backup(fleet: &Fleet, id: &str, state: &str) {
    fleet.simulator.update(|world| {
        let database = world.database_mut("acme", "commerce");
        match database.backups.iter_mut().find(|backup| backup.id == id) {
            Some(backup) => backup.state = state.into(),
            None => {
                let mut backup = SimBackup::new(id, "main");
                backup.state = state.into();
                backup.size = 52_428_800;
                backup.started_at = Some("2026-11-23T09:00:00.000Z".into());
                database.backups.push(backup);
            }
        }
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn backups_are_watched_when_asked_for_and_page_until_the_next_success() {
    let fleet = Fleet::start(world()).await;
    // Off by default: not one request for branches or backups.
    let default = fleet.write(fleet.config("1s").watch("acme", &["commerce"]));
    once(&default);
    set_backup(&fleet, "bk2", "running");
    once(&default);
    assert_eq!(fleet.simulator.requests_to("branches"), 0);
    assert_eq!(fleet.simulator.requests_to("backups"), 0);
    assert!(fleet.deliveries_of("backup.state_changed").is_empty());
    std::fs::remove_dir_all(fleet.state()).expect("a new state");

    let config = fleet
        .config("1s")
        .set("poll.slow_interval", "1s")
        .watch("acme", &["commerce", "pg"])
        .channel(
            "oncall",
            "pagerduty",
            &[
                ("routing_key", ROUTING_KEY.into()),
                (
                    "api_url",
                    format!("{}/pagerduty", fleet.receiver.url).into(),
                ),
            ],
        )
        .with("min_interval", "10ms")
        .route(&["oncall"]);
    let path = config
        .watch_with("resources", vec!["workflows", "deploy_requests", "backups"])
        .write(&fleet.directory.path().join("backups.toml"));

    // The first reading is a baseline, even of a backup running.
    once(&path);
    assert!(fleet.deliveries_of("backup.state_changed").is_empty());
    assert!(fleet.simulator.requests_to("branches") > 0);
    let workflows_before = fleet.simulator.requests_to("workflows");
    fleet.simulator.update(|world| {
        world.database_mut("acme", "pg").backups[0].state = "failed".into();
    });
    let steps = [("bk2", "failed"), ("bk3", "running"), ("bk3", "success")];
    for (id, state) in steps {
        set_backup(&fleet, id, state);
        tokio::time::sleep(Duration::from_millis(1100)).await;
        once(&path);
    }
    // PostgreSQL's failed backup is reported; no workflow was asked of it.
    let pg: Vec<Value> = fleet
        .deliveries_of("backup.state_changed")
        .into_iter()
        .filter(|body| body["data"]["database"] == "pg")
        .collect();
    assert_eq!(pg.len(), 1, "{pg:#?}");
    assert_eq!(pg[0]["data"]["state"], "failed");
    assert_eq!(
        fleet.simulator.requests_to("workflows") - workflows_before,
        3,
        "one workflow list per poll, of commerce only"
    );
    let delivered: Vec<Value> = fleet
        .deliveries_of("backup.state_changed")
        .into_iter()
        .filter(|body| body["data"]["database"] == "commerce")
        .collect();
    let seen: Vec<(String, String, String)> = delivered
        .iter()
        .map(|body| {
            let data = &body["data"];
            (
                data["backup"]["id"].as_str().expect("id").to_owned(),
                data["state"].as_str().expect("state").to_owned(),
                data["severity"].as_str().expect("severity").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("bk2".into(), "failed".into(), "critical".into()),
            ("bk3".into(), "running".into(), "info".into()),
            ("bk3".into(), "success".into(), "info".into()),
        ],
        "each once, with its details: {delivered:#?}"
    );
    let failed = &delivered[0]["data"];
    assert_eq!(failed["previous_state"], "running");
    assert_eq!(failed["backup"]["branch"], "main");
    assert_eq!(failed["backup"]["size"], 52_428_800);
    assert_eq!(delivered[2]["data"]["recovers"], true);
    assert!(
        !delivered
            .iter()
            .any(|body| body["data"]["backup"]["branch"] == "add-orders"),
        "a development branch's backups are not watched"
    );

    // PagerDuty: the failure triggers, the next success resolves the same incident.
    let pages: Vec<Value> = fleet
        .receiver
        .accepted("/pagerduty/v2/enqueue")
        .iter()
        .map(|request| serde_json::from_slice(&request.body).expect("json"))
        .collect();
    let actions: Vec<(&str, &str)> = pages
        .iter()
        .map(|page| {
            (
                page["event_action"].as_str().expect("action"),
                page["dedup_key"].as_str().expect("key"),
            )
        })
        .collect();
    let commerce: Vec<(&str, &str)> = actions
        .iter()
        .copied()
        .filter(|(_, key)| key.contains("/commerce/"))
        .collect();
    assert_eq!(
        commerce,
        [
            ("trigger", "pswatch/acme/commerce/backups/main"),
            ("resolve", "pswatch/acme/commerce/backups/main"),
        ]
    );
    assert!(actions.contains(&("trigger", "pswatch/acme/pg/backups/main")));
}

/// Resizes of production branches and their keyspaces: a baseline, then each change of state
/// reaches the webhook once with the sizes before and after; a cancelled one is a warning. A
/// watch of resizes alone asks for no workflow or deploy request.
#[tokio::test(flavor = "multi_thread")]
async fn resizes_are_reported_with_their_sizes_and_nothing_else_is_asked() {
    let mut world = World::default();
    let database = world.database_mut("acme", "commerce");
    let mut old = simulator::SimResize::new("rs0", "main", None);
    old.state = "completed".into();
    database.resizes.push(old);
    let fleet = Fleet::start(world).await;
    let config = fleet
        .config("1s")
        .set("poll.slow_interval", "1s")
        .watch("acme", &["commerce"]);
    let path = config
        .watch_with("resources", vec!["resizes"])
        .write(&fleet.directory.path().join("resizes.toml"));
    once(&path);
    let set = |id: &str, keyspace: Option<&str>, state: &str| {
        fleet.simulator.update(|world| {
            let resizes = &mut world.database_mut("acme", "commerce").resizes;
            match resizes.iter_mut().find(|resize| resize.id == id) {
                Some(resize) => resize.state = state.into(),
                None => {
                    let mut resize = simulator::SimResize::new(id, "main", keyspace);
                    resize.state = state.into();
                    resizes.push(resize);
                }
            }
        });
    };
    for (id, keyspace, state) in [
        ("rs1", None, "resizing"),
        ("rs1", None, "completed"),
        ("rs2", Some("commerce"), "queued"),
        ("rs2", Some("commerce"), "canceled"),
    ] {
        set(id, keyspace, state);
        tokio::time::sleep(Duration::from_millis(1100)).await;
        once(&path);
    }
    let delivered = fleet.deliveries_of("resize.state_changed");
    let seen: Vec<(String, Option<String>, String, String)> = delivered
        .iter()
        .map(|body| {
            let data = &body["data"];
            (
                data["resize"]["id"].as_str().expect("id").to_owned(),
                data["previous_state"].as_str().map(str::to_owned),
                data["state"].as_str().expect("state").to_owned(),
                data["severity"].as_str().expect("severity").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("rs1".into(), None, "resizing".into(), "info".into()),
            (
                "rs1".into(),
                Some("resizing".into()),
                "completed".into(),
                "info".into()
            ),
            ("rs2".into(), None, "queued".into(), "info".into()),
            (
                "rs2".into(),
                Some("queued".into()),
                "canceled".into(),
                "warning".into()
            ),
        ],
        "{delivered:#?}"
    );
    let completed = &delivered[1]["data"]["resize"];
    assert_eq!(completed["previous_cluster_name"], "PS_10");
    assert_eq!(completed["cluster_name"], "PS_20");
    assert_eq!(completed["maximum_storage_bytes"], 214_748_364_800_u64);
    assert_eq!(completed["keyspace"], Value::Null);
    assert_eq!(delivered[3]["data"]["resize"]["keyspace"], "commerce");
    assert_eq!(fleet.simulator.requests_to("workflows"), 0);
    assert_eq!(fleet.simulator.requests_to("deploy_requests"), 0);
}

/// Schema recommendations: a baseline, then a new one is `schema_recommendation.opened` with
/// its title, table, type, change and link, and one applied is `schema_recommendation.closed`.
#[tokio::test(flavor = "multi_thread")]
async fn schema_recommendations_open_and_close() {
    let mut world = World::default();
    world
        .database_mut("acme", "commerce")
        .recommendations
        .push(simulator::SimRecommendation::new(1, "users"));
    let fleet = Fleet::start(world).await;
    let config = fleet
        .config("1s")
        .set("poll.slow_interval", "1s")
        .watch("acme", &["commerce"]);
    let path = config
        .watch_with("resources", vec!["schema_recommendations"])
        .write(&fleet.directory.path().join("recommendations.toml"));
    once(&path);
    fleet.simulator.update(|world| {
        world
            .database_mut("acme", "commerce")
            .recommendations
            .push(simulator::SimRecommendation::new(2, "orders"));
    });
    tokio::time::sleep(Duration::from_millis(1100)).await;
    once(&path);
    fleet.simulator.update(|world| {
        world.database_mut("acme", "commerce").recommendations[1].state = "applied".into();
    });
    tokio::time::sleep(Duration::from_millis(1100)).await;
    once(&path);
    let opened = fleet.deliveries_of("schema_recommendation.opened");
    assert_eq!(
        opened.len(),
        1,
        "the baseline's is not reported: {opened:#?}"
    );
    let recommendation = &opened[0]["data"]["recommendation"];
    assert_eq!(recommendation["number"], 2);
    assert_eq!(
        recommendation["title"],
        "Drop unused index idx_old on orders"
    );
    assert_eq!(recommendation["table_name"], "orders");
    assert_eq!(recommendation["recommendation_type"], "unused_index");
    assert_eq!(
        recommendation["ddl_statement"],
        "ALTER TABLE `orders` DROP INDEX `idx_old`"
    );
    assert!(recommendation["html_url"]
        .as_str()
        .is_some_and(|url| url.starts_with("https://app.planetscale.com/")));
    let closed = fleet.deliveries_of("schema_recommendation.closed");
    assert_eq!(closed.len(), 1, "{closed:#?}");
    assert_eq!(closed[0]["data"]["previous_state"], "open");
    assert_eq!(closed[0]["data"]["state"], "applied");
}

/// Maintenance: a baseline, then a required window scheduled is a warning with its deadline
/// and the version it brings; its start (the last window moving) and its end (its hours over)
/// are each reported once.
#[tokio::test(flavor = "multi_thread")]
async fn a_required_maintenance_is_scheduled_started_and_finished_once_each() {
    let mut world = World::default();
    world
        .database_mut("acme", "commerce")
        .maintenance
        .push(simulator::SimMaintenance::new("ms1"));
    let fleet = Fleet::start(world).await;
    let config = fleet
        .config("1s")
        .set("poll.slow_interval", "1s")
        .watch("acme", &["commerce"]);
    let path = config
        .watch_with("resources", vec!["maintenance"])
        .write(&fleet.directory.path().join("maintenance.toml"));
    once(&path);
    let now = time::OffsetDateTime::now_utc();
    let rfc = |at: time::OffsetDateTime| {
        at.format(&time::format_description::well_known::Rfc3339)
            .expect("a time")
    };
    let next = rfc(now + time::Duration::days(2));
    type Change<'a> = Box<dyn Fn(&mut simulator::SimMaintenance) + 'a>;
    let steps: Vec<Change> = vec![
        // Scheduled, required.
        Box::new(|schedule| {
            schedule.required = true;
            schedule.next_window = Some(next.clone());
        }),
        // Its window began an hour and a half ago (and lasts one hour): started, then over.
        Box::new(|schedule| {
            schedule.last_window = Some(rfc(now - time::Duration::minutes(90)));
        }),
        // Nothing new: nothing reported.
        Box::new(|_| {}),
    ];
    for step in &steps {
        fleet.simulator.update(|world| {
            step(&mut world.database_mut("acme", "commerce").maintenance[0]);
        });
        tokio::time::sleep(Duration::from_millis(1100)).await;
        once(&path);
    }
    let kinds: Vec<String> = fleet
        .deliveries()
        .iter()
        .filter_map(|body| body["type"].as_str().map(str::to_owned))
        .filter(|kind| kind.starts_with("maintenance."))
        .collect();
    assert_eq!(
        kinds,
        [
            "maintenance.scheduled",
            "maintenance.started",
            "maintenance.finished"
        ]
    );
    let scheduled = &fleet.deliveries_of("maintenance.scheduled")[0]["data"];
    assert_eq!(scheduled["severity"], "warning");
    assert_eq!(scheduled["schedule"]["required"], true);
    assert_eq!(
        scheduled["schedule"]["deadline_at"],
        "2026-12-05T00:00:00.000Z"
    );
    assert_eq!(scheduled["schedule"]["pending_vitess_version"], "22.0");
    assert_eq!(scheduled["schedule"]["next_window_datetime"], next.as_str());
}

/// The slower kinds come after workflows and deploy requests: while the token's budget has
/// little room left for idle work they wait for a later poll (no branch or backup is asked),
/// and a budget with room reads them.
#[tokio::test(flavor = "multi_thread")]
async fn the_slower_kinds_wait_while_the_budget_is_nearly_spent() {
    let fleet = Fleet::start(world()).await;
    let tight = fleet.write(
        fleet
            .config("1s")
            .set("planetscale.requests_per_minute", 6)
            .watch("acme", &["commerce"])
            .watch_with("resources", vec!["workflows", "deploy_requests", "backups"]),
    );
    once(&tight);
    assert!(fleet.simulator.requests_to("workflows") >= 1);
    assert_eq!(fleet.simulator.requests_to("branches"), 0);
    assert_eq!(fleet.simulator.requests_to("backups"), 0);
    let roomy = fleet.write(
        fleet
            .config("1s")
            .watch("acme", &["commerce"])
            .watch_with("resources", vec!["workflows", "deploy_requests", "backups"]),
    );
    once(&roomy);
    assert!(fleet.simulator.requests_to("branches") >= 1);
    assert!(fleet.simulator.requests_to("backups") >= 1);
}

/// The production branches are listed as often as the databases (every ten minutes), not at
/// every reading of their backups.
#[tokio::test(flavor = "multi_thread")]
async fn the_branches_are_listed_once_for_many_readings() {
    let fleet = Fleet::start(world()).await;
    let config = fleet.write(
        fleet
            .config("200ms")
            .set("poll.slow_interval", "200ms")
            .watch("acme", &["commerce"])
            .watch_with("resources", vec!["workflows", "deploy_requests", "backups"]),
    );
    let service = support::Service::start(&config, &[], fleet.directory.path());
    let read = support::eventually(Duration::from_secs(20), || {
        std::future::ready((fleet.simulator.requests_to("backups") >= 4).then_some(()))
    })
    .await;
    assert!(read.is_some(), "{}", service.stderr());
    assert_eq!(fleet.simulator.requests_to("branches"), 1);
}
