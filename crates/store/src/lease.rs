//! Leading among replicas that share a PostgreSQL store: one lease row, taken and renewed by
//! the database's clock, its epoch one more at every takeover; the leader's writes check in
//! their own transaction that its epoch is still the current one. A store of one process (sled)
//! has no replicas: it always leads, and its writes are not fenced.

use std::time::Duration;

use crate::backend::{Backend, Batch, Fence, Leader, Replica};
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

impl Store {
    /// Whether several replicas may share this store (PostgreSQL), so that they elect a leader.
    pub fn is_shared(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }

    /// Takes or renews the leader's lease for the replica `holder`, for `lease`: its epoch when
    /// it leads, `None` while another replica's lease runs. A store of one process always leads.
    pub async fn acquire_lease(
        &self,
        holder: &str,
        lease: Duration,
    ) -> Result<Option<u64>, StoreError> {
        match &self.backend {
            Backend::Sled(_) => Ok(Some(0)),
            Backend::Postgres(postgres) => postgres.acquire(holder, lease).await,
        }
    }

    /// Ends `holder`'s lease now (at shutdown), so that a standby takes over at once.
    pub async fn release_lease(&self, holder: &str) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sled(_) => Ok(()),
            Backend::Postgres(postgres) => postgres.release(holder).await,
        }
    }

    /// Who leads, as the store says; `None` on a store of one process or before any lease.
    pub async fn leader(&self) -> Result<Option<Leader>, StoreError> {
        match &self.backend {
            Backend::Sled(_) => Ok(None),
            Backend::Postgres(postgres) => postgres.leader().await,
        }
    }

    /// Notes that the replica `id` is alive.
    pub async fn heartbeat(&self, id: &str) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sled(_) => Ok(()),
            Backend::Postgres(postgres) => postgres.heartbeat(id).await,
        }
    }

    /// The replicas alive in the last hour, the most recent heartbeat first.
    pub async fn replicas(&self) -> Result<Vec<Replica>, StoreError> {
        match &self.backend {
            Backend::Sled(_) => Ok(Vec::new()),
            Backend::Postgres(postgres) => postgres.replicas().await,
        }
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

    /// Whether this replica may do the leader's work now: always with a store of one process;
    /// with a shared one, while its lease is current by its own clock. Asked before a delivery
    /// is sent, so a leader paused past its lease sends nothing once it continues.
    pub fn leads(&self) -> bool {
        match &self.backend {
            Backend::Sled(_) => true,
            Backend::Postgres(postgres) => postgres.leads(),
        }
    }

    /// Sets whose writes of the leader's kind (a poll's commit, a delivery's outcome, what a
    /// channel remembers) this store lets through. No effect on a store of one process.
    pub fn set_fence(&self, fence: Fence) {
        if let Backend::Postgres(postgres) = &self.backend {
            postgres.set_fence(fence);
        }
    }
}
