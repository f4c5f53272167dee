//! What pswatch last saw of a workflow or deploy request, as on disk: `view/{organization}\0
//! {database}\0{kind}\0{number}` records.

use diff_engine::{OperationPhase, Target};
use model::{LastEvent, OperationView, ResourceKind, ResourceView};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::Record;

#[derive(Serialize, Deserialize)]
pub(crate) struct StoredView {
    organization: String,
    database: String,
    kind: StoredResourceKind,
    number: u64,
    name: Option<String>,
    state: String,
    deployment_state: Option<String>,
    branch: Option<String>,
    into_branch: Option<String>,
    html_url: Option<String>,
    operations: Vec<StoredOperationView>,
    last_event: Option<StoredLastEvent>,
    #[serde(with = "time::serde::rfc3339")]
    observed_at: OffsetDateTime,
    // Written only when it differs from `observed_at`, so views of earlier versions (which
    // did not keep it: it reads as `observed_at`) keep their bytes.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    state_since: Option<OffsetDateTime>,
}

#[derive(Serialize, Deserialize)]
struct StoredOperationView {
    id: String,
    phase: StoredPhase,
    keyspace: Option<String>,
    table: Option<String>,
    state: String,
    progress_percentage: Option<f64>,
    eta_seconds: Option<u64>,
    errors: Option<String>,
}

// A kind or phase this build does not know makes the record unreadable (quarantined), never
// misread.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum StoredResourceKind {
    Workflow,
    DeployRequest,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum StoredPhase {
    Deploy,
    Revert,
}

#[derive(Serialize, Deserialize)]
struct StoredLastEvent {
    id: String,
    #[serde(rename = "type")]
    event_type: String,
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
}

/// A resource's view, as the store keeps it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ViewRecord(pub(crate) ResourceView);

impl Record for ViewRecord {
    const WHAT: &'static str = "resource view";
    type Stored<'a> = StoredView;

    fn to_stored(&self) -> StoredView {
        let view = &self.0;
        StoredView {
            organization: view.target.organization.clone(),
            database: view.target.database.clone(),
            kind: match view.kind {
                ResourceKind::Workflow => StoredResourceKind::Workflow,
                ResourceKind::DeployRequest => StoredResourceKind::DeployRequest,
            },
            number: view.number,
            name: view.name.clone(),
            state: view.state.clone(),
            deployment_state: view.deployment_state.clone(),
            branch: view.branch.clone(),
            into_branch: view.into_branch.clone(),
            html_url: view.html_url.clone(),
            operations: view
                .operations
                .iter()
                .map(|operation| StoredOperationView {
                    id: operation.id.clone(),
                    phase: match operation.phase {
                        OperationPhase::Deploy => StoredPhase::Deploy,
                        OperationPhase::Revert => StoredPhase::Revert,
                    },
                    keyspace: operation.keyspace.clone(),
                    table: operation.table.clone(),
                    state: operation.state.clone(),
                    progress_percentage: operation.progress_percentage,
                    eta_seconds: operation.eta_seconds,
                    errors: operation.errors.clone(),
                })
                .collect(),
            last_event: view.last_event.as_ref().map(|event| StoredLastEvent {
                id: event.id.clone(),
                event_type: event.event_type.clone(),
                at: event.at,
            }),
            observed_at: view.observed_at,
            state_since: (view.state_since != view.observed_at).then_some(view.state_since),
        }
    }

    fn from_stored(stored: StoredView) -> Self {
        Self(ResourceView {
            target: Target::new(stored.organization, stored.database),
            kind: match stored.kind {
                StoredResourceKind::Workflow => ResourceKind::Workflow,
                StoredResourceKind::DeployRequest => ResourceKind::DeployRequest,
            },
            number: stored.number,
            name: stored.name,
            state: stored.state,
            deployment_state: stored.deployment_state,
            branch: stored.branch,
            into_branch: stored.into_branch,
            html_url: stored.html_url,
            operations: stored
                .operations
                .into_iter()
                .map(|operation| OperationView {
                    id: operation.id,
                    phase: match operation.phase {
                        StoredPhase::Deploy => OperationPhase::Deploy,
                        StoredPhase::Revert => OperationPhase::Revert,
                    },
                    keyspace: operation.keyspace,
                    table: operation.table,
                    state: operation.state,
                    progress_percentage: operation.progress_percentage,
                    eta_seconds: operation.eta_seconds,
                    errors: operation.errors,
                })
                .collect(),
            last_event: stored.last_event.map(|event| LastEvent {
                id: event.id,
                event_type: event.event_type,
                at: event.at,
            }),
            observed_at: stored.observed_at,
            state_since: stored.state_since.unwrap_or(stored.observed_at),
        })
    }
}
