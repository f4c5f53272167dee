//! `type = "discord"`: a Discord channel's webhook (`webhook_url`, a secret).

use notifier::{DiscordChannel, SecretUrl};
use serde::Deserialize;

use super::super::{http_url, problem, Problem};
use super::CheckKind;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(in crate::config) struct RawDiscord {
    webhook_url: String,
}

impl CheckKind for RawDiscord {
    type Kind = DiscordChannel;

    fn check(&self, key: &str, _name: &str, problems: &mut Vec<Problem>) -> Option<DiscordChannel> {
        // The URL carries the webhook's token: never quoted.
        let key = format!("{key}.webhook_url");
        let url = http_url(&key, &self.webhook_url, true, problems)?;
        let segments: Vec<&str> = url
            .path_segments()
            .map(Iterator::collect)
            .unwrap_or_default();
        let is_webhook = segments.windows(4).any(|window| {
            window[0] == "api"
                && window[1] == "webhooks"
                && !window[2].is_empty()
                && !window[3].is_empty()
        });
        if !is_webhook {
            problem(
                problems,
                key,
                "is not a Discord webhook URL (https://discord.com/api/webhooks/ID/TOKEN, from the channel's Integrations > Webhooks > Copy Webhook URL)",
            );
            return None;
        }
        Some(DiscordChannel {
            webhook_url: SecretUrl::new(url),
        })
    }
}
