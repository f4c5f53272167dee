//! What the loop starts beside its polls: the store's write probe while its writes fail, and
//! the reading of the watched databases' webhooks.

use std::sync::Arc;
use std::time::Duration;

use diff_engine::Target;
use poller::Priority;
use tokio_util::sync::CancellationToken;

use super::pipeline::Pipeline;
use super::shared::Shared;

/// How long the store may fail every write before pswatch stops, so that its supervisor starts
/// it again on a store read back from disk (sled keeps an I/O error once it had one).
const STORE_GIVE_UP_AFTER: Duration = Duration::from_secs(30);

/// Tries a write of the store while its writes fail: marks it writable again when the write
/// succeeds, and gives up (an error, which stops the service) when writes have failed for
/// [`STORE_GIVE_UP_AFTER`].
pub(super) async fn probe_store(
    shared: &Shared,
    config: &crate::config::Config,
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
            // sled keeps an I/O error once it had one: only a new process reads the store
            // again. A database that went away is waited for, however long.
            let embedded = config.state_database.is_none();
            if embedded && failing >= STORE_GIVE_UP_AFTER {
                anyhow::bail!(
                    "{} has failed every write for {}s ({error}; first: {first}); pswatch stops so that its supervisor starts it again on the store as written on disk",
                    config.state_description(),
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
