//! Digests through the binary: one with a time a few seconds ahead is sent once for its
//! period by a service that was down at that time and comes back, lists what completed,
//! failed and waits, and is not sent again after a restart.

mod support;

use std::time::Duration;

use serde_json::Value;
use simulator::{SimDeployRequest, SimWorkflow, World};
use support::fleet::Fleet;
use support::Service;

fn world() -> World {
    let mut world = World::default();
    let database = world.database_mut("acme", "commerce");
    database
        .workflows
        .push(SimWorkflow::new(3, "move-customers", "switched_primaries"));
    database
        .deploy_requests
        .push(SimDeployRequest::new(5, "in_progress").with_operation(
            "op-orders",
            "orders",
            "in_progress",
        ));
    database
        .deploy_requests
        .push(SimDeployRequest::new(6, "in_progress").with_operation(
            "op-users",
            "users",
            "in_progress",
        ));
    // Another database, which the digest does not cover.
    world
        .database_mut("acme", "billing")
        .workflows
        .push(SimWorkflow::new(1, "move-invoices", "switched_primaries"));
    world
}

async fn logged(service: &Service, text: &str) {
    assert!(
        service.wait_for_log(text, Duration::from_secs(20)).await,
        "no {text:?} in: {}",
        service.stderr()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_digest_is_sent_once_per_period_even_by_a_service_that_was_down_at_its_time() {
    let fleet = Fleet::start(world()).await;
    // Twelve seconds from now, as a time of day in UTC.
    let at = time::OffsetDateTime::now_utc() + time::Duration::seconds(12);
    let at_text = format!("{:02}:{:02}:{:02}", at.hour(), at.minute(), at.second());
    let path = fleet.write(
        fleet
            .config("200ms")
            .watch("acme", &["commerce", "billing"])
            .digest("morning", &["audit"], &at_text)
            .digest_with("databases", vec!["acme/commerce"]),
    );
    let checked = support::pswatch(&["check"], &path, &[]);
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stdout)
    );

    let logs = fleet.directory.path();
    let mut first = Service::start(&path, &[], logs);
    logged(&first, "its first period starts now").await;
    let baselines = support::eventually(Duration::from_secs(20), || {
        std::future::ready((first.stderr().matches("baseline recorded").count() >= 2).then_some(()))
    })
    .await;
    assert!(baselines.is_some(), "{}", first.stderr());
    fleet.simulator.update(|world| {
        let database = world.database_mut("acme", "commerce");
        database.workflow_mut(3).expect("workflow").state = "completed".into();
        let failing = database.deploy_request_mut(5).expect("deploy request");
        failing.deployment_state = "complete_error".into();
        failing.operations[0].state = "error".into();
        failing.operations[0].deploy_errors =
            Some("Duplicate entry 'A-1' for key 'idx_ref'".into());
        let waiting = database.deploy_request_mut(6).expect("deploy request");
        waiting.deployment_state = "pending_cutover".into();
        waiting.operations[0].state = "complete".into();
        world
            .database_mut("acme", "billing")
            .workflow_mut(1)
            .expect("workflow")
            .state = "completed".into();
    });
    fleet.wait_for("workflow.state_changed", 2).await;
    fleet.wait_for("deploy_request.state_changed", 2).await;
    // Down at the digest's time.
    assert!(first
        .terminate(Duration::from_secs(20))
        .await
        .is_some_and(|status| status.success()));
    assert!(
        fleet.deliveries_of("pswatch.digest").is_empty(),
        "not before its time"
    );
    let wait = at - time::OffsetDateTime::now_utc() + time::Duration::seconds(1);
    if let Ok(wait) = Duration::try_from(wait) {
        tokio::time::sleep(wait).await;
    }

    // Back after it: the digest goes once, for the period since the first start.
    let mut second = Service::start(&path, &[], logs);
    let digests = fleet.wait_for("pswatch.digest", 1).await;
    logged(&second, "digest sent").await;
    let digest = &digests[0]["data"]["digest"];
    assert_eq!(digest["name"], "morning");
    assert_eq!(digest["timezone"], "UTC");
    assert!(
        digest["period_end"]
            .as_str()
            .is_some_and(|end| end.contains(&at_text)),
        "{digest:#}"
    );
    let databases = digest["databases"].as_array().expect("databases");
    assert_eq!(databases.len(), 1, "billing is not covered: {digest:#}");
    let commerce = &databases[0];
    assert_eq!(commerce["database"], "commerce");
    let resources = |list: &str| -> Vec<String> {
        commerce[list]
            .as_array()
            .expect("list")
            .iter()
            .map(|item| item["resource"].as_str().expect("resource").to_owned())
            .collect()
    };
    assert_eq!(resources("completed"), ["workflow #3 move-customers"]);
    assert_eq!(
        resources("failed"),
        ["deploy request #5", "deploy request #5 table orders"]
    );
    assert!(commerce["failed"].to_string().contains("Duplicate entry"));
    assert_eq!(resources("waiting"), ["deploy request #6"]);
    assert!(commerce["waiting"][0]["since"].is_string(), "{commerce:#}");
    assert_eq!(
        (
            digest["completed"].as_u64(),
            digest["failed"].as_u64(),
            digest["waiting"].as_u64()
        ),
        (Some(1), Some(2), Some(1))
    );
    assert!(second
        .terminate(Duration::from_secs(20))
        .await
        .is_some_and(|status| status.success()));

    // Started again in the same period: not sent again.
    let third = Service::start(&path, &[], logs);
    logged(&third, "watching").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        fleet.deliveries_of("pswatch.digest").len(),
        1,
        "{}",
        third.stderr()
    );
    assert!(
        !third.stderr().contains("digest sent"),
        "{}",
        third.stderr()
    );
    let _: Value = digests[0].clone();
}
