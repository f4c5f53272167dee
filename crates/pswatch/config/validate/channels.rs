//! The `[[channels]]` of a file checked into typed channels: each kind's keys, its secrets
//! and its addresses.

use std::collections::BTreeSet;
use std::time::Duration;

use notifier::{
    Channel, ChannelKind, EmailChannel, Mailbox, PagerDutyChannel, Secret, SecretUrl, SlackApi,
    SlackChannel, WebhookSecret,
};

use super::super::raw::{RawChannel, RawChannelKind};
use super::super::{problem, Problem, MIN_INTERVAL};
use super::http_url;

fn mailbox(key: &str, text: &str, problems: &mut Vec<Problem>) -> Option<Mailbox> {
    text.parse::<Mailbox>()
        .map_err(|error| {
            problem(
                problems,
                key,
                format!("{text:?} is not an email address: {error}"),
            )
        })
        .ok()
}

pub(super) fn channels(raw: &[(usize, RawChannel)], problems: &mut Vec<Problem>) -> Vec<Channel> {
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
        let Some(kind) = channel_kind(&key, &name, &raw.kind, problems) else {
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
        channels.push(channel);
    }
    channels
}

fn channel_kind(
    key: &str,
    name: &str,
    kind: &RawChannelKind,
    problems: &mut Vec<Problem>,
) -> Option<ChannelKind> {
    match kind {
        RawChannelKind::Slack {
            webhook_url,
            bot_token,
            channel,
            api_url,
        } => slack(key, webhook_url, bot_token, channel, api_url, problems),
        RawChannelKind::Teams { webhook_url } => {
            // The URL carries the Workflow's signature: never quoted.
            http_url(&format!("{key}.webhook_url"), webhook_url, true, problems).map(|url| {
                ChannelKind::Teams {
                    webhook_url: SecretUrl::new(url),
                }
            })
        }
        RawChannelKind::PagerDuty {
            routing_key,
            api_url,
            page_on_warning,
        } => {
            let routing_key = routing_key.trim();
            let routing_key = if routing_key.is_empty() {
                problem(
                    problems,
                    format!("{key}.routing_key"),
                    "is empty; give the integration key of the PagerDuty service's Events API v2 integration",
                );
                None
            } else if routing_key.chars().any(char::is_whitespace) {
                problem(
                    problems,
                    format!("{key}.routing_key"),
                    "holds whitespace; a routing key is 32 letters and digits",
                );
                None
            } else {
                Some(Secret::new(routing_key))
            };
            let api_url = http_url(
                &format!("{key}.api_url"),
                api_url.as_deref().unwrap_or(notifier::PAGERDUTY_API_URL),
                false,
                problems,
            );
            Some(ChannelKind::PagerDuty(PagerDutyChannel {
                routing_key: routing_key?,
                api_url: api_url?,
                page_on_warning: page_on_warning.unwrap_or(false),
            }))
        }
        RawChannelKind::Webhook { url, secret } => {
            // A webhook URL may carry a token (in its query, say): never quoted either.
            let url = http_url(&format!("{key}.url"), url, true, problems);
            let secret = WebhookSecret::parse(secret)
                .map_err(|error| problem(problems, format!("{key}.secret"), error.to_string()))
                .ok();
            Some(ChannelKind::Webhook {
                url: SecretUrl::new(url?),
                secret: secret?,
            })
        }
        RawChannelKind::Email { smtp_url, from, to } => {
            let from = mailbox(&format!("{key}.from"), from, problems);
            let to = if to.is_empty() {
                problem(
                    problems,
                    format!("{key}.to"),
                    "is empty; name at least one recipient",
                );
                None
            } else {
                let before = problems.len();
                let mailboxes: Vec<Mailbox> = to
                    .iter()
                    .enumerate()
                    .filter_map(|(position, address)| {
                        mailbox(&format!("{key}.to[{position}]"), address, problems)
                    })
                    .collect();
                (problems.len() == before).then_some(mailboxes)
            };
            let smtp_url = smtp(&format!("{key}.smtp_url"), name, smtp_url, problems);
            Some(ChannelKind::Email(EmailChannel {
                smtp_url: smtp_url?,
                from: from?,
                to: to?,
            }))
        }
        RawChannelKind::Console {} => Some(ChannelKind::Console),
    }
}

/// A Slack channel: an incoming webhook (`webhook_url`) or the Web API (`bot_token` and
/// `channel`, maybe `api_url`), not both.
fn slack(
    key: &str,
    webhook_url: &Option<String>,
    bot_token: &Option<String>,
    channel: &Option<String>,
    api_url: &Option<String>,
    problems: &mut Vec<Problem>,
) -> Option<ChannelKind> {
    if let Some(webhook_url) = webhook_url {
        for (name, given) in [
            ("bot_token", bot_token.is_some()),
            ("channel", channel.is_some()),
            ("api_url", api_url.is_some()),
        ] {
            if given {
                problem(
                    problems,
                    format!("{key}.{name}"),
                    "belongs to the Web API; a Slack channel has either `webhook_url` or `bot_token` and `channel`",
                );
            }
        }
        // The URL is the secret: never quoted.
        return http_url(&format!("{key}.webhook_url"), webhook_url, true, problems).map(|_| {
            ChannelKind::Slack(SlackChannel::Webhook {
                webhook_url: Secret::new(webhook_url.trim()),
            })
        });
    }
    if bot_token.is_none() && channel.is_none() {
        problem(
            problems,
            format!("{key}.webhook_url"),
            "is missing; give `webhook_url` (an incoming webhook) or `bot_token` and `channel` (the Web API)",
        );
        return None;
    }
    let bot_token = match bot_token.as_deref().map(str::trim) {
        None => {
            problem(
                problems,
                format!("{key}.bot_token"),
                "is missing; the Web API needs a bot token (xoxb-…) with the chat:write scope",
            );
            None
        }
        Some(token) if !token.starts_with("xoxb-") || token.chars().any(char::is_whitespace) => {
            // Never quoted: it may be a real token of another kind.
            problem(
                problems,
                format!("{key}.bot_token"),
                "must be a bot token, starting with xoxb-",
            );
            None
        }
        Some(token) => Some(Secret::new(token)),
    };
    let channel = match channel.as_deref().map(str::trim) {
        None => {
            problem(
                problems,
                format!("{key}.channel"),
                "is missing; give the Slack channel's id, like C0123456789",
            );
            None
        }
        Some(id)
            if id.len() >= 9
                && id.starts_with(['C', 'G', 'D'])
                && id
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) =>
        {
            Some(id.to_owned())
        }
        Some(other) => {
            problem(
                problems,
                format!("{key}.channel"),
                format!(
                    "{other:?} is not a channel id; use the id (like C0123456789, under the channel's name > About in Slack), not its name"
                ),
            );
            None
        }
    };
    let api_url = http_url(
        &format!("{key}.api_url"),
        api_url.as_deref().unwrap_or(notifier::SLACK_API_URL),
        false,
        problems,
    );
    Some(ChannelKind::Slack(SlackChannel::Api(SlackApi {
        bot_token: bot_token?,
        channel: channel?,
        api_url: api_url?,
    })))
}

/// Checks an SMTP URL by building the transport from it, as a run would.
fn smtp(key: &str, channel: &str, text: &str, problems: &mut Vec<Problem>) -> Option<Secret> {
    if !(text.starts_with("smtp://") || text.starts_with("smtps://")) {
        problem(
            problems,
            key,
            "must start with smtp:// (plain or, with ?tls=required, STARTTLS) or smtps:// (TLS)",
        );
        return None;
    }
    let secret = Secret::new(text);
    let email = EmailChannel {
        smtp_url: secret.clone(),
        from: "check@pswatch.invalid".parse().ok()?,
        to: Vec::new(),
    };
    match notifier::smtp_transport(channel, &email) {
        Ok(_) => Some(secret),
        Err(error) => {
            problem(problems, key, error.message);
            None
        }
    }
}
