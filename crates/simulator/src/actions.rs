//! The changes pswatch can make from Slack, as PlanetScale's specification names them:
//! `PATCH …/workflows/{number}/cutover` ("Cutover traffic"), `PATCH …/workflows/{number}/retry`
//! (`workflow_retry`), and `POST …/deploy-requests/{number}/` `apply-deploy`
//! (`complete_gated_deploy_request`), `force-cutover` (`force_cutover_deploy_request`),
//! `cancel` (`cancel_deploy_request`), `skip-revert` (`skip_revert_period`) and `revert`
//! (`complete_revert`). Each refuses a token without write access (403), an unknown resource
//! (404) and a resource not in a state to take it (422), as PlanetScale does.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::admission::{admit_database, error, lock, not_found, Shared};

fn forbidden() -> Response {
    error(
        StatusCode::FORBIDDEN,
        "forbidden",
        "The service token does not have access to this resource",
    )
}

/// Why a write is refused before its resource is looked at.
enum Refused {
    NotFound,
    Forbidden,
}

impl Refused {
    fn response(self) -> Response {
        match self {
            Self::NotFound => not_found(),
            Self::Forbidden => forbidden(),
        }
    }
}

/// The database a write asks for, unless it is unknown (404) or the token may not write (403).
fn writable<'a>(
    world: &'a mut crate::World,
    organization: &str,
    database: &str,
) -> Result<&'a mut crate::Database, Refused> {
    let database = world
        .database_mut_if_exists(organization, database)
        .ok_or(Refused::NotFound)?;
    if database.actions_read_only {
        return Err(Refused::Forbidden);
    }
    Ok(database)
}

/// The workflow's states from which its traffic can be cut over.
const CUTOVER_FROM: &[&str] = &[
    "running",
    "verified_data",
    "switched_replicas",
    "switched_primaries",
];

/// A write to `organization`'s `database` through admission (counted as `endpoint`): `act`
/// changes the database and answers, unless the database is unknown (404) or the token may not
/// write (403).
async fn write(
    shared: &Shared,
    headers: &HeaderMap,
    endpoint: &'static str,
    organization: &str,
    database: &str,
    act: impl FnOnce(&mut crate::Database) -> Response,
) -> Response {
    if let Err(response) = admit_database(shared, headers, endpoint, organization, database).await {
        return response;
    }
    let mut world = lock(&shared.world);
    match writable(&mut world, organization, database) {
        Ok(database) => act(database),
        Err(refused) => refused.response(),
    }
}

/// A write to workflow `number` counted as `endpoint`: `apply` changes it when its state is one
/// of `from`, else the request is refused (422) with `refusal` and its state.
async fn move_workflow(
    shared: &Shared,
    headers: &HeaderMap,
    endpoint: &'static str,
    (organization, database_name, number): (String, String, u64),
    from: &'static [&'static str],
    refusal: &'static str,
    apply: impl FnOnce(&mut crate::SimWorkflow),
) -> Response {
    let (org, db) = (organization.as_str(), database_name.as_str());
    write(shared, headers, endpoint, org, db, |database| {
        let shape = database.shape;
        let Some(workflow) = database
            .workflows
            .iter_mut()
            .find(|workflow| workflow.number == number)
        else {
            return not_found();
        };
        if !from.contains(&workflow.state.as_str()) {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unprocessable",
                &format!("{refusal} while it is {}", workflow.state),
            );
        }
        apply(workflow);
        Json(workflow.to_json(shape)).into_response()
    })
    .await
}

pub(crate) async fn cutover_workflow(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(path): Path<(String, String, u64)>,
) -> Response {
    move_workflow(
        &shared,
        &headers,
        "workflow_cutover",
        path,
        CUTOVER_FROM,
        "Workflow cannot be cut over",
        |workflow| {
            workflow.state = "cutover".into();
            workflow.cutover_by = Some("pswatch-token".into());
        },
    )
    .await
}

pub(crate) async fn apply_deploy(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((organization, database_name, number)): Path<(String, String, u64)>,
) -> Response {
    let (org, db) = (organization.as_str(), database_name.as_str());
    write(&shared, &headers, "apply_deploy", org, db, |database| {
        let shape = database.shape;
        let Some(request) = database
            .deploy_requests
            .iter_mut()
            .find(|request| request.number == number)
        else {
            return not_found();
        };
        if request.deployment_state != "pending_cutover" {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unprocessable",
                &format!(
                    "Deploy request is not waiting for its cutover (it is {})",
                    request.deployment_state
                ),
            );
        }
        request.deployment_state = "complete_pending_revert".into();
        for operation in &mut request.operations {
            operation.state = "complete".into();
        }
        Json(request.to_json(org, db, shape)).into_response()
    })
    .await
}

pub(crate) async fn retry_workflow(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(path): Path<(String, String, u64)>,
) -> Response {
    move_workflow(
        &shared,
        &headers,
        "workflow_retry",
        path,
        &["error"],
        "Workflow cannot be retried",
        |workflow| {
            workflow.state = "running".into();
            workflow.workflow_errors = None;
        },
    )
    .await
}

/// A `POST …/deploy-requests/{number}/{…}` counted as `endpoint`: the deploy request moves
/// from one of `from` to `to`, or the request is refused (422) with `refusal` and its state.
async fn move_deploy_request(
    shared: &Shared,
    headers: &HeaderMap,
    endpoint: &'static str,
    (organization, database_name, number): (String, String, u64),
    from: &'static [&'static str],
    to: &'static str,
    refusal: &'static str,
) -> Response {
    let (org, db) = (organization.as_str(), database_name.as_str());
    write(shared, headers, endpoint, org, db, |database| {
        let shape = database.shape;
        let Some(request) = database
            .deploy_requests
            .iter_mut()
            .find(|request| request.number == number)
        else {
            return not_found();
        };
        if !from.contains(&request.deployment_state.as_str()) {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unprocessable",
                &format!("{refusal} (it is {})", request.deployment_state),
            );
        }
        request.deployment_state = to.into();
        Json(request.to_json(org, db, shape)).into_response()
    })
    .await
}

pub(crate) async fn force_cutover(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(path): Path<(String, String, u64)>,
) -> Response {
    move_deploy_request(
        &shared,
        &headers,
        "force_cutover_deploy_request",
        path,
        &["in_progress_cutover"],
        "complete_pending_revert",
        "Deploy request is not cutting over",
    )
    .await
}

pub(crate) async fn cancel_deploy_request(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(path): Path<(String, String, u64)>,
) -> Response {
    move_deploy_request(
        &shared,
        &headers,
        "cancel_deploy_request",
        path,
        &["queued", "submitting", "in_progress", "pending_cutover"],
        "complete_cancel",
        "Deploy request has no deployment to cancel",
    )
    .await
}

pub(crate) async fn skip_revert_period(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(path): Path<(String, String, u64)>,
) -> Response {
    move_deploy_request(
        &shared,
        &headers,
        "skip_revert_period",
        path,
        &["complete_pending_revert"],
        "complete",
        "Deploy request has no revert period to skip",
    )
    .await
}

pub(crate) async fn complete_revert(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(path): Path<(String, String, u64)>,
) -> Response {
    move_deploy_request(
        &shared,
        &headers,
        "complete_revert",
        path,
        &["complete_pending_revert"],
        "in_progress_revert",
        "Deploy request cannot be reverted",
    )
    .await
}
