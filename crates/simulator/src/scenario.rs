//! Scenarios: a starting world and timed changes to it.

use std::time::Duration;

use crate::server::Simulator;
use crate::world::{SimDeployRequest, SimLintError, SimWorkflow, World};

/// One timed change.
pub struct Step {
    /// Time from the start of the scenario.
    pub at: Duration,
    /// What changes, for the demo's narration.
    pub description: String,
    /// The change.
    pub change: Box<dyn FnOnce(&mut World) + Send>,
}

/// A starting world and the changes that follow.
pub struct Scenario {
    /// The world at the start.
    pub world: World,
    /// The changes, in order.
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

/// The organization of the demo.
pub const DEMO_ORGANIZATION: &str = "acme";
/// The database of the demo where things happen.
pub const DEMO_DATABASE: &str = "commerce";

/// The demo: a MoveTables workflow from `pending` through `copying`, `running`,
/// `switched_replicas`, `switched_primaries` and `cutover` to `completed`; a deploy request whose
/// `orders` operation fails with a deploy error; one that fails validation with a lint error;
/// the revert of an earlier deploy that fails on its table; a backup of `main` that fails; and a
/// resize of `main` that completes. One change every `step`.
pub fn demo(step: Duration) -> Scenario {
    let mut world = World::default();
    let database = world.database_mut(DEMO_ORGANIZATION, DEMO_DATABASE);
    // Already finished when watching starts: part of the baseline, never reported.
    database.workflows.push(SimWorkflow {
        cutover_by: Some("Ada Lovelace".into()),
        target_keyspace: "archive".into(),
        ..SimWorkflow::new(1, "move-legacy", "completed")
    });
    // Deployed earlier and still revertible: part of the baseline too.
    let mut deployed = SimDeployRequest {
        branch: "drop-fax".into(),
        ..SimDeployRequest::new(6, "complete_pending_revert")
    }
    .with_operation("op-customers", "customers", "complete");
    deployed.operations[0].ddl_statement = "ALTER TABLE `customers` DROP COLUMN `fax`".into();
    deployed.offer_revert();
    database.deploy_requests.push(deployed);
    // A nightly backup that succeeded: part of the baseline.
    let mut nightly = crate::SimBackup::new("bk-1122", "main");
    nightly.state = "success".into();
    nightly.size = 2_147_483_648;
    database.backups.push(nightly);
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
    let request =
        |number: u64, change: fn(&mut SimDeployRequest)| -> Box<dyn FnOnce(&mut World) + Send> {
            Box::new(move |world: &mut World| {
                let database = world.database_mut(DEMO_ORGANIZATION, DEMO_DATABASE);
                if let Some(request) = database.deploy_request_mut(number) {
                    change(request);
                }
            })
        };
    let both = |first: Box<dyn FnOnce(&mut World) + Send>,
                second: Box<dyn FnOnce(&mut World) + Send>|
     -> Box<dyn FnOnce(&mut World) + Send> {
        Box::new(move |world: &mut World| {
            first(world);
            second(world);
        })
    };

    next(
        "workflow move-customers is created",
        Box::new(|world: &mut World| {
            world
                .database_mut(DEMO_ORGANIZATION, DEMO_DATABASE)
                .workflows
                .push(SimWorkflow::new(2, "move-customers", "pending"));
        }),
    );
    next(
        "workflow copies; deploy request #8 is opened",
        both(
            workflow("copying"),
            Box::new(|world: &mut World| {
                world
                    .database_mut(DEMO_ORGANIZATION, DEMO_DATABASE)
                    .deploy_requests
                    .push(SimDeployRequest {
                        branch: "add-audit-log".into(),
                        ..SimDeployRequest::new(8, "pending")
                    });
            }),
        ),
    );
    next(
        "deploy request #7 is opened; #8 fails validation",
        Box::new(|world: &mut World| {
            let database = world.database_mut(DEMO_ORGANIZATION, DEMO_DATABASE);
            let mut opened = SimDeployRequest {
                branch: "add-order-ref".into(),
                ..SimDeployRequest::new(7, "ready")
            }
            .with_operation("op-orders", "orders", "pending")
            .with_operation("op-invoices", "invoices", "pending");
            opened.operations[0].ddl_statement =
                "ALTER TABLE `orders` ADD UNIQUE KEY `idx_ref` (`ref`)".into();
            opened.operations[1].ddl_statement =
                "ALTER TABLE `invoices` ADD COLUMN `due_at` datetime".into();
            database.deploy_requests.push(opened);
            if let Some(request) = database.deploy_request_mut(8) {
                request.deployment_state = "error".into();
                request.lint_errors.push(SimLintError {
                    lint_error: "NO_UNIQUE_KEY".into(),
                    keyspace_name: "commerce".into(),
                    table_name: "audit_log".into(),
                    error_description: "table \"audit_log\" has no unique key: all tables must have at least one unique, not-null key".into(),
                });
            }
        }),
    );
    let backup = |state: &'static str| -> Box<dyn FnOnce(&mut World) + Send> {
        Box::new(move |world: &mut World| {
            let database = world.database_mut(DEMO_ORGANIZATION, DEMO_DATABASE);
            match database
                .backups
                .iter_mut()
                .find(|backup| backup.id == "bk-1123")
            {
                Some(backup) => backup.state = state.into(),
                None => {
                    let mut backup = crate::SimBackup::new("bk-1123", "main");
                    backup.state = state.into();
                    backup.size = 2_200_000_000;
                    backup.started_at = Some("2026-11-23T09:00:00.000Z".into());
                    database.backups.push(backup);
                }
            }
        })
    };
    let resize = |state: &'static str| -> Box<dyn FnOnce(&mut World) + Send> {
        Box::new(move |world: &mut World| {
            let database = world.database_mut(DEMO_ORGANIZATION, DEMO_DATABASE);
            match database
                .resizes
                .iter_mut()
                .find(|resize| resize.id == "rs-main")
            {
                Some(resize) => resize.state = state.into(),
                None => {
                    let mut resize = crate::SimResize::new("rs-main", "main", None);
                    resize.state = state.into();
                    database.resizes.push(resize);
                }
            }
        })
    };
    next(
        "workflow runs; the backup of main starts",
        both(workflow("running"), backup("running")),
    );
    next(
        "deploy request #7 is queued",
        request(7, |request| request.deployment_state = "queued".into()),
    );
    next(
        "deploy request #7 deploys",
        request(7, |request| {
            request.deployment_state = "in_progress".into();
            for operation in &mut request.operations {
                operation.state = "in_progress".into();
            }
        }),
    );
    next(
        "replicas are switched; the backup of main fails; a resize of main to PS-20 is queued",
        both(
            workflow("switched_replicas"),
            both(backup("failed"), resize("queued")),
        ),
    );
    next(
        "invoices is done, orders fails: deploy request #7 fails",
        request(7, |request| {
            request.deployment_state = "complete_error".into();
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
        "deploy request #6 is reverted",
        request(6, |request| {
            request.deployment_state = "in_progress_revert".into()
        }),
    );
    next(
        "primaries are switched; the revert of #6 fails on customers",
        both(
            workflow("switched_primaries"),
            request(6, |request| {
                request.deployment_state = "complete_revert_error".into();
                if let Some(operation) = request.revert_operation_mut("customers") {
                    operation.state = "error".into();
                    operation.revert_errors = Some(
                        "Lock wait timeout exceeded on `customers`; the revert was stopped".into(),
                    );
                }
            }),
        ),
    );
    next(
        "the workflow is cut over; main is resized",
        both(workflow("cutover"), resize("resizing")),
    );
    next(
        "the workflow completes; the resize completes",
        both(workflow("completed"), resize("completed")),
    );
    Scenario { world, steps }
}
