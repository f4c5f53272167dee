//! The delivery workers: a task per channel, each kept, so one that ended is seen and started
//! again and a channel never has two.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::{watch, Notify};
use tokio_util::sync::CancellationToken;

use crate::service::delivery::{Delivery, Step};
use crate::service::health::StoreHealth;
use crate::service::outbox::Outbox;

/// How long a delivery worker that panicked waits before it starts again, so a bug that
/// panics at once does not spin.
/// The wait before reading the outbox again after the store failed.
const FIRST_DELIVERY_RETRY: Duration = Duration::from_secs(5);

pub(super) const WORKER_RESTART_DELAY: Duration = Duration::from_secs(1);

/// The delivery workers, one a channel, each task kept, so one that ended is seen and started
/// again, and a channel never has two. What wakes them is the `Outbox`.
pub(super) struct Workers {
    tasks: tokio::task::JoinSet<()>,
    /// The channel of each task still running.
    channels: HashMap<tokio::task::Id, String>,
}

impl Workers {
    pub(super) fn new() -> Self {
        Self {
            tasks: tokio::task::JoinSet::new(),
            channels: HashMap::new(),
        }
    }

    /// Whether some channel has a worker running.
    pub(super) fn is_empty(&self) -> bool {
        self.channels.is_empty()
    }

    /// Starts a worker, through `spawn`, for each of `channels` that has no running one, after
    /// `delay`. A worker still running for a channel removed and added again is kept: it
    /// follows the current pipeline.
    pub(super) fn start<F, Fut>(&mut self, channels: &[&str], delay: Duration, spawn: F)
    where
        F: Fn(String) -> Fut,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        for channel in channels {
            if self.channels.values().any(|running| running == channel) {
                continue;
            }
            let worker = spawn((*channel).to_owned());
            let task = self.tasks.spawn(async move {
                tokio::time::sleep(delay).await;
                worker.await;
            });
            self.channels.insert(task.id(), (*channel).to_owned());
        }
    }

    /// The next worker that ends: its channel, and whether it panicked.
    pub(super) async fn ended(&mut self) -> Option<(String, bool)> {
        let (id, panicked) = match self.tasks.join_next_with_id().await? {
            Ok((id, ())) => (id, false),
            Err(error) => (error.id(), error.is_panic()),
        };
        let channel = self.channels.remove(&id)?;
        Some((channel, panicked))
    }

    /// Waits for every worker to end.
    pub(super) async fn wait(&mut self) {
        while self.tasks.join_next().await.is_some() {}
    }
}

/// Starts the workers the current delivery's channels lack, after `delay`; each follows
/// `current` (reloads) and waits on its wake of `outbox`.
pub(super) fn start_workers(
    workers: &mut Workers,
    current: &watch::Receiver<Arc<Delivery>>,
    outbox: &Outbox,
    health: &Arc<StoreHealth>,
    shutdown: &CancellationToken,
    delay: Duration,
) {
    let delivery = Arc::clone(&current.borrow());
    let channels: Vec<&str> = delivery.channel_names().collect();
    workers.start(&channels, delay, |channel| {
        let wake = outbox.waker(&channel);
        channel_worker(
            current.clone(),
            channel,
            Arc::clone(health),
            shutdown.child_token(),
            wake,
        )
    });
}

/// Delivers one channel's outbox until shutdown: each entry when it is due, in detection
/// order, sleeping until the next one is due or a poll adds one. Each step uses the current
/// configuration's delivery; a reload that removes the channel ends the worker.
async fn channel_worker(
    mut current: watch::Receiver<Arc<Delivery>>,
    channel: String,
    health: Arc<StoreHealth>,
    shutdown: CancellationToken,
    wake: Arc<Notify>,
) {
    loop {
        if shutdown.is_cancelled() {
            return;
        }
        let delivery = Arc::clone(&current.borrow_and_update());
        if delivery.channel(&channel).is_none() {
            tracing::info!(
                channel,
                "the channel is no longer configured; its worker stops"
            );
            return;
        }
        let wait = match delivery.deliver_next(&channel).await {
            Ok(Step::Delivered(_) | Step::GaveUp) => continue,
            Ok(Step::Idle | Step::Disabled) => None,
            Ok(Step::NotDueUntil(at) | Step::RetryAt(at)) => {
                let left = at - OffsetDateTime::now_utc();
                Some(Duration::try_from(left).unwrap_or(Duration::ZERO))
            }
            Err(error) => {
                tracing::error!(channel, %error, "cannot read or update the outbox");
                health.failed(&error);
                Some(FIRST_DELIVERY_RETRY)
            }
        };
        drop(delivery);
        // A poll that adds an entry for this channel wakes the worker, so a new event never
        // waits for a timer; so does a reload, which may have changed or removed the channel.
        let sleep = async {
            match wait {
                Some(wait) => tokio::time::sleep(wait).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = wake.notified() => {}
            changed = current.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            () = sleep => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_worker_that_ended_is_seen_and_a_channel_never_has_two() {
        let mut workers = Workers::new();
        let wakes = crate::service::outbox::Wakes::default();
        let started = Arc::new(AtomicUsize::new(0));
        let running = Arc::new(AtomicUsize::new(0));
        let spawn = |panics: bool| {
            let (started, running) = (Arc::clone(&started), Arc::clone(&running));
            let wakes = &wakes;
            move |channel: String| {
                let (started, running) = (Arc::clone(&started), Arc::clone(&running));
                let wake = wakes.of(&channel);
                async move {
                    started.fetch_add(1, Ordering::SeqCst);
                    running.fetch_add(1, Ordering::SeqCst);
                    wake.notified().await;
                    running.fetch_sub(1, Ordering::SeqCst);
                    assert!(!panics, "a bug in a delivery");
                }
            }
        };
        workers.start(&["slack"], Duration::ZERO, spawn(true));
        // Started again (a reload) while it runs: still one.
        workers.start(&["slack"], Duration::ZERO, spawn(true));
        tokio::task::yield_now().await;
        assert_eq!(running.load(Ordering::SeqCst), 1);
        wakes.wake("slack");
        let ended = workers.ended().await;
        assert_eq!(ended, Some(("slack".to_owned(), true)), "its panic is seen");
        workers.start(&["slack"], WORKER_RESTART_DELAY, spawn(false));
        tokio::time::sleep(WORKER_RESTART_DELAY).await;
        tokio::task::yield_now().await;
        assert_eq!(started.load(Ordering::SeqCst), 2, "started again");
        assert_eq!(running.load(Ordering::SeqCst), 1);
        wakes.wake("slack");
        assert_eq!(workers.ended().await, Some(("slack".to_owned(), false)));
        assert!(workers.is_empty());
    }
}
