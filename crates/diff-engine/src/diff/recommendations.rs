//! PlanetScale's schema recommendations: after a baseline at their first reading, one that
//! appears open is `schema_recommendation.opened`, and one that leaves `open` (applied,
//! dismissed, stale) is `schema_recommendation.closed`.

use super::Differ;
use crate::event::EventKind;
use crate::model::{Observation, SeenState, TargetState};
use crate::states::Severity;

impl Differ<'_> {
    pub(super) fn recommendations(
        &mut self,
        previous: &TargetState,
        observation: &Observation,
        next: &mut TargetState,
    ) {
        next.recommendations_read = previous.recommendations_read;
        let Some(recommendations) = &observation.recommendations else {
            next.recommendations = previous.recommendations.clone();
            return;
        };
        next.recommendations_read = true;
        let baseline = !previous.recommendations_read;
        let mut recommendations: Vec<_> = recommendations.iter().collect();
        recommendations.sort_by_key(|recommendation| recommendation.number);
        for recommendation in recommendations {
            let seen = previous.recommendations.get(&recommendation.id);
            let mut events = seen.map_or(self.first_sequence, |seen| seen.events);
            let resource = format!("schema_recommendation/{}", recommendation.id);
            let open = recommendation.state == "open";
            match seen {
                _ if baseline => {}
                None if open => self.emit(
                    &resource,
                    &mut events,
                    Severity::Info,
                    EventKind::SchemaRecommendationOpened {
                        recommendation: recommendation.clone(),
                    },
                ),
                Some(seen) if seen.state == "open" && !open => self.emit(
                    &resource,
                    &mut events,
                    Severity::Info,
                    EventKind::SchemaRecommendationClosed {
                        previous_state: seen.state.clone(),
                        recommendation: recommendation.clone(),
                    },
                ),
                _ => {}
            }
            next.recommendations.insert(
                recommendation.id.clone(),
                SeenState {
                    state: recommendation.state.clone(),
                    events,
                },
            );
        }
        super::keep_unread(
            observation.partial.recommendations,
            &previous.recommendations,
            &mut next.recommendations,
        );
    }
}
