//! The fleet: where each watched workflow and deploy request stands and when each branch was
//! last backed up, as the leader last saw them, for the state metrics on `/metrics`. The leader
//! keeps it from its polls' views and puts what it shows in its report, so that a standby
//! serves the same series.

use std::collections::BTreeMap;
use std::sync::Mutex;

use diff_engine::{Backup, OperationPhase, Target, WorkflowState};
use model::{ResourceKind, ResourceView};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

/// How long a resource that ended still shows.
pub(crate) const ENDED_SHOWN: Duration = Duration::hours(1);

pub(crate) use crate::config::DEFAULT_MAX_RESOURCES;

/// What the leader saw of its databases' resources.
#[derive(Debug)]
pub(crate) struct Fleet {
    inner: Mutex<Seen>,
}

#[derive(Debug)]
struct Seen {
    views: BTreeMap<(Target, ResourceKind, u64), ResourceView>,
    /// When each branch's last successful and last failed backups ended.
    backups: BTreeMap<(Target, String), Ended>,
    max_resources: usize,
}

/// What the state metrics show: at most `max_resources` resources (those in motion first,
/// then the most recently changed), and how many were left out.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct FleetReport {
    pub(crate) resources: Vec<ResourceSample>,
    pub(crate) backups: Vec<BackupSample>,
    pub(crate) dropped: u64,
}

/// One workflow or deploy request, as its series show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ResourceSample {
    pub(crate) organization: String,
    pub(crate) database: String,
    pub(crate) kind: String,
    pub(crate) number: u64,
    pub(crate) state: String,
    pub(crate) deployment_state: Option<String>,
    /// Unix seconds.
    pub(crate) state_since: i64,
    /// A deploy request's tables being changed (its deploy's operations), with progress from
    /// 0 to 1.
    #[serde(default)]
    pub(crate) operations: Vec<OperationSample>,
}

/// One table's operation of a deploy request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct OperationSample {
    pub(crate) keyspace: String,
    pub(crate) table: String,
    pub(crate) ratio: f64,
}

/// When a branch's last successful and last failed backups ended.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Ended {
    success: Option<OffsetDateTime>,
    failure: Option<OffsetDateTime>,
}

/// A branch's last successful and last failed backups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct BackupSample {
    pub(crate) organization: String,
    pub(crate) database: String,
    pub(crate) branch: String,
    /// When the last successful one ended, unix seconds.
    pub(crate) succeeded_at: Option<i64>,
    /// When the last failed one ended, unix seconds.
    pub(crate) failed_at: Option<i64>,
}

impl Default for Fleet {
    fn default() -> Self {
        Self {
            inner: Mutex::new(Seen {
                views: BTreeMap::new(),
                backups: BTreeMap::new(),
                max_resources: DEFAULT_MAX_RESOURCES,
            }),
        }
    }
}

impl Fleet {
    fn lock(&self) -> std::sync::MutexGuard<'_, Seen> {
        // What a panic left behind is still a set of views: shown as it is.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `[metrics] max_resources`, as the configuration now says.
    pub(crate) fn limit(&self, max_resources: usize) {
        self.lock().max_resources = max_resources;
    }

    /// A poll of `target` saw `views` (what the store keeps of it, with this poll's changes).
    pub(crate) fn saw(&self, target: &Target, views: impl IntoIterator<Item = ResourceView>) {
        let mut seen = self.lock();
        for view in views {
            if view.target == *target {
                seen.views
                    .insert((view.target.clone(), view.kind, view.number), view);
            }
        }
    }

    /// A poll of `target` read its production branches' backups.
    pub(crate) fn saw_backups(&self, target: &Target, backups: &[Backup]) {
        let mut seen = self.lock();
        for backup in backups {
            let Some(at) = backup
                .completed_at
                .as_deref()
                .and_then(|at| OffsetDateTime::parse(at, &Rfc3339).ok())
            else {
                continue;
            };
            let ended = seen
                .backups
                .entry((target.clone(), backup.branch.clone()))
                .or_default();
            let last = match backup.state.as_str() {
                "success" => &mut ended.success,
                "failed" => &mut ended.failure,
                _ => continue,
            };
            *last = Some(last.map_or(at, |last| last.max(at)));
        }
    }

    /// Forgets what it saw of `target`, no longer watched.
    pub(crate) fn forget(&self, target: &Target) {
        let mut seen = self.lock();
        seen.views.retain(|(known, _, _), _| known != target);
        seen.backups.retain(|(known, _), _| known != target);
    }

    /// What the metrics show at `now`: resources in motion and those that ended within
    /// [`ENDED_SHOWN`] (the others are forgotten), then backups, at most `max_resources` in
    /// all.
    pub(crate) fn report(&self, now: OffsetDateTime) -> FleetReport {
        let mut seen = self.lock();
        seen.views
            .retain(|_, view| !ended(view) || now - view.state_since <= ENDED_SHOWN);
        let mut views: Vec<&ResourceView> = seen.views.values().collect();
        // In motion first, then the most recently changed; the key keeps the order stable.
        views.sort_by_key(|view| (ended(view), std::cmp::Reverse(view.state_since)));
        let max = seen.max_resources;
        let total = views.len() + seen.backups.len();
        let resources: Vec<ResourceSample> = views.into_iter().take(max).map(sample).collect();
        let room = max.saturating_sub(resources.len());
        let backups = seen
            .backups
            .iter()
            .take(room)
            .map(|((target, branch), ended)| BackupSample {
                organization: target.organization.clone(),
                database: target.database.clone(),
                branch: branch.clone(),
                succeeded_at: ended.success.map(OffsetDateTime::unix_timestamp),
                failed_at: ended.failure.map(OffsetDateTime::unix_timestamp),
            })
            .collect::<Vec<_>>();
        let dropped = (total - resources.len() - backups.len()) as u64;
        FleetReport {
            resources,
            backups,
            dropped,
        }
    }
}

/// Whether the resource can no longer change: a closed deploy request, a completed or
/// cancelled workflow.
fn ended(view: &ResourceView) -> bool {
    match view.kind {
        ResourceKind::DeployRequest => view.state == "closed",
        ResourceKind::Workflow => WorkflowState::parse(&view.state).is_final(),
    }
}

fn sample(view: &ResourceView) -> ResourceSample {
    let mut operations: Vec<OperationSample> = Vec::new();
    for operation in &view.operations {
        if operation.phase != OperationPhase::Deploy {
            continue;
        }
        let (Some(keyspace), Some(table)) = (&operation.keyspace, &operation.table) else {
            continue;
        };
        // One series a table: a second operation of the same table (not seen from the API)
        // would make two samples of one series.
        if operations
            .iter()
            .any(|known| known.keyspace == *keyspace && known.table == *table)
        {
            continue;
        }
        let ratio = match operation.progress_percentage {
            _ if operation.state == "complete" => 1.0,
            Some(percentage) if percentage.is_finite() => (percentage / 100.0).clamp(0.0, 1.0),
            _ => 0.0,
        };
        operations.push(OperationSample {
            keyspace: keyspace.clone(),
            table: table.clone(),
            ratio,
        });
    }
    ResourceSample {
        organization: view.target.organization.clone(),
        database: view.target.database.clone(),
        kind: view.kind.as_str().to_owned(),
        number: view.number,
        state: view.state.clone(),
        deployment_state: view.deployment_state.clone(),
        state_since: view.state_since.unix_timestamp(),
        operations,
    }
}

#[cfg(test)]
mod tests {
    use model::OperationView;
    use time::macros::datetime;

    use super::*;

    fn view(database: &str, kind: ResourceKind, number: u64, state: &str) -> ResourceView {
        let at = datetime!(2026-12-07 12:00 UTC);
        ResourceView {
            target: Target::new("acme", database),
            kind,
            number,
            name: None,
            state: state.into(),
            deployment_state: (kind == ResourceKind::DeployRequest).then(|| "in_progress".into()),
            branch: None,
            into_branch: None,
            html_url: None,
            operations: Vec::new(),
            last_event: None,
            observed_at: at,
            state_since: at,
        }
    }

    #[test]
    fn the_metrics_show_what_moves_first_and_count_what_they_leave_out() {
        let now = datetime!(2026-12-07 12:30 UTC);
        let fleet = Fleet::default();
        let commerce = Target::new("acme", "commerce");
        let mut open = view("commerce", ResourceKind::DeployRequest, 7, "open");
        open.operations = vec![
            OperationView {
                id: "op-1".into(),
                phase: OperationPhase::Deploy,
                keyspace: Some("commerce".into()),
                table: Some("orders".into()),
                state: "in_progress".into(),
                progress_percentage: Some(42.0),
                eta_seconds: None,
                errors: None,
            },
            OperationView {
                id: "op-2".into(),
                phase: OperationPhase::Deploy,
                keyspace: Some("commerce".into()),
                table: Some("customers".into()),
                state: "complete".into(),
                progress_percentage: None,
                eta_seconds: None,
                errors: None,
            },
            // A revert's operation of the same table is not a second series.
            OperationView {
                id: "rv-1".into(),
                phase: OperationPhase::Revert,
                keyspace: Some("commerce".into()),
                table: Some("orders".into()),
                state: "submit".into(),
                progress_percentage: Some(250.0),
                eta_seconds: None,
                errors: None,
            },
        ];
        let mut closed = view("commerce", ResourceKind::DeployRequest, 6, "closed");
        closed.state_since = now - Duration::minutes(20);
        let mut long_closed = view("commerce", ResourceKind::DeployRequest, 5, "closed");
        long_closed.state_since = now - Duration::minutes(61);
        let workflow = view("commerce", ResourceKind::Workflow, 3, "running");
        // Views of another database are not this poll's.
        let stray = view("users", ResourceKind::Workflow, 1, "running");
        fleet.saw(&commerce, [open, closed, long_closed, workflow, stray]);
        let backup = |branch: &str, state: &str, completed_at: &str| Backup {
            id: format!("{branch}-{completed_at}"),
            name: String::new(),
            branch: branch.into(),
            state: state.into(),
            size: None,
            started_at: None,
            completed_at: Some(completed_at.into()),
        };
        fleet.saw_backups(
            &commerce,
            &[
                backup("main", "success", "2026-12-07T09:00:00Z"),
                backup("main", "success", "2026-12-07T11:00:00Z"),
                backup("main", "failed", "2026-12-07T12:00:00Z"),
                backup("main", "success", "not a time"),
            ],
        );

        let shown = fleet.report(now);
        let numbers: Vec<u64> = shown.resources.iter().map(|sample| sample.number).collect();
        // In motion first (the same age: by key), then what ended within the hour.
        assert_eq!(numbers, [3, 7, 6], "{shown:#?}");
        assert_eq!(shown.dropped, 0);
        let operations = &shown.resources[1].operations;
        assert_eq!(operations.len(), 2, "{operations:?}");
        assert_eq!(operations[0].ratio, 0.42);
        assert_eq!(operations[1].ratio, 1.0, "complete");
        assert_eq!(
            shown.backups,
            [BackupSample {
                organization: "acme".into(),
                database: "commerce".into(),
                branch: "main".into(),
                succeeded_at: Some(datetime!(2026-12-07 11:00 UTC).unix_timestamp()),
                failed_at: Some(datetime!(2026-12-07 12:00 UTC).unix_timestamp()),
            }]
        );

        // Bounded: the rest is counted.
        fleet.limit(2);
        let shown = fleet.report(now);
        assert_eq!(shown.resources.len(), 2);
        assert!(shown.backups.is_empty());
        assert_eq!(shown.dropped, 2);
        fleet.limit(0);
        assert_eq!(fleet.report(now).dropped, 4);

        // A database no longer watched is forgotten.
        fleet.limit(DEFAULT_MAX_RESOURCES);
        fleet.forget(&commerce);
        assert_eq!(fleet.report(now), FleetReport::default());
    }
}
