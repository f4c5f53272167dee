//! What an event is about ([`ResourceKey`]) and what a channel remembers of that resource from one
//! delivery to the next ([`Memo`]): the Slack thread it lives in, the PagerDuty incident it
//! opened. The caller loads the memos of a delivery's resources into [`Memos`] and keeps the
//! ones a delivery changed, so a restart keeps threads and incidents.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use diff_engine::{Event, EventKind};
use time::OffsetDateTime;

/// Which kind of resource a thread or an incident follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceKind {
    /// A MoveTables workflow.
    Workflow,
    /// A deploy request, together with its deploy and revert operations.
    DeployRequest,
}

impl ResourceKind {
    /// `workflow` or `deploy_request`, as keys and `dedup_key`s spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Workflow => "workflow",
            Self::DeployRequest => "deploy_request",
        }
    }

    /// `workflow` or `deploy request`, as people read it.
    pub fn noun(self) -> &'static str {
        match self {
            Self::Workflow => "workflow",
            Self::DeployRequest => "deploy request",
        }
    }

    /// Every state this build knows of the kind: a workflow's `state`, a deploy request's
    /// `deployment_state`.
    pub fn states(self) -> &'static [&'static str] {
        match self {
            Self::Workflow => diff_engine::WorkflowState::KNOWN,
            Self::DeployRequest => diff_engine::DeployState::KNOWN,
        }
    }

    /// The kind `text` names (`workflow`, `deploy_request`); `None` for any other.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Workflow, Self::DeployRequest]
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

/// One resource of one database: a workflow, or a deploy request with its operations (an
/// operation's events belong to its deploy request's thread and incident).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceKey {
    /// The organization.
    pub organization: String,
    /// The database.
    pub database: String,
    /// A workflow or a deploy request.
    pub kind: ResourceKind,
    /// The workflow's or deploy request's number.
    pub number: u64,
}

impl ResourceKey {
    /// The workflow or deploy request `event` is about; `None` for PlanetScale's own events
    /// (a branch, a keyspace), which have no thread or incident of their own.
    pub fn of(event: &Event) -> Option<Self> {
        let (kind, number) = match &event.kind {
            EventKind::WorkflowStateChanged { workflow, .. }
            | EventKind::WorkflowErrorsChanged { workflow, .. }
            | EventKind::TimerFired {
                subject: diff_engine::TimerSubject::Workflow(workflow),
                ..
            } => (ResourceKind::Workflow, workflow.number),
            EventKind::PlanetScale { .. } => return None,
            kind => (ResourceKind::DeployRequest, kind.deploy_request_number()?),
        };
        Some(Self {
            organization: event.organization.clone(),
            database: event.database.clone(),
            kind,
            number,
        })
    }

    /// Reads the form [`Display`](fmt::Display) writes: `acme/commerce/workflow/3`.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.rsplitn(3, '/');
        let number = parts.next()?.parse().ok()?;
        let kind = match parts.next()? {
            "workflow" => ResourceKind::Workflow,
            "deploy_request" => ResourceKind::DeployRequest,
            _ => return None,
        };
        let (organization, database) = parts.next()?.split_once('/')?;
        if organization.is_empty() || database.is_empty() || database.contains('/') {
            return None;
        }
        Some(Self {
            organization: organization.to_owned(),
            database: database.to_owned(),
            kind,
            number,
        })
    }

    /// The resources `events` are about, each once, in the order they first appear.
    pub fn all_of(events: &[Event]) -> Vec<Self> {
        let mut seen = BTreeSet::new();
        events
            .iter()
            .filter_map(Self::of)
            .filter(|key| seen.insert(key.clone()))
            .collect()
    }

    /// `events` by the resource they are about, in the order each resource first appears,
    /// each resource's events in their order; each event about no workflow or deploy request
    /// alone, without a key.
    pub fn group(events: &[Event]) -> Vec<(Option<Self>, Vec<Event>)> {
        let mut groups: Vec<(Option<Self>, Vec<Event>)> = Vec::new();
        for event in events {
            let key = Self::of(event);
            match groups
                .iter_mut()
                .find(|(known, _)| key.is_some() && *known == key)
            {
                Some((_, mine)) => mine.push(event.clone()),
                None => groups.push((key, vec![event.clone()])),
            }
        }
        groups
    }
}

impl fmt::Display for ResourceKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{}/{}/{}/{}",
            self.organization,
            self.database,
            self.kind.as_str(),
            self.number
        )
    }
}

/// What one channel remembers of one resource.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Memo {
    /// The Slack thread the resource's events go to.
    pub thread: Option<SlackThread>,
    /// The PagerDuty incident the resource opened, while it is open.
    pub incident: Option<Incident>,
    /// The id of the resource's last event the channel delivered, so that a delivery retried
    /// after a partial success does not send it again.
    pub last_event: Option<String>,
    /// The GitHub pull request comment that shows the resource, edited in place as it moves.
    pub github_comment: Option<u64>,
    /// The id of the resource's last event sent to PagerDuty as a change event, so that a
    /// delivery retried after a partial success does not put it on the timeline twice.
    pub last_change_event: Option<String>,
}

impl Memo {
    /// Whether there is nothing to remember (the record can go).
    pub fn is_empty(&self) -> bool {
        self.thread.is_none()
            && self.incident.is_none()
            && self.last_event.is_none()
            && self.github_comment.is_none()
            && self.last_change_event.is_none()
    }
}

/// A Slack thread: its first message, which shows where the resource stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackThread {
    /// The Slack channel id the thread is in.
    pub channel: String,
    /// The `ts` of the thread's first message.
    pub ts: String,
    /// The resource's state as last seen (a deploy request's operations do not carry it).
    pub state: Option<String>,
    /// Whether the first message shows the latest state; `false` while its update is owed.
    pub head_current: bool,
}

/// A PagerDuty incident opened for a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incident {
    /// The `dedup_key` it was triggered with.
    pub dedup_key: String,
    /// When it was first triggered.
    pub triggered_at: OffsetDateTime,
}

/// The memos of one delivery's resources: loaded by the caller, changed by the delivery, and
/// the changed ones kept by the caller, whether the delivery succeeded or not.
#[derive(Debug, Default)]
pub struct Memos {
    memos: BTreeMap<ResourceKey, Memo>,
    changed: BTreeSet<ResourceKey>,
    /// The channel's firing alerts (Alertmanager's), by key.
    alerts: BTreeMap<String, crate::FiringAlert>,
    /// The keys of alerts fired or resolved since they were loaded.
    alerts_changed: BTreeSet<String>,
}

impl Memos {
    /// No memos.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a memo as it was kept (not a change).
    pub fn load(&mut self, key: ResourceKey, memo: Memo) {
        self.memos.insert(key, memo);
    }

    /// The memo of `key`, if any.
    pub fn get(&self, key: &ResourceKey) -> Option<&Memo> {
        self.memos.get(key)
    }

    /// Changes the memo of `key` (an empty one if there was none) and marks it changed.
    pub fn update(&mut self, key: &ResourceKey, change: impl FnOnce(&mut Memo)) {
        change(self.memos.entry(key.clone()).or_default());
        self.changed.insert(key.clone());
    }

    /// The memos changed since they were loaded, to be kept; an empty memo is one to remove.
    pub fn changed(&self) -> impl Iterator<Item = (&ResourceKey, &Memo)> {
        self.changed
            .iter()
            .filter_map(|key| Some((key, self.memos.get(key)?)))
    }

    /// Forgets which memos and alerts changed, once they are kept.
    pub fn mark_kept(&mut self) {
        self.changed.clear();
        self.alerts_changed.clear();
    }

    /// Adds a firing alert as it was kept (not a change).
    pub fn load_alert(&mut self, alert: crate::FiringAlert) {
        self.alerts.insert(alert.key(), alert);
    }

    /// The channel's firing alerts.
    pub fn alerts(&self) -> impl Iterator<Item = &crate::FiringAlert> {
        self.alerts.values()
    }

    /// `alert` fires (again: its first start is kept).
    pub fn fire(&mut self, mut alert: crate::FiringAlert) {
        let key = alert.key();
        if let Some(known) = self.alerts.get(&key) {
            alert.starts_at = known.starts_at;
        }
        self.alerts.insert(key.clone(), alert);
        self.alerts_changed.insert(key);
    }

    /// The alert of `key` is resolved: it is no longer kept.
    pub fn resolve(&mut self, key: &str) {
        if self.alerts.remove(key).is_some() {
            self.alerts_changed.insert(key.to_owned());
        }
    }

    /// The alerts fired or resolved since they were loaded: by key, the alert to keep or
    /// `None` to forget.
    pub fn changed_alerts(&self) -> impl Iterator<Item = (&str, Option<&crate::FiringAlert>)> {
        self.alerts_changed
            .iter()
            .map(|key| (key.as_str(), self.alerts.get(key)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diff_engine::testing::{
        deploy_request, deploy_request_state_changed, operation, operation_state_changed, workflow,
        workflow_state_changed,
    };
    use diff_engine::{OperationPhase, OperationState};

    #[test]
    fn operations_belong_to_their_deploy_request() {
        let request = deploy_request_state_changed(None, deploy_request(7).build()).build();
        let table = operation_state_changed(
            7,
            OperationPhase::Deploy,
            None,
            operation("op1", "orders")
                .state(OperationState::Error)
                .build(),
        )
        .build();
        let moving = workflow_state_changed(None, workflow(3).build()).build();
        assert_eq!(ResourceKey::of(&request), ResourceKey::of(&table));
        assert_eq!(
            ResourceKey::of(&request).expect("a resource").to_string(),
            "acme/commerce/deploy_request/7"
        );
        assert_eq!(
            ResourceKey::of(&moving).expect("a resource").to_string(),
            "acme/commerce/workflow/3"
        );
        assert_eq!(
            ResourceKey::all_of(&[moving.clone(), request, table, moving]).len(),
            2
        );
    }

    #[test]
    fn keys_read_back() {
        for text in [
            "acme/commerce/workflow/3",
            "a-b/c_d/deploy_request/18446744073709551615",
        ] {
            let key = ResourceKey::parse(text).expect(text);
            assert_eq!(key.to_string(), text);
        }
        for text in [
            "",
            "acme/workflow/3",
            "acme/commerce/branch/3",
            "acme/commerce/workflow/x",
            "/x/workflow/1",
        ] {
            assert_eq!(ResourceKey::parse(text), None, "{text}");
        }
    }

    #[test]
    fn only_updates_are_changes() {
        let key = ResourceKey::parse("acme/commerce/workflow/3").expect("key");
        let mut memos = Memos::new();
        memos.load(key.clone(), Memo::default());
        assert_eq!(memos.changed().count(), 0);
        memos.update(&key, |memo| memo.last_event = Some("evt_1".into()));
        let changed: Vec<_> = memos.changed().collect();
        assert_eq!(changed.len(), 1);
        assert_eq!(changed[0].1.last_event.as_deref(), Some("evt_1"));
        memos.mark_kept();
        assert_eq!(memos.changed().count(), 0);
    }
}
