//! Where the records live: an ordered map of byte keys to byte values, read by key or by
//! prefix and written in atomic, durable batches. Everything the store knows of records,
//! formats and keys is above this; a backend knows only bytes.

mod postgres;
mod sled;

pub(crate) use self::postgres::PostgresBackend;
pub use self::postgres::{
    schema_identifier, split_tls_mode, Fence, Leader, PostgresOptions, Replica, TlsMode,
};
pub(crate) use self::sled::SledBackend;

use crate::StoreError;

/// One change of a batch.
#[derive(Debug, Clone)]
pub(crate) enum Op {
    Put(Vec<u8>, Vec<u8>),
    /// Put only if the key is not there; otherwise nothing of the batch is applied
    /// ([`StoreError::Duplicate`]).
    PutNew(Vec<u8>, Vec<u8>),
    Remove(Vec<u8>),
}

/// Changes applied together or not at all.
#[derive(Debug, Clone, Default)]
pub(crate) struct Batch {
    ops: Vec<Op>,
    fenced: bool,
}

impl Batch {
    /// A batch only the leader may apply (a poll's commit, a delivery's outcome): a shared
    /// backend refuses it from a replica whose lease is not current.
    pub(crate) fn fenced() -> Self {
        Self {
            ops: Vec::new(),
            fenced: true,
        }
    }

    pub(crate) fn is_fenced(&self) -> bool {
        self.fenced
    }

    pub(crate) fn put(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.ops.push(Op::Put(key.into(), value.into()));
    }

    /// Puts `key` only if no record has it: a second batch with the same new key fails whole.
    pub(crate) fn put_new(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.ops.push(Op::PutNew(key.into(), value.into()));
    }

    pub(crate) fn remove(&mut self, key: impl Into<Vec<u8>>) {
        self.ops.push(Op::Remove(key.into()));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    pub(crate) fn ops(&self) -> &[Op] {
        &self.ops
    }
}

/// A key and its value.
pub(crate) type Pair = (Vec<u8>, Vec<u8>);

/// The backend a store keeps its records in.
#[derive(Clone)]
pub(crate) enum Backend {
    /// sled, embedded, in `[state] path`.
    Sled(SledBackend),
    /// PostgreSQL, shared by replicas, at `[state] url`.
    Postgres(PostgresBackend),
}

impl Backend {
    /// The value of `key`.
    pub(crate) async fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        match self {
            Self::Sled(sled) => sled.get(key),
            Self::Postgres(postgres) => postgres.get(key).await,
        }
    }

    /// Every key and value under `prefix`, in key order.
    pub(crate) async fn scan(&self, prefix: &[u8]) -> Result<Vec<Pair>, StoreError> {
        match self {
            Self::Sled(sled) => sled.scan(prefix),
            Self::Postgres(postgres) => postgres.scan(prefix).await,
        }
    }

    /// Every key under `prefix`, in key order, without the values.
    pub(crate) async fn keys(&self, prefix: &[u8]) -> Result<Vec<Vec<u8>>, StoreError> {
        match self {
            Self::Sled(sled) => sled.keys(prefix),
            Self::Postgres(postgres) => postgres.keys(prefix).await,
        }
    }

    /// How many keys there are under `prefix`.
    pub(crate) async fn count(&self, prefix: &[u8]) -> Result<usize, StoreError> {
        match self {
            Self::Sled(sled) => sled.count(prefix),
            Self::Postgres(postgres) => postgres.count(prefix).await,
        }
    }

    /// At most `limit` keys and values under `prefix` that come after `after` (from the first
    /// when `None`), in key order: a page of a long list.
    pub(crate) async fn page(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Pair>, StoreError> {
        match self {
            Self::Sled(sled) => sled.page(prefix, after, limit),
            Self::Postgres(postgres) => postgres.page(prefix, after, limit).await,
        }
    }

    /// Applies `batch` atomically and durably: when this returns `Ok`, all of it is on disk;
    /// when it fails, none of it was applied or it may be lost, but never a part of it.
    pub(crate) async fn apply(&self, batch: Batch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        match self {
            Self::Sled(sled) => sled.apply(batch).await,
            Self::Postgres(postgres) => postgres.apply(batch).await,
        }
    }

    /// `count` numbers never handed out before by this store, increasing: outbox entries' ids,
    /// in the order they are made. One round trip to PostgreSQL however many.
    pub(crate) async fn next_ids(&self, count: usize) -> Result<Vec<u64>, StoreError> {
        if count == 0 {
            return Ok(Vec::new());
        }
        match self {
            Self::Sled(sled) => sled.next_ids(count),
            Self::Postgres(postgres) => postgres.next_ids(count).await,
        }
    }

    /// Makes the ids handed out next higher than `highest` (after an import).
    pub(crate) async fn ids_after(&self, highest: u64) -> Result<(), StoreError> {
        match self {
            Self::Sled(sled) => sled.ids_after(highest),
            Self::Postgres(postgres) => postgres.ids_after(highest).await,
        }
    }

    /// Makes every write so far durable.
    pub(crate) async fn flush(&self) -> Result<(), StoreError> {
        match self {
            Self::Sled(sled) => sled.flush().await,
            // Every transaction is durable when it commits.
            Self::Postgres(_) => Ok(()),
        }
    }

    /// `sled` or `postgres`.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Self::Sled(_) => "sled",
            Self::Postgres(_) => "postgres",
        }
    }
}
