//! Google Chat through a space's incoming webhook: a card an event, in a thread per resource.

pub(crate) mod render;
mod send;

use std::time::Duration;

use diff_engine::Event;
use model::Memos;

use super::{line, pretty, Kind};
use crate::secret::SecretUrl;
use crate::verdict::ChannelError;
use crate::words::Words;

/// A Google Chat space's incoming webhook (the space's Apps & integrations > Webhooks); its URL
/// carries the webhook's key and token and is the secret.
#[derive(Debug, Clone)]
pub struct GoogleChatChannel {
    /// `https://chat.googleapis.com/v1/spaces/{space}/messages?key=…&token=…`.
    pub webhook_url: SecretUrl,
}

impl Kind for GoogleChatChannel {
    const TYPE: &'static str = "google_chat";
    type Sender = send::GoogleChat;

    fn sender(&self, _channel: &str) -> Result<Self::Sender, ChannelError> {
        Ok(send::GoogleChat {
            webhook_url: self.webhook_url.clone(),
        })
    }

    fn preview(&self, events: &[Event], words: &Words, _memos: &Memos) -> String {
        let mut text = String::new();
        for event in events {
            line(
                &mut text,
                format_args!(
                    "POST (thread {})\n{}",
                    render::thread_key(event),
                    pretty(&render::google_chat_message(event, words))
                ),
            );
        }
        text
    }

    fn fingerprint(&self, part: &mut dyn FnMut(&[u8])) {
        part(self.webhook_url.expose().as_str().as_bytes());
    }

    /// Google Chat takes about one message a second in a space.
    fn min_interval(&self) -> Duration {
        Duration::from_secs(1)
    }

    /// Channels posting to the same space share its pace.
    fn pace_key(&self, _channel: &str) -> String {
        format!("google chat {}", self.webhook_url.expose().path())
    }

    /// Each event is a message of its own, in its resource's thread.
    fn groups_events(&self) -> bool {
        false
    }
}
