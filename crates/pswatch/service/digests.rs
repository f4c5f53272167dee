//! Digests at their times: for each `[[digests]]` entry whose latest scheduled instant has
//! passed since its last period, a summary of the period (what completed and failed, from the
//! journal of polls' events; what waits for a person, from the state; the dead letters) goes
//! to its channels as a `pswatch.digest` event, once per period: the period's mark is written
//! with the outbox entries, so a restart, a second replica or a service that was down at the
//! time sends it once.

use std::collections::BTreeMap;

use diff_engine::{
    DatabaseDigest, DigestItem, Event, EventKind, Motion, Severity, Target, TargetState,
};
use store::{NewDelivery, Store, StoreError};
use time::OffsetDateTime;

use crate::config::Digest;

/// How long polls' events are kept for digests: a week (a digest on one weekday covers one)
/// and a day of margin.
pub(crate) const JOURNAL_KEPT: time::Duration = time::Duration::days(8);
/// How often the schedule is looked at anyway, so that a clock that jumps is followed.
const RECHECK: time::Duration = time::Duration::minutes(1);

fn timestamp(at: OffsetDateTime) -> jiff::Timestamp {
    jiff::Timestamp::from_nanosecond(at.unix_timestamp_nanos())
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

fn offset(at: jiff::Timestamp) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(at.as_nanosecond())
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Sends every digest whose time has come, and prunes the journal; says when to look again.
/// `wake` is told each channel a digest went to.
pub(crate) async fn send_due(
    store: &Store,
    digests: &[Digest],
    now: OffsetDateTime,
    wake: &mut dyn FnMut(&str),
) -> Result<OffsetDateTime, StoreError> {
    store.prune_journal(now - JOURNAL_KEPT).await?;
    let mut next = now + RECHECK;
    for digest in digests {
        send_one(store, digest, now, wake).await?;
        if let Some(at) = digest.next(timestamp(now)) {
            next = next.min(offset(at));
        }
    }
    Ok(next)
}

async fn send_one(
    store: &Store,
    digest: &Digest,
    now: OffsetDateTime,
    wake: &mut dyn FnMut(&str),
) -> Result<(), StoreError> {
    let Some(last) = store.last_digest(&digest.name).await? else {
        // The first start: the first period begins now, and its digest goes at the next time.
        store
            .mark_digest(&digest.name, now, Vec::new(), now)
            .await?;
        tracing::info!(digest = %digest.name, "digest scheduled; its first period starts now");
        return Ok(());
    };
    let Some(due) = digest.latest(timestamp(now)).map(offset) else {
        return Ok(());
    };
    if due <= last {
        return Ok(());
    }
    // A service that was down for longer than the journal keeps reports what it still has.
    let start = last.max(due - JOURNAL_KEPT);
    let summary = summarize(store, digest, start, due).await?;
    let (completed, failed, waiting) = summary.counts();
    let send = digest.send_empty || !summary.is_empty();
    let event = Event {
        id: format!("dig_{}_{}", digest.name, due.unix_timestamp()),
        organization: summary
            .databases
            .first()
            .map(|database| database.organization.clone())
            .unwrap_or_default(),
        database: String::new(),
        severity: Severity::Info,
        observed_at: due,
        kind: EventKind::Digest { digest: summary },
    };
    let deliveries: Vec<NewDelivery> = if send {
        digest
            .channels
            .iter()
            .map(|channel| NewDelivery {
                channel: channel.clone(),
                event: event.clone(),
            })
            .collect()
    } else {
        Vec::new()
    };
    match store
        .mark_digest(&digest.name, due, deliveries, now)
        .await?
    {
        Some(entries) if !entries.is_empty() => {
            tracing::info!(digest = %digest.name, event_id = %event.id, completed, failed, waiting,
                channels = ?digest.channels, "digest sent");
            for channel in &digest.channels {
                wake(channel);
            }
        }
        Some(_) => {
            tracing::info!(digest = %digest.name, "nothing to say for this period; no digest sent (send_empty = false)");
        }
        None => tracing::debug!(digest = %digest.name, "this period's digest was already sent"),
    }
    Ok(())
}

/// What the digest says of the period from `start` (excluded) to `end`.
async fn summarize(
    store: &Store,
    digest: &Digest,
    start: OffsetDateTime,
    end: OffsetDateTime,
) -> Result<diff_engine::Digest, StoreError> {
    let journal: Vec<Event> = store
        .journal(end - JOURNAL_KEPT, end)
        .await?
        .into_iter()
        .filter(|event| digest.covers(&event.organization, &event.database))
        .collect();
    // The latest outcome of each resource in the period.
    let mut completed: BTreeMap<(Target, String), DigestItem> = BTreeMap::new();
    let mut failed: BTreeMap<(Target, String), DigestItem> = BTreeMap::new();
    for event in journal.iter().filter(|event| event.observed_at > start) {
        let item = || DigestItem {
            resource: notifier::render::resource_name(event),
            state: event.kind.state().to_owned(),
            since: Some(event.observed_at),
            errors: event.kind.errors().map(|errors| errors.into_owned()),
            url: Some(notifier::render::dashboard_url(event)),
        };
        let key = (event.target(), notifier::render::resource_name(event));
        match &event.kind {
            EventKind::WorkflowStateChanged { state, .. } if state.as_str() == "completed" => {
                completed.insert(key, item());
            }
            EventKind::DeployRequestStateChanged { state, .. }
                if matches!(state.as_str(), "complete" | "complete_pending_revert") =>
            {
                completed.insert(key, item());
            }
            EventKind::WorkflowStateChanged { state, .. } if state.is_error() => {
                failed.insert(key, item());
            }
            EventKind::DeployRequestStateChanged { state, .. } if state.is_error() => {
                failed.insert(key, item());
            }
            EventKind::DeployOperationStateChanged { state, .. } if state.is_error() => {
                failed.insert(key, item());
            }
            EventKind::WorkflowErrorsChanged {
                errors: Some(_), ..
            }
            | EventKind::DeployOperationErrorsChanged {
                errors: Some(_), ..
            } => {
                failed.insert(key, item());
            }
            _ => {}
        }
    }
    let mut summary: BTreeMap<Target, DatabaseDigest> = BTreeMap::new();
    let mut add = |target: Target, list: fn(&mut DatabaseDigest) -> &mut Vec<DigestItem>, item| {
        let database = summary
            .entry(target.clone())
            .or_insert_with(|| DatabaseDigest {
                organization: target.organization.clone(),
                database: target.database.clone(),
                completed: Vec::new(),
                failed: Vec::new(),
                waiting: Vec::new(),
            });
        list(database).push(item);
    };
    for ((target, _), item) in completed {
        add(target, |database| &mut database.completed, item);
    }
    for ((target, _), item) in failed {
        add(target, |database| &mut database.failed, item);
    }
    for (target, state) in store.target_states().await? {
        if !digest.covers(&target.organization, &target.database) {
            continue;
        }
        for item in waiting(&target, &state, &journal) {
            add(target.clone(), |database| &mut database.waiting, item);
        }
    }
    Ok(diff_engine::Digest {
        name: digest.name.clone(),
        period_start: start,
        period_end: end,
        timezone: digest.timezone_name.clone(),
        databases: summary.into_values().collect(),
        dead_letters: u64::try_from(store.dead_letters_len().await?).unwrap_or(u64::MAX),
    })
}

/// The workflows and deploy requests of `target` that wait for a person now, and since when:
/// a deploy request from when it became ready to cut over, a workflow from the journal's
/// latest event that put it in its state (unknown when that is older than the journal).
fn waiting(target: &Target, state: &TargetState, journal: &[Event]) -> Vec<DigestItem> {
    let base = format!(
        "https://app.planetscale.com/{}/{}",
        target.organization, target.database
    );
    let mut items = Vec::new();
    for workflow in state.workflows.values() {
        if workflow.state.motion() != Motion::Waiting {
            continue;
        }
        let since = journal
            .iter()
            .rev()
            .find(|event| {
                event.target() == *target
                    && matches!(&event.kind, EventKind::WorkflowStateChanged { state, workflow: seen, .. }
                        if seen.number == workflow.number && *state == workflow.state)
            })
            .map(|event| event.observed_at);
        items.push(DigestItem {
            resource: format!("workflow #{} {}", workflow.number, workflow.name),
            state: workflow.state.as_str().to_owned(),
            since,
            errors: None,
            url: Some(format!("{base}/workflows")),
        });
    }
    for (number, request) in &state.deploy_requests {
        if request.motion() != Motion::Waiting {
            continue;
        }
        items.push(DigestItem {
            resource: format!("deploy request #{number}"),
            state: request.deployment_state.as_str().to_owned(),
            since: request.waiting.pending_cutover_since,
            errors: None,
            url: Some(format!("{base}/deploy-requests/{number}")),
        });
    }
    items
}
