//! Domain types: what pswatch watches, what it observed and what it remembers.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::states::{DeployState, OperationState, WorkflowState};

/// One watched database: the unit that is polled, diffed and stored.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Target {
    pub organization: String,
    pub database: String,
}

impl Target {
    pub fn new(organization: impl Into<String>, database: impl Into<String>) -> Self {
        Self {
            organization: organization.into(),
            database: database.into(),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}/{}", self.organization, self.database)
    }
}

/// A MoveTables workflow as the API last showed it. Only `id`, `number` and `state` are
/// required of the API; everything else may be missing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Workflow {
    pub id: String,
    pub number: u64,
    pub name: String,
    pub state: WorkflowState,
    /// The workflow's error text; empty text from the API is stored as `None`.
    pub workflow_errors: Option<String>,
    pub source_keyspace: Option<String>,
    pub target_keyspace: Option<String>,
    pub branch: Option<String>,
    /// Display name of who started the workflow.
    pub actor: Option<String>,
    /// Display name of who cut it over.
    pub cutover_by: Option<String>,
    pub updated_at: Option<String>,
}

/// A deploy request as the API last showed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeployRequest {
    pub id: String,
    pub number: u64,
    /// `open` or `closed`.
    pub state: String,
    pub deployment_state: DeployState,
    pub branch: Option<String>,
    pub into_branch: Option<String>,
    pub html_url: Option<String>,
    /// Display name of who opened it.
    pub actor: Option<String>,
    /// Display name of who closed it, when it is closed.
    pub closed_by: Option<String>,
}

impl DeployRequest {
    pub fn is_open(&self) -> bool {
        self.state == "open"
    }
}

/// One per-table schema change of a deploy request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeployOperation {
    pub id: String,
    pub state: OperationState,
    pub keyspace_name: Option<String>,
    pub table_name: Option<String>,
    pub operation_name: Option<String>,
    pub ddl_statement: Option<String>,
    /// The operation's error text; empty text from the API is stored as `None`.
    pub deploy_errors: Option<String>,
    pub deploy_error_docs_url: Option<String>,
    pub progress_percentage: Option<f64>,
}

/// What one successful poll of a target saw. A poll that failed or saw only part of the target
/// produces no observation at all: an observation is always complete for what it covers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observation {
    /// Every workflow of the database.
    pub workflows: Vec<Workflow>,
    /// The open deploy requests, plus the ones fetched by number because they left the open
    /// list since the last poll.
    pub deploy_requests: Vec<ObservedDeployRequest>,
    /// Deploy requests remembered as open that the API no longer knows (404 by number).
    pub vanished_deploy_requests: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ObservedDeployRequest {
    pub deploy_request: DeployRequest,
    /// `None` when this poll did not fetch the operations (the request is not deploying):
    /// the remembered operations stay as they were.
    pub operations: Option<Vec<DeployOperation>>,
}

/// What pswatch remembers of one target between polls: just enough to diff the next
/// observation. Stored by the `store` crate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetState {
    /// By workflow id.
    pub workflows: BTreeMap<String, SeenWorkflow>,
    /// Open deploy requests by number. A closed one is reported once and forgotten.
    pub deploy_requests: BTreeMap<u64, SeenDeployRequest>,
}

impl TargetState {
    /// Whether anything of the target moves on its own, so it deserves the shorter interval.
    pub fn in_motion(&self) -> bool {
        self.workflows
            .values()
            .any(|workflow| workflow.state.in_motion())
            || self
                .deploy_requests
                .values()
                .any(|request| request.deployment_state.is_deploying())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenWorkflow {
    pub number: u64,
    pub name: String,
    pub state: WorkflowState,
    pub workflow_errors: Option<String>,
    /// How many events this workflow has produced; part of the next event's id.
    pub events: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenDeployRequest {
    pub deployment_state: DeployState,
    pub events: u64,
    /// By operation id.
    pub operations: BTreeMap<String, SeenOperation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenOperation {
    pub state: OperationState,
    pub deploy_errors: Option<String>,
    pub events: u64,
}
