//! The clocks of the diff: how long a deploy request has waited for its cutover (reminders,
//! an expiring cutover, a paused queue) and how long a running operation's progress has stood
//! still (stalls). What they need is kept in the state ([`Waiting`], [`Progress`]), so a
//! restart neither repeats nor forgets them.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::Differ;
use crate::event::EventKind;
use crate::model::{
    DeployOperation, DeployRequest, OperationPhase, Progress, SeenDeployRequest, SeenOperation,
    Waiting,
};
use crate::states::{DeployState, OperationState, Severity};

impl Differ<'_> {
    /// Reminds of a deploy request waiting for its cutover, reports its cutover expiring and
    /// its queue pausing, and returns what to remember of them. `state` is the state the diff
    /// remembers for it now. Nothing is reported on a baseline: it only starts the clocks.
    pub(super) fn waiting(
        &mut self,
        request: &DeployRequest,
        seen: Option<&SeenDeployRequest>,
        state: &DeployState,
        sequence: &mut u64,
    ) -> Waiting {
        let before = seen.map(|seen| seen.waiting.clone()).unwrap_or_default();
        let resource = format!("deploy_request/{}", request.number);
        let mut waiting = Waiting {
            // What the API did not say stays as it was.
            cutover_expiring: request.cutover_expiring.unwrap_or(before.cutover_expiring),
            queue_paused: request.queue_paused.unwrap_or(before.queue_paused),
            table_locked: request.table_locked.unwrap_or(before.table_locked),
            ..Waiting::default()
        };
        if *state == DeployState::PendingCutover {
            let same_wait = seen.is_some_and(|seen| seen.deployment_state == *state);
            let since = before
                .pending_cutover_since
                .filter(|_| same_wait)
                .or_else(|| {
                    let ready = request.ready_to_cutover_at.as_deref()?;
                    OffsetDateTime::parse(ready, &Rfc3339)
                        .ok()
                        .filter(|ready| *ready <= self.now)
                })
                .unwrap_or(self.now);
            waiting.pending_cutover_since = Some(since);
            waiting.reminders = if same_wait { before.reminders } else { 0 };
            if let Some(every) = self
                .options
                .cutover_reminder
                .filter(|every| every.whole_seconds() > 0)
            {
                let due = u64::try_from((self.now - since).whole_seconds() / every.whole_seconds())
                    .unwrap_or(0);
                if due > waiting.reminders && !self.baseline {
                    self.emit(
                        &resource,
                        sequence,
                        Severity::Warning,
                        EventKind::DeployRequestAwaitingCutover {
                            waiting_since: since,
                            reminder: due,
                            deploy_request: request.clone(),
                        },
                    );
                }
                // A baseline counts the reminders it would have sent, so a long wait found at
                // start-up is reminded of on the next due time, not at once.
                waiting.reminders = waiting.reminders.max(due);
            }
        }
        if *state == DeployState::CompletePendingRevert {
            waiting.revert_window_warned = before.revert_window_warned
                && seen.is_some_and(|seen| seen.deployment_state == *state);
            let closes_at = request
                .revert_window_ends_at
                .as_deref()
                .and_then(|at| OffsetDateTime::parse(at, &Rfc3339).ok());
            let warn = self
                .options
                .revert_window_warning
                .filter(|warning| warning.is_positive())
                .zip(closes_at)
                .is_some_and(|(warning, closes_at)| {
                    self.now < closes_at && self.now >= closes_at - warning
                });
            if warn && !waiting.revert_window_warned {
                waiting.revert_window_warned = true;
                if !self.baseline {
                    if let Some(closes_at) = closes_at {
                        self.emit(
                            &resource,
                            sequence,
                            Severity::Warning,
                            EventKind::DeployRequestRevertWindowClosing {
                                closes_at,
                                deploy_request: request.clone(),
                            },
                        );
                    }
                }
            }
        }
        if waiting.table_locked && !before.table_locked && !self.baseline {
            self.emit(
                &resource,
                sequence,
                Severity::Warning,
                EventKind::DeployRequestBlocked {
                    locked_table: request.locked_table_name.clone(),
                    deploy_request: request.clone(),
                },
            );
        }
        if waiting.cutover_expiring && !before.cutover_expiring && !self.baseline {
            self.emit(
                &resource,
                sequence,
                Severity::Critical,
                EventKind::DeployRequestCutoverExpiring {
                    deploy_request: request.clone(),
                },
            );
        }
        if waiting.queue_paused && !before.queue_paused && !self.baseline {
            self.emit(
                &resource,
                sequence,
                Severity::Warning,
                EventKind::DeployRequestQueuePaused {
                    queue_pause_reason: request.queue_pause_reason.clone(),
                    deploy_request: request.clone(),
                },
            );
        }
        waiting
    }

    /// Watches a running operation's progress: reports it stalled once its percentage has not
    /// moved for `stall_after`, once per stall. `seen` is what was remembered of it, `None`
    /// when it is new or this poll reported a change of it (a change clears a stall).
    pub(super) fn progress(
        &mut self,
        resource: &str,
        sequence: &mut u64,
        seen: Option<&SeenOperation>,
        deploy_request_number: u64,
        phase: OperationPhase,
        operation: &DeployOperation,
    ) -> Progress {
        if operation.state != OperationState::InProgress {
            return Progress::default();
        }
        let percentage = operation.progress_percentage;
        let mut progress = match seen {
            Some(seen)
                if seen.state == operation.state && seen.progress.percentage == percentage =>
            {
                seen.progress.clone()
            }
            _ => Progress {
                percentage,
                ..Progress::default()
            },
        };
        progress.eta_seconds = operation.eta_seconds;
        let since = *progress.since.get_or_insert(self.now);
        let stalled = percentage.is_some()
            && !progress.stalled
            && self
                .options
                .stall_after
                .is_some_and(|after| after.is_positive() && self.now - since >= after);
        if stalled {
            progress.stalled = true;
            self.emit(
                resource,
                sequence,
                Severity::Warning,
                EventKind::DeployOperationStalled {
                    stalled_since: since,
                    deploy_request_number,
                    phase,
                    operation: operation.clone(),
                },
            );
        }
        progress
    }
}
