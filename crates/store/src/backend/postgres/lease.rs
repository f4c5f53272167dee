//! The leader's lease on PostgreSQL: taken and renewed by the database's clock, the fence the
//! leader's writes check inside their own transaction, and the replicas' heartbeats.

use std::sync::Arc;
use std::time::Duration;

use tokio_postgres::types::Type;

use super::{query, Fence, Leader, PostgresBackend, Replica};
use crate::StoreError;

impl PostgresBackend {
    /// Sets whose writes the fenced batches may be.
    pub(crate) fn set_fence(&self, fence: Fence) {
        *self
            .fence
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = fence;
    }

    /// Whether this replica may do the leader's work now, by its own clock.
    pub(crate) fn leads(&self) -> bool {
        self.lease_for_write().is_ok()
    }

    /// The lease a fenced batch is checked against: `Err` when this replica does not lead, or
    /// its lease lapsed by its own clock.
    pub(super) fn lease_for_write(&self) -> Result<Option<(String, i64)>, StoreError> {
        let fence = self
            .fence
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        match fence {
            Fence::Open => Ok(None),
            Fence::Standby => Err(StoreError::NotLeader(
                "this replica is a standby; the leader writes this".into(),
            )),
            Fence::Leader { until, .. } if tokio::time::Instant::now() >= until => {
                Err(StoreError::NotLeader(
                    "this replica's lease lapsed before it could renew it".into(),
                ))
            }
            Fence::Leader { holder, epoch, .. } => {
                Ok(Some((holder, i64::try_from(epoch).unwrap_or(i64::MAX))))
            }
        }
    }

    /// Takes the leader's lease for `holder`, or renews it, for `lease`: its epoch when it
    /// holds it, `None` when another replica's lease still runs. The database's clock decides.
    pub(crate) async fn acquire(
        &self,
        holder: &str,
        lease: Duration,
    ) -> Result<Option<u64>, StoreError> {
        let schema = Arc::clone(&self.schema);
        let holder = holder.to_owned();
        let seconds = lease.as_secs_f64();
        self.transaction(move |transaction| {
            Box::pin(async move {
                let row = transaction
                    .query_typed_opt(
                        &format!(
                            "INSERT INTO {schema}.lease AS current (name, holder, epoch, expires_at, renewed_at)
                             VALUES ('leader', $1, 1, now() + make_interval(secs => $2), now())
                             ON CONFLICT (name) DO UPDATE SET
                                 holder = EXCLUDED.holder,
                                 epoch = CASE WHEN current.holder = EXCLUDED.holder
                                              THEN current.epoch ELSE current.epoch + 1 END,
                                 expires_at = EXCLUDED.expires_at,
                                 renewed_at = now()
                             WHERE current.holder = EXCLUDED.holder OR current.expires_at <= now()
                             RETURNING epoch"
                        ),
                        &[(&holder, Type::TEXT), (&seconds, Type::FLOAT8)],
                    )
                    .await
                    .map_err(query)?;
                Ok(row.map(|row| u64::try_from(row.get::<_, i64>(0)).unwrap_or(0)))
            })
        })
        .await
    }

    /// Ends `holder`'s lease now, so that a standby takes over without waiting for it to lapse.
    pub(crate) async fn release(&self, holder: &str) -> Result<(), StoreError> {
        let schema = Arc::clone(&self.schema);
        let holder = holder.to_owned();
        self.transaction(move |transaction| {
            Box::pin(async move {
                transaction
                    .query_typed(
                        &format!(
                            "UPDATE {schema}.lease SET expires_at = now()
                             WHERE name = 'leader' AND holder = $1"
                        ),
                        &[(&holder, Type::TEXT)],
                    )
                    .await
                    .map_err(query)?;
                Ok(())
            })
        })
        .await
    }

    /// Who leads now, if any lease was ever taken.
    pub(crate) async fn leader(&self) -> Result<Option<Leader>, StoreError> {
        let schema = Arc::clone(&self.schema);
        self.transaction(move |transaction| {
            Box::pin(async move {
                let row = transaction
                    .query_typed_opt(
                        &format!(
                            "SELECT holder, epoch,
                                    greatest(extract(epoch FROM expires_at - now()), 0)::float8
                             FROM {schema}.lease WHERE name = 'leader'"
                        ),
                        &[],
                    )
                    .await
                    .map_err(query)?;
                Ok(row.map(|row| Leader {
                    holder: row.get(0),
                    epoch: u64::try_from(row.get::<_, i64>(1)).unwrap_or(0),
                    expires_in: Duration::from_secs_f64(row.get::<_, f64>(2).max(0.0)),
                }))
            })
        })
        .await
    }

    /// Notes that `replica` is alive, and forgets replicas silent for an hour.
    pub(crate) async fn heartbeat(&self, replica: &str) -> Result<(), StoreError> {
        let schema = Arc::clone(&self.schema);
        let replica = replica.to_owned();
        self.transaction(move |transaction| {
            Box::pin(async move {
                transaction
                    .query_typed(
                        &format!(
                            "INSERT INTO {schema}.replicas (id, started_at, heartbeat_at)
                             VALUES ($1, now(), now())
                             ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()"
                        ),
                        &[(&replica, Type::TEXT)],
                    )
                    .await
                    .map_err(query)?;
                transaction
                    .query_typed(
                        &format!(
                            "DELETE FROM {schema}.replicas
                             WHERE heartbeat_at < now() - interval '1 hour'"
                        ),
                        &[],
                    )
                    .await
                    .map_err(query)?;
                Ok(())
            })
        })
        .await
    }

    /// The replicas that sent a heartbeat in the last hour, the most recent first.
    pub(crate) async fn replicas(&self) -> Result<Vec<Replica>, StoreError> {
        let schema = Arc::clone(&self.schema);
        self.transaction(move |transaction| {
            Box::pin(async move {
                let rows = transaction
                    .query_typed(
                        &format!(
                            "SELECT id, greatest(extract(epoch FROM now() - heartbeat_at), 0)::float8
                             FROM {schema}.replicas ORDER BY heartbeat_at DESC"
                        ),
                        &[],
                    )
                    .await
                    .map_err(query)?;
                Ok(rows
                    .into_iter()
                    .map(|row| Replica {
                        id: row.get(0),
                        heartbeat_age: Duration::from_secs_f64(row.get::<_, f64>(1).max(0.0)),
                    })
                    .collect())
            })
        })
        .await
    }
}
