//! What the service owns for its whole life, across reloads: the store, the metrics, the API
//! request budget and the status board.

use std::sync::Arc;

use store::Store;

use crate::config::Config;
use crate::service::clients::Budgets;
use crate::service::metrics::Metrics;
use crate::service::push::PushBoard;
use crate::service::status::{ConfigView, StatusBoard};

/// How long a statement, a connection or a wait for one may take in a PostgreSQL store.
const DATABASE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// The most connections one pswatch opens to a PostgreSQL store.
const DATABASE_POOL: usize = 8;

/// Opens the state store `config` names (its directory, or its PostgreSQL database): the one
/// way the service and the commands open it.
pub(crate) async fn open_store(config: &Config) -> anyhow::Result<Store> {
    use anyhow::Context as _;
    match &config.state_database {
        Some(database) => Store::connect(&store::PostgresOptions {
            url: database.url.expose().to_owned(),
            schema: database.schema.clone(),
            pool_size: DATABASE_POOL,
            timeout: DATABASE_TIMEOUT,
        })
        .await
        .with_context(|| format!("connecting to {}", config.state_description())),
        None => {
            Store::open(&config.state_path).context("opening the state store set by state.path")
        }
    }
}

/// The long-lived parts of the service.
pub(crate) struct Shared {
    pub(crate) store: Store,
    pub(crate) metrics: Arc<Metrics>,
    /// Each service token's request budget: every API request passes its token's; a reload
    /// changes their limits in place.
    pub(crate) budgets: Budgets,
    pub(crate) board: StatusBoard,
    /// PlanetScale's webhooks per database: their secrets, whether push is healthy.
    pub(crate) push: PushBoard,
    /// The admin token of the configuration, as it is now (it follows reloads).
    pub(crate) admin_token: tokio::sync::watch::Sender<Option<notifier::Secret>>,
    /// What wakes each channel's delivery worker: the one way anything that adds to a
    /// channel's outbox (a poll, a pushed event, a dead letter put back) tells it.
    pub(crate) wakes: Wakes,
    /// The store's key of channel fingerprints.
    pub(crate) fingerprint_key: Vec<u8>,
    /// Whether the store writes.
    pub(crate) store_health: StoreHealth,
    /// This replica and its role, when replicas share the store.
    pub(crate) replicas: Arc<crate::service::election::ReplicaBoard>,
    /// Who does the leader's work: asked, never assumed.
    pub(crate) leadership: store::Leadership,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Shared")
            .field("store", &self.store)
            .field("budgets", &self.budgets)
            .finish_non_exhaustive()
    }
}

/// The name that wakes every channel's worker.
pub(crate) const ALL_CHANNELS: &str = "*";

impl Shared {
    /// What this replica knows of its work and only it (its schedule of the databases, its
    /// budgets, push, the recent events), as the status page shows it.
    pub(crate) fn report(&self, now: tokio::time::Instant) -> super::status::Report {
        super::status::Report {
            scheduler: self.board.snapshot(),
            budgets: self
                .budgets
                .lines()
                .into_iter()
                .map(super::status::BudgetView::from)
                .collect(),
            push: self.push.snapshot(now),
            recent_events: self.board.recent(),
        }
    }

    /// Writes the leader's report to the shared store, for the other replicas' status pages.
    /// A failure only leaves their pages older: logged at debug.
    pub(crate) async fn publish_report(&self, now: tokio::time::Instant) {
        let report = match serde_json::to_value(self.report(now)) {
            Ok(report) => report,
            Err(error) => {
                tracing::debug!(%error, "cannot shape the leader's report");
                return;
            }
        };
        let report = store::LeaderReport {
            written_at: time::OffsetDateTime::now_utc(),
            report,
        };
        if let Err(error) = self.store.publish_report(&report).await {
            tracing::debug!(%error, "cannot write the leader's report for the other replicas");
        }
    }

    /// Wakes the delivery workers of `channels` ([`ALL_CHANNELS`]: every channel) after their
    /// outbox grew: here, and through the store on the leader when replicas share it.
    pub(crate) async fn wake_channels<'a>(&self, channels: impl IntoIterator<Item = &'a str>) {
        for channel in channels {
            self.wakes.wake_named(channel);
            if self.leadership.is_elected() {
                if let Err(error) = self.store.wake(channel).await {
                    tracing::warn!(%error, channel, "cannot wake the leader's delivery worker; it delivers at its next look");
                }
            }
        }
    }

    /// The long-lived parts for `config`, over `store`.
    pub(crate) async fn new(store: Store, config: &Config) -> anyhow::Result<Self> {
        let fingerprint_key = store.fingerprint_key().await?;
        let metrics = Arc::new(Metrics::new());
        let store_health = StoreHealth::new(metrics.store_writable.clone(), store.is_embedded());
        let shared = Self {
            leadership: store.leadership(),
            store,
            metrics,
            budgets: Budgets::default(),
            board: StatusBoard::default(),
            push: PushBoard::default(),
            admin_token: tokio::sync::watch::Sender::new(None),
            wakes: Wakes::default(),
            fingerprint_key,
            store_health,
            replicas: Arc::default(),
        };
        shared.show(config);
        Ok(shared)
    }

    /// Puts what the admin server needs of `config` on the board.
    pub(crate) fn show(&self, config: &Config) {
        let token = config.admin_token.clone();
        self.admin_token.send_if_modified(|current| {
            let changed = *current != token;
            *current = token;
            changed
        });
        self.push.set_enabled(config.receiver.is_some());
        self.board.set_view(ConfigView {
            interval: config.poll.interval,
            channels: config
                .channels
                .iter()
                .map(|channel| {
                    (
                        channel.name.clone(),
                        channel.fingerprint(&self.fingerprint_key),
                    )
                })
                .collect(),
            silences: config.silences.clone(),
        });
    }
}

/// Whether the state store writes: set by every write that failed and every probe, read by
/// `/readyz` and the service, which probes while writes fail and stops when they keep failing.
#[derive(Debug)]
pub(crate) struct StoreHealth {
    failing: std::sync::Mutex<Option<(tokio::time::Instant, String)>>,
    /// `pswatch_store_writable`.
    writable: prometheus::IntGauge,
    /// Whether the store is sled's: once one of its writes failed, none that follows can be
    /// trusted (sled keeps the error, and what it says it wrote may not be on disk), so it is
    /// broken until the process starts again.
    embedded: bool,
    /// Told of every failure, so the loop acts on it at once.
    failures: tokio::sync::Notify,
}

impl StoreHealth {
    fn new(writable: prometheus::IntGauge, embedded: bool) -> Self {
        writable.set(1);
        Self {
            failing: std::sync::Mutex::default(),
            writable,
            embedded,
            failures: tokio::sync::Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(tokio::time::Instant, String)>> {
        self.failing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A write failed with `error`.
    pub(crate) fn failed(&self, error: &store::StoreError) {
        // A write refused because another replica leads is the fence working, not the store
        // failing.
        if matches!(error, store::StoreError::NotLeader(_)) {
            return;
        }
        let mut failing = self.lock();
        let since = failing
            .as_ref()
            .map_or_else(tokio::time::Instant::now, |(since, _)| *since);
        *failing = Some((since, error.to_string()));
        self.writable.set(0);
        drop(failing);
        self.failures.notify_one();
    }

    /// A write succeeded: writes fail no more. Not for a broken embedded store, which only a
    /// new process reads again.
    pub(crate) fn recovered(&self) {
        if self.embedded {
            return;
        }
        self.writable.set(1);
        *self.lock() = None;
    }

    /// The first failed write's error, when the store is sled's and one failed: nothing can
    /// be written any more, and pswatch stops at once.
    pub(crate) fn broken(&self) -> Option<String> {
        if !self.embedded {
            return None;
        }
        self.lock().as_ref().map(|(_, error)| error.clone())
    }

    /// Waits for the next failure.
    pub(crate) async fn failure(&self) {
        self.failures.notified().await;
    }

    /// Since when writes fail, and the last error, while they do.
    pub(crate) fn failing(&self) -> Option<(tokio::time::Instant, String)> {
        self.lock().clone()
    }
}

/// A wake a channel: its delivery worker waits on it, and whatever adds to the channel's
/// outbox wakes it. A wake with no worker waiting is kept for the next one that waits.
#[derive(Debug, Default)]
pub(crate) struct Wakes {
    notify: std::sync::Mutex<std::collections::HashMap<String, Arc<tokio::sync::Notify>>>,
}

impl Wakes {
    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, Arc<tokio::sync::Notify>>>
    {
        self.notify
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The wake of `channel`, for its worker to wait on.
    pub(crate) fn of(&self, channel: &str) -> Arc<tokio::sync::Notify> {
        Arc::clone(self.lock().entry(channel.to_owned()).or_default())
    }

    /// Wakes `channel`'s worker.
    pub(crate) fn wake(&self, channel: &str) {
        self.of(channel).notify_one();
    }

    /// Wakes `channel`'s worker, or every worker for [`ALL_CHANNELS`]: the names the store's
    /// wake records carry between replicas.
    pub(crate) fn wake_named(&self, channel: &str) {
        if channel == ALL_CHANNELS {
            self.wake_all();
        } else {
            self.wake(channel);
        }
    }

    /// Wakes every channel's worker (a dead letter put back, of whichever channel).
    pub(crate) fn wake_all(&self) {
        for wake in self.lock().values() {
            wake.notify_one();
        }
    }
}
