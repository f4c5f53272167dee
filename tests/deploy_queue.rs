//! A deploy request's place in the deploy queue (`get_deploy_queue`, read only while one waits
//! there): carried by its events' webhook body while it is queued, and shown by `/api/status`
//! (the status page's list of what moves).

mod support;

use serde_json::Value;
use simulator::{SimDeployRequest, World};
use support::fleet::Fleet;
use support::Service;

#[tokio::test(flavor = "multi_thread")]
async fn a_queued_deploy_request_says_its_place_in_the_queue() {
    let mut world = World::default();
    let database = world.database_mut("acme", "commerce");
    database
        .deploy_requests
        .push(SimDeployRequest::new(5, "in_progress"));
    for number in [6, 7] {
        database
            .deploy_requests
            .push(SimDeployRequest::new(number, "ready"));
    }
    let fleet = Fleet::start(world).await;
    let config = fleet.write(fleet.config("200ms").watch("acme", &["commerce"]));
    let service = Service::start(&config, &[], fleet.directory.path());
    service.logged("baseline recorded").await;
    assert_eq!(
        fleet.simulator.requests_to("deploy_queue"),
        0,
        "nothing queued: the queue is not read"
    );
    fleet.simulator.update(|world| {
        for number in [6, 7] {
            world
                .database_mut("acme", "commerce")
                .deploy_request_mut(number)
                .expect("deploy request")
                .deployment_state = "queued".into();
        }
    });
    let changes = fleet.wait_for("deploy_request.state_changed", 2).await;
    let place = |number: u64| {
        changes
            .iter()
            .find(|body| body["data"]["deploy_request"]["number"] == number)
            .map(|body| body["data"]["deploy_request"]["queue_position"].clone())
    };
    // #5 deploys first; #6 and #7 wait behind it.
    assert_eq!(place(6), Some(Value::from(2)));
    assert_eq!(place(7), Some(Value::from(3)));
    let admin = service.admin_url().await;
    let status: Value = reqwest::get(format!("{admin}/api/status"))
        .await
        .expect("status")
        .json()
        .await
        .expect("json");
    let requests = status["targets"][0]["in_motion"]["deploy_requests"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let shown: Vec<(u64, Option<u64>)> = requests
        .iter()
        .map(|request| {
            (
                request["number"].as_u64().unwrap_or_default(),
                request["queue_position"].as_u64(),
            )
        })
        .collect();
    assert!(shown.contains(&(6, Some(2))), "{status:#}");
    assert!(shown.contains(&(7, Some(3))), "{status:#}");
    assert!(shown.contains(&(5, None)), "{status:#}");
}
