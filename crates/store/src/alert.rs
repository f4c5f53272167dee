//! The alerts each channel keeps firing (Alertmanager's): kept so that the leader sends them
//! again while they last, after a restart or a failover too, and resolves them with the labels
//! they fired with.

use model::FiringAlert;

use crate::backend::Batch;
use crate::keys::{alert_key, alert_prefix, split_alert_key, ALERT_PREFIX};
use crate::records::AlertRecord;
use crate::{encode, Store, StoreError};

impl Store {
    /// The alerts `channel` keeps firing (unreadable ones quarantined and left out).
    pub async fn firing_alerts(&self, channel: &str) -> Result<Vec<FiringAlert>, StoreError> {
        let mut alerts = Vec::new();
        for (key, bytes) in self.backend.scan(&alert_prefix(channel)).await? {
            if let Some(AlertRecord(alert)) = self.read_or_quarantine(&key, &bytes).await? {
                alerts.push(alert);
            }
        }
        Ok(alerts)
    }

    /// Keeps what a delivery through `channel` changed of its firing alerts, in one batch:
    /// by key, the alert now firing, or `None` for one resolved.
    pub async fn keep_alerts<'a>(
        &self,
        channel: &str,
        changes: impl IntoIterator<Item = (&'a str, Option<&'a FiringAlert>)>,
    ) -> Result<(), StoreError> {
        let mut batch = Batch::fenced();
        let mut any = false;
        for (key, alert) in changes {
            any = true;
            let key = alert_key(channel, key);
            match alert {
                Some(alert) => batch.put(key, encode(&AlertRecord(alert.clone()))?),
                None => batch.remove(key),
            }
        }
        if any {
            self.backend.apply(batch).await?;
        }
        Ok(())
    }

    /// Forgets the firing alerts of channels not in `channels` (removed from the
    /// configuration). Returns how many went.
    pub async fn prune_alerts(&self, channels: &[&str]) -> Result<usize, StoreError> {
        let mut batch = Batch::fenced();
        let mut pruned = 0;
        for (key, _) in self.backend.scan(ALERT_PREFIX).await? {
            let configured =
                split_alert_key(&key).is_some_and(|(channel, _)| channels.contains(&channel));
            if !configured {
                batch.remove(key);
                pruned += 1;
            }
        }
        if pruned > 0 {
            self.backend.apply(batch).await?;
        }
        Ok(pruned)
    }
}
