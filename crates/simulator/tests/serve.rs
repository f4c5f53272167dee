//! The simulator speaks the API's shapes, pagination and auth.

use serde_json::Value;
use simulator::{Shape, SimDeployRequest, SimWorkflow, Simulator, World};

async fn get(url: &str, token: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .get(url)
        .header("authorization", token)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

#[tokio::test]
async fn paginates_and_checks_the_token() {
    let mut world = World::default();
    let database = world.database_mut("acme", "commerce");
    for number in 1..=130 {
        database.workflows.push(SimWorkflow::new(
            number,
            format!("move-{number}"),
            "running",
        ));
    }
    let simulator = Simulator::start(world, Some("id:token".into()))
        .await
        .expect("start");
    let base = format!(
        "{}/organizations/acme/databases/commerce/workflows",
        simulator.api_url()
    );
    let (status, first) = get(&format!("{base}?per_page=100"), "id:token").await;
    assert_eq!(status, 200);
    assert_eq!(first["data"].as_array().expect("data").len(), 100);
    assert_eq!(first["next_page"], 2);
    let (_, second) = get(&format!("{base}?per_page=100&page=2"), "id:token").await;
    assert_eq!(second["data"].as_array().expect("data").len(), 30);
    assert_eq!(second["next_page"], Value::Null);
    // Like PlanetScale: a bad token is a 404 on database paths, a 401 on the organization.
    let (status, body) = get(&base, "id:wrong").await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "not_found");
    let (status, body) = get(
        &format!("{}/organizations/acme", simulator.api_url()),
        "id:wrong",
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "unauthorized");
    let (status, _) = get(
        &format!(
            "{}/organizations/acme/databases/nope/workflows",
            simulator.api_url()
        ),
        "id:token",
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(simulator.requests(), 5);
    assert_eq!(simulator.requests_to("workflows"), 4);
    assert_eq!(simulator.requests_to("organization"), 1);
}

/// Deploy requests carry their operations, revert request and lint errors, as PlanetScale's
/// specification and webhook examples show them; the Go client's shape carries none of it.
#[tokio::test]
async fn deploy_requests_come_in_planetscales_shapes() {
    let mut world = World::default();
    let mut request = SimDeployRequest::new(5, "complete_pending_revert")
        .with_operation("op-a", "orders", "complete")
        .with_operation("op-b", "invoices", "queued");
    request.offer_revert();
    request.lint_errors.push(simulator::SimLintError {
        lint_error: "NO_UNIQUE_KEY".into(),
        keyspace_name: "commerce".into(),
        table_name: "orders".into(),
        error_description: "no unique key".into(),
    });
    world
        .database_mut("acme", "commerce")
        .deploy_requests
        .push(request.clone());
    world
        .database_mut("acme", "legacy")
        .deploy_requests
        .push(request);
    world.database_mut("acme", "legacy").shape = Shape::GoClient;
    let simulator = Simulator::start(world, None).await.expect("start");
    let (_, body) = get(
        &format!(
            "{}/organizations/acme/databases/commerce/deploy-requests/5",
            simulator.api_url()
        ),
        "",
    )
    .await;
    let deployment = &body["deployment"];
    assert_eq!(deployment["deploy_operations"][0]["id"], "op-a");
    // Waiting to start, an operation shows another id, as PlanetScale's do.
    assert_eq!(deployment["deploy_operations"][1]["id"], "op-b-queued");
    assert_eq!(
        deployment["deployment_revert_request"]["deploy_revert_operations"][0]["state"],
        "submit"
    );
    assert_eq!(deployment["lint_errors"][0]["lint_error"], "NO_UNIQUE_KEY");
    let (_, body) = get(
        &format!(
            "{}/organizations/acme/databases/legacy/deploy-requests?state=open",
            simulator.api_url()
        ),
        "",
    )
    .await;
    assert!(body["data"][0].get("deployment").is_none(), "{body}");
    assert_eq!(body["data"][0]["number"], "5");
}

#[tokio::test]
async fn the_demo_plays_to_its_end() {
    let scenario = simulator::demo(std::time::Duration::from_millis(5));
    let simulator = Simulator::start(scenario.world, None).await.expect("start");
    simulator.play(scenario.steps).await.expect("played");
    let state = simulator.update(|world| {
        world.database("acme", "commerce").and_then(|database| {
            database
                .workflows
                .iter()
                .find(|w| w.number == 2)
                .map(|w| w.state.clone())
        })
    });
    assert_eq!(state.as_deref(), Some("completed"));
}
