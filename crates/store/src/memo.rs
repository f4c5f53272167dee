//! Memos: what each channel remembers of a resource between deliveries (the Slack thread its
//! events go to, the PagerDuty incident it opened), so a restart keeps threads and incidents.

use model::{Memo, Memos, ResourceKey};
use time::OffsetDateTime;

use crate::backend::Batch;
use crate::keys::{memo_key, memo_prefix, split_memo_key, MEMO_PREFIX};
use crate::records::MemoRecord;
use crate::{encode, Store, StoreError};

/// A memo as kept, with the channel and resource it is of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptMemo {
    /// The channel's name.
    pub channel: String,
    /// The resource.
    pub resource: ResourceKey,
    /// What the channel remembers.
    pub memo: Memo,
    /// When it was last written.
    pub updated_at: OffsetDateTime,
}

impl Store {
    /// What `channel` remembers of `resource`, if anything. A memo that cannot be read is
    /// quarantined and reads as none (the resource's next message starts a new thread).
    pub async fn memo(
        &self,
        channel: &str,
        resource: &ResourceKey,
    ) -> Result<Option<Memo>, StoreError> {
        let key = memo_key(channel, resource);
        let Some(bytes) = self.backend.get(&key).await? else {
            return Ok(None);
        };
        Ok(self
            .read_or_quarantine::<MemoRecord>(&key, &bytes)
            .await?
            .map(|record| record.memo))
    }

    /// What `channel` remembers of the resources `events` are about, loaded for a delivery.
    pub async fn memos_for(
        &self,
        channel: &str,
        events: &[diff_engine::Event],
    ) -> Result<Memos, StoreError> {
        let mut memos = Memos::new();
        for resource in ResourceKey::all_of(events) {
            if let Some(memo) = self.memo(channel, &resource).await? {
                memos.load(resource, memo);
            }
        }
        Ok(memos)
    }

    /// Keeps the memos a delivery through `channel` changed, in one batch, flushed; an empty
    /// memo is removed.
    pub async fn keep_memos<'a>(
        &self,
        channel: &str,
        memos: impl IntoIterator<Item = (&'a ResourceKey, &'a Memo)>,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut batch = Batch::fenced();
        let mut any = false;
        for (resource, memo) in memos {
            any = true;
            let key = memo_key(channel, resource);
            if memo.is_empty() {
                batch.remove(key);
            } else {
                batch.put(
                    key,
                    encode(&MemoRecord {
                        resource: resource.clone(),
                        memo: memo.clone(),
                        updated_at: now,
                    })?,
                );
            }
        }
        if any {
            self.backend.apply(batch).await?;
        }
        Ok(())
    }

    /// Every memo, of every channel (unreadable ones quarantined and left out).
    pub async fn memos(&self) -> Result<Vec<KeptMemo>, StoreError> {
        let mut memos = Vec::new();
        for (key, bytes) in self.backend.scan(MEMO_PREFIX).await? {
            let Some(record) = self.read_or_quarantine::<MemoRecord>(&key, &bytes).await? else {
                continue;
            };
            let Some((channel, _)) = split_memo_key(&key) else {
                continue;
            };
            memos.push(KeptMemo {
                channel: channel.to_owned(),
                resource: record.resource,
                memo: record.memo,
                updated_at: record.updated_at,
            });
        }
        Ok(memos)
    }

    /// Removes the memos not written since `before` that hold no open incident (a thread
    /// whose resource has been quiet that long is not continued), and the memos of channels
    /// not in `channels`. Returns how many went.
    pub async fn prune_memos(
        &self,
        channels: &[&str],
        before: OffsetDateTime,
    ) -> Result<usize, StoreError> {
        let mut batch = Batch::fenced();
        let mut pruned = 0;
        for kept in self.memos().await? {
            let configured = channels.contains(&kept.channel.as_str());
            let stale = kept.updated_at < before && kept.memo.incident.is_none();
            if !configured || stale {
                batch.remove(memo_key(&kept.channel, &kept.resource));
                pruned += 1;
            }
        }
        if pruned > 0 {
            self.backend.apply(batch).await?;
        }
        Ok(pruned)
    }

    /// How many memos `channel` keeps.
    pub async fn memo_count(&self, channel: &str) -> Result<usize, StoreError> {
        self.backend.count(&memo_prefix(channel)).await
    }
}
