//! The pipeline: poll a target, diff, commit state and outbox together, deliver the outbox.
//!
//! [`Engine::poll`] and [`Engine::deliver_pending`] are the two steps; `pswatch once` calls
//! each once, [`run`] loops them until shutdown, and the demo drives them on its own clock.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use diff_engine::{diff, DiffOptions, Target};
use notifier::Notifier;
use poller::{Client, ClientConfig, PollError};
use store::{NewDelivery, Store, StoreError};
use time::OffsetDateTime;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument as _;

use crate::config::{Config, Watch};

/// How often organizations watched with `["*"]` are listed again for new databases.
const DISCOVERY_INTERVAL: Duration = Duration::from_secs(600);
/// The longest wait between two polls of a failing target.
const MAX_POLL_BACKOFF: Duration = Duration::from_secs(600);
/// The first and the longest wait before retrying failed deliveries.
const FIRST_DELIVERY_RETRY: Duration = Duration::from_secs(5);
const MAX_DELIVERY_RETRY: Duration = Duration::from_secs(300);
/// How long shutdown waits for polls and deliveries in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// Why a poll failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PollFailure {
    #[error(transparent)]
    Api(#[from] PollError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What one successful poll did.
#[derive(Debug, Clone)]
pub(crate) struct PollReport {
    pub(crate) events: usize,
    pub(crate) deliveries: usize,
    /// Whether something of the target is in motion, so it deserves the shorter interval.
    pub(crate) in_motion: bool,
}

/// What one pass over the outbox did.
#[derive(Debug, Clone, Default)]
pub(crate) struct DeliveryReport {
    pub(crate) delivered: usize,
    pub(crate) failed: usize,
    /// Entries still in the outbox after the pass.
    pub(crate) pending: usize,
}

/// The wired pipeline.
pub(crate) struct Engine {
    pub(crate) config: Config,
    pub(crate) client: Client,
    pub(crate) store: Store,
    pub(crate) notifier: Notifier,
}

impl Engine {
    pub(crate) fn new(config: Config, store: Store) -> anyhow::Result<Self> {
        let mut client_config = ClientConfig::new(
            config.planetscale.api_url.clone(),
            config.planetscale.token.clone(),
        );
        client_config.timeout = config.planetscale.timeout;
        let client = Client::new(client_config)?;
        let notifier = Notifier::new(&config.channels)?;
        Ok(Self {
            config,
            client,
            store,
            notifier,
        })
    }

    /// The targets of the configuration; organizations watched with `["*"]` are listed through
    /// the API. An organization that cannot be listed is reported and skipped.
    pub(crate) async fn targets(&self) -> (Vec<Target>, Vec<(String, PollError)>) {
        let mut targets = Vec::new();
        let mut failures = Vec::new();
        for Watch {
            organization,
            databases,
        } in &self.config.watches
        {
            match databases {
                Some(databases) => targets.extend(
                    databases
                        .iter()
                        .map(|database| Target::new(organization.as_str(), database.as_str())),
                ),
                None => match self.client.list_databases(organization).await {
                    Ok(databases) => targets.extend(
                        databases
                            .into_iter()
                            .filter(|database| database.is_mysql())
                            .map(|database| Target::new(organization.as_str(), database.name)),
                    ),
                    Err(error) => failures.push((organization.clone(), error)),
                },
            }
        }
        (targets, failures)
    }

    /// Polls `target` once: observe, diff against the stored state, and commit the next state
    /// with one outbox entry per routed (event, channel), flushed before returning. A failed
    /// observation changes nothing.
    pub(crate) async fn poll(&self, target: &Target) -> Result<PollReport, PollFailure> {
        let previous = self.store.target_state(target)?;
        let observation = self.client.observe(target, previous.as_ref()).await?;
        let now = OffsetDateTime::now_utc();
        let result = diff(
            target,
            previous.as_ref(),
            &observation,
            now,
            DiffOptions {
                notify_on_baseline_errors: self.config.poll.notify_on_baseline_errors,
            },
        );
        for anomaly in &result.anomalies {
            tracing::warn!(target_db = %target, %anomaly, "odd data from the API");
        }
        if previous.is_none() {
            tracing::info!(target_db = %target, workflows = result.next.workflows.len(),
                deploy_requests = result.next.deploy_requests.len(), "baseline recorded");
        }
        let mut deliveries = Vec::new();
        for event in &result.events {
            let channels = self.config.router.channels_for(event);
            tracing::info!(target_db = %target, event_id = %event.id, event_type = event.type_name(),
                change = %notifier::render::change(event), channels = ?channels, "transition detected");
            deliveries.extend(channels.into_iter().map(|channel| NewDelivery {
                channel,
                event: event.clone(),
            }));
        }
        let report = PollReport {
            events: result.events.len(),
            deliveries: deliveries.len(),
            in_motion: result.next.in_motion(),
        };
        self.store
            .commit_poll(target, &result.next, deliveries, now)
            .await?;
        Ok(report)
    }

    /// One pass over the outbox: each channel's entries in detection order, concurrently across
    /// channels. An entry is removed only after its receiver accepted it; at a channel's first
    /// failure the rest of that channel waits for the next pass, so nothing overtakes it.
    pub(crate) async fn deliver_pending(self: &Arc<Self>) -> Result<DeliveryReport, StoreError> {
        let mut by_channel: BTreeMap<String, Vec<store::OutboxEntry>> = BTreeMap::new();
        for entry in self.store.outbox()? {
            by_channel
                .entry(entry.channel.clone())
                .or_default()
                .push(entry);
        }
        let mut workers = tokio::task::JoinSet::new();
        for (channel, entries) in by_channel {
            let engine = Arc::clone(self);
            workers.spawn(async move { engine.deliver_channel(&channel, entries).await });
        }
        let mut report = DeliveryReport::default();
        while let Some(joined) = workers.join_next().await {
            match joined {
                Ok(Ok((delivered, failed))) => {
                    report.delivered += delivered;
                    report.failed += failed;
                }
                Ok(Err(error)) => return Err(error),
                Err(error) => tracing::error!(%error, "a delivery worker failed"),
            }
        }
        report.pending = self.store.outbox_len();
        Ok(report)
    }

    async fn deliver_channel(
        &self,
        channel: &str,
        entries: Vec<store::OutboxEntry>,
    ) -> Result<(usize, usize), StoreError> {
        let mut delivered = 0;
        for entry in entries {
            match self.notifier.deliver(channel, &entry.event).await {
                Ok(()) => {
                    self.store.complete_delivery(entry.id).await?;
                    delivered += 1;
                    tracing::debug!(channel, event_id = %entry.event.id, "delivered");
                }
                Err(error) => {
                    let entry = self.store.record_failure(entry.id, &error.message).await?;
                    tracing::warn!(channel, event_id = %entry.event.id, attempts = entry.attempts,
                        transient = error.is_transient(), %error, "delivery failed; it stays in the outbox");
                    return Ok((delivered, 1));
                }
            }
        }
        Ok((delivered, 0))
    }
}

/// The delay before the next poll of a target after `failures` failures in a row.
fn poll_backoff(interval: Duration, failures: u32, error: &PollFailure) -> Duration {
    let backoff = interval
        .saturating_mul(2u32.saturating_pow(failures.saturating_sub(1).min(16)))
        .min(MAX_POLL_BACKOFF);
    match error {
        PollFailure::Api(error) => error
            .retry_after()
            .map_or(backoff, |retry_after| retry_after.max(backoff)),
        PollFailure::Store(_) => backoff,
    }
}

/// Runs the service until `shutdown` is cancelled: a task per target polling at its interval,
/// a task delivering the outbox, and for `["*"]` watches a task discovering new databases.
pub(crate) async fn run(engine: Arc<Engine>, shutdown: CancellationToken) -> anyhow::Result<()> {
    let tracker = TaskTracker::new();
    let wake_delivery = Arc::new(Notify::new());
    tracker.spawn(deliver_loop(
        Arc::clone(&engine),
        shutdown.child_token(),
        Arc::clone(&wake_delivery),
    ));

    let mut watched: HashMap<Target, CancellationToken> = HashMap::new();
    let discovers = engine
        .config
        .watches
        .iter()
        .any(|watch| watch.databases.is_none());
    let mut discovery_failures = 0u32;
    loop {
        let (targets, failures) = tokio::select! {
            () = shutdown.cancelled() => break,
            listed = engine.targets() => listed,
        };
        let mut unlisted = Vec::new();
        for (organization, error) in failures {
            tracing::error!(organization, %error, "cannot list the organization's databases");
            unlisted.push(organization);
        }
        let new: Vec<Target> = targets
            .iter()
            .filter(|target| !watched.contains_key(target))
            .cloned()
            .collect();
        // Spread the first polls over one interval instead of firing them all at once.
        let spacing =
            engine.config.poll.interval / u32::try_from(new.len().max(1)).unwrap_or(u32::MAX);
        for (index, target) in new.into_iter().enumerate() {
            tracing::info!(target_db = %target, "watching");
            let token = shutdown.child_token();
            let delay = spacing.saturating_mul(u32::try_from(index).unwrap_or(u32::MAX));
            tracker.spawn(watch_target(
                Arc::clone(&engine),
                target.clone(),
                token.clone(),
                Arc::clone(&wake_delivery),
                delay,
            ));
            watched.insert(target, token);
        }
        // A database no longer listed by its organization is no longer polled; one of an
        // organization that could not be listed this time stays watched.
        watched.retain(|target, token| {
            let keep = targets.contains(target) || unlisted.contains(&target.organization);
            if !keep {
                tracing::info!(target_db = %target, "no longer listed; stopped watching");
                token.cancel();
            }
            keep
        });
        if !discovers {
            break;
        }
        // A failed listing is tried again soon, backing off; a good one every ten minutes.
        let wait = if unlisted.is_empty() {
            discovery_failures = 0;
            DISCOVERY_INTERVAL
        } else {
            discovery_failures += 1;
            engine
                .config
                .poll
                .interval
                .saturating_mul(2u32.saturating_pow(discovery_failures.min(16)))
                .min(DISCOVERY_INTERVAL)
        };
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(wait) => {}
        }
    }
    shutdown.cancelled().await;
    tracing::info!("shutting down: finishing polls and deliveries in flight");
    tracker.close();
    if tokio::time::timeout(SHUTDOWN_GRACE, tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!(grace = ?SHUTDOWN_GRACE, "tasks still running at the end of the grace period; their work stays in the outbox");
    }
    engine.store.flush().await?;
    tracing::info!(pending = engine.store.outbox_len(), "stopped");
    Ok(())
}

async fn watch_target(
    engine: Arc<Engine>,
    target: Target,
    shutdown: CancellationToken,
    wake_delivery: Arc<Notify>,
    initial_delay: Duration,
) {
    let poll = engine.config.poll;
    let mut delay = initial_delay;
    let mut failures = 0u32;
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(delay) => {}
        }
        let span = tracing::info_span!("poll", target_db = %target);
        delay = match engine.poll(&target).instrument(span).await {
            Ok(report) => {
                failures = 0;
                if report.deliveries > 0 {
                    wake_delivery.notify_one();
                }
                if report.in_motion {
                    poll.active_interval
                } else {
                    poll.interval
                }
            }
            Err(error) => {
                failures += 1;
                let backoff = poll_backoff(poll.interval, failures, &error);
                tracing::warn!(target_db = %target, %error, failures, retry_in = ?backoff, "poll failed; the state is unchanged");
                backoff
            }
        };
    }
}

async fn deliver_loop(engine: Arc<Engine>, shutdown: CancellationToken, wake: Arc<Notify>) {
    let mut retry = FIRST_DELIVERY_RETRY;
    // Deliver whatever a previous run left in the outbox right away.
    let mut delay = Duration::ZERO;
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = wake.notified() => {}
            () = tokio::time::sleep(delay) => {}
        }
        match engine.deliver_pending().await {
            Ok(report) if report.failed > 0 => {
                delay = retry;
                retry = (retry * 2).min(MAX_DELIVERY_RETRY);
            }
            Ok(report) => {
                retry = FIRST_DELIVERY_RETRY;
                // Nothing failed: sleep until woken, checking now and then for pending entries.
                delay = if report.pending > 0 {
                    Duration::ZERO
                } else {
                    MAX_DELIVERY_RETRY
                };
            }
            Err(error) => {
                tracing::error!(%error, "cannot read or update the outbox");
                delay = retry;
                retry = (retry * 2).min(MAX_DELIVERY_RETRY);
            }
        }
    }
}
