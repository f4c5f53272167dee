//! What a channel remembers of a resource (a Slack thread, a PagerDuty incident), as on disk.

use model::{Incident, Memo, ResourceKey, ResourceKind, SlackThread};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::Record;

/// A channel's memo of one resource: the record under `memo/{channel}/{resource}`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MemoRecord {
    pub(crate) resource: ResourceKey,
    pub(crate) memo: Memo,
    /// When it was last written; memos of resources long quiet are pruned.
    pub(crate) updated_at: OffsetDateTime,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct StoredMemo {
    organization: String,
    database: String,
    kind: StoredResourceKind,
    number: u64,
    thread: Option<StoredThread>,
    incident: Option<StoredIncident>,
    last_event: Option<String>,
    // Written only when there is one, so memos of earlier versions keep their bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    github_comment: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_change_event: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum StoredResourceKind {
    Workflow,
    DeployRequest,
}

#[derive(Serialize, Deserialize)]
struct StoredThread {
    channel: String,
    ts: String,
    state: Option<String>,
    head_current: bool,
}

#[derive(Serialize, Deserialize)]
struct StoredIncident {
    dedup_key: String,
    #[serde(with = "time::serde::rfc3339")]
    triggered_at: OffsetDateTime,
}

impl Record for MemoRecord {
    const WHAT: &'static str = "memo";
    type Stored<'a> = StoredMemo;

    fn to_stored(&self) -> StoredMemo {
        StoredMemo {
            organization: self.resource.organization.clone(),
            database: self.resource.database.clone(),
            kind: match self.resource.kind {
                ResourceKind::Workflow => StoredResourceKind::Workflow,
                ResourceKind::DeployRequest => StoredResourceKind::DeployRequest,
            },
            number: self.resource.number,
            thread: self.memo.thread.as_ref().map(|thread| StoredThread {
                channel: thread.channel.clone(),
                ts: thread.ts.clone(),
                state: thread.state.clone(),
                head_current: thread.head_current,
            }),
            incident: self.memo.incident.as_ref().map(|incident| StoredIncident {
                dedup_key: incident.dedup_key.clone(),
                triggered_at: incident.triggered_at,
            }),
            last_event: self.memo.last_event.clone(),
            github_comment: self.memo.github_comment,
            last_change_event: self.memo.last_change_event.clone(),
            updated_at: self.updated_at,
        }
    }

    fn from_stored(stored: StoredMemo) -> Self {
        let resource = ResourceKey {
            organization: stored.organization,
            database: stored.database,
            kind: match stored.kind {
                StoredResourceKind::Workflow => ResourceKind::Workflow,
                StoredResourceKind::DeployRequest => ResourceKind::DeployRequest,
            },
            number: stored.number,
        };
        Self {
            resource,
            memo: Memo {
                thread: stored.thread.map(|thread| SlackThread {
                    channel: thread.channel,
                    ts: thread.ts,
                    state: thread.state,
                    head_current: thread.head_current,
                }),
                incident: stored.incident.map(|incident| Incident {
                    dedup_key: incident.dedup_key,
                    triggered_at: incident.triggered_at,
                }),
                last_event: stored.last_event,
                github_comment: stored.github_comment,
                last_change_event: stored.last_change_event,
            },
            updated_at: stored.updated_at,
        }
    }
}
