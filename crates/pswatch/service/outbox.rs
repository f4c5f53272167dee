//! The outbox's one writer: every addition to a channel's outbox (a poll's commit, a pushed
//! event, a dead letter put back, a digest) goes through [`Outbox`], which writes it and wakes
//! the channel's worker, here and, when replicas share the store, on the leader.

use std::sync::Arc;

use store::{Leadership, NewDelivery, OutboxEntry, Store, StoreError};
use time::OffsetDateTime;

/// The name that wakes every channel's worker.
pub(crate) const ALL_CHANNELS: &str = "*";

/// What adds to the channels' outboxes and wakes their workers.
#[derive(Debug, Clone)]
pub(crate) struct Outbox {
    store: Store,
    wakes: Arc<Wakes>,
    leadership: Leadership,
}

impl Outbox {
    pub(crate) fn new(store: Store) -> Self {
        Self {
            leadership: store.leadership(),
            store,
            wakes: Arc::default(),
        }
    }

    /// Commits a poll: `target`'s next state, its events for digests (`journal`) and its
    /// deliveries, in one write; then wakes the channels they went to.
    pub(crate) async fn commit(
        &self,
        target: &diff_engine::Target,
        next: &diff_engine::TargetState,
        journal: &[diff_engine::Event],
        deliveries: Vec<NewDelivery>,
        now: OffsetDateTime,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let entries = self
            .store
            .commit_poll_journaled(target, next, journal, deliveries, now)
            .await?;
        self.wake_local(&entries);
        Ok(entries)
    }

    /// Writes a pushed event's deliveries with the receipt of the webhook delivery that
    /// brought it (`digest`), in one write; then wakes their channels, on the leader too.
    pub(crate) async fn add_pushed(
        &self,
        digest: store::Digest,
        deliveries: Vec<NewDelivery>,
        now: OffsetDateTime,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let entries = self.store.enqueue_received(digest, deliveries, now).await?;
        let channels: std::collections::BTreeSet<&str> =
            entries.iter().map(|entry| entry.channel.as_str()).collect();
        self.wake(channels).await;
        Ok(entries)
    }

    /// Keeps the receipt of a webhook delivery that asked only for a poll (`digest`), so
    /// that the same delivery sent again after a restart is not acted on twice.
    pub(crate) async fn keep_receipt(&self, digest: store::Digest) -> Result<(), StoreError> {
        self.store
            .enqueue_received(digest, Vec::new(), OffsetDateTime::now_utc())
            .await
            .map(drop)
    }

    /// Puts the dead letter `id` (`None`: every one) back in the outbox and wakes every
    /// worker, the leader's too when replicas share the store.
    pub(crate) async fn put_back(&self, id: Option<u64>) -> Result<Revived, StoreError> {
        let count = self.store.revive(id).await?;
        let mut untold = None;
        if count > 0 {
            self.wakes.wake_all();
            untold = self.tell_leader(ALL_CHANNELS).await.err();
        }
        Ok(Revived { count, untold })
    }

    /// Sends the digests whose time has come (and prunes the journal of polls' events); when
    /// to look again.
    pub(crate) async fn send_digests(
        &self,
        digests: &[crate::config::Digest],
        now: OffsetDateTime,
    ) -> Result<OffsetDateTime, StoreError> {
        crate::service::digests::send_due(&self.store, digests, now, &mut |channel| {
            self.wakes.wake(channel);
        })
        .await
    }

    /// The wake `channel`'s worker waits on.
    pub(crate) fn waker(&self, channel: &str) -> Arc<tokio::sync::Notify> {
        self.wakes.of(channel)
    }

    /// Wakes the workers of `channels` here, as named by another replica ([`ALL_CHANNELS`]:
    /// every one).
    pub(crate) fn wake_named(&self, channel: &str) {
        self.wakes.wake_named(channel);
    }

    fn wake_local(&self, entries: &[OutboxEntry]) {
        for entry in entries {
            self.wakes.wake(&entry.channel);
        }
    }

    /// Wakes the delivery workers of `channels` ([`ALL_CHANNELS`]: every channel) after their
    /// outbox grew: here, and through the store on the leader when replicas share it.
    async fn wake<'a>(&self, channels: impl IntoIterator<Item = &'a str>) {
        for channel in channels {
            self.wakes.wake_named(channel);
            if let Err(error) = self.tell_leader(channel).await {
                tracing::warn!(%error, channel, "cannot wake the leader's delivery worker; it delivers at its next look");
            }
        }
    }

    /// Wakes `channel`'s worker on the leader, through the store, when replicas share it.
    async fn tell_leader(&self, channel: &str) -> Result<(), StoreError> {
        if self.leadership.is_elected() {
            self.store.wake(channel).await?;
        }
        Ok(())
    }
}

/// Dead letters put back in the outbox.
#[derive(Debug)]
pub(crate) struct Revived {
    /// How many.
    pub(crate) count: usize,
    /// Why the running leader could not be told, when it could not: it delivers them at its
    /// next start or event.
    pub(crate) untold: Option<StoreError>,
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
