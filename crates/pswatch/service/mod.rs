//! The service: started once, it owns the [`Shared`] parts, the admin server, the scheduler
//! and a delivery worker per channel, and runs until shutdown. A reload swaps the pipeline (the
//! router, the notifier, the watches), reconciles the scheduler's targets (those kept keep their
//! schedule and backoff, and no poll is repeated) and changes the budget's limit in place;
//! nothing stops for it.

pub(crate) mod delivery;
pub(crate) mod metrics;
pub(crate) mod pipeline;
pub(crate) mod push;
pub(crate) mod receiver;
pub(crate) mod scheduler;
pub(crate) mod serve;
pub(crate) mod shared;
pub(crate) mod status;
mod workers;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use diff_engine::{Motion, Target};
use poller::Priority;
use time::OffsetDateTime;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument as _;

use crate::config::Config;
use crate::service::pipeline::{Pipeline, PollFailure, PollReport};
use crate::service::receiver::Inbound;
use crate::service::scheduler::{Outcome, Scheduler};
use crate::service::shared::{budget_of, Shared};
use workers::{start_workers, Workers, WORKER_RESTART_DELAY};

/// How often organizations watched with `["*"]` are listed again for new databases.
const DISCOVERY_INTERVAL: Duration = Duration::from_secs(600);
/// How far ahead something that is not due again (a listing under way, or none to make) is
/// put: far enough to mean never, near enough not to overflow an `Instant`.
const NOT_DUE: Duration = Duration::from_secs(u32::MAX as u64);
/// How often the store is tried while its writes fail.
const STORE_PROBE_EVERY: Duration = Duration::from_secs(5);
/// How long the store may fail every write before pswatch stops, so that its supervisor starts
/// it again on a store read back from disk (sled keeps an I/O error once it had one).
const STORE_GIVE_UP_AFTER: Duration = Duration::from_secs(30);
/// How long shutdown waits for polls and deliveries in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// What one listing of the watched databases found: the targets, and the organizations that
/// could not be listed.
type Listed = (Vec<Target>, Vec<(String, String)>);

/// Runs the service with `config` until `shutdown` is cancelled, applying each configuration
/// that arrives on `reloads` (already validated).
///
/// Targets that move on their own are polled every `active_interval`, those waiting for a person
/// every `waiting_interval`, idle ones every `interval`, the first polls spread over one interval.
/// Every request passes the shared budget, active targets first; when the budget cannot serve
/// every interval, idle targets wait their turn oldest-first and so are polled less often, and
/// the service says so once in its log and in `/api/status`. Organizations watched with `["*"]`
/// are listed again every ten minutes.
pub(crate) async fn run(
    shared: Arc<Shared>,
    config: Config,
    shutdown: CancellationToken,
    mut reloads: mpsc::Receiver<Config>,
) -> anyhow::Result<()> {
    let admin_listen = config.admin_listen;
    // The servers and the webhook checks; the delivery workers are `workers`.
    let tracker = TaskTracker::new();
    let mut workers = Workers::new();
    if let Some(address) = admin_listen {
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("cannot listen on admin.listen {address}; set another address, or admin.enabled = false"))?;
        let address = listener.local_addr()?;
        tracing::info!(%address, "admin server listening: /healthz /readyz /metrics /api/status");
        tracker.spawn(crate::admin::serve(
            Arc::clone(&shared),
            listener,
            shutdown.child_token(),
        ));
    }
    // PlanetScale's webhook deliveries: started once, on their own address; the secrets follow
    // reloads.
    let receiver_listen = config.receiver.as_ref().map(|receiver| receiver.listen);
    let public_url = config.public_url();
    let (secrets_sender, secrets) = watch::channel(receiver_secrets(&config));
    let (push_sender, mut pushes) = mpsc::channel::<Inbound>(1024);
    let mut pipeline = Arc::new(Pipeline::new(config, Arc::clone(&shared))?);
    let (current_sender, current) = watch::channel(Arc::clone(&pipeline));
    if let Some(address) = receiver_listen {
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| {
                format!("cannot listen on receiver.listen {address}; set another address")
            })?;
        let address = listener.local_addr()?;
        tracing::info!(%address, public_url = public_url.as_deref().unwrap_or("-"),
            "webhook receiver listening: POST /planetscale");
        tracker.spawn(crate::service::receiver::serve(
            listener,
            secrets,
            Arc::clone(&shared),
            current.clone(),
            push_sender,
            shutdown.child_token(),
        ));
    }
    // The webhooks of every watched database are read at start and every ten minutes while
    // the receiver is on: their secrets, and whether push is healthy.
    let mut next_push_check = tokio::time::Instant::now();
    pipeline.bury_unconfigured().await?;
    // One delivery worker per channel, so a slow or failing receiver holds up only itself.
    start_workers(&mut workers, &pipeline, &current, &shutdown, Duration::ZERO);

    let budget = Arc::clone(&shared.budget);
    let mut scheduler = Scheduler::new(pipeline.config.poll);
    let mut polls = tokio::task::JoinSet::new();
    // Which target each poll task polls, to free its slot whatever becomes of the task.
    let mut polling: HashMap<tokio::task::Id, Target> = HashMap::new();
    let mut next_discovery = tokio::time::Instant::now();
    let mut discovery_failures = 0u32;
    let mut overloaded = false;
    // The listing of the watched databases runs as a task: a slow organization holds up
    // nothing else.
    let mut discovery: Option<tokio::task::JoinHandle<Listed>> = None;
    let mut next_store_probe = tokio::time::Instant::now();
    loop {
        let now = tokio::time::Instant::now();
        if now >= next_discovery && discovery.is_none() {
            let pipeline = Arc::clone(&pipeline);
            discovery = Some(tokio::spawn(async move {
                let (targets, failures) = pipeline.targets().await;
                let failures = failures
                    .into_iter()
                    .map(|(organization, error)| (organization, error.to_string()))
                    .collect();
                (targets, failures)
            }));
            // Until it ends, the next one is not due.
            next_discovery = now + NOT_DUE;
        }

        if pipeline.config.receiver.is_some() && now >= next_push_check {
            next_push_check = now + crate::service::push::CHECK_INTERVAL;
            tracker.spawn(check_webhooks(
                Arc::clone(&pipeline),
                scheduler.targets(),
                shutdown.child_token(),
            ));
        }

        if shared.store_health.failing().is_some() && now >= next_store_probe {
            next_store_probe = now + STORE_PROBE_EVERY;
            probe_store(&shared, &pipeline.config.state_path, now).await?;
        }

        let due = scheduler.due(now, u64::from(budget.room(Priority::Low)));
        for (target, priority) in due.start {
            let pipeline = Arc::clone(&pipeline);
            let cancelled = shutdown.clone();
            let polled = target.clone();
            let task = polls.spawn(async move {
                let span = tracing::info_span!("poll", target_db = %polled);
                // A poll still waiting at shutdown is dropped: it has committed nothing.
                tokio::select! {
                    result = pipeline.poll(&polled, priority).instrument(span) => Some(result),
                    () = cancelled.cancelled() => None,
                }
            });
            polling.insert(task.id(), target);
        }

        let mut wake_at = scheduler
            .next_wake()
            .unwrap_or(next_discovery)
            .min(next_discovery);
        if pipeline.config.receiver.is_some() {
            wake_at = wake_at.min(next_push_check);
        }
        if shared.store_health.failing().is_some() {
            wake_at = wake_at.min(next_store_probe.max(now + Duration::from_millis(100)));
        }
        if due.blocked {
            // Look again soon: the budget's window slides. "Soon" is a small part of the window
            // (250 ms of a minute), so that time-scaled runs keep the same proportions.
            let recheck =
                (budget.window() / 240).clamp(Duration::from_millis(2), Duration::from_millis(250));
            wake_at = wake_at.max(now + recheck);
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            listed = async { discovery.as_mut().expect("guarded").await }, if discovery.is_some() => {
                discovery = None;
                let listed = listed.unwrap_or_else(|error| {
                    tracing::error!(%error, "listing the watched databases stopped unexpectedly (a bug in pswatch)");
                    let why = format!("the listing stopped unexpectedly: {error}");
                    (Vec::new(), pipeline.config.watches.iter().map(|watch| {
                        (watch.organization.clone(), why.clone())
                    }).collect())
                });
                let now = tokio::time::Instant::now();
                let added;
                (next_discovery, added) = discovered(&shared, &pipeline, &mut scheduler, listed, &mut discovery_failures, now);
                if added {
                    // New databases' webhooks are read now too.
                    next_push_check = now;
                }
            }
            Some((channel, panicked)) = workers.ended(), if !workers.is_empty() => {
                if shutdown.is_cancelled() {
                    continue;
                }
                let configured = pipeline.notifier.channel(&channel).is_some();
                if panicked {
                    shared.metrics.worker_restarts.with_label_values(&[channel.as_str()]).inc();
                    tracing::error!(channel, configured, "the channel's delivery worker stopped unexpectedly (a bug in pswatch); it starts again");
                }
                // A worker that ended as its channel was removed and added again is started
                // again too; a channel never has two.
                let delay = if panicked { WORKER_RESTART_DELAY } else { Duration::ZERO };
                start_workers(&mut workers, &pipeline, &current, &shutdown, delay);
            }
            Some(joined) = polls.join_next_with_id(), if !polls.is_empty() => {
                let (id, result) = match joined {
                    Ok((id, Some(result))) => (id, Ok(result)),
                    Ok((id, None)) => {
                        polling.remove(&id);
                        continue;
                    }
                    Err(error) => (error.id(), Err(error)),
                };
                let Some(target) = polling.remove(&id) else { continue };
                finish_poll(&pipeline, &mut scheduler, &target, result);
                note_budget(&pipeline, scheduler.demand_per_minute(), &mut overloaded);
            }
            Some(inbound) = pushes.recv() => match inbound {
                Inbound::Poll(target) => {
                    if scheduler.push(&target, tokio::time::Instant::now()) {
                        tracing::debug!(target_db = %target, "PlanetScale pushed a change; polling it now");
                    } else {
                        tracing::debug!(target_db = %target, "a webhook delivery for a database that is not watched");
                    }
                }
            },
            Some(next) = reloads.recv() => {
                if next.admin_listen != admin_listen {
                    tracing::warn!("admin.listen cannot change on reload; restart pswatch to move the admin server");
                }
                if next.receiver.as_ref().map(|receiver| receiver.listen) != receiver_listen {
                    tracing::warn!("receiver.listen cannot change on reload; restart pswatch to move the webhook receiver");
                }
                secrets_sender.send_replace(receiver_secrets(&next));
                match Pipeline::new(next, Arc::clone(&shared)) {
                    Ok(next) => {
                        pipeline = Arc::new(next);
                        let resized = budget_of(&pipeline.config);
                        budget.set_limit(resized.limit(), resized.window());
                        scheduler.set_intervals(pipeline.config.poll);
                        shared.show(&pipeline.config);
                        // The workers pick the new pipeline up at their next step; those of
                        // removed channels stop, new channels get one.
                        current_sender.send_replace(Arc::clone(&pipeline));
                        if let Err(error) = pipeline.bury_unconfigured().await {
                            tracing::error!(%error, "cannot move the deliveries of removed channels to the dead letters");
                        }
                        start_workers(&mut workers, &pipeline, &current, &shutdown, Duration::ZERO);
                        // The watches may have changed: list the targets again now, with them
                        // (a listing under way read the old ones).
                        if let Some(stale) = discovery.take() {
                            stale.abort();
                        }
                        next_discovery = tokio::time::Instant::now();
                        tracing::info!("configuration reloaded; polls and deliveries go on with it");
                    }
                    Err(error) => tracing::error!(%error, "configuration rejected on reload; the running one stays"),
                }
            }
            () = tokio::time::sleep_until(wake_at) => {}
        }
    }

    tracing::info!("shutting down: finishing polls and deliveries in flight");
    if let Some(discovery) = discovery {
        discovery.abort();
    }
    tracker.close();
    let drained = async {
        while polls.join_next().await.is_some() {}
        workers.wait().await;
        tracker.wait().await;
    };
    if tokio::time::timeout(SHUTDOWN_GRACE, drained).await.is_err() {
        tracing::warn!(grace = ?SHUTDOWN_GRACE, "work still running at the end of the grace period; it stays in the outbox");
    }
    shared.store.flush().await?;
    tracing::info!(pending = shared.store.outbox_len(), "stopped");
    Ok(())
}

/// Tries a write of the store while its writes fail: marks it writable again when the write
/// succeeds, and gives up (an error, which stops the service) when writes have failed for
/// [`STORE_GIVE_UP_AFTER`].
async fn probe_store(
    shared: &Shared,
    path: &std::path::Path,
    now: tokio::time::Instant,
) -> anyhow::Result<()> {
    let Some((since, first)) = shared.store_health.failing() else {
        return Ok(());
    };
    match shared.store.probe().await {
        Ok(()) => {
            shared.store_health.recovered();
            tracing::info!("the state store writes again");
        }
        Err(error) => {
            let failing = now.saturating_duration_since(since);
            if failing >= STORE_GIVE_UP_AFTER {
                anyhow::bail!(
                    "the state store at {} has failed every write for {}s ({error}; first: {first}); pswatch stops so that its supervisor starts it again on the store as written on disk",
                    path.display(),
                    failing.as_secs()
                );
            }
            tracing::error!(%error, "the state store cannot write; polls, pushed events and deliveries wait (see /readyz)");
        }
    }
    Ok(())
}

/// Applies a listing of the watched databases to the scheduler and the board; returns when the
/// next listing is due.
fn discovered(
    shared: &Shared,
    pipeline: &Pipeline,
    scheduler: &mut Scheduler,
    (targets, failures): Listed,
    discovery_failures: &mut u32,
    now: tokio::time::Instant,
) -> (tokio::time::Instant, bool) {
    let unlisted: Vec<String> = failures
        .into_iter()
        .map(|(organization, error)| {
            tracing::error!(organization, %error, "cannot list the organization's databases");
            organization
        })
        .collect();
    // A database no longer listed by its organization (or no longer named in the
    // configuration) is no longer polled; one of an organization that could not be listed this
    // time stays watched.
    let reconciled = scheduler.reconcile(
        &targets,
        |target| unlisted.contains(&target.organization),
        |target| {
            shared
                .store
                .target_state(target)
                .ok()
                .flatten()
                .map_or(Motion::Idle, |state| state.motion())
        },
        now,
    );
    for target in &reconciled.added {
        tracing::info!(target_db = %target, "watching");
        shared.board.watch(target);
    }
    for target in &reconciled.removed {
        tracing::info!(target_db = %target, "no longer watched");
        shared.board.forget(target);
        shared.push.forget(target);
    }
    let discovers = pipeline
        .config
        .watches
        .iter()
        .any(|watch| watch.databases.is_none());
    let next = if !discovers && unlisted.is_empty() {
        now + NOT_DUE
    } else if unlisted.is_empty() {
        *discovery_failures = 0;
        now + DISCOVERY_INTERVAL
    } else {
        // A failed listing is tried again soon, backing off.
        *discovery_failures += 1;
        now + http_util::backoff(
            pipeline.config.poll.interval,
            *discovery_failures,
            DISCOVERY_INTERVAL,
        )
    };
    (next, !reconciled.added.is_empty())
}

/// Records a finished poll (or one whose task panicked) in the scheduler, the budget's reserve
/// and, last, the status, and wakes the channels it gave work to.
fn finish_poll(
    pipeline: &Pipeline,
    scheduler: &mut Scheduler,
    target: &Target,
    result: Result<Result<PollReport, PollFailure>, tokio::task::JoinError>,
) {
    let now = OffsetDateTime::now_utc();
    let (outcome, error, auth_failure) = match result {
        Ok(Ok(report)) => (
            Outcome::Polled {
                motion: report.motion,
                requests: report.requests,
            },
            None,
            false,
        ),
        Ok(Err(error)) => {
            let retry_after = match &error {
                PollFailure::Api(error) => error.retry_after(),
                PollFailure::Store(error) => {
                    pipeline.shared.store_health.failed(error);
                    None
                }
            };
            let auth_failure = matches!(&error, PollFailure::Api(error) if error.is_auth_failure());
            (
                Outcome::Failed { retry_after },
                Some(error.to_string()),
                auth_failure,
            )
        }
        Err(panicked) => {
            pipeline.metrics.poll_panics.inc();
            (
                Outcome::Panicked,
                Some(format!(
                    "the poll stopped unexpectedly (a bug in pswatch): {panicked}"
                )),
                false,
            )
        }
    };
    let Some(delay) = scheduler.finished(target, outcome, tokio::time::Instant::now()) else {
        return;
    };
    // The reserve follows the target's new motion before the status shows the poll.
    let budget = pipeline.client.budget();
    budget.reserve(scheduler.reserve(budget.window()));
    let failures = scheduler.failures(target);
    if let Some(error) = &error {
        if outcome == Outcome::Panicked {
            tracing::error!(target_db = %target, %error, failures, retry_in = ?delay,
                "poll panicked; the state is unchanged");
        } else {
            tracing::warn!(target_db = %target, %error, failures, retry_in = ?delay,
                "poll failed; the state is unchanged");
        }
    }
    pipeline.update_status(target, |status| {
        status.last_poll = Some(now);
        status.next_poll = Some(now + delay);
        status.failures = failures;
        status.auth_failure = auth_failure;
        match (outcome, error) {
            (Outcome::Polled { motion, .. }, _) => {
                status.active = motion == Motion::Active;
                status.motion = motion;
                status.last_success = Some(now);
                status.last_error = None;
            }
            (_, error) => status.last_error = error,
        }
    });
}

/// Says once, in the log and the status, when the budget cannot serve the configured intervals,
/// and again when it can.
/// Reads the webhooks of `targets`, one after the other through the budget: their secrets
/// verify deliveries, and whether one gives push decides how often idle polls list deploy
/// requests.
async fn check_webhooks(
    pipeline: Arc<Pipeline>,
    targets: Vec<Target>,
    shutdown: CancellationToken,
) {
    let public_url = pipeline.config.public_url();
    let client = pipeline.client.for_poll(Priority::Low);
    for target in targets {
        let listed = tokio::select! {
            () = shutdown.cancelled() => return,
            listed = client.list_webhooks(&target) => listed,
        };
        let now = tokio::time::Instant::now();
        match listed {
            Ok(webhooks) => {
                pipeline
                    .shared
                    .push
                    .note_webhooks(&target, &webhooks, public_url.as_deref());
            }
            Err(error) => {
                tracing::warn!(target_db = %target, %error,
                    "cannot read the database's webhooks (service token access read_database); push is judged by deliveries alone");
            }
        }
        let healthy = pipeline.shared.push.healthy(&target, now);
        pipeline
            .metrics
            .push_healthy
            .with_label_values(&[target.to_string().as_str()])
            .set(i64::from(healthy));
    }
}

/// The webhooks' secrets the configuration gives the receiver.
fn receiver_secrets(config: &Config) -> Vec<notifier::Secret> {
    config
        .receiver
        .as_ref()
        .map(|receiver| receiver.secrets.clone())
        .unwrap_or_default()
}

fn note_budget(pipeline: &Pipeline, demand: f64, overloaded: &mut bool) {
    let limit = f64::from(pipeline.client.budget().limit());
    if demand > limit && !*overloaded {
        *overloaded = true;
        let note = format!(
            "the configured intervals need about {demand:.0} API requests a minute but the budget \
             (planetscale.requests_per_minute) is {limit:.0}: databases in motion keep their \
             interval and idle ones are polled in turn, less often than `interval`"
        );
        tracing::warn!(demand = demand.round(), budget = limit, "{note}");
        pipeline.shared.board.set_budget_note(Some(note));
    } else if demand < limit * 0.9 && *overloaded {
        *overloaded = false;
        tracing::info!(
            demand = demand.round(),
            budget = limit,
            "the budget serves the configured intervals again"
        );
        pipeline.shared.board.set_budget_note(None);
    }
}
