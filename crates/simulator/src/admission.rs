//! What every request to the simulator goes through: the shared state the handlers read, the
//! rate limit and token check, the faults played for tests, and the API's error body and list
//! envelope. The paths are served by `server.rs` and `webhooks.rs`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::world::World;

/// The API's rate limit: answered with 429 beyond `limit` requests in any `window`.
#[derive(Debug)]
pub(crate) struct RateLimit {
    pub(crate) limit: usize,
    pub(crate) window: Duration,
    pub(crate) arrivals: std::collections::VecDeque<Instant>,
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
    pub(crate) faults: Arc<Mutex<HashMap<String, Fault>>>,
    /// Faults of an organization's list of databases, by organization.
    pub(crate) listing_faults: Arc<Mutex<HashMap<String, Fault>>>,
    pub(crate) requests_by_database: Arc<Mutex<HashMap<String, u64>>>,
    /// When each request came, and for which database ("" for the databases list).
    pub(crate) request_log: Arc<Mutex<Vec<(Instant, String)>>>,
    /// PlanetScale's rate limit, if played: at most this many requests in this window.
    pub(crate) rate_limit: Arc<Mutex<Option<RateLimit>>>,
    pub(crate) rate_limited: Arc<AtomicU64>,
    /// Requests by kind of endpoint (`workflows`, `deploy_request`, `operations`, …).
    pub(crate) requests_by_endpoint: Arc<Mutex<HashMap<&'static str, u64>>>,
    /// The exact `Authorization` header accepted; `None` accepts any.
    pub(crate) authorization: Option<Arc<str>>,
    /// Organizations with a token of their own (PlanetScale's service tokens belong to one
    /// organization): the `Authorization` header each accepts instead of `authorization`.
    pub(crate) organization_tokens: Arc<Mutex<HashMap<String, String>>>,
    /// Requests by the id of the service token they carried.
    pub(crate) requests_by_token: Arc<Mutex<HashMap<String, u64>>>,
    pub(crate) requests: Arc<AtomicU64>,
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
    organization: &str,
    database: &str,
) -> Result<bool, Response> {
    *lock(&shared.requests_by_endpoint)
        .entry(endpoint)
        .or_default() += 1;
    if let Some(refused) = admit(shared, headers, organization) {
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
pub(crate) async fn play(fault: Option<Fault>) -> Result<bool, Response> {
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

pub(crate) fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({"code": code, "message": message}))).into_response()
}

/// Counts the request and checks the rate limit and the token (`organization`'s own, if it has
/// one); `Some` is the refusal to send.
pub(crate) fn admit(shared: &Shared, headers: &HeaderMap, organization: &str) -> Option<Response> {
    shared.requests.fetch_add(1, Ordering::Relaxed);
    let given = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    if let Some(id) = given.and_then(|given| given.split(':').next()) {
        *lock(&shared.requests_by_token)
            .entry(id.to_owned())
            .or_default() += 1;
    }
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
    let own = lock(&shared.organization_tokens).get(organization).cloned();
    let expected = own.or_else(|| shared.authorization.as_deref().map(str::to_owned))?;
    (given != Some(expected.as_str())).then(unauthorized)
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
        "per_page": per_page,
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
