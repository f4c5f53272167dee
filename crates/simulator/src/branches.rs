//! A database's branches and their backups, as `GET …/databases/{db}/branches` and
//! `GET …/branches/{branch}/backups` serve them in PlanetScale's specification's shapes.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{json, Value};

use crate::admission::{admit_database, lock, not_found, page, Shared};

const TIMESTAMP: &str = "2026-11-23T09:00:00.000Z";

/// A branch of a database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimBranch {
    /// Its name.
    pub name: String,
    /// Whether it is a production branch.
    pub production: bool,
    /// `ready`, `sleeping`, …
    pub state: String,
}

impl SimBranch {
    /// A ready branch.
    pub fn new(name: &str, production: bool) -> Self {
        Self {
            name: name.into(),
            production,
            state: "ready".into(),
        }
    }

    /// As the API shows it, of a database of `kind` (`mysql` or `postgresql`).
    pub fn to_json(&self, organization: &str, database: &str, kind: &str) -> Value {
        json!({
            "id": format!("br-{}", self.name),
            "name": self.name,
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
            "deleted_at": null,
            "restore_checklist_completed_at": null,
            "schema_last_updated_at": TIMESTAMP,
            "kind": kind,
            "mysql_address": format!("{}.connect.psdb.cloud", self.name),
            "state": self.state,
            "ready": self.state == "ready",
            "production": self.production,
            "safe_migrations": self.production,
            "sharded": false,
            "shard_count": 1,
            "html_url": format!("https://app.planetscale.com/{organization}/{database}/{}", self.name),
            "region": {"id": "us-east", "provider": "AWS", "enabled": true, "display_name": "AWS us-east-1", "slug": "us-east"},
            "actor": {"id": "u1", "display_name": "Ada Lovelace", "avatar_url": ""},
        })
    }
}

/// A backup of a branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimBackup {
    /// Its id.
    pub id: String,
    /// The branch it is of.
    pub branch: String,
    /// `pending`, `running`, `success`, `failed`, `canceled` or `ignored`.
    pub state: String,
    /// Its size in bytes.
    pub size: u64,
    /// When it started, if it has.
    pub started_at: Option<String>,
    /// When it ended, if it has.
    pub completed_at: Option<String>,
}

impl SimBackup {
    /// A pending backup of `branch`.
    pub fn new(id: &str, branch: &str) -> Self {
        Self {
            id: id.into(),
            branch: branch.into(),
            state: "pending".into(),
            size: 0,
            started_at: None,
            completed_at: None,
        }
    }

    /// As the API shows it.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "name": format!("backup {}", self.id),
            "state": self.state,
            "size": self.size,
            "estimated_storage_cost": 0.0,
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
            "started_at": self.started_at,
            "expires_at": "2026-12-23T09:00:00.000Z",
            "completed_at": self.completed_at,
            "deleted_at": null,
            "pvc_size": self.size,
            "uncompressed_size": self.size * 3,
            "protected": false,
            "required": true,
            "restored_branches": [],
            "actor": null,
            "backup_policy": {"id": "bp1", "display_name": "Every 12 hours", "name": "default", "target": "production", "retention_value": 2, "retention_unit": "day", "frequency_value": 12, "frequency_unit": "hour"},
            "database_branch": {"id": format!("br-{}", self.branch), "name": self.branch},
        })
    }
}

pub(crate) async fn list_branches(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((organization, database_name)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Err(response) = admit_database(&shared, &headers, "branches", &database_name).await {
        return response;
    }
    let world = lock(&shared.world);
    let Some(database) = world.database(&organization, &database_name) else {
        return not_found();
    };
    let items = database
        .branches
        .iter()
        .map(|branch| branch.to_json(&organization, &database_name, &database.kind))
        .collect();
    page(items, &query, false)
}

pub(crate) async fn list_backups(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((organization, database_name, branch)): Path<(String, String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Err(response) = admit_database(&shared, &headers, "backups", &database_name).await {
        return response;
    }
    let world = lock(&shared.world);
    let Some(database) = world.database(&organization, &database_name) else {
        return not_found();
    };
    if !database.branches.iter().any(|known| known.name == branch) {
        return not_found();
    }
    let items = database
        .backups
        .iter()
        .filter(|backup| backup.branch == branch)
        .map(SimBackup::to_json)
        .collect();
    page(items, &query, false)
}
