//! PagerDuty's change events through the binary: with `change_events = true`, a deploy request
//! that deploys and completes and a workflow that cuts over and completes stand on the
//! service's timeline (`POST /v2/change/enqueue`), each once, in the shape PagerDuty documents;
//! the routing key appears in no log.

mod support;

use std::time::Duration;

use serde_json::Value;
use simulator::{SimDeployRequest, SimWorkflow, World};
use support::fleet::Fleet;
use support::Service;

const ROUTING_KEY: &str = "R0ut1ngK3yForChangeEvents0000000";

/// A change of the simulated world.
type Step = fn(&mut World);

#[tokio::test(flavor = "multi_thread")]
async fn deploys_cutovers_and_completions_are_change_events() {
    let mut world = World::default();
    let commerce = world.database_mut("acme", "commerce");
    commerce
        .deploy_requests
        .push(SimDeployRequest::new(7, "in_progress").with_operation(
            "op-1",
            "orders",
            "in_progress",
        ));
    commerce
        .workflows
        .push(SimWorkflow::new(3, "move-customers", "switched_primaries"));
    let fleet = Fleet::start(world).await;
    let config = fleet.write(
        fleet
            .config("300ms")
            .watch("acme", &["commerce"])
            .channel(
                "pager",
                "pagerduty",
                &[
                    ("routing_key", "${TEST_ROUTING_KEY}".into()),
                    (
                        "api_url",
                        format!("{}/pagerduty", fleet.receiver.url).into(),
                    ),
                    ("change_events", true.into()),
                ],
            )
            .route(&["pager"]),
    );
    let service = Service::start(
        &config,
        &[("TEST_ROUTING_KEY", ROUTING_KEY.into())],
        fleet.directory.path(),
    );
    service.logged("baseline recorded").await;
    let steps: [(&str, Step); 4] = [
        ("deploy request #7 deployed", |world| {
            let request = &mut world.database_mut("acme", "commerce").deploy_requests[0];
            request.deployment_state = "complete_pending_revert".into();
            request.operations[0].state = "complete".into();
        }),
        ("workflow #3 move-customers cut over", |world| {
            world
                .database_mut("acme", "commerce")
                .workflow_mut(3)
                .expect("workflow")
                .state = "cutover".into();
        }),
        ("deploy request #7 completed", |world| {
            let request = &mut world.database_mut("acme", "commerce").deploy_requests[0];
            request.deployment_state = "complete".into();
            request.state = "closed".into();
        }),
        ("workflow #3 move-customers completed", |world| {
            world
                .database_mut("acme", "commerce")
                .workflow_mut(3)
                .expect("workflow")
                .state = "completed".into();
        }),
    ];
    for (count, (_, step)) in steps.iter().enumerate() {
        fleet.simulator.update(step);
        let arrived = fleet
            .receiver
            .wait_until(Duration::from_secs(30), |requests| {
                requests
                    .iter()
                    .filter(|request| request.path == "/pagerduty/v2/change/enqueue")
                    .count()
                    > count
            })
            .await;
        assert!(arrived, "{}", service.stderr());
    }
    // A moment for anything sent twice to arrive.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let changes: Vec<Value> = fleet
        .receiver
        .accepted("/pagerduty/v2/change/enqueue")
        .iter()
        .map(|request| serde_json::from_slice(&request.body).expect("JSON"))
        .collect();
    let summaries: Vec<&str> = changes
        .iter()
        .map(|body| body["payload"]["summary"].as_str().expect("summary"))
        .collect();
    let expected: Vec<String> = steps
        .iter()
        .map(|(summary, _)| format!("acme/commerce {summary}"))
        .collect();
    assert_eq!(summaries, expected);
    for body in &changes {
        assert_eq!(body["routing_key"], ROUTING_KEY);
    }
    let problems = notifier::vendor_check::pagerduty_change_problems(&changes);
    assert!(problems.is_empty(), "{problems:#?}");
    // Nothing failed, so nothing paged; the routing key is in no log.
    assert!(fleet.receiver.accepted("/pagerduty/v2/enqueue").is_empty());
    assert!(!service.stderr().contains(ROUTING_KEY));

    // The check itself refuses what PagerDuty's documentation does not allow.
    let mut wrong = changes[0].clone();
    wrong["payload"]["summary"] = "x".repeat(1025).into();
    wrong["payload"]["severity"] = "info".into();
    wrong["links"][0] = serde_json::json!({"text": "no href"});
    let problems = notifier::vendor_check::pagerduty_change_problems(&[wrong]);
    assert_eq!(problems.len(), 3, "{problems:#?}");
}
