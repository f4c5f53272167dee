//! The API's JSON shapes and their translation to domain types.
//!
//! Real responses differ from the OpenAPI pages: fields marked required are missing, strings
//! are `null`, numbers come as strings, error text comes as arrays, undocumented fields appear.
//! So only what identifies a resource (id, number, state) is required here, and read leniently
//! (a number may be a numeric string); everything else is optional, and a field of an
//! unexpected type reads as absent. A list is read item by item: an item that cannot be read
//! is set aside with what is wrong with it, and the rest of the page is used.
//!
//! Decoding is pure: bytes in, domain values or a [`DecodeError`] out.

use diff_engine::{
    DeployOperation, DeployRequest, DeployState, LintError, OperationPhase, OperationState,
    Workflow, WorkflowState, WorkflowTimes,
};
use serde::Deserialize;
use serde_json::{Map, Value};

mod queue;
pub(crate) use queue::queued_deployment;

/// Why a response body, or an item of it, could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(pub String);

/// One page of a list endpoint.
#[derive(Debug)]
pub(crate) struct Page<T> {
    pub items: Vec<T>,
    /// Items that could not be read.
    pub unreadable: Vec<UnreadableItem>,
    pub next_page: Option<u64>,
    /// The `id` of every item that has one, readable or not: whether a page brought anything
    /// new.
    pub ids: Vec<String>,
}

/// An item of a list that could not be read, with what could be told of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnreadableItem {
    /// Its place in the whole list, from 1.
    pub position: usize,
    /// Its `id`, if that much was readable.
    pub id: Option<String>,
    /// Its `number`, if that much was readable.
    pub number: Option<u64>,
    pub problem: String,
}

/// Reads a body as JSON; an empty body or one that is not JSON is an error that shows how the
/// body begins.
fn json(body: &[u8]) -> Result<Value, DecodeError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(DecodeError("the response body is empty".into()));
    }
    serde_json::from_slice(body).map_err(|error| {
        DecodeError(format!(
            "the body is not the JSON expected ({error}); it begins {:?}",
            snippet(body)
        ))
    })
}

/// The start of a body, on one line, for an error message.
pub(crate) fn snippet(body: &[u8]) -> String {
    const LIMIT: usize = 120;
    let text = String::from_utf8_lossy(body);
    let mut line: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|character| !character.is_control())
        .take(LIMIT + 1)
        .collect();
    if line.chars().count() > LIMIT {
        line = line.chars().take(LIMIT).collect::<String>() + "…";
    }
    line
}

/// Decodes one page of a list endpoint: the envelope must be readable, its items are read one
/// by one. `first_position` is the place of the page's first item in the whole list.
pub(crate) fn decode_page<T>(
    body: &[u8],
    first_position: usize,
    convert: impl Fn(&Value) -> Result<T, DecodeError>,
) -> Result<Page<T>, DecodeError> {
    let envelope = json(body)?;
    let Some(envelope) = envelope.as_object() else {
        return Err(DecodeError(format!(
            "expected a list object with `data`, got {}",
            kind(&envelope)
        )));
    };
    let data = match envelope.get("data") {
        Some(Value::Array(data)) => data,
        Some(other) => {
            return Err(DecodeError(format!(
                "`data` is {}, not a list",
                kind(other)
            )))
        }
        None => return Err(DecodeError("the list has no `data`".into())),
    };
    let next_page = match envelope.get("next_page") {
        None | Some(Value::Null) => None,
        Some(value) => Some(lenient_number(value).ok_or_else(|| {
            DecodeError(format!("`next_page` is {}, not a page number", kind(value)))
        })?),
    };
    let mut items = Vec::with_capacity(data.len());
    let mut unreadable = Vec::new();
    let ids = data
        .iter()
        .filter_map(|item| item.get("id").and_then(lenient_id))
        .collect();
    for (index, item) in data.iter().enumerate() {
        match convert(item) {
            Ok(value) => items.push(value),
            Err(error) => unreadable.push(UnreadableItem {
                position: first_position + index,
                id: item.get("id").and_then(lenient_id),
                number: item.get("number").and_then(lenient_number),
                problem: error.0,
            }),
        }
    }
    Ok(Page {
        items,
        unreadable,
        next_page,
        ids,
    })
}

/// Decodes a single resource.
pub(crate) fn decode_one<T>(
    body: &[u8],
    convert: impl Fn(&Value) -> Result<T, DecodeError>,
) -> Result<T, DecodeError> {
    convert(&json(body)?)
}

/// What a JSON value is, for messages: `a number (7)`, `text ("x")`, `a list`, ….
fn kind(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(value) => format!("a boolean ({value})"),
        Value::Number(value) => format!("a number ({value})"),
        Value::String(value) => format!("text ({:?})", snippet(value.as_bytes())),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// A whole number, or text that holds one.
fn lenient_number(value: &Value) -> Option<u64> {
    match value {
        Value::Number(number) => number.as_u64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// Non-blank text, or a whole number as text.
fn lenient_id(value: &Value) -> Option<String> {
    match value {
        Value::String(text) if !text.trim().is_empty() => Some(text.clone()),
        Value::Number(number) if number.is_u64() || number.is_i64() => Some(number.to_string()),
        _ => None,
    }
}

/// Error text, however it comes: text, a list of texts or objects (one line each), an object
/// (its `message`, `error` or `description`, else its JSON). Blank means no error.
fn lenient_errors(value: &Value) -> Option<String> {
    fn line(value: &Value) -> Option<String> {
        match value {
            Value::Null => None,
            Value::String(text) => Some(text.trim().to_owned()),
            Value::Array(values) => {
                let lines: Vec<String> = values.iter().filter_map(line).collect();
                Some(lines.join("\n"))
            }
            Value::Object(object) => Some(
                ["message", "error", "description", "error_description"]
                    .iter()
                    .find_map(|key| object.get(*key).and_then(Value::as_str))
                    .map_or_else(|| value.to_string(), str::to_owned),
            ),
            other => Some(other.to_string()),
        }
        .filter(|text| !text.trim().is_empty())
    }
    line(value)
}

/// One JSON object of a response, read field by field.
#[derive(Clone, Copy)]
struct Fields<'a>(&'a Map<String, Value>);

impl<'a> Fields<'a> {
    fn of(value: &'a Value) -> Result<Self, DecodeError> {
        value
            .as_object()
            .map(Fields)
            .ok_or_else(|| DecodeError(format!("expected an object, got {}", kind(value))))
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.0.get(key).filter(|value| !value.is_null())
    }

    fn required<T>(
        &self,
        key: &str,
        what: &str,
        read: impl Fn(&Value) -> Option<T>,
    ) -> Result<T, DecodeError> {
        let value = self
            .get(key)
            .ok_or_else(|| DecodeError(format!("`{key}` is missing")))?;
        read(value).ok_or_else(|| DecodeError(format!("`{key}` is {}, not {what}", kind(value))))
    }

    fn id(&self) -> Result<String, DecodeError> {
        self.required("id", "an id", lenient_id)
    }

    fn number(&self) -> Result<u64, DecodeError> {
        self.required("number", "a number", lenient_number)
    }

    fn state(&self, key: &str) -> Result<String, DecodeError> {
        self.required(key, "a state", |value| value.as_str().map(str::to_owned))
    }

    /// A state that may be missing (or blank), but is text when it is there.
    fn optional_state(&self, key: &str) -> Result<Option<String>, DecodeError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(text)) => {
                Ok(Some(text.clone()).filter(|text| !text.trim().is_empty()))
            }
            Some(other) => Err(DecodeError(format!(
                "`{key}` is {}, not a state",
                kind(other)
            ))),
        }
    }

    fn text(&self, key: &str) -> Option<String> {
        self.get(key).and_then(Value::as_str).map(str::to_owned)
    }

    fn errors(&self, key: &str) -> Option<String> {
        self.get(key).and_then(lenient_errors)
    }

    fn float(&self, key: &str) -> Option<f64> {
        match self.get(key)? {
            Value::Number(number) => number.as_f64(),
            Value::String(text) => text.trim().parse().ok(),
            _ => None,
        }
    }

    /// A count of seconds ahead (an ETA): whole, not negative, at most [`MAX_ETA_SECONDS`];
    /// anything else is treated as unknown.
    fn seconds(&self, key: &str) -> Option<u64> {
        let seconds = self.float(key)?;
        (seconds.is_finite() && (0.0..=MAX_ETA_SECONDS as f64).contains(&seconds))
            .then(|| seconds.round() as u64)
    }

    fn boolean(&self, key: &str) -> Option<bool> {
        self.get(key).and_then(Value::as_bool)
    }

    fn object(&self, key: &str) -> Option<Fields<'a>> {
        self.get(key).and_then(Value::as_object).map(Fields)
    }

    /// A list's objects; items that are not objects are left out.
    fn objects(&self, key: &str) -> Option<Vec<Fields<'a>>> {
        self.get(key).and_then(Value::as_array).map(|values| {
            values
                .iter()
                .filter_map(|value| Fields::of(value).ok())
                .collect()
        })
    }

    /// The `name` of a nested object such as a keyspace, or plain text.
    fn name_of(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            Value::String(text) => Some(text.clone()),
            Value::Object(object) => object.get("name")?.as_str().map(str::to_owned),
            _ => None,
        }
    }

    /// The `display_name` of an actor.
    fn display_name(&self, key: &str) -> Option<String> {
        self.object(key)?.text("display_name")
    }

    /// The `id` of an actor.
    fn actor_id(&self, key: &str) -> Option<String> {
        self.object(key)?.text("id")
    }
}

/// The longest ETA believed of the API: thirty days. A longer one is read as unknown.
const MAX_ETA_SECONDS: u64 = 30 * 24 * 3600;

pub(crate) fn workflow(value: &Value) -> Result<Workflow, DecodeError> {
    let fields = Fields::of(value)?;
    let number = fields.number()?;
    Ok(Workflow {
        id: fields.id()?,
        number,
        name: fields
            .text("name")
            .unwrap_or_else(|| format!("workflow-{number}")),
        state: WorkflowState::parse(&fields.state("state")?),
        workflow_errors: fields.errors("workflow_errors"),
        source_keyspace: fields.name_of("source_keyspace"),
        target_keyspace: fields.name_of("target_keyspace"),
        branch: fields.name_of("branch"),
        actor: fields.display_name("actor"),
        actor_id: fields.actor_id("actor"),
        cutover_by: fields.display_name("cutover_by"),
        updated_at: fields.text("updated_at"),
        times: WorkflowTimes {
            started_at: fields.text("started_at"),
            data_copy_completed_at: fields.text("data_copy_completed_at"),
            switch_replicas_at: fields.text("switch_replicas_at"),
            switch_primaries_at: fields.text("switch_primaries_at"),
            cutover_at: fields.text("cutover_at"),
            completed_at: fields.text("completed_at"),
        },
    })
}

/// A deploy request as one response gives it: the request, and its operations and revert
/// operations when the response carries them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiDeployRequest {
    pub request: DeployRequest,
    /// `deployment.deploy_operations`, `None` when the response lacks it.
    pub operations: Option<Vec<DeployOperation>>,
    /// `deployment.deployment_revert_request.deploy_revert_operations`: empty when the revert
    /// request is null, `None` when the response lacks the field.
    pub revert_operations: Option<Vec<DeployOperation>>,
    /// Operations that could not be read: (which list, position from 1, what is wrong).
    pub unreadable_operations: Vec<(&'static str, usize, String)>,
}

pub(crate) fn deploy_request(value: &Value) -> Result<ApiDeployRequest, DecodeError> {
    let fields = Fields::of(value)?;
    let number = fields.number()?;
    let deployment = fields.object("deployment");
    // `deployment_state` is the one to report (they can differ: `pending_cutover` beside an
    // `in_progress` deployment), then `deployment.state`; neither is a state not known.
    let deployment_state = match fields.optional_state("deployment_state")? {
        Some(state) => Some(state),
        None => deployment
            .map(|deployment| deployment.optional_state("state"))
            .transpose()?
            .flatten(),
    }
    .map_or_else(DeployState::unknown, |state| DeployState::parse(&state));
    let mut unreadable_operations = Vec::new();
    let mut operations_of =
        |list: &'static str,
         values: Option<&Value>,
         read: fn(&Value) -> Result<DeployOperation, DecodeError>| {
            let values = values?.as_array()?;
            let mut operations = Vec::with_capacity(values.len());
            for (index, value) in values.iter().enumerate() {
                match read(value) {
                    Ok(operation) => operations.push(operation),
                    Err(DecodeError(problem)) => {
                        unreadable_operations.push((list, index + 1, problem))
                    }
                }
            }
            Some(operations)
        };
    let operations = operations_of(
        "deployment.deploy_operations",
        deployment.and_then(|deployment| deployment.get("deploy_operations")),
        deploy_operation,
    );
    let revert_operations =
        match deployment.map(|deployment| deployment.0.get("deployment_revert_request")) {
            Some(Some(Value::Null)) => Some(Vec::new()),
            Some(Some(revert)) => operations_of(
                "deployment.deployment_revert_request.deploy_revert_operations",
                revert.get("deploy_revert_operations"),
                revert_operation,
            ),
            Some(None) | None => None,
        };
    let lint_errors = deployment
        .and_then(|deployment| deployment.objects("lint_errors"))
        .unwrap_or_default()
        .into_iter()
        .map(|lint| LintError {
            lint_error: lint.text("lint_error").filter(|code| !code.is_empty()),
            keyspace_name: lint.text("keyspace_name").filter(|name| !name.is_empty()),
            table_name: lint.text("table_name").filter(|name| !name.is_empty()),
            error_description: lint.errors("error_description"),
        })
        .filter(|lint| lint.lint_error.is_some() || lint.error_description.is_some())
        .collect();
    let request = DeployRequest {
        id: fields.id()?,
        number,
        state: fields.text("state").unwrap_or_else(|| "open".into()),
        deployment_state,
        branch: fields.name_of("branch"),
        into_branch: fields.name_of("into_branch"),
        html_url: fields.text("html_url"),
        actor: fields.display_name("actor"),
        actor_id: fields.actor_id("actor"),
        closed_by: fields.display_name("closed_by"),
        auto_cutover: deployment.and_then(|deployment| deployment.boolean("auto_cutover")),
        lint_errors,
        deploy_check_errors: deployment
            .and_then(|deployment| deployment.errors("deploy_check_errors")),
        ready_to_cutover_at: deployment
            .and_then(|deployment| deployment.text("ready_to_cutover_at"))
            .filter(|at| !at.is_empty()),
        cutover_expiring: deployment.and_then(|deployment| deployment.boolean("cutover_expiring")),
        queue_paused: deployment.and_then(|deployment| deployment.boolean("queue_paused")),
        queue_pause_reason: deployment
            .and_then(|deployment| deployment.errors("queue_pause_reason")),
        revert_window_ends_at: deployment
            .and_then(|deployment| deployment.object("deployment_revert_request"))
            .and_then(|revert| revert.text("waiting_period_end_at"))
            .filter(|at| !at.is_empty()),
        queue_position: None,
        table_locked: deployment.and_then(|deployment| deployment.boolean("table_locked")),
        locked_table_name: deployment
            .and_then(|deployment| deployment.text("locked_table_name"))
            .filter(|name| !name.is_empty()),
    };
    Ok(ApiDeployRequest {
        request,
        operations,
        revert_operations,
        unreadable_operations,
    })
}

pub(crate) fn deploy_operation(value: &Value) -> Result<DeployOperation, DecodeError> {
    operation(value, OperationPhase::Deploy)
}

/// One of `deploy_revert_operations`: no keyspace, and `revert_errors` for its errors.
fn revert_operation(value: &Value) -> Result<DeployOperation, DecodeError> {
    operation(value, OperationPhase::Revert)
}

fn operation(value: &Value, phase: OperationPhase) -> Result<DeployOperation, DecodeError> {
    let fields = Fields::of(value)?;
    let errors_key = match phase {
        OperationPhase::Deploy => "deploy_errors",
        OperationPhase::Revert => "revert_errors",
    };
    let errors = fields.errors(errors_key);
    let (deploy_errors, revert_errors) = match phase {
        OperationPhase::Deploy => (errors, None),
        OperationPhase::Revert => (None, errors),
    };
    Ok(DeployOperation {
        id: fields.id()?,
        state: OperationState::parse(&fields.state("state")?),
        keyspace_name: fields.text("keyspace_name"),
        table_name: fields.text("table_name"),
        operation_name: fields.text("operation_name"),
        ddl_statement: fields.text("ddl_statement"),
        deploy_errors,
        deploy_error_docs_url: fields.text("deploy_error_docs_url"),
        progress_percentage: fields.float("progress_percentage"),
        eta_seconds: fields.seconds("eta_seconds"),
        revert_errors,
    })
}

/// A database of an organization, as far as discovery cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Database {
    /// Its name.
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

pub(crate) fn database(value: &Value) -> Result<Database, DecodeError> {
    let fields = Fields::of(value)?;
    Ok(Database {
        name: fields.required("name", "a name", |value| {
            value
                .as_str()
                .filter(|name| !name.is_empty())
                .map(str::to_owned)
        })?,
        kind: fields.text("kind").unwrap_or_else(|| "mysql".into()),
    })
}

/// One of a database's webhooks (`GET …/databases/{db}/webhooks`). `Debug` hides the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Webhook {
    /// Its id.
    pub id: String,
    /// Where PlanetScale posts.
    pub url: String,
    /// The key of its deliveries' signatures; never for messages.
    pub secret: Option<String>,
    /// Whether it is enabled.
    pub enabled: bool,
    /// Whether its last delivery succeeded; `None` before its first.
    pub last_sent_success: Option<bool>,
    /// When it last sent, as the API wrote it.
    pub last_sent_at: Option<String>,
    /// The events it is subscribed to, e.g. `deploy_request.queued`.
    pub events: Vec<String>,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Webhook")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("enabled", &self.enabled)
            .field("last_sent_success", &self.last_sent_success)
            .field("last_sent_at", &self.last_sent_at)
            .field("events", &self.events)
            .finish()
    }
}

pub(crate) fn webhook(value: &Value) -> Result<Webhook, DecodeError> {
    let fields = Fields::of(value)?;
    Ok(Webhook {
        id: fields.id()?,
        url: fields.required("url", "a URL", |value| value.as_str().map(str::to_owned))?,
        secret: fields.text("secret").filter(|secret| !secret.is_empty()),
        enabled: fields.boolean("enabled").unwrap_or(false),
        last_sent_success: fields.boolean("last_sent_success"),
        last_sent_at: fields.text("last_sent_at"),
        events: fields
            .get("events")
            .and_then(Value::as_array)
            .map(|events| {
                events
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
    })
}

/// A branch of a database (`GET …/databases/{db}/branches`), as far as watching its backups and
/// resizes cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branch {
    /// Its name, e.g. `main`.
    pub name: String,
    /// Whether it is a production branch (backups and resizes are watched on those).
    pub production: bool,
    /// `mysql` or `postgresql`, when the API says.
    pub kind: Option<String>,
    /// Its state, e.g. `ready`, when the API says.
    pub state: Option<String>,
}

pub(crate) fn branch(value: &Value) -> Result<Branch, DecodeError> {
    let fields = Fields::of(value)?;
    Ok(Branch {
        name: fields.required("name", "a name", |value| {
            value
                .as_str()
                .filter(|name| !name.is_empty())
                .map(str::to_owned)
        })?,
        production: fields.boolean("production").unwrap_or(false),
        kind: fields.text("kind"),
        state: fields.text("state"),
    })
}

/// A branch's change (`GET …/branches/{branch}/changes`) or a keyspace's resize
/// (`GET …/keyspaces/{keyspace}/resizes`); its branch and keyspace are the caller's to fill in.
pub(crate) fn resize(value: &Value) -> Result<diff_engine::Resize, DecodeError> {
    let fields = Fields::of(value)?;
    let number = |key: &str| fields.get(key).and_then(lenient_number);
    Ok(diff_engine::Resize {
        id: fields.id()?,
        branch: String::new(),
        keyspace: None,
        state: fields.state("state")?,
        previous_cluster_name: fields.text("previous_cluster_name"),
        cluster_name: fields.text("cluster_name"),
        previous_replicas: number("previous_replicas"),
        replicas: number("replicas"),
        previous_maximum_storage_bytes: number("previous_maximum_storage_bytes"),
        maximum_storage_bytes: number("maximum_storage_bytes"),
        started_at: fields.text("started_at"),
        completed_at: fields.text("completed_at"),
    })
}

/// A schema recommendation (`GET …/databases/{db}/schema-recommendations`).
pub(crate) fn recommendation(
    value: &Value,
) -> Result<diff_engine::SchemaRecommendation, DecodeError> {
    let fields = Fields::of(value)?;
    let number = fields.number()?;
    Ok(diff_engine::SchemaRecommendation {
        id: fields.id()?,
        number,
        title: fields
            .text("title")
            .unwrap_or_else(|| format!("recommendation {number}")),
        table_name: fields.text("table_name"),
        keyspace: fields.name_of("keyspace"),
        ddl_statement: fields.text("ddl_statement"),
        recommendation_type: fields.text("recommendation_type"),
        state: fields.state("state")?,
        html_url: fields.text("html_url"),
    })
}

/// A maintenance schedule (`GET …/databases/{db}/maintenance-schedules`).
pub(crate) fn maintenance(value: &Value) -> Result<diff_engine::MaintenanceSchedule, DecodeError> {
    let fields = Fields::of(value)?;
    let id = fields.id()?;
    Ok(diff_engine::MaintenanceSchedule {
        name: fields.text("name").unwrap_or_else(|| id.clone()),
        id,
        next_window_datetime: fields.text("next_window_datetime"),
        last_window_datetime: fields.text("last_window_datetime"),
        duration_hours: fields.get("duration").and_then(lenient_number),
        required: fields.boolean("required").unwrap_or(false),
        deadline_at: fields.text("deadline_at"),
        pending_vitess_version: fields.text("pending_vitess_version"),
        pending_mysql_version: fields.text("pending_mysql_version"),
    })
}

/// A keyspace's name (`GET …/branches/{branch}/keyspaces`).
pub(crate) fn keyspace(value: &Value) -> Result<String, DecodeError> {
    Fields::of(value)?.required("name", "a name", |value| {
        value
            .as_str()
            .filter(|name| !name.is_empty())
            .map(str::to_owned)
    })
}

/// A backup of a branch (`GET …/branches/{branch}/backups`); its branch is the caller's to
/// fill in (the list is the branch's).
pub(crate) fn backup(value: &Value) -> Result<diff_engine::Backup, DecodeError> {
    let fields = Fields::of(value)?;
    let id = fields.id()?;
    Ok(diff_engine::Backup {
        name: fields.text("name").unwrap_or_else(|| id.clone()),
        id,
        branch: String::new(),
        state: fields.state("state")?,
        size: fields.get("size").and_then(lenient_number),
        started_at: fields.text("started_at"),
        completed_at: fields.text("completed_at"),
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

    /// What to tell a person of an error answer: the API's message, else the start of a body
    /// that is not the API's JSON (a proxy's HTML page, say), else nothing.
    pub(crate) fn detail(body: &[u8]) -> Option<String> {
        let parsed = Self::parse(body);
        parsed
            .message
            .or(parsed.code)
            .filter(|message| !message.trim().is_empty())
            .or_else(|| {
                let start = snippet(body);
                let is_json = serde_json::from_slice::<Value>(body).is_ok();
                (!is_json && !start.is_empty()).then_some(start)
            })
    }
}

#[cfg(test)]
mod tests;
