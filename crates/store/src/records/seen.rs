//! Resizes and schema recommendations as a state remembers them: a state and an event count.

use std::collections::BTreeMap;

use diff_engine::SeenState;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
pub(super) struct StoredSeenState {
    state: String,
    events: u64,
}

/// Resizes or recommendations by id, as stored.
pub(super) fn stored_states(
    seen: &BTreeMap<String, SeenState>,
) -> BTreeMap<String, StoredSeenState> {
    seen.iter()
        .map(|(id, seen)| {
            (
                id.clone(),
                StoredSeenState {
                    state: seen.state.clone(),
                    events: seen.events,
                },
            )
        })
        .collect()
}

/// Resizes or recommendations by id, as read back.
pub(super) fn seen_states(
    stored: BTreeMap<String, StoredSeenState>,
) -> BTreeMap<String, SeenState> {
    stored
        .into_iter()
        .map(|(id, seen)| {
            (
                id,
                SeenState {
                    state: seen.state,
                    events: seen.events,
                },
            )
        })
        .collect()
}
