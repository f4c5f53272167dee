//! `[[timers]]`: how long a resource may stay in a state before `timer.fired`, how often it
//! fires again, when it escalates and to which channels.

use std::collections::BTreeSet;
use std::time::Duration;

use diff_engine::TimerResource;
use notifier::Route;
use serde::Deserialize;

use super::{problem, Problem};

/// A `[[timers]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTimer {
    name: String,
    resources: Vec<String>,
    states: Vec<String>,
    databases: Option<Vec<String>>,
    #[serde(with = "humantime_serde")]
    after: Duration,
    #[serde(default, with = "humantime_serde")]
    repeat: Option<Duration>,
    escalate_after: Option<i64>,
    escalate_to: Option<Vec<String>>,
    channels: Option<Vec<String>>,
}

/// The shortest `after` and `repeat`: a timer fires at the first poll after its time, so less
/// would say nothing more.
const SHORTEST: Duration = Duration::from_secs(1);

/// The longest `after` and `repeat`: a year.
const LONGEST: Duration = Duration::from_secs(366 * 24 * 3600);

/// The timers of `raw`, and the routes of those that name their own channels, with a problem
/// for each wrong key; `channel_names` are the configured channels.
pub(super) fn timers(
    raw: &[(usize, RawTimer)],
    channel_names: &[String],
    problems: &mut Vec<Problem>,
) -> (Vec<diff_engine::Timer>, Vec<Route>) {
    let mut names = BTreeSet::new();
    let mut timers = Vec::new();
    let mut routes = Vec::new();
    for (index, raw) in raw {
        let key = format!("timers[{index}]");
        let before = problems.len();
        let name = raw.name.trim().to_owned();
        if name.is_empty() {
            problem(problems, format!("{key}.name"), "is empty");
        } else if name.chars().any(|c| c.is_control() || c == '/' || c == '|') {
            problem(
                problems,
                format!("{key}.name"),
                format!("{name:?} has a control character, '/' or '|'; name it with letters, digits, '-' and '_'"),
            );
        } else if !names.insert(name.clone()) {
            problem(
                problems,
                format!("{key}.name"),
                format!("{name:?} is used by another timer; timer names must be unique"),
            );
        }
        let mut resources = Vec::new();
        if raw.resources.is_empty() {
            problem(
                problems,
                format!("{key}.resources"),
                "is empty; name what the timer watches",
            );
        }
        for (position, resource) in raw.resources.iter().enumerate() {
            match TimerResource::parse(resource.trim()) {
                Some(kind) if !resources.contains(&kind) => resources.push(kind),
                Some(_) => {}
                None => problem(
                    problems,
                    format!("{key}.resources[{position}]"),
                    format!(
                        "{resource:?} is not a kind of resource a timer watches; they are {}",
                        TimerResource::ALL.map(TimerResource::as_str).join(", ")
                    ),
                ),
            }
        }
        let states = if raw.states.is_empty() {
            problem(
                problems,
                format!("{key}.states"),
                "is empty; name the states (globs) the timer watches",
            );
            None
        } else {
            globs(&format!("{key}.states"), &raw.states, problems)
        };
        let databases = super::digests::databases_of(
            &format!("{key}.databases"),
            raw.databases.as_deref(),
            problems,
        );
        let after = duration(&format!("{key}.after"), raw.after, problems);
        let repeat = raw
            .repeat
            .and_then(|repeat| duration(&format!("{key}.repeat"), repeat, problems));
        let escalate_after = match raw.escalate_after {
            None => None,
            Some(count) if (1..=10_000).contains(&count) => Some(count as u64),
            Some(count) => {
                problem(
                    problems,
                    format!("{key}.escalate_after"),
                    format!("is {count}; give the firing from which it escalates, from 1 to 10000"),
                );
                None
            }
        };
        if raw.escalate_after.is_some() && raw.repeat.is_none() && escalate_after > Some(1) {
            problem(
                problems,
                format!("{key}.escalate_after"),
                "is more than 1, but without repeat the timer fires once: set repeat, or escalate_after = 1",
            );
        }
        match (&raw.escalate_after, &raw.escalate_to) {
            (Some(_), None) => problem(
                problems,
                format!("{key}.escalate_to"),
                "is missing: escalate_after needs the channels the escalation goes to",
            ),
            (None, Some(_)) => problem(
                problems,
                format!("{key}.escalate_after"),
                "is missing: escalate_to needs the firing from which to escalate",
            ),
            _ => {}
        }
        for (field, channels) in [
            ("channels", &raw.channels),
            ("escalate_to", &raw.escalate_to),
        ] {
            let Some(channels) = channels else {
                continue;
            };
            if channels.is_empty() {
                problem(
                    problems,
                    format!("{key}.{field}"),
                    "is empty; name channels, or leave it out",
                );
            }
            for (position, channel) in channels.iter().enumerate() {
                if !channel_names.contains(channel) {
                    problem(
                        problems,
                        format!("{key}.{field}[{position}]"),
                        format!("{channel:?} is not the name of a channel"),
                    );
                }
            }
        }
        if problems.len() > before {
            continue;
        }
        let (Some(states), Some(after)) = (states, after) else {
            continue;
        };
        if let Some(channels) = &raw.channels {
            routes.push(Route::for_timer(channels.clone(), &name, 1).labelled(key.clone()));
        }
        if let (Some(channels), Some(from)) = (&raw.escalate_to, escalate_after) {
            routes.push(
                Route::for_timer(channels.clone(), &name, from)
                    .labelled(format!("{key}.escalate_to (from firing {from})")),
            );
        }
        timers.push(diff_engine::Timer {
            name,
            resources,
            states,
            databases,
            after,
            repeat,
            escalate_after,
        });
    }
    (timers, routes)
}

fn globs(key: &str, patterns: &[String], problems: &mut Vec<Problem>) -> Option<globset::GlobSet> {
    match notifier::glob_set(patterns) {
        Ok(set) => Some(set),
        Err(error) => {
            problem(problems, key, error.to_string());
            None
        }
    }
}

/// A timer's `after` or `repeat`, from a second to a year.
fn duration(key: &str, value: Duration, problems: &mut Vec<Problem>) -> Option<time::Duration> {
    if !(SHORTEST..=LONGEST).contains(&value) {
        problem(
            problems,
            key,
            format!(
                "is {}; give a duration from 1s to 366d",
                humantime::format_duration(value)
            ),
        );
        return None;
    }
    time::Duration::try_from(value).ok()
}
