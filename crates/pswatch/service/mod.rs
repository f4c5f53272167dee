//! The service: started once, it owns the [`Shared`] parts, the admin server, the scheduler
//! and a delivery worker per channel, and runs until shutdown. A reload swaps the pipeline (the
//! router, the notifier, the watches), reconciles the scheduler's targets (those kept keep their
//! schedule and backoff, and no poll is repeated) and changes the budget's limit in place;
//! nothing stops for it.

pub(crate) mod delivery;
mod main_loop;
pub(crate) mod metrics;
pub(crate) mod pipeline;
pub(crate) mod push;
pub(crate) mod receiver;
pub(crate) mod scheduler;
pub(crate) mod serve;
pub(crate) mod shared;
pub(crate) mod status;
mod upkeep;
mod workers;

use std::sync::Arc;

use anyhow::Context as _;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Config;
use crate::service::pipeline::Pipeline;
use crate::service::receiver::Inbound;
use crate::service::shared::Shared;
use main_loop::{receiver_secrets, Listens, Loop};

/// Runs the service with `config` until `shutdown` is cancelled, applying each configuration
/// that arrives on `reloads` (already validated).
///
/// Targets that move on their own are polled every `active_interval`, those waiting for a person
/// every `waiting_interval`, idle ones every `interval`, the first polls spread over one interval.
/// Every request passes the shared budget, active targets first; when the budget cannot serve
/// every interval, idle targets wait their turn oldest-first and so are polled less often, and
/// the service says so once in its log and in `/api/status`. Organizations watched with `["*"]`
/// are listed again every ten minutes.
pub(crate) async fn run(
    shared: Arc<Shared>,
    config: Config,
    shutdown: CancellationToken,
    reloads: mpsc::Receiver<Config>,
) -> anyhow::Result<()> {
    // The servers and the webhook checks; the delivery workers are the loop's.
    let tracker = TaskTracker::new();
    if let Some(address) = config.admin_listen {
        let listener = bind(
            address,
            "admin.listen",
            "; set another address, or admin.enabled = false",
        )
        .await?;
        tracing::info!(address = %listener.local_addr()?, "admin server listening: /healthz /readyz /metrics /api/status");
        tracker.spawn(crate::admin::serve(
            Arc::clone(&shared),
            listener,
            shutdown.child_token(),
        ));
    }
    // PlanetScale's webhook deliveries: started once, on their own address; the secrets follow
    // reloads.
    let (secrets, secrets_receiver) = watch::channel(receiver_secrets(&config));
    let (push_sender, pushes) = mpsc::channel::<Inbound>(1024);
    let receiver_listen = config.receiver.as_ref().map(|receiver| receiver.listen);
    let public_url = config.public_url();
    let admin_listen = config.admin_listen;
    let pipeline = Arc::new(Pipeline::new(config, Arc::clone(&shared))?);
    let (current, current_receiver) = watch::channel(Arc::clone(&pipeline));
    if let Some(address) = receiver_listen {
        let listener = bind(address, "receiver.listen", "; set another address").await?;
        tracing::info!(address = %listener.local_addr()?, public_url = public_url.as_deref().unwrap_or("-"),
            "webhook receiver listening: POST /planetscale");
        tracker.spawn(crate::service::receiver::serve(
            listener,
            secrets_receiver,
            Arc::clone(&shared),
            current_receiver,
            push_sender,
            shutdown.child_token(),
        ));
    }
    pipeline.delivery.bury_unconfigured().await?;
    let mut service = Loop::new(
        shared,
        pipeline,
        current,
        secrets,
        Listens {
            admin: admin_listen,
            receiver: receiver_listen,
        },
        tracker,
        shutdown,
    );
    service.run(pushes, reloads).await?;
    service.stop().await
}

async fn bind(
    address: std::net::SocketAddr,
    key: &str,
    hint: &str,
) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {key} {address}{hint}"))
}
