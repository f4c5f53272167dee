//! The `[[channels]]` of a file checked into typed channels. Each kind's keys, and how they
//! are checked, are in its own module; the list below is the one place that names them all
//! (with notifier's list in `notifier::kinds`).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use notifier::{Channel, ChannelKind, ChannelTemplates, Templates};
use serde::Deserialize;

use super::{problem, Problem, MIN_INTERVAL};

mod alertmanager;
mod console;
mod discord;
mod email;
mod github;
mod google_chat;
mod pagerduty;
mod slack;
mod teams;
mod webhook;

/// A kind's keys, as read from its `[[channels]]` table.
trait CheckKind {
    /// The notifier's configured values of the kind.
    type Kind: Into<ChannelKind>;

    /// Checks the keys of the channel `name` (at `key`, like `channels[2]`), adding a problem
    /// for each that is wrong.
    fn check(&self, key: &str, name: &str, problems: &mut Vec<Problem>) -> Option<Self::Kind>;
}

/// A `[[channels]]` table: what every channel has, and its kind's own keys.
#[derive(Debug, Deserialize)]
pub(in crate::config) struct RawChannel {
    pub(in crate::config) name: String,
    #[serde(default, with = "humantime_serde")]
    pub(in crate::config) max_age: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    pub(in crate::config) min_interval: Option<Duration>,
    pub(in crate::config) retry_schedule: Option<Vec<humantime_serde::Serde<Duration>>>,
    /// The `[[templates]]` it uses, by name, first match first.
    pub(in crate::config) templates: Option<Vec<String>>,
    #[serde(flatten)]
    pub(in crate::config) kind: RawChannelKind,
}

/// Writes [`RawChannelKind`], read by a channel's `type`, from the list of kinds.
macro_rules! channel_kinds {
    ($( $variant:ident($raw:ty) = $type:literal, )*) => {
        /// A channel's own keys, by its `type`. Keys of another type are refused.
        #[derive(Debug, Deserialize)]
        #[serde(tag = "type")]
        pub(in crate::config) enum RawChannelKind {
            $( #[serde(rename = $type)] $variant($raw), )*
        }

        impl RawChannelKind {
            #[cfg(test)]
            const TYPES: &'static [&'static str] = &[$( $type, )*];

            fn check(&self, key: &str, name: &str, problems: &mut Vec<Problem>) -> Option<ChannelKind> {
                match self {
                    $( Self::$variant(raw) => raw.check(key, name, problems).map(Into::into), )*
                }
            }
        }
    };
}

channel_kinds! {
    Slack(slack::RawSlack) = "slack",
    Email(email::RawEmail) = "email",
    Webhook(webhook::RawWebhook) = "webhook",
    Teams(teams::RawTeams) = "teams",
    PagerDuty(pagerduty::RawPagerDuty) = "pagerduty",
    Console(console::RawConsole) = "console",
    Discord(discord::RawDiscord) = "discord",
    GoogleChat(google_chat::RawGoogleChat) = "google_chat",
    GitHub(github::RawGitHub) = "github",
    Alertmanager(alertmanager::RawAlertmanager) = "alertmanager",
}

pub(super) fn channels(
    raw: &[(usize, RawChannel)],
    templates: &Arc<Templates>,
    problems: &mut Vec<Problem>,
) -> Vec<Channel> {
    let mut channels = Vec::new();
    let mut names = BTreeSet::new();
    for (index, raw) in raw {
        let key = format!("channels[{index}]");
        let name = raw.name.clone();
        if name.trim().is_empty() {
            problem(problems, format!("{key}.name"), "is empty");
            continue;
        }
        if !names.insert(name.clone()) {
            problem(
                problems,
                format!("{key}.name"),
                format!("{name:?} is used by another channel; channel names must be unique"),
            );
        }
        let Some(kind) = raw.kind.check(&key, &name, problems) else {
            continue;
        };
        let mut channel = Channel::new(name, kind);
        match raw.max_age {
            Some(max_age) if max_age < Duration::from_secs(1) => {
                problem(problems, format!("{key}.max_age"), "must be at least 1s")
            }
            Some(max_age) => channel.retry.max_age = max_age,
            None => {}
        }
        if let Some(schedule) = &raw.retry_schedule {
            if schedule.is_empty() {
                problem(
                    problems,
                    format!("{key}.retry_schedule"),
                    "is empty; omit it for the default schedule",
                );
            }
            let mut delays = Vec::new();
            for (position, delay) in schedule.iter().enumerate() {
                if **delay >= MIN_INTERVAL {
                    delays.push(**delay);
                } else {
                    problem(
                        problems,
                        format!("{key}.retry_schedule[{position}]"),
                        "must be at least 10ms",
                    );
                }
            }
            if !delays.is_empty() {
                channel.retry.schedule = delays;
            }
        }
        if let Some(min_interval) = raw.min_interval {
            channel.min_interval = min_interval;
        }
        if let Some(names) = &raw.templates {
            for (position, name) in names.iter().enumerate() {
                if !templates.names().any(|known| known == name) {
                    problem(
                        problems,
                        format!("{key}.templates[{position}]"),
                        format!("{name:?} is not the name of a template ([[templates]])"),
                    );
                }
            }
            channel.templates = ChannelTemplates::new(Arc::clone(templates), names);
        }
        channels.push(channel);
    }
    channels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configuration_knows_every_kind_the_notifier_has() {
        assert_eq!(RawChannelKind::TYPES, ChannelKind::TYPES);
    }
}
