//! What the loop starts beside its polls: the store's write probe while its writes fail, and
//! the reading of the watched databases' webhooks.

use std::sync::Arc;

use diff_engine::Target;
use poller::Priority;
use tokio_util::sync::CancellationToken;

use super::health::StoreHealth;
use super::pipeline::Pipeline;

/// Gives up when sled's store failed a write: it keeps the error, and what it reports written
/// after may never reach the disk, so nothing more may be acknowledged. The error stops the
/// service at once (no work in flight can be written) for its supervisor to start it again on
/// the store as written on disk.
pub(super) fn give_up_if_broken(
    health: &StoreHealth,
    config: &crate::config::Config,
) -> anyhow::Result<()> {
    match health.broken() {
        Some(first) => anyhow::bail!(
            "{} failed a write ({first}); sled keeps such an error and may lose what it writes after it, so nothing more is acknowledged: pswatch stops so that its supervisor starts it again on the store as written on disk",
            config.state_description(),
        ),
        None => Ok(()),
    }
}

/// Tries a write of the store while its writes fail (a database that went away is waited for,
/// however long): marks it writable again when the write succeeds.
pub(super) async fn probe_store(store: &store::Store, health: &StoreHealth) {
    if health.failing().is_none() {
        return;
    }
    match store.probe().await {
        Ok(()) => {
            health.recovered();
            tracing::info!("the state store writes again");
        }
        Err(error) => {
            tracing::error!(%error, "the state store cannot write; polls, pushed events and deliveries wait (see /readyz)");
        }
    }
}

/// Reads the webhooks of `targets`, one after the other through the budget: their secrets
/// verify deliveries, and whether one gives push decides how often idle polls list deploy
/// requests.
pub(super) async fn check_webhooks(
    pipeline: Arc<Pipeline>,
    targets: Vec<Target>,
    shutdown: CancellationToken,
) {
    let public_url = pipeline.config.public_url();
    for target in targets {
        let client = pipeline
            .clients
            .of(&target.organization)
            .for_poll(Priority::Low);
        let listed = tokio::select! {
            () = shutdown.cancelled() => return,
            listed = client.list_webhooks(&target) => listed,
        };
        let now = tokio::time::Instant::now();
        match listed {
            Ok(webhooks) => {
                pipeline
                    .board
                    .push
                    .note_webhooks(&target, &webhooks, public_url.as_deref());
            }
            Err(error) => {
                tracing::warn!(target_db = %target, %error,
                    "cannot read the database's webhooks (service token access read_database); push is judged by deliveries alone");
            }
        }
        let healthy = pipeline.board.push.healthy(&target, now);
        pipeline
            .metrics
            .push_healthy
            .with_label_values(&[target.to_string().as_str()])
            .set(i64::from(healthy));
    }
}
