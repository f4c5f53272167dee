//! Leading among replicas that share a PostgreSQL store: one lease row, taken and renewed by
//! the database's clock, its epoch one more at every takeover; the leader's writes check in
//! their own transaction that its epoch is still the current one. A store of one process (sled)
//! has no replicas: it always leads, and its writes are not fenced.

use std::time::Duration;

use crate::backend::{Backend, Fence, Leader, Replica};
use crate::{Store, StoreError};

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

    /// Sets whose writes of the leader's kind (a poll's commit, a delivery's outcome, what a
    /// channel remembers) this store lets through. No effect on a store of one process.
    pub fn set_fence(&self, fence: Fence) {
        if let Backend::Postgres(postgres) = &self.backend {
            postgres.set_fence(fence);
        }
    }
}
