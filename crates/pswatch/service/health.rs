//! Whether the state store writes: the one handle every writer tells of its failures, and
//! what `/readyz`, the receiver and the loop ask before they acknowledge or go on.

/// Whether the state store writes: set by every write that failed and every probe, read by
/// `/readyz` and the service, which probes while writes fail and stops when they keep failing.
#[derive(Debug)]
pub(crate) struct StoreHealth {
    failing: std::sync::Mutex<Option<(tokio::time::Instant, String)>>,
    /// `pswatch_store_writable`.
    writable: prometheus::IntGauge,
    /// Whether the store is sled's: once one of its writes failed, none that follows can be
    /// trusted (sled keeps the error, and what it says it wrote may not be on disk), so it is
    /// broken until the process starts again.
    embedded: bool,
    /// Told of every failure, so the loop acts on it at once.
    failures: tokio::sync::Notify,
}

impl StoreHealth {
    pub(crate) fn new(writable: prometheus::IntGauge, embedded: bool) -> Self {
        writable.set(1);
        Self {
            failing: std::sync::Mutex::default(),
            writable,
            embedded,
            failures: tokio::sync::Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(tokio::time::Instant, String)>> {
        self.failing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A write failed with `error`.
    pub(crate) fn failed(&self, error: &store::StoreError) {
        // A write refused because another replica leads is the fence working, not the store
        // failing.
        if matches!(error, store::StoreError::NotLeader(_)) {
            return;
        }
        let mut failing = self.lock();
        let since = failing
            .as_ref()
            .map_or_else(tokio::time::Instant::now, |(since, _)| *since);
        *failing = Some((since, error.to_string()));
        self.writable.set(0);
        drop(failing);
        self.failures.notify_one();
    }

    /// A write succeeded: writes fail no more. Not for a broken embedded store, which only a
    /// new process reads again.
    pub(crate) fn recovered(&self) {
        if self.embedded {
            return;
        }
        self.writable.set(1);
        *self.lock() = None;
    }

    /// The first failed write's error, when the store is sled's and one failed: nothing can
    /// be written any more, and pswatch stops at once.
    pub(crate) fn broken(&self) -> Option<String> {
        if !self.embedded {
            return None;
        }
        self.lock().as_ref().map(|(_, error)| error.clone())
    }

    /// Waits for the next failure.
    pub(crate) async fn failure(&self) {
        self.failures.notified().await;
    }

    /// Since when writes fail, and the last error, while they do.
    pub(crate) fn failing(&self) -> Option<(tokio::time::Instant, String)> {
        self.lock().clone()
    }
}
