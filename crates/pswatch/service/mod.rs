//! The service: started once, it owns the long-lived [`Handles`](handles::Handles), the webhook receiver, the scheduler
//! and a delivery worker per channel, and runs until shutdown (beside the admin server the
//! command line starts, among its `servers`). A reload swaps the pipeline (the
//! router, the notifier, the watches), reconciles the scheduler's targets (those kept keep their
//! schedule and backoff, and no poll is repeated) and changes the budget's limit in place;
//! nothing stops for it.

pub(crate) mod board;
mod chores;
pub(crate) mod clients;
pub(crate) mod delivery;
pub(crate) mod digests;
pub(crate) mod election;
pub(crate) mod fleet;
pub(crate) mod handles;
pub(crate) mod health;
mod main_loop;
pub(crate) mod metrics;
pub(crate) mod outbox;
pub(crate) mod pipeline;
pub(crate) mod push;
pub(crate) mod receiver;
pub(crate) mod scheduler;
pub(crate) mod serve;
pub(crate) mod slack_actions;
pub(crate) mod status;
mod upkeep;
mod views;
pub(crate) mod watched;
mod workers;

use std::sync::Arc;

use anyhow::Context as _;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use main_loop::SHUTDOWN_GRACE;

use crate::config::Config;
use crate::service::handles::Handles;
use crate::service::pipeline::Pipeline;
use crate::service::receiver::Inbound;
use election::Role;
use main_loop::{receiver_secrets, Listens, Loop};

/// Runs the service with `config` until `shutdown` is cancelled, applying each configuration
/// that arrives on `reloads` (already validated). `servers` holds the servers already started
/// (the admin server); the receiver joins them, and all are given a grace period at the end.
///
/// Targets that move on their own are polled every `active_interval`, those waiting for a person
/// every `waiting_interval`, idle ones every `interval`, the first polls spread over one interval.
/// Every request passes the shared budget, active targets first; when the budget cannot serve
/// every interval, idle targets wait their turn oldest-first and so are polled less often, and
/// the service says so once in its log and in `/api/status`. Organizations watched with `["*"]`
/// are listed again every ten minutes.
pub(crate) async fn run(
    handles: Handles,
    config: Config,
    shutdown: CancellationToken,
    mut reloads: mpsc::Receiver<Config>,
    servers: TaskTracker,
) -> anyhow::Result<()> {
    // The servers run for the whole run, whichever replica leads.
    // PlanetScale's webhook deliveries: started once, on their own address; the secrets follow
    // reloads.
    let (secrets, secrets_receiver) = watch::channel(receiver_secrets(&config));
    let (push_sender, mut pushes) = mpsc::channel::<Inbound>(1024);
    let listens = Listens {
        admin: config.admin_listen,
        receiver: config.receiver.as_ref().map(|receiver| receiver.listen),
    };
    let public_url = config.public_url();
    let lease = config
        .state_database
        .as_ref()
        .map(|database| database.lease);
    let pipeline = Arc::new(Pipeline::new(config, &handles)?);
    let (current, current_receiver) = main_loop::Current::new(&pipeline);
    if let Some(address) = listens.receiver {
        let listener = bind(address, "receiver.listen", "; set another address").await?;
        tracing::info!(address = %listener.local_addr()?, public_url = public_url.as_deref().unwrap_or("-"),
            "webhook receiver listening: POST /planetscale");
        servers.spawn(crate::service::receiver::serve(
            listener,
            secrets_receiver,
            handles.clone(),
            current_receiver,
            push_sender,
            shutdown.child_token(),
        ));
    }
    let outlives = Outlives {
        handles: &handles,
        current: &current,
        secrets: &secrets,
        listens,
    };
    let result = match (lease, handles.leadership.clone()) {
        (Some(lease), store::Leadership::Elected(election)) => {
            replicated(
                outlives,
                pipeline,
                election,
                lease,
                &mut pushes,
                &mut reloads,
                &shutdown,
            )
            .await
        }
        _ => {
            // One process: it always leads.
            handles.metrics.leader.set(1);
            pipeline.delivery.bury_unconfigured().await?;
            let mut service = Loop::new(
                handles.clone(),
                pipeline,
                current.clone(),
                secrets.clone(),
                listens,
                shutdown.clone(),
            );
            let ran = service.run(&mut pushes, &mut reloads).await;
            ran.and(service.stop().await)
        }
    };
    servers.close();
    // A broken store acknowledges nothing more: a moment for the answers under way (503s),
    // no more.
    let grace = if handles.health.broken().is_some() {
        BROKEN_STORE_GRACE
    } else {
        SHUTDOWN_GRACE
    };
    if tokio::time::timeout(grace, servers.wait()).await.is_err() {
        tracing::warn!(
            ?grace,
            "the servers were still answering at the end of the grace period"
        );
    }
    result
}

/// How long the servers have to finish the answers under way when pswatch stops because its
/// store is broken.
const BROKEN_STORE_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

/// What lives for the whole run and every loop uses.
#[derive(Clone, Copy)]
struct Outlives<'a> {
    handles: &'a Handles,
    current: &'a main_loop::Current,
    secrets: &'a watch::Sender<Vec<notifier::Secret>>,
    listens: Listens,
}

/// Several replicas share the store: this one polls and delivers while it holds the leader's
/// lease, and waits as a standby otherwise, applying reloads meanwhile; it stops polling and
/// delivering the moment it loses the lease. At shutdown, the loop stops first and the lease is
/// given up after, so a standby takes over at once.
async fn replicated(
    outlives: Outlives<'_>,
    mut pipeline: Arc<Pipeline>,
    election: store::Election,
    lease: std::time::Duration,
    pushes: &mut mpsc::Receiver<Inbound>,
    reloads: &mut mpsc::Receiver<Config>,
    shutdown: &CancellationToken,
) -> anyhow::Result<()> {
    let handles = outlives.handles;
    let (roles_sender, mut roles) = watch::channel(Role::Standby);
    let election_stop = CancellationToken::new();
    let id = election::replica_id();
    tracing::info!(replica = %id, lease = ?lease, "sharing the PostgreSQL store with other replicas: the one holding the lease polls and delivers");
    let election = tokio::spawn(election::elect(
        election,
        id,
        lease,
        Arc::clone(&handles.metrics),
        Arc::clone(&handles.board),
        roles_sender,
        election_stop.clone(),
    ));
    let result = 'run: loop {
        // A standby: wait to lead.
        loop {
            if matches!(*roles.borrow_and_update(), Role::Leader { .. }) {
                break;
            }
            tokio::select! {
                () = shutdown.cancelled() => break 'run Ok(()),
                changed = roles.changed() => if changed.is_err() { break 'run Ok(()) },
                Some(next) = reloads.recv() => {
                    let Outlives { handles, current, secrets, listens } = outlives;
                    if let Some(next) = main_loop::apply_config(handles, current, secrets, listens, next) {
                        pipeline = next;
                        tracing::info!("configuration reloaded");
                    }
                }
                // The leader polls every database on its own schedule.
                Some(_) = pushes.recv() => {}
            }
        }
        // The leader.
        let leading = shutdown.child_token();
        if let Err(error) = pipeline.delivery.bury_unconfigured().await {
            tracing::error!(%error, "cannot move the deliveries of removed channels to the dead letters");
        }
        let mut service = Loop::new(
            handles.clone(),
            Arc::clone(&pipeline),
            outlives.current.clone(),
            outlives.secrets.clone(),
            outlives.listens,
            leading.clone(),
        );
        let ran = tokio::select! {
            ran = service.run(pushes, reloads) => ran,
            () = lost(&mut roles) => {
                leading.cancel();
                Ok(())
            }
        };
        pipeline = service.pipeline();
        let stopped = service.stop().await;
        if let Err(error) = ran.and(stopped) {
            break Err(error);
        }
        if shutdown.is_cancelled() {
            break Ok(());
        }
        tracing::warn!("this replica no longer leads: its polls and deliveries stopped");
    };
    election_stop.cancel();
    let _ = election.await;
    result
}

/// Until this replica is no longer the leader.
async fn lost(roles: &mut watch::Receiver<Role>) {
    loop {
        if *roles.borrow_and_update() == Role::Standby {
            return;
        }
        if roles.changed().await.is_err() {
            return std::future::pending().await;
        }
    }
}

pub(crate) async fn bind(
    address: std::net::SocketAddr,
    key: &str,
    hint: &str,
) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {key} {address}{hint}"))
}
