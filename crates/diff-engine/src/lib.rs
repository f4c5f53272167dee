//! pswatch's pure core: the domain types and the diff.
//!
//! [`diff()`]`(target, previous, observation, now, options)` turns what a poll of `target` saw
//! into the next state to remember and the events to deliver ([`Diff`]), given the state
//! remembered (`None` the first time: a baseline, no events) and the [`DiffOptions`] of the
//! configuration. Nothing here does I/O, reads a clock or fails: the time is passed in,
//! and odd data comes back as [`Anomaly`] values beside the result.

mod diff;
mod digest;
mod event;
mod model;
mod plan;
mod states;
mod timer;

pub use diff::{diff, Anomaly, Diff, DiffOptions};
pub use digest::{DatabaseDigest, Digest, DigestItem};
pub use event::{storage_percentage, Event, EventKind, PlanetScaleEvent, EVENT_TYPES};
pub use model::{
    Backup, DeployOperation, DeployRequest, LintError, MaintenanceSchedule, Observation,
    ObservedDeployRequest, OperationPhase, Partial, Progress, Resize, SchemaRecommendation,
    SeenBackup, SeenDeployRequest, SeenMaintenance, SeenOperation, SeenState, SeenWorkflow, Target,
    TargetState, Unreadable, Waiting, Workflow, WorkflowTimes,
};
pub use plan::needs_operations;
pub use states::{DeployState, Motion, OperationState, Severity, WorkflowState, WORKFLOW_PHASES};
pub use timer::{Timer, TimerClock, TimerResource, TimerSubject};

#[cfg(any(test, feature = "testing"))]
pub mod testing;
#[cfg(test)]
mod tests;
