//! Writing outbox entries: with a poll's next state ([`Store::commit_poll`]), or alone
//! ([`Store::enqueue`], for events PlanetScale pushed). Each is one atomic batch, flushed to disk
//! before it returns.

use diff_engine::{Target, TargetState};
use time::OffsetDateTime;

use crate::backend::Batch;
use crate::keys::queue_key;
use crate::{encode, NewDelivery, OutboxEntry, Store, StoreError};

impl Store {
    /// Commits a poll: `next` becomes the state of `target` and each delivery becomes an outbox
    /// entry, all in one atomic batch, flushed to disk before this returns.
    pub async fn commit_poll(
        &self,
        target: &Target,
        next: &TargetState,
        deliveries: Vec<NewDelivery>,
        now: OffsetDateTime,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        self.commit_poll_journaled(target, next, &[], deliveries, now)
            .await
    }

    /// Adds outbox entries without a poll (events PlanetScale pushed), in one atomic batch,
    /// flushed to disk before this returns.
    pub async fn enqueue(
        &self,
        deliveries: Vec<NewDelivery>,
        now: OffsetDateTime,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut batch = Batch::default();
        let entries = self.add_entries(&mut batch, deliveries, now).await?;
        self.backend.apply(batch).await?;
        Ok(entries)
    }

    /// Puts an entry for each delivery in `batch`; together they are one group ("poll").
    pub(crate) async fn add_entries(
        &self,
        batch: &mut Batch,
        deliveries: Vec<NewDelivery>,
        now: OffsetDateTime,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut entries = Vec::with_capacity(deliveries.len());
        let mut poll = None;
        let ids = self.backend.next_ids(deliveries.len()).await?;
        for (delivery, id) in deliveries.into_iter().zip(ids) {
            let entry = OutboxEntry {
                id,
                channel: delivery.channel,
                event: delivery.event,
                attempts: 0,
                last_error: None,
                created_at: now,
                next_attempt_at: None,
                poll: *poll.get_or_insert(id),
            };
            batch.put(queue_key(&entry.channel, entry.id), encode(&entry)?);
            entries.push(entry);
        }
        Ok(entries)
    }
}
