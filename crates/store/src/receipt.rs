//! The webhook deliveries the receiver has acted on: `receipt/{digest}` records, each the
//! SHA-256 of a delivery's body and when it arrived. A delivery's receipt is written with the
//! outbox entries it made, in one batch, so a delivery sent again after a restart is
//! recognised, and one refused (nothing written) is acted on when it comes again.

use time::OffsetDateTime;

use crate::backend::Batch;
use crate::keys::{receipt_key, RECEIPT_PREFIX};
use crate::records::ReceiptRecord;
use crate::{encode, NewDelivery, OutboxEntry, Store, StoreError};

/// The digest that names a delivery.
pub type Digest = [u8; 32];

impl Store {
    /// The receipts kept, and when each delivery arrived; those that arrived before
    /// `forget_before` are removed. One that cannot be read is quarantined and left out.
    pub async fn receipts(
        &self,
        forget_before: OffsetDateTime,
    ) -> Result<Vec<(Digest, OffsetDateTime)>, StoreError> {
        let kept: Vec<ReceiptRecord> = self
            .scan_forgetting(RECEIPT_PREFIX, |receipt: &ReceiptRecord| {
                receipt.at < forget_before
            })
            .await?;
        Ok(kept
            .into_iter()
            .map(|receipt| (receipt.digest, receipt.at))
            .collect())
    }

    /// Adds the outbox entries a received delivery made, and its receipt, in one atomic batch,
    /// flushed to disk before this returns.
    pub async fn enqueue_received(
        &self,
        digest: Digest,
        deliveries: Vec<NewDelivery>,
        now: OffsetDateTime,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut batch = Batch::default();
        let entries = self.add_entries(&mut batch, deliveries, now).await?;
        batch.put_new(
            receipt_key(&digest),
            encode(&ReceiptRecord { digest, at: now })?,
        );
        self.backend.apply(batch).await?;
        Ok(entries)
    }
}
