//! A webhook and Slack stand-in that the tests can make fail, slow down or rate-limit, and that
//! records every request with the answer it gave.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::Router;

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
    /// The status the receiver answered.
    pub status: u16,
    /// Whether this request repeated a `webhook-id` already accepted (answered 200, not
    /// counted again), as an idempotent receiver does.
    pub duplicate: bool,
}

#[derive(Default)]
struct Inner {
    status: u16,
    /// Statuses for paths starting with a prefix, instead of `status`.
    status_by_prefix: Vec<(String, u16)>,
    delay: Duration,
    /// Answer 429 to a request that comes sooner than this after the previous one.
    min_interval: Option<Duration>,
    last: Option<Instant>,
    accepted_ids: BTreeSet<String>,
    /// Requests under the path prefix accepted before the rest are answered 503.
    accept_budget: Option<(String, usize)>,
    requests: Vec<Recorded>,
    /// Requests that have arrived, before any delay.
    arrived: usize,
}

#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Inner>>);

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

pub struct Receiver {
    pub url: String,
    shared: Shared,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

async fn receive(
    State(shared): State<Shared>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let delay = {
        let mut inner = shared.lock();
        inner.arrived += 1;
        inner.delay
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let mut inner = shared.lock();
    let now = Instant::now();
    let too_soon = match (inner.min_interval, inner.last) {
        (Some(min_interval), Some(last)) => now.duration_since(last) < min_interval,
        _ => false,
    };
    inner.last = Some(now);
    let configured = inner
        .status_by_prefix
        .iter()
        .find(|(prefix, _)| uri.path().starts_with(prefix.as_str()))
        .map_or(inner.status, |(_, status)| *status);
    let mut status = if too_soon { 429 } else { configured };
    if let Some((prefix, left)) = inner.accept_budget.as_mut() {
        if uri.path().starts_with(prefix.as_str()) && (200..300).contains(&status) {
            if *left == 0 {
                status = 503;
            } else {
                *left -= 1;
            }
        }
    }
    let headers: HashMap<String, String> = headers
        .iter()
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    let mut duplicate = false;
    if (200..300).contains(&status) {
        if let Some(id) = headers.get("webhook-id") {
            duplicate = !inner.accepted_ids.insert(id.clone());
        }
    }
    inner.requests.push(Recorded {
        path: uri.path().to_owned(),
        headers,
        body: body.to_vec(),
        status,
        duplicate,
    });
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

impl Receiver {
    pub async fn start() -> Self {
        let shared = Shared::default();
        shared.lock().status = 200;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let app = Router::new().fallback(receive).with_state(shared.clone());
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Self {
            url,
            shared,
            _shutdown: shutdown,
        }
    }

    pub fn set_status(&self, status: u16) {
        self.shared.lock().status = status;
    }

    /// Answers `status` to paths starting with `prefix`; `None` goes back to the common status.
    pub fn set_status_for(&self, prefix: &str, status: Option<u16>) {
        let mut inner = self.shared.lock();
        inner.status_by_prefix.retain(|(known, _)| known != prefix);
        if let Some(status) = status {
            inner.status_by_prefix.push((prefix.to_owned(), status));
        }
    }

    /// Accepts `count` more requests under `prefix`, then answers the rest 503; `None` ends it.
    pub fn accept_only(&self, prefix: &str, count: Option<usize>) {
        self.shared.lock().accept_budget = count.map(|count| (prefix.to_owned(), count));
    }

    pub fn set_delay(&self, delay: Duration) {
        self.shared.lock().delay = delay;
    }

    pub fn set_min_interval(&self, min_interval: Option<Duration>) {
        self.shared.lock().min_interval = min_interval;
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.lock().requests.clone()
    }

    /// Requests to `path` that were accepted and were not repeats of an accepted `webhook-id`.
    pub fn accepted(&self, path: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|request| {
                request.path == path && (200..300).contains(&request.status) && !request.duplicate
            })
            .collect()
    }

    /// Waits until `done` holds for the requests, at most `timeout`.
    pub async fn wait_until(&self, timeout: Duration, done: impl Fn(&[Recorded]) -> bool) -> bool {
        super::eventually(timeout, || {
            std::future::ready(done(&self.requests()).then_some(()))
        })
        .await
        .is_some()
    }

    /// Requests that have arrived, answered or not (an answer may be delayed).
    pub fn arrived(&self) -> usize {
        self.shared.lock().arrived
    }
}
