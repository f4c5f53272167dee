//! Timers: `[[timers]]` entries, each firing `timer.fired` while a resource stays in a state
//! longer than its `after`, again every `repeat`. What a timer needs to know between polls
//! (since when each resource has been in its state, and how many times each timer fired in
//! that stay) is a [`TimerClock`] in the target's state, so a restart or a new leader neither
//! repeats a firing nor forgets one.

use std::collections::BTreeMap;
use std::fmt;

use globset::GlobSet;
use time::{Duration, OffsetDateTime};

use crate::model::{
    Backup, DeployOperation, DeployRequest, OperationPhase, Resize, Target, Workflow,
};

/// The kinds of resource a timer can watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TimerResource {
    /// A workflow, by its `state`.
    Workflow,
    /// A deploy request, by its `deployment_state`.
    DeployRequest,
    /// One table's operation of a deploy request or its revert, by its `state`.
    DeployOperation,
    /// A backup of a production branch, by its `state`.
    Backup,
    /// A branch's or keyspace's resize, by its `state`.
    Resize,
}

impl TimerResource {
    /// Every kind, in the order the documentation lists them.
    pub const ALL: [Self; 5] = [
        Self::Workflow,
        Self::DeployRequest,
        Self::DeployOperation,
        Self::Backup,
        Self::Resize,
    ];

    /// Its name in `resources`, e.g. `deploy_request`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Workflow => "workflow",
            Self::DeployRequest => "deploy_request",
            Self::DeployOperation => "deploy_operation",
            Self::Backup => "backup",
            Self::Resize => "resize",
        }
    }

    /// The kind named `name`; `None` for any other name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

impl fmt::Display for TimerResource {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// One `[[timers]]` entry, as the diff uses it.
#[derive(Debug, Clone)]
pub struct Timer {
    /// Its name, unique in the configuration; events carry it.
    pub name: String,
    /// The kinds of resource it watches.
    pub resources: Vec<TimerResource>,
    /// The states it watches (globs).
    pub states: GlobSet,
    /// The databases it watches: globs of `organization/database`, or of a database's name in
    /// any organization; `None`: all.
    pub databases: Option<GlobSet>,
    /// How long a resource stays in a watched state before the first firing.
    pub after: Duration,
    /// How often it fires again while the resource stays; `None`: once.
    pub repeat: Option<Duration>,
    /// From which firing on it is escalated; `None`: never.
    pub escalate_after: Option<u64>,
}

impl Timer {
    /// Whether the timer watches the databases of `target`.
    pub fn watches_database(&self, target: &Target) -> bool {
        self.databases.as_ref().is_none_or(|databases| {
            databases.is_match(&target.database)
                || databases.is_match(format!("{}/{}", target.organization, target.database))
        })
    }

    /// Whether the timer watches a resource of `kind` in `state` (of a database it watches).
    pub fn watches(&self, kind: TimerResource, state: &str) -> bool {
        self.resources.contains(&kind) && self.states.is_match(state)
    }

    /// Which firing is due after `elapsed` in the state: 0 before `after`, 1 from `after`, and
    /// one more every `repeat` after that. A service down across several firing times is due
    /// only the latest of them.
    pub fn due(&self, elapsed: Duration) -> u64 {
        if elapsed < self.after {
            return 0;
        }
        let repeats = match self.repeat {
            Some(every) if every.whole_seconds() > 0 => {
                (elapsed - self.after).whole_seconds() / every.whole_seconds()
            }
            _ => 0,
        };
        u64::try_from(repeats).unwrap_or(0).saturating_add(1)
    }

    /// Whether firing number `firing` is escalated.
    pub fn escalates(&self, firing: u64) -> bool {
        self.escalate_after.is_some_and(|after| firing >= after)
    }
}

/// What timers remember of one resource: its state, since when, and how many times each
/// timer has fired in this stay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimerClock {
    /// The state the resource was last seen in.
    pub state: String,
    /// Since when it has been in it (for a deploy request waiting for its cutover, PlanetScale's
    /// `ready_to_cutover_at` when it gives one).
    pub since: OffsetDateTime,
    /// The latest firing of each timer in this stay, by timer name.
    pub fired: BTreeMap<String, u64>,
}

/// The resource a timer fired for, as the API showed it.
#[derive(Debug, Clone, PartialEq)]
pub enum TimerSubject {
    /// A workflow.
    Workflow(Workflow),
    /// A deploy request.
    DeployRequest(DeployRequest),
    /// An operation of a deploy request or of its revert.
    DeployOperation {
        /// The number of its deploy request.
        deploy_request_number: u64,
        /// `deploy` or `revert`.
        phase: OperationPhase,
        /// The operation.
        operation: DeployOperation,
    },
    /// A backup.
    Backup(Backup),
    /// A resize.
    Resize(Resize),
}
