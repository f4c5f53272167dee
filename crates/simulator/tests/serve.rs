//! The simulator speaks the API's shapes, pagination and auth.

use serde_json::Value;
use simulator::{SimWorkflow, Simulator, World};

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
    let (status, body) = get(&base, "id:wrong").await;
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
    assert_eq!(simulator.requests(), 4);
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
