//! `[alerts]` and `[[silences]]`: what is reminded of, and when nothing is delivered.

use std::time::Duration;

use notifier::{Matcher, Silence, Window};
use time::{OffsetDateTime, Weekday};

use super::raw::{RawConfig, RawSilence};
use super::{
    problem, Alerts, Problem, DEFAULT_CUTOVER_REMINDER, DEFAULT_REVERT_WINDOW_WARNING,
    DEFAULT_STALL_AFTER,
};

/// `[alerts]`: each duration `"0s"` (off) or at least a second.
pub(super) fn alerts(raw: &RawConfig, problems: &mut Vec<Problem>) -> Alerts {
    let mut duration = |key: &str, value: Option<Duration>, default: Duration| match value {
        None => Some(default),
        Some(Duration::ZERO) => None,
        Some(value) if value >= Duration::from_secs(1) => Some(value),
        Some(_) => {
            problem(problems, key, "must be \"0s\" (off) or at least \"1s\"");
            Some(default)
        }
    };
    let cutover_reminder = duration(
        "alerts.cutover_reminder",
        raw.alerts.cutover_reminder,
        DEFAULT_CUTOVER_REMINDER,
    );
    let stall_after = duration(
        "alerts.stall_after",
        raw.alerts.stall_after,
        DEFAULT_STALL_AFTER,
    );
    let revert_window_warning = duration(
        "alerts.revert_window_warning",
        raw.alerts.revert_window_warning,
        DEFAULT_REVERT_WINDOW_WARNING,
    );
    Alerts {
        cutover_reminder,
        stall_after,
        revert_window_warning,
    }
}

/// `[[silences]]`: recurring windows, known as `silences[N]`.
pub(super) fn silences(raw: &RawConfig, problems: &mut Vec<Problem>) -> Vec<Silence> {
    raw.silences
        .iter()
        .filter_map(|(index, raw)| silence(&format!("silences[{index}]"), raw, problems))
        .collect()
}

fn silence(key: &str, raw: &RawSilence, problems: &mut Vec<Problem>) -> Option<Silence> {
    let before = problems.len();
    let weekdays = match &raw.weekdays {
        None => ALL_DAYS.to_vec(),
        Some(days) if days.is_empty() => {
            problem(
                problems,
                format!("{key}.weekdays"),
                "is empty; leave it out for every day",
            );
            Vec::new()
        }
        Some(days) => days
            .iter()
            .enumerate()
            .filter_map(|(position, day)| {
                let parsed = weekday(day);
                if parsed.is_none() {
                    problem(
                        problems,
                        format!("{key}.weekdays[{position}]"),
                        format!(
                            "{day:?} is not a weekday: write mon, tue, wed, thu, fri, sat or sun"
                        ),
                    );
                }
                parsed
            })
            .collect(),
    };
    let start = minute_of_day(&format!("{key}.start"), &raw.start, false, problems);
    let end = minute_of_day(&format!("{key}.end"), &raw.end, true, problems);
    let matcher = Matcher {
        organization: raw.organization.clone(),
        database: raw.database.clone(),
        events: raw.events.clone().unwrap_or_default(),
        states: raw.states.clone().unwrap_or_default(),
    };
    if let Err(error) = matcher.validate() {
        problem(problems, key, error.to_string());
    }
    if problems.len() > before {
        return None;
    }
    Some(Silence {
        id: key.to_owned(),
        matcher,
        window: Window::Weekly {
            weekdays,
            start: start?,
            end: end?,
        },
        comment: raw
            .comment
            .clone()
            .filter(|comment| !comment.trim().is_empty())
            .unwrap_or_else(|| format!("configured in {key}")),
        created_at: OffsetDateTime::UNIX_EPOCH,
    })
}

const ALL_DAYS: [Weekday; 7] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
    Weekday::Sunday,
];

fn weekday(text: &str) -> Option<Weekday> {
    let text = text.trim().to_ascii_lowercase();
    ALL_DAYS.into_iter().find(|day| {
        let name = day.to_string().to_ascii_lowercase();
        text == name || (text.len() == 3 && name.starts_with(&text))
    })
}

/// `HH:MM` (UTC) as minutes after midnight; `24:00` only for an end.
fn minute_of_day(key: &str, text: &str, end: bool, problems: &mut Vec<Problem>) -> Option<u16> {
    let parsed = text.trim().split_once(':').and_then(|(hours, minutes)| {
        let hours: u16 = hours.parse().ok()?;
        let minutes: u16 = minutes.parse().ok()?;
        (minutes < 60 && (hours < 24 || (end && hours == 24 && minutes == 0)))
            .then_some(hours * 60 + minutes)
    });
    if parsed.is_none() {
        problem(
            problems,
            key,
            format!("{text:?} is not a time of day: write HH:MM in UTC, e.g. \"22:00\""),
        );
    }
    parsed
}
