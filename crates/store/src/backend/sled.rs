//! The embedded backend: one sled tree in the directory `[state] path`.

use std::ops::Bound;
use std::path::Path;

use super::{Batch, Op, Pair};
use crate::StoreError;

/// A sled database and the tree pswatch keeps its records in.
#[derive(Clone)]
pub(crate) struct SledBackend {
    db: sled::Db,
    tree: sled::Tree,
    /// Held from the check of a batch's keys that must be new to the batch's write, so that
    /// two tasks writing the same new key (two copies of one click) cannot both find it absent.
    writes: std::sync::Arc<std::sync::Mutex<()>>,
}

impl SledBackend {
    /// Opens (or creates) the database in `path`. A lock held by a handle dropped a moment ago
    /// (sled's flusher finishing) is waited for, up to a second.
    pub(crate) fn open(path: &Path) -> Result<Self, sled::Error> {
        let mut attempts = 0;
        let db = loop {
            match sled::Config::new().path(path).open() {
                Ok(db) => break db,
                Err(sled::Error::Io(error))
                    if attempts < 50 && error.to_string().contains("could not acquire lock") =>
                {
                    attempts += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(error) => return Err(error),
            }
        };
        let tree = db.open_tree("pswatch")?;
        Ok(Self {
            db,
            tree,
            writes: std::sync::Arc::default(),
        })
    }

    /// Whether the database holds nothing at all: no record, and no tree but its own.
    pub(crate) fn is_blank(&self) -> bool {
        self.tree.is_empty() && self.db.tree_names().len() <= 2
    }

    pub(super) fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.tree.get(key)?.map(|value| value.to_vec()))
    }

    pub(super) fn scan(&self, prefix: &[u8]) -> Result<Vec<Pair>, StoreError> {
        self.tree
            .scan_prefix(prefix)
            .map(|item| {
                let (key, value) = item?;
                Ok((key.to_vec(), value.to_vec()))
            })
            .collect()
    }

    pub(super) fn keys(&self, prefix: &[u8]) -> Result<Vec<Vec<u8>>, StoreError> {
        self.tree
            .scan_prefix(prefix)
            .keys()
            .map(|key| Ok(key?.to_vec()))
            .collect()
    }

    pub(super) fn count(&self, prefix: &[u8]) -> Result<usize, StoreError> {
        let mut count = 0;
        for key in self.tree.scan_prefix(prefix).keys() {
            key?;
            count += 1;
        }
        Ok(count)
    }

    pub(super) fn page(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Pair>, StoreError> {
        let start = match after {
            Some(after) => Bound::Excluded(after.to_vec()),
            None => Bound::Included(prefix.to_vec()),
        };
        let mut pairs = Vec::new();
        for item in self.tree.range::<Vec<u8>, _>((start, Bound::Unbounded)) {
            let (key, value) = item?;
            if !key.starts_with(prefix) || pairs.len() >= limit {
                break;
            }
            pairs.push((key.to_vec(), value.to_vec()));
        }
        Ok(pairs)
    }

    pub(super) async fn apply(&self, batch: Batch) -> Result<(), StoreError> {
        // One process writes this store, but many of its tasks do: a key that must be new is
        // checked and written under one lock (not held across the flush).
        {
            let _writing = self
                .writes
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for op in batch.ops() {
                if let Op::PutNew(key, _) = op {
                    if self.tree.contains_key(key)? {
                        return Err(StoreError::Duplicate);
                    }
                }
            }
            self.tree.apply_batch(Self::sled_batch(&batch))?;
        }
        self.db.flush_async().await?;
        Ok(())
    }

    /// Applies `batch` and flushes it, blocking: for what opening a store does.
    pub(crate) fn apply_now(&self, batch: &Batch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        self.tree.apply_batch(Self::sled_batch(batch))?;
        self.db.flush()?;
        Ok(())
    }

    /// The value of `key`, for what opening a store does.
    pub(crate) fn get_now(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.get(key)
    }

    /// Every key and value under `prefix`, for what opening a store does.
    pub(crate) fn scan_now(&self, prefix: &[u8]) -> Result<Vec<Pair>, StoreError> {
        self.scan(prefix)
    }

    fn sled_batch(batch: &Batch) -> sled::Batch {
        let mut sled_batch = sled::Batch::default();
        for op in batch.ops() {
            match op {
                Op::Put(key, value) | Op::PutNew(key, value) => {
                    sled_batch.insert(key.as_slice(), value.as_slice());
                }
                Op::Remove(key) => sled_batch.remove(key.as_slice()),
            }
        }
        sled_batch
    }

    /// sled's ids only count up: they are drawn until past `highest`, up to a bound that an
    /// export of this store's own ids never needs.
    pub(super) fn ids_after(&self, highest: u64) -> Result<(), StoreError> {
        const MOST: u64 = 50_000_000;
        let mut drawn = 0;
        while self.db.generate_id()? <= highest {
            drawn += 1;
            if drawn > MOST {
                return Err(StoreError::Invalid(format!(
                    "the export's outbox ids reach {highest}, too far above this store's to continue them"
                )));
            }
        }
        Ok(())
    }

    pub(super) fn next_ids(&self, count: usize) -> Result<Vec<u64>, StoreError> {
        (0..count)
            .map(|_| self.db.generate_id().map_err(StoreError::from))
            .collect()
    }

    pub(super) async fn flush(&self) -> Result<(), StoreError> {
        self.db.flush_async().await?;
        Ok(())
    }
}
