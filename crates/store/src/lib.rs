//! The only crate that knows bytes on disk.
//!
//! One sled tree holds two kinds of records, each as versioned JSON:
//!
//! - `state/{organization}/{database}`: the [`TargetState`] last seen of a target;
//! - `outbox/{sequence}`: one [`OutboxEntry`] per (event, channel) still to deliver, keyed by a
//!   sequence that grows with detection order, so iterating the outbox yields events in the
//!   order they were detected.
//!
//! [`Store::commit_poll`] writes a target's next state and its new outbox entries in one atomic
//! batch and flushes it before returning, so nothing is sent that a crash could forget, and no
//! state advances without the deliveries it owes.

use std::path::{Path, PathBuf};

use diff_engine::{Event, Target, TargetState};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use time::OffsetDateTime;

/// The format version written into every record. A record of another version is refused with
/// [`StoreError::UnsupportedVersion`] rather than misread.
pub const FORMAT_VERSION: u32 = 1;

const STATE_PREFIX: &[u8] = b"state\0";
const OUTBOX_PREFIX: &[u8] = b"outbox\0";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the state store at {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: sled::Error,
    },
    #[error("state store I/O failed: {0}")]
    Io(#[from] sled::Error),
    #[error("a stored {what} record is damaged: {source}")]
    Corrupt {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("a stored {what} record has format version {found}; this pswatch reads version {FORMAT_VERSION}; use the pswatch version that wrote it, or move the state directory aside")]
    UnsupportedVersion { what: &'static str, found: u32 },
    #[error("no outbox entry {0}")]
    NoSuchEntry(u64),
}

/// One delivery still owed: an event for one channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// Grows with detection order; unique for the life of the store.
    pub id: u64,
    pub channel: String,
    pub event: Event,
    /// Failed delivery attempts so far.
    pub attempts: u32,
    /// Why the last attempt failed. Written by the notifier, which never puts a secret in it.
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A delivery to add to the outbox with a poll's state.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub channel: String,
    pub event: Event,
}

/// The envelope of every record. The record is nested rather than flattened: serde's flatten
/// buffers the content and loses integer map keys on the way back.
#[derive(Serialize, Deserialize)]
struct Versioned<T> {
    v: u32,
    record: T,
}

#[derive(Deserialize)]
struct VersionOnly {
    v: u32,
}

#[derive(Serialize, Deserialize)]
struct StateRecord {
    target: Target,
    state: TargetState,
}

/// The state store. Open one per process.
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    tree: sled::Tree,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (or creates) the store in the directory `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let db = sled::Config::new()
            .path(path)
            .open()
            .map_err(|source| StoreError::Open {
                path: path.to_owned(),
                source,
            })?;
        let tree = db.open_tree("pswatch")?;
        Ok(Self { db, tree })
    }

    /// The state last seen of `target`, or `None` if it was never polled (or was forgotten).
    pub fn target_state(&self, target: &Target) -> Result<Option<TargetState>, StoreError> {
        self.tree
            .get(state_key(target))?
            .map(|bytes| decode::<StateRecord>("state", &bytes).map(|record| record.state))
            .transpose()
    }

    /// Every target with a remembered state.
    pub fn target_states(&self) -> Result<Vec<(Target, TargetState)>, StoreError> {
        self.tree
            .scan_prefix(STATE_PREFIX)
            .map(|item| {
                let (_, bytes) = item?;
                let record = decode::<StateRecord>("state", &bytes)?;
                Ok((record.target, record.state))
            })
            .collect()
    }

    /// Forgets what was seen of `target`, so its next poll is a new baseline. Returns whether
    /// anything was remembered.
    pub async fn forget_target(&self, target: &Target) -> Result<bool, StoreError> {
        let removed = self.tree.remove(state_key(target))?.is_some();
        self.db.flush_async().await?;
        Ok(removed)
    }

    /// Commits a poll: `next` becomes the state of `target` and each delivery becomes an outbox
    /// entry, all in one atomic batch, flushed to disk before this returns.
    pub async fn commit_poll(
        &self,
        target: &Target,
        next: &TargetState,
        deliveries: Vec<NewDelivery>,
        now: OffsetDateTime,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut batch = sled::Batch::default();
        batch.insert(
            state_key(target),
            encode(&StateRecord {
                target: target.clone(),
                state: next.clone(),
            }),
        );
        let mut entries = Vec::with_capacity(deliveries.len());
        for delivery in deliveries {
            let entry = OutboxEntry {
                id: self.db.generate_id()?,
                channel: delivery.channel,
                event: delivery.event,
                attempts: 0,
                last_error: None,
                created_at: now,
            };
            batch.insert(outbox_key(entry.id).to_vec(), encode(&entry));
            entries.push(entry);
        }
        self.tree.apply_batch(batch)?;
        self.db.flush_async().await?;
        Ok(entries)
    }

    /// Every pending outbox entry, in detection order.
    pub fn outbox(&self) -> Result<Vec<OutboxEntry>, StoreError> {
        self.tree
            .scan_prefix(OUTBOX_PREFIX)
            .map(|item| {
                let (_, bytes) = item?;
                decode::<OutboxEntry>("outbox", &bytes)
            })
            .collect()
    }

    /// How many deliveries are pending.
    pub fn outbox_len(&self) -> usize {
        self.tree.scan_prefix(OUTBOX_PREFIX).count()
    }

    /// Removes an entry once its receiver accepted it.
    pub async fn complete_delivery(&self, id: u64) -> Result<(), StoreError> {
        self.tree.remove(outbox_key(id))?;
        self.db.flush_async().await?;
        Ok(())
    }

    /// Records a failed attempt; the entry stays for the next one.
    pub async fn record_failure(&self, id: u64, error: &str) -> Result<OutboxEntry, StoreError> {
        let key = outbox_key(id);
        let bytes = self.tree.get(key)?.ok_or(StoreError::NoSuchEntry(id))?;
        let mut entry = decode::<OutboxEntry>("outbox", &bytes)?;
        entry.attempts = entry.attempts.saturating_add(1);
        entry.last_error = Some(error.to_owned());
        self.tree.insert(key, encode(&entry))?;
        self.db.flush_async().await?;
        Ok(entry)
    }

    /// Writes everything to disk.
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.db.flush_async().await?;
        Ok(())
    }
}

fn state_key(target: &Target) -> Vec<u8> {
    let mut key = STATE_PREFIX.to_vec();
    key.extend_from_slice(target.organization.as_bytes());
    key.push(0);
    key.extend_from_slice(target.database.as_bytes());
    key
}

fn outbox_key(id: u64) -> [u8; 15] {
    let mut key = [0; 15];
    key[..7].copy_from_slice(OUTBOX_PREFIX);
    key[7..].copy_from_slice(&id.to_be_bytes());
    key
}

fn encode<T: Serialize>(record: &T) -> Vec<u8> {
    // Serializing these plain records to JSON cannot fail: every map key is a string or an
    // integer and there are no custom serializers that return errors.
    serde_json::to_vec(&Versioned {
        v: FORMAT_VERSION,
        record,
    })
    .unwrap_or_default()
}

fn decode<T: DeserializeOwned>(what: &'static str, bytes: &[u8]) -> Result<T, StoreError> {
    let version: VersionOnly =
        serde_json::from_slice(bytes).map_err(|source| StoreError::Corrupt { what, source })?;
    if version.v != FORMAT_VERSION {
        return Err(StoreError::UnsupportedVersion {
            what,
            found: version.v,
        });
    }
    let versioned: Versioned<T> =
        serde_json::from_slice(bytes).map_err(|source| StoreError::Corrupt { what, source })?;
    Ok(versioned.record)
}

#[cfg(test)]
mod tests;
