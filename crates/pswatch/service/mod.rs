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
mod workers;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use diff_engine::Target;
use poller::Priority;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Config;
use crate::service::pipeline::Pipeline;
use crate::service::receiver::Inbound;
use crate::service::shared::Shared;
use main_loop::{Listens, Loop};

/// How often organizations watched with `["*"]` are listed again for new databases.
const DISCOVERY_INTERVAL: Duration = Duration::from_secs(600);
/// How far ahead something that is not due again (a listing under way, or none to make) is
/// put: far enough to mean never, near enough not to overflow an `Instant`.
const NOT_DUE: Duration = Duration::from_secs(u32::MAX as u64);
/// How often the store is tried while its writes fail.
const STORE_PROBE_EVERY: Duration = Duration::from_secs(5);
/// How long the store may fail every write before pswatch stops, so that its supervisor starts
/// it again on a store read back from disk (sled keeps an I/O error once it had one).
const STORE_GIVE_UP_AFTER: Duration = Duration::from_secs(30);
/// How long shutdown waits for polls and deliveries in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

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

/// Tries a write of the store while its writes fail: marks it writable again when the write
/// succeeds, and gives up (an error, which stops the service) when writes have failed for
/// [`STORE_GIVE_UP_AFTER`].
async fn probe_store(
    shared: &Shared,
    path: &std::path::Path,
    now: tokio::time::Instant,
) -> anyhow::Result<()> {
    let Some((since, first)) = shared.store_health.failing() else {
        return Ok(());
    };
    match shared.store.probe().await {
        Ok(()) => {
            shared.store_health.recovered();
            tracing::info!("the state store writes again");
        }
        Err(error) => {
            let failing = now.saturating_duration_since(since);
            if failing >= STORE_GIVE_UP_AFTER {
                anyhow::bail!(
                    "the state store at {} has failed every write for {}s ({error}; first: {first}); pswatch stops so that its supervisor starts it again on the store as written on disk",
                    path.display(),
                    failing.as_secs()
                );
            }
            tracing::error!(%error, "the state store cannot write; polls, pushed events and deliveries wait (see /readyz)");
        }
    }
    Ok(())
}

/// Reads the webhooks of `targets`, one after the other through the budget: their secrets
/// verify deliveries, and whether one gives push decides how often idle polls list deploy
/// requests.
async fn check_webhooks(
    pipeline: Arc<Pipeline>,
    targets: Vec<Target>,
    shutdown: CancellationToken,
) {
    let public_url = pipeline.config.public_url();
    let client = pipeline.client.for_poll(Priority::Low);
    for target in targets {
        let listed = tokio::select! {
            () = shutdown.cancelled() => return,
            listed = client.list_webhooks(&target) => listed,
        };
        let now = tokio::time::Instant::now();
        match listed {
            Ok(webhooks) => {
                pipeline
                    .shared
                    .push
                    .note_webhooks(&target, &webhooks, public_url.as_deref());
            }
            Err(error) => {
                tracing::warn!(target_db = %target, %error,
                    "cannot read the database's webhooks (service token access read_database); push is judged by deliveries alone");
            }
        }
        let healthy = pipeline.shared.push.healthy(&target, now);
        pipeline
            .metrics
            .push_healthy
            .with_label_values(&[target.to_string().as_str()])
            .set(i64::from(healthy));
    }
}

/// The webhooks' secrets the configuration gives the receiver.
fn receiver_secrets(config: &Config) -> Vec<notifier::Secret> {
    config
        .receiver
        .as_ref()
        .map(|receiver| receiver.secrets.clone())
        .unwrap_or_default()
}
