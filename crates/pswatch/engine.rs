//! The pipeline: poll a target, diff, commit state and outbox together, deliver the outbox.
//!
//! [`Engine::poll`] and [`Engine::deliver_pending`] are the two steps; `pswatch once` calls
//! each once, [`run`] loops them until shutdown, and the demo drives them on its own clock.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use diff_engine::{diff, DiffOptions, Motion, Target};
use notifier::{Channel, Decision, Notifier, Verdict};
use poller::{Budget, Client, ClientConfig, PollError, Priority};
use store::{DisabledChannel, NewDelivery, Store, StoreError};
use time::OffsetDateTime;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument as _;

use crate::config::{Config, Watch};
use crate::metrics::Metrics;
use crate::scheduler::{Outcome, Scheduler};

/// How often organizations watched with `["*"]` are listed again for new databases.
const DISCOVERY_INTERVAL: Duration = Duration::from_secs(600);
/// The wait before reading the outbox again after the store failed.
const FIRST_DELIVERY_RETRY: Duration = Duration::from_secs(5);
/// How long shutdown waits for polls and deliveries in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// The request budget a configuration asks for. The window is a sixtieth longer than
/// configured (a second a minute): a request leaves when its permit is taken and arrives a little
/// later, so without that margin the API could count one request more in its window than
/// pswatch did in its own.
pub(crate) fn budget_of(config: &Config) -> Budget {
    let window = config.planetscale.budget_window;
    Budget::new(config.planetscale.requests_per_minute, window + window / 60)
}

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
    /// API requests the poll made.
    pub(crate) requests: u64,
    pub(crate) events: usize,
    /// The channels that got new outbox entries.
    pub(crate) channels: BTreeSet<String>,
    /// How urgently the target deserves its next poll.
    pub(crate) motion: Motion,
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
    /// What the scheduler knows of each target, for the status page.
    pub(crate) status: std::sync::Mutex<SchedulerStatus>,
    pub(crate) metrics: Arc<Metrics>,
    /// The store's key of channel fingerprints.
    pub(crate) fingerprint_key: Vec<u8>,
    /// The PostgreSQL databases among those named in each organization's `[[watch]]`.
    postgres: std::sync::Mutex<BTreeMap<String, BTreeSet<String>>>,
}

/// The scheduler's view, shared with the admin server.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub(crate) struct SchedulerStatus {
    pub(crate) targets: BTreeMap<String, TargetStatus>,
    /// Set while the budget cannot serve the configured intervals: what that means.
    pub(crate) budget_note: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct TargetStatus {
    /// Something of the target moves on its own: polled at `active_interval`.
    pub(crate) active: bool,
    /// `active`, `waiting` (for a person: polled at `waiting_interval`) or `idle`.
    pub(crate) motion: Motion,
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) last_poll: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) last_success: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) next_poll: Option<OffsetDateTime>,
    pub(crate) last_error: Option<String>,
    pub(crate) failures: u32,
    pub(crate) auth_failure: bool,
    /// API requests of the last poll.
    pub(crate) requests_per_poll: u64,
}

impl Default for TargetStatus {
    fn default() -> Self {
        Self {
            active: false,
            motion: Motion::Idle,
            last_poll: None,
            last_success: None,
            next_poll: None,
            last_error: None,
            failures: 0,
            auth_failure: false,
            requests_per_poll: 0,
        }
    }
}

impl Engine {
    pub(crate) fn new(config: Config, store: Store) -> anyhow::Result<Self> {
        let budget = Arc::new(budget_of(&config));
        Self::with_shared(config, store, Arc::new(Metrics::new()), budget)
    }

    /// An engine that keeps the metrics and the request budget of the one before it, so that a
    /// reload neither resets counters nor allows a second budget's worth of requests.
    pub(crate) fn with_shared(
        config: Config,
        store: Store,
        metrics: Arc<Metrics>,
        budget: Arc<Budget>,
    ) -> anyhow::Result<Self> {
        let mut client_config = ClientConfig::new(
            config.planetscale.api_url.clone(),
            config.planetscale.token.clone(),
            budget,
        );
        client_config.timeout = config.planetscale.timeout;
        client_config.observer = Some(Arc::clone(&metrics) as Arc<dyn poller::RequestObserver>);
        let client = Client::new(client_config)?;
        let notifier = Notifier::new(&config.channels)?;
        let fingerprint_key = store.fingerprint_key()?;
        Ok(Self {
            fingerprint_key,
            config,
            client,
            store,
            notifier,
            status: std::sync::Mutex::new(SchedulerStatus::default()),
            metrics,
            postgres: std::sync::Mutex::default(),
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
                Some(databases) => {
                    let postgres = self.postgres_databases(organization).await;
                    targets.extend(
                        databases
                            .iter()
                            .filter(|database| !postgres.contains(*database))
                            .map(|database| Target::new(organization.as_str(), database.as_str())),
                    )
                }
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

    /// Which databases named in `organization`'s `[[watch]]` are PostgreSQL ones, which have no
    /// workflows or deploy requests: asked once (one list of the organization's databases),
    /// each reported once and then skipped. When the list cannot be read (a token with access to
    /// the named databases only, say), every named database is watched.
    async fn postgres_databases(&self, organization: &str) -> BTreeSet<String> {
        let mut known = self
            .postgres
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(organization)
            .cloned();
        if let Some(known) = known.take() {
            return known;
        }
        let named: BTreeSet<&str> = self
            .config
            .watches
            .iter()
            .filter(|watch| watch.organization == organization)
            .flat_map(|watch| watch.databases.iter().flatten().map(String::as_str))
            .collect();
        let postgres: BTreeSet<String> = match self.client.list_databases(organization).await {
            Ok(databases) => databases
                .into_iter()
                .filter(|database| !database.is_mysql() && named.contains(database.name.as_str()))
                .map(|database| {
                    tracing::warn!(target_db = %Target::new(organization, database.name.as_str()), kind = %database.kind,
                        "a PostgreSQL database has no workflows or deploy requests; it is not watched (remove it from [[watch]] databases)");
                    database.name
                })
                .collect(),
            Err(error) => {
                tracing::info!(organization, %error, "cannot list the organization's databases to tell their kinds; every database named in [[watch]] is watched");
                BTreeSet::new()
            }
        };
        self.postgres
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(organization.to_owned(), postgres.clone());
        postgres
    }

    /// Polls `target` once: observe, diff against the stored state, and commit the next state
    /// with one outbox entry per routed (event, channel), flushed before returning. A failed
    /// observation changes nothing.
    pub(crate) async fn poll(
        &self,
        target: &Target,
        priority: Priority,
    ) -> Result<PollReport, PollFailure> {
        let result = self.poll_once(target, priority).await;
        let outcome = if result.is_ok() { "ok" } else { "error" };
        let name = target.to_string();
        self.metrics
            .polls
            .with_label_values(&[name.as_str(), outcome])
            .inc();
        if result.is_ok() {
            let now = OffsetDateTime::now_utc().unix_timestamp() as f64;
            self.metrics
                .last_successful_poll
                .with_label_values(&[name.as_str()])
                .set(now);
        }
        result
    }

    async fn poll_once(
        &self,
        target: &Target,
        priority: Priority,
    ) -> Result<PollReport, PollFailure> {
        let previous = self.store.target_state(target)?;
        let client = self.client.for_poll(priority);
        let observed = client.observe(target, previous.as_ref()).await;
        self.note_requests(target, client.poll_requests());
        let observation = observed?;
        let now = OffsetDateTime::now_utc();
        let result = diff(
            target,
            previous.as_ref(),
            &observation,
            now,
            DiffOptions {
                notify_on_baseline_errors: self.config.poll.notify_on_baseline_errors,
                notify_pending_ready: self.config.poll.notify_pending_ready,
            },
        );
        for anomaly in &result.anomalies {
            self.metrics
                .anomalies
                .with_label_values(&[target.to_string().as_str(), anomaly.kind()])
                .inc();
            tracing::warn!(target_db = %target, kind = anomaly.kind(), %anomaly, "odd data from the API");
        }
        if previous.is_none() {
            tracing::info!(target_db = %target, workflows = result.next.workflows.len(),
                deploy_requests = result.next.deploy_requests.len(), "baseline recorded");
        }
        let mut deliveries = Vec::new();
        for event in &result.events {
            self.metrics
                .events
                .with_label_values(&[event.type_name()])
                .inc();
            let channels = self.config.router.channels_for(event);
            tracing::info!(target_db = %target, event_id = %event.id, event_type = event.type_name(),
                change = %notifier::render::change(event), channels = ?channels, "transition detected");
            deliveries.extend(channels.into_iter().map(|channel| NewDelivery {
                channel,
                event: event.clone(),
            }));
        }
        let report = PollReport {
            requests: client.poll_requests(),
            events: result.events.len(),
            channels: deliveries
                .iter()
                .map(|delivery| delivery.channel.clone())
                .collect(),
            motion: result.next.motion(),
        };
        // A poll that changed nothing has nothing to write: skipping the commit spares a disk
        // flush per poll, most polls of a quiet fleet.
        if deliveries.is_empty() && previous.as_ref() == Some(&result.next) {
            return Ok(report);
        }
        self.store
            .commit_poll(target, &result.next, deliveries, now)
            .await?;
        Ok(report)
    }

    fn note_requests(&self, target: &Target, requests: u64) {
        self.update_status(target, |status| status.requests_per_poll = requests);
    }

    /// Changes what the status page shows of `target`.
    pub(crate) fn update_status(&self, target: &Target, change: impl FnOnce(&mut TargetStatus)) {
        let mut status = self
            .status
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        change(status.targets.entry(target.to_string()).or_default());
    }

    /// Whether `channel` is disabled because its receiver said it is gone. A channel whose
    /// configuration changed since is enabled again.
    async fn is_disabled(&self, channel: &Channel) -> Result<bool, StoreError> {
        let Some(disabled) = self.store.disabled_channel(&channel.name)? else {
            return Ok(false);
        };
        if disabled.fingerprint == channel.fingerprint(&self.fingerprint_key) {
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
        for channel in self.store.outbox_counts()?.into_keys() {
            if self.notifier.channel(&channel).is_some() {
                continue;
            }
            let ids: Vec<u64> = self
                .store
                .outbox_of(&channel)
                .map(|entry| entry.map(|entry| entry.id))
                .collect::<Result<_, _>>()?;
            tracing::warn!(%channel, entries = ids.len(),
                "the channel is no longer configured; its deliveries become dead letters");
            self.store
                .bury(
                    &channel,
                    &ids,
                    "the channel is not configured",
                    "the channel is no longer configured",
                    now,
                )
                .await?;
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
        // The channel's entries are read one at a time: the head, and for a grouping channel
        // those of the same poll that follow it, never the whole backlog.
        let mut entries = self.store.outbox_of(channel_name);
        let Some(head) = entries.next().transpose()? else {
            return Ok(Step::Idle);
        };
        let now = OffsetDateTime::now_utc();
        if !head.is_due(now) {
            return Ok(Step::NotDueUntil(head.next_attempt_at.unwrap_or(now)));
        }
        let mut group = vec![head];
        if channel.kind.groups_events() {
            for entry in entries {
                let entry = entry?;
                if entry.poll != group[0].poll || !entry.is_due(now) {
                    break;
                }
                group.push(entry);
            }
        }
        let head = &group[0];
        let ids: Vec<u64> = group.iter().map(|entry| entry.id).collect();
        let events: Vec<diff_engine::Event> =
            group.iter().map(|entry| entry.event.clone()).collect();
        let error = match self.notifier.deliver(channel_name, &events).await {
            Ok(()) => {
                self.store.complete(channel_name, &ids).await?;
                let latency = OffsetDateTime::now_utc() - head.created_at;
                self.metrics.delivered(
                    channel_name,
                    ids.len(),
                    Duration::try_from(latency).unwrap_or_default(),
                );
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
        match policy.decide(
            head.created_at,
            failures,
            error.verdict,
            error.retry_after,
            now,
            fastrand::f64(),
        ) {
            Decision::RetryAt(at) => {
                self.store
                    .reschedule(channel_name, &ids, &error.message, at)
                    .await?;
                self.metrics
                    .deliveries
                    .with_label_values(&[channel_name, "retry"])
                    .inc_by(ids.len() as u64);
                tracing::warn!(channel = channel_name, event_id = %head.event.id, attempts = failures,
                    retry_at = %at, %error, "delivery failed; it will be retried");
                Ok(Step::RetryAt(at))
            }
            Decision::GiveUp(reason) => {
                self.store
                    .bury(channel_name, &ids, &error.message, &reason, now)
                    .await?;
                self.metrics
                    .deliveries
                    .with_label_values(&[channel_name, "dead"])
                    .inc_by(ids.len() as u64);
                tracing::error!(channel = channel_name, event_id = %head.event.id, attempts = failures,
                    %error, %reason, "delivery given up; it is now a dead letter (pswatch outbox list)");
                if error.verdict == Verdict::Gone {
                    tracing::error!(channel = channel_name, "CRITICAL: the receiver answered HTTP 410 Gone; the channel is disabled until its configuration changes");
                    self.store
                        .disable_channel(
                            channel_name,
                            &DisabledChannel {
                                fingerprint: channel.fingerprint(&self.fingerprint_key),
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

/// Runs the service until `shutdown` is cancelled: polls scheduled by the [`Scheduler`] within
/// the API budget, one delivery worker per channel, and, for `["*"]` watches, discovery of new
/// databases every ten minutes.
///
/// Targets that move on their own are polled every `active_interval`, those waiting for a person
/// every `waiting_interval`, idle ones every `interval`, the first polls spread over one interval.
/// Every request passes the shared budget, active targets first; when the budget cannot serve
/// every interval, idle targets wait their turn oldest-first and so are polled less often, and
/// the service says so once in its log and in `/api/status`.
pub(crate) async fn run(engine: Arc<Engine>, shutdown: CancellationToken) -> anyhow::Result<()> {
    let tracker = TaskTracker::new();
    if let Some(address) = engine.config.admin_listen {
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("cannot listen on admin.listen {address}; set another address, or admin.enabled = false"))?;
        let address = listener.local_addr()?;
        tracing::info!(%address, "admin server listening: /healthz /readyz /metrics /api/status");
        tracker.spawn(crate::admin::serve(
            Arc::clone(&engine),
            listener,
            shutdown.child_token(),
        ));
    }
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

    let budget = Arc::clone(engine.client.budget());
    let discovers = engine
        .config
        .watches
        .iter()
        .any(|watch| watch.databases.is_none());
    let mut scheduler = Scheduler::new(engine.config.poll);
    let mut polls = tokio::task::JoinSet::new();
    // Which target each poll task polls, to free its slot whatever becomes of the task.
    let mut polling: HashMap<tokio::task::Id, Target> = HashMap::new();
    let mut next_discovery = tokio::time::Instant::now();
    let mut discovery_failures = 0u32;
    let mut overloaded = false;
    loop {
        let now = tokio::time::Instant::now();
        if now >= next_discovery {
            let (targets, failures) = tokio::select! {
                () = shutdown.cancelled() => break,
                listed = engine.targets() => listed,
            };
            let unlisted: Vec<String> = failures
                .into_iter()
                .map(|(organization, error)| {
                    tracing::error!(organization, %error, "cannot list the organization's databases");
                    organization
                })
                .collect();
            // A database no longer listed by its organization is no longer polled; one of an
            // organization that could not be listed this time stays watched.
            let reconciled = scheduler.reconcile(
                &targets,
                |target| unlisted.contains(&target.organization),
                |target| {
                    engine
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
            }
            for target in &reconciled.removed {
                tracing::info!(target_db = %target, "no longer listed; stopped watching");
            }
            next_discovery = if !discovers {
                now + Duration::from_secs(u64::from(u32::MAX))
            } else if unlisted.is_empty() {
                discovery_failures = 0;
                now + DISCOVERY_INTERVAL
            } else {
                // A failed listing is tried again soon, backing off.
                discovery_failures += 1;
                now + engine
                    .config
                    .poll
                    .interval
                    .saturating_mul(2u32.saturating_pow(discovery_failures.min(16)))
                    .min(DISCOVERY_INTERVAL)
            };
        }

        let due = scheduler.due(now, u64::from(budget.room(Priority::Low)));
        for (target, priority) in due.start {
            let engine = Arc::clone(&engine);
            let cancelled = shutdown.clone();
            let polled = target.clone();
            let task = polls.spawn(async move {
                let span = tracing::info_span!("poll", target_db = %polled);
                // A poll still waiting at shutdown is dropped: it has committed nothing.
                tokio::select! {
                    result = engine.poll(&polled, priority).instrument(span) => Some(result),
                    () = cancelled.cancelled() => None,
                }
            });
            polling.insert(task.id(), target);
        }

        let mut wake_at = scheduler
            .next_wake()
            .unwrap_or(next_discovery)
            .min(next_discovery);
        if due.blocked {
            // Look again soon: the budget's window slides. "Soon" is a small part of the window
            // (250 ms of a minute), so that time-scaled runs keep the same proportions.
            let recheck =
                (budget.window() / 240).clamp(Duration::from_millis(2), Duration::from_millis(250));
            wake_at = wake_at.max(now + recheck);
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
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
                finish_poll(&engine, &mut scheduler, &target, result, &wakes);
                note_budget(&engine, scheduler.demand_per_minute(), &mut overloaded);
                budget.reserve(scheduler.reserve(budget.window()));
            }
            () = tokio::time::sleep_until(wake_at) => {}
        }
    }

    tracing::info!("shutting down: finishing polls and deliveries in flight");
    tracker.close();
    let drained = async {
        while polls.join_next().await.is_some() {}
        tracker.wait().await;
    };
    if tokio::time::timeout(SHUTDOWN_GRACE, drained).await.is_err() {
        tracing::warn!(grace = ?SHUTDOWN_GRACE, "work still running at the end of the grace period; it stays in the outbox");
    }
    engine.store.flush().await?;
    tracing::info!(pending = engine.store.outbox_len(), "stopped");
    Ok(())
}

/// Records a finished poll (or one whose task panicked) in the scheduler and the status, and
/// wakes the channels it gave work to.
fn finish_poll(
    engine: &Engine,
    scheduler: &mut Scheduler,
    target: &Target,
    result: Result<Result<PollReport, PollFailure>, tokio::task::JoinError>,
    wakes: &HashMap<String, Arc<Notify>>,
) {
    let now = OffsetDateTime::now_utc();
    let instant = tokio::time::Instant::now();
    let (outcome, error) = match result {
        Ok(Ok(report)) => {
            for channel in &report.channels {
                if let Some(wake) = wakes.get(channel) {
                    wake.notify_one();
                }
            }
            engine.update_status(target, |status| {
                status.active = report.motion == Motion::Active;
                status.motion = report.motion;
                status.last_poll = Some(now);
                status.last_success = Some(now);
                status.last_error = None;
                status.failures = 0;
                status.auth_failure = false;
            });
            (
                Outcome::Polled {
                    motion: report.motion,
                    requests: report.requests,
                },
                None,
            )
        }
        Ok(Err(error)) => {
            let retry_after = match &error {
                PollFailure::Api(error) => error.retry_after(),
                PollFailure::Store(_) => None,
            };
            let auth_failure = matches!(&error, PollFailure::Api(error) if error.is_auth_failure());
            engine.update_status(target, |status| status.auth_failure = auth_failure);
            (Outcome::Failed { retry_after }, Some(error.to_string()))
        }
        Err(panicked) => {
            engine.metrics.poll_panics.inc();
            (
                Outcome::Panicked,
                Some(format!(
                    "the poll stopped unexpectedly (a bug in pswatch): {panicked}"
                )),
            )
        }
    };
    let Some(delay) = scheduler.finished(target, outcome, instant) else {
        return;
    };
    if let Some(error) = error {
        let failures = scheduler.failures(target);
        if outcome == Outcome::Panicked {
            tracing::error!(target_db = %target, %error, failures, retry_in = ?delay,
                "poll panicked; the state is unchanged");
        } else {
            tracing::warn!(target_db = %target, %error, failures, retry_in = ?delay,
                "poll failed; the state is unchanged");
        }
        engine.update_status(target, |status| {
            status.last_poll = Some(now);
            status.last_error = Some(error);
            status.failures = failures;
        });
    }
    engine.update_status(target, |status| status.next_poll = Some(now + delay));
}

/// Says once, in the log and the status, when the budget cannot serve the configured intervals,
/// and again when it can.
fn note_budget(engine: &Engine, demand: f64, overloaded: &mut bool) {
    let limit = f64::from(engine.client.budget().limit());
    let mut status = engine
        .status
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if demand > limit && !*overloaded {
        *overloaded = true;
        let note = format!(
            "the configured intervals need about {demand:.0} API requests a minute but the budget \
             (planetscale.requests_per_minute) is {limit:.0}: databases in motion keep their \
             interval and idle ones are polled in turn, less often than `interval`"
        );
        tracing::warn!(demand = demand.round(), budget = limit, "{note}");
        status.budget_note = Some(note);
    } else if demand < limit * 0.9 && *overloaded {
        *overloaded = false;
        tracing::info!(
            demand = demand.round(),
            budget = limit,
            "the budget serves the configured intervals again"
        );
        status.budget_note = None;
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
