//! The pipeline: poll a target, diff, commit state and outbox together, deliver the outbox.
//!
//! [`Engine::poll`] and [`Engine::deliver_pending`] are the two steps; `pswatch once` calls
//! each once, [`run`] loops them until shutdown, and the demo drives them on its own clock.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use diff_engine::{diff, DiffOptions, Target};
use notifier::{Channel, Decision, Notifier, Verdict};
use poller::{Client, ClientConfig, PollError};
use store::{DisabledChannel, NewDelivery, Store, StoreError};
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
/// The wait before reading the outbox again after the store failed.
const FIRST_DELIVERY_RETRY: Duration = Duration::from_secs(5);
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
    /// The channels that got new outbox entries.
    pub(crate) channels: BTreeSet<String>,
    /// Whether something of the target is in motion, so it deserves the shorter interval.
    pub(crate) in_motion: bool,
}

/// What one pass over the outbox did.
#[derive(Debug, Clone, Default)]
pub(crate) struct DeliveryReport {
    pub(crate) delivered: usize,
    /// Attempts that failed and were rescheduled.
    pub(crate) failed: usize,
    /// Groups of entries given up (moved to the dead letters).
    pub(crate) given_up: usize,
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
            channels: deliveries
                .iter()
                .map(|delivery| delivery.channel.clone())
                .collect(),
            in_motion: result.next.in_motion(),
        };
        self.store
            .commit_poll(target, &result.next, deliveries, now)
            .await?;
        Ok(report)
    }

    /// Whether `channel` is disabled because its receiver said it is gone. A channel whose
    /// configuration changed since is enabled again.
    async fn is_disabled(&self, channel: &Channel) -> Result<bool, StoreError> {
        let Some(disabled) = self.store.disabled_channel(&channel.name)? else {
            return Ok(false);
        };
        if disabled.fingerprint == channel.fingerprint() {
            return Ok(true);
        }
        tracing::info!(channel = %channel.name, "the channel was reconfigured since its receiver said it was gone; enabled again");
        self.store.enable_channel(&channel.name).await?;
        Ok(false)
    }

    /// Moves outbox entries of channels that are no longer configured to the dead letters,
    /// where `pswatch outbox` shows them and can put them back.
    pub(crate) async fn bury_unconfigured(&self) -> Result<(), StoreError> {
        let now = OffsetDateTime::now_utc();
        for entry in self.store.outbox()? {
            if self.notifier.channel(&entry.channel).is_none() {
                tracing::warn!(channel = %entry.channel, event_id = %entry.event.id,
                    "the channel is no longer configured; the delivery becomes a dead letter");
                self.store
                    .bury(
                        &[entry.id],
                        "the channel is not configured",
                        "the channel is no longer configured",
                        now,
                    )
                    .await?;
            }
        }
        Ok(())
    }

    /// Attempts the oldest pending delivery of `channel` if it is due: for Slack, email and
    /// the console together with the entries of the same poll that follow it, as one message.
    /// Entries are removed once accepted; a failure is rescheduled by the channel's retry
    /// policy or, when permanent or too old, moved to the dead letters.
    pub(crate) async fn deliver_next(&self, channel_name: &str) -> Result<Step, StoreError> {
        let Some(channel) = self.notifier.channel(channel_name) else {
            return Ok(Step::Idle);
        };
        if self.is_disabled(channel).await? {
            return Ok(Step::Disabled);
        }
        let entries = self.store.outbox_for(channel_name)?;
        let Some(head) = entries.first() else {
            return Ok(Step::Idle);
        };
        let now = OffsetDateTime::now_utc();
        if !head.is_due(now) {
            return Ok(Step::NotDueUntil(head.next_attempt_at.unwrap_or(now)));
        }
        let group: Vec<&store::OutboxEntry> = if channel.kind.groups_events() {
            entries
                .iter()
                .take_while(|entry| entry.poll == head.poll && entry.is_due(now))
                .collect()
        } else {
            vec![head]
        };
        let ids: Vec<u64> = group.iter().map(|entry| entry.id).collect();
        let events: Vec<diff_engine::Event> =
            group.iter().map(|entry| entry.event.clone()).collect();
        let error = match self.notifier.deliver(channel_name, &events).await {
            Ok(()) => {
                self.store.complete(&ids).await?;
                for event in &events {
                    tracing::info!(channel = channel_name, event_id = %event.id, "delivered");
                }
                return Ok(Step::Delivered(ids.len()));
            }
            Err(error) => error,
        };
        let policy = &channel.retry;
        let now = OffsetDateTime::now_utc();
        let failures = head.attempts.saturating_add(1);
        match policy.decide(head.created_at, failures, &error, now, fastrand::f64()) {
            Decision::RetryAt(at) => {
                self.store.reschedule(&ids, &error.message, at).await?;
                tracing::warn!(channel = channel_name, event_id = %head.event.id, attempts = failures,
                    retry_at = %at, %error, "delivery failed; it will be retried");
                Ok(Step::RetryAt(at))
            }
            Decision::GiveUp(reason) => {
                self.store.bury(&ids, &error.message, &reason, now).await?;
                tracing::error!(channel = channel_name, event_id = %head.event.id, attempts = failures,
                    %error, %reason, "delivery given up; it is now a dead letter (pswatch outbox list)");
                if error.verdict == Verdict::Gone {
                    tracing::error!(channel = channel_name, "CRITICAL: the receiver answered HTTP 410 Gone; the channel is disabled until its configuration changes");
                    self.store
                        .disable_channel(
                            channel_name,
                            &DisabledChannel {
                                fingerprint: channel.fingerprint(),
                                disabled_at: now,
                                reason: error.message.clone(),
                            },
                        )
                        .await?;
                }
                Ok(Step::GaveUp)
            }
        }
    }

    /// Delivers every due entry of every channel, channels concurrently, each in detection
    /// order, stopping at a channel's first entry that is not due or was rescheduled.
    pub(crate) async fn deliver_due(self: &Arc<Self>) -> Result<DeliveryReport, StoreError> {
        let mut workers = tokio::task::JoinSet::new();
        for channel in self.notifier.channel_names() {
            let engine = Arc::clone(self);
            let channel = channel.to_owned();
            workers.spawn(async move {
                let mut report = DeliveryReport::default();
                loop {
                    match engine.deliver_next(&channel).await? {
                        Step::Delivered(count) => report.delivered += count,
                        Step::GaveUp => report.given_up += 1,
                        Step::RetryAt(_) => {
                            report.failed += 1;
                            return Ok::<_, StoreError>(report);
                        }
                        Step::Idle | Step::NotDueUntil(_) | Step::Disabled => return Ok(report),
                    }
                }
            });
        }
        let mut report = DeliveryReport::default();
        while let Some(joined) = workers.join_next().await {
            match joined {
                Ok(Ok(channel)) => {
                    report.delivered += channel.delivered;
                    report.failed += channel.failed;
                    report.given_up += channel.given_up;
                }
                Ok(Err(error)) => return Err(error),
                Err(error) => tracing::error!(%error, "a delivery worker failed"),
            }
        }
        report.pending = self.store.outbox_len();
        Ok(report)
    }
}

/// What one delivery step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Nothing pending for the channel.
    Idle,
    /// The oldest entry waits for its next attempt.
    NotDueUntil(OffsetDateTime),
    /// This many entries were accepted.
    Delivered(usize),
    /// The attempt failed and is rescheduled.
    RetryAt(OffsetDateTime),
    /// The attempt failed for good; the entries are dead letters.
    GaveUp,
    /// The channel's receiver said it is gone.
    Disabled,
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
    engine.bury_unconfigured().await?;
    // One delivery worker per channel, so a slow or failing receiver holds up only itself.
    let mut wakes = HashMap::new();
    for channel in engine.notifier.channel_names() {
        let wake = Arc::new(Notify::new());
        tracker.spawn(channel_worker(
            Arc::clone(&engine),
            channel.to_owned(),
            shutdown.child_token(),
            Arc::clone(&wake),
        ));
        wakes.insert(channel.to_owned(), wake);
    }
    let wakes = Arc::new(wakes);

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
                Arc::clone(&wakes),
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
    wakes: Arc<HashMap<String, Arc<Notify>>>,
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
                for channel in &report.channels {
                    if let Some(wake) = wakes.get(channel) {
                        wake.notify_one();
                    }
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

/// Delivers one channel's outbox until shutdown: each entry when it is due, in detection
/// order, sleeping until the next one is due or a poll adds one.
async fn channel_worker(
    engine: Arc<Engine>,
    channel: String,
    shutdown: CancellationToken,
    wake: Arc<Notify>,
) {
    loop {
        if shutdown.is_cancelled() {
            return;
        }
        let wait = match engine.deliver_next(&channel).await {
            Ok(Step::Delivered(_) | Step::GaveUp) => continue,
            Ok(Step::Idle | Step::Disabled) => None,
            Ok(Step::NotDueUntil(at) | Step::RetryAt(at)) => {
                let left = at - OffsetDateTime::now_utc();
                Some(Duration::try_from(left).unwrap_or(Duration::ZERO))
            }
            Err(error) => {
                tracing::error!(channel, %error, "cannot read or update the outbox");
                Some(FIRST_DELIVERY_RETRY)
            }
        };
        // A poll that adds an entry for this channel wakes the worker, so a new event never
        // waits for a timer.
        match wait {
            Some(wait) => tokio::select! {
                () = shutdown.cancelled() => return,
                () = wake.notified() => {}
                () = tokio::time::sleep(wait) => {}
            },
            None => tokio::select! {
                () = shutdown.cancelled() => return,
                () = wake.notified() => {}
            },
        }
    }
}
