//! The simulated organizations, databases and their resources.

use std::collections::BTreeMap;

use serde_json::{json, Value};

/// Everything the simulator serves.
#[derive(Debug, Clone, Default)]
pub struct World {
    /// By name.
    pub organizations: BTreeMap<String, Organization>,
}

/// One organization's databases.
#[derive(Debug, Clone, Default)]
pub struct Organization {
    /// By name.
    pub databases: BTreeMap<String, Database>,
}

/// One database and what it serves.
#[derive(Debug, Clone)]
pub struct Database {
    /// `mysql` or `postgresql`.
    pub kind: String,
    /// Its MoveTables workflows.
    pub workflows: Vec<SimWorkflow>,
    /// Its deploy requests, open and closed.
    pub deploy_requests: Vec<SimDeployRequest>,
    /// The shape this database's responses take.
    pub shape: Shape,
    /// Raw items appended to every workflow list (malformed ones, for tests).
    pub odd_workflow_items: Vec<Value>,
    /// Raw items appended to every deploy request list.
    pub odd_deploy_request_items: Vec<Value>,
    /// Its PlanetScale webhooks.
    pub webhooks: Vec<crate::SimWebhook>,
    /// Creating a webhook is refused (403), as for a token without the access.
    pub webhooks_read_only: bool,
    /// Cutting over a workflow or completing a deploy request is refused (403), as for a token
    /// without write access.
    pub actions_read_only: bool,
    /// Its branches: `main`, its production branch, unless a test says otherwise.
    pub branches: Vec<crate::SimBranch>,
    /// The backups of its branches.
    pub backups: Vec<crate::SimBackup>,
    /// Its branches' keyspaces (besides those its resizes name).
    pub keyspaces: Vec<String>,
    /// Its branches' changes and keyspace resizes.
    pub resizes: Vec<crate::SimResize>,
    /// PlanetScale's schema recommendations for it.
    pub recommendations: Vec<crate::SimRecommendation>,
    /// Its maintenance schedules.
    pub maintenance: Vec<crate::SimMaintenance>,
}

/// How the simulator shapes a database's responses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Shape {
    /// As PlanetScale's OpenAPI specification and its webhook examples show them: a deploy
    /// request carries its deployment with the operations, the revert request and lint errors.
    #[default]
    Specification,
    /// As the responses in the official Go client's own tests: a deploy request without
    /// `deployment` (so without operations), fields the specification marks required left
    /// out or `null`, numbers as text. Operations come from `…/operations` only.
    GoClient,
}

impl Default for Database {
    fn default() -> Self {
        Self {
            kind: "mysql".into(),
            workflows: Vec::new(),
            deploy_requests: Vec::new(),
            shape: Shape::default(),
            odd_workflow_items: Vec::new(),
            odd_deploy_request_items: Vec::new(),
            webhooks: Vec::new(),
            webhooks_read_only: false,
            actions_read_only: false,
            branches: vec![crate::SimBranch::new("main", true)],
            backups: Vec::new(),
            keyspaces: Vec::new(),
            resizes: Vec::new(),
            recommendations: Vec::new(),
            maintenance: Vec::new(),
        }
    }
}

/// A MoveTables workflow.
#[derive(Debug, Clone)]
pub struct SimWorkflow {
    /// Its number within the database.
    pub number: u64,
    /// Its name.
    pub name: String,
    /// Its state, as the API spells it.
    pub state: String,
    /// Its error text, if any.
    pub workflow_errors: Option<String>,
    /// The keyspace its tables move from.
    pub source_keyspace: String,
    /// The keyspace its tables move to.
    pub target_keyspace: String,
    /// Display name of who cut it over.
    pub cutover_by: Option<String>,
    /// Left out of the workflow list (as a list that shifted between pages would), but served
    /// by number.
    pub unlisted: bool,
}

/// A deploy request.
#[derive(Debug, Clone)]
pub struct SimDeployRequest {
    /// Its number within the database.
    pub number: u64,
    /// `open` or `closed`.
    pub state: String,
    /// Its `deployment_state`.
    pub deployment_state: String,
    /// The branch it deploys.
    pub branch: String,
    /// The branch it deploys into.
    pub into_branch: String,
    /// Its per-table operations.
    pub operations: Vec<SimOperation>,
    /// `deployment.auto_cutover`.
    pub auto_cutover: bool,
    /// `deployment.lint_errors`: why validation failed.
    pub lint_errors: Vec<SimLintError>,
    /// `deployment.deploy_check_errors`.
    pub deploy_check_errors: Option<String>,
    /// `deployment.deployment_revert_request`, once the deploy can be reverted.
    pub revert: Option<Vec<SimRevertOperation>>,
    /// Display name of who closed it.
    pub closed_by: Option<String>,
    /// `deployment.cutover_expiring`.
    pub cutover_expiring: bool,
    /// The revert request's `waiting_period_end_at` (a fixed past time when not set).
    pub revert_window_ends_at: Option<String>,
    /// `deployment.table_locked`, with `locked_table_name` when set.
    pub locked_table: Option<String>,
    /// `deployment.queue_paused`.
    pub queue_paused: bool,
    /// `deployment.queue_pause_reason`.
    pub queue_pause_reason: Option<String>,
    /// `deployment.ready_to_cutover_at`: when it became ready to cut over, if it has.
    pub ready_to_cutover_at: Option<String>,
}

/// One table's schema change of a deploy request.
#[derive(Debug, Clone)]
pub struct SimOperation {
    /// The operation's id once it has started. PlanetScale shows a queued operation under
    /// another id (its webhook examples: `wo1m619ufrpc` queued, `krosesxjzl1p` once started),
    /// and so does the simulator: `{id}-queued` while `pending` or `queued`.
    pub id: String,
    /// The keyspace of the table.
    pub keyspace_name: String,
    /// The table.
    pub table_name: String,
    /// Its state, as the API spells it.
    pub state: String,
    /// Its deploy error, if any.
    pub deploy_errors: Option<String>,
    /// The DDL it runs.
    pub ddl_statement: String,
    /// `progress_percentage` while it is `in_progress` (37.5 unless set).
    pub progress: f64,
    /// `eta_seconds` while it is `in_progress` (600 unless set).
    pub eta_seconds: Option<u64>,
}

/// One lint error of a deployment: why validation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimLintError {
    /// The code, such as `NO_UNIQUE_KEY`.
    pub lint_error: String,
    /// The keyspace of the table.
    pub keyspace_name: String,
    /// The table.
    pub table_name: String,
    /// What is wrong, in PlanetScale's words.
    pub error_description: String,
}

/// One table's operation of a deploy request's revert.
#[derive(Debug, Clone)]
pub struct SimRevertOperation {
    /// Its id.
    pub id: String,
    /// The table.
    pub table_name: String,
    /// `submit` until reverted, then `complete` (PlanetScale documents no set).
    pub state: String,
    /// Why the revert failed, if it did.
    pub revert_errors: Option<String>,
    /// The DDL it reverts.
    pub ddl_statement: String,
}

impl World {
    /// The database `database` of `organization`, made if it does not exist.
    pub fn database_mut(&mut self, organization: &str, database: &str) -> &mut Database {
        self.organizations
            .entry(organization.to_owned())
            .or_default()
            .databases
            .entry(database.to_owned())
            .or_default()
    }

    /// The database `database` of `organization`, to change, if it exists.
    pub fn database_mut_if_exists(
        &mut self,
        organization: &str,
        database: &str,
    ) -> Option<&mut Database> {
        self.organizations
            .get_mut(organization)?
            .databases
            .get_mut(database)
    }

    /// The database `database` of `organization`, if it exists.
    pub fn database(&self, organization: &str, database: &str) -> Option<&Database> {
        self.organizations
            .get(organization)?
            .databases
            .get(database)
    }
}

impl SimWorkflow {
    /// A MoveTables workflow from `commerce` to `customers` with no errors, not yet cut over.
    pub fn new(number: u64, name: impl Into<String>, state: impl Into<String>) -> Self {
        Self {
            number,
            name: name.into(),
            state: state.into(),
            workflow_errors: None,
            source_keyspace: "commerce".into(),
            target_keyspace: "customers".into(),
            cutover_by: None,
            unlisted: false,
        }
    }
}

impl SimDeployRequest {
    /// An open deploy request from `change` into `main`, without operations.
    pub fn new(number: u64, deployment_state: impl Into<String>) -> Self {
        Self {
            number,
            state: "open".into(),
            deployment_state: deployment_state.into(),
            branch: "change".into(),
            into_branch: "main".into(),
            operations: Vec::new(),
            auto_cutover: false,
            lint_errors: Vec::new(),
            deploy_check_errors: None,
            revert: None,
            closed_by: None,
            cutover_expiring: false,
            revert_window_ends_at: None,
            locked_table: None,
            queue_paused: false,
            queue_pause_reason: None,
            ready_to_cutover_at: None,
        }
    }

    /// Adds an `ALTER` of `table` in keyspace `commerce`.
    pub fn with_operation(mut self, id: &str, table: &str, state: &str) -> Self {
        self.operations.push(SimOperation::new(id, table, state));
        self
    }

    /// The revert request PlanetScale adds once the deploy is done: one `submit`ted revert
    /// operation per table.
    pub fn offer_revert(&mut self) {
        self.revert = Some(
            self.operations
                .iter()
                .map(|operation| SimRevertOperation {
                    id: format!("rv-{}", operation.id),
                    table_name: operation.table_name.clone(),
                    state: "submit".into(),
                    revert_errors: None,
                    ddl_statement: operation.ddl_statement.clone(),
                })
                .collect(),
        );
    }

    /// The revert operation of `table`, once the deploy can be reverted.
    pub fn revert_operation_mut(&mut self, table: &str) -> Option<&mut SimRevertOperation> {
        self.revert
            .iter_mut()
            .flatten()
            .find(|operation| operation.table_name == table)
    }
}

impl SimOperation {
    /// An `ALTER` of `table` in keyspace `commerce`.
    pub fn new(id: &str, table: &str, state: &str) -> Self {
        Self {
            id: id.into(),
            keyspace_name: "commerce".into(),
            table_name: table.into(),
            state: state.into(),
            deploy_errors: None,
            ddl_statement: format!("ALTER TABLE `{table}` ADD COLUMN `x` int"),
            progress: 37.5,
            eta_seconds: Some(600),
        }
    }

    /// The id the API shows: another one while the operation waits to start.
    pub fn api_id(&self) -> String {
        if matches!(self.state.as_str(), "pending" | "queued") {
            format!("{}-queued", self.id)
        } else {
            self.id.clone()
        }
    }
}

impl Database {
    /// The workflow numbered `number`.
    pub fn workflow_mut(&mut self, number: u64) -> Option<&mut SimWorkflow> {
        self.workflows
            .iter_mut()
            .find(|workflow| workflow.number == number)
    }

    /// The deploy request numbered `number`.
    pub fn deploy_request_mut(&mut self, number: u64) -> Option<&mut SimDeployRequest> {
        self.deploy_requests
            .iter_mut()
            .find(|request| request.number == number)
    }
}

impl SimDeployRequest {
    /// The operation of `table`.
    pub fn operation_mut(&mut self, table: &str) -> Option<&mut SimOperation> {
        self.operations
            .iter_mut()
            .find(|operation| operation.table_name == table)
    }
}

pub(crate) const TIMESTAMP: &str = "2026-11-23T09:00:00.000Z";

/// When a simulated workflow reached each phase: started, copy done, replicas switched,
/// primaries switched, cut over, completed.
const PHASE_TIMES: [&str; 6] = [
    "2026-11-23T08:00:00.000Z",
    "2026-11-23T09:30:00.000Z",
    "2026-11-23T11:00:00.000Z",
    "2026-11-23T11:20:00.000Z",
    "2026-11-23T11:40:00.000Z",
    "2026-11-23T12:00:00.000Z",
];

fn actor(name: &str) -> Value {
    json!({"id": format!("user-{}", name.to_lowercase().replace(' ', "-")), "display_name": name, "avatar_url": "https://example.invalid/avatar.png"})
}

fn named(name: &str) -> Value {
    json!({"id": format!("ks-{name}"), "name": name, "created_at": TIMESTAMP, "updated_at": TIMESTAMP, "deleted_at": null})
}

/// JSON in the shapes of PlanetScale's OpenAPI pages (and the odd extra field, as the real API
/// has).
impl SimWorkflow {
    /// The workflow as the API shows it, in `shape`.
    pub fn to_json(&self, shape: Shape) -> Value {
        if shape == Shape::GoClient {
            return json!({
                "id": format!("wf-{}", self.number),
                "type": "Workflow",
                "name": self.name,
                "number": self.number.to_string(),
                "state": self.state,
                "workflow_errors": self.workflow_errors,
                "created_at": TIMESTAMP,
                "updated_at": null,
                "source_keyspace": {"name": self.source_keyspace},
                "target_keyspace": {"name": self.target_keyspace},
            });
        }
        // The phases it went through, each at its own time: copying, running, replicas
        // switched, primaries switched, cut over, completed.
        let phase = match self.state.as_str() {
            "pending" => None,
            "copying" => Some(0),
            "running" | "verifying_data" | "verified_data" => Some(1),
            "switched_replicas" => Some(2),
            "switched_primaries" => Some(3),
            "cutover" => Some(4),
            "completed" => Some(5),
            _ => Some(1),
        };
        let reached = |index: usize| {
            phase
                .filter(|phase| *phase >= index)
                .map(|_| PHASE_TIMES[index])
        };
        let mut workflow = json!({
            "id": format!("wf-{}", self.number),
            "type": "Workflow",
            "name": self.name,
            "number": self.number,
            "state": self.state,
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
            "started_at": reached(0),
            "completed_at": reached(5),
            "cancelled_at": null,
            "reversed_at": null,
            "retried_at": null,
            "data_copy_completed_at": reached(1),
            "cutover_at": reached(4),
            "replicas_switched": reached(2).is_some(),
            "primaries_switched": reached(3).is_some(),
            "switch_replicas_at": reached(2),
            "switch_primaries_at": reached(3),
            "verify_data_at": null,
            "workflow_type": "move_tables",
            "workflow_subtype": "",
            "defer_secondary_keys": false,
            "on_ddl": "STOP",
            "workflow_errors": self.workflow_errors.clone().unwrap_or_default(),
            "may_retry": false,
            "may_restart": false,
            "verified_data_stale": false,
            "sequence_tables_applied": false,
            "actor": actor("Ada Lovelace"),
            "cutover_by": self.cutover_by.as_deref().map(actor),
            "branch": named("main"),
            "source_keyspace": named(&self.source_keyspace),
            "target_keyspace": named(&self.target_keyspace),
            "global_keyspace": null,
        });
        // Who did each other step, once someone has: null before, as `cutover_by` is.
        for step in [
            "verify_data_by",
            "reversed_by",
            "switch_replicas_by",
            "switch_primaries_by",
            "cancelled_by",
            "completed_by",
            "retried_by",
            "reversed_cutover_by",
        ] {
            workflow[step] = Value::Null;
        }
        workflow
    }
}

impl SimDeployRequest {
    /// The deploy request as the API shows it, in `shape`.
    pub fn to_json(&self, organization: &str, database: &str, shape: Shape) -> Value {
        if shape == Shape::GoClient {
            // The Go client's test responses: no deployment, nulls, a number as text.
            return json!({
                "id": format!("dr-{}", self.number),
                "type": "DeployRequest",
                "number": self.number.to_string(),
                "branch": self.branch,
                "into_branch": self.into_branch,
                "approved": false,
                "state": self.state,
                "deployment_state": self.deployment_state,
                "html_url": null,
                "notes": null,
                "created_at": TIMESTAMP,
                "updated_at": TIMESTAMP,
                "closed_at": null,
            });
        }
        let revert = self.revert.as_ref().map(|operations| {
            json!({
                "id": format!("rv-{}", self.number),
                "type": "DeploymentRevert",
                "actor": actor("Grace Hopper"),
                "cancelled_at": null,
                "finished_at": null,
                "waiting_period_end_at": self.revert_window_ends_at.as_deref().unwrap_or(TIMESTAMP),
                "deploy_revert_operations": operations.iter().map(SimRevertOperation::to_json).collect::<Vec<_>>(),
            })
        });
        let lint_errors: Vec<Value> = self.lint_errors.iter().map(SimLintError::to_json).collect();
        // Like PlanetScale's pending_cutover example: the deployment itself stays in progress.
        let deployment_state = match self.deployment_state.as_str() {
            "pending_cutover" => "in_progress",
            other => other,
        };
        let deployment = json!({
            "id": format!("dep-{}", self.number),
            "type": "Deployment",
            "state": deployment_state,
            "auto_cutover": self.auto_cutover,
            "auto_delete_branch": false,
            "into_branch": self.into_branch,
            "deploy_request_number": self.number,
            "deployable": self.lint_errors.is_empty(),
            "cutover_expiring": self.cutover_expiring,
            "preceding_deployments": [],
            "deploy_operations": self.operations.iter().map(SimOperation::to_json).collect::<Vec<_>>(),
            "deploy_operation_summaries": [],
            "lint_errors": lint_errors,
            "sequential_diff_dependencies": [],
            "lookup_vindex_operations": [],
            "deployment_revert_request": revert,
            "deploy_check_errors": self.deploy_check_errors,
            "actor": actor("Grace Hopper"),
            "cutover_actor": null,
            "cancelled_actor": null,
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
            "cutover_at": null,
            "finished_at": null,
            "force_cutover_requested_at": null,
            "queued_at": null,
            "ready_to_cutover_at": self.ready_to_cutover_at,
            "started_at": null,
            "submitted_at": null,
            "schema_last_updated_at": TIMESTAMP,
            "table_locked": self.locked_table.is_some(),
            "locked_table_name": self.locked_table,
            "instant_ddl": false,
            "instant_ddl_eligible": false,
            "queue_paused": self.queue_paused,
            "queue_pause_reason": self.queue_pause_reason,
        });
        json!({
            "id": format!("dr-{}", self.number),
            "type": "DeployRequest",
            "number": self.number,
            "state": self.state,
            "deployment_state": self.deployment_state,
            "branch": self.branch,
            "branch_deleted": false,
            "branch_deleted_by": null,
            "branch_deleted_at": null,
            "into_branch": self.into_branch,
            "branch_id": format!("br-{}", self.number),
            "into_branch_keyspace_count": 1,
            "into_branch_sharded": false,
            "into_branch_shard_count": 0,
            "approved": true,
            "num_comments": 0,
            "html_url": format!("https://app.planetscale.com/{organization}/{database}/deploy-requests/{}", self.number),
            "actor": actor("Grace Hopper"),
            "closed_by": self.closed_by.as_deref().map(actor),
            "notes": "",
            "html_body": "",
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
            "closed_at": if self.state == "closed" { json!(TIMESTAMP) } else { Value::Null },
            "deployed_at": null,
            "deployment": deployment,
        })
    }
}

impl SimOperation {
    /// The operation as the API shows it.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.api_id(),
            "type": "DeployOperation",
            "state": self.state,
            "keyspace_name": self.keyspace_name,
            "table_name": self.table_name,
            "operation_name": "ALTER",
            "eta_seconds": match self.state.as_str() {
                "complete" => json!(0),
                "in_progress" => json!(self.eta_seconds),
                _ => Value::Null,
            },
            "progress_percentage": match self.state.as_str() {
                "complete" => json!(100),
                "in_progress" => json!(self.progress),
                _ => Value::Null,
            },
            "deploy_error_docs_url": self.deploy_errors.as_ref().map(|_| "https://planetscale.com/docs/concepts/deploy-requests#deploy-errors"),
            "ddl_statement": self.ddl_statement,
            "syntax_highlighted_ddl": self.ddl_statement,
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
            "throttled_at": null,
            "can_drop_data": false,
            "table_locked": false,
            "table_recently_used": false,
            "table_recently_used_at": null,
            "removed_foreign_key_names": [],
            "deploy_errors": self.deploy_errors.clone().unwrap_or_default(),
        })
    }
}

impl SimRevertOperation {
    /// The revert operation as the API shows it.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "type": "DeployRevertOperation",
            "ddl_statement": self.ddl_statement,
            "operation_name": "ALTER",
            "state": self.state,
            "table_name": self.table_name,
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
            "revert_errors": self.revert_errors,
        })
    }
}

impl SimLintError {
    /// The lint error as the API shows it.
    pub fn to_json(&self) -> Value {
        json!({
            "type": "DeploymentLintError",
            "lint_error": self.lint_error,
            "subject_type": "table_error",
            "statement": "",
            "keyspace_name": self.keyspace_name,
            "table_name": self.table_name,
            "error_description": self.error_description,
            "column_name": "",
            "foreign_key_column_names": [],
            "auto_increment_column_names": [],
            "charset_name": "",
            "engine_name": "",
            "vindex_name": null,
            "json_path": null,
        })
    }
}
