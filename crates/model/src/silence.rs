//! Silences: for a while, or in a recurring window, matching events are not delivered. A
//! silenced event still advances the state and is recorded; it is never sent later.

use std::fmt;

use diff_engine::{Event, EVENT_TYPES};
use globset::Glob;
use time::{Duration, OffsetDateTime, Weekday};

use crate::glob::GlobError;
use crate::rfc3339::rfc3339;

/// A silence: which events (every matcher given must match), when, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Silence {
    /// `sil_…` for one added through the CLI or the admin API; `silences[N]` for one of the
    /// configuration.
    pub id: String,
    /// Which events.
    pub matcher: Matcher,
    /// When.
    pub window: Window,
    /// Why, in the words of whoever added it.
    pub comment: String,
    /// When it was added.
    pub created_at: OffsetDateTime,
}

/// Which events a silence holds back. Globs; `None` or empty lists match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Matcher {
    /// The organization, e.g. `acme` or `acme-*`.
    pub organization: Option<String>,
    /// `organization/database`, e.g. `acme/commerce` or `acme/*`.
    pub database: Option<String>,
    /// Event types, e.g. `deploy_request.*`.
    pub events: Vec<String>,
    /// States the resource is in, e.g. `pending_cutover`.
    pub states: Vec<String>,
}

/// When a silence holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Window {
    /// From `starts_at` until `ends_at`.
    Between {
        /// When it starts.
        starts_at: OffsetDateTime,
        /// When it ends.
        ends_at: OffsetDateTime,
    },
    /// Every week, on `weekdays`, from `start` to `end` (minutes after midnight UTC; an `end`
    /// at or before `start` ends the next day).
    Weekly {
        /// The days the window starts on.
        weekdays: Vec<Weekday>,
        /// Minutes after midnight UTC, 0..1440.
        start: u16,
        /// Minutes after midnight UTC, 0..=1440.
        end: u16,
    },
}

/// Why a silence cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SilenceError {
    /// A glob does not compile.
    #[error("{field}: {error}")]
    Glob {
        /// `database`, `events`, …
        field: &'static str,
        /// What is wrong.
        error: GlobError,
    },
    /// An event glob that matches no event type.
    #[error("events: {0:?} matches no event type; the types are {types}", types = EVENT_TYPES.join(", "))]
    NoSuchEvent(String),
    /// No matcher at all.
    #[error("give at least one of organization, database, events or states (organization \"*\" silences everything)")]
    MatchesAll,
    /// No comment.
    #[error("comment: say why (who, which change), so others know whether it can go")]
    NoComment,
    /// A window that is over before it starts.
    #[error("the silence would end ({ends}) before it starts ({starts})")]
    EndsBeforeStart {
        /// RFC 3339.
        starts: String,
        /// RFC 3339.
        ends: String,
    },
}

impl Matcher {
    /// Checks every glob, so that a silence that cannot match is refused when it is made.
    pub fn validate(&self) -> Result<(), SilenceError> {
        if self.organization.is_none()
            && self.database.is_none()
            && self.events.is_empty()
            && self.states.is_empty()
        {
            return Err(SilenceError::MatchesAll);
        }
        let compile = |field: &'static str, pattern: &str| {
            glob(pattern).map_err(|error| SilenceError::Glob { field, error })
        };
        if let Some(pattern) = &self.organization {
            compile("organization", pattern)?;
        }
        if let Some(pattern) = &self.database {
            compile("database", pattern)?;
        }
        for pattern in &self.events {
            let glob = compile("events", pattern)?;
            if !EVENT_TYPES.iter().any(|known| glob.is_match(known)) {
                return Err(SilenceError::NoSuchEvent(pattern.clone()));
            }
        }
        for pattern in &self.states {
            compile("states", pattern)?;
        }
        Ok(())
    }

    /// Whether `event` matches every matcher given.
    pub fn matches(&self, event: &Event) -> bool {
        let one = |pattern: &Option<String>, value: &str| {
            pattern
                .as_deref()
                .is_none_or(|pattern| glob(pattern).is_ok_and(|glob| glob.is_match(value)))
        };
        let any = |patterns: &[String], value: &str| {
            patterns.is_empty()
                || patterns
                    .iter()
                    .any(|pattern| glob(pattern).is_ok_and(|glob| glob.is_match(value)))
        };
        one(&self.organization, &event.organization)
            && one(
                &self.database,
                &format!("{}/{}", event.organization, event.database),
            )
            && any(&self.events, event.type_name())
            && any(&self.states, event.kind.state())
    }
}

fn glob(pattern: &str) -> Result<globset::GlobMatcher, GlobError> {
    Glob::new(pattern)
        .map(|glob| glob.compile_matcher())
        .map_err(|error| GlobError {
            pattern: pattern.to_owned(),
            message: error.kind().to_string(),
        })
}

impl Silence {
    /// A silence from `starts_at` to `ends_at`, checked.
    pub fn between(
        id: String,
        matcher: Matcher,
        starts_at: OffsetDateTime,
        ends_at: OffsetDateTime,
        comment: String,
        created_at: OffsetDateTime,
    ) -> Result<Self, SilenceError> {
        matcher.validate()?;
        if comment.trim().is_empty() {
            return Err(SilenceError::NoComment);
        }
        if ends_at <= starts_at {
            return Err(SilenceError::EndsBeforeStart {
                starts: rfc3339(starts_at),
                ends: rfc3339(ends_at),
            });
        }
        Ok(Self {
            id,
            matcher,
            window: Window::Between { starts_at, ends_at },
            comment: comment.trim().to_owned(),
            created_at,
        })
    }

    /// Whether it holds at `now`.
    pub fn is_active(&self, now: OffsetDateTime) -> bool {
        self.active_until(now).is_some()
    }

    /// When the window it is in at `now` ends; `None` when it does not hold at `now`.
    pub fn active_until(&self, now: OffsetDateTime) -> Option<OffsetDateTime> {
        match &self.window {
            Window::Between { starts_at, ends_at } => {
                (*starts_at <= now && now < *ends_at).then_some(*ends_at)
            }
            Window::Weekly {
                weekdays,
                start,
                end,
            } => {
                let now = now.to_offset(time::UtcOffset::UTC);
                let midnight = now.replace_time(time::Time::MIDNIGHT);
                let minute = i64::from(now.hour()) * 60 + i64::from(now.minute());
                let (start, end) = (i64::from(*start), i64::from(*end));
                let length = if end > start {
                    end - start
                } else {
                    end + 1440 - start
                };
                // The window that started today, or the one that started yesterday and runs
                // past midnight.
                [(0, minute), (1, minute + 1440)]
                    .into_iter()
                    .find(|(days_back, minute)| {
                        let day = (midnight - Duration::days(*days_back)).weekday();
                        weekdays.contains(&day) && start <= *minute && *minute < start + length
                    })
                    .map(|(days_back, _)| {
                        midnight - Duration::days(days_back) + Duration::minutes(start + length)
                    })
            }
        }
    }

    /// Whether it is over for good (a window that ended); a weekly one never is.
    pub fn is_over(&self, now: OffsetDateTime) -> bool {
        matches!(self.window, Window::Between { ends_at, .. } if ends_at <= now)
    }

    /// Whether it holds at `now` for `event`.
    pub fn holds(&self, event: &Event, now: OffsetDateTime) -> bool {
        self.is_active(now) && self.matcher.matches(event)
    }
}

/// The first of `silences` that holds back `event` at `now`.
pub fn silenced_by<'a>(
    silences: &'a [Silence],
    event: &Event,
    now: OffsetDateTime,
) -> Option<&'a Silence> {
    silences.iter().find(|silence| silence.holds(event, now))
}

impl fmt::Display for Matcher {
    /// `organization=acme database=acme/commerce events=deploy_request.* states=…`.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(organization) = &self.organization {
            parts.push(format!("organization={organization}"));
        }
        if let Some(database) = &self.database {
            parts.push(format!("database={database}"));
        }
        if !self.events.is_empty() {
            parts.push(format!("events={}", self.events.join(",")));
        }
        if !self.states.is_empty() {
            parts.push(format!("states={}", self.states.join(",")));
        }
        formatter.write_str(&parts.join(" "))
    }
}

impl fmt::Display for Window {
    /// `2026-11-24T18:00:00Z..2026-11-24T20:00:00Z` or `weekly Sat,Sun 22:00-06:00 UTC`.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Between { starts_at, ends_at } => {
                write!(formatter, "{}..{}", rfc3339(*starts_at), rfc3339(*ends_at))
            }
            Self::Weekly {
                weekdays,
                start,
                end,
            } => {
                let days: Vec<String> = weekdays
                    .iter()
                    .map(|day| day.to_string()[..3].to_owned())
                    .collect();
                write!(
                    formatter,
                    "weekly {} {:02}:{:02}-{:02}:{:02} UTC",
                    days.join(","),
                    start / 60,
                    start % 60,
                    end / 60,
                    end % 60
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn event(database: &str, kind: diff_engine::EventKind) -> Event {
        Event {
            id: "evt_1".into(),
            kind,
            organization: "acme".into(),
            database: database.into(),
            severity: diff_engine::Severity::Info,
            observed_at: datetime!(2026-11-24 12:00 UTC),
        }
    }

    fn cutover(database: &str) -> Event {
        event(
            database,
            diff_engine::EventKind::DeployRequestCutoverExpiring {
                deploy_request: diff_engine::DeployRequest {
                    number: 7,
                    deployment_state: diff_engine::DeployState::PendingCutover,
                    ..diff_engine::DeployRequest::default()
                },
            },
        )
    }

    #[test]
    fn a_silence_matches_every_matcher_it_has_and_holds_only_in_its_window() {
        let matcher = Matcher {
            database: Some("acme/comm*".into()),
            events: vec!["deploy_request.*".into()],
            states: vec!["pending_cutover".into()],
            ..Matcher::default()
        };
        let silence = Silence::between(
            "sil_1".into(),
            matcher,
            datetime!(2026-11-24 11:00 UTC),
            datetime!(2026-11-24 13:00 UTC),
            "planned cutover".into(),
            datetime!(2026-11-24 11:00 UTC),
        )
        .expect("valid");
        let now = datetime!(2026-11-24 12:00 UTC);
        assert!(silence.holds(&cutover("commerce"), now));
        assert!(!silence.holds(&cutover("billing"), now));
        assert!(!silence.holds(&cutover("commerce"), datetime!(2026-11-24 13:00 UTC)));
        assert!(!silence.holds(&cutover("commerce"), datetime!(2026-11-24 10:59 UTC)));
        assert!(silence.is_over(datetime!(2026-11-24 13:00 UTC)));
        assert_eq!(
            silence.matcher.to_string(),
            "database=acme/comm* events=deploy_request.* states=pending_cutover"
        );
    }

    #[test]
    fn silences_that_cannot_work_are_refused_with_the_reason() {
        let at = datetime!(2026-11-24 12:00 UTC);
        let make = |matcher: Matcher, comment: &str, ends: OffsetDateTime| {
            Silence::between("s".into(), matcher, at, ends, comment.into(), at)
        };
        let database = Matcher {
            database: Some("acme/*".into()),
            ..Matcher::default()
        };
        let later = at + Duration::hours(1);
        assert_eq!(
            make(Matcher::default(), "x", later),
            Err(SilenceError::MatchesAll)
        );
        assert_eq!(
            make(database.clone(), " ", later),
            Err(SilenceError::NoComment)
        );
        assert!(matches!(
            make(database.clone(), "x", at),
            Err(SilenceError::EndsBeforeStart { .. })
        ));
        let typo = Matcher {
            events: vec!["deploy_requests.*".into()],
            ..Matcher::default()
        };
        assert_eq!(
            make(typo, "x", later),
            Err(SilenceError::NoSuchEvent("deploy_requests.*".into()))
        );
        let broken = Matcher {
            database: Some("acme/[".into()),
            ..Matcher::default()
        };
        assert!(matches!(
            make(broken, "x", later),
            Err(SilenceError::Glob {
                field: "database",
                ..
            })
        ));
    }

    #[test]
    fn a_weekly_window_holds_on_its_days_and_may_run_past_midnight() {
        let silence = |start: u16, end: u16| Silence {
            id: "silences[0]".into(),
            matcher: Matcher {
                organization: Some("*".into()),
                ..Matcher::default()
            },
            window: Window::Weekly {
                // 2026-11-28 is a Saturday.
                weekdays: vec![Weekday::Saturday],
                start,
                end,
            },
            comment: "weekend maintenance".into(),
            created_at: datetime!(2026-11-01 0:00 UTC),
        };
        let night = silence(22 * 60, 6 * 60);
        assert!(!night.is_active(datetime!(2026-11-28 21:59 UTC)));
        assert_eq!(
            night.active_until(datetime!(2026-11-28 22:00 UTC)),
            Some(datetime!(2026-11-29 06:00 UTC))
        );
        assert!(
            night.is_active(datetime!(2026-11-29 05:59 UTC)),
            "Sunday morning"
        );
        assert!(!night.is_active(datetime!(2026-11-29 06:00 UTC)));
        assert!(
            !night.is_active(datetime!(2026-11-29 23:00 UTC)),
            "Sunday night"
        );
        let day = silence(9 * 60, 17 * 60);
        assert!(day.is_active(datetime!(2026-11-28 09:00 UTC)));
        assert!(!day.is_active(datetime!(2026-11-28 17:00 UTC)));
        assert!(!day.is_active(datetime!(2026-11-27 12:00 UTC)), "a Friday");
        assert!(!day.is_over(datetime!(2030-01-01 0:00 UTC)));
        let whole = silence(0, 1440);
        assert!(whole.is_active(datetime!(2026-11-28 23:59 UTC)));
        assert!(!whole.is_active(datetime!(2026-11-29 00:00 UTC)));
        assert_eq!(night.window.to_string(), "weekly Sat 22:00-06:00 UTC");
    }
}
