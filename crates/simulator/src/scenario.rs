//! Scenarios: a starting world and timed changes to it.

use std::time::Duration;

use crate::server::Simulator;
use crate::world::{SimDeployRequest, SimOperation, SimWorkflow, World};

/// One timed change.
pub struct Step {
    /// Time from the start of the scenario.
    pub at: Duration,
    pub description: String,
    pub change: Box<dyn FnOnce(&mut World) + Send>,
}

/// A starting world and the changes that follow.
pub struct Scenario {
    pub world: World,
    pub steps: Vec<Step>,
}

impl Scenario {
    /// How long the scenario runs.
    pub fn duration(&self) -> Duration {
        self.steps
            .iter()
            .map(|step| step.at)
            .max()
            .unwrap_or_default()
    }
}

impl Simulator {
    /// Plays `steps` from now, each at its time; the task ends after the last one.
    pub fn play(&self, steps: Vec<Step>) -> tokio::task::JoinHandle<()> {
        let simulator = self.handle();
        tokio::spawn(async move {
            let start = tokio::time::Instant::now();
            for step in steps {
                tokio::time::sleep_until(start + step.at).await;
                tracing::debug!(description = %step.description, "simulator step");
                simulator.update(step.change);
            }
        })
    }
}

pub const DEMO_ORGANIZATION: &str = "acme";
pub const DEMO_DATABASE: &str = "commerce";

/// The demo: a MoveTables workflow from `pending` through `copying`, `running`,
/// `switched_replicas`, `switched_primaries` and `cutover` to `completed`, and a deploy request
/// whose `orders` operation fails with a deploy error, one change every `step`.
pub fn demo(step: Duration) -> Scenario {
    let mut world = World::default();
    // Already finished when watching starts: part of the baseline, never reported.
    world
        .database_mut(DEMO_ORGANIZATION, DEMO_DATABASE)
        .workflows
        .push(SimWorkflow {
            number: 1,
            name: "move-legacy".into(),
            state: "completed".into(),
            workflow_errors: None,
            source_keyspace: "commerce".into(),
            target_keyspace: "archive".into(),
            cutover_by: Some("Ada Lovelace".into()),
        });
    world.database_mut(DEMO_ORGANIZATION, "analytics").kind = "postgresql".into();

    let mut steps: Vec<Step> = Vec::new();
    let mut at = Duration::ZERO;
    let mut next = |description: &str, change: Box<dyn FnOnce(&mut World) + Send>| {
        at += step;
        steps.push(Step {
            at,
            description: description.into(),
            change,
        });
    };
    let workflow = |state: &'static str| -> Box<dyn FnOnce(&mut World) + Send> {
        Box::new(move |world: &mut World| {
            let database = world.database_mut(DEMO_ORGANIZATION, DEMO_DATABASE);
            if let Some(workflow) = database.workflow_mut(2) {
                workflow.state = state.into();
                if state == "cutover" {
                    workflow.cutover_by = Some("Grace Hopper".into());
                }
            }
        })
    };
    let request = |change: fn(&mut SimDeployRequest)| -> Box<dyn FnOnce(&mut World) + Send> {
        Box::new(move |world: &mut World| {
            let database = world.database_mut(DEMO_ORGANIZATION, DEMO_DATABASE);
            if let Some(request) = database.deploy_request_mut(7) {
                change(request);
            }
        })
    };

    next(
        "workflow move-customers is created",
        Box::new(|world: &mut World| {
            world
                .database_mut(DEMO_ORGANIZATION, DEMO_DATABASE)
                .workflows
                .push(SimWorkflow {
                    number: 2,
                    name: "move-customers".into(),
                    state: "pending".into(),
                    workflow_errors: None,
                    source_keyspace: "commerce".into(),
                    target_keyspace: "customers".into(),
                    cutover_by: None,
                });
        }),
    );
    next("workflow copies", workflow("copying"));
    next(
        "deploy request #7 is opened",
        Box::new(|world: &mut World| {
            let operation = |id: &str, table: &str, ddl: &str| SimOperation {
                id: id.into(),
                keyspace_name: "commerce".into(),
                table_name: table.into(),
                state: "pending".into(),
                deploy_errors: None,
                ddl_statement: ddl.into(),
            };
            world
                .database_mut(DEMO_ORGANIZATION, DEMO_DATABASE)
                .deploy_requests
                .push(SimDeployRequest {
                    number: 7,
                    state: "open".into(),
                    deployment_state: "ready".into(),
                    branch: "add-order-ref".into(),
                    into_branch: "main".into(),
                    operations: vec![
                        operation(
                            "op-orders",
                            "orders",
                            "ALTER TABLE `orders` ADD UNIQUE KEY `idx_ref` (`ref`)",
                        ),
                        operation(
                            "op-invoices",
                            "invoices",
                            "ALTER TABLE `invoices` ADD COLUMN `due_at` datetime",
                        ),
                    ],
                });
        }),
    );
    next("workflow runs", workflow("running"));
    next(
        "deploy request #7 is queued",
        request(|request| request.deployment_state = "queued".into()),
    );
    next(
        "deploy request #7 deploys",
        request(|request| {
            request.deployment_state = "in_progress".into();
            for operation in &mut request.operations {
                operation.state = "in_progress".into();
            }
        }),
    );
    next("replicas are switched", workflow("switched_replicas"));
    next(
        "invoices is done, orders fails",
        request(|request| {
            if let Some(operation) = request.operation_mut("invoices") {
                operation.state = "complete".into();
            }
            if let Some(operation) = request.operation_mut("orders") {
                operation.state = "error".into();
                operation.deploy_errors =
                    Some("Duplicate entry 'A-1042' for key 'orders.idx_ref'".into());
            }
        }),
    );
    next(
        "deploy request #7 fails",
        request(|request| request.deployment_state = "error".into()),
    );
    next("primaries are switched", workflow("switched_primaries"));
    next("the workflow is cut over", workflow("cutover"));
    next("the workflow completes", workflow("completed"));
    Scenario { world, steps }
}
