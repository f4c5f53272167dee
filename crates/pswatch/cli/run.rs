//! `pswatch run`: the service, with SIGHUP reloading the configuration and SIGINT or SIGTERM
//! stopping it.

use std::path::Path;

use tokio_util::sync::CancellationToken;

use super::common::{load, warn_about};

/// Runs the service; on each SIGHUP reads the configuration again and, if it is valid, hands it
/// to the running service, which applies it in place (see [`crate::service::run`]). An invalid
/// configuration is logged with every problem and the running one kept.
pub(super) async fn run_service(
    path: &Path,
    shutdown: CancellationToken,
    mut signals: tokio::sync::mpsc::UnboundedReceiver<()>,
) -> anyhow::Result<()> {
    let config = load(path)?;
    let store = crate::service::handles::open_store(&config).await?;
    let handles = crate::service::handles::Handles::new(store, &config).await?;
    let (reloads, configs) = tokio::sync::mpsc::channel(1);
    let state_path = config.state_path.clone();
    let state_database = config.state_database.clone();
    let path = path.to_owned();
    tokio::spawn(async move {
        while signals.recv().await.is_some() {
            match crate::config::load(&path, &crate::config::process_environment) {
                Ok(mut next) => {
                    warn_about(&next);
                    if next.state_path != state_path || next.state_database != state_database {
                        tracing::warn!(
                            "[state] cannot change on reload; restart pswatch to move the store"
                        );
                        next.state_path = state_path.clone();
                        next.state_database = state_database.clone();
                    }
                    if reloads.send(next).await.is_err() {
                        return;
                    }
                }
                Err(error) => {
                    let problems: Vec<String> =
                        error.problems.iter().map(ToString::to_string).collect();
                    tracing::error!(
                        ?problems,
                        "configuration rejected on reload; the running one stays"
                    );
                }
            }
        }
    });
    // The admin server runs for the whole run, whichever replica leads.
    let servers = tokio_util::task::TaskTracker::new();
    if let Some(address) = config.admin_listen {
        let listener = crate::service::bind(
            address,
            "admin.listen",
            "; set another address, or admin.enabled = false",
        )
        .await?;
        tracing::info!(address = %listener.local_addr()?, "admin server listening: /healthz /readyz /metrics /api/status");
        servers.spawn(crate::admin::serve(
            crate::admin::AdminState::new(&handles),
            listener,
            shutdown.child_token(),
        ));
    }
    crate::service::run(handles, config, shutdown, configs, servers).await
}

/// SIGHUP, as a stream of reload requests. The handler is installed before this returns.
pub(super) fn reload_signals() -> std::io::Result<tokio::sync::mpsc::UnboundedReceiver<()>> {
    let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
    #[cfg(unix)]
    {
        let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
        tokio::spawn(async move {
            while hangup.recv().await.is_some() {
                tracing::info!("SIGHUP received; reloading the configuration");
                if sender.send(()).is_err() {
                    return;
                }
            }
        });
    }
    #[cfg(not(unix))]
    drop(sender);
    Ok(receiver)
}

/// A token cancelled on SIGINT or SIGTERM. The handlers are installed before this returns.
pub(super) fn shutdown_on_signals() -> std::io::Result<CancellationToken> {
    let shutdown = CancellationToken::new();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        let token = shutdown.clone();
        tokio::spawn(async move {
            let name = tokio::select! {
                _ = interrupt.recv() => "SIGINT",
                _ = terminate.recv() => "SIGTERM",
            };
            tracing::info!(signal = name, "signal received; shutting down");
            token.cancel();
        });
    }
    #[cfg(not(unix))]
    {
        let token = shutdown.clone();
        tokio::spawn(async move {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("interrupt received; shutting down");
            token.cancel();
        });
    }
    Ok(shutdown)
}
