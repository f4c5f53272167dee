//! The listing of the watched databases, as the loop runs it: started as its own task, each
//! organization's databases watched as soon as they are listed, the whole applied when every
//! organization is, and the next listing scheduled.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use diff_engine::{Motion, Target};
use tokio::sync::mpsc;
use tokio::task::{JoinError, JoinHandle};
use tokio::time::Instant;

use super::{Chore, Listed, Loop};
use crate::service::watched::DISCOVERY_INTERVAL;

impl Loop {
    /// Starts listing the watched databases, as its own task: each organization's databases
    /// come as it is listed, the whole when every one is.
    pub(super) fn start_discovery(&mut self) {
        let pipeline = Arc::clone(&self.pipeline);
        let (early, listed_early) = mpsc::unbounded_channel();
        self.listed_early = Some(listed_early);
        self.discovery = Some(tokio::spawn(async move {
            let (targets, failures) = pipeline
                .targets_as_listed(|organization, targets| {
                    let _ = early.send((organization.to_owned(), targets.to_vec()));
                })
                .await;
            let failures = failures
                .into_iter()
                .map(|(organization, error)| (organization, error.to_string()))
                .collect();
            (targets, failures)
        }));
        // Until it ends, the next one is not due.
        self.chores.pause(Chore::Discovery);
    }

    /// Applies a listing of the watched databases to the scheduler and the board, and sets when
    /// the next is due.
    pub(super) async fn listed(&mut self, listed: Result<Listed, JoinError>) {
        let (targets, failures) = listed.unwrap_or_else(|error| {
            tracing::error!(%error, "listing the watched databases stopped unexpectedly (a bug in pswatch)");
            let why = format!("the listing stopped unexpectedly: {error}");
            let failures = self
                .pipeline
                .config
                .watches
                .iter()
                .map(|watch| (watch.organization.clone(), why.clone()))
                .collect();
            (Vec::new(), failures)
        });
        let now = Instant::now();
        let unlisted: Vec<String> = failures
            .into_iter()
            .map(|(organization, error)| {
                tracing::error!(organization, %error, "cannot list the organization's databases");
                organization
            })
            .collect();
        // A database no longer listed by its organization (or no longer named in the
        // configuration) is no longer polled; one of an organization that could not be listed
        // this time stays watched.
        self.watch(
            &targets,
            |target| unlisted.contains(&target.organization),
            now,
        )
        .await;
        if unlisted.is_empty() {
            // Every organization listed: what is not watched now will never end its alerts.
            let watched: HashSet<Target> = self.scheduler.targets().into_iter().collect();
            let delivery = Arc::clone(&self.pipeline.delivery);
            self.tracker
                .spawn(async move { delivery.resolve_unwatched(&watched).await });
        }
        let config = &self.pipeline.config;
        let discovers = config.watches.iter().any(|watch| watch.databases.is_none());
        if !discovers && unlisted.is_empty() {
            self.chores.pause(Chore::Discovery);
        } else if unlisted.is_empty() {
            self.discovery_failures = 0;
            self.chores.at(Chore::Discovery, now + DISCOVERY_INTERVAL);
        } else {
            // A failed listing is tried again soon, backing off.
            self.discovery_failures += 1;
            let backoff = http_util::backoff(
                config.poll.interval,
                self.discovery_failures,
                DISCOVERY_INTERVAL,
            );
            self.chores.at(Chore::Discovery, now + backoff);
        }
    }

    /// Watches `targets`: those new to the scheduler start at the motion of their remembered
    /// state; those it polls that are not among them are forgotten unless `keep` says so.
    pub(super) async fn watch(
        &mut self,
        targets: &[Target],
        keep: impl Fn(&Target) -> bool,
        now: Instant,
    ) {
        let known: HashSet<Target> = self.scheduler.targets().into_iter().collect();
        let mut motions = HashMap::new();
        for target in targets.iter().filter(|target| !known.contains(target)) {
            let motion = self
                .handles
                .store
                .target_state(target)
                .await
                .ok()
                .flatten()
                .map_or(Motion::Idle, |state| state.motion());
            motions.insert(target.clone(), motion);
        }
        let reconciled = self.scheduler.reconcile(
            targets,
            keep,
            |target| motions.get(target).copied().unwrap_or(Motion::Idle),
            now,
        );
        for target in &reconciled.added {
            tracing::info!(target_db = %target, "watching");
            self.handles.board.status.watch(target);
        }
        for target in &reconciled.removed {
            tracing::info!(target_db = %target, "no longer watched");
            self.handles.board.status.forget(target);
            self.handles.board.push.forget(target);
            self.handles.board.fleet.forget(target);
        }
        if !reconciled.added.is_empty() {
            // New databases' webhooks are read now too.
            self.chores.at(Chore::WebhookCheck, now);
        }
    }
}

/// The next organization the listing under way has listed; never, without one.
pub(super) async fn listed_early(
    early: &mut Option<mpsc::UnboundedReceiver<(String, Vec<Target>)>>,
) -> Option<(String, Vec<Target>)> {
    match early {
        Some(early) => match early.recv().await {
            Some(listed) => Some(listed),
            None => std::future::pending().await,
        },
        None => std::future::pending().await,
    }
}

/// The listing under way; only awaited while there is one.
pub(super) async fn listing(
    discovery: &mut Option<JoinHandle<Listed>>,
) -> Result<Listed, JoinError> {
    match discovery {
        Some(listing) => listing.await,
        None => std::future::pending().await,
    }
}
