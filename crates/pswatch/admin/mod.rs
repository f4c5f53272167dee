//! The admin HTTP server: health, readiness, Prometheus metrics and a JSON status page. Started
//! once beside the service, it is given the service's board, the store, the outbox (dead
//! letters put back), the store's health, the leadership and the metrics, each handler taking
//! only those it uses as axum substates; it never sees the pipeline, so a reload does not touch
//! it.

pub(crate) mod auth;
mod resources;
pub(crate) mod silences;
pub(crate) mod views;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRef, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::admin::views::{
    DeadLetterView, InMotion, NotReady, OutboxView, SilenceAnswer, SilenceStatus, SilenceView,
    SilencesAnswer, StatusView, TargetView,
};
use crate::service::board::Board;
use crate::service::fleet::FleetReport;
use crate::service::handles::Handles;
use crate::service::health::StoreHealth;
use crate::service::metrics::Metrics;
use crate::service::outbox::Outbox;
use crate::service::status::Report;
use store::{Leadership, Store};

/// What the admin server's handlers may touch; each takes only its parts, as substates.
#[derive(Clone)]
pub(crate) struct AdminState {
    board: Arc<Board>,
    store: Store,
    outbox: Outbox,
    health: Arc<StoreHealth>,
    leadership: Leadership,
    metrics: Arc<Metrics>,
}

impl AdminState {
    /// The admin server's parts of the service's `handles`.
    pub(crate) fn new(handles: &Handles) -> Self {
        Self {
            board: Arc::clone(&handles.board),
            store: handles.store.clone(),
            outbox: handles.outbox.clone(),
            health: Arc::clone(&handles.health),
            leadership: handles.leadership.clone(),
            metrics: Arc::clone(&handles.metrics),
        }
    }
}

macro_rules! substates {
    ($($field:ident: $type:ty),+ $(,)?) => {
        $(impl FromRef<AdminState> for $type {
            fn from_ref(state: &AdminState) -> Self {
                state.$field.clone()
            }
        })+
    };
}

impl FromRef<AdminState> for resources::Reader {
    fn from_ref(state: &AdminState) -> Self {
        Self {
            board: Arc::clone(&state.board),
            store: state.store.clone(),
            leadership: state.leadership.clone(),
        }
    }
}

substates! {
    board: Arc<Board>,
    store: Store,
    outbox: Outbox,
    health: Arc<StoreHealth>,
    leadership: Leadership,
    metrics: Arc<Metrics>,
}

/// How long a request may take, but a wait.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// What a wait may take beyond the timeout it asked for, to answer.
const WAIT_MARGIN: Duration = Duration::from_secs(30);

/// Answers 408 to a request not answered within [`REQUEST_TIMEOUT`], but a wait for a
/// resource's state (`until`), which has its own limit.
async fn time_limit(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let waits = request.uri().path().starts_with("/api/")
        && request
            .uri()
            .query()
            .is_some_and(|query| query.split('&').any(|pair| pair.starts_with("until=")));
    if waits {
        return next.run(request).await;
    }
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => (StatusCode::REQUEST_TIMEOUT, "the request took too long\n").into_response(),
    }
}

/// A target whose polls keep failing for this long (or, if longer, three intervals) makes the
/// service not ready.
const STALE_AFTER: Duration = Duration::from_secs(600);

/// Serves the admin endpoints on `listener` until `shutdown`.
pub(crate) async fn serve(state: AdminState, listener: TcpListener, shutdown: CancellationToken) {
    let auth = Arc::new(crate::admin::auth::AdminAuth::new(
        state.board.admin_tokens.subscribe(),
    ));
    if let Ok(address) = listener.local_addr() {
        auth.set_listen(address);
    }
    let app = Router::new()
        .route("/", get(page))
        .route("/status.js", get(page_script))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/readyz/receiver", get(receiver_ready))
        .route("/metrics", get(metrics))
        .route("/api/status", get(status))
        .route(
            "/api/deploy-requests/{organization}/{database}/{number}",
            get(resources::deploy_request),
        )
        .route(
            "/api/workflows/{organization}/{database}/{number}",
            get(resources::workflow),
        )
        .route(
            "/api/dead-letters/{id}/retry",
            axum::routing::post(retry_dead_letter),
        )
        .route(
            "/api/dead-letters/{id}/drop",
            axum::routing::post(drop_dead_letter),
        )
        .route("/api/silences", get(list_silences).post(add_silence))
        .route(
            "/api/silences/{id}/expire",
            axum::routing::post(expire_silence),
        )
        .route(
            "/login",
            get(crate::admin::auth::login_form).post(crate::admin::auth::login),
        )
        .route("/logout", axum::routing::post(crate::admin::auth::logout))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&auth),
            crate::admin::auth::guard,
        ))
        .layer(axum::Extension(auth))
        .layer(axum::extract::DefaultBodyLimit::max(16 * 1024))
        .layer(axum::middleware::from_fn(crate::admin::auth::headers))
        .layer(axum::middleware::from_fn(time_limit))
        .with_state(state);
    crate::service::serve::serve(
        "the admin server",
        listener,
        app,
        crate::service::serve::Limits {
            header_timeout: std::time::Duration::from_secs(10),
            // A wait's own limit, and `time_limit` for every other request.
            request_timeout: resources::MAX_WAIT + WAIT_MARGIN,
            max_connections: 128,
            // A CI runner's jobs waiting at once share its address.
            per_client: 32,
        },
        shutdown,
    )
    .await;
}

/// Why the service is not ready, if it is not: a token the API refuses, or a database whose
/// polls have been failing for a while.
fn not_ready_reasons(board: &Board, now: OffsetDateTime) -> Vec<String> {
    let stale_after = STALE_AFTER.max(board.status.view().interval * 3);
    let status = board.status.snapshot();
    let mut reasons = Vec::new();
    for (target, target_status) in &status.targets {
        if target_status.auth_failure {
            reasons.push(format!(
                "{target}: the API refuses the service token: {}",
                target_status.last_error.as_deref().unwrap_or("-")
            ));
        } else if target_status.failures > 0 {
            let stale = target_status
                .last_success
                .is_none_or(|success| now - success > stale_after);
            if stale {
                reasons.push(format!(
                    "{target}: no successful poll for over {}s: {}",
                    stale_after.as_secs(),
                    target_status.last_error.as_deref().unwrap_or("-")
                ));
            }
        }
    }
    reasons
}

/// `GET /healthz`: 200 while the process serves; 503 once it is about to stop because its
/// embedded store failed a write (liveness probes then see what is coming).
async fn healthz(State(health): State<Arc<StoreHealth>>) -> Response {
    match health.broken() {
        Some(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("stopping: the state store failed a write ({error})\n"),
        )
            .into_response(),
        None => (StatusCode::OK, "ok\n").into_response(),
    }
}

/// `GET /readyz/receiver`: whether this replica can record PlanetScale's deliveries: the store
/// answers and accepts writes. Polls that fail, or a record set aside, do not make a receiver
/// unready: for the readiness probe of a pod behind the receiver's Service, so PlanetScale's
/// deliveries keep arriving while the API or a channel is in trouble.
async fn receiver_ready(
    State(health): State<Arc<StoreHealth>>,
    State(store): State<Store>,
) -> Response {
    readiness(store_reasons(&health, &store).await, "ready to receive\n")
}

/// Why the store keeps this replica from recording anything: it cannot write, or cannot be
/// read.
async fn store_reasons(health: &StoreHealth, store: &Store) -> Vec<String> {
    let mut reasons = Vec::new();
    if let Some((since, error)) = health.failing() {
        reasons.push(format!(
            "the state store cannot write (for {}s): {error}",
            since.elapsed().as_secs()
        ));
    }
    if let Err(error) = store.outbox_len().await {
        reasons.push(format!("the state store cannot be read: {error}"));
    }
    reasons
}

/// 200 with `ready` when there is no reason not to be, 503 with the reasons otherwise.
fn readiness(reasons: Vec<String>, ready: &'static str) -> Response {
    if reasons.is_empty() {
        (StatusCode::OK, ready).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(NotReady {
                ready: false,
                reasons,
            }),
        )
            .into_response()
    }
}

async fn readyz(
    State(board): State<Arc<Board>>,
    State(health): State<Arc<StoreHealth>>,
    State(store): State<Store>,
) -> Response {
    let mut reasons = not_ready_reasons(&board, OffsetDateTime::now_utc());
    reasons.extend(store_reasons(&health, &store).await);
    let quarantined = store.quarantined_len().await.unwrap_or(0);
    if quarantined > 0 {
        reasons.push(format!(
            "{quarantined} record{} of the state store could not be read and {} set aside: see pswatch outbox list",
            if quarantined == 1 { "" } else { "s" },
            if quarantined == 1 { "is" } else { "are" }
        ));
    }
    readiness(reasons, "ready\n")
}

async fn metrics(
    State(metrics): State<Arc<Metrics>>,
    State(board): State<Arc<Board>>,
    State(store): State<Store>,
    State(leadership): State<Leadership>,
) -> Response {
    // A count the store cannot give now leaves the gauge at its last value.
    let count = |count: Result<usize, store::StoreError>| count.ok().map(|count| count as i64);
    if let Some(pending) = count(store.outbox_len().await) {
        metrics.outbox_pending.set(pending);
    }
    if let Some(dead) = count(store.dead_letters_len().await) {
        metrics.dead_letters.set(dead);
    }
    if let Some(quarantined) = count(store.quarantined_len().await) {
        metrics.quarantined.set(quarantined);
    }
    metrics.budget_used.reset();
    metrics.budget_limit.reset();
    for line in board.budgets.lines() {
        let usage = line.budget.usage();
        let token = [line.name.as_str()];
        metrics
            .budget_used
            .with_label_values(&token)
            .set(i64::from(usage.used));
        metrics
            .budget_limit
            .with_label_values(&token)
            .set(i64::from(usage.limit));
    }
    metrics.targets_in_motion.set(
        board
            .status
            .snapshot()
            .targets
            .values()
            .filter(|target| target.active)
            .count() as i64,
    );
    for (channel, fingerprint) in &board.status.view().channels {
        let disabled = store
            .disabled_channel(channel)
            .await
            .ok()
            .flatten()
            .is_some_and(|disabled| disabled.fingerprint == *fingerprint);
        metrics
            .disabled_channels
            .with_label_values(&[channel.as_str()])
            .set(i64::from(disabled));
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        metrics.render_with(&fleet_shown(&board, &store, &leadership).await),
    )
        .into_response()
}

/// What the status page shows of the leader's work: this replica's own, or on a standby the
/// leader's last report, with its age in seconds.
pub(crate) async fn work_shown(
    board: &Board,
    store: &Store,
    leadership: &Leadership,
) -> (Report, Option<u64>) {
    if leadership.is_standby() {
        if let Some((report, age)) = leaders_report(store).await {
            return (report, Some(age));
        }
    }
    (board.report(tokio::time::Instant::now()), None)
}

/// Where the resources stand, for the state metrics: as this replica sees them, or on a
/// standby as the leader's last report carries them (none before it wrote one, or from a
/// version without them).
async fn fleet_shown(board: &Board, store: &Store, leadership: &Leadership) -> FleetReport {
    if !leadership.is_standby() {
        return board.fleet.report(OffsetDateTime::now_utc());
    }
    store
        .leader_report()
        .await
        .inspect_err(|error| tracing::debug!(%error, "cannot read the leader's report"))
        .ok()
        .flatten()
        .and_then(|mut reported| reported.report.as_object_mut()?.remove("fleet"))
        .and_then(|fleet| {
            serde_json::from_value(fleet)
                .inspect_err(|error| tracing::debug!(%error, "the leader's fleet cannot be read"))
                .ok()
        })
        .unwrap_or_default()
}

/// The leader's last report and its age in seconds, its push ages counted to now; `None` when
/// there is none yet or it cannot be read.
async fn leaders_report(store: &Store) -> Option<(Report, u64)> {
    let reported = store
        .leader_report()
        .await
        .inspect_err(|error| tracing::debug!(%error, "cannot read the leader's report"))
        .ok()??;
    let mut report: Report = serde_json::from_value(reported.report)
        .inspect_err(|error| {
            tracing::debug!(%error, "the leader's report cannot be read (another version?)");
        })
        .ok()?;
    let age = u64::try_from((OffsetDateTime::now_utc() - reported.written_at).whole_seconds())
        .unwrap_or(0);
    for push in report.push.values_mut() {
        push.last_delivery_seconds_ago = push
            .last_delivery_seconds_ago
            .map(|ago| ago.saturating_add(age));
    }
    Some((report, age))
}

async fn status(
    State(board): State<Arc<Board>>,
    State(store): State<Store>,
    State(leadership): State<Leadership>,
) -> Response {
    let (report, report_age_seconds) = work_shown(&board, &store, &leadership).await;
    let Report {
        scheduler,
        budgets,
        push,
        recent_events,
    } = report;
    let states = store.target_states().await.unwrap_or_default();
    let targets = scheduler
        .targets
        .into_iter()
        .map(|(name, status)| {
            let state = states
                .iter()
                .find(|(target, _)| target.to_string() == name)
                .map(|(_, state)| state);
            let in_motion = state.map_or_else(InMotion::default, InMotion::of);
            TargetView {
                target: name,
                status,
                in_motion,
            }
        })
        .collect();
    let pending_by_channel = store.outbox_counts().await.unwrap_or_default();
    Json(StatusView {
        targets,
        budget: budgets.first().cloned().unwrap_or_default(),
        budgets,
        budget_note: scheduler.budget_note,
        outbox: OutboxView {
            pending: pending_by_channel.values().sum(),
            dead_letters: store.dead_letters_len().await.unwrap_or_default(),
            pending_by_channel,
            dead: dead_letters(&store).await,
        },
        push,
        recent_events,
        silences: silence_views(&board, &store)
            .await
            .into_iter()
            .filter(|view| view.status != SilenceStatus::Expired)
            .collect(),
        now_unix: OffsetDateTime::now_utc().unix_timestamp(),
        replica: leadership.is_elected().then(|| board.replicas.view()),
        report_age_seconds,
    })
    .into_response()
}

/// The dead letters, oldest first: what the page lists with its buttons.
async fn dead_letters(store: &Store) -> Vec<DeadLetterView> {
    store
        .dead_letters()
        .await
        .unwrap_or_default()
        .iter()
        .map(DeadLetterView::from)
        .collect()
}

/// `POST /api/dead-letters/{id}/retry`: puts the dead letter back in the outbox, at its place
/// in detection order; its channel's worker sends it.
async fn retry_dead_letter(
    State(outbox): State<Outbox>,
    axum::extract::Path(id): axum::extract::Path<u64>,
) -> Response {
    match outbox.put_back(Some(id)).await {
        Ok(store_revived) if store_revived.count == 0 => {
            (StatusCode::NOT_FOUND, format!("no dead letter {id}\n")).into_response()
        }
        Err(store::StoreError::NoSuchEntry(_)) => {
            (StatusCode::NOT_FOUND, format!("no dead letter {id}\n")).into_response()
        }
        Ok(revived) => {
            if let Some(error) = revived.untold {
                tracing::warn!(%error, "cannot wake the leader's delivery worker; it delivers at its next look");
            }
            tracing::info!(
                id,
                "a dead letter was put back in the outbox from the admin API"
            );
            (
                StatusCode::OK,
                format!("dead letter {id} is back in the outbox\n"),
            )
                .into_response()
        }
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{error}\n")).into_response(),
    }
}

/// `POST /api/dead-letters/{id}/drop`: removes the dead letter for good.
async fn drop_dead_letter(
    State(store): State<Store>,
    axum::extract::Path(id): axum::extract::Path<u64>,
) -> Response {
    let known = store
        .dead_letters()
        .await
        .unwrap_or_default()
        .iter()
        .any(|letter| letter.entry.id == id);
    if !known {
        return (StatusCode::NOT_FOUND, format!("no dead letter {id}\n")).into_response();
    }
    match store.drop_entry(id).await {
        Ok(()) => {
            tracing::info!(id, "a dead letter was dropped from the admin API");
            (StatusCode::OK, format!("dead letter {id} dropped\n")).into_response()
        }
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{error}\n")).into_response(),
    }
}

/// Every silence: the configuration's and those added, expired ones last.
async fn silence_views(board: &Board, store: &Store) -> Vec<SilenceView> {
    let now = OffsetDateTime::now_utc();
    let configured = board.status.view().silences;
    let silences = store
        .all_silences(&configured)
        .await
        .unwrap_or_else(|error| {
            tracing::warn!(%error, "the silences cannot be read");
            configured
        });
    crate::admin::silences::views(&silences, now)
}

/// `GET /api/silences`.
async fn list_silences(State(board): State<Arc<Board>>, State(store): State<Store>) -> Response {
    Json(SilencesAnswer {
        silences: silence_views(&board, &store).await,
    })
    .into_response()
}

/// `POST /api/silences`: a JSON [`SilenceRequest`](crate::admin::silences::SilenceRequest); 201
/// with the silence, or 400 saying what is wrong.
async fn add_silence(State(store): State<Store>, body: axum::body::Bytes) -> Response {
    let now = OffsetDateTime::now_utc();
    let request = match serde_json::from_slice::<crate::admin::silences::SilenceRequest>(&body) {
        Ok(request) => request,
        Err(error) => {
            return (StatusCode::BAD_REQUEST, format!("not a silence: {error}\n")).into_response()
        }
    };
    match crate::admin::silences::add(&store, request, now).await {
        Ok(silence) => {
            tracing::info!(silence = %silence.id, matchers = %silence.matcher,
                window = %silence.window, comment = %silence.comment, "silence added");
            (
                StatusCode::CREATED,
                Json(SilenceAnswer {
                    silence: SilenceView::new(&silence, now),
                }),
            )
                .into_response()
        }
        Err(error) => silence_refused(&error),
    }
}

/// The answer to an add or expire that failed, with its status.
fn silence_refused(error: &crate::admin::silences::SilenceActionError) -> Response {
    use crate::admin::silences::SilenceActionError::{Configured, Invalid, Store, Unknown};
    let status = match error {
        Invalid(_) => StatusCode::BAD_REQUEST,
        Configured(_) => StatusCode::CONFLICT,
        Unknown(_) => StatusCode::NOT_FOUND,
        Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    (status, format!("{error}\n")).into_response()
}

/// `POST /api/silences/{id}/expire`: ends an added silence now.
async fn expire_silence(
    State(board): State<Arc<Board>>,
    State(store): State<Store>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    let now = OffsetDateTime::now_utc();
    let configured = board.status.view().silences;
    match crate::admin::silences::expire(&configured, &store, &id, now).await {
        Ok(silence) => {
            tracing::info!(silence = %silence.id, "silence expired");
            Json(SilenceAnswer {
                silence: SilenceView::new(&silence, now),
            })
            .into_response()
        }
        Err(error) => silence_refused(&error),
    }
}

/// The page's own policy: its script and nothing from elsewhere.
const PAGE_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// `GET /`: the status page, served from the binary (no external assets).
async fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, PAGE_POLICY),
            (header::CACHE_CONTROL, "no-store"),
        ],
        include_str!("page/index.html"),
    )
        .into_response()
}

/// `GET /status.js`: the page's script.
async fn page_script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        include_str!("page/status.js"),
    )
        .into_response()
}
