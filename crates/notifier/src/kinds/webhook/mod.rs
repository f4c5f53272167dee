//! Standard Webhooks: one signed POST an event, its id the `webhook-id`.

pub(crate) mod render;
mod send;

use diff_engine::Event;
use model::Memos;
use serde_json::Value;

use super::{line, pretty, Kind};
use crate::secret::{SecretUrl, WebhookSecret};
use crate::verdict::ChannelError;
use crate::words::Words;

/// A Standard Webhooks receiver; its URL may carry a token.
#[derive(Debug, Clone)]
pub struct WebhookChannel {
    /// Where to POST.
    pub url: SecretUrl,
    /// The key that signs each body.
    pub secret: WebhookSecret,
}

impl Kind for WebhookChannel {
    const TYPE: &'static str = "webhook";
    type Sender = send::Webhook;

    fn sender(&self, _channel: &str) -> Result<Self::Sender, ChannelError> {
        Ok(send::Webhook {
            url: self.url.clone(),
            secret: self.secret.clone(),
        })
    }

    fn preview(&self, events: &[Event], words: &Words, _memos: &Memos) -> String {
        let mut text = String::new();
        for event in events {
            let body: Value =
                serde_json::from_slice(&render::webhook_body(event, words)).unwrap_or_default();
            line(
                &mut text,
                format_args!("POST webhook-id: {}\n{}", event.id, pretty(&body)),
            );
        }
        text
    }

    fn fingerprint(&self, part: &mut dyn FnMut(&[u8])) {
        part(self.url.expose().as_str().as_bytes());
        part(self.secret.key());
    }

    /// Each event keeps its own `webhook-id`: one request each.
    fn groups_events(&self) -> bool {
        false
    }
}
