//! Resizes of production branches (their cluster size, replicas and storage) and of their
//! keyspaces: a change of state of one seen before, or a new one, is an event; the first
//! reading records a baseline. A cancelled one is a warning.

use super::Differ;
use crate::event::EventKind;
use crate::model::{Observation, SeenState, TargetState};
use crate::states::Severity;

impl Differ<'_> {
    pub(super) fn resizes(
        &mut self,
        previous: &TargetState,
        observation: &Observation,
        next: &mut TargetState,
    ) {
        next.resizes_read = previous.resizes_read;
        let Some(resizes) = &observation.resizes else {
            next.resizes = previous.resizes.clone();
            return;
        };
        next.resizes_read = true;
        let baseline = !previous.resizes_read;
        let mut resizes: Vec<_> = resizes.iter().collect();
        resizes.sort_by(|a, b| (&a.started_at, &a.id).cmp(&(&b.started_at, &b.id)));
        for resize in resizes {
            let seen = previous.resizes.get(&resize.id);
            let mut events = seen.map_or(self.first_sequence, |seen| seen.events);
            if seen.is_none_or(|seen| seen.state != resize.state) && !baseline {
                let severity = if resize.state == "canceled" {
                    Severity::Warning
                } else {
                    Severity::Info
                };
                self.emit(
                    &format!("resize/{}", resize.id),
                    &mut events,
                    severity,
                    EventKind::ResizeStateChanged {
                        previous_state: seen.map(|seen| seen.state.clone()),
                        state: resize.state.clone(),
                        resize: resize.clone(),
                    },
                );
            }
            next.resizes.insert(
                resize.id.clone(),
                SeenState {
                    state: resize.state.clone(),
                    events,
                },
            );
        }
        super::keep_unread(
            observation.partial.resizes,
            &previous.resizes,
            &mut next.resizes,
        );
    }
}
