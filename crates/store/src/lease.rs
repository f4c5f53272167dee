//! Who does the leader's work. A store of one process (sled) has no replicas: its process
//! always leads, and nothing is elected or fenced ([`Leadership::Alone`]). Replicas that share a
//! PostgreSQL store elect one ([`Leadership::Elected`]): one lease row, taken and renewed by
//! the database's clock, its epoch one more at every takeover; the leader's writes check in
//! their own transaction that its epoch is still the current one.

use std::time::Duration;

use crate::backend::{Backend, Batch, Fence, Leader, PostgresBackend, Replica};
use crate::keys::{poke_key, split_poke_key, wake_key, POKE_PREFIX, WAKE_PREFIX};
use crate::{Store, StoreError, FORMAT_VERSION};

/// What other replicas passed on to the leader.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pokes {
    /// Databases PlanetScale pushed a change of: poll them now.
    pub targets: Vec<diff_engine::Target>,
    /// Channels whose outbox grew (`*`: every channel): wake their workers.
    pub channels: Vec<String>,
}

/// Who does the leader's work on a store: the one seam between one process and replicas.
#[derive(Clone)]
pub enum Leadership {
    /// A store of one process: it always leads.
    Alone,
    /// A store replicas share: they elect a leader.
    Elected(Election),
}

impl std::fmt::Debug for Leadership {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(match self {
            Self::Alone => "Alone",
            Self::Elected(_) => "Elected",
        })
    }
}

impl Leadership {
    /// Whether this process may do the leader's work now: always alone; with replicas, while
    /// its lease is current by its own clock. Asked before a delivery is sent, so a leader
    /// paused past its lease sends nothing once it continues.
    pub fn leads(&self) -> bool {
        match self {
            Self::Alone => true,
            Self::Elected(election) => election.leads(),
        }
    }

    /// Whether replicas share the store, so that what one of them receives reaches the
    /// leader through it.
    pub fn is_elected(&self) -> bool {
        matches!(self, Self::Elected(_))
    }

    /// Whether this process is a standby: replicas share the store and another leads.
    pub fn is_standby(&self) -> bool {
        self.is_elected() && !self.leads()
    }
}

/// The election among replicas that share a PostgreSQL store.
#[derive(Clone)]
pub struct Election {
    postgres: PostgresBackend,
}

impl Election {
    /// Takes or renews the leader's lease for the replica `holder`, for `lease`: its epoch when
    /// it leads, `None` while another replica's lease runs.
    pub async fn acquire(&self, holder: &str, lease: Duration) -> Result<Option<u64>, StoreError> {
        self.postgres.acquire(holder, lease).await
    }

    /// Ends `holder`'s lease now (at shutdown), so that a standby takes over at once.
    pub async fn release(&self, holder: &str) -> Result<(), StoreError> {
        self.postgres.release(holder).await
    }

    /// Who leads, as the store says; `None` before any lease.
    pub async fn leader(&self) -> Result<Option<Leader>, StoreError> {
        self.postgres.leader().await
    }

    /// Notes that the replica `id` is alive.
    pub async fn heartbeat(&self, id: &str) -> Result<(), StoreError> {
        self.postgres.heartbeat(id).await
    }

    /// The replicas alive in the last hour, the most recent heartbeat first.
    pub async fn replicas(&self) -> Result<Vec<Replica>, StoreError> {
        self.postgres.replicas().await
    }

    /// Whether this replica's lease is current by its own clock.
    pub fn leads(&self) -> bool {
        self.postgres.leads()
    }

    /// Sets whose writes of the leader's kind (a poll's commit, a delivery's outcome, what a
    /// channel remembers) the store lets through.
    pub fn set_fence(&self, fence: Fence) {
        self.postgres.set_fence(fence);
    }
}

impl Store {
    /// Who does the leader's work on this store.
    pub fn leadership(&self) -> Leadership {
        match &self.backend {
            Backend::Sled(_) => Leadership::Alone,
            Backend::Postgres(postgres) => Leadership::Elected(Election {
                postgres: postgres.clone(),
            }),
        }
    }

    /// Whether the store is sled's, embedded in this process: a write that failed leaves it
    /// broken until the process starts again (sled keeps the error).
    pub fn is_embedded(&self) -> bool {
        matches!(self.backend, Backend::Sled(_))
    }

    /// Asks the leader to poll `target` now (PlanetScale pushed a change of it): whichever
    /// replica received the push writes this, the leader takes it with [`Store::take_pokes`].
    pub async fn poke(&self, target: &diff_engine::Target) -> Result<(), StoreError> {
        let mut batch = Batch::default();
        batch.put(
            poke_key(target),
            format!("{{\"v\":{FORMAT_VERSION},\"record\":{{}}}}").into_bytes(),
        );
        self.backend.apply(batch).await
    }

    /// Asks the leader to wake the worker of `channel` (`*`: every channel): another replica
    /// added to its outbox (a received event, a dead letter put back).
    pub async fn wake(&self, channel: &str) -> Result<(), StoreError> {
        let mut batch = Batch::default();
        batch.put(
            wake_key(channel),
            format!("{{\"v\":{FORMAT_VERSION},\"record\":{{}}}}").into_bytes(),
        );
        self.backend.apply(batch).await
    }

    /// The databases poked and the channels woken since the last call, each once; they are
    /// forgotten as they are given.
    pub async fn take_pokes(&self) -> Result<Pokes, StoreError> {
        let pokes = self.backend.keys(POKE_PREFIX).await?;
        let wakes = self.backend.keys(WAKE_PREFIX).await?;
        let mut taken = Pokes::default();
        if pokes.is_empty() && wakes.is_empty() {
            return Ok(taken);
        }
        let mut batch = Batch::default();
        for key in pokes {
            taken.targets.extend(split_poke_key(&key));
            batch.remove(key);
        }
        for key in wakes {
            if let Ok(channel) = std::str::from_utf8(&key[WAKE_PREFIX.len()..]) {
                taken.channels.push(channel.to_owned());
            }
            batch.remove(key);
        }
        self.backend.apply(batch).await?;
        Ok(taken)
    }
}
