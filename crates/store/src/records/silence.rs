//! Silences added through the CLI or the admin API, as on disk.

use model::{Matcher, Silence, Window};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::Record;

/// The record under `silence/{id}`: a silence with a start and an end (recurring ones live in
/// the configuration, never here).
#[derive(Serialize, Deserialize)]
pub(crate) struct StoredSilence {
    id: String,
    organization: Option<String>,
    database: Option<String>,
    events: Vec<String>,
    states: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    starts_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    ends_at: OffsetDateTime,
    comment: String,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
}

/// A silence with a start and an end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SilenceRecord(pub(crate) Silence);

impl Record for SilenceRecord {
    const WHAT: &'static str = "silence";
    type Stored<'a> = StoredSilence;

    fn to_stored(&self) -> StoredSilence {
        let silence = &self.0;
        let (starts_at, ends_at) = match &silence.window {
            Window::Between { starts_at, ends_at } => (*starts_at, *ends_at),
            // Not stored; `Store::put_silence` refuses them.
            Window::Weekly { .. } => (silence.created_at, silence.created_at),
        };
        StoredSilence {
            id: silence.id.clone(),
            organization: silence.matcher.organization.clone(),
            database: silence.matcher.database.clone(),
            events: silence.matcher.events.clone(),
            states: silence.matcher.states.clone(),
            starts_at,
            ends_at,
            comment: silence.comment.clone(),
            created_at: silence.created_at,
        }
    }

    fn from_stored(stored: StoredSilence) -> Self {
        Self(Silence {
            id: stored.id,
            matcher: Matcher {
                organization: stored.organization,
                database: stored.database,
                events: stored.events,
                states: stored.states,
            },
            window: Window::Between {
                starts_at: stored.starts_at,
                ends_at: stored.ends_at,
            },
            comment: stored.comment,
            created_at: stored.created_at,
        })
    }
}
