//! A database's branches and their backups, as `GET …/databases/{db}/branches` and
//! `GET …/branches/{branch}/backups` serve them in PlanetScale's specification's shapes.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{json, Value};

use crate::admission::{admit_database, lock, not_found, page, Shared};

const TIMESTAMP: &str = "2026-11-23T09:00:00.000Z";

/// Where a list is: a database, or one of its branches.
struct Place<'a> {
    organization: &'a str,
    database: &'a str,
    branch: Option<&'a str>,
}

impl<'a> Place<'a> {
    fn database(organization: &'a str, database: &'a str) -> Self {
        Self {
            organization,
            database,
            branch: None,
        }
    }

    fn branch(organization: &'a str, database: &'a str, branch: &'a str) -> Self {
        Self {
            organization,
            database,
            branch: Some(branch),
        }
    }
}

/// A page of the list `items` makes of the database at `place`, once the request is admitted
/// (as `endpoint`); 404 for a database or branch that does not exist.
async fn listed(
    shared: &Shared,
    headers: &HeaderMap,
    endpoint: &'static str,
    place: Place<'_>,
    query: &HashMap<String, String>,
    items: impl FnOnce(&crate::Database) -> Vec<Value>,
) -> Response {
    if let Err(response) = admit_database(
        shared,
        headers,
        endpoint,
        place.organization,
        place.database,
    )
    .await
    {
        return response;
    }
    let world = lock(&shared.world);
    let Some(found) = world.database(place.organization, place.database) else {
        return not_found();
    };
    if let Some(branch) = place.branch {
        if !found.branches.iter().any(|known| known.name == branch) {
            return not_found();
        }
    }
    page(items(found), query, false)
}

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
            "name": self.id,
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
    Path((organization, database)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let place = Place::database(&organization, &database);
    listed(&shared, &headers, "branches", place, &query, |found| {
        found
            .branches
            .iter()
            .map(|branch| branch.to_json(&organization, &database, &found.kind))
            .collect()
    })
    .await
}

pub(crate) async fn list_backups(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((organization, database, branch)): Path<(String, String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let place = Place::branch(&organization, &database, &branch);
    listed(&shared, &headers, "backups", place, &query, |found| {
        found
            .backups
            .iter()
            .filter(|backup| backup.branch == branch)
            .map(SimBackup::to_json)
            .collect()
    })
    .await
}

/// A change of a branch's cluster, or a resize of one of its keyspaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimResize {
    /// Its id.
    pub id: String,
    /// The branch.
    pub branch: String,
    /// The keyspace, for a keyspace resize; `None` for the branch's own change.
    pub keyspace: Option<String>,
    /// `queued`, `pending`, `resizing`, `canceled` or `completed`.
    pub state: String,
    /// The cluster size before and after.
    pub previous_cluster_name: String,
    /// The cluster size it changes to.
    pub cluster_name: String,
    /// The replicas before and after.
    pub previous_replicas: u64,
    /// The replicas it changes to.
    pub replicas: u64,
}

impl SimResize {
    /// A queued resize of `branch` (of `keyspace`, or of the branch's cluster) from PS_10 with
    /// two replicas to PS_20 with three.
    pub fn new(id: &str, branch: &str, keyspace: Option<&str>) -> Self {
        Self {
            id: id.into(),
            branch: branch.into(),
            keyspace: keyspace.map(str::to_owned),
            state: "queued".into(),
            previous_cluster_name: "PS_10".into(),
            cluster_name: "PS_20".into(),
            previous_replicas: 2,
            replicas: 3,
        }
    }

    /// As the API shows it: a branch change request, or a keyspace resize request.
    pub fn to_json(&self) -> Value {
        let mut value = json!({
            "id": self.id,
            "state": self.state,
            "started_at": (self.state != "queued").then_some(TIMESTAMP),
            "completed_at": matches!(self.state.as_str(), "completed" | "canceled").then_some("2026-11-23T09:30:00.000Z"),
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
            "actor": {"id": "u1", "display_name": "Ada Lovelace", "avatar_url": ""},
            "cluster_name": self.cluster_name,
            "cluster_display_name": self.cluster_name.replace('_', "-"),
            "previous_cluster_name": self.previous_cluster_name,
            "previous_cluster_display_name": self.previous_cluster_name.replace('_', "-"),
            "replicas": self.replicas,
            "previous_replicas": self.previous_replicas,
        });
        if self.keyspace.is_none() {
            value["cluster_metal"] = json!(false);
            value["previous_cluster_metal"] = json!(false);
            value["parameters"] = json!({});
            value["previous_parameters"] = json!({});
            value["minimum_storage_bytes"] = json!(10_737_418_240_u64);
            value["maximum_storage_bytes"] = json!(214_748_364_800_u64);
            value["previous_minimum_storage_bytes"] = json!(10_737_418_240_u64);
            value["previous_maximum_storage_bytes"] = json!(107_374_182_400_u64);
            value["storage_autoscaling"] = json!(true);
            value["storage_type"] = json!("gp3");
        } else {
            value["extra_replicas"] = json!(0);
        }
        value
    }
}

pub(crate) async fn list_changes(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((organization, database, branch)): Path<(String, String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let place = Place::branch(&organization, &database, &branch);
    listed(&shared, &headers, "changes", place, &query, |found| {
        found
            .resizes
            .iter()
            .filter(|resize| resize.branch == branch && resize.keyspace.is_none())
            .map(SimResize::to_json)
            .collect()
    })
    .await
}

pub(crate) async fn list_keyspaces(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((organization, database, branch)): Path<(String, String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let place = Place::branch(&organization, &database, &branch);
    listed(&shared, &headers, "keyspaces", place, &query, |found| {
        let mut names: Vec<&str> = found.keyspaces.iter().map(String::as_str).collect();
        for resize in &found.resizes {
            if let Some(keyspace) = resize.keyspace.as_deref() {
                if resize.branch == branch && !names.contains(&keyspace) {
                    names.push(keyspace);
                }
            }
        }
        names
            .into_iter()
            .map(|name| {
                json!({"id": format!("ks-{name}"), "name": name, "shards": 1, "sharded": false,
                       "replicas": 2, "extra_replicas": 0, "cluster_name": "PS_10",
                       "created_at": TIMESTAMP, "updated_at": TIMESTAMP})
            })
            .collect()
    })
    .await
}

pub(crate) async fn list_keyspace_resizes(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((organization, database, branch, keyspace)): Path<(String, String, String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let place = Place::branch(&organization, &database, &branch);
    listed(&shared, &headers, "resizes", place, &query, |found| {
        found
            .resizes
            .iter()
            .filter(|resize| {
                resize.branch == branch && resize.keyspace.as_deref() == Some(keyspace.as_str())
            })
            .map(SimResize::to_json)
            .collect()
    })
    .await
}

/// One of PlanetScale's schema recommendations for a database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimRecommendation {
    /// Its number.
    pub number: u64,
    /// What it recommends.
    pub title: String,
    /// The table.
    pub table_name: String,
    /// `open`, `applied`, `dismissed` or `stale`.
    pub state: String,
}

impl SimRecommendation {
    /// An open recommendation to drop an unused index of `table`.
    pub fn new(number: u64, table: &str) -> Self {
        Self {
            number,
            title: format!("Drop unused index idx_old on {table}"),
            table_name: table.into(),
            state: "open".into(),
        }
    }

    /// As the API shows it.
    pub fn to_json(&self, organization: &str, database: &str) -> Value {
        json!({
            "id": format!("sr-{}", self.number),
            "html_url": format!("https://app.planetscale.com/{organization}/{database}/insights/recommendations/{}", self.number),
            "title": self.title,
            "table_name": self.table_name,
            "keyspace": "commerce",
            "ddl_statement": format!("ALTER TABLE `{}` DROP INDEX `idx_old`", self.table_name),
            "number": self.number,
            "state": self.state,
            "recommendation_type": "unused_index",
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
            "applied_at": (self.state == "applied").then_some(TIMESTAMP),
            "dismissed_at": (self.state == "dismissed").then_some(TIMESTAMP),
            "closed_by_deploy_request": null,
            "dismissed_by": null,
        })
    }
}

pub(crate) async fn list_recommendations(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((organization, database)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let place = Place::database(&organization, &database);
    listed(
        &shared,
        &headers,
        "schema_recommendations",
        place,
        &query,
        |found| {
            found
                .recommendations
                .iter()
                .map(|recommendation| recommendation.to_json(&organization, &database))
                .collect()
        },
    )
    .await
}

/// A maintenance schedule of a database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimMaintenance {
    /// Its id.
    pub id: String,
    /// When its next window starts (RFC 3339).
    pub next_window: Option<String>,
    /// When its last window started.
    pub last_window: Option<String>,
    /// How long a window lasts, in hours.
    pub duration_hours: u64,
    /// Whether PlanetScale requires it.
    pub required: bool,
}

impl SimMaintenance {
    /// A schedule of one-hour windows, not required, with no window yet.
    pub fn new(id: &str) -> Self {
        Self {
            id: id.into(),
            next_window: None,
            last_window: None,
            duration_hours: 1,
            required: false,
        }
    }

    /// As the API shows it.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "name": format!("Maintenance {}", self.id),
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
            "last_window_datetime": self.last_window,
            "next_window_datetime": self.next_window,
            "duration": self.duration_hours,
            "day": 6,
            "hour": 2,
            "week": null,
            "frequency_value": 1,
            "frequency_unit": "week",
            "enabled": true,
            "expires_at": null,
            "deadline_at": self.required.then_some("2026-12-05T00:00:00.000Z"),
            "required": self.required,
            "pending_vitess_version_update": self.required,
            "pending_vitess_version": self.required.then_some("22.0"),
            "pending_mysql_version_update": false,
            "pending_mysql_version": null,
        })
    }
}

pub(crate) async fn list_maintenance(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((organization, database)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let place = Place::database(&organization, &database);
    listed(
        &shared,
        &headers,
        "maintenance_schedules",
        place,
        &query,
        |found| {
            found
                .maintenance
                .iter()
                .map(SimMaintenance::to_json)
                .collect()
        },
    )
    .await
}
