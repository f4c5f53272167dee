//! `type = "slack"`: an incoming webhook (`webhook_url`) or the Web API (`bot_token` and
//! `channel`, maybe `api_url`), not both.

use notifier::{Action, Secret, SlackActions, SlackApi, SlackChannel};
use serde::Deserialize;

use super::super::{http_url, problem, Problem};
use super::CheckKind;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(in crate::config) struct RawSlack {
    webhook_url: Option<String>,
    bot_token: Option<String>,
    channel: Option<String>,
    api_url: Option<String>,
    signing_secret: Option<String>,
    actions: Option<Vec<String>>,
    allowed_users: Option<Vec<String>>,
}

impl CheckKind for RawSlack {
    type Kind = SlackChannel;

    fn check(&self, key: &str, _name: &str, problems: &mut Vec<Problem>) -> Option<SlackChannel> {
        let Self {
            webhook_url,
            bot_token,
            channel,
            api_url,
            signing_secret,
            actions,
            allowed_users,
        } = self;
        if let Some(webhook_url) = webhook_url {
            for (name, given) in [
                ("bot_token", bot_token.is_some()),
                ("channel", channel.is_some()),
                ("api_url", api_url.is_some()),
                ("signing_secret", signing_secret.is_some()),
                ("actions", actions.is_some()),
                ("allowed_users", allowed_users.is_some()),
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
            return http_url(&format!("{key}.webhook_url"), webhook_url, true, problems).map(
                |_| SlackChannel::Webhook {
                    webhook_url: Secret::new(webhook_url.trim()),
                },
            );
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
            Some(token)
                if !token.starts_with("xoxb-") || token.chars().any(char::is_whitespace) =>
            {
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
        let actions = slack_actions(key, signing_secret, actions, allowed_users, problems);
        Some(SlackChannel::Api(SlackApi {
            bot_token: bot_token?,
            channel: channel?,
            api_url: api_url?,
            actions: actions?,
        }))
    }
}

/// `signing_secret`, `actions` and `allowed_users`: the buttons of the channel's threads.
/// `Some(None)` without a signing secret (no buttons); `None` when a key is wrong.
fn slack_actions(
    key: &str,
    signing_secret: &Option<String>,
    actions: &Option<Vec<String>>,
    allowed_users: &Option<Vec<String>>,
    problems: &mut Vec<Problem>,
) -> Option<Option<SlackActions>> {
    let before = problems.len();
    let Some(secret) = signing_secret.as_deref().map(str::trim) else {
        for (name, given) in [
            ("actions", actions.is_some()),
            ("allowed_users", allowed_users.is_some()),
        ] {
            if given {
                problem(
                    problems,
                    format!("{key}.{name}"),
                    "needs `signing_secret` (the Slack app's Signing Secret, under Basic Information), which verifies the button clicks Slack sends",
                );
            }
        }
        return (problems.len() == before).then_some(None);
    };
    // Never quoted: it is the secret.
    if secret.len() < 16 || secret.chars().any(char::is_whitespace) {
        problem(
            problems,
            format!("{key}.signing_secret"),
            "is not a Slack signing secret (Basic Information > App Credentials > Signing Secret, 32 hexadecimal characters)",
        );
    }
    let mut offered = Vec::new();
    for (position, action) in actions.iter().flatten().enumerate() {
        match Action::WRITES
            .iter()
            .find(|(name, _)| *name == action.trim())
        {
            Some((_, action)) if !offered.contains(action) => offered.push(*action),
            Some(_) => {}
            None => problem(
                problems,
                format!("{key}.actions[{position}]"),
                format!(
                    "{:?} is not an action; the actions are {} (silence and acknowledge are always offered)",
                    action.trim(),
                    Action::WRITES.map(|(name, _)| format!("{name:?}")).join(", ")
                ),
            ),
        }
    }
    let users: Vec<String> = allowed_users
        .iter()
        .flatten()
        .map(|user| user.trim().to_owned())
        .collect();
    for (position, user) in users.iter().enumerate() {
        let is_id = user.len() >= 9
            && user.starts_with(['U', 'W'])
            && user
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if !is_id {
            problem(
                problems,
                format!("{key}.allowed_users[{position}]"),
                format!("{user:?} is not a Slack user id (like U0123456789: a member's profile > ⋮ > Copy member ID)"),
            );
        }
    }
    if !offered.is_empty() && users.is_empty() {
        problem(
            problems,
            format!("{key}.allowed_users"),
            "is empty; the actions need the Slack users allowed to make them",
        );
    }
    if problems.len() > before {
        return None;
    }
    Some(Some(SlackActions {
        signing_secret: Secret::new(secret),
        offered,
        allowed_users: users,
    }))
}
