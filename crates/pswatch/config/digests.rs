//! `[[digests]]`: when each digest goes out (a time of day on some weekdays in an IANA time
//! zone, daylight saving handled by jiff's bundled time zone database), to which channels, and
//! about which databases; and the instants of its schedule.

use std::collections::BTreeSet;

use globset::GlobSet;
use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::Deserialize;

use super::{problem, Problem};

/// A `[[digests]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDigest {
    name: String,
    channels: Vec<String>,
    at: String,
    days: Option<Vec<String>>,
    timezone: Option<String>,
    databases: Option<Vec<String>>,
    send_empty: Option<bool>,
}

/// One digest, checked.
#[derive(Debug, Clone)]
pub(crate) struct Digest {
    pub(crate) name: String,
    pub(crate) channels: Vec<String>,
    /// The time of day it goes out, in `timezone`.
    pub(crate) at: Time,
    /// The weekdays it goes out on.
    pub(crate) days: BTreeSet<u8>,
    /// The IANA name of its time zone.
    pub(crate) timezone_name: String,
    pub(crate) timezone: TimeZone,
    /// `organization/database` globs (a glob without `/` is a database's name in any
    /// organization); `None` for every watched database.
    pub(crate) databases: Option<GlobSet>,
    /// Whether a period with nothing to say is sent anyway.
    pub(crate) send_empty: bool,
}

const DAYS: [(&str, Weekday); 7] = [
    ("mon", Weekday::Monday),
    ("tue", Weekday::Tuesday),
    ("wed", Weekday::Wednesday),
    ("thu", Weekday::Thursday),
    ("fri", Weekday::Friday),
    ("sat", Weekday::Saturday),
    ("sun", Weekday::Sunday),
];

/// The most days back a schedule looks for its latest instant: a digest on one weekday recurs
/// within a week.
const WEEK: i32 = 7;

impl Digest {
    /// Whether it covers `organization/database`.
    pub(crate) fn covers(&self, organization: &str, database: &str) -> bool {
        self.databases.as_ref().is_none_or(|globs| {
            globs.is_match(format!("{organization}/{database}")) || globs.is_match(database)
        })
    }

    /// The instant of its schedule on `date`, if it goes out that day. A time that daylight
    /// saving skips is taken as the same time after the clocks moved (02:30 becomes 03:30); a
    /// time that happens twice, as the first.
    fn on(&self, date: jiff::civil::Date) -> Option<Timestamp> {
        if !self.days.contains(&(date.weekday() as u8)) {
            return None;
        }
        self.timezone
            .to_ambiguous_zoned_datetime(date.to_datetime(self.at))
            .compatible()
            .ok()
            .map(|zoned| zoned.timestamp())
    }

    /// The latest instant of its schedule at or before `now`.
    pub(crate) fn latest(&self, now: Timestamp) -> Option<Timestamp> {
        self.before(now, true)
    }

    /// The latest instant of its schedule before `at` (or at it, with `inclusive`).
    pub(crate) fn before(&self, at: Timestamp, inclusive: bool) -> Option<Timestamp> {
        let mut date = at.to_zoned_datetime(self.timezone.clone()).date();
        for _ in 0..=WEEK {
            if let Some(instant) = self.on(date) {
                if instant < at || (inclusive && instant == at) {
                    return Some(instant);
                }
            }
            date = date.yesterday().ok()?;
        }
        None
    }

    /// The first instant of its schedule after `now`.
    pub(crate) fn next(&self, now: Timestamp) -> Option<Timestamp> {
        let mut date = now.to_zoned_datetime(self.timezone.clone()).date();
        for _ in 0..=WEEK + 1 {
            if let Some(instant) = self.on(date) {
                if instant > now {
                    return Some(instant);
                }
            }
            date = date.tomorrow().ok()?;
        }
        None
    }
}

/// `"09:00"` or `"09:00:30"`.
fn time_of_day(text: &str) -> Option<Time> {
    let parts: Vec<&str> = text.trim().split(':').collect();
    let number = |text: &str| text.parse::<i8>().ok().filter(|_| text.len() == 2);
    let (hour, minute, second) = match parts.as_slice() {
        [hour, minute] => (number(hour)?, number(minute)?, 0),
        [hour, minute, second] => (number(hour)?, number(minute)?, number(second)?),
        _ => return None,
    };
    Time::new(hour, minute, second, 0).ok()
}

/// A `databases` list of globs (`org/db`, or a database's name in any organization): `None`
/// when it is left out (every database), or not usable (its problem added).
pub(super) fn databases_of(
    key: &str,
    patterns: Option<&[String]>,
    problems: &mut Vec<Problem>,
) -> Option<GlobSet> {
    let patterns = patterns?;
    if patterns.is_empty() {
        problem(problems, key, "is empty; leave it out for every database");
        return None;
    }
    match notifier::glob_set(patterns) {
        Ok(set) => Some(set),
        Err(error) => {
            problem(problems, key, error.to_string());
            None
        }
    }
}

/// The digests of `raw`, with a problem for each wrong key; `channel_names` are the
/// configured channels.
pub(super) fn digests(
    raw: &[(usize, RawDigest)],
    channel_names: &[String],
    problems: &mut Vec<Problem>,
) -> Vec<Digest> {
    let mut names = BTreeSet::new();
    let mut digests = Vec::new();
    for (index, raw) in raw {
        let key = format!("digests[{index}]");
        let before = problems.len();
        let name = raw.name.trim().to_owned();
        if name.is_empty() {
            problem(problems, format!("{key}.name"), "is empty");
        } else if !names.insert(name.clone()) {
            problem(
                problems,
                format!("{key}.name"),
                format!("{name:?} is used by another digest; digest names must be unique"),
            );
        }
        if raw.channels.is_empty() {
            problem(
                problems,
                format!("{key}.channels"),
                "is empty; name the channels this digest goes to",
            );
        }
        for (position, channel) in raw.channels.iter().enumerate() {
            if !channel_names.contains(channel) {
                problem(
                    problems,
                    format!("{key}.channels[{position}]"),
                    format!("{channel:?} is not the name of a channel"),
                );
            }
        }
        let at = time_of_day(&raw.at);
        if at.is_none() {
            problem(
                problems,
                format!("{key}.at"),
                format!(
                    "{:?} is not a time of day; write \"HH:MM\" (24-hour), e.g. \"09:00\"",
                    raw.at
                ),
            );
        }
        let mut days = BTreeSet::new();
        match &raw.days {
            None => days.extend(DAYS.iter().map(|(_, day)| *day as u8)),
            Some(given) if given.is_empty() => problem(
                problems,
                format!("{key}.days"),
                "is empty; leave it out for every day",
            ),
            Some(given) => {
                for (position, day) in given.iter().enumerate() {
                    match DAYS.iter().find(|(name, _)| name.eq_ignore_ascii_case(day.trim())) {
                        Some((_, weekday)) => {
                            days.insert(*weekday as u8);
                        }
                        None => problem(
                            problems,
                            format!("{key}.days[{position}]"),
                            format!("{day:?} is not a day; the days are mon, tue, wed, thu, fri, sat, sun"),
                        ),
                    }
                }
            }
        }
        let timezone_name = raw.timezone.clone().unwrap_or_else(|| "UTC".into());
        let timezone = match TimeZone::get(timezone_name.trim()) {
            Ok(zone) => Some(zone),
            Err(_) => {
                problem(
                    problems,
                    format!("{key}.timezone"),
                    format!("{timezone_name:?} is not an IANA time zone (e.g. \"Europe/Paris\", \"America/New_York\", \"UTC\")"),
                );
                None
            }
        };
        let databases = databases_of(
            &format!("{key}.databases"),
            raw.databases.as_deref(),
            problems,
        );
        if problems.len() > before {
            continue;
        }
        let (Some(at), Some(timezone)) = (at, timezone) else {
            continue;
        };
        digests.push(Digest {
            name,
            channels: raw.channels.clone(),
            at,
            days,
            timezone_name: timezone_name.trim().to_owned(),
            timezone,
            databases,
            send_empty: raw.send_empty.unwrap_or(false),
        });
    }
    digests
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(at: &str, days: Option<&[&str]>, timezone: &str) -> Digest {
        let raw = RawDigest {
            name: "morning".into(),
            channels: vec!["ops".into()],
            at: at.into(),
            days: days.map(|days| days.iter().map(|&day| day.to_owned()).collect()),
            timezone: Some(timezone.into()),
            databases: Some(vec!["acme/*".into(), "billing".into()]),
            send_empty: None,
        };
        let mut problems = Vec::new();
        let mut digests = digests(&[(0, raw)], &["ops".into()], &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        digests.remove(0)
    }

    fn at(text: &str) -> Timestamp {
        text.parse().expect("a timestamp")
    }

    #[test]
    fn the_schedule_follows_the_days_and_the_zone() {
        // Weekdays at 09:00 in Paris (UTC+1 in winter).
        let weekdays = digest(
            "09:00",
            Some(&["mon", "tue", "wed", "thu", "fri"]),
            "Europe/Paris",
        );
        // Tuesday 2026-11-24 10:00 UTC: Tuesday's 09:00 Paris was 08:00 UTC.
        assert_eq!(
            weekdays.latest(at("2026-11-24T10:00:00Z")),
            Some(at("2026-11-24T08:00:00Z"))
        );
        assert_eq!(
            weekdays.latest(at("2026-11-24T08:00:00Z")),
            Some(at("2026-11-24T08:00:00Z"))
        );
        assert_eq!(
            weekdays.before(at("2026-11-24T08:00:00Z"), false),
            Some(at("2026-11-23T08:00:00Z"))
        );
        // On Sunday the latest is Friday's; the next is Monday's.
        assert_eq!(
            weekdays.latest(at("2026-11-29T12:00:00Z")),
            Some(at("2026-11-27T08:00:00Z"))
        );
        assert_eq!(
            weekdays.next(at("2026-11-29T12:00:00Z")),
            Some(at("2026-11-30T08:00:00Z"))
        );
        assert!(weekdays.covers("acme", "commerce"));
        assert!(weekdays.covers("other", "billing"));
        assert!(!weekdays.covers("other", "commerce"));
    }

    #[test]
    fn daylight_saving_moves_the_instant_not_the_time_of_day() {
        let daily = digest("09:00", None, "Europe/Paris");
        // Summer time (UTC+2) from Sunday 2026-03-29: 09:00 Paris is 07:00 UTC.
        assert_eq!(
            daily.latest(at("2026-03-28T12:00:00Z")),
            Some(at("2026-03-28T08:00:00Z"))
        );
        assert_eq!(
            daily.latest(at("2026-03-29T12:00:00Z")),
            Some(at("2026-03-29T07:00:00Z"))
        );
        // 02:30 does not happen on that day in Paris: it is taken as 03:30 summer time.
        let skipped = digest("02:30", None, "Europe/Paris");
        assert_eq!(
            skipped.latest(at("2026-03-29T12:00:00Z")),
            Some(at("2026-03-29T01:30:00Z"))
        );
        // In New York, 01:30 happens twice on 2026-11-01: the first one (EDT, UTC-4) counts.
        let twice = digest("01:30", None, "America/New_York");
        assert_eq!(
            twice.latest(at("2026-11-01T12:00:00Z")),
            Some(at("2026-11-01T05:30:00Z"))
        );
    }

    #[test]
    fn wrong_keys_are_named() {
        let raw = RawDigest {
            name: "".into(),
            channels: vec!["nope".into()],
            at: "9am".into(),
            days: Some(vec!["monday".into()]),
            timezone: Some("Mars/Olympus".into()),
            databases: Some(vec!["[".into()]),
            send_empty: None,
        };
        let mut problems = Vec::new();
        assert!(digests(&[(0, raw)], &["ops".into()], &mut problems).is_empty());
        let keys: Vec<&str> = problems
            .iter()
            .map(|problem| problem.key.as_str())
            .collect();
        assert_eq!(
            keys,
            [
                "digests[0].name",
                "digests[0].channels[0]",
                "digests[0].at",
                "digests[0].days[0]",
                "digests[0].timezone",
                "digests[0].databases"
            ]
        );
        assert!(time_of_day("09:00:30").is_some() && time_of_day("24:00").is_none());
    }
}
