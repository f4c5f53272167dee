//! Actions taken from Slack: each click recorded before Slack is answered
//! (`action/{id}`), so one is not lost if pswatch stops right after answering, and removed
//! once done; the clicks taken up (`click/{id}`, kept 30 days), so that one click is acted on
//! at most once however many copies of it arrive, at once or later, at one replica or
//! several (the id names the button's value and the message, not the request); and the
//! acknowledgements of a resource's wait or stall (`ack/{resource}\0{since}`),
//! which hold back that episode's reminders.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::backend::Batch;
use crate::keys::{ACK_PREFIX, ACTION_PREFIX, CLICK_PREFIX};
use crate::records::Record;
use crate::{encode, Store, StoreError};

/// A click on one of pswatch's buttons in Slack, recorded before it is acted on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingAction {
    /// Its id, unique among pending ones.
    pub id: String,
    /// The button's value, as pswatch signed it (checked again when acted on).
    pub value: String,
    /// The Slack user who clicked, e.g. `U0123456789`.
    pub user_id: String,
    /// Their Slack user name, for messages and the log.
    pub user_name: String,
    /// When Slack's request arrived.
    pub received_at: OffsetDateTime,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct StoredAction {
    id: String,
    value: String,
    user_id: String,
    user_name: String,
    #[serde(with = "time::serde::rfc3339")]
    received_at: OffsetDateTime,
}

impl Record for PendingAction {
    const WHAT: &'static str = "action";
    type Stored<'a> = StoredAction;

    fn to_stored(&self) -> StoredAction {
        StoredAction {
            id: self.id.clone(),
            value: self.value.clone(),
            user_id: self.user_id.clone(),
            user_name: self.user_name.clone(),
            received_at: self.received_at,
        }
    }

    fn from_stored(stored: StoredAction) -> Self {
        Self {
            id: stored.id,
            value: stored.value,
            user_id: stored.user_id,
            user_name: stored.user_name,
            received_at: stored.received_at,
        }
    }
}

/// A click taken up: who took it up, and when (kept so that a copy of it is not done again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TakenClick {
    pub(crate) id: String,
    pub(crate) at: OffsetDateTime,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct StoredClick {
    id: String,
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
}

impl Record for TakenClick {
    const WHAT: &'static str = "click taken up";
    type Stored<'a> = StoredClick;

    fn to_stored(&self) -> StoredClick {
        StoredClick {
            id: self.id.clone(),
            at: self.at,
        }
    }

    fn from_stored(stored: StoredClick) -> Self {
        Self {
            id: stored.id,
            at: stored.at,
        }
    }
}

/// Who acknowledged an episode, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AckRecord {
    pub(crate) resource: String,
    pub(crate) since: i64,
    pub(crate) by: String,
    pub(crate) at: OffsetDateTime,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct StoredAck {
    resource: String,
    since: i64,
    by: String,
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
}

impl Record for AckRecord {
    const WHAT: &'static str = "acknowledgement";
    type Stored<'a> = StoredAck;

    fn to_stored(&self) -> StoredAck {
        StoredAck {
            resource: self.resource.clone(),
            since: self.since,
            by: self.by.clone(),
            at: self.at,
        }
    }

    fn from_stored(stored: StoredAck) -> Self {
        Self {
            resource: stored.resource,
            since: stored.since,
            by: stored.by,
            at: stored.at,
        }
    }
}

fn action_key(id: &str) -> Vec<u8> {
    [ACTION_PREFIX, id.as_bytes()].concat()
}

fn click_key(id: &str) -> Vec<u8> {
    [CLICK_PREFIX, id.as_bytes()].concat()
}

fn ack_key(resource: &str, since: i64) -> Vec<u8> {
    [
        ACK_PREFIX,
        resource.as_bytes(),
        b"\0",
        since.to_string().as_bytes(),
    ]
    .concat()
}

impl Store {
    /// Records a click before it is acted on, durably. A click of the same id already
    /// recorded and not yet done is [`StoreError::Duplicate`], and nothing is written.
    pub async fn record_action(&self, action: &PendingAction) -> Result<(), StoreError> {
        let mut batch = Batch::default();
        batch.put_new(action_key(&action.id), encode(action)?);
        self.backend.apply(batch).await
    }

    /// Takes up click `id` before acting on it: whether it is this caller's to do. `false` when
    /// a click of that id was taken up before (a copy of it, done or being done, here or by
    /// another replica): it must not be done again. Atomic across replicas.
    pub async fn take_action(&self, id: &str, at: OffsetDateTime) -> Result<bool, StoreError> {
        let mut batch = Batch::default();
        batch.put_new(
            click_key(id),
            encode(&TakenClick {
                id: id.to_owned(),
                at,
            })?,
        );
        match self.backend.apply(batch).await {
            Ok(()) => Ok(true),
            Err(StoreError::Duplicate) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Forgets the clicks taken up before `before`: a copy that old is done again only if the
    /// resource's state still allows it. Returns how many are kept.
    pub async fn prune_taken_actions(&self, before: OffsetDateTime) -> Result<usize, StoreError> {
        let kept: Vec<TakenClick> = self
            .scan_forgetting(CLICK_PREFIX, |click: &TakenClick| click.at < before)
            .await?;
        Ok(kept.len())
    }

    /// The clicks recorded and not yet done, oldest first.
    pub async fn pending_actions(&self) -> Result<Vec<PendingAction>, StoreError> {
        let mut actions: Vec<PendingAction> = Vec::new();
        for (key, bytes) in self.backend.scan(ACTION_PREFIX).await? {
            if let Some(action) = self.read_or_quarantine(&key, &bytes).await? {
                actions.push(action);
            }
        }
        actions.sort_by_key(|action| action.received_at);
        Ok(actions)
    }

    /// Removes a click once it is done. Whether it was still there: a click two replicas took
    /// up is done by the first that removes it.
    pub async fn finish_action(&self, id: &str) -> Result<bool, StoreError> {
        let key = action_key(id);
        if self.backend.get(&key).await?.is_none() {
            return Ok(false);
        }
        let mut batch = Batch::default();
        batch.remove(key);
        self.backend.apply(batch).await?;
        Ok(true)
    }

    /// Acknowledges the wait or stall of `resource` (`acme/commerce/deploy_request/7`) that
    /// began at `since` (unix seconds): its reminders are held back.
    pub async fn acknowledge(
        &self,
        resource: &str,
        since: i64,
        by: &str,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut batch = Batch::default();
        batch.put(
            ack_key(resource, since),
            encode(&AckRecord {
                resource: resource.to_owned(),
                since,
                by: by.to_owned(),
                at,
            })?,
        );
        self.backend.apply(batch).await
    }

    /// Every acknowledged episode: the resource and when its wait or stall began. Those
    /// acknowledged before `forget_before` are removed.
    pub async fn acknowledgements(
        &self,
        forget_before: OffsetDateTime,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let kept: Vec<AckRecord> = self
            .scan_forgetting(ACK_PREFIX, |ack: &AckRecord| ack.at < forget_before)
            .await?;
        Ok(kept
            .into_iter()
            .map(|ack| (ack.resource, ack.since))
            .collect())
    }
}
