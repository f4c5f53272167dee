//! The state enumerations of PlanetScale's resources.
//!
//! PlanetScale adds states over time (the prose docs already say `complete` where the API says
//! `completed`), so every enumeration here is open: a value this build does not know is kept as
//! `Other(text)` and watched like any other, never a reason to fail a poll.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! open_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($variant,)+
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

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
                Ok(Self::parse(&text))
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
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

impl WorkflowState {
    pub fn severity(&self) -> Severity {
        match self {
            Self::Error => Severity::Critical,
            Self::Cancelled | Self::ReversedCutover => Severity::Warning,
            _ => Severity::Info,
        }
    }

    /// Whether the workflow still moves on its own or waits for a person: everything but its
    /// end states. An errored workflow waits for a retry or a cancel, which a slower poll sees.
    pub fn in_motion(&self) -> bool {
        !matches!(
            self,
            Self::Completed | Self::Cancelled | Self::Error | Self::Other(_)
        )
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Self::Error)
    }
}

impl DeployState {
    pub fn severity(&self) -> Severity {
        match self {
            Self::Error | Self::CompleteError | Self::CompleteRevertError => Severity::Critical,
            Self::Cancelled | Self::CompleteCancel | Self::CompleteRevert => Severity::Warning,
            _ => Severity::Info,
        }
    }

    /// Whether schema changes are being applied, so that per-table operations move and are
    /// worth fetching.
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

    pub fn is_error(&self) -> bool {
        self.severity() == Severity::Critical
    }
}

impl OperationState {
    pub fn severity(&self) -> Severity {
        match self {
            Self::Error => Severity::Critical,
            Self::Cancelled => Severity::Warning,
            _ => Severity::Info,
        }
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Self::Error)
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
        let unknown: WorkflowState = serde_json::from_str("\"teleporting\"").unwrap();
        assert_eq!(unknown, WorkflowState::Other("teleporting".into()));
        assert_eq!(serde_json::to_string(&unknown).unwrap(), "\"teleporting\"");
    }
}
