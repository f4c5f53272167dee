//! The simulator's answers, checked against PlanetScale's specification (`openapi.yaml`): every
//! field the schema of the operation's 200 answer defines has its type, nullability and enum,
//! and none it requires is missing. The answers the watcher reads about workflows and deploy
//! requests, and those of the changes it makes from Slack.

mod support;

use serde_json::Value;
use simulator::{SimDeployRequest, SimWorkflow, Simulator, World};
use support::openapi::{operation, problems, specification};

#[tokio::test]
async fn the_simulator_answers_in_the_specification_s_shapes() {
    let Some(spec) = specification() else {
        panic!("../shared/planetscale-api/openapi.yaml is missing");
    };
    let mut world = World::default();
    let database = world.database_mut("acme", "commerce");
    database
        .workflows
        .push(SimWorkflow::new(3, "move-customers", "error"));
    database
        .deploy_requests
        .push(SimDeployRequest::new(5, "in_progress_cutover"));
    let mut queued = SimDeployRequest::new(6, "queued");
    queued.locked_table = Some("orders".into());
    database.deploy_requests.push(queued);
    let mut deployed = SimDeployRequest::new(7, "complete_pending_revert");
    deployed.revert = Some(Vec::new());
    deployed.revert_window_ends_at = Some("2026-12-08T12:00:00.000Z".into());
    database.deploy_requests.push(deployed);
    database
        .deploy_requests
        .push(SimDeployRequest::new(8, "complete_pending_revert"));
    let simulator = Simulator::start(world, Some("tok-id:tok".into()))
        .await
        .expect("simulator");
    let client = reqwest::Client::new();
    let base = simulator.api_url();
    // (operation, method, the deploy request's or workflow's number in the path)
    let calls: [(&str, &str, Option<u64>); 12] = [
        ("list_workflows", "GET", None),
        ("get_workflow", "GET", Some(3)),
        ("list_deploy_requests", "GET", None),
        ("get_deploy_request", "GET", Some(6)),
        ("get_deploy_queue", "GET", None),
        ("list_deploy_operations", "GET", Some(5)),
        ("force_cutover_deploy_request", "POST", Some(5)),
        ("cancel_deploy_request", "POST", Some(6)),
        ("skip_revert_period", "POST", Some(7)),
        ("complete_revert", "POST", Some(8)),
        ("workflow_retry", "PATCH", Some(3)),
        ("get_deploy_request", "GET", Some(7)),
    ];
    let mut found = Vec::new();
    for (id, method, number) in calls {
        let (path, schema) = operation(&spec, id);
        let path = path
            .replace("{organization}", "acme")
            .replace("{database}", "commerce")
            .replace(
                "{number}",
                &number.map(|n| n.to_string()).unwrap_or_default(),
            );
        let answer = client
            .request(method.parse().expect("method"), format!("{base}{path}"))
            .header("authorization", "tok-id:tok")
            .send()
            .await
            .expect("answered");
        assert_eq!(answer.status(), 200, "{id} {path}");
        let body: Value = answer.json().await.expect("json");
        found.extend(problems(&body, &schema, id));
    }
    assert!(found.is_empty(), "{found:#?}");
}
