//! Discord through a channel's webhook: one message a poll, an embed an event.

pub(crate) mod render;
mod send;

use std::time::Duration;

use diff_engine::Event;
use model::Memos;

use super::{pretty, Kind};
use crate::secret::SecretUrl;
use crate::verdict::ChannelError;
use crate::words::Words;

/// A Discord webhook (Server Settings > Integrations > Webhooks); its URL carries the
/// webhook's token and is the secret.
#[derive(Debug, Clone)]
pub struct DiscordChannel {
    /// `https://discord.com/api/webhooks/{id}/{token}`.
    pub webhook_url: SecretUrl,
}

impl Kind for DiscordChannel {
    const TYPE: &'static str = "discord";
    type Sender = send::Discord;

    fn sender(&self, _channel: &str) -> Result<Self::Sender, ChannelError> {
        Ok(send::Discord {
            webhook_url: self.webhook_url.clone(),
        })
    }

    fn preview(&self, events: &[Event], words: &Words, _memos: &Memos) -> String {
        format!(
            "POST\n{}\n",
            pretty(&render::discord_message(events, words))
        )
    }

    fn fingerprint(&self, part: &mut dyn FnMut(&[u8])) {
        part(self.webhook_url.expose().as_str().as_bytes());
    }

    /// Discord allows a webhook about 30 messages a minute in one channel.
    fn min_interval(&self) -> Duration {
        Duration::from_secs(2)
    }

    /// Channels posting to the same webhook share its pace.
    fn pace_key(&self, _channel: &str) -> String {
        format!("discord {}", self.webhook_url.expose().path())
    }
}
