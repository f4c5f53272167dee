//! The HTTP side: PlanetScale's paths, auth and pagination over a shared [`World`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::admission::{
    admit, admit_database, error, lock, not_found, page, play, Fault, RateLimit, Shared,
};
use crate::webhooks::{create_webhook, list_webhooks};
use axum::{Json, Router};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::world::World;

/// Changes a running simulator's world; cheap to clone.
#[derive(Clone)]
pub struct SimulatorHandle {
    world: Arc<Mutex<World>>,
}

impl SimulatorHandle {
    /// Changes the world; the next request sees the change.
    pub fn update<T>(&self, change: impl FnOnce(&mut World) -> T) -> T {
        change(&mut lock(&self.world))
    }
}

/// A running simulator on a loopback port. Dropping it stops the server.
pub struct Simulator {
    address: SocketAddr,
    shared: Shared,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Simulator {
    /// Starts serving `world` on `127.0.0.1` at an unused port. With `authorization`, requests
    /// must carry exactly that `Authorization` header (`id:token`).
    pub async fn start(world: World, authorization: Option<String>) -> std::io::Result<Self> {
        Self::start_on(
            "127.0.0.1:0".parse().map_err(std::io::Error::other)?,
            world,
            authorization,
        )
        .await
    }

    /// Starts serving on `address`.
    pub async fn start_on(
        address: SocketAddr,
        world: World,
        authorization: Option<String>,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(address).await?;
        let address = listener.local_addr()?;
        let shared = Shared {
            world: Arc::new(Mutex::new(world)),
            faults: Arc::default(),
            listing_faults: Arc::default(),
            requests_by_database: Arc::default(),
            request_log: Arc::default(),
            rate_limit: Arc::default(),
            rate_limited: Arc::default(),
            requests_by_endpoint: Arc::default(),
            authorization: authorization.map(Arc::from),
            organization_tokens: Arc::default(),
            requests_by_token: Arc::default(),
            requests: Arc::new(AtomicU64::new(0)),
        };
        let database = "/v1/organizations/{organization}/databases/{database}";
        let app = Router::new()
            .route("/v1/organizations/{organization}", get(get_organization))
            .route(
                "/v1/organizations/{organization}/databases",
                get(list_databases),
            )
            .route(&format!("{database}/workflows"), get(list_workflows))
            .route(
                &format!("{database}/workflows/{{number}}"),
                get(get_workflow),
            )
            .route(
                &format!("{database}/deploy-requests"),
                get(list_deploy_requests),
            )
            .route(
                &format!("{database}/deploy-requests/{{number}}"),
                get(get_deploy_request),
            )
            .route(
                &format!("{database}/deploy-requests/{{number}}/operations"),
                get(list_operations),
            )
            .route(&format!("{database}/deploy-queue"), get(deploy_queue))
            .route(
                &format!("{database}/workflows/{{number}}/cutover"),
                axum::routing::patch(crate::actions::cutover_workflow),
            )
            .route(
                &format!("{database}/deploy-requests/{{number}}/apply-deploy"),
                axum::routing::post(crate::actions::apply_deploy),
            )
            .route(
                &format!("{database}/workflows/{{number}}/retry"),
                axum::routing::patch(crate::actions::retry_workflow),
            )
            .route(
                &format!("{database}/deploy-requests/{{number}}/force-cutover"),
                axum::routing::post(crate::actions::force_cutover),
            )
            .route(
                &format!("{database}/deploy-requests/{{number}}/cancel"),
                axum::routing::post(crate::actions::cancel_deploy_request),
            )
            .route(
                &format!("{database}/deploy-requests/{{number}}/skip-revert"),
                axum::routing::post(crate::actions::skip_revert_period),
            )
            .route(
                &format!("{database}/deploy-requests/{{number}}/revert"),
                axum::routing::post(crate::actions::complete_revert),
            )
            .route(
                &format!("{database}/branches"),
                get(crate::branches::list_branches),
            )
            .route(
                &format!("{database}/branches/{{branch}}/backups"),
                get(crate::branches::list_backups),
            )
            .route(
                &format!("{database}/maintenance-schedules"),
                get(crate::branches::list_maintenance),
            )
            .route(
                &format!("{database}/schema-recommendations"),
                get(crate::branches::list_recommendations),
            )
            .route(
                &format!("{database}/branches/{{branch}}/changes"),
                get(crate::branches::list_changes),
            )
            .route(
                &format!("{database}/branches/{{branch}}/keyspaces"),
                get(crate::branches::list_keyspaces),
            )
            .route(
                &format!("{database}/branches/{{branch}}/keyspaces/{{keyspace}}/resizes"),
                get(crate::branches::list_keyspace_resizes),
            )
            .route(
                &format!("{database}/webhooks"),
                get(list_webhooks).post(create_webhook),
            )
            .fallback(|| async { error(StatusCode::NOT_FOUND, "not_found", "Not Found") })
            .with_state(shared.clone());
        let (shutdown, stopped) = oneshot::channel();
        tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
            if let Err(error) = served {
                tracing::error!(%error, "simulator stopped");
            }
        });
        Ok(Self {
            address,
            shared,
            shutdown: Some(shutdown),
        })
    }

    /// Where it listens.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The API base URL to give pswatch, e.g. `http://127.0.0.1:40123/v1`.
    pub fn api_url(&self) -> String {
        format!("http://{}/v1", self.address)
    }

    /// Changes the world; the next request sees the change.
    pub fn update<T>(&self, change: impl FnOnce(&mut World) -> T) -> T {
        change(&mut lock(&self.shared.world))
    }

    /// A handle that changes the world from another task.
    pub fn handle(&self) -> SimulatorHandle {
        SimulatorHandle {
            world: Arc::clone(&self.shared.world),
        }
    }

    /// Makes `organization` accept only `authorization` (`id:token`), its own service token,
    /// instead of the simulator's.
    pub fn set_organization_token(&self, organization: &str, authorization: &str) {
        lock(&self.shared.organization_tokens)
            .insert(organization.to_owned(), authorization.to_owned());
    }

    /// API requests so far that carried the service token `id`, accepted or not.
    pub fn requests_with_token(&self, id: &str) -> u64 {
        lock(&self.shared.requests_by_token)
            .get(id)
            .copied()
            .unwrap_or(0)
    }

    /// API requests served so far.
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// Requests so far to one kind of endpoint: `databases`, `organization`, `workflows`,
    /// `workflow`, `deploy_requests`, `deploy_request` or `operations`.
    pub fn requests_to(&self, endpoint: &str) -> u64 {
        lock(&self.shared.requests_by_endpoint)
            .get(endpoint)
            .copied()
            .unwrap_or(0)
    }

    /// API requests served so far for one database's endpoints.
    pub fn requests_for(&self, database: &str) -> u64 {
        lock(&self.shared.requests_by_database)
            .get(database)
            .copied()
            .unwrap_or(0)
    }

    /// Answers 429 (without Retry-After, as PlanetScale documents none) to requests beyond
    /// `limit` in any `window`; `None` lifts the limit.
    pub fn set_rate_limit(&self, limit: Option<(usize, Duration)>) {
        *lock(&self.shared.rate_limit) = limit.map(|(limit, window)| RateLimit {
            limit,
            window,
            arrivals: std::collections::VecDeque::new(),
        });
    }

    /// How many requests were answered 429 by the rate limit.
    pub fn rate_limited(&self) -> u64 {
        self.shared.rate_limited.load(Ordering::Relaxed)
    }

    /// When each request came so far, and for which database ("" for a databases list).
    pub fn request_log(&self) -> Vec<(Instant, String)> {
        lock(&self.shared.request_log).clone()
    }

    /// Plays `fault` for `organization`'s list of databases until cleared.
    pub fn set_listing_fault(&self, organization: &str, fault: Option<Fault>) {
        let mut faults = lock(&self.shared.listing_faults);
        match fault {
            Some(fault) => faults.insert(organization.to_owned(), fault),
            None => faults.remove(organization),
        };
    }

    /// Plays `fault` for every endpoint of `database` (in any organization) until cleared.
    pub fn set_fault(&self, database: &str, fault: Option<Fault>) {
        let mut faults = lock(&self.shared.faults);
        match fault {
            Some(fault) => faults.insert(database.to_owned(), fault),
            None => faults.remove(database),
        };
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

async fn get_organization(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(organization): Path<String>,
) -> Response {
    *lock(&shared.requests_by_endpoint)
        .entry("organization")
        .or_default() += 1;
    if let Some(refused) = admit(&shared, &headers, &organization) {
        return refused;
    }
    let world = lock(&shared.world);
    match world.organizations.get(&organization) {
        Some(org) => Json(json!({
            "id": format!("org-{organization}"),
            "type": "Organization",
            "name": organization,
            "created_at": "2026-01-01T00:00:00.000Z",
            "updated_at": "2026-01-01T00:00:00.000Z",
            "database_count": org.databases.len(),
        }))
        .into_response(),
        None => not_found(),
    }
}

async fn list_databases(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(organization): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    *lock(&shared.requests_by_endpoint)
        .entry("databases")
        .or_default() += 1;
    if let Some(refused) = admit(&shared, &headers, &organization) {
        return refused;
    }
    lock(&shared.request_log).push((Instant::now(), String::new()));
    let fault = lock(&shared.listing_faults).get(&organization).cloned();
    let endless = match play(fault).await {
        Ok(endless) => endless,
        Err(response) => return response,
    };
    let world = lock(&shared.world);
    let Some(org) = world.organizations.get(&organization) else {
        return not_found();
    };
    let items = org
        .databases
        .iter()
        .map(|(name, database)| {
            json!({"id": format!("db-{name}"), "type": "Database", "name": name, "kind": database.kind, "state": "ready"})
        })
        .collect();
    page(items, &query, endless)
}

async fn list_workflows(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((organization, database)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let endless =
        match admit_database(&shared, &headers, "workflows", &organization, &database).await {
            Ok(endless) => endless,
            Err(response) => return response,
        };
    let world = lock(&shared.world);
    let Some(database) = world.database(&organization, &database) else {
        return not_found();
    };
    let items = database
        .workflows
        .iter()
        .filter(|workflow| !workflow.unlisted)
        .map(|workflow| workflow.to_json(database.shape))
        .chain(database.odd_workflow_items.iter().cloned())
        .collect();
    page(items, &query, endless)
}

async fn get_workflow(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((organization, database, number)): Path<(String, String, u64)>,
) -> Response {
    if let Err(response) =
        admit_database(&shared, &headers, "workflow", &organization, &database).await
    {
        return response;
    }
    let world = lock(&shared.world);
    world
        .database(&organization, &database)
        .and_then(|database| {
            database
                .workflows
                .iter()
                .find(|workflow| workflow.number == number)
                .map(|workflow| workflow.to_json(database.shape))
        })
        .map_or_else(not_found, |workflow| Json(workflow).into_response())
}

async fn list_deploy_requests(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((organization, database_name)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let endless = match admit_database(
        &shared,
        &headers,
        "deploy_requests",
        &organization,
        &database_name,
    )
    .await
    {
        Ok(endless) => endless,
        Err(response) => return response,
    };
    let world = lock(&shared.world);
    let Some(database) = world.database(&organization, &database_name) else {
        return not_found();
    };
    let wanted = query.get("state");
    let items = database
        .deploy_requests
        .iter()
        .filter(|request| wanted.is_none_or(|state| *state == request.state))
        .map(|request| request.to_json(&organization, &database_name, database.shape))
        .chain(database.odd_deploy_request_items.iter().cloned())
        .collect();
    page(items, &query, endless)
}

async fn get_deploy_request(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((organization, database_name, number)): Path<(String, String, u64)>,
) -> Response {
    if let Err(response) = admit_database(
        &shared,
        &headers,
        "deploy_request",
        &organization,
        &database_name,
    )
    .await
    {
        return response;
    }
    let world = lock(&shared.world);
    world
        .database(&organization, &database_name)
        .and_then(|database| {
            database
                .deploy_requests
                .iter()
                .find(|request| request.number == number)
                .map(|request| request.to_json(&organization, &database_name, database.shape))
        })
        .map_or_else(not_found, |request| Json(request).into_response())
}

/// `get_deploy_queue`: the deployments of open deploy requests that are deploying or waiting to,
/// those deploying first, then the queued ones by number, each with the deployments ahead of
/// it (`preceding_deployments`), in the specification's shape.
async fn deploy_queue(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((organization, database)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let endless =
        match admit_database(&shared, &headers, "deploy_queue", &organization, &database).await {
            Ok(endless) => endless,
            Err(response) => return response,
        };
    let world = lock(&shared.world);
    let Some(database) = world.database(&organization, &database) else {
        return not_found();
    };
    let rank = |state: &str| match state {
        "submitting" | "in_progress" | "in_progress_cutover" | "pending_cutover" => Some(0),
        "queued" => Some(1),
        _ => None,
    };
    let mut queue: Vec<&crate::SimDeployRequest> = database
        .deploy_requests
        .iter()
        .filter(|request| rank(&request.deployment_state).is_some())
        .collect();
    queue.sort_by_key(|request| (rank(&request.deployment_state), request.number));
    let deployment = |request: &crate::SimDeployRequest| {
        let mut item = json!({
            "id": format!("dep-{}", request.number),
            "auto_cutover": request.auto_cutover,
            "auto_delete_branch": false,
            "created_at": crate::world::TIMESTAMP,
            "cutover_at": null,
            "cutover_expiring": request.cutover_expiring,
            "deploy_check_errors": request.deploy_check_errors,
            "finished_at": null,
            "force_cutover_requested_at": null,
            "queued_at": crate::world::TIMESTAMP,
            "ready_to_cutover_at": null,
            "started_at": null,
            "state": request.deployment_state,
            "submitted_at": crate::world::TIMESTAMP,
            "updated_at": crate::world::TIMESTAMP,
            "into_branch": "main",
            "deploy_request_number": request.number,
            "deployable": true,
            "deploy_operations": [],
        });
        let more = json!({
            "deploy_operation_summaries": [],
            "deployment_revert_request": null,
            "instant_ddl": false,
            "instant_ddl_eligible": false,
            "lint_errors": [],
            "lookup_vindex_operations": [],
            "queue_pause_reason": request.queue_pause_reason,
            "queue_paused": request.queue_paused,
            "schema_last_updated_at": crate::world::TIMESTAMP,
            "sequential_diff_dependencies": [],
            "table_locked": request.locked_table.is_some(),
            "locked_table_name": request.locked_table,
        });
        if let (Some(item), Some(more)) = (item.as_object_mut(), more.as_object()) {
            item.extend(more.clone());
        }
        item
    };
    let items = queue
        .iter()
        .enumerate()
        .map(|(place, request)| {
            let mut item = deployment(request);
            item["preceding_deployments"] = json!(queue[..place]
                .iter()
                .map(|ahead| deployment(ahead))
                .collect::<Vec<_>>());
            item
        })
        .collect();
    page(items, &query, endless)
}

async fn list_operations(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((organization, database, number)): Path<(String, String, u64)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let endless =
        match admit_database(&shared, &headers, "operations", &organization, &database).await {
            Ok(endless) => endless,
            Err(response) => return response,
        };
    let world = lock(&shared.world);
    let Some(request) = world
        .database(&organization, &database)
        .and_then(|database| {
            database
                .deploy_requests
                .iter()
                .find(|request| request.number == number)
        })
    else {
        return not_found();
    };
    let items = request
        .operations
        .iter()
        .map(|operation| operation.to_json())
        .collect();
    page(items, &query, endless)
}
