//! The API's JSON shapes and their translation to domain types.
//!
//! Real responses differ from the OpenAPI pages: fields marked required are missing, strings
//! are `null`, undocumented fields appear. So only what identifies a resource (id, number,
//! state) is required here; everything else is optional and unknown fields are ignored.
//! Decoding is pure: bytes in, domain values or a [`DecodeError`] out.

use diff_engine::{
    DeployOperation, DeployRequest, DeployState, OperationState, Workflow, WorkflowState,
};
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// Why a response body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(pub String);

/// One page of a list endpoint.
#[derive(Debug)]
pub(crate) struct Page<T> {
    pub items: Vec<T>,
    pub next_page: Option<u64>,
}

#[derive(Deserialize)]
struct PageDto<T> {
    data: Vec<T>,
    #[serde(default)]
    next_page: Option<u64>,
}

/// Decodes one page of a list endpoint into domain values.
pub(crate) fn decode_page<T, D>(
    body: &[u8],
    convert: impl Fn(D) -> Result<T, DecodeError>,
) -> Result<Page<T>, DecodeError>
where
    D: DeserializeOwned,
{
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(DecodeError("the response body is empty".into()));
    }
    let page: PageDto<D> =
        serde_json::from_slice(body).map_err(|error| DecodeError(error.to_string()))?;
    let items = page
        .data
        .into_iter()
        .map(convert)
        .collect::<Result<_, _>>()?;
    Ok(Page {
        items,
        next_page: page.next_page,
    })
}

/// Decodes a single resource.
pub(crate) fn decode_one<T, D>(
    body: &[u8],
    convert: impl Fn(D) -> Result<T, DecodeError>,
) -> Result<T, DecodeError>
where
    D: DeserializeOwned,
{
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(DecodeError("the response body is empty".into()));
    }
    let dto: D = serde_json::from_slice(body).map_err(|error| DecodeError(error.to_string()))?;
    convert(dto)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Named {
    name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Actor {
    display_name: Option<String>,
}

fn name(named: Option<Named>) -> Option<String> {
    named.and_then(|named| named.name)
}

fn display_name(actor: Option<Actor>) -> Option<String> {
    actor.and_then(|actor| actor.display_name)
}

/// Error text: blank text means no error.
fn error_text(text: Option<String>) -> Option<String> {
    text.filter(|text| !text.trim().is_empty())
}

#[derive(Debug, Deserialize)]
pub(crate) struct WorkflowDto {
    id: String,
    number: u64,
    state: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    workflow_errors: Option<String>,
    #[serde(default)]
    source_keyspace: Option<Named>,
    #[serde(default)]
    target_keyspace: Option<Named>,
    #[serde(default)]
    branch: Option<Named>,
    #[serde(default)]
    actor: Option<Actor>,
    #[serde(default)]
    cutover_by: Option<Actor>,
    #[serde(default)]
    updated_at: Option<String>,
}

pub(crate) fn workflow(dto: WorkflowDto) -> Result<Workflow, DecodeError> {
    Ok(Workflow {
        name: dto
            .name
            .unwrap_or_else(|| format!("workflow-{}", dto.number)),
        id: dto.id,
        number: dto.number,
        state: WorkflowState::parse(&dto.state),
        workflow_errors: error_text(dto.workflow_errors),
        source_keyspace: name(dto.source_keyspace),
        target_keyspace: name(dto.target_keyspace),
        branch: name(dto.branch),
        actor: display_name(dto.actor),
        cutover_by: display_name(dto.cutover_by),
        updated_at: dto.updated_at,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Deployment {
    state: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct DeployRequestDto {
    id: String,
    number: u64,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    deployment_state: Option<String>,
    #[serde(default)]
    deployment: Option<Deployment>,
    #[serde(default)]
    branch: Option<String>,
    #[serde(default)]
    into_branch: Option<String>,
    #[serde(default)]
    html_url: Option<String>,
    #[serde(default)]
    actor: Option<Actor>,
    #[serde(default)]
    closed_by: Option<Actor>,
}

pub(crate) fn deploy_request(dto: DeployRequestDto) -> Result<DeployRequest, DecodeError> {
    let deployment_state = dto
        .deployment_state
        .or_else(|| dto.deployment.and_then(|deployment| deployment.state))
        .ok_or_else(|| {
            DecodeError(format!(
                "deploy request #{} has neither deployment_state nor deployment.state",
                dto.number
            ))
        })?;
    Ok(DeployRequest {
        id: dto.id,
        number: dto.number,
        state: dto.state.unwrap_or_else(|| "open".into()),
        deployment_state: DeployState::parse(&deployment_state),
        branch: dto.branch,
        into_branch: dto.into_branch,
        html_url: dto.html_url,
        actor: display_name(dto.actor),
        closed_by: display_name(dto.closed_by),
    })
}

#[derive(Debug, Deserialize)]
pub(crate) struct DeployOperationDto {
    id: String,
    state: String,
    #[serde(default)]
    keyspace_name: Option<String>,
    #[serde(default)]
    table_name: Option<String>,
    #[serde(default)]
    operation_name: Option<String>,
    #[serde(default)]
    ddl_statement: Option<String>,
    #[serde(default)]
    deploy_errors: Option<String>,
    #[serde(default)]
    deploy_error_docs_url: Option<String>,
    #[serde(default)]
    progress_percentage: Option<f64>,
}

pub(crate) fn deploy_operation(dto: DeployOperationDto) -> Result<DeployOperation, DecodeError> {
    Ok(DeployOperation {
        id: dto.id,
        state: OperationState::parse(&dto.state),
        keyspace_name: dto.keyspace_name,
        table_name: dto.table_name,
        operation_name: dto.operation_name,
        ddl_statement: dto.ddl_statement,
        deploy_errors: error_text(dto.deploy_errors),
        deploy_error_docs_url: dto.deploy_error_docs_url,
        progress_percentage: dto.progress_percentage,
    })
}

/// A database of an organization, as far as discovery cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Database {
    pub name: String,
    /// `mysql` or `postgresql`; older responses omit it, and those databases are MySQL.
    pub kind: String,
}

impl Database {
    /// Workflows and deploy requests exist for Vitess (MySQL) databases only.
    pub fn is_mysql(&self) -> bool {
        self.kind == "mysql"
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct DatabaseDto {
    name: String,
    #[serde(default)]
    kind: Option<String>,
}

pub(crate) fn database(dto: DatabaseDto) -> Result<Database, DecodeError> {
    Ok(Database {
        name: dto.name,
        kind: dto.kind.unwrap_or_else(|| "mysql".into()),
    })
}

/// The API's error body, `{"code": ..., "message": ...}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ApiErrorBody {
    pub code: Option<String>,
    pub message: Option<String>,
}

impl ApiErrorBody {
    /// Reads an error body; anything else yields an empty one.
    pub(crate) fn parse(body: &[u8]) -> Self {
        serde_json::from_slice(body).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflows_tolerate_missing_null_extra_and_unknown() {
        let body = br#"{"type":"list","current_page":1,"next_page":null,"data":[
            {"id":"w1","number":3,"state":"switched_primaries","name":"move-customers",
             "workflow_errors":"","source_keyspace":{"name":"commerce"},"target_keyspace":null,
             "actor":{"id":"u","display_name":"Ada"},"brand_new_field":{"x":1}},
            {"id":"w2","number":4,"state":"hyperspace"}]}"#;
        let page = decode_page(body, workflow).expect("decodes");
        assert_eq!(page.next_page, None);
        assert_eq!(page.items[0].state, WorkflowState::SwitchedPrimaries);
        assert_eq!(page.items[0].workflow_errors, None);
        assert_eq!(page.items[0].source_keyspace.as_deref(), Some("commerce"));
        assert_eq!(page.items[0].target_keyspace, None);
        assert_eq!(page.items[0].actor.as_deref(), Some("Ada"));
        assert_eq!(
            page.items[1].state,
            WorkflowState::Other("hyperspace".into())
        );
        assert_eq!(page.items[1].name, "workflow-4");
    }

    #[test]
    fn deploy_requests_take_the_state_from_deployment_when_needed() {
        let body = br#"{"data":[{"id":"d","number":7,"state":"open","deployment":{"state":"in_progress"}}],"next_page":2}"#;
        let page = decode_page(body, deploy_request).expect("decodes");
        assert_eq!(page.items[0].deployment_state, DeployState::InProgress);
        assert_eq!(page.next_page, Some(2));
        let missing = br#"{"data":[{"id":"d","number":7,"state":"open"}]}"#;
        let error = decode_page(missing, deploy_request).expect_err("no state");
        assert!(error.0.contains("#7"), "{error}");
    }

    #[test]
    fn malformed_bodies_are_errors_not_panics() {
        for body in [
            &b""[..],
            b"   ",
            b"{\"data\": [",
            b"{\"data\": [{\"id\": 1, \"number\": 1, \"state\": \"running\"}]}",
            b"{\"data\": [{\"id\": \"a\", \"number\": \"one\", \"state\": \"running\"}]}",
            b"{\"data\": null}",
            b"[]",
            b"<html>502 Bad Gateway</html>",
        ] {
            assert!(
                decode_page(body, workflow).is_err(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
