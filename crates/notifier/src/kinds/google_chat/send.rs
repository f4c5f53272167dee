//! Google Chat: one POST an event to the space's webhook, replying in the resource's thread
//! (`messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD`: the thread is started when it
//! does not exist yet).

use super::render;
use crate::kinds::Deliver;
use crate::secret::SecretUrl;
use crate::send::{http, Payload};
use crate::verdict::DeliveryError;
use model::Memos;

/// A Google Chat webhook; its URL (which carries a key and a token) is the secret.
pub(crate) struct GoogleChat {
    pub(crate) webhook_url: SecretUrl,
}

impl Deliver for GoogleChat {
    /// Sends the first event of `payload` (the notifier gives one at a time).
    async fn send(
        &self,
        client: &reqwest::Client,
        channel: &str,
        payload: Payload<'_>,
        _memos: &mut Memos,
    ) -> Result<(), DeliveryError> {
        let body = match payload {
            Payload::Events([event, ..], words) => render::google_chat_message(event, words),
            Payload::Events([], _) => return Ok(()),
            Payload::Test { .. } => {
                render::test_google_chat(channel, time::OffsetDateTime::now_utc())
            }
        };
        let mut url = self.webhook_url.expose().clone();
        url.query_pairs_mut()
            .append_pair("messageReplyOption", "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD");
        let query = self.webhook_url.expose().query().unwrap_or_default();
        let secrets: Vec<&str> = query
            .split('&')
            .filter_map(|pair| pair.split_once('=').map(|(_, value)| value))
            .chain([query])
            .collect();
        let request = client.post(url).json(&body);
        http::send(channel, "Google Chat webhook", request, &secrets)
            .await
            .map(drop)
    }
}
