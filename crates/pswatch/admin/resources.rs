//! `GET /api/deploy-requests/{organization}/{database}/{number}` and
//! `GET /api/workflows/{organization}/{database}/{number}`: a watched resource as pswatch last
//! saw it, from the store's views (so every replica answers), and with
//! `?until=STATE[,STATE...]&timeout=DURATION` the wait for one of those states. Reading and
//! waiting ask PlanetScale nothing: a resource not seen yet makes its database's next poll come
//! first, as a push does, and waits cost nothing but a connection.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use diff_engine::Target;
use model::{ResourceKind, ResourceView};
use store::{Leadership, Store};
use time::OffsetDateTime;
use tokio::time::Instant;

use crate::admin::views::ResourceAnswer;
use crate::service::board::Board;

/// The longest wait one request may ask for.
pub(crate) const MAX_WAIT: Duration = Duration::from_secs(15 * 60);
/// The wait when `until` comes without `timeout`.
const DEFAULT_WAIT: Duration = Duration::from_secs(5 * 60);
/// How long a read of a resource not seen yet waits for the poll it asks for.
const FIRST_SIGHT_WAIT: Duration = Duration::from_secs(20);
/// How often a waiter on a standby reads the store again: it hears of no poll but through the
/// store.
const RECHECK: Duration = Duration::from_millis(250);
/// How often a waiter on the replica that polls reads the store again without news (the board
/// tells it of every poll that changed a view; this is only a safety net).
const RECHECK_LEADING: Duration = Duration::from_secs(2);

/// The query of a read: `until` and `timeout`.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct WaitQuery {
    until: Option<String>,
    timeout: Option<String>,
}

/// What a read needs of the server's state: the board, the store and the leadership (a
/// substate of the admin server's).
#[derive(Clone)]
pub(crate) struct Reader {
    pub(crate) board: Arc<Board>,
    pub(crate) store: Store,
    pub(crate) leadership: Leadership,
}

/// `{organization}/{database}/{number}`.
type ResourcePath = Path<(String, String, String)>;

/// `GET /api/deploy-requests/{organization}/{database}/{number}`.
pub(crate) async fn deploy_request(
    State(reader): State<Reader>,
    Path((organization, database, number)): ResourcePath,
    Query(query): Query<WaitQuery>,
) -> Response {
    let kind = ResourceKind::DeployRequest;
    reader
        .answer(kind, &organization, &database, &number, query)
        .await
}

/// `GET /api/workflows/{organization}/{database}/{number}`.
pub(crate) async fn workflow(
    State(reader): State<Reader>,
    Path((organization, database, number)): ResourcePath,
    Query(query): Query<WaitQuery>,
) -> Response {
    let kind = ResourceKind::Workflow;
    reader
        .answer(kind, &organization, &database, &number, query)
        .await
}

fn refused(status: StatusCode, message: String) -> Response {
    (status, format!("{message}\n")).into_response()
}

/// What a wait asks for: the states, and until when.
struct Wait {
    states: Vec<String>,
    deadline: Instant,
}

/// Reads `until` and `timeout`: `None` without `until`; a message naming what is wrong.
fn wait_of(kind: ResourceKind, query: &WaitQuery) -> Result<Option<Wait>, String> {
    let Some(until) = &query.until else {
        if query.timeout.is_some() {
            return Err("timeout needs until: the states to wait for".into());
        }
        return Ok(None);
    };
    let known = kind.states();
    let mut states = Vec::new();
    for state in until.split(',').map(str::trim) {
        if !known.contains(&state) {
            return Err(format!(
                "until names {state:?}, not a state of a {}; one of: {}",
                kind.noun(),
                known.join(", ")
            ));
        }
        states.push(state.to_owned());
    }
    let timeout = match &query.timeout {
        None => DEFAULT_WAIT,
        Some(text) => humantime::parse_duration(text.trim()).map_err(|error| {
            format!("timeout {text:?} is not a duration ({error}); e.g. 30s, 10m")
        })?,
    };
    if timeout > MAX_WAIT {
        return Err(format!(
            "timeout {} is longer than the {} a wait may take; wait again after it",
            humantime::format_duration(timeout),
            humantime::format_duration(MAX_WAIT)
        ));
    }
    Ok(Some(Wait {
        states,
        deadline: Instant::now() + timeout,
    }))
}

impl Reader {
    async fn answer(
        &self,
        kind: ResourceKind,
        organization: &str,
        database: &str,
        number: &str,
        query: WaitQuery,
    ) -> Response {
        let Ok(number) = number.parse::<u64>() else {
            return refused(
                StatusCode::BAD_REQUEST,
                format!("{number:?} is not a {} number", kind.noun()),
            );
        };
        let wait = match wait_of(kind, &query) {
            Ok(wait) => wait,
            Err(message) => return refused(StatusCode::BAD_REQUEST, message),
        };
        let target = Target::new(organization, database);
        let (report, _) =
            crate::admin::work_shown(&self.board, &self.store, &self.leadership).await;
        if !report.scheduler.targets.contains_key(&target.to_string()) {
            return refused(
                StatusCode::NOT_FOUND,
                format!(
                    "{target} is not among the databases pswatch watches (see [[watch]]; a database listed with \"*\" is watched once its organization's listing ends)"
                ),
            );
        }
        // Told of every poll that changes a view from now on, before the first read: no change
        // between that read and the wait goes unheard.
        let mut changes = self.board.watch_views();
        let mut view = match self.first_sight(&target, kind, number).await {
            Ok(Some(view)) => view,
            Ok(None) => {
                return refused(
                    StatusCode::NOT_FOUND,
                    format!(
                        "pswatch's poll of {target} saw no {} #{number} (a deploy request is seen while open, and for a week after)",
                        kind.noun()
                    ),
                )
            }
            Err(response) => return response,
        };
        let Some(wait) = wait else {
            return Json(ResourceAnswer::new(&view, None)).into_response();
        };
        loop {
            let reached = wait.states.iter().any(|state| state == view.waited_state());
            if reached || Instant::now() >= wait.deadline {
                return Json(ResourceAnswer::new(&view, Some(reached))).into_response();
            }
            let recheck = if self.leadership.is_standby() {
                RECHECK
            } else {
                RECHECK_LEADING
            };
            let next = (Instant::now() + recheck).min(wait.deadline);
            tokio::select! {
                _ = changes.changed() => {}
                () = tokio::time::sleep_until(next) => {}
            }
            match self.store.view(&target, kind, number).await {
                Ok(Some(seen)) => view = seen,
                Ok(None) => {}
                Err(error) => {
                    tracing::debug!(%error, "a wait cannot read the store now; it reads again");
                }
            }
        }
    }

    /// The view of the resource; when there is none yet, after the poll it asks for has run
    /// (`None`: that poll did not see it either).
    async fn first_sight(
        &self,
        target: &Target,
        kind: ResourceKind,
        number: u64,
    ) -> Result<Option<ResourceView>, Response> {
        let unreadable = |error: store::StoreError| {
            refused(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the state store cannot be read now: {error}"),
            )
        };
        if let Some(view) = self
            .store
            .view(target, kind, number)
            .await
            .map_err(unreadable)?
        {
            return Ok(Some(view));
        }
        let asked_at = OffsetDateTime::now_utc();
        if self.leadership.is_standby() {
            self.store.poke(target).await.map_err(unreadable)?;
        } else {
            self.board.ask_poll(target);
        }
        let deadline = Instant::now() + FIRST_SIGHT_WAIT;
        let mut changes = self.board.watch_views();
        loop {
            if let Some(view) = self
                .store
                .view(target, kind, number)
                .await
                .map_err(unreadable)?
            {
                return Ok(Some(view));
            }
            let (report, _) =
                crate::admin::work_shown(&self.board, &self.store, &self.leadership).await;
            let polled = report
                .scheduler
                .targets
                .get(&target.to_string())
                .and_then(|status| status.last_success)
                .is_some_and(|polled| polled >= asked_at);
            if polled {
                // Written after the poll's commit: one more look.
                return self
                    .store
                    .view(target, kind, number)
                    .await
                    .map_err(unreadable);
            }
            if Instant::now() >= deadline {
                return Err(refused(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("pswatch has not polled {target} yet; ask again shortly"),
                ));
            }
            tokio::select! {
                _ = changes.changed() => {}
                () = tokio::time::sleep(RECHECK) => {}
            }
        }
    }
}
