//! The board: what the service knows of its work and shows, read by the admin server and the
//! status page and written by the parts that know it.

use std::sync::{Arc, Mutex};

use notifier::Secret;
use tokio::sync::watch;

use crate::config::Config;
use crate::service::clients::Budgets;
use crate::service::fleet::Fleet;
use crate::service::push::PushBoard;
use crate::service::status::{BudgetView, ConfigView, Report, StatusBoard};

/// The key a channel's fingerprint is made with: random, kept in the store, so a fingerprint
/// shows nothing of what it covers.
#[derive(Clone)]
pub(crate) struct FingerprintKey(Arc<[u8]>);

impl std::fmt::Debug for FingerprintKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("FingerprintKey(..)")
    }
}

impl FingerprintKey {
    pub(crate) fn new(key: Vec<u8>) -> Self {
        Self(key.into())
    }

    /// The fingerprint of `channel`'s configuration.
    pub(crate) fn of(&self, channel: &notifier::Channel) -> String {
        channel.fingerprint(&self.0)
    }
}

/// The admin server's tokens: `[admin] token`, which may do everything, and `read_tokens`,
/// which may only read the API and the metrics.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct AdminTokens {
    pub(crate) token: Option<Secret>,
    pub(crate) read: Vec<Secret>,
}

/// What the admin server and the status page read.
#[derive(Debug)]
pub(crate) struct Board {
    /// The targets, the recent events, what the configuration shows.
    pub(crate) status: StatusBoard,
    /// PlanetScale's webhooks per database: their secrets, whether push is healthy.
    pub(crate) push: PushBoard,
    /// This replica and its role, when replicas share the store.
    pub(crate) replicas: ReplicaBoard,
    /// Each service token's request budget: every API request passes its token's; a reload
    /// changes their limits in place.
    pub(crate) budgets: Budgets,
    /// The admin server's tokens of the configuration, as they are now (they follow reloads).
    pub(crate) admin_tokens: watch::Sender<AdminTokens>,
    pub(crate) fingerprints: FingerprintKey,
    /// Where each watched resource stands, for the state metrics.
    pub(crate) fleet: Fleet,
    /// Counts the polls that changed what the store's views show: what waiters watch.
    views: watch::Sender<u64>,
    /// Databases a reader of the API asked about before any poll saw what it asks for: the
    /// loop polls them now, as it does a pushed change.
    asked: Mutex<Vec<diff_engine::Target>>,
    asking: tokio::sync::Notify,
}

impl Board {
    pub(crate) fn new(fingerprints: FingerprintKey) -> Self {
        Self {
            status: StatusBoard::default(),
            push: PushBoard::default(),
            replicas: ReplicaBoard::default(),
            budgets: Budgets::default(),
            admin_tokens: watch::Sender::new(AdminTokens::default()),
            fingerprints,
            fleet: Fleet::default(),
            views: watch::Sender::new(0),
            asked: Mutex::default(),
            asking: tokio::sync::Notify::new(),
        }
    }

    /// What this replica knows of its work and only it (its schedule of the databases, its
    /// budgets, push, the recent events), as the status page shows it.
    pub(crate) fn report(&self, now: tokio::time::Instant) -> Report {
        Report {
            scheduler: self.status.snapshot(),
            budgets: self
                .budgets
                .lines()
                .into_iter()
                .map(BudgetView::from)
                .collect(),
            push: self.push.snapshot(now),
            recent_events: self.status.recent(),
        }
    }

    /// Writes the leader's report to the shared store, for the other replicas' status pages,
    /// with where the resources stand beside it (`fleet`), for their state metrics. A failure
    /// only leaves them older: logged at debug.
    pub(crate) async fn publish_report(&self, store: &store::Store, now: tokio::time::Instant) {
        let shaped = serde_json::to_value(self.report(now)).and_then(|mut report| {
            report["fleet"] =
                serde_json::to_value(self.fleet.report(time::OffsetDateTime::now_utc()))?;
            Ok(report)
        });
        let report = match shaped {
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
        if let Err(error) = store.publish_report(&report).await {
            tracing::debug!(%error, "cannot write the leader's report for the other replicas");
        }
    }

    /// A poll changed what the store's views show: the waiters look again.
    pub(crate) fn views_changed(&self) {
        self.views
            .send_modify(|generation| *generation = generation.wrapping_add(1));
    }

    /// What a waiter watches: it changes whenever a poll changed the views.
    pub(crate) fn watch_views(&self) -> watch::Receiver<u64> {
        self.views.subscribe()
    }

    /// Asks the loop to poll `target` now: a reader of the API waits for what it has not seen.
    pub(crate) fn ask_poll(&self, target: &diff_engine::Target) {
        self.asked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(target.clone());
        self.asking.notify_one();
    }

    /// The databases asked for since the last call, once the first is asked.
    pub(crate) async fn polls_asked(&self) -> Vec<diff_engine::Target> {
        loop {
            let asked = std::mem::take(
                &mut *self
                    .asked
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            );
            if !asked.is_empty() {
                return asked;
            }
            self.asking.notified().await;
        }
    }

    /// Shows what the admin server needs of `config`.
    pub(crate) fn show(&self, config: &Config) {
        let tokens = AdminTokens {
            token: config.admin_token.clone(),
            read: config.admin_read_tokens.clone(),
        };
        self.admin_tokens.send_if_modified(|current| {
            let changed = *current != tokens;
            *current = tokens;
            changed
        });
        self.push.set_enabled(config.receiver.is_some());
        self.fleet.limit(config.metrics_max_resources);
        self.status.set_view(ConfigView {
            interval: config.poll.interval,
            channels: config
                .channels
                .iter()
                .map(|channel| (channel.name.clone(), self.fingerprints.of(channel)))
                .collect(),
            silences: config.silences.clone(),
        });
    }
}

/// What the status page shows of the replicas: this one's id and role, the leader's id.
#[derive(Debug, Default)]
pub(crate) struct ReplicaBoard {
    inner: Mutex<ReplicaView>,
}

/// One replica's view of the election.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub(crate) struct ReplicaView {
    /// This replica's id.
    pub(crate) id: String,
    /// `leader` or `standby` (`leader` with a store of one process).
    pub(crate) role: String,
    /// The leading replica's id, as last seen.
    pub(crate) leader: Option<String>,
    /// Every replica alive in the last hour, the most recent heartbeat first.
    pub(crate) replicas: Vec<ReplicaHeartbeat>,
}

/// A replica and how long ago it last said it is alive.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct ReplicaHeartbeat {
    pub(crate) id: String,
    pub(crate) heartbeat_age_seconds: u64,
}

impl ReplicaBoard {
    pub(crate) fn set(&self, view: ReplicaView) {
        *self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = view;
    }

    pub(crate) fn view(&self) -> ReplicaView {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}
