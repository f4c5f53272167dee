//! The leader's report: what the leading replica shows of its work (its schedule of the
//! databases, its budgets, push, the recent events), written by it every few seconds so that
//! the other replicas' status pages show the same. It belongs to the running replicas, not to
//! what the store remembers: an export leaves it out.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::backend::Batch;
use crate::keys::REPORT_KEY;
use crate::records::Record;
use crate::{encode, Store, StoreError};

/// The leader's last report, and when it wrote it.
#[derive(Debug, Clone, PartialEq)]
pub struct LeaderReport {
    /// When the leader wrote it, by its clock.
    pub written_at: OffsetDateTime,
    /// What it reported, as the service shapes it.
    pub report: serde_json::Value,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct StoredReport {
    #[serde(with = "time::serde::rfc3339")]
    written_at: OffsetDateTime,
    report: serde_json::Value,
}

impl Record for LeaderReport {
    const WHAT: &'static str = "the leader's report";
    type Stored<'a> = StoredReport;

    fn to_stored(&self) -> StoredReport {
        StoredReport {
            written_at: self.written_at,
            report: self.report.clone(),
        }
    }

    fn from_stored(stored: StoredReport) -> Self {
        Self {
            written_at: stored.written_at,
            report: stored.report,
        }
    }
}

impl Store {
    /// Writes the leader's report in place of the last one. A write of the leader's: refused
    /// once another replica took its lease over.
    pub async fn publish_report(&self, report: &LeaderReport) -> Result<(), StoreError> {
        let mut batch = Batch::fenced();
        batch.put(REPORT_KEY.to_vec(), encode(report)?);
        self.backend.apply(batch).await
    }

    /// The leader's last report; `None` before the first (or one that cannot be read, which is
    /// quarantined: the next report replaces it).
    pub async fn leader_report(&self) -> Result<Option<LeaderReport>, StoreError> {
        let Some(bytes) = self.backend.get(REPORT_KEY).await? else {
            return Ok(None);
        };
        self.read_or_quarantine(REPORT_KEY, &bytes).await
    }
}
