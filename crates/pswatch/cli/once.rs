//! `pswatch once`: poll every target once, deliver what is due, exit.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use super::common::open_pipeline;
use crate::service::election::OnceLease;
use crate::service::pipeline::Pipeline;

/// Polls every target once, delivers what is due and exits: 0, 1 when a poll failed, 2 when
/// deliveries are left for later or were given up.
pub(super) async fn once(path: &Path) -> anyhow::Result<ExitCode> {
    let engine = open_pipeline(path).await?;
    // On a store replicas share, only the lease's holder polls and delivers.
    let lease = match &engine.config.state_database {
        Some(database) => OnceLease::take(&engine.store, database.lease).await?,
        None => None,
    };
    let ran = run(&engine).await;
    if let Some(lease) = lease {
        lease.release().await;
    }
    ran
}

async fn run(engine: &Arc<Pipeline>) -> anyhow::Result<ExitCode> {
    let mut poll_failed = false;
    let (targets, failures) = engine.targets().await;
    for (organization, error) in failures {
        tracing::error!(organization, %error, "cannot list the organization's databases");
        poll_failed = true;
    }
    let mut events = 0;
    for target in &targets {
        // Each poll is a task of its own: one that panics (a bug in pswatch) costs its own
        // database's poll, not the others'.
        let poll = tokio::spawn({
            let engine = Arc::clone(engine);
            let target = target.clone();
            async move { engine.poll(&target, poller::Priority::Low).await }
        });
        match poll.await {
            Ok(Ok(report)) => events += report.events,
            Ok(Err(error)) => {
                tracing::error!(target_db = %target, %error, "poll failed; the state is unchanged");
                poll_failed = true;
            }
            Err(error) => {
                tracing::error!(target_db = %target, %error, "the poll stopped unexpectedly (a bug in pswatch); the state is unchanged, the other databases are polled");
                poll_failed = true;
            }
        }
    }
    engine.delivery.bury_unconfigured().await?;
    let report = engine.delivery.deliver_due().await?;
    engine.store.flush().await?;
    tracing::info!(
        targets = targets.len(),
        events,
        delivered = report.delivered,
        failed = report.failed,
        given_up = report.given_up,
        pending = report.pending,
        "once: done"
    );
    // Deliveries left for later, or given up in this run, are worth a non-zero exit.
    Ok(if report.pending > 0 || report.given_up > 0 {
        ExitCode::from(2)
    } else if poll_failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
