//! The simulated organizations, databases and their resources.

use std::collections::BTreeMap;

use serde_json::{json, Value};

/// Everything the simulator serves.
#[derive(Debug, Clone, Default)]
pub struct World {
    pub organizations: BTreeMap<String, Organization>,
}

#[derive(Debug, Clone, Default)]
pub struct Organization {
    pub databases: BTreeMap<String, Database>,
}

#[derive(Debug, Clone)]
pub struct Database {
    /// `mysql` or `postgresql`.
    pub kind: String,
    pub workflows: Vec<SimWorkflow>,
    pub deploy_requests: Vec<SimDeployRequest>,
}

impl Default for Database {
    fn default() -> Self {
        Self {
            kind: "mysql".into(),
            workflows: Vec::new(),
            deploy_requests: Vec::new(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct SimWorkflow {
    pub number: u64,
    pub name: String,
    pub state: String,
    pub workflow_errors: Option<String>,
    pub source_keyspace: String,
    pub target_keyspace: String,
    pub cutover_by: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SimDeployRequest {
    pub number: u64,
    /// `open` or `closed`.
    pub state: String,
    pub deployment_state: String,
    pub branch: String,
    pub into_branch: String,
    pub operations: Vec<SimOperation>,
}

#[derive(Debug, Clone)]
pub struct SimOperation {
    pub id: String,
    pub keyspace_name: String,
    pub table_name: String,
    pub state: String,
    pub deploy_errors: Option<String>,
    pub ddl_statement: String,
}

impl World {
    pub fn database_mut(&mut self, organization: &str, database: &str) -> &mut Database {
        self.organizations
            .entry(organization.to_owned())
            .or_default()
            .databases
            .entry(database.to_owned())
            .or_default()
    }

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
        }
    }
}

impl Database {
    pub fn workflow_mut(&mut self, number: u64) -> Option<&mut SimWorkflow> {
        self.workflows
            .iter_mut()
            .find(|workflow| workflow.number == number)
    }

    pub fn deploy_request_mut(&mut self, number: u64) -> Option<&mut SimDeployRequest> {
        self.deploy_requests
            .iter_mut()
            .find(|request| request.number == number)
    }
}

impl SimDeployRequest {
    pub fn operation_mut(&mut self, table: &str) -> Option<&mut SimOperation> {
        self.operations
            .iter_mut()
            .find(|operation| operation.table_name == table)
    }
}

const TIMESTAMP: &str = "2026-11-23T09:00:00.000Z";

fn actor(name: &str) -> Value {
    json!({"id": format!("user-{}", name.to_lowercase().replace(' ', "-")), "display_name": name, "avatar_url": "https://example.invalid/avatar.png"})
}

fn named(name: &str) -> Value {
    json!({"id": format!("ks-{name}"), "name": name, "created_at": TIMESTAMP, "updated_at": TIMESTAMP, "deleted_at": null})
}

/// JSON in the shapes of PlanetScale's OpenAPI pages (and the odd extra field, as the real API
/// has).
impl SimWorkflow {
    pub fn to_json(&self) -> Value {
        json!({
            "id": format!("wf-{}", self.number),
            "type": "Workflow",
            "name": self.name,
            "number": self.number,
            "state": self.state,
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
            "started_at": TIMESTAMP,
            "completed_at": null,
            "cancelled_at": null,
            "reversed_at": null,
            "retried_at": null,
            "data_copy_completed_at": null,
            "cutover_at": null,
            "replicas_switched": false,
            "primaries_switched": false,
            "switch_replicas_at": null,
            "switch_primaries_at": null,
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
        })
    }
}

impl SimDeployRequest {
    pub fn to_json(&self, organization: &str, database: &str) -> Value {
        json!({
            "id": format!("dr-{}", self.number),
            "type": "DeployRequest",
            "number": self.number,
            "state": self.state,
            "deployment_state": self.deployment_state,
            "branch": self.branch,
            "into_branch": self.into_branch,
            "approved": true,
            "html_url": format!("https://app.planetscale.com/{organization}/{database}/deploy-requests/{}", self.number),
            "actor": actor("Grace Hopper"),
            "closed_by": null,
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
            "deployment": {"id": format!("dep-{}", self.number), "state": self.deployment_state, "lint_errors": [], "deploy_check_errors": null},
        })
    }
}

impl SimOperation {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "state": self.state,
            "keyspace_name": self.keyspace_name,
            "table_name": self.table_name,
            "operation_name": "ALTER",
            "eta_seconds": 0,
            "progress_percentage": if self.state == "complete" { 100.0 } else { 37.5 },
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
            "deploy_errors": self.deploy_errors,
        })
    }
}
