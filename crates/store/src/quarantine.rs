//! The quarantine: records that could not be read, set aside with their bytes, so that they
//! stall nothing and lose nothing.

use crate::backend::Batch;
use crate::keys::{
    describe_key, CHANNEL_PREFIX, DEAD_PREFIX, FINGERPRINT_KEY, MEMO_PREFIX, QUARANTINE_PREFIX,
    STATE_PREFIX,
};
use crate::records::{FingerprintKey, MemoRecord, Record, StateRecord};
use crate::{decode, DeadLetter, DisabledChannel, OutboxEntry, Store, StoreError};

/// A record set aside because it could not be read; its bytes are kept as they were.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantined {
    /// What the record was, e.g. `outbox entry 42 of channel audit`.
    pub record: String,
    /// Why it could not be read.
    pub problem: String,
    /// Its size in bytes.
    pub bytes: usize,
}

impl Store {
    /// Decodes a record; one that cannot be read is moved, bytes untouched, from `key` to the
    /// quarantine, and `None` returned, so it stalls nothing and loses nothing.
    /// The readable records under `prefix` but those `forget` picks, which are removed (in one
    /// batch); one that cannot be read is quarantined and left out.
    pub(crate) async fn scan_forgetting<T: Record>(
        &self,
        prefix: &[u8],
        forget: impl Fn(&T) -> bool,
    ) -> Result<Vec<T>, StoreError> {
        let mut kept = Vec::new();
        let mut batch = Batch::default();
        let mut forgotten = 0;
        for (key, bytes) in self.backend.scan(prefix).await? {
            let Some(record) = self.read_or_quarantine::<T>(&key, &bytes).await? else {
                continue;
            };
            if forget(&record) {
                batch.remove(key);
                forgotten += 1;
            } else {
                kept.push(record);
            }
        }
        if forgotten > 0 {
            self.backend.apply(batch).await?;
        }
        Ok(kept)
    }

    pub(crate) async fn read_or_quarantine<T: Record>(
        &self,
        key: &[u8],
        bytes: &[u8],
    ) -> Result<Option<T>, StoreError> {
        match decode::<T>(bytes) {
            Ok(record) => Ok(Some(record)),
            Err(error) if error.is_unreadable() => {
                self.backend.apply(set_aside(key, bytes)).await?;
                Ok(None)
            }
            Err(error) => Err(error),
        }
    }

    /// The records set aside because they could not be read, with what is wrong with each.
    pub async fn quarantined(&self) -> Result<Vec<Quarantined>, StoreError> {
        Ok(self
            .backend
            .scan(QUARANTINE_PREFIX)
            .await?
            .into_iter()
            .map(|(key, bytes)| {
                let original = &key[QUARANTINE_PREFIX.len()..];
                Quarantined {
                    record: describe_key(original),
                    problem: problem_of(original, &bytes),
                    bytes: bytes.len(),
                }
            })
            .collect())
    }

    /// How many records are quarantined.
    pub async fn quarantined_len(&self) -> Result<usize, StoreError> {
        self.backend.count(QUARANTINE_PREFIX).await
    }
}

/// Why the record under `key` cannot be read.
/// The batch that moves the record at `key` aside, with its bytes untouched.
pub(crate) fn set_aside(key: &[u8], bytes: &[u8]) -> Batch {
    let mut quarantined = QUARANTINE_PREFIX.to_vec();
    quarantined.extend_from_slice(key);
    let mut batch = Batch::default();
    batch.put(quarantined, bytes);
    batch.remove(key);
    batch
}

fn problem_of(key: &[u8], bytes: &[u8]) -> String {
    let problem = if key.starts_with(STATE_PREFIX) {
        decode::<StateRecord>(bytes).err()
    } else if key.starts_with(DEAD_PREFIX) {
        decode::<DeadLetter>(bytes).err()
    } else if key.starts_with(CHANNEL_PREFIX) {
        decode::<DisabledChannel>(bytes).err()
    } else if key.starts_with(MEMO_PREFIX) {
        decode::<MemoRecord>(bytes).err()
    } else if key == FINGERPRINT_KEY {
        decode::<FingerprintKey>(bytes).err()
    } else {
        decode::<OutboxEntry>(bytes).err()
    };
    problem.map_or_else(|| "it reads now".into(), |error| error.to_string())
}
