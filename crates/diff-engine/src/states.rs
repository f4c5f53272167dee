//! The state enumerations of PlanetScale's resources.
//!
//! PlanetScale adds states over time (the prose docs already say `complete` where the API says
//! `completed`), so every enumeration here is open: a value this build does not know is kept as
//! `Other(text)` and watched like any other, never a reason to fail a poll.

use std::fmt;

macro_rules! open_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $(#[doc = concat!("`", $text, "`")] $variant,)+
            /// A value this build does not know, kept verbatim.
            Other(String),
        }

        impl $name {
            /// Every value this build knows, in the order PlanetScale documents them.
            pub const KNOWN: &'static [&'static str] = &[$($text,)+];

            /// The value as the API spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $text,)+
                    Self::Other(text) => text,
                }
            }

            /// Reads the API's spelling; an unknown value becomes `Other`.
            pub fn parse(text: &str) -> Self {
                match text {
                    $($text => Self::$variant,)+
                    other => Self::Other(other.to_owned()),
                }
            }

            /// Whether this build knows the value.
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Other(_))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(self.as_str())
            }
        }
    };
}

open_enum! {
    /// `state` of a MoveTables workflow.
    WorkflowState {
        Pending => "pending",
        Copying => "copying",
        Running => "running",
        Stopped => "stopped",
        VerifyingData => "verifying_data",
        VerifiedData => "verified_data",
        SwitchingReplicas => "switching_replicas",
        SwitchedReplicas => "switched_replicas",
        SwitchingPrimaries => "switching_primaries",
        SwitchedPrimaries => "switched_primaries",
        ReversingTraffic => "reversing_traffic",
        ReversingTrafficForCancel => "reversing_traffic_for_cancel",
        CuttingOver => "cutting_over",
        Cutover => "cutover",
        ReversedCutover => "reversed_cutover",
        Completed => "completed",
        Cancelling => "cancelling",
        Cancelled => "cancelled",
        Error => "error",
    }
}

open_enum! {
    /// `deployment_state` of a deploy request.
    DeployState {
        Pending => "pending",
        Ready => "ready",
        NoChanges => "no_changes",
        Queued => "queued",
        Submitting => "submitting",
        InProgress => "in_progress",
        PendingCutover => "pending_cutover",
        InProgressVschema => "in_progress_vschema",
        InProgressCancel => "in_progress_cancel",
        InProgressCutover => "in_progress_cutover",
        Complete => "complete",
        CompleteCancel => "complete_cancel",
        CompleteError => "complete_error",
        CompletePendingRevert => "complete_pending_revert",
        InProgressRevert => "in_progress_revert",
        InProgressRevertVschema => "in_progress_revert_vschema",
        CompleteRevert => "complete_revert",
        CompleteRevertError => "complete_revert_error",
        Cancelled => "cancelled",
        Error => "error",
    }
}

open_enum! {
    /// `state` of one deploy operation (one table's schema change).
    OperationState {
        Pending => "pending",
        Queued => "queued",
        InProgress => "in_progress",
        Complete => "complete",
        Cancelled => "cancelled",
        Error => "error",
    }
}

/// How much a person should care about an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// Good to know: progress.
    Info,
    /// Worth a look: cancelled, reverted, reversed.
    Warning,
    /// Needs a person: an error.
    Critical,
}

impl Severity {
    /// `info`, `warning` or `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// A state PlanetScale added after this build: whether it sounds like a failure decides how
/// loud it is, since a new `…_error` or `failed` state is one nobody should miss.
fn unknown_severity(text: &str) -> Severity {
    let text = text.to_ascii_lowercase();
    if text.contains("error") || text.contains("fail") {
        Severity::Critical
    } else {
        Severity::Info
    }
}

/// How a resource's state bears on how often its database is polled.
///
/// Ordered from the least to the most urgent, so a database takes the `max` of its resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Motion {
    /// Nothing moves: done, cancelled, failed, or nothing at all.
    Idle,
    /// Waits for a person (a cutover to click, a workflow to switch); it can wait for days, so
    /// it is polled at `waiting_interval` and holds no budget reserve.
    Waiting,
    /// Moves on its own and may change any second: polled at `active_interval`.
    Active,
}

impl Motion {
    /// `idle`, `waiting` or `active`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Waiting => "waiting",
            Self::Active => "active",
        }
    }
}

impl fmt::Display for Motion {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// The phases of a workflow's journey, in order: the name tools read and the label people
/// read. [`WorkflowState::phase`] says where a state is on it.
pub const WORKFLOW_PHASES: [(&str, &str); 6] = [
    ("copying", "Copying"),
    ("running", "Running"),
    ("switched_replicas", "Replicas switched"),
    ("switched_primaries", "Primaries switched"),
    ("cutover", "Cut over"),
    ("completed", "Completed"),
];

impl WorkflowState {
    /// Where this state is on the journey, as an index of [`WORKFLOW_PHASES`]: `None` before
    /// copying starts and off the path (cancelled, reversed, in error).
    pub fn phase(&self) -> Option<usize> {
        match self {
            Self::Copying => Some(0),
            Self::Running | Self::VerifyingData | Self::VerifiedData => Some(1),
            Self::SwitchedReplicas => Some(2),
            Self::SwitchedPrimaries => Some(3),
            Self::Cutover => Some(4),
            Self::Completed => Some(5),
            _ => None,
        }
    }

    /// How loud a change into this state is: errors critical; cancelled and reversed cutovers a warning.
    pub fn severity(&self) -> Severity {
        match self {
            Self::Error => Severity::Critical,
            Self::Cancelled | Self::ReversedCutover => Severity::Warning,
            Self::Other(text) => unknown_severity(text),
            _ => Severity::Info,
        }
    }

    /// Whether the workflow moves on its own, waits for a person (PlanetScale's sharding
    /// workflow reference: copy done and replicating, data verified, traffic switched, stopped,
    /// cut over, cutover reversed) or is over. An errored workflow waits for a retry or a
    /// cancel, which the idle interval sees.
    pub fn motion(&self) -> Motion {
        match self {
            Self::Pending
            | Self::Copying
            | Self::VerifyingData
            | Self::SwitchingReplicas
            | Self::SwitchingPrimaries
            | Self::ReversingTraffic
            | Self::ReversingTrafficForCancel
            | Self::CuttingOver
            | Self::Cancelling => Motion::Active,
            Self::Running
            | Self::VerifiedData
            | Self::SwitchedReplicas
            | Self::SwitchedPrimaries
            | Self::Stopped
            | Self::Cutover
            | Self::ReversedCutover => Motion::Waiting,
            Self::Completed | Self::Cancelled | Self::Error | Self::Other(_) => Motion::Idle,
        }
    }

    /// Whether the workflow is over: it cannot change any more.
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Completed | Self::Cancelled)
    }

    /// Whether the state is an error (its severity is critical).
    pub fn is_error(&self) -> bool {
        self.severity() == Severity::Critical
    }
}

impl DeployState {
    /// A deploy request whose state the API did not say (neither `deployment_state` nor
    /// `deployment.state`, or blank): watched, but never reported as a transition.
    pub fn unknown() -> Self {
        Self::Other(String::new())
    }

    /// Whether the API gave no state (see [`DeployState::unknown`]).
    pub fn is_unknown(&self) -> bool {
        matches!(self, Self::Other(text) if text.is_empty())
    }

    /// How loud a change into this state is: errors critical; cancellations and reverts a warning.
    pub fn severity(&self) -> Severity {
        match self {
            Self::Error | Self::CompleteError | Self::CompleteRevertError => Severity::Critical,
            Self::Cancelled | Self::CompleteCancel | Self::CompleteRevert => Severity::Warning,
            Self::Other(text) => unknown_severity(text),
            _ => Severity::Info,
        }
    }

    /// Whether schema changes are being applied, so that per-table operations move.
    pub fn is_deploying(&self) -> bool {
        matches!(
            self,
            Self::Queued
                | Self::Submitting
                | Self::InProgress
                | Self::PendingCutover
                | Self::InProgressVschema
                | Self::InProgressCancel
                | Self::InProgressCutover
                | Self::InProgressRevert
                | Self::InProgressRevertVschema
        )
    }

    /// Whether the deploy moves on its own. A deploy waiting for its cutover moves only when
    /// someone clicks, unless `auto_cutover` is set; when the API did not say, it is taken to
    /// move on its own, so that nothing is polled too slowly.
    pub fn motion(&self, auto_cutover: Option<bool>) -> Motion {
        match self {
            Self::PendingCutover if auto_cutover == Some(false) => Motion::Waiting,
            state if state.is_deploying() => Motion::Active,
            _ => Motion::Idle,
        }
    }

    /// `pending` and `ready` alternate while a deploy request is validated and on every push
    /// to its branch.
    pub fn is_pending_or_ready(&self) -> bool {
        matches!(self, Self::Pending | Self::Ready)
    }

    /// Whether the state is an error (its severity is critical).
    pub fn is_error(&self) -> bool {
        self.severity() == Severity::Critical
    }
}

impl OperationState {
    /// How loud a change into this state is: an error critical; cancelled a warning.
    pub fn severity(&self) -> Severity {
        match self {
            Self::Error => Severity::Critical,
            Self::Cancelled => Severity::Warning,
            Self::Other(text) => unknown_severity(text),
            _ => Severity::Info,
        }
    }

    /// Whether the operation has not started: waiting in the queue, or (a revert operation)
    /// submitted and waiting for someone to revert.
    pub fn not_started(&self) -> bool {
        matches!(self, Self::Pending | Self::Queued)
            || matches!(self, Self::Other(text) if text == "submit")
    }

    /// Whether the state is an error (its severity is critical).
    pub fn is_error(&self) -> bool {
        self.severity() == Severity::Critical
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_round_trip_and_unknown_ones_are_kept() {
        for text in WorkflowState::KNOWN {
            let state = WorkflowState::parse(text);
            assert!(state.is_known(), "{text}");
            assert_eq!(state.as_str(), *text);
        }
        assert_eq!(DeployState::KNOWN.len(), 20);
        assert_eq!(WorkflowState::KNOWN.len(), 19);
        let unknown = WorkflowState::parse("teleporting");
        assert_eq!(unknown, WorkflowState::Other("teleporting".into()));
        assert_eq!(unknown.as_str(), "teleporting");
    }

    #[test]
    fn unknown_states_that_sound_like_failures_are_critical() {
        let cases = [
            ("complete_revert_failed", Severity::Critical),
            ("VALIDATION_ERROR", Severity::Critical),
            ("teleporting", Severity::Info),
        ];
        for (text, expected) in cases {
            assert_eq!(WorkflowState::parse(text).severity(), expected, "{text}");
            assert_eq!(DeployState::parse(text).severity(), expected, "{text}");
            assert_eq!(OperationState::parse(text).severity(), expected, "{text}");
        }
        assert!(WorkflowState::parse("copy_failed").is_error());
    }

    #[test]
    fn states_that_wait_for_a_person_are_waiting() {
        for text in [
            "running",
            "verified_data",
            "switched_replicas",
            "switched_primaries",
            "stopped",
            "cutover",
            "reversed_cutover",
        ] {
            assert_eq!(
                WorkflowState::parse(text).motion(),
                Motion::Waiting,
                "{text}"
            );
        }
        for text in ["pending", "copying", "switching_replicas", "cutting_over"] {
            assert_eq!(
                WorkflowState::parse(text).motion(),
                Motion::Active,
                "{text}"
            );
        }
        for text in ["completed", "cancelled", "error"] {
            assert_eq!(WorkflowState::parse(text).motion(), Motion::Idle, "{text}");
        }
        let pending_cutover = DeployState::PendingCutover;
        assert_eq!(pending_cutover.motion(Some(false)), Motion::Waiting);
        assert_eq!(pending_cutover.motion(Some(true)), Motion::Active);
        assert_eq!(pending_cutover.motion(None), Motion::Active);
        assert_eq!(DeployState::InProgress.motion(Some(false)), Motion::Active);
        assert_eq!(DeployState::Ready.motion(None), Motion::Idle);
    }
}
