//! Silences added through the CLI or the admin API: `silence/{id}` records. Those that ended
//! more than a week ago are forgotten whenever one is written.

use model::{Silence, Window};
use time::{Duration, OffsetDateTime};

use crate::backend::Batch;
use crate::keys::{silence_key, SILENCE_PREFIX};
use crate::records::SilenceRecord;
use crate::{encode, Store, StoreError};

/// How long an ended silence is still listed.
const KEEP_ENDED: Duration = Duration::days(7);

impl Store {
    /// Every silence kept, oldest first by when it was added. One that cannot be read is
    /// quarantined and left out.
    pub async fn silences(&self) -> Result<Vec<Silence>, StoreError> {
        let mut silences = Vec::new();
        for (key, bytes) in self.backend.scan(SILENCE_PREFIX).await? {
            if let Some(SilenceRecord(silence)) = self.read_or_quarantine(&key, &bytes).await? {
                silences.push(silence);
            }
        }
        silences.sort_by_key(|silence| silence.created_at);
        Ok(silences)
    }

    /// Every silence in force or to come: `configured` (the configuration's recurring ones)
    /// and those kept here.
    pub async fn all_silences(&self, configured: &[Silence]) -> Result<Vec<Silence>, StoreError> {
        let mut silences = configured.to_vec();
        silences.extend(self.silences().await?);
        Ok(silences)
    }

    /// Keeps `silence` (a new one, or one changed), flushed, and forgets those that ended a
    /// week before `now`.
    pub async fn put_silence(
        &self,
        silence: &Silence,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        if matches!(silence.window, Window::Weekly { .. }) {
            return Err(StoreError::Invalid(format!(
                "silence {} recurs; recurring silences belong in the configuration",
                silence.id
            )));
        }
        let mut batch = Batch::default();
        for old in self.silences().await? {
            if old.is_over(now - KEEP_ENDED) {
                batch.remove(silence_key(&old.id));
            }
        }
        batch.put(
            silence_key(&silence.id),
            encode(&SilenceRecord(silence.clone()))?,
        );
        self.backend.apply(batch).await
    }

    /// Ends silence `id` at `now`; returns it as it now is, or `None` if there is none.
    /// A silence that had not started yet ends before it starts: it never holds.
    pub async fn expire_silence(
        &self,
        id: &str,
        now: OffsetDateTime,
    ) -> Result<Option<Silence>, StoreError> {
        let key = silence_key(id);
        let Some(bytes) = self.backend.get(&key).await? else {
            return Ok(None);
        };
        let Some(SilenceRecord(mut silence)) = self.read_or_quarantine(&key, &bytes).await? else {
            return Ok(None);
        };
        if let Window::Between { starts_at, ends_at } = &mut silence.window {
            if *ends_at > now {
                *ends_at = now;
                *starts_at = (*starts_at).min(now);
            }
        }
        self.put_silence(&silence, now).await?;
        Ok(Some(silence))
    }
}

#[cfg(test)]
mod tests {
    use model::Matcher;
    use time::macros::datetime;

    use super::*;

    fn silence(id: &str, starts: OffsetDateTime, ends: OffsetDateTime) -> Silence {
        Silence::between(
            id.into(),
            Matcher {
                database: Some("acme/commerce".into()),
                ..Matcher::default()
            },
            starts,
            ends,
            "planned cutover".into(),
            starts,
        )
        .expect("valid")
    }

    #[tokio::test]
    async fn silences_are_kept_expired_and_forgotten_a_week_after_they_end() {
        let directory = tempfile::tempdir().expect("temporary directory");
        let store = Store::open(directory.path()).expect("opens");
        let now = datetime!(2026-11-24 12:00 UTC);
        let first = silence("sil_a", now, now + Duration::hours(2));
        store.put_silence(&first, now).await.expect("kept");
        store
            .put_silence(
                &silence(
                    "sil_b",
                    now + Duration::minutes(1),
                    now + Duration::hours(1),
                ),
                now,
            )
            .await
            .expect("kept");
        assert_eq!(store.silences().await.expect("read").len(), 2);
        let expired = store
            .expire_silence("sil_a", now + Duration::minutes(5))
            .await
            .expect("expires")
            .expect("known");
        assert!(expired.is_over(now + Duration::minutes(5)));
        assert!(!expired.is_active(now + Duration::minutes(5)));
        assert_eq!(
            store.expire_silence("sil_x", now).await.expect("runs"),
            None
        );
        drop(store);
        // It survives a restart.
        let store = Store::open(directory.path()).expect("opens again");
        assert_eq!(store.silences().await.expect("read")[0], expired);
        // A week after they ended, writing another forgets them.
        let later = now + Duration::days(8);
        store
            .put_silence(&silence("sil_c", later, later + Duration::hours(1)), later)
            .await
            .expect("kept");
        let ids: Vec<String> = store
            .silences()
            .await
            .expect("read")
            .into_iter()
            .map(|silence| silence.id)
            .collect();
        assert_eq!(ids, ["sil_c"]);
    }
}
