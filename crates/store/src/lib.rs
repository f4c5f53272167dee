//! The only crate that knows bytes on disk.
//!
//! One sled tree holds these records, each as versioned JSON:
//!
//! - `state/{organization}/{database}`: the [`TargetState`] last seen of a target;
//! - `queue/{channel}/{sequence}`: one [`OutboxEntry`] per (event, channel) still to deliver,
//!   keyed by its channel and a sequence that grows with detection order, so a channel's entries
//!   come in the order they were detected and its next one is found without reading any other
//!   channel's or any later one; each entry keeps its attempts and next attempt time, so a
//!   restart neither resets nor hammers (stores written before keyed the outbox by sequence
//!   alone, `outbox/{sequence}`; opening one moves those entries);
//! - `dead/{sequence}`: [`DeadLetter`]s, entries that failed for good or outlived their maximum
//!   age, with the last error; they keep their sequence, so one put back takes its old place;
//! - `channel/{name}`: a [`DisabledChannel`], a channel whose receiver said it is gone;
//! - `memo/{channel}/{resource}`: what a channel remembers of a workflow or deploy request (a
//!   Slack thread, an open PagerDuty incident), kept as deliveries change it;
//! - `silence/{id}`: a silence added through the CLI or the admin API;
//! - `quarantine/{key}`: a record that could not be read (damaged, or of a format version this
//!   build does not know), moved aside with its bytes untouched when it was met, so that it
//!   stalls nothing; [`Store::quarantined`] lists them with what is wrong;
//! - `receipt/{digest}`: a PlanetScale webhook delivery already acted on, written with the
//!   outbox entries it gave, so that one repeated after a restart is acted on once;
//! - `meta/store` (written at the first open: a directory with sled's files but not this record
//!   is damaged), `meta/fingerprint-key` (the key of channels' fingerprints) and `meta/probe`
//!   (what a write probe writes).
//!
//! [`Store::commit_poll`] writes a target's next state and its new outbox entries in one atomic
//! batch and flushes it before returning, so nothing is sent that a crash could forget, and no
//! state advances without the deliveries it owes.

use std::path::{Path, PathBuf};

use diff_engine::{Event, Target, TargetState};
use serde::{Deserialize, Serialize};

pub use crate::backend::{
    schema_identifier, split_tls_mode, Fence, Leader, PostgresOptions, Replica, TlsMode,
};
use crate::backend::{Backend, Batch, PostgresBackend, SledBackend};
use crate::keys::{
    channel_key, key, queue_key, queue_prefix, split_queue_key, state_key, DEAD_PREFIX,
    FINGERPRINT_KEY, OLD_OUTBOX_PREFIX, QUEUE_PREFIX, STATE_PREFIX,
};
use crate::records::{FingerprintKey, Record, StateRecord};

mod actions;
mod alert;
mod backend;
mod commit;
#[cfg(test)]
mod conformance;
mod digest;
mod export;
mod keys;
mod lease;
mod memo;
mod open;
mod quarantine;
mod receipt;
mod records;
mod report;
mod silence;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod view;

pub use actions::PendingAction;
pub use lease::{Election, Leadership, Pokes};
pub use memo::KeptMemo;
pub use quarantine::Quarantined;
pub use receipt::Digest;
pub use report::LeaderReport;
use time::OffsetDateTime;

/// The format version written into every record. A record of another version is refused with
/// [`StoreError::UnsupportedVersion`] rather than misread.
pub const FORMAT_VERSION: u32 = 1;

/// The length of the fingerprint key, in bytes.
const FINGERPRINT_KEY_LENGTH: usize = 32;

/// What went wrong with the state store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The directory cannot be opened: another process holds it, it is not writable, it is not
    /// a directory, or sled's own files are damaged.
    #[error("cannot open the state store at {path}: {reason}")]
    Open {
        /// The directory.
        path: PathBuf,
        /// What failed, in words.
        reason: String,
    },
    /// The store exists but what it held cannot be read: it is refused rather than started
    /// over, which would forget the deliveries it owes.
    #[error("the state store at {path} exists but cannot be read: {problem}. pswatch does not start over on its own, which would forget the deliveries the store owes: restore the directory from a backup, or move it aside and start over with `pswatch state reset`")]
    Damaged {
        /// The directory.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// Reading or writing failed; the engine's error, in words (callers never see the
    /// engine's own types, so another backend can stand behind the same API).
    #[error("state store I/O failed: {0}")]
    Io(String),
    /// What must be written once was written already (a webhook delivery's receipt).
    #[error("already recorded")]
    Duplicate,
    /// This replica does not lead (any more): the leader's writes are refused.
    #[error("not the leader: {0}")]
    NotLeader(String),
    /// A record's bytes are not a record.
    #[error("a stored {what} record is damaged: {source}")]
    Corrupt {
        /// What kind of record.
        what: &'static str,
        /// Why it does not read.
        #[source]
        source: serde_json::Error,
    },
    /// A record of a format version this build does not read.
    #[error("a stored {what} record has format version {found}; this pswatch reads version {FORMAT_VERSION}; use the pswatch version that wrote it, or move the state directory aside")]
    UnsupportedVersion {
        /// What kind of record.
        what: &'static str,
        /// Its version.
        found: u32,
    },
    /// No entry has that id.
    #[error("no outbox entry or dead letter with id {0}")]
    NoSuchEntry(u64),
    /// The system gave no random bytes.
    #[error("the operating system gave no random bytes for a key: {0}")]
    Random(String),
    /// A record cannot be turned into bytes.
    #[error("a record cannot be encoded for the state store: {source}")]
    Encode {
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// What was asked cannot be stored.
    #[error("{0}")]
    Invalid(String),
    /// The database (PostgreSQL) refused or did not answer.
    #[error("the state database failed: {0}")]
    Database(String),
}

/// An error and its causes on one line.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
        source = cause_of(source);
    }
    text
}

fn cause_of<'a>(
    error: Option<&'a (dyn std::error::Error + 'static)>,
) -> Option<&'a (dyn std::error::Error + 'static)> {
    error.and_then(std::error::Error::source)
}

/// One delivery still owed: an event for one channel.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEntry {
    /// Grows with detection order; unique for the life of the store.
    pub id: u64,
    /// The channel to deliver to.
    pub channel: String,
    /// The event to deliver.
    pub event: Event,
    /// Failed delivery attempts so far.
    pub attempts: u32,
    /// Why the last attempt failed. Written by the notifier, which never puts a secret in it.
    pub last_error: Option<String>,
    /// When the poll that detected the event committed it.
    pub created_at: OffsetDateTime,
    /// When the next attempt is due; `None` means now.
    pub next_attempt_at: Option<OffsetDateTime>,
    /// The poll that detected the event: entries of one poll for one channel may go out as one
    /// message.
    pub poll: u64,
}

impl OutboxEntry {
    /// Whether the entry may be attempted at `now`.
    pub fn is_due(&self, now: OffsetDateTime) -> bool {
        self.next_attempt_at.is_none_or(|at| at <= now)
    }
}

/// An entry that will not be attempted again unless a person puts it back.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    /// The entry, as it was when given up.
    pub entry: OutboxEntry,
    /// When it was given up.
    pub died_at: OffsetDateTime,
    /// Why it was given up.
    pub reason: String,
}

/// A channel whose receiver answered that it is gone (HTTP 410). It stays disabled while its
/// configuration keeps the same fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisabledChannel {
    /// A digest of the channel's configuration at the time; never the configuration itself.
    pub fingerprint: String,
    /// When it was disabled.
    pub disabled_at: OffsetDateTime,
    /// What the receiver answered.
    pub reason: String,
}

/// A channel's pending entries, read a few at a time (see [`Store::outbox_of`]).
pub struct OutboxReader {
    store: Store,
    prefix: Vec<u8>,
    /// The entries read and not yet given, and the key of the last one read.
    ahead: std::collections::VecDeque<(Vec<u8>, Vec<u8>)>,
    last: Option<Vec<u8>>,
    done: bool,
}

/// How many entries an [`OutboxReader`] reads at a time.
const OUTBOX_PAGE: usize = 16;

impl OutboxReader {
    /// Every entry left, in detection order.
    pub async fn all(mut self) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut entries = Vec::new();
        while let Some(entry) = self.next().await {
            entries.push(entry?);
        }
        Ok(entries)
    }

    /// The next entry, in detection order; `None` when there is none left. An entry that
    /// cannot be read is quarantined and skipped.
    pub async fn next(&mut self) -> Option<Result<OutboxEntry, StoreError>> {
        loop {
            if self.ahead.is_empty() {
                if self.done {
                    return None;
                }
                let page = match self
                    .store
                    .backend
                    .page(&self.prefix, self.last.as_deref(), OUTBOX_PAGE)
                    .await
                {
                    Ok(page) => page,
                    Err(error) => return Some(Err(error)),
                };
                self.done = page.len() < OUTBOX_PAGE;
                self.last = page.last().map(|(key, _)| key.clone());
                self.ahead.extend(page);
                if self.ahead.is_empty() {
                    return None;
                }
            }
            let (key, bytes) = self.ahead.pop_front()?;
            match self
                .store
                .read_or_quarantine::<OutboxEntry>(&key, &bytes)
                .await
            {
                Ok(Some(entry)) => return Some(Ok(entry)),
                Ok(None) => continue,
                Err(error) => return Some(Err(error)),
            }
        }
    }
}

/// A delivery to add to the outbox with a poll's state.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    /// The channel to deliver to.
    pub channel: String,
    /// The event to deliver.
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

/// The state store. Open one per process.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Store {
    /// Connects to the PostgreSQL store `options` names, creating its schema and tables (or
    /// bringing them up to date) if needed.
    pub async fn connect(options: &PostgresOptions) -> Result<Self, StoreError> {
        Ok(Self {
            backend: Backend::Postgres(PostgresBackend::connect(options).await?),
        })
    }

    /// Which backend this store is: `sled` or `postgres`.
    pub fn backend_name(&self) -> &'static str {
        self.backend.name()
    }

    /// Opens (or creates) the store in the directory `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let existed = open::existing_store(path)?;
        let sled = SledBackend::open(path).map_err(|source| StoreError::Open {
            path: path.to_owned(),
            reason: open::open_failure(&source),
        })?;
        move_old_outbox_keys(&sled)?;
        open::check_marker(&sled, path, existed)?;
        Ok(Self {
            backend: Backend::Sled(sled),
        })
    }

    /// The state last seen of `target`, or `None` if it was never polled, was forgotten, or
    /// its record could not be read (it is quarantined, and the next poll is a new baseline).
    pub async fn target_state(&self, target: &Target) -> Result<Option<TargetState>, StoreError> {
        let key = state_key(target);
        let Some(bytes) = self.backend.get(&key).await? else {
            return Ok(None);
        };
        Ok(self
            .read_or_quarantine::<StateRecord>(&key, &bytes)
            .await?
            .map(|record| record.state))
    }

    /// Every target with a remembered state; unreadable records are quarantined.
    pub async fn target_states(&self) -> Result<Vec<(Target, TargetState)>, StoreError> {
        let records: Vec<StateRecord> = self.scan(STATE_PREFIX).await?;
        Ok(records
            .into_iter()
            .map(|record| (record.target, record.state))
            .collect())
    }

    /// Forgets what was seen of `target`, so its next poll is a new baseline. Returns whether
    /// anything was remembered.
    pub async fn forget_target(&self, target: &Target) -> Result<bool, StoreError> {
        let key = state_key(target);
        let removed = self.backend.get(&key).await?.is_some();
        let mut batch = Batch::default();
        batch.remove(key);
        self.backend.apply(batch).await?;
        Ok(removed)
    }

    /// Every pending outbox entry, in detection order.
    pub async fn outbox(&self) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut entries: Vec<OutboxEntry> = self.scan(QUEUE_PREFIX).await?;
        entries.sort_by_key(|entry| entry.id);
        Ok(entries)
    }

    /// The pending entries of one channel, in detection order, read one at a time as the
    /// iterator advances: finding a channel's next entry reads neither the other channels' nor
    /// its later ones. An entry that cannot be read is quarantined and skipped.
    pub fn outbox_of(&self, channel: &str) -> OutboxReader {
        OutboxReader {
            store: self.clone(),
            prefix: queue_prefix(channel),
            ahead: std::collections::VecDeque::new(),
            last: None,
            done: false,
        }
    }

    /// How many deliveries are pending for each channel that has any, from the keys alone.
    pub async fn outbox_counts(
        &self,
    ) -> Result<std::collections::BTreeMap<String, usize>, StoreError> {
        let mut counts = std::collections::BTreeMap::new();
        for key in self.backend.keys(QUEUE_PREFIX).await? {
            if let Some((channel, _)) = split_queue_key(&key) {
                *counts.entry(channel.to_owned()).or_default() += 1;
            }
        }
        Ok(counts)
    }

    /// How many deliveries are pending.
    pub async fn outbox_len(&self) -> Result<usize, StoreError> {
        self.backend.count(QUEUE_PREFIX).await
    }

    /// Every dead letter, in detection order.
    pub async fn dead_letters(&self) -> Result<Vec<DeadLetter>, StoreError> {
        self.scan(DEAD_PREFIX).await
    }

    /// How many dead letters there are.
    pub async fn dead_letters_len(&self) -> Result<usize, StoreError> {
        self.backend.count(DEAD_PREFIX).await
    }

    /// Every readable record under `prefix`; those that cannot be read are quarantined.
    async fn scan<T: Record>(&self, prefix: &[u8]) -> Result<Vec<T>, StoreError> {
        let mut records = Vec::new();
        for (key, bytes) in self.backend.scan(prefix).await? {
            records.extend(self.read_or_quarantine(&key, &bytes).await?);
        }
        Ok(records)
    }

    async fn entry(&self, channel: &str, id: u64) -> Result<OutboxEntry, StoreError> {
        let key = queue_key(channel, id);
        let bytes = self
            .backend
            .get(&key)
            .await?
            .ok_or(StoreError::NoSuchEntry(id))?;
        self.read_or_quarantine(&key, &bytes)
            .await?
            .ok_or(StoreError::NoSuchEntry(id))
    }

    /// The key of the pending entry `id`, whatever its channel. Reads keys only.
    async fn find_pending(&self, id: u64) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .backend
            .keys(QUEUE_PREFIX)
            .await?
            .into_iter()
            .find(|key| split_queue_key(key).is_some_and(|(_, sequence)| sequence == id)))
    }

    /// Removes entries of `channel` once their receiver accepted them.
    pub async fn complete(&self, channel: &str, ids: &[u64]) -> Result<(), StoreError> {
        let mut batch = Batch::fenced();
        for id in ids {
            batch.remove(queue_key(channel, *id));
        }
        self.backend.apply(batch).await
    }

    /// Records a failed attempt of each entry of `channel` and when to try again.
    pub async fn reschedule(
        &self,
        channel: &str,
        ids: &[u64],
        error: &str,
        next_attempt_at: OffsetDateTime,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut batch = Batch::fenced();
        let mut entries = Vec::with_capacity(ids.len());
        for id in ids {
            let mut entry = self.entry(channel, *id).await?;
            entry.attempts = entry.attempts.saturating_add(1);
            entry.last_error = Some(error.to_owned());
            entry.next_attempt_at = Some(next_attempt_at);
            batch.put(queue_key(channel, *id), encode(&entry)?);
            entries.push(entry);
        }
        self.backend.apply(batch).await?;
        Ok(entries)
    }

    /// Moves entries of `channel` to the dead letters after a last failed attempt.
    pub async fn bury(
        &self,
        channel: &str,
        ids: &[u64],
        error: &str,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut batch = Batch::fenced();
        for id in ids {
            let mut entry = self.entry(channel, *id).await?;
            entry.attempts = entry.attempts.saturating_add(1);
            entry.last_error = Some(error.to_owned());
            batch.remove(queue_key(channel, *id));
            batch.put(
                key(DEAD_PREFIX, *id),
                encode(&DeadLetter {
                    entry,
                    died_at: now,
                    reason: reason.to_owned(),
                })?,
            );
        }
        self.backend.apply(batch).await
    }

    /// Puts dead letters back into the outbox, at their old place in detection order, with
    /// their attempts reset. `None` puts back every one. Returns how many were put back.
    pub async fn revive(&self, id: Option<u64>) -> Result<usize, StoreError> {
        let letters = match id {
            Some(id) => {
                let dead = key(DEAD_PREFIX, id);
                let bytes = self
                    .backend
                    .get(&dead)
                    .await?
                    .ok_or(StoreError::NoSuchEntry(id))?;
                vec![self
                    .read_or_quarantine::<DeadLetter>(&dead, &bytes)
                    .await?
                    .ok_or(StoreError::NoSuchEntry(id))?]
            }
            None => self.dead_letters().await?,
        };
        let mut batch = Batch::default();
        for letter in &letters {
            let mut entry = letter.entry.clone();
            entry.attempts = 0;
            entry.next_attempt_at = None;
            batch.remove(key(DEAD_PREFIX, entry.id));
            batch.put(queue_key(&entry.channel, entry.id), encode(&entry)?);
        }
        self.backend.apply(batch).await?;
        Ok(letters.len())
    }

    /// Removes a pending entry or a dead letter for good.
    pub async fn drop_entry(&self, id: u64) -> Result<(), StoreError> {
        let pending = self.find_pending(id).await?;
        let dead = key(DEAD_PREFIX, id);
        let is_dead = self.backend.get(&dead).await?.is_some();
        if pending.is_none() && !is_dead {
            return Err(StoreError::NoSuchEntry(id));
        }
        let mut batch = Batch::default();
        if let Some(pending) = pending {
            batch.remove(pending);
        }
        batch.remove(dead);
        self.backend.apply(batch).await
    }

    /// Records that a channel's receiver is gone.
    pub async fn disable_channel(
        &self,
        name: &str,
        disabled: &DisabledChannel,
    ) -> Result<(), StoreError> {
        let mut batch = Batch::fenced();
        batch.put(channel_key(name), encode(disabled)?);
        self.backend.apply(batch).await
    }

    /// The record of a disabled channel, if it is one.
    pub async fn disabled_channel(
        &self,
        name: &str,
    ) -> Result<Option<DisabledChannel>, StoreError> {
        let key = channel_key(name);
        match self.backend.get(&key).await? {
            Some(bytes) => self.read_or_quarantine(&key, &bytes).await,
            None => Ok(None),
        }
    }

    /// Enables a channel again (its configuration changed).
    pub async fn enable_channel(&self, name: &str) -> Result<(), StoreError> {
        let mut batch = Batch::fenced();
        batch.remove(channel_key(name));
        self.backend.apply(batch).await
    }

    /// The key that makes channel fingerprints keyed hashes: 32 random bytes, made the first
    /// time they are asked for and kept in the store, so a fingerprint tells nothing of the
    /// URLs and passwords it was made from to anyone without this store.
    pub async fn fingerprint_key(&self) -> Result<Vec<u8>, StoreError> {
        if let Some(bytes) = self.backend.get(FINGERPRINT_KEY).await? {
            let key = self
                .read_or_quarantine::<FingerprintKey>(FINGERPRINT_KEY, &bytes)
                .await?;
            if let Some(FingerprintKey(key)) =
                key.filter(|key| key.0.len() == FINGERPRINT_KEY_LENGTH)
            {
                return Ok(key);
            }
        }
        let mut key = vec![0; FINGERPRINT_KEY_LENGTH];
        getrandom::getrandom(&mut key).map_err(|error| StoreError::Random(error.to_string()))?;
        let mut batch = Batch::default();
        batch.put(FINGERPRINT_KEY, encode(&FingerprintKey(key.clone()))?);
        self.backend.apply(batch).await?;
        Ok(key)
    }

    /// Overwrites the pending entry `id` of `channel` with `bytes`, as a damaged disk would:
    /// for tests of what pswatch does with a record it cannot read.
    #[cfg(feature = "testing")]
    pub async fn damage_entry(
        &self,
        channel: &str,
        id: u64,
        bytes: &[u8],
    ) -> Result<(), StoreError> {
        let mut batch = Batch::default();
        batch.put(queue_key(channel, id), bytes);
        self.backend.apply(batch).await
    }

    /// Writes everything to disk.
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.backend.flush().await
    }
}

/// Moves entries from the outbox layout of earlier versions (`outbox/{sequence}`) to
/// per-channel keys, in one batch, flushed. Nothing to do on a store written by this version.
/// An entry that cannot be read is quarantined.
fn move_old_outbox_keys(sled: &SledBackend) -> Result<(), StoreError> {
    let mut batch = Batch::default();
    for (key, bytes) in sled.scan_now(OLD_OUTBOX_PREFIX)? {
        match decode::<OutboxEntry>(&bytes) {
            Ok(entry) => {
                batch.remove(key);
                batch.put(queue_key(&entry.channel, entry.id), bytes);
            }
            Err(error) if error.is_unreadable() => {
                sled.apply_now(&quarantine::set_aside(&key, &bytes))?;
            }
            Err(error) => return Err(error),
        }
    }
    sled.apply_now(&batch)
}

/// Raw access to the bytes, for tests that play a damaged or old store.
#[cfg(test)]
impl Store {
    pub(crate) async fn raw_put(
        &self,
        key: impl AsRef<[u8]>,
        bytes: impl AsRef<[u8]>,
    ) -> Result<(), StoreError> {
        let mut batch = Batch::default();
        batch.put(key.as_ref(), bytes.as_ref());
        self.backend.apply(batch).await
    }

    pub(crate) async fn raw_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.backend.get(key).await
    }

    pub(crate) async fn raw_keys(&self, prefix: &[u8]) -> Result<Vec<Vec<u8>>, StoreError> {
        self.backend.keys(prefix).await
    }
}

impl StoreError {
    /// Whether a record cannot be read (damaged, or of a format version this build does not
    /// know): it is quarantined, not a failure of the store.
    pub(crate) fn is_unreadable(&self) -> bool {
        matches!(self, Self::Corrupt { .. } | Self::UnsupportedVersion { .. })
    }
}

impl From<sled::Error> for StoreError {
    fn from(error: sled::Error) -> Self {
        Self::Io(error.to_string())
    }
}

/// A record's bytes. Serializing these records is not expected to fail, but if it did the error
/// is returned: writing empty bytes would destroy the record.
fn encode<T: Record>(record: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(&Versioned {
        v: FORMAT_VERSION,
        record: record.to_stored(),
    })
    .map_err(|source| StoreError::Encode { source })
}

fn decode<T: Record>(bytes: &[u8]) -> Result<T, StoreError> {
    let what = T::WHAT;
    let version: VersionOnly =
        serde_json::from_slice(bytes).map_err(|source| StoreError::Corrupt { what, source })?;
    if version.v != FORMAT_VERSION {
        return Err(StoreError::UnsupportedVersion {
            what,
            found: version.v,
        });
    }
    let versioned: Versioned<T::Stored<'static>> =
        serde_json::from_slice(bytes).map_err(|source| StoreError::Corrupt { what, source })?;
    Ok(T::from_stored(versioned.record))
}

#[cfg(test)]
mod tests;
