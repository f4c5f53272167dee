//! Digests as the outbox records them, format 1: every field spelled out.

use diff_engine::{DatabaseDigest, Digest, DigestItem};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A digest, as stored: its name, period, zone, databases and dead letters.
#[derive(Serialize, Deserialize)]
pub(crate) struct StoredDigest {
    name: String,
    #[serde(with = "time::serde::rfc3339")]
    period_start: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    period_end: OffsetDateTime,
    timezone: String,
    databases: Vec<StoredDatabaseDigest>,
    dead_letters: u64,
}

#[derive(Serialize, Deserialize)]
struct StoredDatabaseDigest {
    organization: String,
    database: String,
    completed: Vec<StoredDigestItem>,
    failed: Vec<StoredDigestItem>,
    waiting: Vec<StoredDigestItem>,
}

#[derive(Serialize, Deserialize)]
struct StoredDigestItem {
    resource: String,
    state: String,
    #[serde(default, with = "time::serde::rfc3339::option")]
    since: Option<OffsetDateTime>,
    #[serde(default)]
    errors: Option<String>,
    #[serde(default)]
    url: Option<String>,
}

impl From<&Digest> for StoredDigest {
    fn from(digest: &Digest) -> Self {
        let items = |items: &[DigestItem]| {
            items
                .iter()
                .map(|item| StoredDigestItem {
                    resource: item.resource.clone(),
                    state: item.state.clone(),
                    since: item.since,
                    errors: item.errors.clone(),
                    url: item.url.clone(),
                })
                .collect()
        };
        Self {
            name: digest.name.clone(),
            period_start: digest.period_start,
            period_end: digest.period_end,
            timezone: digest.timezone.clone(),
            databases: digest
                .databases
                .iter()
                .map(|database| StoredDatabaseDigest {
                    organization: database.organization.clone(),
                    database: database.database.clone(),
                    completed: items(&database.completed),
                    failed: items(&database.failed),
                    waiting: items(&database.waiting),
                })
                .collect(),
            dead_letters: digest.dead_letters,
        }
    }
}

impl From<StoredDigest> for Digest {
    fn from(stored: StoredDigest) -> Self {
        let items = |items: Vec<StoredDigestItem>| {
            items
                .into_iter()
                .map(|item| DigestItem {
                    resource: item.resource,
                    state: item.state,
                    since: item.since,
                    errors: item.errors,
                    url: item.url,
                })
                .collect()
        };
        Self {
            name: stored.name,
            period_start: stored.period_start,
            period_end: stored.period_end,
            timezone: stored.timezone,
            databases: stored
                .databases
                .into_iter()
                .map(|database| DatabaseDigest {
                    organization: database.organization,
                    database: database.database,
                    completed: items(database.completed),
                    failed: items(database.failed),
                    waiting: items(database.waiting),
                })
                .collect(),
            dead_letters: stored.dead_letters,
        }
    }
}
