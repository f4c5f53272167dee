//! Pacing: the least time between two messages to one receiver (Slack allows one a second per
//! webhook URL, whichever channel uses it).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

/// When the last message went to one receiver; shared by the channels that send to it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Pacer(Arc<tokio::sync::Mutex<Option<Instant>>>);

impl Pacer {
    /// Runs `send` no sooner than `min_interval` after the end of the last one, and one at a
    /// time.
    pub(crate) async fn pace<T>(&self, min_interval: Duration, send: impl Future<Output = T>) -> T {
        let mut last = self.0.lock().await;
        if let Some(last) = *last {
            tokio::time::sleep_until(last + min_interval).await;
        }
        let result = send.await;
        *last = Some(Instant::now());
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn sends_are_spaced_by_the_interval() {
        let pacer = Pacer::default();
        let start = Instant::now();
        let mut sent = Vec::new();
        for _ in 0..3 {
            pacer
                .pace(Duration::from_secs(1), async {
                    sent.push(Instant::now() - start)
                })
                .await;
        }
        assert_eq!(
            sent,
            [
                Duration::ZERO,
                Duration::from_secs(1),
                Duration::from_secs(2)
            ]
        );
    }
}
