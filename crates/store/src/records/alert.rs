//! An alert a channel keeps firing, as on disk: `alert\0`, the channel (with its length) and the
//! alert's key (its labels).

use std::collections::BTreeMap;

use model::FiringAlert;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::Record;

#[derive(Serialize, Deserialize)]
pub(crate) struct StoredAlert {
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
    generator_url: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    starts_at: OffsetDateTime,
}

/// A firing alert, as the store keeps it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AlertRecord(pub(crate) FiringAlert);

impl Record for AlertRecord {
    const WHAT: &'static str = "firing alert";
    type Stored<'a> = StoredAlert;

    fn to_stored(&self) -> StoredAlert {
        let alert = &self.0;
        StoredAlert {
            labels: alert.labels.clone(),
            annotations: alert.annotations.clone(),
            generator_url: alert.generator_url.clone(),
            starts_at: alert.starts_at,
        }
    }

    fn from_stored(stored: StoredAlert) -> Self {
        Self(FiringAlert {
            labels: stored.labels,
            annotations: stored.annotations,
            generator_url: stored.generator_url,
            starts_at: stored.starts_at,
        })
    }
}
