//! Which replica leads, when several share a PostgreSQL store: each tries to take or renew the
//! leader's lease every third of its length. The one that holds it polls and delivers; the
//! others are standbys that receive PlanetScale's webhooks and serve the admin server. The
//! store fences the leader's writes with its lease's epoch, and a leader trusts its lease by
//! its own clock only until a tenth short of its end, so a leader paused past its lease writes
//! and sends nothing once it continues. A store of one process always leads.

use std::time::Duration;

use store::{Election, Fence, Leadership, Store};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::board::{Board, ReplicaHeartbeat, ReplicaView};
use super::metrics::Metrics;

/// What this replica is now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// It polls and delivers, with this lease epoch.
    Leader { epoch: u64 },
    /// Another replica leads (or none can be reached): this one waits to take over.
    Standby,
}

impl Role {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Leader { .. } => "leader",
            Self::Standby => "standby",
        }
    }
}

/// This replica's id: `PSWATCH_REPLICA`, or the host's name (a pod's name) with a random
/// suffix, so two processes on one host are two replicas.
pub(crate) fn replica_id() -> String {
    if let Some(id) = std::env::var("PSWATCH_REPLICA")
        .ok()
        .filter(|id| !id.trim().is_empty())
    {
        return id.trim().to_owned();
    }
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|name| name.trim().to_owned())
        })
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "pswatch".into());
    format!("{host}-{:04x}", fastrand::u16(..))
}

/// How long after another replica's lease lapses a standby tries to take it: the database's
/// answer of how long the lease has left is rounded, and its clock is the one that counts.
const LAPSE_MARGIN: Duration = Duration::from_millis(50);

/// Takes or renews the leader's lease for `id` and, when it holds it, fences the store's writes
/// with its epoch: the epoch, and until when this process trusts the lease by its own clock.
/// `None` (the fence untouched) while another holds it.
async fn hold_lease(
    election: &Election,
    id: &str,
    lease: Duration,
) -> Result<Option<(u64, Instant)>, store::StoreError> {
    let asked = Instant::now();
    let Some(epoch) = election.acquire(id, lease).await? else {
        return Ok(None);
    };
    // The database's lease ends `lease` after it answered, so after `asked`: trusted until a
    // tenth short of that, for clocks that drift.
    let until = asked + lease - lease / 10;
    election.set_fence(Fence::Leader {
        holder: id.to_owned(),
        epoch,
        until,
    });
    Ok(Some((epoch, until)))
}

/// Runs the election until `shutdown`: the role follows the lease, the store's fence follows the
/// role, and at shutdown a leader gives its lease up so a standby takes over at once.
pub(crate) async fn elect(
    election: Election,
    id: String,
    lease: Duration,
    metrics: std::sync::Arc<Metrics>,
    board: std::sync::Arc<Board>,
    roles: watch::Sender<Role>,
    shutdown: CancellationToken,
) {
    let renew_every = lease / 3;
    let mut trusted_until: Option<Instant> = None;
    // What this replica was: none before the first answer, so that it says what it is.
    let mut was: Option<Role> = None;
    loop {
        let asked = Instant::now();
        let acquired = hold_lease(&election, &id, lease).await;
        let answered = acquired.is_ok();
        let role = match acquired {
            Ok(Some((epoch, until))) => {
                trusted_until = Some(until);
                Role::Leader { epoch }
            }
            Ok(None) => {
                trusted_until = None;
                election.set_fence(Fence::Standby);
                Role::Standby
            }
            Err(error) => {
                tracing::warn!(%error, "cannot take or renew the leader's lease");
                // Without an answer, a leader leads until its lease may have lapsed.
                match (*roles.borrow(), trusted_until) {
                    (Role::Leader { epoch }, Some(until)) if Instant::now() < until => {
                        Role::Leader { epoch }
                    }
                    _ => {
                        trusted_until = None;
                        election.set_fence(Fence::Standby);
                        Role::Standby
                    }
                }
            }
        };
        metrics
            .leader
            .set(i64::from(matches!(role, Role::Leader { .. })));
        let read = election.leader().await;
        // When another's lease ends, by the database's clock, counted from now.
        let lapses_at = match (&read, role) {
            (Ok(Some(other)), Role::Standby) if other.holder != id => {
                Some(Instant::now() + other.expires_in)
            }
            _ => None,
        };
        let leader = match read {
            Ok(leader) => leader.map(|leader| leader.holder),
            Err(_) => matches!(role, Role::Leader { .. }).then(|| id.clone()),
        };
        if was != Some(role) {
            was = Some(role);
            match (role, &leader) {
                (Role::Leader { epoch }, _) => {
                    metrics.leader_changes.inc();
                    tracing::info!(replica = %id, epoch, "this replica leads: it polls and delivers");
                }
                // A standby is how every replica but one runs: worth a line, not a warning.
                (Role::Standby, Some(leader)) if answered => tracing::info!(
                    replica = %id,
                    %leader,
                    "this replica is a standby: it receives and serves the admin server while another leads"
                ),
                (Role::Standby, _) if answered => tracing::info!(
                    replica = %id,
                    "this replica is a standby: another replica's lease has not lapsed yet"
                ),
                // Why the database did not answer is the warning above.
                (Role::Standby, _) => tracing::warn!(
                    replica = %id,
                    "this replica is a standby until the database answers"
                ),
            }
        }
        if let Err(error) = election.heartbeat(&id).await {
            tracing::debug!(%error, "the replica's heartbeat was not written");
        }
        let replicas = election
            .replicas()
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|replica| ReplicaHeartbeat {
                id: replica.id,
                heartbeat_age_seconds: replica.heartbeat_age.as_secs(),
            })
            .collect();
        board.replicas.set(ReplicaView {
            id: id.clone(),
            role: role.as_str().into(),
            leader,
            replicas,
        });
        roles.send_replace(role);
        // A leader renews before its trusted end, whatever the schedule. A standby tries again
        // as soon as the leader's lease lapses (a leader that died is replaced within its
        // lease, not a third more), and every third of a lease anyway.
        let next = match (trusted_until, lapses_at) {
            (Some(until), _) => (asked + renew_every).min(until),
            (None, Some(lapses)) => (asked + renew_every).min(lapses + LAPSE_MARGIN),
            (None, None) => asked + renew_every,
        };
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep_until(next) => {}
        }
    }
    election.set_fence(Fence::Standby);
    roles.send_replace(Role::Standby);
    metrics.leader.set(0);
    if trusted_until.is_some() {
        match election.release(&id).await {
            Ok(()) => tracing::info!(replica = %id, "gave the leader's lease up"),
            Err(error) => {
                tracing::warn!(%error, "cannot give the leader's lease up; a standby takes over when it lapses")
            }
        }
    }
}

/// The leader's lease held by a command that polls and delivers once (`pswatch once`) on a
/// store replicas share, so that it never works beside a running leader: taken before,
/// renewed while the command runs, given up after.
pub(crate) struct OnceLease {
    election: Election,
    id: String,
    stop: CancellationToken,
    renewing: tokio::task::JoinHandle<()>,
}

impl OnceLease {
    /// Takes the lease for this process; `None` with a store of one process. Refused, naming
    /// the leader, while a replica holds it.
    pub(crate) async fn take(store: &Store, lease: Duration) -> anyhow::Result<Option<Self>> {
        let Leadership::Elected(election) = store.leadership() else {
            return Ok(None);
        };
        let id = format!("once-{}", replica_id());
        if hold_lease(&election, &id, lease).await?.is_none() {
            let leader = election
                .leader()
                .await
                .ok()
                .flatten()
                .map_or_else(|| "another replica".to_owned(), |leader| leader.holder);
            anyhow::bail!(
                "replica {leader} leads on this database: pswatch once would poll and deliver beside it; \
                 the running replicas do this work (stop them first to run once)"
            );
        }
        let stop = CancellationToken::new();
        let renewing = tokio::spawn({
            let (election, id, stop) = (election.clone(), id.clone(), stop.clone());
            async move {
                loop {
                    tokio::select! {
                        () = stop.cancelled() => return,
                        () = tokio::time::sleep(lease / 3) => {}
                    }
                    if !matches!(hold_lease(&election, &id, lease).await, Ok(Some(_))) {
                        // Another took over: the fence refuses this process's writes now.
                        election.set_fence(Fence::Standby);
                        tracing::warn!(
                            "pswatch once lost the leader's lease; it writes nothing more"
                        );
                        return;
                    }
                }
            }
        });
        Ok(Some(Self {
            election,
            id,
            stop,
            renewing,
        }))
    }

    /// Gives the lease up, so that a replica started next leads at once.
    pub(crate) async fn release(self) {
        self.stop.cancel();
        let _ = self.renewing.await;
        self.election.set_fence(Fence::Standby);
        if let Err(error) = self.election.release(&self.id).await {
            tracing::warn!(%error, "cannot give the leader's lease up; a replica takes over when it lapses");
        }
    }
}
