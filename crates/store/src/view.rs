//! What pswatch last saw of each workflow and deploy request: a view per resource, written
//! after the poll that saw it change and kept past the resource's end, so that a wait that
//! comes late still learns how it ended. Views not written for a while are forgotten.

use diff_engine::Target;
use model::{ResourceKind, ResourceView};
use time::OffsetDateTime;

use crate::backend::Batch;
use crate::keys::{view_key, views_prefix, VIEW_PREFIX};
use crate::records::ViewRecord;
use crate::{encode, Store, StoreError};

impl Store {
    /// Keeps `views`, each replacing its resource's last one, in one write (fenced: only the
    /// leader writes what a poll saw).
    pub async fn put_views(&self, views: &[ResourceView]) -> Result<(), StoreError> {
        if views.is_empty() {
            return Ok(());
        }
        let mut batch = Batch::fenced();
        for view in views {
            batch.put(
                view_key(&view.target, view.kind, view.number),
                encode(&ViewRecord(view.clone()))?,
            );
        }
        self.backend.apply(batch).await
    }

    /// What was last seen of `kind` number `number` in `target`; `None` when nothing was (or
    /// its record could not be read, and is quarantined).
    pub async fn view(
        &self,
        target: &Target,
        kind: ResourceKind,
        number: u64,
    ) -> Result<Option<ResourceView>, StoreError> {
        let key = view_key(target, kind, number);
        let Some(bytes) = self.backend.get(&key).await? else {
            return Ok(None);
        };
        Ok(self
            .read_or_quarantine::<ViewRecord>(&key, &bytes)
            .await?
            .map(|ViewRecord(view)| view))
    }

    /// Every view of `target`'s resources.
    pub async fn views_of(&self, target: &Target) -> Result<Vec<ResourceView>, StoreError> {
        let mut views = Vec::new();
        for (key, bytes) in self.backend.scan(&views_prefix(target)).await? {
            if let Some(ViewRecord(view)) = self.read_or_quarantine(&key, &bytes).await? {
                views.push(view);
            }
        }
        Ok(views)
    }

    /// Forgets the views last written before `before`; how many.
    pub async fn prune_views(&self, before: OffsetDateTime) -> Result<usize, StoreError> {
        let mut batch = Batch::default();
        let mut pruned = 0;
        for (key, bytes) in self.backend.scan(VIEW_PREFIX).await? {
            if let Some(ViewRecord(view)) = self.read_or_quarantine(&key, &bytes).await? {
                if view.observed_at < before {
                    batch.remove(key);
                    pruned += 1;
                }
            }
        }
        if pruned > 0 {
            self.backend.apply(batch).await?;
        }
        Ok(pruned)
    }
}
