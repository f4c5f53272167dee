//! The HTTP side: PlanetScale's paths, auth and pagination over a shared [`World`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::webhooks::{create_webhook, list_webhooks};
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::world::World;

/// The API's rate limit: answered with 429 beyond `limit` requests in any `window`.
#[derive(Debug)]
struct RateLimit {
    limit: usize,
    window: Duration,
    arrivals: std::collections::VecDeque<Instant>,
}

/// A failure the simulator plays for one database's endpoints, for fault tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status and an API error body, and a `Retry-After` if given.
    Status {
        /// The HTTP status.
        status: u16,
        /// A `Retry-After` header to send with it.
        retry_after: Option<String>,
    },
    /// Answer 200 with this body (truncated JSON, wrong types, nothing at all…).
    Body(String),
    /// Answer normally, after this long.
    Delay(Duration),
    /// Every page of a list claims there is a next one.
    EndlessPages,
}

#[derive(Clone)]
pub(crate) struct Shared {
    pub(crate) world: Arc<Mutex<World>>,
    faults: Arc<Mutex<HashMap<String, Fault>>>,
    /// Faults of an organization's list of databases, by organization.
    listing_faults: Arc<Mutex<HashMap<String, Fault>>>,
    requests_by_database: Arc<Mutex<HashMap<String, u64>>>,
    /// When each request came, and for which database ("" for the databases list).
    request_log: Arc<Mutex<Vec<(Instant, String)>>>,
    /// PlanetScale's rate limit, if played: at most this many requests in this window.
    rate_limit: Arc<Mutex<Option<RateLimit>>>,
    rate_limited: Arc<AtomicU64>,
    /// Requests by kind of endpoint (`workflows`, `deploy_request`, `operations`, …).
    requests_by_endpoint: Arc<Mutex<HashMap<&'static str, u64>>>,
    /// The exact `Authorization` header accepted; `None` accepts any.
    authorization: Option<Arc<str>>,
    requests: Arc<AtomicU64>,
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves data that is still consistent enough to serve.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Admits a request for one of `database`'s endpoints (rate limit, token), counts it and plays
/// the database's fault: `Err` is the response to send instead, `Ok(true)` asks for endless
/// pages. Like PlanetScale, it answers a token it does not accept with 404 on database paths.
pub(crate) async fn admit_database(
    shared: &Shared,
    headers: &HeaderMap,
    endpoint: &'static str,
    database: &str,
) -> Result<bool, Response> {
    *lock(&shared.requests_by_endpoint)
        .entry(endpoint)
        .or_default() += 1;
    if let Some(refused) = admit(shared, headers) {
        return Err(if refused.status() == StatusCode::UNAUTHORIZED {
            not_found()
        } else {
            refused
        });
    }
    *lock(&shared.requests_by_database)
        .entry(database.to_owned())
        .or_default() += 1;
    lock(&shared.request_log).push((Instant::now(), database.to_owned()));
    let fault = lock(&shared.faults).get(database).cloned();
    play(fault).await
}

/// Plays `fault`: `Err` is the response to send instead, `Ok(true)` asks for endless pages.
async fn play(fault: Option<Fault>) -> Result<bool, Response> {
    match fault {
        None => Ok(false),
        Some(Fault::EndlessPages) => Ok(true),
        Some(Fault::Delay(delay)) => {
            tokio::time::sleep(delay).await;
            Ok(false)
        }
        Some(Fault::Body(body)) => Err((StatusCode::OK, body).into_response()),
        Some(Fault::Status {
            status,
            retry_after,
        }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut response = error(status, "simulated", "a fault played by the simulator");
            if let Some(retry_after) = retry_after.and_then(|value| value.parse().ok()) {
                response
                    .headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, retry_after);
            }
            Err(response)
        }
    }
}

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

pub(crate) fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({"code": code, "message": message}))).into_response()
}

/// Counts the request and checks the rate limit and the token; `Some` is the refusal to send.
fn admit(shared: &Shared, headers: &HeaderMap) -> Option<Response> {
    shared.requests.fetch_add(1, Ordering::Relaxed);
    if let Some(limit) = lock(&shared.rate_limit).as_mut() {
        let now = Instant::now();
        while limit
            .arrivals
            .front()
            .is_some_and(|arrival| *arrival + limit.window <= now)
        {
            limit.arrivals.pop_front();
        }
        if limit.arrivals.len() >= limit.limit {
            shared.rate_limited.fetch_add(1, Ordering::Relaxed);
            return Some(error(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "You have exceeded the API rate limit",
            ));
        }
        limit.arrivals.push_back(now);
    }
    let Some(expected) = &shared.authorization else {
        return None;
    };
    let given = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    (given != Some(&**expected)).then(unauthorized)
}

fn unauthorized() -> Response {
    error(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "The access token is invalid or expired",
    )
}

pub(crate) fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "not_found", "Not Found")
}

/// One page of `items` in the API's list envelope.
pub(crate) fn page(items: Vec<Value>, query: &HashMap<String, String>, endless: bool) -> Response {
    let number = |key: &str, default: usize| {
        query
            .get(key)
            .and_then(|value| value.parse::<usize>().ok())
            .filter(|value| *value > 0)
            .unwrap_or(default)
    };
    let per_page = number("per_page", 25).min(100);
    let current = number("page", 1);
    let total = items.len();
    let total_pages = total.div_ceil(per_page).max(1);
    let data: Vec<Value> = items
        .into_iter()
        .skip((current - 1).saturating_mul(per_page))
        .take(per_page)
        .collect();
    let next = (endless || current < total_pages).then_some(current + 1);
    let previous = (current > 1).then_some(current - 1);
    Json(json!({
        "type": "list",
        "current_page": current,
        "next_page": next,
        "next_page_url": next.map(|next| format!("?page={next}")),
        "prev_page": previous,
        "prev_page_url": previous.map(|previous| format!("?page={previous}")),
        "total_count": total,
        "total_pages": total_pages,
        "data": data,
    }))
    .into_response()
}

async fn get_organization(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(organization): Path<String>,
) -> Response {
    *lock(&shared.requests_by_endpoint)
        .entry("organization")
        .or_default() += 1;
    if let Some(refused) = admit(&shared, &headers) {
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
    if let Some(refused) = admit(&shared, &headers) {
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
    let endless = match admit_database(&shared, &headers, "workflows", &database).await {
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
    if let Err(response) = admit_database(&shared, &headers, "workflow", &database).await {
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
    let endless = match admit_database(&shared, &headers, "deploy_requests", &database_name).await {
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
    if let Err(response) = admit_database(&shared, &headers, "deploy_request", &database_name).await
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

async fn list_operations(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((organization, database, number)): Path<(String, String, u64)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let endless = match admit_database(&shared, &headers, "operations", &database).await {
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
