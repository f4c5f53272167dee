//! What the admin API answers, as types: `/api/status`, the dead letters, the silences and a
//! `/readyz` that is not ready. The CLI reads the silences' answers back through the same
//! types, so the two cannot drift apart.

use std::collections::BTreeMap;

use diff_engine::{Motion, SeenDeployRequest, SeenWorkflow};
use notifier::render::rfc3339;
use notifier::{Silence, Window};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::service::push::PushView;
pub(crate) use crate::service::status::BudgetView;
use crate::service::status::{RecentEvent, TargetStatus};

/// `GET /api/status`.
#[derive(Debug, Serialize)]
pub(crate) struct StatusView {
    pub(crate) targets: Vec<TargetView>,
    /// The budget of `[planetscale]`'s token.
    pub(crate) budget: BudgetView,
    /// Every service token's budget, `[planetscale]`'s first.
    pub(crate) budgets: Vec<BudgetView>,
    pub(crate) budget_note: Option<String>,
    pub(crate) outbox: OutboxView,
    /// Whether PlanetScale's webhooks reach the receiver, by target.
    pub(crate) push: BTreeMap<String, PushView>,
    pub(crate) recent_events: Vec<RecentEvent>,
    /// The silences not yet expired.
    pub(crate) silences: Vec<SilenceView>,
    pub(crate) now_unix: i64,
    /// This replica, its role and the leader, when replicas share a PostgreSQL store.
    pub(crate) replica: Option<crate::service::board::ReplicaView>,
    /// On a standby: how many seconds old the leader's report is that `targets`' schedule,
    /// the budgets, push and the recent events come from. Absent on the leader.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) report_age_seconds: Option<u64>,
}

/// A watched target: its scheduling status, and what of it is in motion.
#[derive(Debug, Serialize)]
pub(crate) struct TargetView {
    /// `organization/database`.
    pub(crate) target: String,
    #[serde(flatten)]
    pub(crate) status: TargetStatus,
    pub(crate) in_motion: InMotion,
}

/// The workflows of a target that are not idle, its open deploy requests, and its backups and
/// resizes under way.
#[derive(Debug, Default, Serialize)]
pub(crate) struct InMotion {
    pub(crate) workflows: Vec<WorkflowView>,
    pub(crate) deploy_requests: Vec<DeployRequestView>,
    pub(crate) resizes: Vec<ResizeView>,
    pub(crate) backups: Vec<BackupView>,
}

impl InMotion {
    /// What of `state` is in motion or waits for a person.
    pub(crate) fn of(state: &diff_engine::TargetState) -> Self {
        Self {
            workflows: state
                .workflows
                .values()
                .filter(|workflow| workflow.state.motion() != Motion::Idle)
                .map(WorkflowView::from)
                .collect(),
            deploy_requests: state
                .deploy_requests
                .iter()
                .map(|(number, request)| DeployRequestView::new(*number, request))
                .collect(),
            resizes: state
                .resizes
                .iter()
                .filter(|(_, resize)| diff_engine::Resize::in_motion(&resize.state))
                .map(|(id, resize)| ResizeView {
                    id: id.clone(),
                    state: resize.state.clone(),
                })
                .collect(),
            backups: state
                .backups
                .iter()
                .filter(|(_, backup)| matches!(backup.state.as_str(), "pending" | "running"))
                .map(|(id, backup)| BackupView {
                    id: id.clone(),
                    branch: backup.branch.clone(),
                    state: backup.state.clone(),
                })
                .collect(),
        }
    }
}

/// A branch or keyspace resize under way.
#[derive(Debug, Serialize)]
pub(crate) struct ResizeView {
    pub(crate) id: String,
    /// `queued`, `pending` or `resizing`.
    pub(crate) state: String,
}

/// A backup under way.
#[derive(Debug, Serialize)]
pub(crate) struct BackupView {
    pub(crate) id: String,
    pub(crate) branch: String,
    /// `pending` or `running`.
    pub(crate) state: String,
}

/// One phase of a workflow's journey, as the status page draws it.
#[derive(Debug, Serialize)]
pub(crate) struct PhaseView {
    /// `copying`, `running`, `switched_replicas`, `switched_primaries`, `cutover` or
    /// `completed`.
    pub(crate) phase: &'static str,
    /// What a person reads: `Copying`, `Replicas switched`, …
    pub(crate) label: &'static str,
    /// Whether the workflow got this far.
    pub(crate) reached: bool,
    /// Whether this is where it is now.
    pub(crate) current: bool,
    /// When it got here, as the API wrote it, if known.
    pub(crate) reached_at: Option<String>,
}

/// The phases of `workflow`, each reached or not, with its time.
fn phases(workflow: &SeenWorkflow) -> Vec<PhaseView> {
    let current = workflow.state.phase();
    diff_engine::WORKFLOW_PHASES
        .iter()
        .enumerate()
        .map(|(index, (phase, label))| PhaseView {
            phase,
            label,
            reached: workflow.times.reached(&workflow.state, index),
            current: current == Some(index),
            reached_at: workflow.times.at(index).map(str::to_owned),
        })
        .collect()
}

#[derive(Debug, Serialize)]
pub(crate) struct WorkflowView {
    pub(crate) number: u64,
    pub(crate) name: String,
    pub(crate) state: String,
    pub(crate) motion: &'static str,
    pub(crate) errors: Option<String>,
    /// Its journey: copying, running, replicas switched, primaries switched, cut over,
    /// completed.
    pub(crate) phases: Vec<PhaseView>,
}

impl From<&SeenWorkflow> for WorkflowView {
    fn from(workflow: &SeenWorkflow) -> Self {
        Self {
            number: workflow.number,
            name: workflow.name.clone(),
            state: workflow.state.as_str().to_owned(),
            motion: workflow.state.motion().as_str(),
            errors: workflow.workflow_errors.clone(),
            phases: phases(workflow),
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct DeployRequestView {
    pub(crate) number: u64,
    pub(crate) deployment_state: String,
    pub(crate) deploying: bool,
    pub(crate) motion: &'static str,
    pub(crate) operations: Vec<OperationView>,
    pub(crate) revert_operations: Vec<OperationView>,
    pub(crate) pending_cutover_since_unix: Option<i64>,
    pub(crate) reminders: u64,
    /// Its place in the deploy queue while it is `queued`, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) queue_position: Option<u64>,
}

impl DeployRequestView {
    pub(crate) fn new(number: u64, request: &SeenDeployRequest) -> Self {
        let operations = |operations: &BTreeMap<String, diff_engine::SeenOperation>| {
            operations
                .iter()
                .map(|(id, operation)| OperationView {
                    id: id.clone(),
                    table: operation.table_name.clone(),
                    state: operation.state.as_str().to_owned(),
                    errors: operation.errors.clone(),
                    progress_percentage: operation.progress.percentage,
                    eta_seconds: operation.progress.eta_seconds,
                })
                .collect()
        };
        Self {
            number,
            deployment_state: request.deployment_state.as_str().to_owned(),
            deploying: request.deployment_state.is_deploying(),
            motion: request.motion().as_str(),
            operations: operations(&request.operations),
            revert_operations: operations(&request.revert_operations),
            pending_cutover_since_unix: request
                .waiting
                .pending_cutover_since
                .map(OffsetDateTime::unix_timestamp),
            reminders: request.waiting.reminders,
            queue_position: request.queue_position,
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct OperationView {
    pub(crate) id: String,
    pub(crate) table: Option<String>,
    pub(crate) state: String,
    pub(crate) errors: Option<String>,
    /// How far a running operation got, in percent.
    pub(crate) progress_percentage: Option<f64>,
    /// How long the API expects a running operation to take still.
    pub(crate) eta_seconds: Option<u64>,
}

#[derive(Debug, Serialize)]
pub(crate) struct OutboxView {
    pub(crate) pending: usize,
    pub(crate) dead_letters: usize,
    pub(crate) pending_by_channel: BTreeMap<String, usize>,
    /// The dead letters, oldest first.
    pub(crate) dead: Vec<DeadLetterView>,
}

/// A dead letter, as the page lists it with its buttons.
#[derive(Debug, Serialize)]
pub(crate) struct DeadLetterView {
    pub(crate) id: u64,
    pub(crate) channel: String,
    pub(crate) event_id: String,
    pub(crate) event_type: String,
    pub(crate) headline: String,
    pub(crate) attempts: u32,
    pub(crate) last_error: Option<String>,
    pub(crate) reason: String,
    pub(crate) died_at: String,
}

impl From<&store::DeadLetter> for DeadLetterView {
    fn from(letter: &store::DeadLetter) -> Self {
        Self {
            id: letter.entry.id,
            channel: letter.entry.channel.clone(),
            event_id: letter.entry.event.id.clone(),
            event_type: letter.entry.event.type_name().to_owned(),
            headline: notifier::render::headline(&letter.entry.event),
            attempts: letter.entry.attempts,
            last_error: letter.entry.last_error.clone(),
            reason: letter.reason.clone(),
            died_at: rfc3339(letter.died_at),
        }
    }
}

/// `/readyz` when the service is not ready.
#[derive(Debug, Serialize)]
pub(crate) struct NotReady {
    pub(crate) ready: bool,
    pub(crate) reasons: Vec<String>,
}

/// Whether a silence holds now, will, or did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum SilenceStatus {
    /// It holds now.
    Active,
    /// It starts later.
    Pending,
    /// A recurring silence out of its window.
    Waiting,
    /// It ended.
    Expired,
}

impl SilenceStatus {
    /// Whether `silence` holds at `now`, will, or did.
    pub(crate) fn of(silence: &Silence, now: OffsetDateTime) -> Self {
        match &silence.window {
            _ if silence.is_active(now) => Self::Active,
            Window::Between { starts_at, .. } if *starts_at > now => Self::Pending,
            Window::Between { .. } => Self::Expired,
            Window::Weekly { .. } => Self::Waiting,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Pending => "pending",
            Self::Waiting => "waiting",
            Self::Expired => "expired",
        }
    }
}

/// Where a silence comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum SilenceSource {
    /// A recurring silence of the configuration.
    Configuration,
    /// Added through the API or the CLI, kept in the store.
    Added,
}

/// A silence as `/api/silences`, `/api/status` and `pswatch silence` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SilenceView {
    pub(crate) id: String,
    pub(crate) status: SilenceStatus,
    /// The matchers on one line, as the log writes them.
    pub(crate) matchers: String,
    pub(crate) organization: Option<String>,
    pub(crate) database: Option<String>,
    pub(crate) events: Vec<String>,
    pub(crate) states: Vec<String>,
    /// The window on one line, as the configuration writes it.
    pub(crate) window: String,
    pub(crate) starts_at: Option<String>,
    pub(crate) ends_at: Option<String>,
    pub(crate) comment: String,
    pub(crate) source: SilenceSource,
}

impl SilenceView {
    /// `silence` as it stands at `now`.
    pub(crate) fn new(silence: &Silence, now: OffsetDateTime) -> Self {
        let (starts_at, ends_at) = match &silence.window {
            Window::Between { starts_at, ends_at } => {
                (Some(rfc3339(*starts_at)), Some(rfc3339(*ends_at)))
            }
            Window::Weekly { .. } => (None, silence.active_until(now).map(rfc3339)),
        };
        Self {
            id: silence.id.clone(),
            status: SilenceStatus::of(silence, now),
            matchers: silence.matcher.to_string(),
            organization: silence.matcher.organization.clone(),
            database: silence.matcher.database.clone(),
            events: silence.matcher.events.clone(),
            states: silence.matcher.states.clone(),
            window: silence.window.to_string(),
            starts_at,
            ends_at,
            comment: silence.comment.clone(),
            source: match silence.window {
                Window::Weekly { .. } => SilenceSource::Configuration,
                Window::Between { .. } => SilenceSource::Added,
            },
        }
    }

    /// One line of `pswatch silence list`: the id first.
    pub(crate) fn line(&self) -> String {
        format!(
            "{}  {}  {}  {}  {:?}",
            self.id,
            self.status.as_str(),
            self.window,
            self.matchers,
            self.comment
        )
    }
}

/// `GET /api/silences`.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct SilencesAnswer {
    pub(crate) silences: Vec<SilenceView>,
}

/// What adding or expiring a silence answers.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct SilenceAnswer {
    pub(crate) silence: SilenceView,
}

#[cfg(test)]
mod tests {
    use super::*;
    use notifier::Matcher;
    use time::macros::datetime;

    #[test]
    fn a_silence_reads_back_as_the_api_wrote_it() {
        let now = datetime!(2026-11-24 10:00:00 UTC);
        let silence = Silence {
            id: "sil_0123456789abcdef".into(),
            matcher: Matcher {
                organization: None,
                database: Some("acme/*".into()),
                events: vec!["deploy_request.*".into()],
                states: Vec::new(),
            },
            window: Window::Between {
                starts_at: now,
                ends_at: now + time::Duration::hours(2),
            },
            comment: "migration \"window\"".into(),
            created_at: now,
        };
        let view = SilenceView::new(&silence, now);
        let json = serde_json::to_value(SilenceAnswer {
            silence: view.clone(),
        })
        .expect("json");
        assert_eq!(json["silence"]["status"], "active");
        assert_eq!(json["silence"]["source"], "added");
        assert_eq!(json["silence"]["ends_at"], "2026-11-24T12:00:00Z");
        let read: SilenceAnswer = serde_json::from_value(json).expect("reads back");
        assert_eq!(read.silence, view);
        assert!(
            view.line().starts_with("sil_0123456789abcdef  active  "),
            "{}",
            view.line()
        );
    }
}

/// `GET /api/deploy-requests/{organization}/{database}/{number}` and
/// `GET /api/workflows/{organization}/{database}/{number}`: the resource as pswatch last saw
/// it, and with `until`, whether it reached one of the states. `pswatch wait` reads it back
/// through this type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ResourceAnswer {
    pub(crate) organization: String,
    pub(crate) database: String,
    /// `workflow` or `deploy_request`.
    pub(crate) kind: String,
    pub(crate) number: u64,
    /// A workflow's name.
    pub(crate) name: Option<String>,
    /// A workflow's `state`; a deploy request's `state` (`open`, `closed`).
    pub(crate) state: String,
    /// A deploy request's `deployment_state`.
    pub(crate) deployment_state: Option<String>,
    pub(crate) branch: Option<String>,
    pub(crate) into_branch: Option<String>,
    pub(crate) html_url: Option<String>,
    /// A deploy request's operations, of the deploy and of the revert.
    pub(crate) operations: Vec<OperationAnswer>,
    pub(crate) last_event: Option<LastEventAnswer>,
    /// When the poll that saw it so ran, RFC 3339.
    pub(crate) observed_at: String,
    /// With `until`: whether it is in one of the states asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) reached: Option<bool>,
}

/// One operation of a deploy request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct OperationAnswer {
    pub(crate) id: String,
    /// `deploy` or `revert`.
    pub(crate) phase: String,
    pub(crate) keyspace: Option<String>,
    pub(crate) table: Option<String>,
    pub(crate) state: String,
    pub(crate) progress_percentage: Option<f64>,
    pub(crate) eta_seconds: Option<u64>,
    pub(crate) errors: Option<String>,
}

/// The last event pswatch reported of a resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct LastEventAnswer {
    pub(crate) id: String,
    #[serde(rename = "type")]
    pub(crate) event_type: String,
    /// RFC 3339.
    pub(crate) at: String,
}

impl ResourceAnswer {
    pub(crate) fn new(view: &model::ResourceView, reached: Option<bool>) -> Self {
        Self {
            organization: view.target.organization.clone(),
            database: view.target.database.clone(),
            kind: view.kind.as_str().to_owned(),
            number: view.number,
            name: view.name.clone(),
            state: view.state.clone(),
            deployment_state: view.deployment_state.clone(),
            branch: view.branch.clone(),
            into_branch: view.into_branch.clone(),
            html_url: view.html_url.clone(),
            operations: view
                .operations
                .iter()
                .map(|operation| OperationAnswer {
                    id: operation.id.clone(),
                    phase: operation.phase.as_str().to_owned(),
                    keyspace: operation.keyspace.clone(),
                    table: operation.table.clone(),
                    state: operation.state.clone(),
                    progress_percentage: operation.progress_percentage,
                    eta_seconds: operation.eta_seconds,
                    errors: operation.errors.clone(),
                })
                .collect(),
            last_event: view.last_event.as_ref().map(|event| LastEventAnswer {
                id: event.id.clone(),
                event_type: event.event_type.clone(),
                at: rfc3339(event.at),
            }),
            observed_at: rfc3339(view.observed_at),
            reached,
        }
    }
}
