//! Domain types: what pswatch watches, what it observed and what it remembers.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use time::OffsetDateTime;

use crate::states::{DeployState, Motion, OperationState, WorkflowState};

/// One watched database: the unit that is polled, diffed and stored.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Target {
    /// The organization's name.
    pub organization: String,
    /// The database's name.
    pub database: String,
}

impl Target {
    /// The database `database` of `organization`.
    pub fn new(organization: impl Into<String>, database: impl Into<String>) -> Self {
        Self {
            organization: organization.into(),
            database: database.into(),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}/{}", self.organization, self.database)
    }
}

/// A MoveTables workflow as the API last showed it. Only `id`, `number` and `state` are
/// required of the API; everything else may be missing.
#[derive(Debug, Clone, PartialEq)]
pub struct Workflow {
    /// PlanetScale's id of the workflow.
    pub id: String,
    /// Its number within the database.
    pub number: u64,
    /// Its name (`workflow-N` when the API gave none).
    pub name: String,
    /// Its state.
    pub state: WorkflowState,
    /// The workflow's error text; empty text from the API is stored as `None`.
    pub workflow_errors: Option<String>,
    /// The keyspace its tables move from.
    pub source_keyspace: Option<String>,
    /// The keyspace its tables move to.
    pub target_keyspace: Option<String>,
    /// The branch it runs on.
    pub branch: Option<String>,
    /// Display name of who started the workflow.
    pub actor: Option<String>,
    /// PlanetScale's id of the same person (`actor.id`), when the API gave it.
    pub actor_id: Option<String>,
    /// Display name of who cut it over.
    pub cutover_by: Option<String>,
    /// When the API last changed it, as the API wrote it.
    pub updated_at: Option<String>,
    /// When it reached each of its phases, as the API wrote the times.
    pub times: WorkflowTimes,
}

/// When a workflow reached each phase of its journey, as the API wrote the times (its `*_at`
/// fields); `None` for a phase not reached, or a time the API did not give.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkflowTimes {
    /// `started_at`: it started copying.
    pub started_at: Option<String>,
    /// `data_copy_completed_at`: the copy was done and it began replicating (`running`).
    pub data_copy_completed_at: Option<String>,
    /// `switch_replicas_at`: replica traffic was switched.
    pub switch_replicas_at: Option<String>,
    /// `switch_primaries_at`: primary traffic was switched.
    pub switch_primaries_at: Option<String>,
    /// `cutover_at`: it was cut over.
    pub cutover_at: Option<String>,
    /// `completed_at`: it was completed.
    pub completed_at: Option<String>,
}

impl WorkflowTimes {
    /// Whether no time is known.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// When the workflow reached phase `index` of [`crate::WORKFLOW_PHASES`], if known.
    pub fn at(&self, index: usize) -> Option<&str> {
        match index {
            0 => self.started_at.as_deref(),
            1 => self.data_copy_completed_at.as_deref(),
            2 => self.switch_replicas_at.as_deref(),
            3 => self.switch_primaries_at.as_deref(),
            4 => self.cutover_at.as_deref(),
            5 => self.completed_at.as_deref(),
            _ => None,
        }
    }

    /// Whether the workflow, now in `state`, got as far as phase `index`: on the path, every
    /// phase up to its own; off it, those with a time.
    pub fn reached(&self, state: &crate::WorkflowState, index: usize) -> bool {
        state
            .phase()
            .map_or_else(|| self.at(index).is_some(), |current| index <= current)
    }
}

/// A deploy request as the API last showed it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeployRequest {
    /// PlanetScale's id of the deploy request.
    pub id: String,
    /// Its number within the database.
    pub number: u64,
    /// `open` or `closed`.
    pub state: String,
    /// `deployment_state`, else `deployment.state`; [`DeployState::unknown`] when the API
    /// gave neither.
    pub deployment_state: DeployState,
    /// The branch whose schema it deploys.
    pub branch: Option<String>,
    /// The branch it deploys into.
    pub into_branch: Option<String>,
    /// Its page on PlanetScale's dashboard.
    pub html_url: Option<String>,
    /// Display name of who opened it.
    pub actor: Option<String>,
    /// PlanetScale's id of the same person (`actor.id`), when the API gave it.
    pub actor_id: Option<String>,
    /// Display name of who closed it, when it is closed.
    pub closed_by: Option<String>,
    /// `deployment.auto_cutover`: whether PlanetScale cuts over on its own once the deploy is
    /// ready; `None` when the API did not say.
    pub auto_cutover: Option<bool>,
    /// `deployment.lint_errors`: why validation failed.
    pub lint_errors: Vec<LintError>,
    /// `deployment.deploy_check_errors`; blank text is stored as `None`.
    pub deploy_check_errors: Option<String>,
    /// `deployment.ready_to_cutover_at`, as the API wrote it: when it became ready to cut over.
    pub ready_to_cutover_at: Option<String>,
    /// `deployment.cutover_expiring`: PlanetScale will expire the cutover soon; `None` when
    /// the API did not say.
    pub cutover_expiring: Option<bool>,
    /// `deployment.queue_paused`: the deploy queue of the target branch is paused; `None`
    /// when the API did not say.
    pub queue_paused: Option<bool>,
    /// `deployment.queue_pause_reason`: why the queue is paused, when PlanetScale knows.
    pub queue_pause_reason: Option<String>,
    /// `deployment.deployment_revert_request.waiting_period_end_at`: when the window to revert
    /// a deployed change closes, as the API wrote it.
    pub revert_window_ends_at: Option<String>,
    /// Its place in the database's deploy queue while it is `queued` (1 for the first), when
    /// the queue could be read.
    pub queue_position: Option<u64>,
    /// `deployment.table_locked`: whether a table the deployment changes is locked, when the
    /// API said.
    pub table_locked: Option<bool>,
    /// `deployment.locked_table_name`.
    pub locked_table_name: Option<String>,
}

impl DeployRequest {
    /// Whether it is open (`state` is `open`).
    pub fn is_open(&self) -> bool {
        self.state == "open"
    }

    /// Why validation failed, one line per lint error and then the deploy check errors, or
    /// `None` when the API names no reason.
    pub fn validation_errors(&self) -> Option<String> {
        let mut lines: Vec<String> = self
            .lint_errors
            .iter()
            .filter_map(LintError::describe)
            .collect();
        lines.extend(self.deploy_check_errors.clone());
        (!lines.is_empty()).then(|| lines.join("\n"))
    }
}

/// One schema lint error of a deployment (`deployment.lint_errors[]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintError {
    /// The code, such as `NO_UNIQUE_KEY`.
    pub lint_error: Option<String>,
    /// The keyspace of the table.
    pub keyspace_name: Option<String>,
    /// The table.
    pub table_name: Option<String>,
    /// What is wrong, in PlanetScale's words.
    pub error_description: Option<String>,
}

impl LintError {
    /// `table "Persons" has no unique key… (NO_UNIQUE_KEY)`, or the code alone.
    fn describe(&self) -> Option<String> {
        match (&self.error_description, &self.lint_error) {
            (Some(description), Some(code)) => Some(format!("{description} ({code})")),
            (Some(description), None) => Some(description.clone()),
            (None, Some(code)) => Some(match &self.table_name {
                Some(table) => format!("{code} on table {table}"),
                None => code.clone(),
            }),
            (None, None) => None,
        }
    }
}

/// One per-table schema change of a deploy request, or of its revert.
#[derive(Debug, Clone, PartialEq)]
pub struct DeployOperation {
    /// PlanetScale's id; a queued operation gets another once it starts.
    pub id: String,
    /// Its state.
    pub state: OperationState,
    /// The keyspace of its table (absent on revert operations).
    pub keyspace_name: Option<String>,
    /// The table it changes.
    pub table_name: Option<String>,
    /// What it does, e.g. `ALTER`.
    pub operation_name: Option<String>,
    /// The DDL it runs.
    pub ddl_statement: Option<String>,
    /// The operation's error text; empty text from the API is stored as `None`.
    pub deploy_errors: Option<String>,
    /// PlanetScale's page explaining the deploy error, if any.
    pub deploy_error_docs_url: Option<String>,
    /// How far it got, in percent.
    pub progress_percentage: Option<f64>,
    /// How long the API expects it to take still, in seconds.
    pub eta_seconds: Option<u64>,
    /// A revert operation's error text (`revert_errors`); absent on forward operations.
    pub revert_errors: Option<String>,
}

impl DeployOperation {
    /// The error text that belongs to `phase`.
    pub fn errors(&self, phase: OperationPhase) -> Option<&str> {
        match phase {
            OperationPhase::Deploy => self.deploy_errors.as_deref(),
            OperationPhase::Revert => self.revert_errors.as_deref(),
        }
    }

    /// What identifies the operation when PlanetScale gives it a new id (it does when a queued
    /// operation starts): its keyspace, table and operation name. `None` without a table name.
    fn identity(&self) -> Option<Identity<'_>> {
        Some((
            self.keyspace_name.as_deref(),
            self.table_name.as_deref()?,
            self.operation_name.as_deref(),
        ))
    }
}

/// Keyspace, table and operation name.
pub(crate) type Identity<'a> = (Option<&'a str>, &'a str, Option<&'a str>);

/// Whether an operation applies a deploy request's schema change or reverts it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum OperationPhase {
    /// `deployment.deploy_operations[]`.
    #[default]
    Deploy,
    /// `deployment.deployment_revert_request.deploy_revert_operations[]`.
    Revert,
}

impl OperationPhase {
    /// `deploy` or `revert`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deploy => "deploy",
            Self::Revert => "revert",
        }
    }
}

impl fmt::Display for OperationPhase {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Something of a response that could not be read: reported, and the resource it belongs to
/// keeps its remembered state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// What it was, e.g. `item 3 of /v1/organizations/acme/databases/commerce/workflows`.
    pub what: String,
    /// What is wrong with it.
    pub problem: String,
}

/// What one successful poll of a target saw. A poll that failed produces no observation at
/// all; one that could not read some items says so in `unreadable`, and what those items were
/// keeps its remembered state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observation {
    /// The workflows of the database: those listed, and remembered ones missing from the list
    /// that were fetched by number.
    pub workflows: Vec<Workflow>,
    /// Ids of remembered workflows the API no longer knows (404 by number).
    pub vanished_workflows: Vec<String>,
    /// The open deploy requests, plus the ones fetched by number because they left the open
    /// list since the last poll.
    pub deploy_requests: Vec<ObservedDeployRequest>,
    /// Deploy requests remembered as open that the API no longer knows (404 by number).
    pub vanished_deploy_requests: Vec<u64>,
    /// Items of the responses that could not be read.
    pub unreadable: Vec<Unreadable>,
    /// The backups of the production branches, when this poll read them (the slower kinds
    /// are read at their own interval); `None` leaves the remembered ones as they are.
    pub backups: Option<Vec<Backup>>,
    /// The production branches' changes and keyspace resizes, when this poll read them.
    pub resizes: Option<Vec<Resize>>,
    /// The database's schema recommendations, when this poll read them.
    pub recommendations: Option<Vec<SchemaRecommendation>>,
    /// The database's maintenance schedules, when this poll read them.
    pub maintenance: Option<Vec<MaintenanceSchedule>>,
    /// Which of the slower kinds this poll read only in part.
    pub partial: Partial,
}

/// Which of the slower kinds a poll read only in part: an item, a branch or a keyspace could
/// not be read. What is remembered of that kind and missing from the reading is kept as it
/// was, so that it is neither forgotten now nor new when it is read again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Partial {
    /// The production branches' backups.
    pub backups: bool,
    /// The production branches' changes and keyspace resizes.
    pub resizes: bool,
    /// The schema recommendations.
    pub recommendations: bool,
    /// The maintenance schedules.
    pub maintenance: bool,
}

/// A deploy request as one poll saw it, with what the poll saw of its operations.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObservedDeployRequest {
    /// The deploy request.
    pub deploy_request: DeployRequest,
    /// The per-table operations; `None` when this poll did not see them (the response lacked
    /// them and the request is not deploying): the remembered operations stay as they were.
    pub operations: Option<Vec<DeployOperation>>,
    /// The operations of the deploy request's revert; `None` when the response did not say.
    pub revert_operations: Option<Vec<DeployOperation>>,
    /// Some operations could not be read: remembered ones missing here are kept as they were.
    pub operations_partial: bool,
}

impl Default for DeployRequest {
    fn default() -> Self {
        Self {
            id: String::new(),
            number: 0,
            state: "open".into(),
            deployment_state: DeployState::unknown(),
            branch: None,
            into_branch: None,
            html_url: None,
            actor: None,
            actor_id: None,
            closed_by: None,
            auto_cutover: None,
            lint_errors: Vec::new(),
            deploy_check_errors: None,
            ready_to_cutover_at: None,
            cutover_expiring: None,
            queue_paused: None,
            queue_pause_reason: None,
            revert_window_ends_at: None,
            queue_position: None,
            table_locked: None,
            locked_table_name: None,
        }
    }
}

/// What pswatch remembers of one target between polls: just enough to diff the next
/// observation. Stored by the `store` crate, which owns its format on disk.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TargetState {
    /// By workflow id.
    pub workflows: BTreeMap<String, SeenWorkflow>,
    /// Open deploy requests by number. A closed one is reported once and forgotten.
    pub deploy_requests: BTreeMap<u64, SeenDeployRequest>,
    /// How many events the target has produced. A resource seen for the first time starts its
    /// own event counter here, so one forgotten and seen again under the same number (a new
    /// deploy request #7 after the old one closed) never gives an id of its earlier life.
    pub events: u64,
    /// The backups of its production branches, by id, once they are watched.
    pub backups: BTreeMap<String, SeenBackup>,
    /// The branches whose latest backup to end failed: their next success recovers.
    pub failing_backups: BTreeSet<String>,
    /// Whether backups were read before: their first reading records a baseline.
    pub backups_read: bool,
    /// Branch and keyspace resizes, by id, once they are watched.
    pub resizes: BTreeMap<String, SeenState>,
    /// Whether resizes were read before: their first reading records a baseline.
    pub resizes_read: bool,
    /// PlanetScale's schema recommendations for the database, by id, once they are watched.
    pub recommendations: BTreeMap<String, SeenState>,
    /// Whether schema recommendations were read before: their first reading records a baseline.
    pub recommendations_read: bool,
    /// The database's maintenance schedules, by id, once they are watched.
    pub maintenance: BTreeMap<String, SeenMaintenance>,
    /// Whether maintenance schedules were read before: their first reading records a baseline.
    pub maintenance_read: bool,
    /// When the slower kinds (backups, resizes, recommendations) were last read.
    pub slow_polled_at: Option<OffsetDateTime>,
    /// The clocks of `[[timers]]`, by resource (`workflow/{id}`, `deploy_request/{number}`,
    /// `deploy_request/{number}/operation/{id}`, `…/revert_operation/{id}`, `backup/{id}`,
    /// `resize/{id}`): only of resources some timer watches.
    pub timers: BTreeMap<String, crate::TimerClock>,
}

/// What is remembered of a maintenance schedule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeenMaintenance {
    /// Its next window, as last seen.
    pub next_window: Option<String>,
    /// Its last window's start, as last seen.
    pub last_window: Option<String>,
    /// The last window whose end was reported.
    pub finished_window: Option<String>,
    /// How many events it has produced; part of the next event's id.
    pub events: u64,
}

/// A maintenance schedule of a database (`…/maintenance-schedules`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaintenanceSchedule {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// When its next window starts.
    pub next_window_datetime: Option<String>,
    /// When its last window started.
    pub last_window_datetime: Option<String>,
    /// How long a window lasts, in hours.
    pub duration_hours: Option<u64>,
    /// Whether PlanetScale requires it.
    pub required: bool,
    /// By when it must happen, for a required one.
    pub deadline_at: Option<String>,
    /// The Vitess version it brings, if any.
    pub pending_vitess_version: Option<String>,
    /// The MySQL version it brings, if any.
    pub pending_mysql_version: Option<String>,
}

/// One of PlanetScale's schema recommendations for a database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaRecommendation {
    /// Its id.
    pub id: String,
    /// Its number.
    pub number: u64,
    /// What it recommends, e.g. `Drop unused index idx_old on orders`.
    pub title: String,
    /// The table it is about.
    pub table_name: Option<String>,
    /// The keyspace.
    pub keyspace: Option<String>,
    /// The change it proposes.
    pub ddl_statement: Option<String>,
    /// `unused_index`, `duplicate_index`, `new_index`, `sequence_overflow`, …
    pub recommendation_type: Option<String>,
    /// `open`, `applied`, `dismissed` or `stale`.
    pub state: String,
    /// Its page in the dashboard.
    pub html_url: Option<String>,
}

/// What is remembered of a resize or a schema recommendation: its state and its events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenState {
    /// Its state when last seen.
    pub state: String,
    /// How many events it has produced; part of the next event's id.
    pub events: u64,
}

/// A change of a production branch's cluster (size, replicas, storage) or of one of its
/// keyspaces, as the API showed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resize {
    /// Its id.
    pub id: String,
    /// The branch it changes.
    pub branch: String,
    /// The keyspace, for a keyspace resize; `None` for the branch's own change.
    pub keyspace: Option<String>,
    /// `queued`, `pending`, `resizing`, `canceled`, `completed`, or one PlanetScale adds.
    pub state: String,
    /// The cluster size before and after, e.g. `PS_10` and `PS_20`.
    pub previous_cluster_name: Option<String>,
    /// The cluster size it changes to.
    pub cluster_name: Option<String>,
    /// The replicas before and after.
    pub previous_replicas: Option<u64>,
    /// The replicas it changes to.
    pub replicas: Option<u64>,
    /// The most storage before and after, in bytes (a branch's change).
    pub previous_maximum_storage_bytes: Option<u64>,
    /// The most storage it changes to.
    pub maximum_storage_bytes: Option<u64>,
    /// When it started and ended, as the API wrote them.
    pub started_at: Option<String>,
    /// When it ended.
    pub completed_at: Option<String>,
}

impl Resize {
    /// Whether it is still under way: queued, pending or resizing.
    pub fn in_motion(state: &str) -> bool {
        matches!(state, "queued" | "pending" | "resizing")
    }
}

/// What is remembered of a backup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenBackup {
    /// The branch it is of.
    pub branch: String,
    /// Its state when last seen.
    pub state: String,
    /// How many events it has produced; part of the next event's id.
    pub events: u64,
}

/// A backup of a production branch, as the API showed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The branch it is of.
    pub branch: String,
    /// `pending`, `running`, `success`, `failed`, `canceled`, `ignored`, or one PlanetScale adds.
    pub state: String,
    /// Its size in bytes, when known.
    pub size: Option<u64>,
    /// When it started running, as the API wrote it.
    pub started_at: Option<String>,
    /// When it ended, as the API wrote it.
    pub completed_at: Option<String>,
}

impl Backup {
    /// Whether it has ended: no later state will come.
    pub fn is_over(&self) -> bool {
        matches!(
            self.state.as_str(),
            "success" | "failed" | "canceled" | "ignored"
        )
    }
}

impl TargetState {
    /// How urgently the target deserves polling: the most urgent of its resources.
    pub fn motion(&self) -> Motion {
        let workflows = self
            .workflows
            .values()
            .map(|workflow| workflow.state.motion());
        let deploy_requests = self.deploy_requests.values().map(SeenDeployRequest::motion);
        // A resize under way is followed at the active interval.
        let resizes = self
            .resizes
            .values()
            .filter(|resize| Resize::in_motion(&resize.state))
            .map(|_| Motion::Active);
        workflows
            .chain(deploy_requests)
            .chain(resizes)
            .max()
            .unwrap_or(Motion::Idle)
    }
}

/// What is remembered of a workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenWorkflow {
    /// Its number.
    pub number: u64,
    /// Its name.
    pub name: String,
    /// Its state when last seen.
    pub state: WorkflowState,
    /// Its error text when last seen.
    pub workflow_errors: Option<String>,
    /// How many events this workflow has produced; part of the next event's id.
    pub events: u64,
    /// When it reached each phase, for the status page.
    pub times: WorkflowTimes,
}

/// What is remembered of an open deploy request.
#[derive(Debug, Clone, PartialEq)]
pub struct SeenDeployRequest {
    /// Its state when last seen.
    pub deployment_state: DeployState,
    /// `deployment.auto_cutover` as last seen.
    pub auto_cutover: Option<bool>,
    /// How many events it has produced; part of the next event's id.
    pub events: u64,
    /// By operation id.
    pub operations: BTreeMap<String, SeenOperation>,
    /// The revert's operations, by id.
    pub revert_operations: BTreeMap<String, SeenOperation>,
    /// What its reminders and flags stand at.
    pub waiting: Waiting,
    /// Its place in the deploy queue while it is `queued`, when known.
    pub queue_position: Option<u64>,
}

/// What is remembered of a deploy request to remind people of it: since when it has been
/// waiting for its cutover, how many reminders went out in this wait, and the flags already
/// reported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Waiting {
    /// When it was first seen `pending_cutover` (or PlanetScale's `ready_to_cutover_at`), while
    /// it is; `None` otherwise.
    pub pending_cutover_since: Option<OffsetDateTime>,
    /// How many `deploy_request.awaiting_cutover` reminders this wait has had.
    pub reminders: u64,
    /// `deployment.cutover_expiring` as last seen.
    pub cutover_expiring: bool,
    /// `deployment.queue_paused` as last seen.
    pub queue_paused: bool,
    /// Whether `deploy_request.revert_window_closing` was reported for the revert window
    /// open now.
    pub revert_window_warned: bool,
    /// `deployment.table_locked` as last seen.
    pub table_locked: bool,
}

impl SeenDeployRequest {
    /// How urgently it deserves polling.
    pub fn motion(&self) -> Motion {
        self.deployment_state.motion(self.auto_cutover)
    }
}

/// What is remembered of an operation.
#[derive(Debug, Clone, PartialEq)]
pub struct SeenOperation {
    /// Its state when last seen.
    pub state: OperationState,
    /// The error text of its phase (`deploy_errors`, or `revert_errors` of a revert operation).
    pub errors: Option<String>,
    /// How many events it has produced; part of the next event's id.
    pub events: u64,
    /// Keyspace, table and operation name, to recognise the operation under a new id.
    pub keyspace_name: Option<String>,
    /// Its table.
    pub table_name: Option<String>,
    /// Its operation name.
    pub operation_name: Option<String>,
    /// Its progress while it is `in_progress`, to tell when it stalls.
    pub progress: Progress,
}

/// The progress of a running operation: the percentage last seen, since when it has not
/// moved, and whether that stall was reported.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Progress {
    /// `progress_percentage` as last seen.
    pub percentage: Option<f64>,
    /// Since when the operation has been in its state at this percentage.
    pub since: Option<OffsetDateTime>,
    /// Whether `deploy_operation.stalled` was reported for this stall.
    pub stalled: bool,
    /// `eta_seconds` as last seen, for the status page.
    pub eta_seconds: Option<u64>,
}

impl SeenOperation {
    pub(crate) fn identity(&self) -> Option<Identity<'_>> {
        Some((
            self.keyspace_name.as_deref(),
            self.table_name.as_deref()?,
            self.operation_name.as_deref(),
        ))
    }
}

impl DeployOperation {
    pub(crate) fn matches(&self, seen: &SeenOperation) -> bool {
        self.identity().is_some() && self.identity() == seen.identity()
    }
}
