//! Delivery: the outbox, channel by channel, in detection order; retries and dead letters.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use diff_engine::Target;
use notifier::{Channel, ChannelError, Decision, Memos, Notifier, Verdict};
use store::{DisabledChannel, Store, StoreError};
use time::OffsetDateTime;

use crate::service::board::FingerprintKey;
use crate::service::handles::Handles;
use crate::service::metrics::Metrics;

/// The most entries of a channel that sends each event alone (a webhook) sent in one step and
/// completed in one write: a crash between the sends and that write sends them again, with
/// the same ids.
const SEND_BATCH: usize = 32;

/// How soon a worker looks again when its replica's lease was not current.
const LEASE_RECHECK: time::Duration = time::Duration::milliseconds(500);

/// How long a resource's Slack thread is continued after its last message: a resource quiet
/// for longer starts a new thread. Open incidents are kept however old.
const MEMO_QUIET: time::Duration = time::Duration::days(30);

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

/// Delivery of one configuration's channels: the outbox read channel by channel, each entry
/// sent through the notifier, retried, buried or completed. The pipeline polls and routes
/// into the outbox; this takes from it.
pub(crate) struct Delivery {
    notifier: Notifier,
    /// The outbox it takes from, completes and reschedules; what channels remember.
    store: Store,
    metrics: Arc<Metrics>,
    /// Whether this replica may send now.
    leadership: store::Leadership,
    fingerprints: FingerprintKey,
}

impl Delivery {
    /// Delivery through `channels`, over the service's long-lived parts.
    pub(crate) fn new(channels: &[Channel], handles: &Handles) -> Result<Self, ChannelError> {
        let metrics = Arc::clone(&handles.metrics);
        let notifier = Notifier::new(channels)?.on_template_error(Arc::new(move |error| {
            metrics
                .template_errors
                .with_label_values(&[&error.template])
                .inc();
        }));
        Ok(Self {
            notifier,
            store: handles.store.clone(),
            metrics: Arc::clone(&handles.metrics),
            leadership: handles.leadership.clone(),
            fingerprints: handles.board.fingerprints.clone(),
        })
    }

    /// The configured channel of that name.
    pub(crate) fn channel(&self, name: &str) -> Option<&Channel> {
        self.notifier.channel(name)
    }

    /// Posts `text` through the Slack channel `channel`, in the thread `thread_ts` if given.
    pub(crate) async fn note_in_slack(
        &self,
        channel: &str,
        thread_ts: Option<&str>,
        text: &str,
    ) -> Result<(), notifier::DeliveryError> {
        self.notifier.note_in_slack(channel, thread_ts, text).await
    }

    /// The names of the configured channels.
    pub(crate) fn channel_names(&self) -> impl Iterator<Item = &str> {
        self.notifier.channel_names()
    }

    /// The channels that keep alerts firing (Alertmanager's), with how often they send them
    /// again.
    pub(crate) fn alert_channels(&self) -> Vec<(String, Duration)> {
        self.notifier
            .channel_names()
            .filter_map(|name| match &self.notifier.channel(name)?.kind {
                notifier::ChannelKind::Alertmanager(alertmanager) => {
                    Some((name.to_owned(), alertmanager.resend))
                }
                _ => None,
            })
            .collect()
    }

    /// Resolves the firing alerts of databases `watched` does not hold (removed from the
    /// configuration, or no longer listed by their organization): nothing of theirs will end
    /// them any more. Sent resolved (a failure is logged: Alertmanager ends them itself after
    /// four resends) and forgotten, while this replica leads.
    pub(crate) async fn resolve_unwatched(&self, watched: &HashSet<Target>) {
        if !self.leadership.leads() {
            return;
        }
        for (channel, _) in self.alert_channels() {
            let alerts = match self.store.firing_alerts(&channel).await {
                Ok(alerts) => alerts,
                Err(error) => {
                    tracing::warn!(channel, %error, "cannot read the firing alerts");
                    continue;
                }
            };
            let stale: Vec<model::FiringAlert> = alerts
                .into_iter()
                .filter(
                    |alert| match (alert.label("organization"), alert.label("database")) {
                        (Some(organization), Some(database)) => {
                            !watched.contains(&Target::new(organization, database))
                        }
                        _ => false,
                    },
                )
                .collect();
            if stale.is_empty() {
                continue;
            }
            if let Err(error) = self.notifier.resend_alerts(&channel, &stale, true).await {
                tracing::warn!(channel, %error, "cannot resolve the alerts of databases no longer watched; Alertmanager ends them after four resends");
            }
            let keys: Vec<String> = stale.iter().map(model::FiringAlert::key).collect();
            let forgotten = self
                .store
                .keep_alerts(&channel, keys.iter().map(|key| (key.as_str(), None)))
                .await;
            match forgotten {
                Ok(()) => tracing::info!(
                    channel,
                    alerts = stale.len(),
                    "resolved the firing alerts of databases no longer watched"
                ),
                Err(error) => {
                    tracing::warn!(channel, %error, "cannot forget the firing alerts of databases no longer watched")
                }
            }
        }
    }

    /// Sends the alerts `channel` keeps firing again, while this replica leads: what fires is
    /// in the store, so a restarted or new leader carries on. A failure is logged; the next
    /// resend tries again (Alertmanager keeps each alert valid for four resends).
    pub(crate) async fn resend_firing(&self, channel: &str) {
        if !self.leadership.leads() {
            return;
        }
        let alerts = match self.store.firing_alerts(channel).await {
            Ok(alerts) => alerts,
            Err(error) => {
                tracing::warn!(channel, %error, "cannot read the firing alerts to send them again");
                return;
            }
        };
        if alerts.is_empty() {
            return;
        }
        match self.notifier.resend_alerts(channel, &alerts, false).await {
            Ok(()) => tracing::debug!(channel, alerts = alerts.len(), "firing alerts sent again"),
            Err(error) => {
                tracing::warn!(channel, %error, "cannot send the firing alerts again; trying at the next resend");
            }
        }
    }

    /// Whether `channel` is disabled because its receiver said it is gone. A channel whose
    /// configuration changed since is enabled again.
    async fn is_disabled(&self, channel: &Channel) -> Result<bool, StoreError> {
        let Some(disabled) = self.store.disabled_channel(&channel.name).await? else {
            return Ok(false);
        };
        if disabled.fingerprint == self.fingerprints.of(channel) {
            return Ok(true);
        }
        tracing::info!(channel = %channel.name, "the channel was reconfigured since its receiver said it was gone; enabled again");
        self.store.enable_channel(&channel.name).await?;
        Ok(false)
    }

    /// Moves outbox entries of channels that are no longer configured to the dead letters,
    /// where `pswatch outbox` shows them and can put them back; forgets the memos (threads,
    /// incidents) of those channels, and threads quiet for [`MEMO_QUIET`], and the Slack clicks
    /// taken up that long ago.
    pub(crate) async fn bury_unconfigured(&self) -> Result<(), StoreError> {
        let now = OffsetDateTime::now_utc();
        let configured: Vec<&str> = self.notifier.channel_names().collect();
        let pruned = self
            .store
            .prune_memos(&configured, now - MEMO_QUIET)
            .await?;
        if pruned > 0 {
            tracing::info!(
                pruned,
                "forgot the Slack threads of resources quiet for 30 days and what channels no longer configured remembered"
            );
        }
        let forgotten = self.store.prune_alerts(&configured).await?;
        if forgotten > 0 {
            tracing::info!(
                forgotten,
                "forgot the firing alerts of channels no longer configured"
            );
        }
        // Slack clicks taken up are remembered as long as threads are, then forgotten: a copy
        // that old is still checked against the resource's state before a cutover.
        self.store.prune_taken_actions(now - MEMO_QUIET).await?;
        for channel in self.store.outbox_counts().await?.into_keys() {
            if self.notifier.channel(&channel).is_some() {
                continue;
            }
            let ids: Vec<u64> = self
                .store
                .outbox_of(&channel)
                .all()
                .await?
                .into_iter()
                .map(|entry| entry.id)
                .collect();
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
        // A replica whose lease may have lapsed (paused, cut off) sends nothing: another may
        // lead by now. It looks again soon: a renewed lease wakes no worker.
        if !self.leadership.leads() {
            tracing::debug!(
                channel = channel_name,
                "not delivering: this replica's lease is not current"
            );
            return Ok(Step::NotDueUntil(OffsetDateTime::now_utc() + LEASE_RECHECK));
        }
        // The channel's entries are read one at a time: the head, and for a grouping channel
        // those of the same poll that follow it, never the whole backlog.
        let mut entries = self.store.outbox_of(channel_name);
        let Some(head) = entries.next().await.transpose()? else {
            return Ok(Step::Idle);
        };
        let now = OffsetDateTime::now_utc();
        if !head.is_due(now) {
            return Ok(Step::NotDueUntil(head.next_attempt_at.unwrap_or(now)));
        }
        let mut group = vec![head];
        let grouped = channel.kind.groups_events();
        // A grouping channel sends the entries of one poll as one message; one that sends each
        // event alone (a webhook) sends the due entries that follow, in order, up to
        // SEND_BATCH, and completes those its receiver took in one write.
        while grouped || group.len() < SEND_BATCH {
            let Some(entry) = entries.next().await else {
                break;
            };
            let entry = entry?;
            if !entry.is_due(now) || (grouped && entry.poll != group[0].poll) {
                break;
            }
            group.push(entry);
        }
        let head = &group[0];
        let ids: Vec<u64> = group.iter().map(|entry| entry.id).collect();
        let events: Vec<diff_engine::Event> =
            group.iter().map(|entry| entry.event.clone()).collect();
        // What the channel remembers of these resources (a Slack thread, an open incident):
        // read before, and what the delivery changed kept after, whether it went out or not,
        // so that a retry continues where this attempt stopped.
        let mut memos = if channel.kind.remembers() {
            self.store.memos_for(channel_name, &events).await?
        } else {
            Memos::new()
        };
        // An Alertmanager channel's firing alerts: which an event ends, and which fire already.
        if channel.kind.fires_alerts() {
            for alert in self.store.firing_alerts(channel_name).await? {
                memos.load_alert(alert);
            }
        }
        // How many entries went out before a failure, when they are sent one at a time.
        let mut sent = None;
        let delivered = if grouped {
            self.notifier
                .deliver(channel_name, &events, &mut memos)
                .await
        } else {
            let mut outcome = Ok(());
            let mut count = 0;
            for event in &events {
                let one = std::slice::from_ref(event);
                if let Err(error) = self.notifier.deliver(channel_name, one, &mut memos).await {
                    outcome = Err(error);
                    break;
                }
                count += 1;
            }
            sent = Some(count);
            outcome
        };
        self.store
            .keep_memos(channel_name, memos.changed(), OffsetDateTime::now_utc())
            .await?;
        self.store
            .keep_alerts(channel_name, memos.changed_alerts())
            .await?;
        // Those sent before a failure are done; the failure is the next one's alone.
        let (head, ids, events) = match (sent, &delivered) {
            (Some(count), Err(_)) if count > 0 => {
                self.store.complete(channel_name, &ids[..count]).await?;
                self.metrics.delivered(
                    channel_name,
                    count,
                    Duration::try_from(OffsetDateTime::now_utc() - head.created_at)
                        .unwrap_or_default(),
                );
                for event in &events[..count] {
                    tracing::info!(channel = channel_name, event_id = %event.id, "delivered");
                }
                (&group[count], vec![ids[count]], vec![events[count].clone()])
            }
            _ => (head, ids, events),
        };
        let error = match delivered {
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
                    tracing::error!(channel = channel_name, "CRITICAL: the receiver says the channel is gone (HTTP 410 Gone, or Discord's Unknown Webhook); the channel is disabled until its configuration changes");
                    self.store
                        .disable_channel(
                            channel_name,
                            &DisabledChannel {
                                fingerprint: self.fingerprints.of(channel),
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
        report.pending = self.store.outbox_len().await?;
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
