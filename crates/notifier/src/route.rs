//! Routing rules: which channels an event goes to.

use diff_engine::Event;
use globset::{Glob, GlobSet, GlobSetBuilder};

/// One `[[routes]]` entry, compiled.
#[derive(Debug, Clone)]
pub struct Route {
    channels: Vec<String>,
    events: GlobSet,
    states: Option<GlobSet>,
    organizations: Option<GlobSet>,
    databases: Option<GlobSet>,
}

/// A glob that does not compile; names the pattern.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{pattern:?} is not a valid glob: {message}")]
pub struct GlobError {
    /// The pattern.
    pub pattern: String,
    /// What is wrong with it.
    pub message: String,
}

/// Compiles a list of globs into one matcher.
pub fn glob_set(patterns: &[String]) -> Result<GlobSet, GlobError> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        let glob = Glob::new(pattern).map_err(|error| GlobError {
            pattern: pattern.clone(),
            message: error.kind().to_string(),
        })?;
        builder.add(glob);
    }
    builder.build().map_err(|error| GlobError {
        pattern: patterns.join(", "),
        message: error.to_string(),
    })
}

impl Route {
    /// A route to `channels` for events whose type matches one of `events`. The optional
    /// filters, when given, must each match too.
    pub fn new(
        channels: Vec<String>,
        events: GlobSet,
        states: Option<GlobSet>,
        organizations: Option<GlobSet>,
        databases: Option<GlobSet>,
    ) -> Self {
        Self {
            channels,
            events,
            states,
            organizations,
            databases,
        }
    }

    /// Whether `event` passes every filter of the route.
    pub fn matches(&self, event: &Event) -> bool {
        let optional =
            |set: &Option<GlobSet>, value: &str| set.as_ref().is_none_or(|set| set.is_match(value));
        self.events.is_match(event.type_name())
            && optional(&self.states, event.kind.state())
            && optional(&self.organizations, &event.organization)
            && optional(&self.databases, &event.database)
    }
}

/// All routes; an event goes to the union of the channels of the routes it matches.
#[derive(Debug, Clone, Default)]
pub struct Router {
    routes: Vec<Route>,
}

impl Router {
    /// A router over `routes`, in order.
    pub fn new(routes: Vec<Route>) -> Self {
        Self { routes }
    }

    /// Adds a route after the others.
    pub fn push(&mut self, route: Route) {
        self.routes.push(route);
    }

    /// The channels `event` goes to, each once, in the order the routes name them.
    pub fn channels_for(&self, event: &Event) -> Vec<String> {
        let mut channels: Vec<String> = Vec::new();
        for route in self.routes.iter().filter(|route| route.matches(event)) {
            for channel in &route.channels {
                if !channels.contains(channel) {
                    channels.push(channel.clone());
                }
            }
        }
        channels
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::sample_events;

    fn set(patterns: &[&str]) -> GlobSet {
        glob_set(&patterns.iter().map(|p| p.to_string()).collect::<Vec<_>>()).expect("glob")
    }

    #[test]
    fn routes_select_by_type_state_organization_and_database() {
        let router = Router::new(vec![
            Route::new(
                vec!["slack".into(), "audit".into()],
                set(&["*"]),
                None,
                None,
                None,
            ),
            Route::new(
                vec!["mail".into(), "slack".into()],
                set(&["workflow.*"]),
                Some(set(&["cutover", "completed", "error"])),
                Some(set(&["acme"])),
                Some(set(&["comm*"])),
            ),
        ]);
        let events = sample_events();
        let routed: Vec<(String, Vec<String>)> = events
            .iter()
            .map(|event| {
                (
                    format!("{} {}", event.type_name(), event.kind.state()),
                    router.channels_for(event),
                )
            })
            .collect();
        insta::assert_debug_snapshot!(routed);
    }

    #[test]
    fn a_bad_glob_names_itself() {
        let error = glob_set(&["workflow.[".to_string()]).expect_err("bad");
        assert!(error.to_string().contains("\"workflow.[\""), "{error}");
    }
}
