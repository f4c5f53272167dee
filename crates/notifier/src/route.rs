//! Routing rules: which channels an event goes to.

use diff_engine::{Event, EventKind};
use globset::GlobSet;

/// One `[[routes]]` entry, compiled.
#[derive(Debug, Clone)]
pub struct Route {
    /// How people know it, e.g. `routes[1]`.
    label: String,
    channels: Vec<String>,
    events: GlobSet,
    states: Option<GlobSet>,
    organizations: Option<GlobSet>,
    databases: Option<GlobSet>,
    /// Only the firings of one `[[timers]]` entry, from a firing number on.
    timer: Option<TimerFilter>,
}

/// A `[[timers]]` entry's own route: its firings (`channels`), or those from its
/// `escalate_after` on (`escalate_to`).
#[derive(Debug, Clone)]
struct TimerFilter {
    name: String,
    from_firing: u64,
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
            label: String::new(),
            channels,
            events,
            states,
            organizations,
            databases,
            timer: None,
        }
    }

    /// The route of the firings of timer `name` from firing `from_firing` on (`timer.fired`)
    /// to `channels`.
    pub fn for_timer(channels: Vec<String>, name: &str, from_firing: u64) -> Self {
        let events = model::glob_set(&["timer.fired".to_owned()])
            .unwrap_or_else(|_| unreachable!("an event type is a glob"));
        Self {
            timer: Some(TimerFilter {
                name: name.to_owned(),
                from_firing,
            }),
            ..Self::new(channels, events, None, None, None)
        }
    }

    /// The route, known to people as `label` (`routes[1]`).
    pub fn labelled(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    /// Whether `event` passes every filter of the route.
    pub fn matches(&self, event: &Event) -> bool {
        let firing = match &event.kind {
            EventKind::TimerFired { timer, firing, .. } => Some((timer.as_str(), *firing)),
            _ => None,
        };
        self.check(&Subject {
            event_type: event.type_name(),
            state: Some(event.kind.state()),
            organization: Some(&event.organization),
            database: Some(&event.database),
            timer: firing.map(|(name, _)| name),
        })
        .is_some()
            && self
                .timer
                .as_ref()
                .is_none_or(|filter| firing.is_some_and(|(_, number)| number >= filter.from_firing))
    }

    /// Whether an event like `subject` passes the route: `None` if a filter refuses it, else
    /// the filters that were not checked because `subject` leaves them open.
    fn check(&self, subject: &Subject<'_>) -> Option<Vec<&'static str>> {
        if !self.events.is_match(subject.event_type) {
            return None;
        }
        let mut unchecked = Vec::new();
        if let Some(filter) = &self.timer {
            match subject.timer {
                Some(name) if name != filter.name => return None,
                Some(_) => {}
                None => unchecked.push("timer"),
            }
        }
        for (name, set, value) in [
            ("states", &self.states, subject.state),
            ("organizations", &self.organizations, subject.organization),
            ("databases", &self.databases, subject.database),
        ] {
            match (set, value) {
                (None, _) => {}
                (Some(set), Some(value)) => {
                    if !set.is_match(value) {
                        return None;
                    }
                }
                (Some(_), None) => unchecked.push(name),
            }
        }
        Some(unchecked)
    }
}

/// What `pswatch route` asks about: an event type, and the state and database when given.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// The event type, e.g. `workflow.state_changed`.
    pub event_type: &'a str,
    /// The state the resource would be in; `None` leaves `states` filters unchecked.
    pub state: Option<&'a str>,
    /// The organization; `None` leaves `organizations` filters unchecked.
    pub organization: Option<&'a str>,
    /// The database; `None` leaves `databases` filters unchecked.
    pub database: Option<&'a str>,
    /// The timer of a `timer.fired`; `None` leaves the timers' own routes unchecked.
    pub timer: Option<&'a str>,
}

/// A channel an event would reach, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    /// The channel.
    pub channel: String,
    /// The routes that select it (`routes[0]`), each with the filters left unchecked.
    pub routes: Vec<(String, Vec<&'static str>)>,
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

    /// The channels an event like `subject` would reach, in the order the routes name them,
    /// each with the routes that select it.
    pub fn explain(&self, subject: &Subject<'_>) -> Vec<Reach> {
        let mut reaches: Vec<Reach> = Vec::new();
        for route in &self.routes {
            let Some(unchecked) = route.check(subject) else {
                continue;
            };
            for channel in &route.channels {
                let why = (route.label.clone(), unchecked.clone());
                match reaches.iter_mut().find(|reach| reach.channel == *channel) {
                    Some(reach) => reach.routes.push(why),
                    None => reaches.push(Reach {
                        channel: channel.clone(),
                        routes: vec![why],
                    }),
                }
            }
        }
        reaches
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
    use model::glob_set;

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

    #[test]
    fn explanations_name_the_routes_and_what_was_not_checked() {
        let router = Router::new(vec![
            Route::new(vec!["all".into()], set(&["*"]), None, None, None).labelled("routes[0]"),
            Route::new(
                vec!["pager".into(), "all".into()],
                set(&["workflow.*"]),
                Some(set(&["error"])),
                None,
                Some(set(&["commerce"])),
            )
            .labelled("routes[1]"),
        ]);
        let subject = |state, database| Subject {
            event_type: "workflow.state_changed",
            state,
            organization: Some("acme"),
            database,
            timer: None,
        };
        let reaches = router.explain(&subject(Some("error"), Some("commerce")));
        assert_eq!(
            reaches,
            [
                Reach {
                    channel: "all".into(),
                    routes: vec![("routes[0]".into(), vec![]), ("routes[1]".into(), vec![])],
                },
                Reach {
                    channel: "pager".into(),
                    routes: vec![("routes[1]".into(), vec![])],
                },
            ]
        );
        assert_eq!(
            router
                .explain(&subject(Some("running"), Some("commerce")))
                .len(),
            1
        );
        let open = router.explain(&subject(None, None));
        assert_eq!(open[1].routes[0].1, ["states", "databases"]);
        let deploy = Subject {
            event_type: "deploy_request.state_changed",
            ..subject(None, None)
        };
        assert_eq!(router.explain(&deploy).len(), 1);
    }
}
