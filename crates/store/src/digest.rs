//! What digests need: the journal of the events polls saw (kept a while, pruned), and the
//! marks of the periods each digest has done, written with the digest's outbox entries in one
//! batch so that a period is sent once, whatever restarts or replicas.

use diff_engine::{Event, Target, TargetState};
use time::OffsetDateTime;

use crate::backend::Batch;
use crate::keys::{
    digest_key, digest_prefix, journal_bound, journal_key, state_key, JOURNAL_PREFIX,
};
use crate::records::{DigestMark, JournalRecord, StateRecord};
use crate::{encode, NewDelivery, OutboxEntry, Store, StoreError};

impl Store {
    /// [`Store::commit_poll`], and `journal` (every event of the poll, routed or not) kept for
    /// digests, in the same atomic batch.
    pub async fn commit_poll_journaled(
        &self,
        target: &Target,
        next: &TargetState,
        journal: &[Event],
        deliveries: Vec<NewDelivery>,
        now: OffsetDateTime,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut batch = Batch::fenced();
        batch.put(
            state_key(target),
            encode(&StateRecord {
                target: target.clone(),
                state: next.clone(),
            })?,
        );
        for event in journal {
            batch.put(
                journal_key(event.observed_at, &event.id),
                encode(&JournalRecord {
                    event: event.clone(),
                })?,
            );
        }
        let entries = self.add_entries(&mut batch, deliveries, now).await?;
        self.backend.apply(batch).await?;
        Ok(entries)
    }

    /// The journal's events observed after `after` and up to `until`, oldest first. One that
    /// cannot be read is quarantined and left out.
    pub async fn journal(
        &self,
        after: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<Vec<Event>, StoreError> {
        let mut events = Vec::new();
        for (key, bytes) in self.backend.scan(JOURNAL_PREFIX).await? {
            let Some(JournalRecord { event }) = self.read_or_quarantine(&key, &bytes).await? else {
                continue;
            };
            if event.observed_at > after && event.observed_at <= until {
                events.push(event);
            }
        }
        Ok(events)
    }

    /// Removes the journal's events observed before `before`; returns how many.
    pub async fn prune_journal(&self, before: OffsetDateTime) -> Result<usize, StoreError> {
        let bound = journal_bound(before);
        let mut batch = Batch::default();
        let mut removed = 0;
        for key in self.backend.keys(JOURNAL_PREFIX).await? {
            if key < bound {
                batch.remove(key);
                removed += 1;
            }
        }
        if removed > 0 {
            self.backend.apply(batch).await?;
        }
        Ok(removed)
    }

    /// The end of the latest period digest `name` has done; `None` before its first.
    pub async fn last_digest(&self, name: &str) -> Result<Option<OffsetDateTime>, StoreError> {
        let mut last = None;
        for (key, bytes) in self.backend.scan(&digest_prefix(name)).await? {
            if let Some(mark) = self.read_or_quarantine::<DigestMark>(&key, &bytes).await? {
                last = last.max(Some(mark.period_end));
            }
        }
        Ok(last)
    }

    /// Marks digest `name`'s period ending at `period_end` done and adds `deliveries` (none
    /// when it had nothing to say, or for the first start's mark), in one atomic batch.
    /// `None` when the period was marked already (by this replica before a restart, or by
    /// another): nothing is added, so a period is sent once. Marks older than the newest
    /// `KEEP` are removed.
    pub async fn mark_digest(
        &self,
        name: &str,
        period_end: OffsetDateTime,
        deliveries: Vec<NewDelivery>,
        now: OffsetDateTime,
    ) -> Result<Option<Vec<OutboxEntry>>, StoreError> {
        const KEEP: usize = 16;
        let mut batch = Batch::fenced();
        let sent = !deliveries.is_empty();
        let entries = self.add_entries(&mut batch, deliveries, now).await?;
        batch.put_new(
            digest_key(name, period_end),
            encode(&DigestMark { period_end, sent })?,
        );
        let mut older = self.backend.keys(&digest_prefix(name)).await?;
        older.sort();
        let stale = older.len().saturating_sub(KEEP - 1);
        for key in older.into_iter().take(stale) {
            batch.remove(key);
        }
        match self.backend.apply(batch).await {
            Ok(()) => Ok(Some(entries)),
            Err(StoreError::Duplicate) => Ok(None),
            Err(error) => Err(error),
        }
    }
}
